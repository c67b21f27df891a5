#pragma once

#include <string_view>

#include "base/result.h"
#include "model/node.h"

// The Kubernetes protobuf encoding of a request body, as far as the agent
// takes it: client-go's typed clients (`kubectl create configmap`,
// `kubectl create secret generic`) send ConfigMaps and Secrets as
// "application/vnd.kubernetes.protobuf" and read a JSON answer.
namespace podagent::agent {

// True for "application/vnd.kubernetes.protobuf" (parameters ignored).
bool is_protobuf_media_type(std::string_view content_type);

// Decodes the envelope (the "k8s\0" magic and a runtime.Unknown holding
// apiVersion, kind and the object's bytes) and a v1 ConfigMap or Secret
// into the tree its JSON would parse to, so that the one JSON decoder reads
// both: bytes (binaryData, a Secret's data) base64-encoded, empty strings
// and metadata the agent does not keep (managedFields, ownerReferences,
// finalizers, timestamps) left out. Errors never quote the input.
base::Result<model::Node> decode_protobuf_object(std::string_view body);

}  // namespace podagent::agent
