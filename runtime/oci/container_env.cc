// The container's process arguments and environment, by the kubelet's rules
// (makeEnvironmentVariables, expandContainerCommandAndArgs) and containerd's
// (image env first, container env over it, HOSTNAME and a default PATH).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/config_object.h"
#include "model/resource_fields.h"
#include "runtime/oci/oci_spec.h"

namespace podagent::runtime::oci {

namespace {

constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// "spec.containers[2]" (or initContainers, ephemeralContainers) for error
// paths; the container is found by address, else by name.
std::string container_path(const model::Pod& pod, const model::Container& c) {
  auto find = [&](const std::vector<model::Container>& list,
                  std::string_view field) -> std::string {
    for (size_t i = 0; i < list.size(); ++i)
      if (&list[i] == &c || list[i].name == c.name)
        return "spec." + std::string(field) + "[" + std::to_string(i) + "]";
    return {};
  };
  for (auto [list, field] : {std::pair{&pod.spec.init_containers, "initContainers"},
                             std::pair{&pod.spec.containers, "containers"},
                             std::pair{&pod.spec.ephemeral_containers, "ephemeralContainers"}}) {
    if (std::string p = find(*list, field); !p.empty()) return p;
  }
  return "spec.containers[?]";
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

// The kubelet's podFieldSelectorRuntimeValue.
base::Result<std::string> field_ref_value(const ContainerSpecInput& in,
                                          const model::ObjectFieldSelector& ref,
                                          const std::string& at) {
  const model::Pod& pod = *in.pod;
  if (!ref.api_version.empty() && ref.api_version != "v1")
    return base::Error("unsupported apiVersion \"" + ref.api_version + "\"", at + ".apiVersion");
  const std::string& p = ref.field_path;
  if (p == "metadata.name") return pod.metadata.name;
  if (p == "metadata.namespace") return pod.metadata.namespace_;
  if (p == "metadata.uid") return pod.metadata.uid;
  if (p == "spec.nodeName")
    return pod.spec.node_name.empty() ? in.node.node_name : pod.spec.node_name;
  if (p == "spec.serviceAccountName") return pod.spec.service_account_name;
  if (p == "status.hostIP" || p == "status.hostIPs") return in.node.host_ip;
  if (p == "status.podIP") return in.pod_ips.empty() ? std::string() : in.pod_ips.front();
  if (p == "status.podIPs") return join(in.pod_ips, ",");
  for (auto [prefix, map] : {std::pair{"metadata.labels", &pod.metadata.labels},
                             std::pair{"metadata.annotations", &pod.metadata.annotations}}) {
    if (auto key = model::field_path_subscript(p, prefix)) {
      auto it = map->find(*key);
      return it == map->end() ? std::string() : it->second;
    }
  }
  return base::Error("unsupported fieldPath \"" + p + "\"", at + ".fieldPath");
}

// The kubelet's ExtractContainerResourceValue, with limits not set taken
// from the node's allocatable (model/resource_fields.h).
base::Result<std::string> resource_ref_value(const ContainerSpecInput& in,
                                             const model::ResourceFieldSelector& ref,
                                             const std::string& at) {
  model::NodeAllocatable node{
      .cpu_millis = in.node.allocatable_cpu_millis,
      .memory_bytes = in.node.allocatable_memory_bytes,
      .ephemeral_storage_bytes = in.node.allocatable_ephemeral_storage_bytes};
  auto value = model::resource_field_value(*in.pod, in.container, ref, node);
  if (!value) return base::Error(value.error().message, at + "." + value.error().field);
  return value;
}

// Adds or replaces NAME=value, keeping the position of NAME's first entry.
void put_env(std::vector<std::string>& env, std::string_view entry) {
  std::string_view name = entry.substr(0, entry.find('='));
  for (auto& e : env) {
    if (std::string_view(e).substr(0, e.find('=')) == name) {
      e = std::string(entry);
      return;
    }
  }
  env.emplace_back(entry);
}

// The container's variables as they are defined, in order, and by name
// for $(VAR) expansion.
struct EnvList {
  std::map<std::string, std::string> defined;
  std::vector<std::string> out;
  void set(const std::string& name, const std::string& value) {
    defined[name] = value;
    put_env(out, name + "=" + value);
  }
};

const model::ConfigMap* find_config_map(const ContainerSpecInput& in, const std::string& name) {
  return in.objects ? in.objects->config_map(in.pod->metadata.namespace_, name) : nullptr;
}
const model::Secret* find_secret(const ContainerSpecInput& in, const std::string& name) {
  return in.objects ? in.objects->secret(in.pod->metadata.namespace_, name) : nullptr;
}

// envFrom: every key of the ConfigMap's data (not binaryData, as in the
// kubelet) or of the Secret, after the prefix. A missing object is an error
// unless optional.
base::Status add_env_from(const ContainerSpecInput& in, const model::EnvFromSource& source,
                          const std::string& at, EnvList& env) {
  const std::map<std::string, std::string>* data = nullptr;
  const model::KeySelector* ref = nullptr;
  std::string missing;
  if (source.config_map_ref) {
    ref = &*source.config_map_ref;
    if (const auto* cm = find_config_map(in, ref->name)) data = &cm->data;
    missing = "configmap \"" + ref->name + "\" not found";
  } else if (source.secret_ref) {
    ref = &*source.secret_ref;
    if (const auto* secret = find_secret(in, ref->name)) data = &secret->data;
    missing = "secret \"" + ref->name + "\" not found";
  } else {
    return base::Status::Ok();  // validation requires one of them
  }
  if (!data) {
    if (ref->optional.value_or(false)) return base::Status::Ok();
    return base::Error(missing, at);
  }
  for (const auto& [key, value] : *data) env.set(source.prefix + key, value);
  return base::Status::Ok();
}

// configMapKeyRef / secretKeyRef, in the kubelet's words; nullopt when the
// ref is optional and its object or key is missing. A Secret's bytes are
// never part of a message.
base::Result<std::optional<std::string>> key_ref_value(const ContainerSpecInput& in,
                                                       const model::EnvVarSource& source,
                                                       const std::string& at) {
  const std::string& ns = in.pod->metadata.namespace_;
  const std::map<std::string, std::string>* data = nullptr;
  const model::KeySelector* ref = nullptr;
  std::string kind;
  if (source.config_map_key_ref) {
    ref = &*source.config_map_key_ref;
    kind = "ConfigMap";
    if (const auto* cm = find_config_map(in, ref->name)) data = &cm->data;
  } else if (source.secret_key_ref) {
    ref = &*source.secret_key_ref;
    kind = "Secret";
    if (const auto* secret = find_secret(in, ref->name)) data = &secret->data;
  } else {
    return base::Error(
        "one of fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef is required", at);
  }
  const bool optional = ref->optional.value_or(false);
  if (!data) {
    if (optional) return std::optional<std::string>();
    std::string lower = kind == "Secret" ? "secret" : "configmap";
    return base::Error(lower + " \"" + ref->name + "\" not found", at);
  }
  auto it = data->find(ref->key);
  if (it == data->end()) {
    if (optional) return std::optional<std::string>();
    return base::Error("couldn't find key " + ref->key + " in " + kind + " " + ns + "/" + ref->name,
                       at);
  }
  return std::optional<std::string>(it->second);
}

}  // namespace

std::string expand_var_refs(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 == text.size()) {
      out += text[i++];
      continue;
    }
    char next = text[i + 1];
    if (next == '$') {  // "$$" is a literal "$"
      out += '$';
      i += 2;
    } else if (next == '(') {
      size_t close = text.find(')', i + 2);
      if (close == std::string_view::npos) {  // unterminated: kept as written
        out += "$(";
        i += 2;
        continue;
      }
      std::string name(text.substr(i + 2, close - i - 2));
      auto it = vars.find(name);
      out += it != vars.end() ? it->second : "$(" + name + ")";
      i = close + 1;
    } else {  // "$x" is not a reference
      out += '$';
      out += next;
      i += 2;
    }
  }
  return out;
}

