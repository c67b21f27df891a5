// projected volumes (the kubelet's projected volume plugin, collectData), and
// the choice of kind for a volume.

#include "volumes/sources.h"

namespace podagent::volumes {

namespace {

// The kubelet's defaultMode when none was defaulted: the API's 0644.
constexpr int32_t kDefaultMode = 0644;

base::Result<Payload> projection_payload(const model::VolumeProjection& p, const VolumeInputs& in,
                                         int32_t mode) {
  if (p.secret) return secret_payload(*p.secret, in, mode);
  if (p.config_map) return config_map_payload(*p.config_map, in, mode);
  if (p.downward_api) return downward_api_payload(*p.downward_api, in, mode);
  if (p.service_account_token)
    return base::Error(
        "serviceAccountToken projections are not supported: there is no API server to issue a "
        "token");
  return Payload{};  // validation requires one source
}

}  // namespace

base::Result<Payload> projected_payload(const model::ProjectedVolumeSource& source,
                                        const VolumeInputs& in) {
  const int32_t mode = source.default_mode.value_or(kDefaultMode);
  Payload payload;
  std::vector<base::Error> errors;
  for (const auto& projection : source.sources) {
    auto part = projection_payload(projection, in, mode);
    if (!part) {
      errors.push_back(part.error());
      continue;
    }
    for (auto& [path, file] : *part) payload[path] = std::move(file);
  }
  if (!errors.empty()) return aggregate_errors(errors);
  return payload;
}

std::optional<base::Result<Payload>> volume_payload(const model::Volume& v,
                                                    const VolumeInputs& in) {
  if (v.config_map)
    return config_map_payload(*v.config_map, in, v.config_map->default_mode.value_or(kDefaultMode));
  if (v.secret) return secret_payload(*v.secret, in, v.secret->default_mode.value_or(kDefaultMode));
  if (v.downward_api)
    return downward_api_payload(*v.downward_api, in,
                                v.downward_api->default_mode.value_or(kDefaultMode));
  if (v.projected) return projected_payload(*v.projected, in);
  return std::nullopt;
}

}  // namespace podagent::volumes
