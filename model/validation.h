#pragma once

#include "model/field_error.h"
#include "model/pod.h"

namespace podagent::model {

// Validates a defaulted pod with the Kubernetes rules that matter on a node
// and returns every error found (empty: valid), each with its field path.
FieldErrors validate_pod(const Pod& pod);

// Rules for names, shared with other validators.
// An RFC 1123 subdomain (pod names): empty result when valid.
FieldErrors validate_dns1123_subdomain(std::string_view value, const std::string& field);
// An RFC 1123 label (container, volume and port names, namespaces).
FieldErrors validate_dns1123_label(std::string_view value, const std::string& field);

}  // namespace podagent::model
