// podagent apply -f FILE [-n NS]: creates the file's pods through the API,
// or replaces those that exist: POST, and on 409 AlreadyExists a GET for the
// current metadata.resourceVersion and uid, then a PUT carrying them. Prints
// "pod/NAME created" or "pod/NAME replaced" per pod. The agent validates;
// its refusals are printed as kubectl prints them and make the exit status 1,
// the file's other pods being applied all the same.

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"
#include "model/document.h"
#include "model/pod_codec.h"

namespace podagent::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: podagent apply -f FILE [-n NS]\n\n"
    "Creates the pods of FILE (YAML or JSON; a Pod, a List, or '---' documents;\n"
    "'-' reads stdin), replacing those that exist already.\n\n"
    "  -f, --filename FILE    the manifest\n"
    "  -n, --namespace NS     the namespace of pods that name none (default \"default\")\n";

base::Result<std::string> read_input(const std::string& path) {
  std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) return base::Error(path + ": " + std::strerror(errno));
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  const int error = std::ferror(file) != 0 ? errno : 0;
  if (file != stdin) std::fclose(file);
  if (error != 0) return base::Error(path + ": " + std::strerror(error));
  return text;
}

std::string body_of(const model::Pod& pod) { return model::to_json(model::encode_pod(pod)); }

// PUT after a 409: the current resourceVersion and uid make it a replace of
// exactly the pod that was read.
bool replace(const agent::ApiClient& client, model::Pod pod) {
  const std::string path = pods_path(pod.metadata.namespace_, pod.metadata.name);
  auto current = call(client, agent::client_request("GET", path));
  if (!current) return false;
  if (current->status != 200) {
    report_api_error(*current);
    return false;
  }
  auto pods = decode_api_pods(current->body);
  if (!pods || pods->size() != 1) {
    std::fprintf(stderr, "podagent: cannot read the current pod \"%s\"\n",
                 pod.metadata.name.c_str());
    return false;
  }
  pod.metadata.resource_version = pods->front().metadata.resource_version;
  pod.metadata.uid = pods->front().metadata.uid;
  auto put = call(client, agent::client_request("PUT", path, body_of(pod)));
  if (!put) return false;
  if (put->status != 200 && put->status != 201) {
    report_api_error(*put);
    return false;
  }
  std::printf("pod/%s replaced\n", pod.metadata.name.c_str());
  return true;
}

bool apply_one(const agent::ApiClient& client, model::Pod pod) {
  pod.status = {};  // the agent reports status; a file's copy means nothing
  auto created =
      call(client, agent::client_request("POST", pods_path(pod.metadata.namespace_), body_of(pod)));
  if (!created) return false;
  if (created->status == 409 && api_error_reason(*created) == "AlreadyExists" &&
      !pod.metadata.name.empty())
    return replace(client, std::move(pod));
  if (created->status != 200 && created->status != 201) {
    report_api_error(*created);
    return false;
  }
  std::string name = pod.metadata.name;
  if (auto echoed = decode_api_pods(created->body); echoed && echoed->size() == 1)
    name = echoed->front().metadata.name;  // generateName
  std::printf("pod/%s created\n", name.c_str());
  return true;
}

// The file's pods, or nullopt after printing why not.
std::optional<std::vector<model::Pod>> read_pods(const std::string& file, const std::string& ns) {
  auto text = read_input(file);
  if (!text) {
    std::fprintf(stderr, "error: %s\n", text.error().to_string().c_str());
    return std::nullopt;
  }
  model::DecodeResult decoded = model::decode_pods(*text);
  bool ok = decoded.errors.empty();
  for (const auto& e : decoded.errors)
    std::fprintf(stderr, "error: %s: %s\n", file.c_str(), e.to_string().c_str());
  std::vector<model::Pod> pods;
  for (auto& d : decoded.pods) {
    for (const auto& e : d.errors)
      std::fprintf(stderr, "error: %s: %s%s%s\n", file.c_str(), d.where.c_str(),
                   d.where.empty() ? "" : ": ", e.to_string().c_str());
    ok = ok && d.errors.empty();
    if (d.pod.metadata.namespace_.empty()) d.pod.metadata.namespace_ = ns;
    pods.push_back(std::move(d.pod));
  }
  if (!ok) return std::nullopt;
  if (pods.empty()) {
    std::fprintf(stderr, "error: no objects passed to apply\n");
    return std::nullopt;
  }
  return pods;
}

}  // namespace

int apply_command(std::span<char* const> args) {
  const auto specs = client_flags({{"--filename", "-f", true}, {"--namespace", "-n", true}});
  auto parsed = parse_flags(args, specs);
  if (!parsed) return usage_error("apply", parsed.error().to_string(), kUsage);
  if (parsed->has("--help")) {
    std::fprintf(stdout, "%s\n%s", kUsage.data(), kClientFlagsHelp.data());
    return kExitOk;
  }
  if (!parsed->has("--filename")) return usage_error("apply", "-f FILE is required", kUsage);
  if (!parsed->positional.empty()) return usage_error("apply", "takes no arguments", kUsage);
  auto pods = read_pods(parsed->value("--filename"), parsed->value("--namespace", "default"));
  if (!pods) return kExitFailure;
  auto client = make_client(*parsed);
  if (!client) return kExitFailure;
  bool all_ok = true;
  for (model::Pod& pod : *pods) all_ok = apply_one(*client, std::move(pod)) && all_ok;
  return all_ok ? kExitOk : kExitFailure;
}

}  // namespace podagent::cli
