// podagent logs POD [-c C] [-f] [-p] [--tail N] [--timestamps] [-n NS]: a
// container's log, from the API's log route. The answer is printed as it
// is; with -f, as it arrives, until the agent ends the stream (the pod was
// deleted, or the container finished for good) or the command is
// interrupted. An error answer prints the server's Status message and exits 1.

#include <cstdio>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"

namespace podagent::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: podagent logs POD [-c CONTAINER] [-f] [-p] [--tail N] [--timestamps] [-n NS]\n\n"
    "Prints a container's log.\n\n"
    "  -n, --namespace NS      the namespace (default \"default\")\n"
    "  -c, --container NAME    the container (default: the pod's only one)\n"
    "  -f, --follow            keep printing as the log grows, across restarts\n"
    "  -p, --previous          the log of the container's previous run\n"
    "      --tail N            only the last N lines\n"
    "      --timestamps        each line with its time (RFC 3339)\n";

// The log route's query from the flags; nullopt when --tail is no number.
std::optional<std::string> log_query(const ParsedArgs& args) {
  std::string query;
  if (args.has("--container"))
    query += "&container=" + agent::url_escape(args.value("--container"));
  if (args.has("--follow")) query += "&follow=true";
  if (args.has("--previous")) query += "&previous=true";
  if (args.has("--timestamps")) query += "&timestamps=true";
  if (args.has("--tail")) {
    const std::string tail = args.value("--tail");
    if (tail.empty() || tail.find_first_not_of("-0123456789") != std::string::npos)
      return std::nullopt;
    // kubectl's --tail=-1 means every line: the parameter is left out.
    if (tail != "-1") query += "&tailLines=" + tail;
  }
  if (!query.empty()) query[0] = '?';
  return query;
}

}  // namespace

int logs_command(std::span<char* const> args) {
  const auto specs = client_flags({{"--namespace", "-n", true},
                                   {"--container", "-c", true},
                                   {"--follow", "-f", false},
                                   {"--previous", "-p", false},
                                   {"--tail", "", true},
                                   {"--timestamps", "", false}});
  auto parsed = parse_flags(args, specs);
  if (!parsed) return usage_error("logs", parsed.error().to_string(), kUsage);
  if (parsed->has("--help")) {
    std::fprintf(stdout, "%s\n%s", kUsage.data(), kClientFlagsHelp.data());
    return kExitOk;
  }
  if (parsed->positional.size() != 1) return usage_error("logs", "want: POD", kUsage);
  const auto query = log_query(*parsed);
  if (!query) return usage_error("logs", "--tail wants a number of lines", kUsage);
  auto client = make_client(*parsed);
  if (!client) return kExitFailure;
  const std::string ns = parsed->value("--namespace", "default");
  agent::ClientRequest request =
      agent::client_request("GET", pods_path(ns, parsed->positional[0]) + "/log" + *query);
  request.accept = "text/plain, application/json";
  auto response = client->send_streaming(request, [](std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  });
  if (!response) {
    std::fprintf(stderr, "podagent: %s\n", response.error().to_string().c_str());
    return kExitFailure;
  }
  if (response->status != 200) return report_api_error(*response);
  std::fwrite(response->body.data(), 1, response->body.size(), stdout);
  return kExitOk;
}

}  // namespace podagent::cli
