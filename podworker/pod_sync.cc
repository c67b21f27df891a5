#include "podworker/pod_sync.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>

#include "podworker/container_hooks.h"
#include "podworker/image_puller.h"
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

void record(SyncTarget& t, std::string_view type, std::string_view reason, std::string_view field_path,
            std::string message) {
  if (t.events) t.events->record(base::PodUid(t.pod->metadata.uid), type, reason, field_path, std::move(message));
}

HookContext hook_context(SyncTarget& t, std::string name, base::ContainerId id) {
  return HookContext{&t.runtime, &t.clock, t.prober, t.pod, std::move(name), std::move(id)};
}

// The kubelet's killContainer: the preStop hook first (within the grace
// period), then SIGTERM and, at the deadline, SIGKILL; after a preStop hook,
// never sooner than kMinimumGraceAfterHook. A failing hook does not stop
// the kill.
runtime::Task<bool> kill_one(SyncTarget& t, const ContainerKill& kill, base::SteadyTime deadline) {
  if (kill.grace) deadline = t.clock.now() + *kill.grace;  // a probe's terminationGracePeriodSeconds
  const model::Container* spec = find_spec(*t.pod, kill.name);
  const std::string field_path = container_field_path(kill.kind, kill.name);
  record(t, "Normal", "Killing", field_path,
         kill.message.empty() ? "Stopping container " + kill.name : kill.message);
  bool hook_ran = false;
  if (spec && spec->lifecycle && spec->lifecycle->pre_stop && t.clock.now() < deadline) {
    hook_ran = true;
    HookResult hook = co_await run_hook(hook_context(t, kill.name, kill.id), *spec->lifecycle->pre_stop, deadline);
    if (hook.timed_out) {
      record(t, "Warning", "FailedPreStopHook", field_path,
             "PreStop hook for container " + kill.name + " did not complete within the grace period: " +
                 "Exceeded grace period; " + hook.message);
    } else if (!hook.ok) {
      record(t, "Warning", "FailedPreStopHook", field_path, hook.message);
    }
    if (!t.go_on()) co_return true;
  }
  if (t.stopping) t.stopping->push_back(kill.id);
  milliseconds grace = remaining(t.clock, deadline);
  if (hook_ran) grace = std::max(grace, std::chrono::duration_cast<milliseconds>(kMinimumGraceAfterHook));
  base::Status st = co_await t.runtime.stop_container(kill.id, grace);
  co_return st.ok();
}

// Runs one(0) ... one(n - 1) concurrently on the caller's executor and
// completes when all have: true when every one returned true.
template <typename One>
runtime::Task<bool> all_concurrently(base::Clock& clock, size_t n, One one) {
  if (n == 1) co_return co_await one(0);
  auto executor = co_await asio::this_coro::executor;
  auto done = clock.make_timer(executor);
  done->expires_at(base::SteadyTime::max());
  size_t pending = n;
  bool all_ok = true;
  for (size_t i = 0; i < n; ++i) {
    // The frame of this coroutine outlives every spawned one: it waits for
    // the last one below, and co_spawn never runs one inline.
    asio::co_spawn(
        executor,
        [&one, i, &pending, &all_ok, &done]() -> asio::awaitable<void> {
          bool ok = co_await one(i);
          all_ok = all_ok && ok;
          if (--pending == 0) done->cancel();
        },
        asio::detached);
  }
  while (pending > 0) co_await done->wait();
  co_return all_ok;
}

// Runs every kill at once, so that each container gets the whole grace
// period, and completes when all have.
runtime::Task<bool> kill_all(SyncTarget& t, const std::vector<ContainerKill>& kills, base::SteadyTime deadline) {
  co_return co_await all_concurrently(t.clock, kills.size(),
                                      [&](size_t i) { return kill_one(t, kills[i], deadline); });
}

