#include "runtime/fake/fake_runtime.h"

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

namespace podagent::runtime {

namespace asio = boost::asio;
using base::Error;
using base::Result;
using base::Status;
using base::SteadyTime;

std::string_view to_string(Op op) {
  static constexpr std::array<std::string_view, static_cast<size_t>(Op::PullImage) + 1> kNames = {
      "RunSandbox",     "StopSandbox",     "RemoveSandbox",  "CreateContainer", "StartContainer", "StopContainer",
      "RemoveContainer", "ListSandboxes", "ListContainers", "ContainerStatus", "Exec",           "ListPod",
      "ImageStatus",    "PullImage"};
  return kNames.at(static_cast<size_t>(op));
}

namespace {

constexpr size_t kOpCount = static_cast<size_t>(Op::PullImage) + 1;
constexpr int32_t kSigterm = 143;
constexpr int32_t kSigkill = 137;

FakeCall call_of(Op op, std::string id = {}, std::string name = {}) {
  FakeCall call;
  call.op = op;
  call.id = std::move(id);
  call.name = std::move(name);
  return call;
}

std::string default_reason(int32_t exit_code) { return exit_code == 0 ? "Completed" : "Error"; }

std::string image_id_of(const std::string& ref) { return "sha256:fake-" + ref; }

std::string sandbox_ip(uint64_t n) {
  return "10.88." + std::to_string((n - 1) / 254) + "." + std::to_string((n - 1) % 254 + 1);
}

}  // namespace

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

FakeRuntime::FakeRuntime(base::Clock& clock, asio::any_io_executor executor)
    : FakeRuntime(clock, std::move(executor), Options{}) {}

FakeRuntime::FakeRuntime(base::Clock& clock, asio::any_io_executor executor, Options options)
    : state_(std::make_shared<State>(clock, std::move(executor), options)) {}

FakeRuntime::~FakeRuntime() {
  state_->alive_ = false;
  if (state_->timer_) state_->timer_->cancel();  // lets the driver finish
  for (auto& [id, c] : state_->containers_) {
    for (base::Timer* waiter : c.exit_waiters) waiter->cancel();
  }
}

Task<Result<SandboxId>> FakeRuntime::run_sandbox(const SandboxConfig& config) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::RunSandbox, config.pod_uid.str(), config.pod_name));
  if (injected) co_return std::move(*injected);
  uint64_t n = s->next_sandbox_++;
  SandboxId id("sandbox-" + std::to_string(n));
  State::SandboxRec rec;
  rec.seq = n;
  rec.log_directory = config.log_directory;
  rec.status = SandboxStatus{.id = id,
                             .pod_uid = config.pod_uid,
                             .pod_name = config.pod_name,
                             .pod_namespace = config.pod_namespace,
                             .attempt = config.attempt,
                             .state = SandboxState::Ready,
                             .created_at = s->clock_.wall_now(),
                             .ips = {sandbox_ip(n)}};
  auto [it, inserted] = s->sandboxes_.emplace(id, std::move(rec));
  s->pods_[config.pod_uid].push_back(&it->second);
  s->observe(FakeChange::Kind::SandboxReady, &it->second.status, nullptr);
  co_return id;
}

Task<Status> FakeRuntime::stop_sandbox(const SandboxId& id) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::StopSandbox, id.str()));
  if (injected) co_return std::move(*injected);
  State::SandboxRec* sb = s->find_sandbox(id);
  if (!sb) co_return s->failed(call, "no such sandbox: " + id.str());
  s->sandbox_down(*sb, /*kill=*/false);
  co_return Status::Ok();
}

Task<Status> FakeRuntime::remove_sandbox(const SandboxId& id) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::RemoveSandbox, id.str()));
  if (injected) co_return std::move(*injected);
  State::SandboxRec* sb = s->find_sandbox(id);
  if (!sb) co_return s->failed(call, "no such sandbox: " + id.str());
  s->sandbox_down(*sb, /*kill=*/false);
  s->erase_sandbox(id, /*post_events=*/true);
  co_return Status::Ok();
}

