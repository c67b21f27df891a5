#include "runtime/fake/fake_runtime.h"

#include "runtime/fake/fake_state.h"

namespace podagent::runtime {



std::string_view to_string(Op op) {
  static constexpr std::array<std::string_view, static_cast<size_t>(Op::PullImage) + 1> kNames = {
      "RunSandbox",     "StopSandbox",     "RemoveSandbox",  "CreateContainer", "StartContainer", "StopContainer",
      "RemoveContainer", "ListSandboxes", "ListContainers", "ContainerStatus", "Exec",           "ListPod",
      "ImageStatus",    "PullImage"};
  return kNames.at(static_cast<size_t>(op));
}


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
  s->name_call(call, c->status.name);
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

}  // namespace podagent::runtime
