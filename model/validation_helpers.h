#pragma once

// Private to model/: the pieces that the pod validators (validation.cc,
// container_validation.cc, volume_validation.cc) share. Not for other folders.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "model/field_error.h"
#include "model/pod.h"

namespace podagent::model::validation_detail {

// apimachinery's wording (k8s.io/apimachinery/pkg/util/validation).
inline constexpr const char* kNegativeMsg = "must be greater than or equal to 0";
inline constexpr const char* kFileModeMsg =
    "must be a number between 0 and 0777 (octal), both inclusive";

// "must be between lo and hi, inclusive"
std::string range_msg(int64_t lo, int64_t hi);
// "must be no more than n characters"
std::string max_len_msg(size_t n);

// The checks of apimachinery's Is* functions: one message per broken rule,
// in apimachinery's order; empty when the value is valid.
std::vector<std::string> dns1123_label_msgs(std::string_view value);
std::vector<std::string> dns1123_subdomain_msgs(std::string_view value);
std::vector<std::string> qualified_name_msgs(std::string_view value);
std::vector<std::string> label_value_msgs(std::string_view value);
std::vector<std::string> port_name_msgs(std::string_view value);  // IANA_SVC_NAME
std::vector<std::string> env_var_name_msgs(std::string_view value);
std::vector<std::string> config_map_key_msgs(std::string_view value);
bool is_valid_ip(std::string_view value);

// Field paths: child("spec", "containers") -> "spec.containers";
// index("spec.containers", 1) -> "spec.containers[1]";
// key("resources.limits", "cpu") -> "resources.limits[cpu]".
inline std::string child(const std::string& path, std::string_view name) {
  return path + "." + std::string(name);
}
inline std::string index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}
inline std::string key(const std::string& path, std::string_view k) {
  return path + "[" + std::string(k) + "]";
}

// metadata of any object: name (DNS-1123 subdomain), namespace, labels and
// annotations (validation.cc).
void validate_object_meta(const ObjectMeta& meta, FieldErrors& out);

// Appends one Invalid error (value shown quoted) per message.
void add_invalid_each(FieldErrors& out, const std::string& field, std::string_view value,
                      const std::vector<std::string>& msgs);
// A list of strings as Go's %#v shows it: []string{"a", "b"}.
std::string go_string_list(const std::vector<std::string>& values);

// What validating one container needs to know about the rest of the pod.
struct PodFacts {
  std::set<std::string> volume_names;
  int64_t grace_period = 30;  // for lifecycle sleep hooks
  bool host_network = false;
};

// container_validation.cc: init, app and ephemeral containers, their names,
// images, ports, probes, hooks, env, resources and mounts.
void validate_all_containers(const PodSpec& spec, const PodFacts& facts, FieldErrors& out);

// container_parts_validation.cc: pieces of one container.
void validate_resources(const ResourceRequirements& resources, const std::string& path,
                        FieldErrors& out);
// `ephemeral`: subPath is refused, as Kubernetes does for ephemeral containers.
void validate_volume_mounts(const Container& c, const PodFacts& facts, bool ephemeral,
                            const std::string& path, FieldErrors& out);
void validate_container_security(const SecurityContext& sc, const std::string& path,
                                 FieldErrors& out);

// volume_validation.cc: spec.volumes (names, one supported source, each source).
void validate_volumes(const std::vector<Volume>& volumes, const std::string& path,
                      FieldErrors& out);
// A downward API fieldRef; `for_env` selects the env list of paths (else the
// volume list).
void validate_object_field_selector(const ObjectFieldSelector& selector, bool for_env,
                                    const std::string& path, FieldErrors& out);
// A downward API resourceFieldRef; volumes require containerName.
void validate_resource_field_selector(const ResourceFieldSelector& selector, bool for_volume,
                                      const std::string& path, FieldErrors& out);
// A relative path without ".." elements (subPath, items[].path).
void validate_local_descending_path(std::string_view value, const std::string& path,
                                    FieldErrors& out);

}  // namespace podagent::model::validation_detail
