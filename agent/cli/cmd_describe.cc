// podagent describe pod NAME [-n NS]: one pod in detail, as kubectl describe
// shows it (see agent/pod_printer.h).

#include <chrono>
#include <cstdio>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"
#include "agent/pod_printer.h"

namespace podagent::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: podagent describe pod NAME [-n NS]\n\n"
    "Shows one pod: its node, status, IP, conditions, and each container's image,\n"
    "state, last state, readiness and restart count.\n\n"
    "  -n, --namespace NS     the namespace (default \"default\")\n";

}  // namespace

int describe_command(std::span<char* const> args) {
  const auto specs = client_flags({{"--namespace", "-n", true}});
  auto parsed = parse_flags(args, specs);
  if (!parsed) return usage_error("describe", parsed.error().to_string(), kUsage);
  if (parsed->has("--help")) {
    std::fprintf(stdout, "%s\n%s", kUsage.data(), kClientFlagsHelp.data());
    return kExitOk;
  }
  const auto& words = parsed->positional;
  if (words.size() != 2 || (words[0] != "pod" && words[0] != "pods" && words[0] != "po"))
    return usage_error("describe", "want: pod NAME", kUsage);
  auto client = make_client(*parsed);
  if (!client) return kExitFailure;
  const std::string ns = parsed->value("--namespace", "default");
  auto response = call(*client, agent::client_request("GET", pods_path(ns, words[1])));
  if (!response) return kExitFailure;
  if (response->status != 200) return report_api_error(*response);
  auto pods = decode_api_pods(response->body);
  if (!pods || pods->size() != 1) {
    std::fprintf(stderr, "podagent: %s\n",
                 pods ? "the agent did not answer with one pod" : pods.error().to_string().c_str());
    return kExitFailure;
  }
  std::fputs(agent::describe_pod(pods->front(), std::chrono::system_clock::now()).c_str(), stdout);
  return kExitOk;
}

}  // namespace podagent::cli
