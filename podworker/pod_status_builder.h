#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "model/pod.h"
#include "model/pod_status.h"
#include "podworker/probe_state.h"
#include "runtime/runtime.h"

namespace podagent::podworker {

// Probe results by container name (the planner's ProbeStates): results of
// the container's current instance; no entry means no result yet.
using ProbeStates = std::map<std::string, ProbeState, std::less<>>;

// A container held in CrashLoopBackOff: when its next start is due, and the
// back-off delay that produced it (shown as "back-off 20s ...").
struct CrashLoopBackOff {
  model::WallTime next_restart_at;
  std::chrono::nanoseconds delay{0};
  bool operator==(const CrashLoopBackOff&) const = default;
};
using CrashLoopBackOffs = std::map<std::string, CrashLoopBackOff, std::less<>>;

// The reason a container waits, from the last failed attempt to start it
// (ErrImagePull, CreateContainerError, ...), by container name.
struct WaitingReason {
  std::string reason;
  std::string message;
  bool operator==(const WaitingReason&) const = default;
};
using WaitingReasons = std::map<std::string, WaitingReason, std::less<>>;

// Where the pod is in its life, as the status reports it.
enum class PodLifecycle {
  Active,       // being started or kept running
  Terminating,  // being stopped (deleted, replaced, deadline): nothing restarts
  Terminated,   // nothing of it runs any more: the phase becomes terminal
  Rejected,     // refused at admission: nothing of it ever ran
};

// A reason that makes the pod Failed whatever its containers say.
struct PodFailure {
  std::string reason;
  std::string message;
  bool operator==(const PodFailure&) const = default;
};

// "DeadlineExceeded", "Pod was active on the node longer than the specified deadline".
PodFailure deadline_exceeded_failure();
// The admission's reason, and "Pod was rejected: " + its message.
PodFailure rejection_failure(std::string reason, const std::string& message);

// Everything the status is computed from; borrowed for the call. The
// runtime's lists hold only this pod's sandboxes and containers.
struct StatusInput {
  const model::Pod& pod;             // the desired pod, defaulted
  const model::PodStatus& previous;  // the last status built (empty the first time)
  std::span<const runtime::SandboxStatus> sandboxes;
  std::span<const runtime::ContainerStatus> containers;
  const ProbeStates* probes = nullptr;          // null: no results
  const CrashLoopBackOffs* backoffs = nullptr;  // null: none held
  const WaitingReasons* waiting = nullptr;      // null: none
  PodLifecycle lifecycle = PodLifecycle::Active;
  // Set for DeadlineExceeded and for Rejected (which requires it).
  std::optional<PodFailure> failure;
  std::string host_ip;  // the node's IP; empty when unknown
  // Prefix of container IDs: "<runtime_name>://<runtime id>".
  std::string runtime_name = "podagent";
  model::WallTime now;
};

// The pod's status by the kubelet's rules (kubelet_pods.go
// generateAPIPodStatus, getPhase, convertToAPIContainerStatuses; status
// manager; status/generate.go). Pure: no I/O, no clock.
//
// Containers: each container's current instance is its newest (by creation
// time, then attempt) in the current sandbox, which is the pod's newest
// sandbox. Running -> running; Exited -> terminated (reason from the
// runtime, else Completed for exit 0 and Error otherwise); Created ->
// waiting ContainerCreating. A container with no instance in the current
// sandbox waits: PodInitializing (init containers, and app containers
// before initialization is complete) or ContainerCreating. An exited
// container that will restart waits instead with reason CrashLoopBackOff
// while held by its back-off (or with its `waiting` reason), its
// termination moving to lastState. lastState is otherwise the previous
// instance's termination; restartCount the current instance's attempt.
// termination_history keeps the last kTerminationHistoryLength
// terminations, across calls, through `previous`.
//
// Phase: kubelet's getPhase with sidecars; a terminal phase never changes;
// a Terminated pod that is not Succeeded is Failed; `failure` forces Failed
// with its reason and message. Conditions: any non-kubelet conditions kept
// (readiness gates read them), then PodReadyToStartContainers, Initialized,
// ContainersReady, Ready; a condition keeps its lastTransitionTime while its
// status does not change.
//
// Where podagent departs from the kubelet, on purpose: a Created container
// waits with reason ContainerCreating (the kubelet leaves it empty); app
// containers wait with ContainerCreating, not PodInitializing, once the pod
// is initialized; an init container not yet run in a new sandbox counts as
// pending initialization even though an earlier sandbox ran it; no
// PodScheduled condition (there is no scheduler).
model::PodStatus build_pod_status(const StatusInput& in);

}  // namespace podagent::podworker
