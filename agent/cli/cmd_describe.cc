// podagent describe pod NAME [-n NS]: one pod in detail, as kubectl describe
// shows it (see agent/pod_printer.h).

#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <cstdio>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"
#include "agent/pod_events.h"
#include "agent/pod_printer.h"

namespace podagent::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: podagent describe pod NAME [-n NS]\n\n"
    "Shows one pod: its node, status, IP, conditions, and each container's image,\n"
    "state, last state, readiness and restart count, its probes and lifecycle hooks,\n"
    "and its events.\n\n"
    "  -n, --namespace NS     the namespace (default \"default\")\n";

// '=' and ',' stay as they are (the selector's own syntax); what a name or
// UID cannot hold anyway is escaped.
std::string percent_encode_query(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) ||
        std::string_view("-._~=,").find(static_cast<char>(c)) != std::string_view::npos)
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

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
  const model::Pod& pod = pods->front();
  const auto now = std::chrono::system_clock::now();
  std::string text = agent::describe_pod(pod, now) + agent::describe_probes(pod);
  // As kubectl: the events of this pod (this UID), asked by field selector.
  const std::string selector = "involvedObject.name=" + pod.metadata.name +
                               ",involvedObject.namespace=" + pod.metadata.namespace_ +
                               ",involvedObject.uid=" + pod.metadata.uid;
  auto events = call(
      *client, agent::client_request("GET", "/api/v1/namespaces/" + ns + "/events?fieldSelector=" +
                                                percent_encode_query(selector)));
  if (!events) return kExitFailure;
  if (events->status != 200) return report_api_error(*events);
  auto list = agent::decode_event_list(events->body);
  if (!list) {
    std::fprintf(stderr, "podagent: reading the events: %s\n", list.error().to_string().c_str());
    return kExitFailure;
  }
  text += agent::describe_events(*list, now);
  std::fputs(text.c_str(), stdout);
  return kExitOk;
}

}  // namespace podagent::cli