Task<Result<ContainerId>> FakeRuntime::create_container(const SandboxId& sandbox, const ContainerConfig& config) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::CreateContainer, sandbox.str(), config.spec.name));
  if (injected) co_return std::move(*injected);
  State::SandboxRec* sb = s->find_sandbox(sandbox);
  if (!sb) co_return s->failed(call, "no such sandbox: " + sandbox.str());
  if (sb->status.state != SandboxState::Ready) {
    co_return s->failed(call, "sandbox " + sandbox.str() + " is not ready");
  }
  uint64_t n = s->next_container_++;
  ContainerId id("container-" + std::to_string(n));
  State::ContainerRec rec;
  rec.seq = n;
  if (!sb->log_directory.empty() && !config.log_path.empty()) rec.log_file = sb->log_directory / config.log_path;
  ContainerStatus& st = rec.status;
  st.id = id;
  st.sandbox_id = sandbox;
  st.pod_uid = sb->status.pod_uid;
  st.name = config.spec.name;
  st.kind = config.kind;
  st.attempt = config.attempt;
  st.spec_hash = config.spec_hash;
  st.image = config.spec.image;
  st.image_id = image_id_of(config.spec.image);
  st.created_at = s->clock_.wall_now();
  auto [it, inserted] = s->containers_.emplace(id, std::move(rec));
  sb->containers.push_back(&it->second);
  s->post_container_event(ContainerEvent::Type::Created, it->second.status);
  co_return id;
}

Task<Status> FakeRuntime::start_container(const ContainerId& id) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::StartContainer, id.str()));
  if (injected) co_return std::move(*injected);
  State::ContainerRec* c = s->find_container(id);
  if (!c) co_return s->failed(call, "no such container: " + id.str());
  if (c->status.state != ContainerState::Created) {
    co_return s->failed(call, "container " + id.str() + " is not in the Created state");
  }
  FakeScript* script = s->find_script(c->status.pod_uid, c->status.name);
  FakeBehaviour b = script ? script->next_run() : FakeBehaviour{};
  if (b.kind == FakeBehaviour::Kind::FailStart) {
    s->exit_container(*c, 128, "StartError", b.message);
    co_return s->failed(call, "failed to start container " + id.str() + ": " + b.message);
  }
  c->status.state = ContainerState::Running;
  c->status.started_at = s->clock_.wall_now();
  if (!c->log_file.empty()) (void)write_fake_log(c->log_file, b.output, c->status.started_at.value());
  s->post_container_event(ContainerEvent::Type::Started, c->status);
  SteadyTime at = s->clock_.now() + b.after;
  if (b.kind == FakeBehaviour::Kind::ExitAfter) s->schedule_exit(*c, at, b.exit_code, "");
  if (b.kind == FakeBehaviour::Kind::OomAfter) s->schedule_exit(*c, at, kSigkill, "OOMKilled");
  co_return Status::Ok();
}

Task<Status> FakeRuntime::stop_container(const ContainerId& id, std::chrono::milliseconds grace) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::StopContainer, id.str()));
  if (injected) co_return std::move(*injected);
  State::ContainerRec* c = s->find_container(id);
  if (!c) co_return s->failed(call, "no such container: " + id.str());
  // A Created container has no process to signal: stopping it is a no-op.
  if (c->status.state != ContainerState::Running) co_return Status::Ok();
  if (!s->ignores_sigterm(*c) || grace <= std::chrono::milliseconds::zero()) {
    s->stop_now(*c);
    co_return Status::Ok();
  }
  // The container ignores SIGTERM: wait for its own exit or the end of the
  // grace period, whichever comes first; then SIGKILL.
  auto timer = s->clock_.make_timer(s->executor_);
  timer->expires_at(s->clock_.now() + grace);
  c->exit_waiters.push_back(timer.get());
  bool expired = co_await timer->wait();
  c = s->find_container(id);
  if (!c) co_return Status::Ok();  // removed meanwhile (e.g. behind our back)
  std::erase(c->exit_waiters, timer.get());
  if (c->status.state != ContainerState::Running) co_return Status::Ok();
  if (!expired) co_return s->failed(call, "stop of " + id.str() + " cancelled");
  s->exit_container(*c, kSigkill, "Error");
  co_return Status::Ok();
}

Task<Status> FakeRuntime::remove_container(const ContainerId& id) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::RemoveContainer, id.str()));
  if (injected) co_return std::move(*injected);
  State::ContainerRec* c = s->find_container(id);
  if (!c) co_return s->failed(call, "no such container: " + id.str());
  if (c->status.state == ContainerState::Running) {
    co_return s->failed(call, "container " + id.str() + " is running");
  }
  s->erase_container(id, /*post_event=*/true);
  co_return Status::Ok();
}