// Runs the postStart hook while the sync waits for it, checking go_on()
// every kHookAbortPoll; nullopt when the sync stops first. The hook then
// runs on by itself to its end (a container being deleted ends it soon), so
// it holds nothing of `t`: its context is copied into its own frame.
runtime::Task<std::optional<HookResult>> run_post_start(SyncTarget& t, HookContext ctx, model::Handler hook) {
  struct Shared {
    std::optional<HookResult> result;
    std::unique_ptr<base::Timer> timer;
  };
  auto executor = co_await asio::this_coro::executor;
  auto shared = std::make_shared<Shared>();
  shared->timer = t.clock.make_timer(executor);
  asio::co_spawn(
      executor,
      [shared, ctx = std::move(ctx), hook = std::move(hook)]() -> asio::awaitable<void> {
        HookResult r = co_await run_hook(ctx, hook, std::nullopt);
        shared->result = std::move(r);
        shared->timer->cancel();
      },
      asio::detached);
  while (!shared->result) {
    if (!t.go_on()) co_return std::nullopt;
    shared->timer->expires_at(t.clock.now() + kHookAbortPoll);
    co_await shared->timer->wait();
  }
  co_return shared->result;
}

// After a start: the postStart hook, if any. False when the container must
// not count as started: the hook failed (the container is then killed) or
// the sync stopped while it ran.
runtime::Task<bool> post_start(SyncTarget& t, const ContainerStart& s, const base::ContainerId& id) {
  const model::Container& spec = container_of(*t.pod, s);
  if (!spec.lifecycle || !spec.lifecycle->post_start) co_return true;
  std::optional<HookResult> hook = co_await run_post_start(t, hook_context(t, s.name, id), *spec.lifecycle->post_start);
  if (!hook || !t.go_on()) co_return false;
  if (hook->ok) co_return true;
  record(t, "Warning", "FailedPostStartHook", container_field_path(s.kind, s.name), hook->message);
  ContainerKill kill{id, s.name, s.kind, "FailedPostStartHook", hook->message};
  bool killed = co_await kill_one(t, kill, t.clock.now() + pod_grace(*t.pod));
  (void)killed;  // the next sync sees the container exited, or kills it again
  co_return false;
}

std::string pulled_message(const model::Container& spec) {
  if (spec.image_pull_policy == "Always") return "Successfully pulled image \"" + spec.image + "\"";
  return "Container image \"" + spec.image + "\" already present on machine";
}

// Creates one container in `sandbox`, recording Pulled and Created. Unless
// `quiet`, an error is recorded too, with the container's reason in
// t.waiting; quiet, it leaves no trace.
runtime::Task<std::optional<base::ContainerId>> create_one(SyncTarget& t, const base::SandboxId& sandbox,
                                                           const ContainerStart& s, bool quiet) {
  runtime::ContainerConfig config;
  config.spec = container_of(*t.pod, s);
  config.kind = s.kind;
  config.attempt = s.attempt;
  config.spec_hash = hash_of(t.hashes, s);
  config.pod = t.pod;
  if (!t.pod_logs_dir.empty()) config.log_path = runtime::container_log_path(s.name, s.attempt);
  config.objects = t.objects;
  if (t.prepared_volumes) config.prepared_volumes = *t.prepared_volumes;
  const std::string field_path = container_field_path(s.kind, s.name);
  if (!quiet) record(t, "Normal", "Pulled", field_path, pulled_message(config.spec));
  base::Result<base::ContainerId> id = co_await t.runtime.create_container(sandbox, config);
  if (!t.go_on()) co_return std::nullopt;
  if (!id) {
    if (quiet) co_return std::nullopt;
    // An error about the container's configuration names its field
    // (Runtime::create_container).
    const char* reason = id.error().field.empty() ? "CreateContainerError" : "CreateContainerConfigError";
    t.waiting[s.name] = WaitingReason{reason, id.error().message};
    record(t, "Warning", "Failed", field_path, "Error: " + id.error().message);
    co_return std::nullopt;
  }
  if (quiet) record(t, "Normal", "Pulled", field_path, pulled_message(config.spec));
  record(t, "Normal", "Created", field_path, "Created container " + s.name);
  co_return *id;
}

// Creates a container ahead of its start (PodActions::prepare), counting
// it in `created`. A failure is left to the start, which creates it again
// and reports it; the result is true either way, as nothing waits for this.
runtime::Task<bool> prepare_one(SyncTarget& t, const base::SandboxId& sandbox, const ContainerStart& s,
                                size_t& created) {
  std::optional<base::ContainerId> id = co_await create_one(t, sandbox, s, true);
  if (id) ++created;
  co_return true;
}

