#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "model/pod.h"

// Values of the downward API that env (runtime/oci/container_env.cc) and
// downwardAPI volumes (volumes/downward_api.cc) share, by the kubelet's rules.
namespace podagent::model {

// What the node can give its pods: a resourceFieldRef of a limit the
// container does not set reads this instead (the kubelet's
// MergeContainerResourceLimits).
struct NodeAllocatable {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t ephemeral_storage_bytes = 0;
  bool operator==(const NodeAllocatable&) const = default;
};

// The kubelet's ExtractResourceValueByContainerNameAndNodeAllocatable: the
// value of `ref` ("limits.cpu", "requests.memory", ...) for the container
// named ref.container_name in `pod` (app containers first, then init
// containers), or `self` when that name is empty (env: the container
// itself). Divided by ref.divisor (absent or zero: 1) and rounded up; cpu
// divides milli-units, memory and ephemeral-storage whole bytes. A request
// not set is 0.
// Errors name the selector's field at fault, relative to the selector:
// "containerName", "resource" or "divisor".
// REQUIRES: `self` non-null when ref.container_name is empty.
base::Result<std::string> resource_field_value(const Pod& pod, const Container* self,
                                               const ResourceFieldSelector& ref,
                                               const NodeAllocatable& node);

// The subscript of a downward API field path of the form
// <prefix>['<key>'] ("metadata.labels['app']" with prefix "metadata.labels"
// -> "app"); nullopt when `path` is not of that form.
std::optional<std::string> field_path_subscript(std::string_view path, std::string_view prefix);

}  // namespace podagent::model
