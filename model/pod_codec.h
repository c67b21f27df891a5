#pragma once

#include <string>
#include <string_view>
#include <vector>

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
  // Errors of the text as a whole (syntax, limits); no pods when set.
  FieldErrors errors;

  bool ok() const;  // no errors at all, in the text or in any pod
};

// Decodes a manifest: a Pod, a v1 List or PodList of pods, or several of
// those as "---" separated YAML documents; YAML or JSON. Pure: no defaults
// are applied and nothing is validated beyond types.
DecodeResult decode_pods(std::string_view text, const DocumentLimits& limits = {});
// The same for one document already parsed.
void decode_pod_document(const Node& document, std::string_view where, DecodeResult& out);

// The Pod as the Kubernetes API shows it (apiVersion, kind, metadata, spec,
// status), omitting empty fields as the API server does.
Node encode_pod(const Pod& pod);
Node encode_pod_status(const PodStatus& status);

}  // namespace podagent::model
