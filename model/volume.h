#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/quantity.h"

namespace podagent::model {

struct EmptyDirVolumeSource {
  std::string medium;                   // "" (node disk) or "Memory"
  std::optional<Quantity> size_limit;
  bool operator==(const EmptyDirVolumeSource&) const = default;
};

struct HostPathVolumeSource {
  std::string path;
  std::string type;  // "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice, BlockDevice
  bool operator==(const HostPathVolumeSource&) const = default;
};

struct KeyToPath {
  std::string key;
  std::string path;
  std::optional<int32_t> mode;
  bool operator==(const KeyToPath&) const = default;
};

struct ObjectFieldSelector {
  std::string api_version;  // defaulted to "v1"
  std::string field_path;   // metadata.name, metadata.labels['x'], status.podIP, ...
  bool operator==(const ObjectFieldSelector&) const = default;
};

struct ResourceFieldSelector {
  std::string container_name;
  std::string resource;     // limits.cpu, requests.memory, ...
  std::optional<Quantity> divisor;
  bool operator==(const ResourceFieldSelector&) const = default;
};

struct DownwardApiVolumeFile {
  std::string path;
  std::optional<ObjectFieldSelector> field_ref;
  std::optional<ResourceFieldSelector> resource_field_ref;
  std::optional<int32_t> mode;
  bool operator==(const DownwardApiVolumeFile&) const = default;
};

struct DownwardApiVolumeSource {
  std::vector<DownwardApiVolumeFile> items;
  std::optional<int32_t> default_mode;  // defaulted to 0644
  bool operator==(const DownwardApiVolumeSource&) const = default;
};

// configMap and secret volumes share this shape; `name` is the object's name
// (configMap.name / secret.secretName).
struct ObjectVolumeSource {
  std::string name;
  std::vector<KeyToPath> items;
  std::optional<int32_t> default_mode;  // defaulted to 0644
  std::optional<bool> optional;
  bool operator==(const ObjectVolumeSource&) const = default;
};

struct ServiceAccountTokenProjection {
  std::string audience;
  std::optional<int64_t> expiration_seconds;
  std::string path;
  bool operator==(const ServiceAccountTokenProjection&) const = default;
};

struct VolumeProjection {
  std::optional<ObjectVolumeSource> config_map;
  std::optional<ObjectVolumeSource> secret;
  std::optional<DownwardApiVolumeSource> downward_api;
  std::optional<ServiceAccountTokenProjection> service_account_token;
  bool operator==(const VolumeProjection&) const = default;
};

struct ProjectedVolumeSource {
  std::vector<VolumeProjection> sources;
  std::optional<int32_t> default_mode;
  bool operator==(const ProjectedVolumeSource&) const = default;
};

// One pod volume. Exactly one source may be set; the decoder keeps every one
// it found so that validation can name the extra ones. A source kind this
// agent cannot serve (nfs, persistentVolumeClaim, ...) is kept by name in
// `unsupported_sources` and refused by validation.
struct Volume {
  std::string name;
  std::optional<EmptyDirVolumeSource> empty_dir;
  std::optional<HostPathVolumeSource> host_path;
  std::optional<DownwardApiVolumeSource> downward_api;
  std::optional<ObjectVolumeSource> config_map;
  std::optional<ObjectVolumeSource> secret;
  std::optional<ProjectedVolumeSource> projected;
  std::vector<std::string> unsupported_sources;
  bool operator==(const Volume&) const = default;
};

}  // namespace podagent::model
