#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/pod.h"
#include "model/pod_status.h"

namespace podagent::agent {

// What the client subcommands print, as pure functions of pods and `now`
// (for AGE and "ago" texts), so that tests compare exact text.

struct TableOptions {
  bool wide = false;            // -o wide: IP, NODE, NOMINATED NODE, READINESS GATES
  bool with_namespace = false;  // -A: a NAMESPACE column first
};

// kubectl's pod table: a header line, then one line per pod, columns
// separated by at least three spaces (NAME READY STATUS RESTARTS AGE; the
// cells are pod_row_cells' of pod_table.h). Empty for no pods: the caller
// says "No resources found" itself.
std::string format_pod_table(const std::vector<model::Pod>& pods, const TableOptions& options,
                             model::WallTime now);

// A kubectl-describe-like summary of one pod: name, namespace, node, start
// time, labels, annotations, status, IP, the init and app containers (image,
// state, last state, ready, restart count), conditions and QoS class.
std::string describe_pod(const model::Pod& pod, model::WallTime now);

// The pods as -o json / -o yaml print them: one Pod when `single`, else a
// v1 List. `format` is "json" or "yaml". Ends with a newline.
std::string format_pods_as(const std::vector<model::Pod>& pods, bool single,
                           std::string_view format);

// "Mon, 02 Jan 2006 15:04:05 +0000" (RFC 1123 with a numeric zone, UTC),
// as kubectl describe shows times.
std::string describe_time(model::WallTime t);

}  // namespace podagent::agent
