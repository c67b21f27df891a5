#pragma once

// The fake runtime's state, shared by its runtime calls (fake_runtime.cc)
// and its test controls (fake_controls.cc). Internal to runtime/fake/.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <unordered_map>
#include <utility>

#include "runtime/fake/fake_runtime.h"

namespace podagent::runtime {

namespace asio = boost::asio;
using base::Error;
using base::Result;
using base::Status;
using base::SteadyTime;

namespace fake_detail {


constexpr size_t kOpCount = static_cast<size_t>(Op::PullImage) + 1;
constexpr int32_t kSigterm = 143;
constexpr int32_t kSigkill = 137;

inline FakeCall call_of(Op op, std::string id = {}, std::string name = {}) {
  FakeCall call;
  call.op = op;
  call.id = std::move(id);
  call.name = std::move(name);
  return call;
}

inline std::string default_reason(int32_t exit_code) { return exit_code == 0 ? "Completed" : "Error"; }

inline std::string image_id_of(const std::string& ref) { return "sha256:fake-" + ref; }

inline std::string sandbox_ip(uint64_t n) {
  return "10.88." + std::to_string((n - 1) / 254) + "." + std::to_string((n - 1) % 254 + 1);
}


}  // namespace fake_detail

using namespace fake_detail;

// Everything the runtime knows, shared with the posted events and the exit
// scheduler's coroutine so that they stay valid if the runtime goes first.
class FakeRuntime::State : public std::enable_shared_from_this<State> {
 public:
  using ScheduleKey = std::pair<SteadyTime, uint64_t>;
  struct ScheduledExit {
    ContainerId id;
    int32_t exit_code = 0;
    std::string reason;
  };
  // Records point at each other (map nodes never move), so that listing a
  // pod costs no lookups beyond its own.
  struct ContainerRec;
  struct SandboxRec {
    SandboxStatus status;
    uint64_t seq = 0;
    std::vector<ContainerRec*> containers;  // creation order
    std::filesystem::path log_directory;    // empty: no logs
  };
  struct ContainerRec {
    ContainerStatus status;
    uint64_t seq = 0;
    std::optional<ScheduleKey> scheduled_exit;
    std::vector<base::Timer*> exit_waiters;  // pending stop_container calls
    std::filesystem::path log_file;          // empty: no log
  };

  State(base::Clock& clock, asio::any_io_executor executor, Options options)
      : clock_(clock), executor_(std::move(executor)), options_(options) {}

  // ---- calls ----
  size_t begin(Op op, std::string id, std::string name = {}) {
    ++counts_[static_cast<size_t>(op)];
    if (!options_.record_calls) return SIZE_MAX;
    calls_.push_back(call_of(op, std::move(id), std::move(name)));
    return calls_.size() - 1;
  }
  void mark_failed(size_t call) {
    if (call < calls_.size()) calls_[call].ok = false;
  }
  // Names the container a call was made on, once it is known.
  void name_call(size_t call, const std::string& name) {
    if (call < calls_.size()) calls_[call].name = name;
  }
  Error failed(size_t call, std::string message) {
    mark_failed(call);
    return Error(std::move(message));
  }
  struct Entered {
    size_t call;                   // index in calls_ (SIZE_MAX: not logged)
    std::optional<Error> injected;  // the call must fail with this
  };
  // True when a call of `op` has neither latency nor an injected error to
  // apply: it may then act at once, without enter(), after begin().
  bool quick(Op op) const {
    auto i = static_cast<size_t>(op);
    return latency_[i] == base::Duration::zero() && fail_next_[i].empty() && !predicate_;
  }
  // The start of every call: logs it, waits its latency, then applies the
  // injected errors. The caller holds a shared_ptr to this State.
  asio::awaitable<Entered> enter(FakeCall what) {
    Op op = what.op;
    size_t call = begin(op, what.id, what.name);
    base::Duration latency = latency_[static_cast<size_t>(op)];
    if (latency > base::Duration::zero()) co_await clock_.sleep_until(clock_.now() + latency);
    auto& queue = fail_next_[static_cast<size_t>(op)];
    std::optional<Error> e;
    if (!queue.empty()) {
      e = std::move(queue.front());
      queue.pop_front();
    } else if (predicate_) {
      e = predicate_(what);
    }
    if (e) mark_failed(call);
    co_return Entered{call, std::move(e)};
  }

