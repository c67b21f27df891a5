#pragma once

#include <string>

#include "model/config_object.h"
#include "model/document.h"
#include "model/field_error.h"

// Reading, writing, defaulting and validating ConfigMaps and Secrets, as the
// Kubernetes API does. decode_pods() (pod_codec.h) hands the ConfigMap and
// Secret documents of a manifest to these.
namespace podagent::model {

struct DecodedConfigMap {
  std::string where;  // as DecodedPod::where
  ConfigMap object;
  FieldErrors errors;    // wrong types, bad base64: unusable
  FieldErrors warnings;  // unknown fields: usable
};

// Nothing of a Secret's values appears in its errors or warnings.
struct DecodedSecret {
  std::string where;
  Secret object;
  FieldErrors errors;
  FieldErrors warnings;
};

// One parsed document of kind ConfigMap (apiVersion v1; another kind or
// version is an error, a missing one too). `binaryData` is
// base64-decoded; a bad one is an error naming the key
// ("binaryData[k]: Invalid value: ...").
DecodedConfigMap decode_config_map(const Node& document);
// One parsed document of kind Secret (apiVersion v1): `data` base64-decoded,
// `stringData` merged over it (stringData wins, as the API server does).
DecodedSecret decode_secret(const Node& document);

// namespace "default"; a Secret's type "Opaque".
void apply_defaults(ConfigMap& config_map);
void apply_defaults(Secret& secret);

// The API server's rules for a defaulted object: metadata.name a DNS-1123
// subdomain, keys of [-._a-zA-Z0-9]+ (not "." or ".."), no key in both data
// and binaryData, at most 1 MiB of values in all; a Secret of a built-in type
// holds that type's keys (tls.crt and tls.key for kubernetes.io/tls, ...).
// Returns every error (empty: valid); none shows a Secret's values.
FieldErrors validate_config_map(const ConfigMap& config_map);
FieldErrors validate_secret(const Secret& secret);

// The same for a replacement of `old` (a PUT): once `immutable` is true it
// stays true and data/binaryData may not change; a Secret's type never
// changes. Then every rule of validate_config_map / validate_secret.
FieldErrors validate_config_map_update(const ConfigMap& now, const ConfigMap& old);
FieldErrors validate_secret_update(const Secret& now, const Secret& old);

// As the API shows them (apiVersion, kind, metadata, data, ...). A Secret's
// data is base64-encoded; there is no stringData.
Node encode_config_map(const ConfigMap& config_map);
Node encode_secret(const Secret& secret);

}  // namespace podagent::model
