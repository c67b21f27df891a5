// The pods' exec subresource (see api_pod_exec.h): the route checks the
// request synchronously, then answers later, once the runtime has run the
// command (ApiResponse::deferred).

#include "agent/api_pod_exec.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>
#include <string_view>

#include "agent/api_routes.h"
#include "model/document.h"
#include "model/node.h"

namespace podagent::agent {

namespace {

namespace asio = boost::asio;

// Every value of `key` in the target's query string, in order: Query keeps
// only the first, and exec repeats `command` once per word.
std::vector<std::string> query_values(std::string_view target, std::string_view key) {
  std::vector<std::string> out;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return out;
  const std::string_view query = target.substr(q + 1);
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view pair = query.substr(start, amp - start);
    start = amp + 1;
    const size_t eq = pair.find('=');
    auto k = percent_decode(pair.substr(0, eq), true);
    if (!k || *k != key) continue;
    auto v = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (v) out.push_back(std::move(*v));
  }
  return out;
}

bool has_container(const std::vector<model::Container>& containers, std::string_view name) {
  for (const auto& c : containers)
    if (c.name == name) return true;
  return false;
}

// The container the request names, or the pod's only one; else the error,
// worded as the Kubernetes API server words it.
base::Result<std::string> pick_container(const model::Pod& pod, const Query& query) {
  const auto& spec = pod.spec;
  if (auto named = query.get("container"); named && !named->empty()) {
    if (has_container(spec.containers, *named) || has_container(spec.init_containers, *named) ||
        has_container(spec.ephemeral_containers, *named))
      return *named;
    return base::Error(
        fmt::format("container {} is not valid for pod {}", *named, pod.metadata.name));
  }
  if (spec.containers.size() == 1) return spec.containers.front().name;
  std::string names;
  for (const auto& c : spec.containers) names += (names.empty() ? "" : " ") + c.name;
  return base::Error(
      fmt::format("a container name must be specified for pod {}, choose one of: [{}]",
                  pod.metadata.name, names));
}

bool is_true(const std::optional<std::string>& v) { return v && (*v == "true" || *v == "1"); }

asio::awaitable<void> run_exec(runtime::Runtime& runtime, ExecCall call,
                               std::function<void(ExecOutcome)> done) {
  auto listed = co_await runtime.list_pod(call.pod_uid);
  if (!listed) {
    done({internal_error("cannot list the pod's containers: " + listed.error().message), {}});
    co_return;
  }
  // The latest running container of that name (an older attempt has exited).
  const runtime::ContainerStatus* found = nullptr;
  for (const auto& c : listed->containers)
    if (c.name == call.container && c.state == runtime::ContainerState::Running) found = &c;
  if (!found) {
    done({bad_request(
              fmt::format("container {} is not running in pod {}", call.container, call.pod_name)),
          {}});
    co_return;
  }
  const runtime::ContainerId id = found->id;
  auto result = co_await runtime.exec(id, std::move(call.command), call.timeout);
  if (!result) {
    done({internal_error("exec in container " + call.container + ": " + result.error().message),
          {}});
    co_return;
  }
  done({std::nullopt, std::move(*result)});
}

class RuntimePodExec final : public PodExec {
 public:
  RuntimePodExec(runtime::Runtime& runtime, asio::any_io_executor executor)
      : runtime_(runtime), executor_(std::move(executor)) {}

  // co_spawn starts the coroutine through the executor, never inline.
  void run(ExecCall call, std::function<void(ExecOutcome)> done) override {
    asio::co_spawn(executor_, run_exec(runtime_, std::move(call), std::move(done)), asio::detached);
  }

 private:
  runtime::Runtime& runtime_;
  asio::any_io_executor executor_;
};

}  // namespace

std::shared_ptr<PodExec> make_runtime_pod_exec(runtime::Runtime& runtime,
                                               asio::any_io_executor executor) {
  return std::make_shared<RuntimePodExec>(runtime, std::move(executor));
}

std::string exec_result_json(const runtime::ExecResult& result) {
  model::Node n = model::Node::map();
  n.set("kind", model::Node::string("ExecResult"));
  n.set("exitCode", model::Node::integer(result.exit_code));
  n.set("stdout", model::Node::string(result.stdout_text));
  n.set("stderr", model::Node::string(result.stderr_text));
  n.set("timedOut", model::Node::boolean(result.timed_out));
  return model::to_json(n);
}

ApiResponse ApiRoutes::exec_pod(const ApiRequest& request, const Target& target) {
  const std::string& method = request.method;
  if (!request.upgrade.empty() && (method == "GET" || method == "POST")) {
    return error_response(bad_request(fmt::format(
        "interactive exec (Upgrade: {}, as kubectl exec asks) is not supported by podagent: "
        "run `podagent exec {} [-c CONTAINER] -- COMMAND...` on the node, or POST without an "
        "Upgrade header for a non-interactive exec",
        request.upgrade, target.name)));
  }
  if (method != "POST") return error_response(method_not_allowed(method));
  if (request.read_only)
    return error_response(forbidden("pods", target.name, "the caller may only read"));
  PodPtr pod = store_.get(target.namespace_, target.name);
  if (!pod) return error_response(not_found("pods", target.name));
  if (is_true(target.query.get("stdin")) || is_true(target.query.get("tty")))
    return error_response(
        bad_request("stdin and tty need an interactive exec, which podagent does not support: "
                    "use `podagent exec` on the node"));

  ExecCall call;
  call.pod_uid = base::PodUid(pod->metadata.uid);
  call.pod_name = pod->metadata.name;
  auto container = pick_container(*pod, target.query);
  if (!container) return error_response(bad_request(container.error().message));
  call.container = std::move(*container);
  call.command = query_values(request.target, "command");
  if (call.command.empty())
    return error_response(bad_request("you must specify at least 1 command"));
  call.timeout = kDefaultExecTimeout;
  if (auto t = target.query.get("timeoutSeconds")) {
    int64_t s = 0;
    auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), s);
    if (ec != std::errc() || ptr != t->data() + t->size() || s <= 0)
      return error_response(bad_request(fmt::format("invalid timeoutSeconds \"{}\"", *t)));
    call.timeout = std::chrono::seconds(std::min<int64_t>(s, 24 * 3600));  // no overflow
  }
  if (!options_.exec)
    return error_response(service_unavailable("exec needs a container runtime, and none runs"));

  ApiResponse r;
  r.deferred = [exec = options_.exec,
                call = std::move(call)](std::function<void(ApiResponse)> answer) mutable {
    exec->run(std::move(call), [answer = std::move(answer)](ExecOutcome outcome) {
      if (outcome.error) return answer(error_response(*outcome.error));
      ApiResponse done;
      done.body = exec_result_json(outcome.result);
      answer(std::move(done));
    });
  };
  return r;
}

}  // namespace podagent::agent
