#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/backoff.h"
#include "base/clock.h"
#include "model/pod.h"
#include "podworker/probe_state.h"
#include "podworker/spec_hash.h"
#include "runtime/runtime.h"

namespace podagent::podworker {

using base::SteadyTime;
using runtime::ContainerKind;

// What the runtime holds of one pod: every sandbox and container with the
// pod's UID, in any state. The runtime's own type, so that a listing is
// planned on where it was listed, without a copy.
using ObservedPod = runtime::PodRuntimeState;

// Probe results by container name; a container without an entry has no
// result yet.
using ProbeStates = std::map<std::string, ProbeState, std::less<>>;

// A container instance that failed its liveness or startup probe at the
// probe's threshold: killed ("Unhealthy"), then restarted per restartPolicy.
struct ProbeFailure {
  base::ContainerId id;
  // The kill's message ("Container web failed startup probe, will be
  // restarted"); empty: the liveness one.
  std::string message = {};
  // The probe's terminationGracePeriodSeconds, when set: the kill's grace
  // instead of the pod's.
  std::optional<base::Duration> grace = std::nullopt;
  bool operator==(const ProbeFailure&) const = default;
};

// Everything the planner looks at. References are borrowed for the call.
struct PlanInput {
  const model::Pod& pod;             // defaulted and valid, with metadata.uid
  const PodSpecHashes& hashes;       // hash_pod_containers(pod)
  const ObservedPod& observed;
  const ProbeStates& probes;
  // Container instances whose liveness or startup probe failed: killed,
  // then restarted per restartPolicy.
  std::span<const ProbeFailure> liveness_failed;
  const base::Backoff& backoff;      // read only: restart_allowed_at
  SteadyTime now;
  // The pod's start plus activeDeadlineSeconds, when it has one.
  std::optional<SteadyTime> active_deadline;
};

struct ContainerStart {
  ContainerKind kind = ContainerKind::App;  // Init, Sidecar, App or Ephemeral
  // Into spec.init_containers (Init, Sidecar), spec.containers (App) or
  // spec.ephemeral_containers (Ephemeral).
  size_t index = 0;
  std::string name;
  uint32_t attempt = 0;  // the restart count: 1 + the highest attempt seen, 0 for the first
  // An instance created ahead (PodActions::prepare) to start instead of
  // creating one; its attempt is `attempt`.
  std::optional<base::ContainerId> prepared = std::nullopt;
  bool operator==(const ContainerStart&) const = default;
};

struct ContainerKill {
  base::ContainerId id;
  std::string name;
  ContainerKind kind = ContainerKind::App;
  std::string reason;   // SpecChanged, Unhealthy, SandboxChanged, NotInSpec, Unknown, Terminating
  std::string message;
  // The grace period of this kill when not the pod's: a probe's
  // terminationGracePeriodSeconds (Unhealthy kills only).
  std::optional<base::Duration> grace = std::nullopt;
  bool operator==(const ContainerKill&) const = default;
};

// A container that must restart but waits for its CrashLoopBackOff.
struct BackoffHold {
  std::string name;
  ContainerKind kind = ContainerKind::App;
  SteadyTime until;
  bool operator==(const BackoffHold&) const = default;
};

enum class PodOutcome {
  Progressing,       // keep syncing
  Completed,         // every app container is done for good: stop the rest
  Failed,            // a regular init container failed under Never
  DeadlineExceeded,  // activeDeadlineSeconds passed
};

// One step towards the desired state, executed in this order: kill, stop
// sandboxes, remove containers, remove sandboxes, create the sandbox, start
// (in the listed order), with `prepare` alongside the first start.
struct PodActions {
  // Every container of the pod is being killed because its sandbox is gone
  // (kill lists them); the containers restart from the first init container.
  bool kill_pod = false;
  bool create_sandbox = false;
  uint32_t sandbox_attempt = 0;            // for create_sandbox
  std::optional<base::SandboxId> sandbox;  // the sandbox to start in, unless create_sandbox
  std::vector<base::SandboxId> stop_sandboxes;
  std::vector<base::SandboxId> remove_sandboxes;
  std::vector<ContainerKill> kill;
  std::vector<base::ContainerId> remove;  // garbage: older exited instances
  std::vector<ContainerStart> start;
  // Containers created now and started by a later plan, so that only their
  // start is left once the init container that runs before them is done.
  std::vector<ContainerStart> prepare;
  std::vector<BackoffHold> held;
  // The earliest time at which the plan may change by time alone (a
  // backoff ending, the active deadline).
  std::optional<SteadyTime> next_wakeup;
  PodOutcome outcome = PodOutcome::Progressing;
  std::string reason;   // of the outcome, for status
  std::string message;
  // Termination only: nothing of the pod runs any more.
  bool all_stopped = false;
  bool operator==(const PodActions&) const = default;
};

// The spec and the hash of the container a start names.
// REQUIRES: `s` was planned for `pod` and `hashes` = hash_pod_containers(pod).
const model::Container& container_of(const model::Pod& pod, const ContainerStart& s);
const std::string& hash_of(const PodSpecHashes& hashes, const ContainerStart& s);

// The next step of a live pod towards its spec. Pure.
//
// Rules (kubelet's, with podagent's backoff): sandbox first, a new one (and
// every init container again) when none is Ready; regular init containers
// one at a time, in order, each to exit 0; sidecars in init order, done once
// running (and started, with a startup probe), always restarted; app
// containers all at once after initialization, restarted per restartPolicy;
// every restart waits for the container's backoff; a changed spec hash
// kills and restarts a running container. Ephemeral containers start once
// the pod is initialized in a Ready sandbox, each only if no instance of it
// was ever started (in any sandbox): they are never restarted, whatever
// their exit or the pod's restartPolicy, and are killed with the pod.
//
// While a regular init container starts or runs, the regular init
// containers after it and the app containers are prepared: created in the
// sandbox but not started (see may_prepare), and started by the plan that
// reaches them. A prepared instance stays valid while its sandbox is the
// pod's, its spec hash is current and no newer instance of its name exists;
// otherwise it is garbage, as is every other instance never started.
PodActions compute_pod_actions(const PlanInput& in);

// Whether `c` may be created before the containers ahead of it have run:
// not when its creation reads what they may still change or make (env from
// ConfigMaps or Secrets, a subPath, a hostPath's type check), nor with
// imagePullPolicy Always (pulled when it starts).
bool may_prepare(const model::Pod& pod, const model::Container& c);

// The next step of stopping a pod: first every app (and regular init)
// container, with every instance never started removed, then the sidecars
// one at a time in reverse init order, then the sandbox; all_stopped once
// nothing runs. Pure; `in.backoff` and probes are not used.
PodActions compute_termination_actions(const PlanInput& in);

// True when a container that exited with `exit_code` is restarted under the
// pod's `restart_policy` (Always, OnFailure, Never).
bool should_restart(std::string_view restart_policy, int32_t exit_code);

// True when the exit of `c` (an instance of a container of `pod`) will be
// followed by a restart, so that it counts as a failure for its backoff.
bool exit_counts_for_backoff(const model::Pod& pod, const runtime::ContainerStatus& c);

}  // namespace podagent::podworker