namespace {

// The statuses of `recs` (a map of records), in creation order.
template <typename Status, typename Map>
std::vector<Status> in_creation_order(const Map& recs) {
  std::vector<const typename Map::mapped_type*> sorted;
  sorted.reserve(recs.size());
  for (const auto& [id, rec] : recs) sorted.push_back(&rec);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
  std::vector<Status> out;
  out.reserve(sorted.size());
  for (const auto* rec : sorted) out.push_back(rec->status);
  return out;
}

}  // namespace

Task<Result<std::vector<SandboxStatus>>> FakeRuntime::list_sandboxes() {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::ListSandboxes));
  if (injected) co_return std::move(*injected);
  co_return in_creation_order<SandboxStatus>(s->sandboxes_);
}

Task<Result<std::vector<ContainerStatus>>> FakeRuntime::list_containers() {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::ListContainers));
  if (injected) co_return std::move(*injected);
  co_return in_creation_order<ContainerStatus>(s->containers_);
}

Task<Result<ContainerStatus>> FakeRuntime::container_status(const ContainerId& id) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::ContainerStatus, id.str()));
  if (injected) co_return std::move(*injected);
  State::ContainerRec* c = s->find_container(id);
  if (!c) co_return s->failed(call, "no such container: " + id.str());
  co_return c->status;
}

namespace {

bool image_present(const FakeRuntime::State& s, const std::string& ref) {
  auto it = s.images_.find(ref);
  return it == s.images_.end() ? s.options_.images_present : it->second;
}

}  // namespace

Task<Result<std::optional<std::string>>> FakeRuntime::image_status(const std::string& ref) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::ImageStatus, ref));
  if (injected) co_return std::move(*injected);
  if (!image_present(*s, ref)) co_return std::optional<std::string>();
  co_return std::optional<std::string>(image_id_of(ref));
}

Task<Result<std::string>> FakeRuntime::pull_image(const std::string& ref) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::PullImage, ref));
  if (injected) co_return std::move(*injected);
  if (!image_present(*s, ref)) {
    co_return s->failed(call, "image \"" + ref + "\" is not in the node's image store; import it with "
                              "`podagent image import`");
  }
  co_return image_id_of(ref);
}

void FakeRuntime::add_image(const std::string& ref) {
  state_->images_[ref] = true;
  post_images_changed();
}

void FakeRuntime::remove_image(const std::string& ref) {
  state_->images_[ref] = false;
  post_images_changed();
}

void FakeRuntime::on_images_changed(ImagesChangedHandler handler) {
  state_->on_images_changed_ = std::move(handler);
}

// Posted, as the oci backend's come from its file watch: never from inside
// the test's add_image call.
void FakeRuntime::post_images_changed() {
  if (!state_->on_images_changed_) return;
  asio::post(state_->executor_, [s = state_] {
    if (s->alive_ && s->on_images_changed_) s->on_images_changed_();
  });
}

bool FakeRuntime::has_image(const std::string& ref) const { return image_present(*state_, ref); }

Task<Result<ExecResult>> FakeRuntime::exec(const ContainerId& id, std::vector<std::string> command,
                                           std::chrono::milliseconds timeout) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::Exec, id.str()));
  if (injected) co_return std::move(*injected);
  State::ContainerRec* c = s->find_container(id);
  if (!c) co_return s->failed(call, "no such container: " + id.str());
  if (c->status.state != ContainerState::Running) {
    co_return s->failed(call, "container " + id.str() + " is not running");
  }
  s->execs_.push_back({id, c->status.name, std::move(command)});
  FakeScript* script = s->find_script(c->status.pod_uid, c->status.name);
  ExecResult result = script ? script->exec() : ExecResult{};
  base::Duration takes = script ? script->exec_duration() : base::Duration::zero();
  if (takes > base::Duration::zero()) {
    bool times_out = timeout > std::chrono::milliseconds::zero() && takes > timeout;
    co_await s->clock_.sleep_until(s->clock_.now() + (times_out ? base::Duration(timeout) : takes));
    if (times_out) {
      ExecResult killed;
      killed.exit_code = kSigkill;
      killed.timed_out = true;
      co_return killed;
    }
  }
  co_return result;
}

void FakeRuntime::set_event_handlers(ContainerEventHandler on_container, SandboxEventHandler on_sandbox) {
  state_->on_container_ = std::move(on_container);
  state_->on_sandbox_ = std::move(on_sandbox);
}

