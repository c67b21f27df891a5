// configMap volumes (the kubelet's configmap volume plugin, MakePayload).

#include "volumes/sources.h"

namespace podagent::volumes {

base::Result<Payload> object_payload(
    const model::ObjectVolumeSource& source,
    const std::vector<const std::map<std::string, std::string>*>& maps, int32_t default_mode,
    const std::string& missing_key) {
  Payload payload;
  if (source.items.empty()) {
    for (const auto* map : maps)
      for (const auto& [key, data] : *map) payload[key] = FileProjection{data, default_mode};
    return payload;
  }
  for (const auto& item : source.items) {
    const std::string* data = nullptr;
    for (const auto* map : maps) {
      if (auto it = map->find(item.key); it != map->end()) {
        data = &it->second;
        break;
      }
    }
    if (!data) {
      if (source.optional.value_or(false)) continue;
      return base::Error(missing_key + item.key);
    }
    payload[clean_path(item.path)] = FileProjection{*data, item.mode.value_or(default_mode)};
  }
  return payload;
}

base::Result<Payload> config_map_payload(const model::ObjectVolumeSource& source,
                                         const VolumeInputs& in, int32_t default_mode) {
  const model::ConfigMap* cm = in.objects->config_map(in.pod->metadata.namespace_, source.name);
  if (!cm) {
    if (source.optional.value_or(false)) return Payload{};
    return base::Error("configmap \"" + source.name + "\" not found");
  }
  return object_payload(source, {&cm->data, &cm->binary_data}, default_mode,
                        "configmap references non-existent config key: ");
}

}  // namespace podagent::volumes
