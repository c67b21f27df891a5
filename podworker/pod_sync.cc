#include "podworker/pod_sync.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>

#include "runtime/container_log.h"

namespace podagent::podworker {
namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

milliseconds remaining(base::Clock& clock, base::SteadyTime deadline) {
  auto left = deadline - clock.now();
  if (left < base::Duration::zero()) return milliseconds(0);
  return std::chrono::ceil<milliseconds>(left);
}

const model::Container* find_spec(const model::Pod& pod, std::string_view name) {
  for (const auto& c : pod.spec.init_containers)
    if (c.name == name) return &c;
  for (const auto& c : pod.spec.containers)
    if (c.name == name) return &c;
  for (const auto& c : pod.spec.ephemeral_containers)
    if (c.name == name) return &c;
  return nullptr;
}

// The kubelet's killContainer: the preStop hook first (within the grace
// period), then SIGTERM and, at the deadline, SIGKILL. A failing hook does
// not stop the kill. httpGet and tcpSocket hooks are not run yet.
runtime::Task<bool> kill_one(SyncTarget& t, const ContainerKill& kill, base::SteadyTime deadline) {
  const model::Container* spec = find_spec(*t.pod, kill.name);
  if (spec && spec->lifecycle && spec->lifecycle->pre_stop) {
    const auto& hook = *spec->lifecycle->pre_stop;
    if (hook.exec) {
      std::vector<std::string> command = hook.exec->command;
      auto result = co_await t.runtime.exec(kill.id, std::move(command), remaining(t.clock, deadline));
      (void)result;  // a failed hook is no reason not to stop the container
    } else if (hook.sleep) {
      co_await t.clock.sleep_until(std::min(t.clock.now() + std::chrono::seconds(hook.sleep->seconds), deadline));
    }
    if (!t.go_on()) co_return true;
  }
  if (t.stopping) t.stopping->push_back(kill.id);
  base::Status st = co_await t.runtime.stop_container(kill.id, remaining(t.clock, deadline));
  co_return st.ok();
}

// Runs every kill at once, so that each container gets the whole grace
// period, and completes when all have.
runtime::Task<bool> kill_all(SyncTarget& t, const std::vector<ContainerKill>& kills, base::SteadyTime deadline) {
  if (kills.size() == 1) co_return co_await kill_one(t, kills[0], deadline);
  auto executor = co_await asio::this_coro::executor;
  auto done = t.clock.make_timer(executor);
  done->expires_at(base::SteadyTime::max());
  size_t pending = kills.size();
  bool all_ok = true;
  for (const auto& k : kills) {
    // The frame of this coroutine outlives every spawned kill: it waits for
    // the last one below, and co_spawn never runs one inline.
    asio::co_spawn(
        executor,
        [&t, &k, deadline, &pending, &all_ok, &done]() -> asio::awaitable<void> {
          bool ok = co_await kill_one(t, k, deadline);
          all_ok = all_ok && ok;
          if (--pending == 0) done->cancel();
        },
        asio::detached);
  }
  while (pending > 0) co_await done->wait();
  co_return all_ok;
}

runtime::Task<bool> start_one(SyncTarget& t, const base::SandboxId& sandbox, const ContainerStart& s) {
  runtime::ContainerConfig config;
  config.spec = container_of(*t.pod, s);
  config.kind = s.kind;
  config.attempt = s.attempt;
  config.spec_hash = hash_of(t.hashes, s);
  config.pod = t.pod;
  if (!t.pod_logs_dir.empty()) config.log_path = runtime::container_log_path(s.name, s.attempt);
  base::Result<base::ContainerId> id = co_await t.runtime.create_container(sandbox, config);
  if (!t.go_on()) co_return false;
  if (!id) {
    t.waiting[s.name] = WaitingReason{"CreateContainerError", id.error().message};
    co_return false;
  }
  base::Status st = co_await t.runtime.start_container(*id);
  if (!t.go_on()) co_return false;
  if (!st) {
    t.waiting[s.name] = WaitingReason{"RunContainerError", st.error().message};
    co_return false;
  }
  t.waiting.erase(s.name);
  co_return true;
}

runtime::Task<std::optional<base::SandboxId>> create_sandbox(SyncTarget& t, uint32_t attempt) {
  runtime::SandboxConfig config;
  config.pod_uid = base::PodUid(t.pod->metadata.uid);
  config.pod_name = t.pod->metadata.name;
  config.pod_namespace = t.pod->metadata.namespace_;
  config.attempt = attempt;
  config.pod = t.pod;
  if (!t.pod_logs_dir.empty()) {
    const model::ObjectMeta& m = t.pod->metadata;
    config.log_directory = runtime::pod_log_directory(t.pod_logs_dir, m.namespace_, m.name, m.uid);
  }
  base::Result<base::SandboxId> id = co_await t.runtime.run_sandbox(config);
  if (!id) co_return std::nullopt;
  co_return *id;
}

}  // namespace

