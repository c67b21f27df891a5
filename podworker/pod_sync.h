#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "base/clock.h"
#include "base/event_recorder.h"
#include "podworker/pod_actions.h"
#include "podworker/pod_status_builder.h"
#include "probes/prober.h"
#include "runtime/runtime.h"

namespace podagent::podworker {

// What executing one plan needs. All borrowed for the call.
struct SyncTarget {
  runtime::Runtime& runtime;
  base::Clock& clock;
  std::shared_ptr<const model::Pod> pod;  // the desired pod the plan was made for
  const PodSpecHashes& hashes;
  // Checked before every runtime call and after each completes: false stops
  // the execution there (the pod was deleted, or the agent is stopping).
  // Once it is false, nothing borrowed here is touched again.
  std::function<bool()> go_on;
  // Start failures are recorded here by container name (and cleared on a
  // successful start), for the status's waiting reasons.
  WaitingReasons& waiting;
  // When set, the id of every container about to be stopped is appended
  // here, so that a shorter grace period can hurry those stops.
  std::vector<base::ContainerId>* stopping = nullptr;
  // The node's pod log root; empty: containers keep no log files.
  std::filesystem::path pod_logs_dir = {};
  // Runs httpGet lifecycle hooks; null: they fail. Must outlive every sync
  // (a postStart hook may outlive its sync, see execute_plan).
  probes::Prober* prober = nullptr;
  // Receives the pod's events (Pulled, Created, Started, Killing, Failed,
  // FailedPostStartHook, FailedPreStopHook, SandboxChanged); may be null.
  base::EventRecorder* events = nullptr;
  // What each container is created with (runtime::ContainerConfig): the
  // ConfigMaps and Secrets, and the pod's written volumes; may be null.
  model::ConfigObjectsPtr objects = {};
  const std::map<std::string, std::filesystem::path>* prepared_volumes = nullptr;
};

struct SyncOutcome {
  bool acted = false;   // at least one runtime call changed something
  bool failed = false;  // a runtime call failed: retry later
  bool stopped = false; // go_on() turned false on the way
};

// Executes `plan` in its documented order: kills (all at once, each with a
// preStop hook first and SIGKILL at `kill_deadline`), sandbox stops,
// removals, sandbox creation, then starts in plan order. A failed create or
// start ends the execution (later containers depend on earlier ones).
//
// Lifecycle hooks, as the kubelet runs them:
// - postStart runs right after a container starts, and the start is not
//   done (so no status saying Running is built from this sync) until it
//   completes; it has no time limit, but a sync told to stop (go_on false)
//   stops waiting for it within kHookAbortPoll. A failed postStart records
//   FailedPostStartHook and kills the container (preStop first, the pod's
//   grace); its restart is the planner's, under restartPolicy and backoff.
//   An init container or sidecar whose postStart failed ends the execution;
//   an app container's does not stop the others.
// - preStop runs before SIGTERM, within the grace period (the deadline). A
//   failed hook records FailedPreStopHook and the kill goes on. A hook still
//   running at the deadline is given up ("Exceeded grace period") and the
//   container then gets the kubelet's one-off extension: SIGTERM, and
//   SIGKILL kMinimumGraceAfterHook later. A deadline already passed (grace
//   0) runs no hook.
//
// Runs on the io_context thread of the caller.
// `target` must outlive the returned task.
runtime::Task<SyncOutcome> execute_plan(SyncTarget& target, const PodActions& plan, base::SteadyTime kill_deadline);

// How often a sync awaiting a postStart hook checks go_on().
inline constexpr base::Duration kHookAbortPoll = std::chrono::seconds(1);
// The shortest time between SIGTERM and SIGKILL after a preStop hook (the
// kubelet's minimumGracePeriodInSeconds).
inline constexpr base::Duration kMinimumGraceAfterHook = std::chrono::seconds(2);

// Records the events of the starts that ensure_images took out of a plan:
// `planned` is plan.start before it, `kept` after. An image reason in
// target.waiting gives ErrImageNeverPull (Warning), Failed "Failed to pull
// image ..." (Warning) or BackOff "Back-off pulling image ..." (Normal).
void record_image_events(SyncTarget& target, std::span<const ContainerStart> planned,
                         std::span<const ContainerStart> kept);
// Records BackOff "Back-off restarting failed container web in pod ..."
// (Warning) for each container the plan holds in its CrashLoopBackOff.
void record_backoff_events(SyncTarget& target, const PodActions& plan);

// Removes everything of a pod the runtime still holds (stopping it at once
// if it still runs): the last step of a deleted pod.
runtime::Task<SyncOutcome> remove_everything(SyncTarget& target, const ObservedPod& observed);

// The pod's terminationGracePeriodSeconds (30 s when unset); for a delete,
// metadata.deletionGracePeriodSeconds when set.
base::Duration pod_grace(const model::Pod& pod);

}  // namespace podagent::podworker
