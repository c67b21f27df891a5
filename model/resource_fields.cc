#include "model/resource_fields.h"

#include <vector>

namespace podagent::model {

namespace {

int64_t ceil_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
}

const Container* find_container(const Pod& pod, const std::string& name) {
  for (const auto* list : {&pod.spec.containers, &pod.spec.init_containers})
    for (const auto& c : *list)
      if (c.name == name) return &c;
  return nullptr;
}

}  // namespace

base::Result<std::string> resource_field_value(const Pod& pod, const Container* self,
                                               const ResourceFieldSelector& ref,
                                               const NodeAllocatable& node) {
  const Container* c = self;
  if (!ref.container_name.empty() && (!c || ref.container_name != c->name)) {
    c = find_container(pod, ref.container_name);
    if (!c) return base::Error("container " + ref.container_name + " not found", "containerName");
  }
  if (!c) return base::Error("a container name is required", "containerName");
  const std::string& r = ref.resource;
  auto dot = r.find('.');
  std::string kind = r.substr(0, dot == std::string::npos ? r.size() : dot);
  std::string name = dot == std::string::npos ? std::string() : r.substr(dot + 1);
  const bool cpu = name == "cpu";
  if ((kind != "limits" && kind != "requests") ||
      (!cpu && name != "memory" && name != "ephemeral-storage"))
    return base::Error("unsupported container resource : " + r, "resource");
  const ResourceList& list = kind == "limits" ? c->resources.limits : c->resources.requests;
  Quantity value;
  if (auto it = list.find(name); it != list.end()) {
    value = it->second;
  } else if (kind == "limits") {
    value = cpu ? Quantity::from_milli(node.cpu_millis)
                : Quantity::from_value(name == "memory" ? node.memory_bytes
                                                        : node.ephemeral_storage_bytes);
  }
  // The kubelet takes a zero (unset) divisor as 1.
  Quantity divisor = ref.divisor.value_or(Quantity());
  if (divisor.is_zero()) divisor = Quantity::from_value(1);
  int64_t den = cpu ? divisor.milli() : divisor.value();
  if (den <= 0) return base::Error("divisor must be positive", "divisor");
  return std::to_string(ceil_div(cpu ? value.milli() : value.value(), den));
}

std::optional<std::string> field_path_subscript(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return std::nullopt;
  std::string_view rest = path.substr(prefix.size());
  if (rest.size() < 4 || !rest.starts_with("['") || !rest.ends_with("']")) return std::nullopt;
  return std::string(rest.substr(2, rest.size() - 4));
}

}  // namespace podagent::model
