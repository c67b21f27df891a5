#pragma once

#include <string>
#include <string_view>

#include "base/ids.h"
#include "model/field_error.h"
#include "model/pod.h"

namespace podagent::static_pods {

// The annotations the kubelet puts on every static pod.
inline constexpr std::string_view kConfigSourceAnnotation = "kubernetes.io/config.source";
inline constexpr std::string_view kConfigHashAnnotation = "kubernetes.io/config.hash";
inline constexpr std::string_view kConfigSourceFile = "file";

// "<name>-<node name in lower case>", as the kubelet's generatePodName.
std::string static_pod_name(std::string_view name, std::string_view node_name);

// FNV-1a 128 of data, as 32 lowercase hex digits. Stable across processes,
// builds and machines (it is part of a pod's identity); not cryptographic.
std::string fnv1a_128_hex(std::string_view data);

// The UID of a static pod: fnv1a_128_hex over the pod's canonical encoding
// (compact JSON of model::encode_pod), the node name and the manifest's path,
// each length-prefixed so that no two inputs run together. The kubelet uses
// an md5 of the same three things; the figures differ, the properties are
// the same: any change of the pod, the node or the path gives a new UID,
// the same inputs always give the same UID.
base::PodUid static_pod_uid(std::string_view pod_encoding, std::string_view node_name,
                            std::string_view path);

struct StaticPodContext {
  std::string node_name;
  std::string path;  // the manifest's path, as the agent was configured with it
};

// Turns a pod decoded from a manifest into this node's static pod, as the
// kubelet's file source does (pkg/kubelet/config/common.go applyDefaults):
//   - metadata.uid = static_pod_uid of the pod as decoded (status dropped),
//     so a uid written in the manifest is replaced;
//   - metadata.name = static_pod_name(name, node); namespace "default" when
//     empty; spec.nodeName = node; annotations config.source=file and
//     config.hash=<uid>; status cleared (the agent owns it);
//   - then model::apply_defaults and model::validate_pod.
// Returns every problem found (empty: the pod is usable). Pure.
model::FieldErrors make_static_pod(model::Pod& pod, const StaticPodContext& context);

}  // namespace podagent::static_pods
