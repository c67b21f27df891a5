#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "base/clock.h"
#include "podworker/pod_actions.h"
#include "podworker/pod_status_builder.h"
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
// Runs on the io_context thread of the caller.
// `target` must outlive the returned task.
runtime::Task<SyncOutcome> execute_plan(SyncTarget& target, const PodActions& plan, base::SteadyTime kill_deadline);

// Removes everything of a pod the runtime still holds (stopping it at once
// if it still runs): the last step of a deleted pod.
runtime::Task<SyncOutcome> remove_everything(SyncTarget& target, const ObservedPod& observed);

// The pod's terminationGracePeriodSeconds (30 s when unset); for a delete,
// metadata.deletionGracePeriodSeconds when set.
base::Duration pod_grace(const model::Pod& pod);

}  // namespace podagent::podworker
