#pragma once

#include <string>
#include <vector>

#include "model/container.h"
#include "model/pod.h"

namespace podagent::podworker {

// A stable hash of a container's spec: FNV-1a 64 over a canonical encoding
// of every field (tagged, length-prefixed), as 16 lowercase hex digits. It
// is what ContainerConfig::spec_hash carries: equal specs hash equal across
// processes and agent restarts, and any change of a field changes the hash
// (barring FNV collisions). Pure.
std::string container_spec_hash(const model::Container& container);

// The hashes of a pod's containers, in spec order; computed once per desired
// update so that a sync does not re-hash.
struct PodSpecHashes {
  std::vector<std::string> init;
  std::vector<std::string> app;
  std::vector<std::string> ephemeral;
  bool operator==(const PodSpecHashes&) const = default;
};
PodSpecHashes hash_pod_containers(const model::Pod& pod);

}  // namespace podagent::podworker