base::Result<std::vector<std::string>> container_env_vars(const ContainerSpecInput& in) {
  const model::Container& c = *in.container;
  std::string base_path = container_path(*in.pod, c);
  EnvList env;
  // The kubelet's order: envFrom first, then env over it.
  for (size_t i = 0; i < c.env_from.size(); ++i) {
    auto s =
        add_env_from(in, c.env_from[i], base_path + ".envFrom[" + std::to_string(i) + "]", env);
    if (!s) return s.error();
  }
  for (size_t i = 0; i < c.env.size(); ++i) {
    const model::EnvVar& var = c.env[i];
    std::string at = base_path + ".env[" + std::to_string(i) + "]";
    std::string value;
    if (!var.value_from) {
      value = expand_var_refs(var.value, env.defined);
    } else if (var.value_from->field_ref) {
      auto v = field_ref_value(in, *var.value_from->field_ref, at + ".valueFrom.fieldRef");
      if (!v) return v.error();
      value = *v;
    } else if (var.value_from->resource_field_ref) {
      auto v = resource_ref_value(in, *var.value_from->resource_field_ref,
                                  at + ".valueFrom.resourceFieldRef");
      if (!v) return v.error();
      value = *v;
    } else {
      auto v = key_ref_value(in, *var.value_from, at + ".valueFrom");
      if (!v) return v.error();
      if (!*v) continue;  // optional and missing: not defined at all
      value = std::move(**v);
    }
    env.set(var.name, value);
  }
  return std::move(env.out);
}

base::Result<std::vector<std::string>> container_env(const ContainerSpecInput& in) {
  auto own = container_env_vars(in);
  if (!own) return own.error();
  // containerd's order: its default PATH, HOSTNAME, the image's env, then
  // the container's; a later entry replaces an earlier one in place.
  std::vector<std::string> env{std::string(kDefaultPath), "HOSTNAME=" + in.hostname};
  for (const auto& e : in.image->env) put_env(env, e);
  for (const auto& e : *own) put_env(env, e);
  return env;
}

base::Result<std::vector<std::string>> container_argv(const model::Container& container,
                                                      const ImageConfig& image,
                                                      const std::vector<std::string>& env) {
  std::map<std::string, std::string> vars;
  for (const auto& e : env) {
    auto eq = e.find('=');
    if (eq != std::string::npos) vars[e.substr(0, eq)] = e.substr(eq + 1);
  }
  std::vector<std::string> argv;
  std::vector<std::string> args;
  for (const auto& a : container.args) args.push_back(expand_var_refs(a, vars));
  if (!container.command.empty()) {
    for (const auto& a : container.command) argv.push_back(expand_var_refs(a, vars));
  } else {
    // An entrypoint of [""] is Docker's way of saying "none".
    if (!(image.entrypoint.size() == 1 && image.entrypoint[0].empty())) argv = image.entrypoint;
    if (args.empty()) args = image.cmd;
  }
  argv.insert(argv.end(), args.begin(), args.end());
  if (argv.empty()) return base::Error("no command specified");
  return argv;
}

}  // namespace podagent::runtime::oci
