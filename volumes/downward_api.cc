// downwardAPI volumes (the kubelet's downwardapi volume plugin, CollectData,
// and fieldpath.ExtractFieldPathAsString).

#include <string_view>
#include <utility>

#include "model/field_error.h"
#include "volumes/sources.h"

namespace podagent::volumes {

namespace {

// The kubelet's fieldpath.FormatMap: `key="value"` lines sorted by key, the
// value quoted as Go's %q, without a final newline.
std::string format_map(const std::map<std::string, std::string>& map) {
  std::string out;
  for (const auto& [key, value] : map) {
    if (!out.empty()) out += '\n';
    out += key + "=" + model::quote(value);
  }
  return out;
}

base::Result<std::string> field_value(const model::Pod& pod, const std::string& path) {
  for (auto [prefix, map] : {std::pair{"metadata.labels", &pod.metadata.labels},
                             std::pair{"metadata.annotations", &pod.metadata.annotations}}) {
    if (auto key = model::field_path_subscript(path, prefix)) {
      auto it = map->find(*key);
      return it == map->end() ? std::string() : it->second;
    }
    if (path == prefix) return format_map(*map);
  }
  if (path.ends_with("']") && path.find("['") != std::string::npos)
    return base::Error("fieldPath " + model::quote(path) + " does not support subscript");
  if (path == "metadata.name") return pod.metadata.name;
  if (path == "metadata.namespace") return pod.metadata.namespace_;
  if (path == "metadata.uid") return pod.metadata.uid;
  return base::Error("unsupported fieldPath: " + path);
}

}  // namespace

base::Result<Payload> downward_api_payload(const model::DownwardApiVolumeSource& source,
                                           const VolumeInputs& in, int32_t default_mode) {
  Payload payload;
  std::vector<base::Error> errors;
  for (const auto& item : source.items) {
    FileProjection file{.data = {}, .mode = item.mode.value_or(default_mode)};
    if (item.field_ref) {
      auto value = field_value(*in.pod, item.field_ref->field_path);
      if (value)
        file.data = std::move(*value);
      else
        errors.push_back(value.error());
    } else if (item.resource_field_ref) {
      // A volume's item names its container (validation requires it).
      auto value = model::resource_field_value(*in.pod, nullptr, *item.resource_field_ref, in.node);
      if (value)
        file.data = std::move(*value);
      else
        errors.push_back(base::Error(value.error().message));
    }
    payload[clean_path(item.path)] = std::move(file);
  }
  if (!errors.empty()) return aggregate_errors(errors);
  return payload;
}

}  // namespace podagent::volumes
