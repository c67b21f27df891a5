#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/pod.h"

// What `podagent soak` saw of each container: fed every version of the soak
// pods it received (from a watch), each with the time it arrived, it derives
// every run (start), every termination and every restart's delay as the
// harness saw them. Status timestamps have whole-second precision; arrival
// times do not. Pure: no clock, no I/O; owned by one thread.
namespace podagent::agent {

using SoakTime = std::chrono::steady_clock::time_point;

// One run of a container, first seen running at `seen_at`.
struct SoakStart {
  int32_t instance = 0;  // the agent's restartCount while it ran
  std::string container_id;
  SoakTime seen_at;
};

// One termination, each container id once, first seen at `seen_at`.
struct SoakTermination {
  // The run it ended, when the harness can tell: it saw that container id
  // run, or saw it as the current state's termination. -1 otherwise.
  int32_t instance = -1;
  std::string container_id;
  int32_t exit_code = 0;
  std::string reason;
  std::string message;  // what the run wrote to /dev/termination-log
  SoakTime seen_at;
  // The run number in `message`, when it holds one.
  std::optional<int32_t> claimed;
  // `instance`, else the run's own count: a run that ends at once may never
  // be reported running.
  int32_t run() const { return instance >= 0 ? instance : claimed.value_or(-1); }
};

// The run number a soak container wrote to its termination message.
std::optional<int32_t> parse_run_number(const std::string& message);

// Restart `instance` (>= 1): the run before it ended, the agent waited and
// started this one. `delay` is from the harness seeing the termination to it
// seeing the new run; nullopt when it saw both in one version of the pod, or
// saw the run only ended.
struct SoakRestart {
  int32_t instance = 0;
  const SoakTermination* previous = nullptr;  // null when its termination was never seen
  std::optional<SoakTime> started_seen_at;    // nullopt when never seen running
  std::optional<std::chrono::steady_clock::duration> delay;
};

struct SoakContainerHistory {
  std::string pod;
  std::string container;
  SoakTime first_seen;
  int32_t restart_count = 0;                  // the latest reported
  std::vector<SoakStart> starts;              // in order of arrival
  std::vector<SoakTermination> terminations;  // in order of arrival

  // The restarts in order of instance, each seen started or ended; derived
  // from starts and terminations.
  std::vector<SoakRestart> restarts() const;
  // The termination of the latest run when no later run was seen: the
  // container is waiting (or done) since `seen_at`.
  const SoakTermination* pending() const;
};

class SoakObserver {
 public:
  // Records `pod` as it was when it arrived at `at`, which was `wall_at` by
  // the wall clock. Versions must come in order of arrival; a pod seen
  // again unchanged changes nothing.
  //
  // A version may arrive seconds after the change it shows when the agent
  // is busy. The agent's own timestamps (startedAt, finishedAt: whole
  // seconds, truncated) bound that: a start or termination counts as seen
  // no later than its timestamp's second ended.
  void observe(const model::Pod& pod, SoakTime at, model::WallTime wall_at);

  // By "namespace/name/container".
  const std::map<std::string, SoakContainerHistory>& containers() const { return containers_; }
  const SoakContainerHistory* find(const std::string& pod_key, const std::string& container) const;

 private:
  struct Arrival {
    SoakTime at;
    model::WallTime wall_at;
    // `at`, or earlier when the agent's timestamp `stamp` says so.
    SoakTime bounded_by(const std::optional<model::WallTime>& stamp) const;
  };
  void observe_container(SoakContainerHistory& h, const model::ContainerStatus& s, Arrival at);
  void add_termination(SoakContainerHistory& h, const model::ContainerStateTerminated& t,
                       const std::string& fallback_id, int32_t instance, Arrival at);

  std::map<std::string, SoakContainerHistory> containers_;
};

}  // namespace podagent::agent
