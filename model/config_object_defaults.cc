// Defaults of ConfigMaps and Secrets (pkg/apis/core/v1 defaults.go, and the
// namespace a request without one gets).

#include "model/config_object_codec.h"

namespace podagent::model {

void apply_defaults(ConfigMap& config_map) {
  if (config_map.metadata.namespace_.empty()) config_map.metadata.namespace_ = "default";
}

void apply_defaults(Secret& secret) {
  if (secret.metadata.namespace_.empty()) secret.metadata.namespace_ = "default";
  if (secret.type.empty()) secret.type = "Opaque";
}

}  // namespace podagent::model
