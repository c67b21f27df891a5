#pragma once

// The lifecycle of one pod worker, keyed by pod UID.
//
//                 Rejected
//      ┌───────────────────────────────────────────────┐
//      │                                               ▼
//  ┌───────┐ Admitted ┌─────────┐ Completed /     ┌─────────────┐ RuntimeStopped ┌────────────┐
//  │Pending├─────────►│ Running ├────────────────►│ Terminating ├───────────────►│ Terminated │
//  └───┬───┘          └────┬────┘ DeadlineExceeded└─────────────┘  (not deleted) └─────┬──────┘
//      │                   │      / Evicted
//      │ Delete            │ Delete                 ▲   │ RuntimeStopped (deleted)     │ Delete
//      └───────────────────┴────────────────────────┘   ▼                              ▼
//                                                   ┌──────────┐◄─────────────────────┘
//                                                   │ Finished │  (UID remembered; never runs again)
//                                                   └──────────┘
//
// Pending: known, not admitted yet, nothing started. Running: admitted and
// synced towards its spec. Terminating: stopping everything (apps, sidecars in
// reverse, sandbox) by `deadline`. Terminated: everything stopped, status
// kept until the pod is deleted. Finished: forgotten except that its UID
// never starts again.
//
// Rules the transition function keeps: a grace deadline only ever moves
// earlier; no state leads back to Pending or Running from Terminating,
// Terminated or Finished; an Update changes no state (the planner reads
// the spec).

#include <string>
#include <variant>

#include "base/clock.h"

namespace podagent::podworker::lifecycle {

using base::Duration;
using base::SteadyTime;

struct Pending {
  bool operator==(const Pending&) const = default;
};
struct Running {
  SteadyTime started_at;  // the first sync: activeDeadlineSeconds counts from here
  bool operator==(const Running&) const = default;
};
struct Terminating {
  SteadyTime deadline;  // end of the grace period; SIGKILL from here on
  std::string reason;   // "Deleted", "Completed", "DeadlineExceeded", ...
  std::string message;
  bool deleted = false;  // finish (forget) once stopped, rather than keep status
  bool operator==(const Terminating&) const = default;
};
struct Terminated {
  std::string reason;
  std::string message;
  bool operator==(const Terminated&) const = default;
};
struct Finished {
  bool operator==(const Finished&) const = default;
};

using State = std::variant<Pending, Running, Terminating, Terminated, Finished>;

// Events. Grace periods are durations from `now`.
struct Admitted {};        // the first sync may start the pod
struct Rejected {          // admission refused it
  std::string reason;
  std::string message;
};
struct Update {};          // a new desired spec for the same UID
struct Delete {
  Duration grace;
};
struct Completed {         // every container done (or failed for good): stop the rest
  Duration grace;
  std::string reason;
  std::string message;
};
struct DeadlineExceeded {  // activeDeadlineSeconds passed
  Duration grace;
};
struct Evicted {           // the node reclaims a resource the pod overused
  Duration grace;
  std::string message;     // status.message: `Usage of EmptyDir volume "x" exceeds ...`
};
struct RuntimeStopped {};  // nothing of the pod is running any more

using Event =
    std::variant<Admitted, Rejected, Update, Delete, Completed, DeadlineExceeded, Evicted, RuntimeStopped>;

// The state after `event` at `now`. Pure; total over State x Event.
State next(const State& state, const Event& event, SteadyTime now);

// True for the states in which nothing of the pod may (re)start.
bool is_terminal(const State& state);
// A short name for logs: "Pending", "Running", ...
const char* state_name(const State& state);

inline constexpr const char* kReasonDeleted = "Deleted";
inline constexpr const char* kReasonDeadlineExceeded = "DeadlineExceeded";
inline constexpr const char* kReasonEvicted = "Evicted";

}  // namespace podagent::podworker::lifecycle
