#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/config_object.h"
#include "model/pod.h"
#include "model/resource_fields.h"
#include "model/volume.h"
#include "volumes/payload.h"

// The payload of each volume kind that the agent writes on the node, by the
// kubelet's rules (its configmap, secret, downwardapi and projected volume
// plugins). Pure: no I/O; a Secret's bytes never appear in a message.
namespace podagent::volumes {

// What the kinds read besides their own source.
struct VolumeInputs {
  const model::Pod* pod = nullptr;                // never null
  const model::ConfigObjects* objects = nullptr;  // never null
  model::NodeAllocatable node;                    // resourceFieldRef of a limit not set
};

// A configMap volume: every key of the ConfigMap's data and binaryData as a
// file of that name, or only `items` (key -> path, item mode over
// default_mode). A missing ConfigMap is `configmap "x" not found` and a
// missing item key `configmap references non-existent config key: k`,
// unless source.optional (then the file, or every file, is left out).
// `default_mode`: source.default_mode for a configMap volume, the projected
// volume's for a projection.
base::Result<Payload> config_map_payload(const model::ObjectVolumeSource& source,
                                         const VolumeInputs& in, int32_t default_mode);

// A secret volume: as config_map_payload, with the Secret's data;
// `secret "x" not found`, `references non-existent secret key: k`.
base::Result<Payload> secret_payload(const model::ObjectVolumeSource& source,
                                     const VolumeInputs& in, int32_t default_mode);

// A downwardAPI volume: one file per item, at its cleaned path, with
// metadata.name, .namespace, .uid, labels['k'], annotations['k'] (empty
// when absent), metadata.labels / metadata.annotations (sorted `k="v"`
// lines, the value quoted as Go's %q, no final newline: the kubelet's
// fieldpath.FormatMap) or a resourceFieldRef's value. Every item is tried;
// the errors are aggregated as the kubelet does.
base::Result<Payload> downward_api_payload(const model::DownwardApiVolumeSource& source,
                                           const VolumeInputs& in, int32_t default_mode);

// A projected volume: its sources' payloads in order, all with the projected
// defaultMode; a later source's file replaces an earlier one at the same
// path (the kubelet's collectData). serviceAccountToken projections are
// refused: there is no API server to issue tokens.
base::Result<Payload> projected_payload(const model::ProjectedVolumeSource& source,
                                        const VolumeInputs& in);

// The payload of `volume` when it is of a kind written here (configMap,
// secret, downwardAPI, projected); nullopt for the others (emptyDir,
// hostPath), which the runtime makes.
std::optional<base::Result<Payload>> volume_payload(const model::Volume& volume,
                                                    const VolumeInputs& in);

// configMap and secret share the kubelet's MakePayload: `maps` are the
// object's data maps, looked up in order for an item's key; null when the
// object is missing (optional: an empty payload). `missing_key` prefixes
// the key in the error for an item whose key is in no map.
base::Result<Payload> object_payload(
    const model::ObjectVolumeSource& source,
    const std::vector<const std::map<std::string, std::string>*>& maps, int32_t default_mode,
    const std::string& missing_key);

}  // namespace podagent::volumes
