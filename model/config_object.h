#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "model/pod.h"

// ConfigMaps and Secrets: the objects that configMap/secret volumes, projected
// volumes, env valueFrom and envFrom read. They come from the manifest
// directory (kind ConfigMap / Secret) and from the API.
namespace podagent::model {

struct ConfigMap {
  ObjectMeta metadata;
  std::map<std::string, std::string> data;
  std::map<std::string, std::string> binary_data;  // the bytes, base64-decoded
  std::optional<bool> immutable;
  bool operator==(const ConfigMap&) const = default;
};

struct Secret {
  ObjectMeta metadata;
  std::string type;                         // defaulted to "Opaque"
  std::map<std::string, std::string> data;  // the bytes, base64-decoded; stringData merged in
  std::optional<bool> immutable;
  bool operator==(const Secret&) const = default;
};

// (namespace, name)
using ObjectKey = std::pair<std::string, std::string>;

// Every ConfigMap and Secret the agent knows, at one moment. Published as an
// immutable snapshot (std::shared_ptr<const ConfigObjects>): a change makes a
// new one, so a reader never sees half an update.
struct ConfigObjects {
  std::map<ObjectKey, ConfigMap> config_maps;
  std::map<ObjectKey, Secret> secrets;

  const ConfigMap* config_map(const std::string& namespace_, const std::string& name) const {
    auto it = config_maps.find({namespace_, name});
    return it == config_maps.end() ? nullptr : &it->second;
  }
  const Secret* secret(const std::string& namespace_, const std::string& name) const {
    auto it = secrets.find({namespace_, name});
    return it == secrets.end() ? nullptr : &it->second;
  }
  bool operator==(const ConfigObjects&) const = default;
};

using ConfigObjectsPtr = std::shared_ptr<const ConfigObjects>;

}  // namespace podagent::model
