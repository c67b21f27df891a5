// Validation of spec.volumes and of the downward API selectors that volumes
// and env share. Texts follow the Kubernetes API server.

#include <set>
#include <string>

#include "model/validation_helpers.h"

namespace podagent::model::validation_detail {

namespace {

const std::vector<std::string> kHostPathTypes = {
    "",     "BlockDevice",  "CharDevice", "Directory", "DirectoryOrCreate",
    "File", "FileOrCreate", "Socket"};

// Downward API field paths (validVolumeDownwardAPIFieldPathExpressions and
// validEnvDownwardAPIFieldPathExpressions), sorted as Kubernetes lists them.
const std::vector<std::string> kVolumeFieldPaths = {"metadata.annotations", "metadata.labels",
                                                    "metadata.name", "metadata.namespace",
                                                    "metadata.uid"};
const std::vector<std::string> kEnvFieldPaths = {"metadata.name",
                                                 "metadata.namespace",
                                                 "metadata.uid",
                                                 "spec.nodeName",
                                                 "spec.serviceAccountName",
                                                 "status.hostIP",
                                                 "status.hostIPs",
                                                 "status.podIP",
                                                 "status.podIPs"};
const std::vector<std::string> kResourceFieldPaths = {
    "limits.cpu",   "limits.ephemeral-storage",   "limits.memory",
    "requests.cpu", "requests.ephemeral-storage", "requests.memory"};

bool contains(const std::vector<std::string>& list, std::string_view value) {
  for (const auto& v : list)
    if (v == value) return true;
  return false;
}

void validate_mode(const std::optional<int32_t>& mode, const std::string& path, FieldErrors& out) {
  if (mode && (*mode < 0 || *mode > 0777))
    out.push_back(FieldError::invalid(path, std::to_string(*mode), kFileModeMsg));
}

// Kubernetes' validateLocalNonReservedPath: a descending path that does not
// start with "..", so that it cannot collide with the atomic writer's
// "..data" links.
void validate_local_non_reserved_path(std::string_view value, const std::string& path,
                                      FieldErrors& out) {
  validate_local_descending_path(value, path, out);
  if (value.starts_with("..") && !value.starts_with("../"))
    out.push_back(FieldError::invalid(path, quote(value), "must not start with '..'"));
}

void validate_key_to_path(const KeyToPath& item, const std::string& path, FieldErrors& out) {
  if (item.key.empty()) out.push_back(FieldError::required(path + ".key"));
  if (item.path.empty()) out.push_back(FieldError::required(path + ".path"));
  validate_local_non_reserved_path(item.path, path + ".path", out);
  validate_mode(item.mode, path + ".mode", out);
}

// configMap (name_field "name") and secret (name_field "secretName").
void validate_object_source(const ObjectVolumeSource& source, const std::string& path,
                            std::string_view name_field, FieldErrors& out) {
  if (source.name.empty()) out.push_back(FieldError::required(child(path, name_field)));
  validate_mode(source.default_mode, path + ".defaultMode", out);
  for (size_t i = 0; i < source.items.size(); ++i)
    validate_key_to_path(source.items[i], index(path + ".items", i), out);
}

void validate_downward_api_file(const DownwardApiVolumeFile& file, const std::string& path,
                                FieldErrors& out) {
  if (file.path.empty()) out.push_back(FieldError::required(path + ".path"));
  validate_local_non_reserved_path(file.path, path + ".path", out);
  if (file.field_ref) {
    validate_object_field_selector(*file.field_ref, false, path + ".fieldRef", out);
    if (file.resource_field_ref)
      out.push_back(
          FieldError::invalid(path, quote("resource"),
                              "fieldRef and resourceFieldRef can not be specified simultaneously"));
  } else if (file.resource_field_ref) {
    validate_resource_field_selector(*file.resource_field_ref, true, path + ".resourceFieldRef",
                                     out);
  } else {
    out.push_back(FieldError::required(path, "one of fieldRef and resourceFieldRef is required"));
  }
  validate_mode(file.mode, path + ".mode", out);
}

void validate_downward_api(const DownwardApiVolumeSource& source, const std::string& path,
                           FieldErrors& out) {
  validate_mode(source.default_mode, path + ".defaultMode", out);
  // Kubernetes reports items without their index; the index is kept here
  // because it tells the user which item is at fault.
  for (size_t i = 0; i < source.items.size(); ++i)
    validate_downward_api_file(source.items[i], index(path + ".items", i), out);
}

void validate_host_path(const HostPathVolumeSource& source, const std::string& path,
                        FieldErrors& out) {
  if (source.path.empty()) {
    out.push_back(FieldError::required(path + ".path"));
    return;
  }
  // podagent's own rule: the agent has no working directory to resolve a
  // relative host path against.
  if (!source.path.starts_with('/'))
    out.push_back(
        FieldError::invalid(path + ".path", quote(source.path), "must be an absolute path"));
  size_t start = 0;
  for (;;) {
    auto slash = source.path.find('/', start);
    if (std::string_view(source.path).substr(start, slash - start) == "..") {
      out.push_back(
          FieldError::invalid(path + ".path", quote(source.path), "must not contain '..'"));
      break;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (!contains(kHostPathTypes, source.type))
    out.push_back(FieldError::not_supported(path + ".type", quote(source.type), kHostPathTypes));
}

void validate_empty_dir(const EmptyDirVolumeSource& source, const std::string& path,
                        FieldErrors& out) {
  if (source.medium != "" && source.medium != "Memory")
    out.push_back(
        FieldError::not_supported(path + ".medium", quote(source.medium), {"", "Memory"}));
  if (source.size_limit && source.size_limit->milli() < 0)
    out.push_back(FieldError::forbidden(path + ".sizeLimit",
                                        "SizeLimit field must be a valid resource quantity"));
}

void validate_projected(const ProjectedVolumeSource& source, const std::string& path,
                        FieldErrors& out) {
  validate_mode(source.default_mode, path + ".defaultMode", out);
  std::set<std::string> paths;
  for (size_t i = 0; i < source.sources.size(); ++i) {
    const auto& p = source.sources[i];
    const std::string src_path = index(path + ".sources", i);
    int kinds = 0;
    auto check_kind = [&](bool present, std::string_view name) {
      if (!present) return false;
      if (++kinds > 1) {
        out.push_back(FieldError::forbidden(child(src_path, name),
                                            "may not specify more than 1 volume type"));
        return false;
      }
      return true;
    };
    if (check_kind(p.secret.has_value(), "secret")) {
      if (p.secret->name.empty()) out.push_back(FieldError::required(src_path + ".secret.name"));
      for (size_t k = 0; k < p.secret->items.size(); ++k)
        validate_key_to_path(p.secret->items[k], index(src_path + ".secret.items", k), out);
    }
    if (check_kind(p.config_map.has_value(), "configMap")) {
      if (p.config_map->name.empty())
        out.push_back(FieldError::required(src_path + ".configMap.name"));
      for (size_t k = 0; k < p.config_map->items.size(); ++k)
        validate_key_to_path(p.config_map->items[k], index(src_path + ".configMap.items", k), out);
    }
    if (check_kind(p.downward_api.has_value(), "downwardAPI"))
      for (size_t k = 0; k < p.downward_api->items.size(); ++k)
        validate_downward_api_file(p.downward_api->items[k],
                                   index(src_path + ".downwardAPI.items", k), out);
    if (check_kind(p.service_account_token.has_value(), "serviceAccountToken")) {
      const auto& token = *p.service_account_token;
      if (token.path.empty())
        out.push_back(FieldError::required(src_path + ".serviceAccountToken.path"));
      validate_local_non_reserved_path(token.path, src_path + ".serviceAccountToken.path", out);
      if (token.expiration_seconds && *token.expiration_seconds < 600)
        out.push_back(FieldError::invalid(src_path + ".serviceAccountToken.expirationSeconds",
                                          std::to_string(*token.expiration_seconds),
                                          "may not specify a duration less than 10 minutes"));
    }
    if (kinds == 0)
      out.push_back(FieldError::required(src_path, "must specify exactly 1 volume type"));
  }
}

// Exactly one source per volume: extra ones are refused by name, as are
// the kinds podagent cannot serve.
void validate_volume_source(const Volume& v, const std::string& path, FieldErrors& out) {
  int kinds = 0;
  auto take = [&](bool present, std::string_view name) {
    if (!present) return false;
    if (++kinds > 1) {
      out.push_back(
          FieldError::forbidden(child(path, name), "may not specify more than 1 volume type"));
      return false;
    }
    return true;
  };
  if (take(v.empty_dir.has_value(), "emptyDir"))
    validate_empty_dir(*v.empty_dir, path + ".emptyDir", out);
  if (take(v.host_path.has_value(), "hostPath"))
    validate_host_path(*v.host_path, path + ".hostPath", out);
  if (take(v.secret.has_value(), "secret"))
    validate_object_source(*v.secret, path + ".secret", "secretName", out);
  if (take(v.downward_api.has_value(), "downwardAPI"))
    validate_downward_api(*v.downward_api, path + ".downwardAPI", out);
  if (take(v.config_map.has_value(), "configMap"))
    validate_object_source(*v.config_map, path + ".configMap", "name", out);
  if (take(v.projected.has_value(), "projected"))
    validate_projected(*v.projected, path + ".projected", out);
  for (const auto& name : v.unsupported_sources) {
    ++kinds;  // a source all the same: no "must specify a volume type" on top
    out.push_back(FieldError::forbidden(child(path, name),
                                        "podagent supports only emptyDir, hostPath, configMap, "
                                        "secret, downwardAPI and projected volumes"));
  }
  if (kinds == 0) out.push_back(FieldError::required(path, "must specify a volume type"));
}

}  // namespace

void validate_local_descending_path(std::string_view value, const std::string& path,
                                    FieldErrors& out) {
  if (value.starts_with('/'))
    out.push_back(FieldError::invalid(path, quote(value), "must be a relative path"));
  size_t start = 0;
  for (;;) {
    auto slash = value.find('/', start);
    if (value.substr(start, slash == std::string_view::npos ? slash : slash - start) == "..") {
      out.push_back(FieldError::invalid(path, quote(value), "must not contain '..'"));
      return;
    }
    if (slash == std::string_view::npos) return;
    start = slash + 1;
  }
}

void validate_object_field_selector(const ObjectFieldSelector& selector, bool for_env,
                                    const std::string& path, FieldErrors& out) {
  if (selector.api_version.empty()) {
    out.push_back(FieldError::required(path + ".apiVersion"));
    return;
  }
  if (selector.field_path.empty()) {
    out.push_back(FieldError::required(path + ".fieldPath"));
    return;
  }
  if (selector.api_version != "v1") {
    out.push_back(FieldError::invalid(
        path + ".fieldPath", quote(selector.field_path),
        "error converting fieldPath: unsupported pod version: " + selector.api_version));
    return;
  }
  const std::string& fp = selector.field_path;
  // A subscripted path: metadata.labels['key'] or metadata.annotations['key'].
  auto open = fp.find("['");
  if (open != std::string::npos && fp.ends_with("']") && open + 2 <= fp.size() - 2) {
    std::string base = fp.substr(0, open);
    std::string subscript = fp.substr(open + 2, fp.size() - open - 4);
    if (base == "metadata.annotations") {
      for (char& c : subscript) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      add_invalid_each(out, path, subscript, qualified_name_msgs(subscript));
    } else if (base == "metadata.labels") {
      add_invalid_each(out, path, subscript, qualified_name_msgs(subscript));
    } else {
      out.push_back(FieldError::invalid(path, quote(base), "does not support subscript"));
    }
    return;
  }
  const auto& allowed = for_env ? kEnvFieldPaths : kVolumeFieldPaths;
  if (!contains(allowed, fp))
    out.push_back(FieldError::not_supported(path + ".fieldPath", quote(fp), allowed));
}

void validate_resource_field_selector(const ResourceFieldSelector& selector, bool for_volume,
                                      const std::string& path, FieldErrors& out) {
  const std::string& r = selector.resource;
  if (for_volume && selector.container_name.empty()) {
    out.push_back(FieldError::required(path + ".containerName"));
  } else if (r.empty()) {
    out.push_back(FieldError::required(path + ".resource"));
  } else if (!contains(kResourceFieldPaths, r) && !r.starts_with("limits.hugepages-") &&
             !r.starts_with("requests.hugepages-")) {
    out.push_back(FieldError::not_supported(path + ".resource", quote(r), kResourceFieldPaths));
  }
  if (!selector.divisor || selector.divisor->is_zero()) return;
  const int64_t milli = selector.divisor->milli();
  const std::string divisor_path = path + ".divisor";
  if (r.ends_with(".cpu")) {
    if (milli != 1 && milli != 1000)
      out.push_back(FieldError::invalid(
          divisor_path, quote(selector.divisor->text()),
          "only divisor's values 1m and 1 are supported with the cpu resource"));
  } else if (r.ends_with(".memory") || r.ends_with(".ephemeral-storage")) {
    static const int64_t kUnits[] = {1,
                                     1000,
                                     1000'000,
                                     1000'000'000,
                                     1000'000'000'000,
                                     1000'000'000'000'000,
                                     1024,
                                     1024 * 1024,
                                     1024LL * 1024 * 1024,
                                     1024LL * 1024 * 1024 * 1024,
                                     1024LL * 1024 * 1024 * 1024 * 1024};
    bool ok = false;
    for (int64_t unit : kUnits) ok = ok || milli == unit * 1000;
    if (!ok) {
      std::string kind = r.substr(r.find('.') + 1);
      out.push_back(FieldError::invalid(
          divisor_path, quote(selector.divisor->text()),
          "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, "
          "1Ei are supported with the " +
              kind + " resource"));
    }
  }
}

void validate_volumes(const std::vector<Volume>& volumes, const std::string& path,
                      FieldErrors& out) {
  std::set<std::string> names;
  for (size_t i = 0; i < volumes.size(); ++i) {
    const auto& v = volumes[i];
    const std::string vol_path = index(path, i);
    validate_volume_source(v, vol_path, out);
    const std::string name_path = vol_path + ".name";
    if (v.name.empty())
      out.push_back(FieldError::required(name_path));
    else
      add_invalid_each(out, name_path, v.name, dns1123_label_msgs(v.name));
    if (!names.insert(v.name).second)
      out.push_back(FieldError::duplicate(name_path, quote(v.name)));
  }
}

}  // namespace podagent::model::validation_detail
