// podagent logs POD [-c C] [-f] [-n NS]: a container's log, from the API's
// log route. The answer is printed as it is; an error answer (the route is
// a 501 stub until logs land in the API) prints the server's Status message
// and exits 1.
//
// -f asks the server to follow; this client reads the answer to its end
// within the client's timeout, so a follow stream that never ends is cut
// off then (streaming output is left for when the route exists).

#include <cstdio>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"

namespace podagent::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: podagent logs POD [-c CONTAINER] [-f] [-n NS]\n\n"
    "Prints a container's log.\n\n"
    "  -n, --namespace NS      the namespace (default \"default\")\n"
    "  -c, --container NAME    the container (default: the pod's only one)\n"
    "  -f, --follow            keep printing as the log grows\n";

}  // namespace

int logs_command(std::span<char* const> args) {
  const auto specs = client_flags(
      {{"--namespace", "-n", true}, {"--container", "-c", true}, {"--follow", "-f", false}});
  auto parsed = parse_flags(args, specs);
  if (!parsed) return usage_error("logs", parsed.error().to_string(), kUsage);
  if (parsed->has("--help")) {
    std::fprintf(stdout, "%s\n%s", kUsage.data(), kClientFlagsHelp.data());
    return kExitOk;
  }
  if (parsed->positional.size() != 1) return usage_error("logs", "want: POD", kUsage);
  std::string query;
  if (parsed->has("--container"))
    query += "&container=" + agent::url_escape(parsed->value("--container"));
  if (parsed->has("--follow")) query += "&follow=true";
  if (!query.empty()) query[0] = '?';
  auto client = make_client(*parsed);
  if (!client) return kExitFailure;
  const std::string ns = parsed->value("--namespace", "default");
  agent::ClientRequest request =
      agent::client_request("GET", pods_path(ns, parsed->positional[0]) + "/log" + query);
  request.accept = "text/plain, application/json";
  auto response = call(*client, request);
  if (!response) return kExitFailure;
  if (response->status != 200) return report_api_error(*response);
  std::fwrite(response->body.data(), 1, response->body.size(), stdout);
  return kExitOk;
}

}  // namespace podagent::cli
