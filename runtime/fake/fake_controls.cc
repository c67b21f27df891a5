#include "runtime/fake/fake_runtime.h"

#include "runtime/fake/fake_state.h"

// The fake's images, exec, listing by pod and test controls.
namespace podagent::runtime {

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
