// Builds what `podagent soak` observes of one container, version by
// version, for the soak observer and report tests.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "agent/soak_observer.h"
#include "agent/soak_plan.h"

namespace podagent::agent::testing {

inline SoakTime at_seconds(double s) {
  return SoakTime{} +
         std::chrono::duration_cast<SoakTime::duration>(std::chrono::duration<double>(s));
}

// One soak pod's container, fed to `observer` as the agent would report it.
struct ContainerFeed {
  ContainerFeed(SoakObserver& obs, std::string pod_name)
      : observer(obs), name(std::move(pod_name)) {}

  SoakObserver& observer;
  std::string name;  // the pod's
  std::string ns = "soak";
  std::map<int, model::ContainerStateTerminated> ended;  // by run

  model::Pod pod() const {
    model::Pod p;
    p.metadata.name = name;
    p.metadata.namespace_ = ns;
    model::Container c;
    c.name = kSoakContainer;
    p.spec.containers.push_back(c);
    return p;
  }
  static std::string id(int run) { return "runc://c" + std::to_string(run); }

  model::ContainerStatus status(int run) const {
    model::ContainerStatus s;
    s.name = kSoakContainer;
    s.restart_count = run;
    s.container_id = id(run);
    if (auto it = ended.find(run - 1); it != ended.end()) s.last_state.terminated = it->second;
    return s;
  }
  void send(const model::ContainerStatus& s, double at) {
    model::Pod p = pod();
    p.status.container_statuses.push_back(s);
    observer.observe(p, at_seconds(at), model::WallTime{});
  }
  // Run `run` is seen running at `at`.
  void running(int run, double at) {
    model::ContainerStatus s = status(run);
    s.state.running = model::ContainerStateRunning{};
    send(s, at);
  }
  // Run `run` is seen ended (exit `code`, writing `message`) at `at`; the
  // agent shows CrashLoopBackOff when `waiting`, else the termination.
  void ended_at(int run, double at, int code, std::string message, bool waiting = true) {
    model::ContainerStateTerminated t;
    t.exit_code = code;
    t.message = std::move(message);
    t.container_id = id(run);
    ended[run] = t;
    model::ContainerStatus s = status(run);
    s.last_state = {};
    if (waiting) {
      s.state.waiting = model::ContainerStateWaiting{"CrashLoopBackOff", ""};
      s.last_state.terminated = t;
    } else {
      s.state.terminated = t;
    }
    send(s, at);
  }
};

}  // namespace podagent::agent::testing