  SandboxRec* find_sandbox(const SandboxId& id) {
    auto it = sandboxes_.find(id);
    return it == sandboxes_.end() ? nullptr : &it->second;
  }
  ContainerRec* find_container(const ContainerId& id) {
    auto it = containers_.find(id);
    return it == containers_.end() ? nullptr : &it->second;
  }
  FakeScript* find_script(const PodUid& pod, const std::string& name) {
    if (!pod_scripts_.empty()) {
      auto it = pod_scripts_.find(pod.str() + "/" + name);
      if (it != pod_scripts_.end()) return it->second.get();
    }
    auto it = scripts_.find(name);
    return it == scripts_.end() ? nullptr : it->second.get();
  }
  bool ignores_sigterm(const ContainerRec& c) {
    FakeScript* s = find_script(c.status.pod_uid, c.status.name);
    return s && s->ignores_sigterm();
  }

  // The sandboxes and containers of `pod` into `out`, assigned element by
  // element so that `out`'s strings and vectors keep their capacity.
  void fill(const PodUid& pod, PodRuntimeState& out) const {
    auto it = pods_.find(pod);
    if (it == pods_.end()) {
      out.sandboxes.clear();
      out.containers.clear();
      return;
    }
    size_t containers = 0;
    for (const SandboxRec* sb : it->second) containers += sb->containers.size();
    out.sandboxes.resize(it->second.size());
    out.containers.resize(containers);
    size_t i = 0, j = 0;
    for (const SandboxRec* sb : it->second) {
      out.sandboxes[i++] = sb->status;
      for (const ContainerRec* c : sb->containers) out.containers[j++] = c->status;
    }
  }

  // ---- events ----
  void observe(FakeChange::Kind kind, const SandboxStatus* sb, const ContainerStatus* c) {
    if (observer_) observer_(FakeChange{kind, sb, c});
  }
  void post_container_event(ContainerEvent::Type type, const ContainerStatus& c) {
    using K = FakeChange::Kind;
    constexpr std::array<K, 4> kinds = {K::ContainerCreated, K::ContainerStarted, K::ContainerExited,
                                        K::ContainerRemoved};
    observe(kinds[static_cast<size_t>(type)], nullptr, &c);
    if (!on_container_) return;
    ContainerEvent ev{type, c.id, c.sandbox_id, c.pod_uid};
    asio::post(executor_, [s = shared_from_this(), ev = std::move(ev)] {
      if (s->alive_ && s->on_container_) s->on_container_(ev);
    });
  }
  void post_sandbox_event(const SandboxStatus& sb) {
    observe(FakeChange::Kind::SandboxNotReady, &sb, nullptr);
    if (!on_sandbox_) return;
    SandboxEvent ev{sb.id, sb.pod_uid};
    asio::post(executor_, [s = shared_from_this(), ev = std::move(ev)] {
      if (s->alive_ && s->on_sandbox_) s->on_sandbox_(ev);
    });
  }

  // ---- state changes ----
  // A running container exits now.
  void exit_container(ContainerRec& c, int32_t exit_code, std::string reason, std::string message = {}) {
    if (c.scheduled_exit) {
      schedule_.erase(*c.scheduled_exit);
      c.scheduled_exit.reset();
    }
    c.status.state = ContainerState::Exited;
    c.status.exit_code = exit_code;
    c.status.reason = reason.empty() ? default_reason(exit_code) : std::move(reason);
    c.status.message = std::move(message);
    c.status.finished_at = clock_.wall_now();
    for (base::Timer* waiter : c.exit_waiters) waiter->cancel();
    post_container_event(ContainerEvent::Type::Exited, c.status);
  }
  // SIGTERM at once, or SIGKILL (grace 0) for a container ignoring SIGTERM.
  void stop_now(ContainerRec& c) {
    if (c.status.state != ContainerState::Running) return;
    exit_container(c, ignores_sigterm(c) ? kSigkill : kSigterm, "Error");
  }
  void erase_container(const ContainerId& id, bool post_event) {
    auto it = containers_.find(id);
    if (it == containers_.end()) return;
    ContainerRec& c = it->second;
    if (c.scheduled_exit) schedule_.erase(*c.scheduled_exit);
    for (base::Timer* waiter : c.exit_waiters) waiter->cancel();
    if (post_event) {
      post_container_event(ContainerEvent::Type::Removed, c.status);
    } else {
      observe(FakeChange::Kind::ContainerRemoved, nullptr, &c.status);
    }
    if (SandboxRec* sb = find_sandbox(c.status.sandbox_id)) std::erase(sb->containers, &c);
    containers_.erase(it);
  }
  void erase_sandbox(const SandboxId& id, bool post_events) {
    SandboxRec* sb = find_sandbox(id);
    if (!sb) return;
    for (ContainerRec* c : std::vector<ContainerRec*>(sb->containers)) erase_container(c->status.id, post_events);
    observe(FakeChange::Kind::SandboxRemoved, &sb->status, nullptr);
    auto pod = pods_.find(sb->status.pod_uid);
    if (pod != pods_.end()) {
      std::erase(pod->second, sb);
      if (pod->second.empty()) pods_.erase(pod);
    }
    sandboxes_.erase(id);
  }
  // NotReady; running containers stopped (`kill`: 137) or SIGTERMed.
  void sandbox_down(SandboxRec& sb, bool kill) {
    for (ContainerRec* rec : sb.containers) {
      ContainerRec& c = *rec;
      if (c.status.state != ContainerState::Running) continue;
      if (kill) {
        exit_container(c, kSigkill, "Error");
      } else {
        stop_now(c);
      }
    }
    if (sb.status.state == SandboxState::Ready) {
      sb.status.state = SandboxState::NotReady;
      post_sandbox_event(sb.status);
    }
  }

