// Validation of ConfigMaps and Secrets, after the API server's
// ValidateConfigMap / ValidateSecret and their Update variants
// (pkg/apis/core/validation/validation.go). Errors never show a Secret's
// values; keys are names, and are shown.

#include <string_view>

#include "model/config_object_codec.h"
#include "model/document.h"
#include "model/validation_helpers.h"

namespace podagent::model {

using namespace validation_detail;

namespace {

constexpr size_t kMaxSize = 1024 * 1024;  // core.MaxSecretSize, ConfigMaps' bound too
constexpr const char* kRedacted = "<secret contents redacted>";
constexpr const char* kImmutableMsg = "field is immutable when `immutable` is set";

// Appends the key errors of `data` at path[key]; returns the values' size.
size_t validate_keys(const std::map<std::string, std::string>& data, const std::string& path,
                     FieldErrors& out) {
  size_t total = 0;
  for (const auto& [k, v] : data) {
    add_invalid_each(out, key(path, k), k, config_map_key_msgs(k));
    total += v.size();
  }
  return total;
}

// The API server checks with json.Unmarshal; the document reader takes JSON
// as the YAML it is a subset of, which is close enough to refuse what is
// not a docker config at all.
bool is_json_object(std::string_view text) {
  auto documents = parse_documents(text);
  return documents.ok() && documents->size() == 1 && (*documents)[0].is_map();
}

void require_key(const Secret& s, const char* k, FieldErrors& out) {
  if (!s.data.contains(k)) out.push_back(FieldError::required(key("data", k)));
}

void validate_docker_config(const Secret& s, const char* k, FieldErrors& out) {
  auto it = s.data.find(k);
  if (it == s.data.end()) {
    out.push_back(FieldError::required(key("data", k)));
  } else if (!is_json_object(it->second)) {
    out.push_back(FieldError::invalid(key("data", k), quote(kRedacted), "must be a JSON object"));
  }
}

// The keys each built-in type requires.
void validate_secret_type(const Secret& s, FieldErrors& out) {
  const std::string& type = s.type;
  if (type == "kubernetes.io/service-account-token") {
    auto it = s.metadata.annotations.find("kubernetes.io/service-account.name");
    if (it == s.metadata.annotations.end() || it->second.empty())
      out.push_back(
          FieldError::required("metadata.annotations[kubernetes.io/service-account.name]"));
  } else if (type == "kubernetes.io/dockercfg") {
    validate_docker_config(s, ".dockercfg", out);
  } else if (type == "kubernetes.io/dockerconfigjson") {
    validate_docker_config(s, ".dockerconfigjson", out);
  } else if (type == "kubernetes.io/basic-auth") {
    // Either may be empty, but one must be there.
    if (!s.data.contains("username") && !s.data.contains("password")) {
      require_key(s, "username", out);
      require_key(s, "password", out);
    }
  } else if (type == "kubernetes.io/ssh-auth") {
    auto it = s.data.find("ssh-privatekey");
    if (it == s.data.end() || it->second.empty())
      out.push_back(FieldError::required("data[ssh-privatekey]"));
  } else if (type == "kubernetes.io/tls") {
    require_key(s, "tls.crt", out);
    require_key(s, "tls.key", out);
  }
  // Opaque, and any other type, needs nothing.
}

// Once immutable, always immutable, and the contents with it.
template <typename Data>
void validate_immutable(const std::optional<bool>& now, const std::optional<bool>& old,
                        const Data& now_data, const Data& old_data, const char* data_field,
                        FieldErrors& out) {
  if (!old.value_or(false)) return;
  if (!now.value_or(false)) out.push_back(FieldError::forbidden("immutable", kImmutableMsg));
  if (now_data != old_data) out.push_back(FieldError::forbidden(data_field, kImmutableMsg));
}

}  // namespace

FieldErrors validate_config_map(const ConfigMap& config_map) {
  FieldErrors out;
  validate_object_meta(config_map.metadata, out);
  size_t total = validate_keys(config_map.data, "data", out);
  for (const auto& [k, v] : config_map.data) {
    if (config_map.binary_data.contains(k))
      out.push_back(
          FieldError::invalid(key("data", k), quote(k), "duplicate of key present in binaryData"));
  }
  total += validate_keys(config_map.binary_data, "binaryData", out);
  // The API server names no field (the whole object); "data" reads better.
  if (total > kMaxSize) out.push_back(FieldError::too_long("data", "", kMaxSize));
  return out;
}

FieldErrors validate_secret(const Secret& secret) {
  FieldErrors out;
  validate_object_meta(secret.metadata, out);
  if (validate_keys(secret.data, "data", out) > kMaxSize)
    out.push_back(FieldError::too_long("data", "", kMaxSize));
  validate_secret_type(secret, out);
  return out;
}

FieldErrors validate_config_map_update(const ConfigMap& now, const ConfigMap& old) {
  FieldErrors out;
  validate_immutable(now.immutable, old.immutable, now.data, old.data, "data", out);
  if (old.immutable.value_or(false) && now.binary_data != old.binary_data)
    out.push_back(FieldError::forbidden("binaryData", kImmutableMsg));
  FieldErrors rest = validate_config_map(now);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

FieldErrors validate_secret_update(const Secret& now, const Secret& old) {
  FieldErrors out;
  if (now.type != old.type)
    out.push_back(FieldError::invalid("type", quote(now.type), "field is immutable"));
  validate_immutable(now.immutable, old.immutable, now.data, old.data, "data", out);
  FieldErrors rest = validate_secret(now);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace podagent::model
