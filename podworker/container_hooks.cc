#include "podworker/container_hooks.h"

#include <algorithm>

namespace podagent::podworker {
namespace {

using std::chrono::milliseconds;

// An httpGet postStart hook has no deadline (see run_hook); the Prober wants
// one. A day stands for none: a delete ends the wait anyway (run_post_start).
constexpr milliseconds kNoDeadlineHttp = std::chrono::hours(24);

// What is left until `deadline`; nullopt when it has passed.
std::optional<milliseconds> left_until(const base::Clock& clock, base::SteadyTime deadline) {
  auto left = std::chrono::ceil<milliseconds>(deadline - clock.now());
  if (left <= milliseconds::zero()) return std::nullopt;
  return left;
}

std::string joined(const std::vector<std::string>& words, std::string_view sep) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += sep;
    out += w;
  }
  return out;
}

std::string container_in_pod(const HookContext& ctx) {
  return "for Container \"" + ctx.container_name + "\" in Pod \"" + pod_label(*ctx.pod) + "\"";
}

HookResult failed(std::string message, bool timed_out = false) {
  return {false, std::move(message), timed_out};
}

runtime::Task<HookResult> run_exec(const HookContext& ctx, const model::ExecAction& exec,
                                   std::optional<base::SteadyTime> deadline) {
  const std::string what =
      "Exec lifecycle hook ([" + joined(exec.command, " ") + "]) " + container_in_pod(ctx);
  const std::string command = joined(exec.command, " ");
  milliseconds timeout{0};  // none
  if (deadline) {
    auto left = left_until(*ctx.clock, *deadline);
    if (!left)
      co_return failed(what + " failed - error: command '" + command + "' timed out", true);
    timeout = *left;
  }
  std::vector<std::string> argv = exec.command;
  base::Result<runtime::ExecResult> r =
      co_await ctx.runtime->exec(ctx.container_id, std::move(argv), timeout);
  if (!r) co_return failed(what + " failed - error: " + r.error().message + ", message: \"\"");
  const std::string output = r->stdout_text + r->stderr_text;
  if (r->timed_out)
    co_return failed(what + " failed - error: command '" + command + "' timed out", true);
  if (r->exit_code != 0) {
    co_return failed(what + " failed - error: command '" + command + "' exited with " +
                     std::to_string(r->exit_code) + ": " + r->stderr_text + ", message: \"" +
                     output + "\"");
  }
  co_return HookResult{};
}

// The container's sandbox and the pod's first IP, from a listing of the pod.
runtime::Task<base::Result<probes::ProbeTarget>> probe_target(const HookContext& ctx) {
  base::Result<runtime::PodRuntimeState> listed =
      co_await ctx.runtime->list_pod(base::PodUid(ctx.pod->metadata.uid));
  if (!listed) co_return listed.error();
  probes::ProbeTarget target;
  target.pod_uid = base::PodUid(ctx.pod->metadata.uid);
  target.container_id = ctx.container_id;
  for (const auto& c : listed->containers)
    if (c.id == ctx.container_id) target.sandbox_id = c.sandbox_id;
  if (target.sandbox_id.empty())
    co_return base::Error("container " + ctx.container_id.str() + " not found");
  for (const auto& s : listed->sandboxes)
    if (s.id == target.sandbox_id && !s.ips.empty()) target.pod_ip = s.ips.front();
  co_return target;
}

const model::Container* find_container(const model::Pod& pod, std::string_view name) {
  for (const auto* list :
       {&pod.spec.init_containers, &pod.spec.containers, &pod.spec.ephemeral_containers})
    for (const auto& c : *list)
      if (c.name == name) return &c;
  return nullptr;
}

runtime::Task<HookResult> run_http(const HookContext& ctx, const model::Handler& handler,
                                   std::optional<base::SteadyTime> deadline) {
  const std::string what =
      "HTTP lifecycle hook (" + handler.http_get->path + ") " + container_in_pod(ctx);
  if (!ctx.prober)
    co_return failed(what + " failed - error: no prober for httpGet hooks in this agent");
  milliseconds timeout = kNoDeadlineHttp;
  if (deadline) {
    auto left = left_until(*ctx.clock, *deadline);
    if (!left) co_return failed(what + " failed - error: timed out", true);
    timeout = *left;
  }
  base::Result<probes::ProbeTarget> target = co_await probe_target(ctx);
  if (!target) co_return failed(what + " failed - error: " + target.error().message);
  target->container = find_container(*ctx.pod, ctx.container_name);
  probes::ProbeOutcome outcome = co_await ctx.prober->probe(*target, handler, timeout);
  if (outcome.result == probes::ProbeResult::Success) co_return HookResult{};
  const bool timed_out = deadline && ctx.clock->now() >= *deadline;
  co_return failed(what + " failed - error: " + outcome.message, timed_out);
}

}  // namespace

std::string pod_label(const model::Pod& pod) {
  return pod.metadata.name + "_" + pod.metadata.namespace_ + "(" + pod.metadata.uid + ")";
}

std::string container_field_path(runtime::ContainerKind kind, std::string_view name) {
  std::string_view list = "spec.containers";
  if (kind == runtime::ContainerKind::Init || kind == runtime::ContainerKind::Sidecar)
    list = "spec.initContainers";
  if (kind == runtime::ContainerKind::Ephemeral) list = "spec.ephemeralContainers";
  return std::string(list) + "{" + std::string(name) + "}";
}

runtime::Task<HookResult> run_hook(HookContext ctx, model::Handler handler,
                                   std::optional<base::SteadyTime> deadline) {
  if (handler.exec) co_return co_await run_exec(ctx, *handler.exec, deadline);
  if (handler.http_get) co_return co_await run_http(ctx, handler, deadline);
  if (handler.sleep) {
    const base::SteadyTime end =
        ctx.clock->now() + std::chrono::seconds(std::max<int64_t>(0, handler.sleep->seconds));
    const bool cut = deadline && *deadline < end;
    co_await ctx.clock->sleep_until(cut ? *deadline : end);
    if (cut) {
      co_return failed("Sleep lifecycle hook (" + std::to_string(handler.sleep->seconds) + ") " +
                           container_in_pod(ctx) + " failed - error: the grace period ended first",
                       true);
    }
    co_return HookResult{};
  }
  // tcpSocket, or nothing: the kubelet's handler runner refuses both.
  co_return failed(
      std::string("Cannot run handler: invalid handler: ") +
      (handler.tcp_socket ? "tcpSocket is not supported as a lifecycle hook" : "no action set"));
}

}  // namespace podagent::podworker
