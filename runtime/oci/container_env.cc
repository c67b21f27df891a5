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

// metadata.labels['key'] -> key, when `path` has that form for `prefix`.
std::optional<std::string> subscript(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return std::nullopt;
  std::string_view rest = path.substr(prefix.size());
  if (rest.size() < 4 || !rest.starts_with("['") || !rest.ends_with("']")) return std::nullopt;
  return std::string(rest.substr(2, rest.size() - 4));
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
    if (auto key = subscript(p, prefix)) {
      auto it = map->find(*key);
      return it == map->end() ? std::string() : it->second;
    }
  }
  return base::Error("unsupported fieldPath \"" + p + "\"", at + ".fieldPath");
}

int64_t ceil_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
}

// The kubelet's ExtractContainerResourceValue, with limits not set taken
// from the node's allocatable (MergeContainerResourceLimits).
base::Result<std::string> resource_ref_value(const ContainerSpecInput& in,
                                             const model::ResourceFieldSelector& ref,
                                             const std::string& at) {
  const model::Container* c = in.container;
  if (!ref.container_name.empty() && ref.container_name != c->name) {
    c = nullptr;
    for (const auto* list : {&in.pod->spec.containers, &in.pod->spec.init_containers})
      for (const auto& other : *list)
        if (other.name == ref.container_name) c = &other;
    if (!c)
      return base::Error("no container \"" + ref.container_name + "\" in the pod",
                         at + ".containerName");
  }
  const std::string& r = ref.resource;
  auto dot = r.find('.');
  std::string kind = r.substr(0, dot == std::string::npos ? r.size() : dot);
  std::string name = dot == std::string::npos ? std::string() : r.substr(dot + 1);
  bool cpu = name == "cpu";
  if ((kind != "limits" && kind != "requests") ||
      (!cpu && name != "memory" && name != "ephemeral-storage"))
    return base::Error("unsupported resource \"" + r + "\"", at + ".resource");
  const model::ResourceList& list = kind == "limits" ? c->resources.limits : c->resources.requests;
  model::Quantity value;
  if (auto it = list.find(name); it != list.end()) {
    value = it->second;
  } else if (kind == "limits") {
    value = cpu ? model::Quantity::from_milli(in.node.allocatable_cpu_millis)
                : model::Quantity::from_value(name == "memory"
                                                  ? in.node.allocatable_memory_bytes
                                                  : in.node.allocatable_ephemeral_storage_bytes);
  }
  model::Quantity divisor = ref.divisor.value_or(model::Quantity::from_value(1));
  // cpu divides milli-units, memory and storage whole bytes; both round up.
  int64_t den = cpu ? divisor.milli() : divisor.value();
  if (den <= 0) return base::Error("divisor must be positive", at + ".divisor");
  return std::to_string(ceil_div(cpu ? value.milli() : value.value(), den));
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
  if (!c.env_from.empty())
    return base::Error("configMap and secret sources are not supported yet",
                       base_path + ".envFrom[0]");
  std::map<std::string, std::string> defined;
  std::vector<std::string> out;
  for (size_t i = 0; i < c.env.size(); ++i) {
    const model::EnvVar& var = c.env[i];
    std::string at = base_path + ".env[" + std::to_string(i) + "]";
    std::string value;
    if (!var.value_from) {
      value = expand_var_refs(var.value, defined);
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
      return base::Error(
          "variable " + var.name + ": configMapKeyRef and secretKeyRef are not supported yet",
          at + ".valueFrom");
    }
    defined[var.name] = value;
    put_env(out, var.name + "=" + value);
  }
  return out;
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
