// podagent apply -f FILE [-n NS]: creates the file's ConfigMaps, Secrets and
// pods through the API, in that order (a pod may read the others), or
// replaces those that exist: POST, and on 409 AlreadyExists a GET for the
// current metadata.resourceVersion and uid, then a PUT carrying them. Prints
// "configmap/NAME", "secret/NAME" or "pod/NAME", then "created" or
// "replaced", per object. The agent defaults and validates; its refusals are
// printed as kubectl prints them and make the exit status 1, the file's
// other objects being applied all the same. A Secret's values never appear
// in what is printed.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"
#include "agent/config_object_persistence.h"
#include "model/config_object_codec.h"
#include "model/document.h"
#include "model/pod_codec.h"

namespace podagent::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: podagent apply -f FILE [-n NS]\n\n"
    "Creates the ConfigMaps, Secrets and pods of FILE, in that order (YAML or JSON;\n"
    "one object, a List, or '---' documents; '-' reads stdin), replacing those\n"
    "that exist already.\n\n"
    "  -f, --filename FILE    the manifest\n"
    "  -n, --namespace NS     the namespace of objects that name none (default \"default\")\n";

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

// One object to create or replace, whatever its kind.
struct ApplyItem {
  std::string kind_word;  // what kubectl prints before the name: "pod", "configmap", "secret"
  std::string resource;   // the URL's plural: "pods", "configmaps", "secrets"
  std::string namespace_;
  std::string name;  // "" for an object with only metadata.generateName
  model::Node body;  // the object as the API reads it
};

// The scalar at object.metadata.KEY, "" when absent.
std::string metadata_field(const model::Node& object, std::string_view key) {
  const model::Node* meta = object.find("metadata");
  const model::Node* value = meta ? meta->find(key) : nullptr;
  return value && value->is_scalar() ? value->text : "";
}

// Sets object.metadata.KEY to the string `value`, replacing what was there.
void set_metadata_field(model::Node& object, std::string_view key, std::string value) {
  model::Node* meta = nullptr;
  for (auto& [k, v] : object.entries)
    if (k == "metadata") meta = &v;
  if (meta == nullptr) meta = &object.set("metadata", model::Node::map());
  for (auto& [k, v] : meta->entries) {
    if (k != key) continue;
    v = model::Node::string(std::move(value));
    return;
  }
  meta->set(std::string(key), model::Node::string(std::move(value)));
}

// The one object of an API answer's body, or nullopt.
std::optional<model::Node> answer_object(const std::string& body) {
  auto documents = model::parse_documents(body);
  if (!documents || documents->size() != 1 || !documents->front().is_map()) return std::nullopt;
  return std::move(documents->front());
}

// PUT after a 409: the current resourceVersion and uid make it a replace of
// exactly the object that was read.
bool replace(const agent::ApiClient& client, ApplyItem item) {
  const std::string path = objects_path(item.resource, item.namespace_, item.name);
  auto current = call(client, agent::client_request("GET", path));
  if (!current) return false;
  if (current->status != 200) {
    report_api_error(*current);
    return false;
  }
  auto object = answer_object(current->body);
  const std::string version = object ? metadata_field(*object, "resourceVersion") : "";
  if (version.empty()) {
    std::fprintf(stderr, "podagent: cannot read the current %s \"%s\"\n", item.kind_word.c_str(),
                 item.name.c_str());
    return false;
  }
  set_metadata_field(item.body, "resourceVersion", version);
  if (std::string uid = metadata_field(*object, "uid"); !uid.empty())
    set_metadata_field(item.body, "uid", std::move(uid));
  auto put = call(client, agent::client_request("PUT", path, model::to_json(item.body)));
  if (!put) return false;
  if (put->status != 200 && put->status != 201) {
    report_api_error(*put);
    return false;
  }
  std::printf("%s/%s replaced\n", item.kind_word.c_str(), item.name.c_str());
  return true;
}

