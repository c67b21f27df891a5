#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "base/ids.h"
#include "model/pod.h"

namespace podagent::podworker {

// The pod's effective request per resource, as Kubernetes computes it for
// scheduling and kubelet admission (resourcehelper.PodRequests, sidecar
// aware): the larger of
//   - the sum over app containers and sidecars, and
//   - for each init container i, what runs while it initializes: its own
//     request plus the requests of the sidecars declared before it (for a
//     sidecar, the sidecars up to and including itself).
// A resource limited but not requested counts as requested at its limit (the
// API server's defaulting). Resources that no container requests are absent.
model::ResourceList effective_requests(const model::PodSpec& spec);

// What the node offers to pods. cpu is in millicores, the rest in whole
// units (bytes for memory and ephemeral-storage).
struct NodeAllocatable {
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int64_t pods = 110;
  // Checked only when set, as the kubelet checks it only when the node
  // reports it.
  std::optional<int64_t> ephemeral_storage_bytes;
  // Extended resources (e.g. "example.com/gpu") by name. A request of an
  // extended resource the node does not list is ignored, as the kubelet's
  // admission ignores it.
  std::map<std::string, int64_t> extended;
  bool operator==(const NodeAllocatable&) const = default;
};

// The kubelet's admission reasons (pkg/kubelet/lifecycle/predicate.go).
inline constexpr const char* kReasonOutOfCpu = "OutOfcpu";
inline constexpr const char* kReasonOutOfMemory = "OutOfmemory";
inline constexpr const char* kReasonOutOfPods = "OutOfpods";
inline constexpr const char* kReasonOutOfEphemeralStorage = "OutOfephemeral-storage";
inline constexpr const char* kReasonNodePorts = "NodePorts";
// podagent's own: runtimeClassName names no runtime handler of the node.
inline constexpr const char* kReasonRuntimeClassNotFound = "RuntimeClassNotFound";

struct AdmitResult {
  bool admitted = false;
  // When refused: the kubelet's reason ("OutOfcpu", "OutOfmemory",
  // "OutOfpods", "OutOfephemeral-storage", "OutOf<extended>", "NodePorts",
  // "RuntimeClassNotFound") and its message, e.g. "Node didn't have enough resource: cpu,
  // requested: 2000, used: 1500, capacity: 3000" or "Predicate NodePorts
  // failed: node(s) didn't have free ports for the requested pod ports".
  // The status of a refused pod shows "Pod was rejected: " + message.
  std::string reason;
  std::string message;
  bool operator==(const AdmitResult&) const = default;
};

// Admission of pods onto the node, atomic per pod: a pod is admitted whole
// or not at all, against the node's allocatable minus what the admitted pods
// hold (their effective requests, one pod slot each, and their host ports).
//
// The checks and their order: the runtime class first (a pod no handler of
// the node can run fits nowhere), then the kubelet's (noderesources fit,
// then node ports); only the first failure is reported. A pod that requests
// nothing is checked for the runtime class, pod count and host ports only.
//
// A plain value owned by one thread; not thread-safe. Pure: no I/O.
class Admitter {
 public:
  explicit Admitter(NodeAllocatable node) : node_(std::move(node)) {}

  // The names of the node's runtime handlers (the config's
  // runtime.runtimeHandlers keys). A pod's runtimeClassName must be one of
  // them, or the pod is refused with RuntimeClassNotFound and a message
  // listing them; a pod without one runs on the default handler. Until
  // this is called, any runtimeClassName is admitted.
  void set_runtime_handlers(std::set<std::string> names) { handlers_ = std::move(names); }

  // Admits `pod` (by metadata.uid) and holds its resources, or refuses it
  // and changes nothing. Admitting a UID already admitted succeeds again
  // and holds nothing more (the first admission's resources stay held).
  AdmitResult admit(const model::Pod& pod);
  // Gives back what `uid` holds. No effect for a UID not admitted.
  void release(const base::PodUid& uid);

  bool is_admitted(const base::PodUid& uid) const { return pods_.contains(uid); }
  size_t admitted_count() const { return pods_.size(); }
  // What the admitted pods hold, by resource name, in the units of
  // NodeAllocatable ("cpu" in millicores).
  const std::map<std::string, int64_t>& used() const { return used_; }
  const NodeAllocatable& node() const { return node_; }

 private:
  // protocol, host IP ("0.0.0.0" for any), port.
  using HostPort = std::tuple<std::string, std::string, int64_t>;
  struct Held {
    std::map<std::string, int64_t> requests;
    std::vector<HostPort> ports;
  };

  std::optional<AdmitResult> check_resources(const std::map<std::string, int64_t>& req) const;
  bool ports_free(const std::vector<HostPort>& wanted) const;
  std::optional<AdmitResult> check_runtime_class(const model::Pod& pod) const;

  NodeAllocatable node_;
  std::optional<std::set<std::string>> handlers_;
  std::unordered_map<base::PodUid, Held> pods_;
  std::map<std::string, int64_t> used_;
  std::map<HostPort, int> used_ports_;  // with the number of pods holding each
};

}  // namespace podagent::podworker