// Starts one container (creating it first unless it was prepared), then
// runs its postStart hook. False: later starts must wait (a runtime call
// failed, the sync stopped, or the postStart hook of an init container or
// sidecar failed). An app container whose postStart failed returns true:
// the others go on.
runtime::Task<bool> start_one(SyncTarget& t, const base::SandboxId& sandbox, const ContainerStart& s) {
  std::optional<base::ContainerId> id = s.prepared;
  if (!id) id = co_await create_one(t, sandbox, s, false);
  if (!id) co_return false;
  const std::string field_path = container_field_path(s.kind, s.name);
  base::Status st = co_await t.runtime.start_container(*id);
  if (!t.go_on()) co_return false;
  if (!st) {
    t.waiting[s.name] = WaitingReason{"RunContainerError", st.error().message};
    record(t, "Warning", "Failed", field_path, "Error: " + st.error().message);
    co_return false;
  }
  record(t, "Normal", "Started", field_path, "Started container " + s.name);
  t.waiting.erase(s.name);
  bool hooked = co_await post_start(t, s, *id);
  if (!t.go_on()) co_return false;
  co_return hooked || s.kind == ContainerKind::App;
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
  if (!id) {
    if (t.go_on()) record(t, "Warning", "FailedCreatePodSandBox", "", "Failed to create pod sandbox: " + id.error().message);
    co_return std::nullopt;
  }
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
    if (plan.sandbox_attempt > 0)
      record(t, "Normal", "SandboxChanged", "", "Pod sandbox changed, it will be killed and re-created.");
    sandbox = co_await create_sandbox(t, plan.sandbox_attempt);
    if (!step(sandbox.has_value()) || !sandbox) co_return out;
  }
  if (!sandbox) co_return out;
  // Containers to prepare are created alongside the first start, or alone;
  // alone, only one that was made counts as acting (a failed one is retried
  // by the next sync, not at once).
  size_t created = 0;
  auto prepare = [&](size_t k) { return prepare_one(t, *sandbox, plan.prepare[k], created); };
  if (plan.start.empty() && !plan.prepare.empty()) {
    co_await all_concurrently(t.clock, plan.prepare.size(), prepare);
    out.acted = out.acted || created > 0;
    out.stopped = !t.go_on();
    co_return out;
  }
  // Init containers and sidecars one by one, each after the one before;
  // a run of app containers, which wait for nothing but initialization, all
  // at once.
  for (size_t i = 0; i < plan.start.size();) {
    size_t n = 1;
    if (plan.start[i].kind == ContainerKind::App)
      while (i + n < plan.start.size() && plan.start[i + n].kind == ContainerKind::App) ++n;
    const size_t with = i == 0 ? plan.prepare.size() : 0;
    bool ok = co_await all_concurrently(t.clock, n + with, [&, first = i](size_t k) {
      return k < n ? start_one(t, *sandbox, plan.start[first + k]) : prepare(k - n);
    });
    if (!step(ok) || !ok) co_return out;
    i += n;
  }
  co_return out;
}

void record_image_events(SyncTarget& t, std::span<const ContainerStart> planned, std::span<const ContainerStart> kept) {
  for (const auto& s : planned) {
    if (std::find(kept.begin(), kept.end(), s) != kept.end()) continue;
    auto it = t.waiting.find(s.name);
    if (it == t.waiting.end()) continue;
    const std::string field_path = container_field_path(s.kind, s.name);
    const WaitingReason& w = it->second;
    const std::string& image = container_of(*t.pod, s).image;
    if (w.reason == kErrImageNeverPull) {
      record(t, "Warning", kErrImageNeverPull, field_path, w.message);
    } else if (w.reason == kErrImagePull) {
      record(t, "Warning", "Failed", field_path, "Failed to pull image \"" + image + "\": " + w.message);
    } else if (w.reason == kImagePullBackOff) {
      record(t, "Normal", "BackOff", field_path, w.message);
    }
  }
}

void record_backoff_events(SyncTarget& t, const PodActions& plan) {
  for (const auto& h : plan.held) {
    record(t, "Warning", "BackOff", container_field_path(h.kind, h.name),
           "Back-off restarting failed container " + h.name + " in pod " + pod_label(*t.pod));
  }
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
