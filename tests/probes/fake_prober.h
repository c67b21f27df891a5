// A scripted Prober for the probe loop tests: each handler is named by its
// exec command's first word ("live", "ready", "start"); each attempt takes
// the next queued outcome of its name, else that name's fallback.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "probes/prober.h"

namespace podagent::probes::testing {

// A probe with an exec handler named `name`, its other fields as given
// (the defaults of defaulting otherwise).
inline model::Probe exec_probe(const std::string& name, int64_t period = 10, int64_t success = 1,
                               int64_t failure = 3, int64_t initial_delay = 0) {
  model::Probe p;
  p.handler.exec = model::ExecAction{{name}};
  p.initial_delay_seconds = initial_delay;
  p.timeout_seconds = 1;
  p.period_seconds = period;
  p.success_threshold = success;
  p.failure_threshold = failure;
  return p;
}

class FakeProber final : public Prober {
 public:
  struct Call {
    std::string name;
    base::ContainerId container_id;
    std::string pod_ip;
    std::chrono::milliseconds timeout;
    base::SteadyTime at;
  };

  explicit FakeProber(base::Clock& clock) : clock_(clock) {}

  // Queues the outcome of the next attempt of `name`.
  void push(const std::string& name, ProbeResult r, std::string message = "") {
    queued_[name].push_back({r, std::move(message)});
  }
  // The outcome of `name`'s attempts once its queue is empty (Success
  // before any call).
  void set(const std::string& name, ProbeResult r, std::string message = "") {
    fallback_[name] = {r, std::move(message)};
  }
  // Every attempt takes `d` of clock time.
  void takes(base::Duration d) { takes_ = d; }

  runtime::Task<ProbeOutcome> probe(const ProbeTarget& target, const model::Handler& handler,
                                    std::chrono::milliseconds timeout) override {
    const std::string name = handler.exec && !handler.exec->command.empty() ? handler.exec->command[0] : "?";
    calls_.push_back({name, target.container_id, target.pod_ip, timeout, clock_.now()});
    if (takes_ > base::Duration::zero()) co_await clock_.sleep_until(clock_.now() + takes_);
    auto& q = queued_[name];
    if (!q.empty()) {
      ProbeOutcome o = q.front();
      q.pop_front();
      co_return o;
    }
    auto it = fallback_.find(name);
    co_return it == fallback_.end() ? ProbeOutcome{ProbeResult::Success, ""} : it->second;
  }

  const std::vector<Call>& calls() const { return calls_; }
  size_t count(const std::string& name) const {
    size_t n = 0;
    for (const auto& c : calls_) n += c.name == name;
    return n;
  }

 private:
  base::Clock& clock_;
  std::map<std::string, std::deque<ProbeOutcome>> queued_;
  std::map<std::string, ProbeOutcome> fallback_;
  base::Duration takes_{};
  std::vector<Call> calls_;
};

}  // namespace podagent::probes::testing
