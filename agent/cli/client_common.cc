#include "agent/cli/client_common.h"

#include <cstdio>

#include "agent/cli/commands.h"
#include "model/pod_codec.h"

namespace podagent::cli {

std::vector<FlagSpec> client_flags(std::vector<FlagSpec> own) {
  own.push_back({"--socket", "", true});
  own.push_back({"--config", "", true});
  own.push_back({"--help", "-h", false});
  return own;
}

const std::string_view kClientFlagsHelp =
    "      --socket PATH    the agent's API socket (default: api.socket of the configuration)\n"
    "      --config FILE    the configuration file to read api.socket from\n"
    "                       (default /etc/podagent/config.yaml, else the embedded defaults)\n";

std::optional<agent::ApiClient> make_client(const ParsedArgs& args) {
  agent::ApiClientOptions options;
  if (args.has("--socket")) {
    options.socket_path = args.value("--socket");
  } else {
    // Only --config reaches the loader: the client's own flags are not config fields.
    ParsedArgs config_args;
    if (args.has("--config")) config_args.flags.emplace_back("--config", args.value("--config"));
    auto loaded = load_config_or_report(config_args);
    if (!loaded) return std::nullopt;
    options.socket_path = loaded->config->api.socket;
  }
  return agent::ApiClient(std::move(options));
}

std::string pods_path(std::string_view ns, std::string_view name) {
  return objects_path("pods", ns, name);
}

std::string objects_path(std::string_view resource, std::string_view ns, std::string_view name) {
  std::string path = "/api/v1/namespaces/" + agent::url_escape(ns) + "/" + std::string(resource);
  if (!name.empty()) path += "/" + agent::url_escape(name);
  return path;
}

std::optional<agent::ClientResponse> call(const agent::ApiClient& client,
                                          const agent::ClientRequest& request) {
  auto response = client.send(request);
  if (!response) {
    std::fprintf(stderr, "podagent: %s\n", response.error().to_string().c_str());
    return std::nullopt;
  }
  return std::move(*response);
}

int report_api_error(const agent::ClientResponse& response) {
  std::fprintf(stderr, "%s\n", agent::api_error_text(response).c_str());
  return kExitFailure;
}

base::Result<std::vector<model::Pod>> decode_api_pods(const std::string& body) {
  model::DecodeResult decoded = model::decode_pods(body);
  if (!decoded.errors.empty())
    return base::Error("cannot read the agent's answer: " + decoded.errors.front().to_string());
  std::vector<model::Pod> pods;
  for (model::DecodedPod& d : decoded.pods) {
    if (!d.errors.empty())
      return base::Error("cannot read the agent's answer: " + d.errors.front().to_string());
    pods.push_back(std::move(d.pod));
  }
  return pods;
}

int usage_error(std::string_view command, const std::string& problem, std::string_view usage) {
  std::fprintf(stderr, "podagent %.*s: %s\n\n%.*s", static_cast<int>(command.size()),
               command.data(), problem.c_str(), static_cast<int>(usage.size()), usage.data());
  return kExitUsage;
}

}  // namespace podagent::cli