base::Duration pod_grace(const model::Pod& pod) {
  if (pod.metadata.deletion_grace_period_seconds) {
    return std::chrono::seconds(std::max<int64_t>(0, *pod.metadata.deletion_grace_period_seconds));
  }
  return std::chrono::seconds(std::max<int64_t>(0, pod.spec.termination_grace_period_seconds.value_or(30)));
}

runtime::Task<SyncOutcome> execute_plan(SyncTarget& t, const PodActions& plan, base::SteadyTime kill_deadline) {
  SyncOutcome out;
  auto step = [&](bool ok) {
    out.acted = true;
    out.failed = out.failed || !ok;
    out.stopped = !t.go_on();
    return !out.stopped;
  };
  // Results are named before use: GCC 12 mishandles some temporaries that
  // live across a co_await.
  if (!t.go_on()) {
    out.stopped = true;
    co_return out;
  }
  if (!plan.kill.empty()) {
    bool ok = co_await kill_all(t, plan.kill, kill_deadline);
    if (!step(ok)) co_return out;
  }
  for (const auto& id : plan.stop_sandboxes) {
    base::Status st = co_await t.runtime.stop_sandbox(id);
    if (!step(st.ok())) co_return out;
  }
  for (const auto& id : plan.remove) {
    base::Status st = co_await t.runtime.remove_container(id);
    if (!step(st.ok())) co_return out;
  }
  for (const auto& id : plan.remove_sandboxes) {
    base::Status st = co_await t.runtime.remove_sandbox(id);
    if (!step(st.ok())) co_return out;
  }
  std::optional<base::SandboxId> sandbox = plan.sandbox;
  if (plan.create_sandbox) {
    sandbox = co_await create_sandbox(t, plan.sandbox_attempt);
    if (!step(sandbox.has_value()) || !sandbox) co_return out;
  }
  for (const auto& s : plan.start) {
    if (!sandbox) break;
    bool ok = co_await start_one(t, *sandbox, s);
    if (!step(ok) || !ok) co_return out;
  }
  co_return out;
}

runtime::Task<SyncOutcome> remove_everything(SyncTarget& t, const ObservedPod& observed) {
  SyncOutcome out;
  for (const auto& c : observed.containers) {
    if (!t.go_on()) co_return out;
    bool in_sandbox = std::any_of(observed.sandboxes.begin(), observed.sandboxes.end(),
                                  [&](const runtime::SandboxStatus& s) { return s.id == c.sandbox_id; });
    if (in_sandbox) continue;  // removed with its sandbox
    base::Status stopped = co_await t.runtime.stop_container(c.id, milliseconds(0));
    (void)stopped;  // removal below is what counts
    if (!t.go_on()) co_return out;
    base::Status removed = co_await t.runtime.remove_container(c.id);
    out.failed = out.failed || !removed.ok();
    out.acted = true;
  }
  for (const auto& s : observed.sandboxes) {
    if (!t.go_on()) co_return out;
    base::Status stopped = co_await t.runtime.stop_sandbox(s.id);
    (void)stopped;
    if (!t.go_on()) co_return out;
    base::Status removed = co_await t.runtime.remove_sandbox(s.id);
    out.failed = out.failed || !removed.ok();
    out.acted = true;
  }
  co_return out;
}

}  // namespace podagent::podworker
