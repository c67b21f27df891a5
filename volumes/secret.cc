// secret volumes (the kubelet's secret volume plugin, MakePayload).

#include "volumes/sources.h"

namespace podagent::volumes {

base::Result<Payload> secret_payload(const model::ObjectVolumeSource& source,
                                     const VolumeInputs& in, int32_t default_mode) {
  const model::Secret* secret = in.objects->secret(in.pod->metadata.namespace_, source.name);
  if (!secret) {
    if (source.optional.value_or(false)) return Payload{};
    return base::Error("secret \"" + source.name + "\" not found");
  }
  return object_payload(source, {&secret->data}, default_mode,
                        "references non-existent secret key: ");
}

}  // namespace podagent::volumes
