// podagent delete pod NAME... [-n NS] [--grace-period N]: asks the agent to
// delete pods, printing `pod "NAME" deleted` for each, as kubectl does. The
// pod is stopped in the background; its grace period is the pod's own unless
// --grace-period is given (0: at once).

#include <cstdio>
#include <cstdlib>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"

namespace podagent::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: podagent delete pod NAME... [-n NS] [--grace-period N]\n\n"
    "Deletes pods that were created through the API (a static pod goes when its\n"
    "manifest file is removed).\n\n"
    "  -n, --namespace NS     the namespace (default \"default\")\n"
    "      --grace-period N   seconds the containers get to stop (default: the pod's)\n";

// A non-negative count of seconds, or nullopt.
std::optional<long long> parse_seconds(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const long long n = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || n < 0) return std::nullopt;
  return n;
}

}  // namespace

int delete_command(std::span<char* const> args) {
  const auto specs = client_flags({{"--namespace", "-n", true}, {"--grace-period", "", true}});
  auto parsed = parse_flags(args, specs);
  if (!parsed) return usage_error("delete", parsed.error().to_string(), kUsage);
  if (parsed->has("--help")) {
    std::fprintf(stdout, "%s\n%s", kUsage.data(), kClientFlagsHelp.data());
    return kExitOk;
  }
  const auto& words = parsed->positional;
  if (words.size() < 2 || (words[0] != "pod" && words[0] != "pods" && words[0] != "po"))
    return usage_error("delete", "want: pod NAME...", kUsage);
  std::string query;
  if (parsed->has("--grace-period")) {
    auto seconds = parse_seconds(parsed->value("--grace-period"));
    if (!seconds) return usage_error("delete", "--grace-period wants seconds (0 or more)", kUsage);
    query = "?gracePeriodSeconds=" + std::to_string(*seconds);
  }
  auto client = make_client(*parsed);
  if (!client) return kExitFailure;
  const std::string ns = parsed->value("--namespace", "default");
  int exit = kExitOk;
  for (size_t i = 1; i < words.size(); ++i) {
    auto response = call(*client, agent::client_request("DELETE", pods_path(ns, words[i]) + query));
    if (!response) return kExitFailure;
    if (response->status != 200 && response->status != 202) {
      exit = report_api_error(*response);
      continue;
    }
    std::printf("pod \"%s\" deleted\n", words[i].c_str());
  }
  return exit;
}

}  // namespace podagent::cli
