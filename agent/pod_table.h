#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/pod_store.h"
#include "model/node.h"
#include "model/pod.h"

namespace podagent::agent {

// Server-side printing, as kubectl asks for it: `kubectl get` sends
// "Accept: application/json;as=Table;v=v1;g=meta.k8s.io, application/json"
// and prints the columns the server returns (NAME READY STATUS RESTARTS AGE,
// and IP NODE NOMINATED NODE READINESS GATES with -o wide). Without a Table
// it falls back to NAME and AGE only.

// True when the Accept header asks for a meta.k8s.io Table.
bool wants_table(std::string_view accept);

// A meta.k8s.io/v1 Table of the pods, one row each, with the pod's metadata
// as the row's PartialObjectMetadata object. `now` is for the AGE column.
model::Node pod_table(const std::vector<PodPtr>& pods, const std::string& resource_version,
                      model::WallTime now);

// The cells kubectl's pod printer shows, in column order:
// name, ready, status, restarts, age, IP, node, nominated node, readiness gates.
std::vector<std::string> pod_row_cells(const model::Pod& pod, model::WallTime now);

// Kubernetes' duration.HumanDuration: "45s", "2m5s", "10m", "5h3m", "3d4h", "2y15d".
std::string human_duration(std::chrono::seconds d);

// An RFC 3339 timestamp as the agent writes them ("2026-11-23T01:41:23Z"),
// to the second; nullopt when it is not one.
std::optional<model::WallTime> parse_timestamp(const std::string& text);

}  // namespace podagent::agent