Task<Result<PodRuntimeState>> FakeRuntime::list_pod(const PodUid& pod) {
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::ListPod, pod.str()));
  if (injected) co_return std::move(*injected);
  PodRuntimeState out;
  s->fill(pod, out);
  co_return out;
}

Task<Status> FakeRuntime::list_pod_into(const PodUid& pod, PodRuntimeState& out) {
  // The common case acts at once: no suspension, so no shared_ptr copy and
  // no call record (its id string) unless the log is kept.
  if (state_->quick(Op::ListPod)) {
    state_->begin(Op::ListPod, state_->options_.record_calls ? pod.str() : std::string());
    state_->fill(pod, out);
    co_return Status::Ok();
  }
  auto s = state_;
  auto [call, injected] = co_await s->enter(call_of(Op::ListPod, pod.str()));
  if (injected) co_return std::move(*injected);
  s->fill(pod, out);
  co_return Status::Ok();
}

// ---- scripting ----

FakeScript& FakeRuntime::script(const std::string& container) {
  auto& slot = state_->scripts_[container];
  if (!slot) slot = std::make_unique<FakeScript>();
  return *slot;
}

FakeScript& FakeRuntime::script(const PodUid& pod, const std::string& container) {
  auto& slot = state_->pod_scripts_[pod.str() + "/" + container];
  if (!slot) slot = std::make_unique<FakeScript>();
  return *slot;
}

void FakeRuntime::fail_next(Op op, base::Error error) {
  state_->fail_next_[static_cast<size_t>(op)].push_back(std::move(error));
}

void FakeRuntime::fail_when(FailurePredicate predicate) { state_->predicate_ = std::move(predicate); }

void FakeRuntime::set_latency(Op op, base::Duration d) { state_->latency_[static_cast<size_t>(op)] = d; }

void FakeRuntime::set_observer(Observer observer) { state_->observer_ = std::move(observer); }

// ---- things that happen ----

Status FakeRuntime::kill_container(const ContainerId& id, int32_t exit_code, std::string reason) {
  State::ContainerRec* c = state_->find_container(id);
  if (!c) return Error("no such container: " + id.str());
  if (c->status.state != ContainerState::Running) return Error("container " + id.str() + " is not running");
  state_->exit_container(*c, exit_code, std::move(reason));
  return Status::Ok();
}

Status FakeRuntime::kill_sandbox(const SandboxId& id) {
  State::SandboxRec* sb = state_->find_sandbox(id);
  if (!sb) return Error("no such sandbox: " + id.str());
  state_->sandbox_down(*sb, /*kill=*/true);
  return Status::Ok();
}

Status FakeRuntime::remove_sandbox_behind_back(const SandboxId& id) {
  if (!state_->find_sandbox(id)) return Error("no such sandbox: " + id.str());
  state_->erase_sandbox(id, /*post_events=*/false);
  return Status::Ok();
}

// ---- inspection ----

std::optional<SandboxStatus> FakeRuntime::sandbox(const SandboxId& id) const {
  const State::SandboxRec* sb = state_->find_sandbox(id);
  if (!sb) return std::nullopt;
  return sb->status;
}

std::optional<ContainerStatus> FakeRuntime::container(const ContainerId& id) const {
  const State::ContainerRec* c = state_->find_container(id);
  if (!c) return std::nullopt;
  return c->status;
}

PodRuntimeState FakeRuntime::pod_state(const PodUid& pod) const {
  PodRuntimeState out;
  state_->fill(pod, out);
  return out;
}

size_t FakeRuntime::running_containers(const std::optional<PodUid>& pod) const {
  size_t n = 0;
  for (const auto& [id, c] : state_->containers_) {
    if (c.status.state == ContainerState::Running && (!pod || c.status.pod_uid == *pod)) ++n;
  }
  return n;
}

size_t FakeRuntime::sandbox_count() const { return state_->sandboxes_.size(); }
size_t FakeRuntime::container_count() const { return state_->containers_.size(); }
const std::vector<FakeCall>& FakeRuntime::calls() const { return state_->calls_; }
size_t FakeRuntime::count(Op op) const { return state_->counts_[static_cast<size_t>(op)]; }
void FakeRuntime::clear_calls() { state_->calls_.clear(); }
const std::vector<FakeExec>& FakeRuntime::execs() const { return state_->execs_; }
size_t FakeRuntime::scheduled_exits() const { return state_->schedule_.size(); }

}  // namespace podagent::runtime