  // ---- exit schedule: one timer for all scripted exits ----
  void schedule_exit(ContainerRec& c, SteadyTime at, int32_t exit_code, std::string reason) {
    ScheduleKey key{at, next_schedule_seq_++};
    bool earliest = schedule_.empty() || key < schedule_.begin()->first;
    schedule_.emplace(key, ScheduledExit{c.status.id, exit_code, std::move(reason)});
    c.scheduled_exit = key;
    if (!driver_running_) {
      driver_running_ = true;
      // Posted, so that an exit due now happens after the current call.
      asio::post(executor_, [s = shared_from_this()] {
        asio::co_spawn(s->executor_, drive(s), asio::detached);
      });
    } else if (earliest && timer_) {
      timer_->expires_at(at);  // wakes the driver, which re-arms
    }
  }
  static asio::awaitable<void> drive(std::shared_ptr<State> s) {
    if (!s->timer_) s->timer_ = s->clock_.make_timer(s->executor_);
    while (s->alive_ && !s->schedule_.empty()) {
      SteadyTime first = s->schedule_.begin()->first.first;
      if (first > s->clock_.now()) {
        s->timer_->expires_at(first);
        co_await s->timer_->wait();
        continue;
      }
      auto node = s->schedule_.extract(s->schedule_.begin());
      ScheduledExit& e = node.mapped();
      if (ContainerRec* c = s->find_container(e.id)) {
        c->scheduled_exit.reset();
        if (c->status.state == ContainerState::Running) s->exit_container(*c, e.exit_code, std::move(e.reason));
      }
    }
    s->driver_running_ = false;
  }

  base::Clock& clock_;
  asio::any_io_executor executor_;
  Options options_;
  bool alive_ = true;
  uint64_t next_sandbox_ = 1;
  uint64_t next_container_ = 1;
  std::unordered_map<SandboxId, SandboxRec> sandboxes_;
  std::unordered_map<ContainerId, ContainerRec> containers_;
  std::unordered_map<PodUid, std::vector<SandboxRec*>> pods_;  // creation order
  std::unordered_map<std::string, std::unique_ptr<FakeScript>> scripts_;
  std::unordered_map<std::string, std::unique_ptr<FakeScript>> pod_scripts_;  // "uid/name"
  std::unordered_map<std::string, bool> images_;  // added (true) or removed (false)
  std::map<ScheduleKey, ScheduledExit> schedule_;
  uint64_t next_schedule_seq_ = 0;
  std::unique_ptr<base::Timer> timer_;
  bool driver_running_ = false;
  std::array<std::deque<Error>, kOpCount> fail_next_;
  FailurePredicate predicate_;
  std::array<base::Duration, kOpCount> latency_{};
  std::array<size_t, kOpCount> counts_{};
  std::vector<FakeCall> calls_;
  std::vector<FakeExec> execs_;
  ContainerEventHandler on_container_;
  SandboxEventHandler on_sandbox_;
  ImagesChangedHandler on_images_changed_;
  Observer observer_;
};

}  // namespace podagent::runtime
