#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/config_object_codec.h"
#include "model/document.h"
#include "model/field_error.h"
#include "model/pod.h"

namespace podagent::model {

// One pod read from a manifest.
struct DecodedPod {
  // Where in the text: "" for a lone Pod; "document 2" for the second "---"
  // document; "items[3]" for a List item; "document 2, items[3]" for both.
  std::string where;
  Pod pod;
  FieldErrors errors;    // wrong types, unsupported kind: the pod is unusable
  FieldErrors warnings;  // unknown fields: the pod is usable
};

struct DecodeResult {
  std::vector<DecodedPod> pods;
  // The ConfigMap and Secret documents (and List items), in text order.
  std::vector<DecodedConfigMap> config_maps;
  std::vector<DecodedSecret> secrets;
  // Errors of the text as a whole (syntax, limits); nothing else when set.
  FieldErrors errors;

  // No errors at all, in the text or in any pod, ConfigMap or Secret.
  bool ok() const;
};

// Decodes a manifest: a Pod, ConfigMap or Secret, a v1 List (or PodList) of
// them, or several of those as "---" separated YAML documents; YAML or JSON.
// Pure: no defaults are applied and nothing is validated beyond types
// (base64 included).
DecodeResult decode_pods(std::string_view text, const DocumentLimits& limits = {});
// The same for one document already parsed; appends to `out`.
void decode_pod_document(const Node& document, std::string_view where, DecodeResult& out);

// The Pod as the Kubernetes API shows it (apiVersion, kind, metadata, spec,
// status), omitting empty fields as the API server does.
Node encode_pod(const Pod& pod);
Node encode_pod_status(const PodStatus& status);

}  // namespace podagent::model