// POST, or on 409 AlreadyExists the replace above.
bool apply_item(const agent::ApiClient& client, ApplyItem item) {
  auto created =
      call(client, agent::client_request("POST", objects_path(item.resource, item.namespace_),
                                         model::to_json(item.body)));
  if (!created) return false;
  if (created->status == 409 && api_error_reason(*created) == "AlreadyExists" && !item.name.empty())
    return replace(client, std::move(item));
  if (created->status != 200 && created->status != 201) {
    report_api_error(*created);
    return false;
  }
  std::string name = item.name;
  if (auto echoed = answer_object(created->body))
    if (std::string n = metadata_field(*echoed, "name"); !n.empty()) name = n;  // generateName
  std::printf("%s/%s created\n", item.kind_word.c_str(), name.c_str());
  return true;
}

ApplyItem item_of(model::Pod pod) {
  pod.status = {};  // the agent reports status; a file's copy means nothing
  return {"pod", "pods", pod.metadata.namespace_, pod.metadata.name, model::encode_pod(pod)};
}
ApplyItem item_of(const model::ConfigMap& c) {
  return {"configmap", "configmaps", c.metadata.namespace_, c.metadata.name,
          model::encode_config_map(c)};
}
ApplyItem item_of(const model::Secret& s) {
  return {"secret", "secrets", s.metadata.namespace_, s.metadata.name, model::encode_secret(s)};
}

model::Pod& object_of(model::DecodedPod& d) { return d.pod; }
model::ConfigMap& object_of(model::DecodedConfigMap& d) { return d.object; }
model::Secret& object_of(model::DecodedSecret& d) { return d.object; }

// Prints the decoding errors of each of `decoded` (a Secret's redacted
// once more, as the API does); appends the objects to `items`, in the
// namespace `ns` when they name none. Returns whether there was no error.
template <typename Decoded>
bool collect(const std::string& file, const std::string& ns, std::vector<Decoded>& decoded,
             std::vector<ApplyItem>& items) {
  bool ok = true;
  for (Decoded& d : decoded) {
    model::FieldErrors errors = d.errors;
    if constexpr (std::is_same_v<Decoded, model::DecodedSecret>)
      errors = agent::redact_secret_errors(std::move(errors));
    for (const auto& e : errors)
      std::fprintf(stderr, "error: %s: %s%s%s\n", file.c_str(), d.where.c_str(),
                   d.where.empty() ? "" : ": ", e.to_string().c_str());
    ok = ok && errors.empty();
    auto& object = object_of(d);
    if (object.metadata.namespace_.empty()) object.metadata.namespace_ = ns;
    items.push_back(item_of(std::move(object)));
  }
  return ok;
}

// The file's objects, ConfigMaps and Secrets first, or nullopt after
// printing why not.
std::optional<std::vector<ApplyItem>> read_items(const std::string& file, const std::string& ns) {
  auto text = read_input(file);
  if (!text) {
    std::fprintf(stderr, "error: %s\n", text.error().to_string().c_str());
    return std::nullopt;
  }
  model::DecodeResult decoded = model::decode_pods(*text);
  bool ok = decoded.errors.empty();
  for (const auto& e : decoded.errors)
    std::fprintf(stderr, "error: %s: %s\n", file.c_str(), e.to_string().c_str());
  std::vector<ApplyItem> items;
  ok = collect(file, ns, decoded.config_maps, items) && ok;
  ok = collect(file, ns, decoded.secrets, items) && ok;
  ok = collect(file, ns, decoded.pods, items) && ok;
  if (!ok) return std::nullopt;
  if (items.empty()) {
    std::fprintf(stderr, "error: no objects passed to apply\n");
    return std::nullopt;
  }
  return items;
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
  auto items = read_items(parsed->value("--filename"), parsed->value("--namespace", "default"));
  if (!items) return kExitFailure;
  auto client = make_client(*parsed);
  if (!client) return kExitFailure;
  bool all_ok = true;
  for (ApplyItem& item : *items) all_ok = apply_item(*client, std::move(item)) && all_ok;
  return all_ok ? kExitOk : kExitFailure;
}

}  // namespace podagent::cli
