// podagent get pods [NAME...] [-n NS | -A] [-o wide|json|yaml]: the agent's
// pods as kubectl shows them: a NAME READY STATUS RESTARTS AGE table
// (formatted here from the PodList), or the objects as JSON or YAML. A name
// that is not found prints the server's Status as kubectl does and makes
// the exit status 1; the pods that were found are printed all the same.

#include <chrono>
#include <cstdio>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"
#include "agent/pod_printer.h"

namespace podagent::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: podagent get pods [NAME...] [-n NS | -A] [-o wide|json|yaml]\n\n"
    "Lists the agent's pods (all of a namespace, or the named ones).\n\n"
    "  -n, --namespace NS     the namespace (default \"default\")\n"
    "  -A, --all-namespaces   every namespace\n"
    "  -o, --output FORMAT    wide (adds IP and NODE), json or yaml\n";

bool is_pods_resource(std::string_view word) {
  return word == "pods" || word == "pod" || word == "po";
}

struct GetPlan {
  std::string ns;
  bool all_namespaces = false;
  std::string output;
  std::vector<std::string> names;
};

// Fetches the named pods one by one; prints the failures as they come.
bool fetch_named(const agent::ApiClient& client, const GetPlan& plan,
                 std::vector<model::Pod>& pods) {
  bool all_ok = true;
  for (const std::string& name : plan.names) {
    auto response = call(client, agent::client_request("GET", pods_path(plan.ns, name)));
    if (!response) return false;
    if (response->status != 200) {
      report_api_error(*response);
      all_ok = false;
      continue;
    }
    auto decoded = decode_api_pods(response->body);
    if (!decoded) {
      std::fprintf(stderr, "podagent: %s\n", decoded.error().to_string().c_str());
      return false;
    }
    for (auto& pod : *decoded) pods.push_back(std::move(pod));
  }
  return all_ok;
}

bool fetch_list(const agent::ApiClient& client, const GetPlan& plan,
                std::vector<model::Pod>& pods) {
  auto response =
      call(client,
           agent::client_request("GET", plan.all_namespaces ? "/api/v1/pods" : pods_path(plan.ns)));
  if (!response) return false;
  if (response->status != 200) {
    report_api_error(*response);
    return false;
  }
  auto decoded = decode_api_pods(response->body);
  if (!decoded) {
    std::fprintf(stderr, "podagent: %s\n", decoded.error().to_string().c_str());
    return false;
  }
  pods = std::move(*decoded);
  return true;
}

void print(const std::vector<model::Pod>& pods, const GetPlan& plan) {
  if (plan.output == "json" || plan.output == "yaml") {
    if (!plan.names.empty() && pods.empty()) return;
    std::fputs(agent::format_pods_as(pods, plan.names.size() == 1, plan.output).c_str(), stdout);
    return;
  }
  if (pods.empty()) {
    if (plan.names.empty())
      std::fprintf(
          stderr,
          plan.all_namespaces ? "No resources found\n" : "No resources found in %s namespace.\n",
          plan.ns.c_str());
    return;
  }
  const agent::TableOptions options{.wide = plan.output == "wide",
                                    .with_namespace = plan.all_namespaces};
  std::fputs(agent::format_pod_table(pods, options, std::chrono::system_clock::now()).c_str(),
             stdout);
}

}  // namespace

int get_command(std::span<char* const> args) {
  const auto specs = client_flags(
      {{"--namespace", "-n", true}, {"--all-namespaces", "-A", false}, {"--output", "-o", true}});
  auto parsed = parse_flags(args, specs);
  if (!parsed) return usage_error("get", parsed.error().to_string(), kUsage);
  if (parsed->has("--help")) {
    std::fprintf(stdout, "%s\n%s", kUsage.data(), kClientFlagsHelp.data());
    return kExitOk;
  }
  GetPlan plan{.ns = parsed->value("--namespace", "default"),
               .all_namespaces = parsed->has("--all-namespaces"),
               .output = parsed->value("--output"),
               .names = {}};
  const auto& words = parsed->positional;
  if (words.empty() || !is_pods_resource(words.front()))
    return usage_error("get",
                       words.empty() ? "name the resource: pods"
                                     : "only pods can be listed, not \"" + words.front() + "\"",
                       kUsage);
  plan.names.assign(words.begin() + 1, words.end());
  if (!plan.output.empty() && plan.output != "wide" && plan.output != "json" &&
      plan.output != "yaml")
    return usage_error("get", "-o wants wide, json or yaml, not \"" + plan.output + "\"", kUsage);
  if (plan.all_namespaces && (parsed->has("--namespace") || !plan.names.empty()))
    return usage_error("get", "-A takes neither -n nor pod names", kUsage);

  auto client = make_client(*parsed);
  if (!client) return kExitFailure;
  std::vector<model::Pod> pods;
  const bool ok =
      plan.names.empty() ? fetch_list(*client, plan, pods) : fetch_named(*client, plan, pods);
  if (!ok && plan.names.empty()) return kExitFailure;
  print(pods, plan);
  return ok ? kExitOk : kExitFailure;
}

}  // namespace podagent::cli
