#include "agent/config_object_store.h"

#include <type_traits>
#include <utility>

namespace podagent::agent {

namespace {

using model::ConfigMap;
using model::ConfigObjects;
using model::ObjectKey;
using model::Secret;

template <typename T>
std::map<ObjectKey, T>& objects_of(ConfigObjects& objects) {
  return const_cast<std::map<ObjectKey, T>&>(agent::objects_of<T>(std::as_const(objects)));
}

template <typename T>
bool same_but_version(T a, const T& b) {
  a.metadata.resource_version = b.metadata.resource_version;
  return a == b;
}

// The new manifest objects of one kind, each keeping the version it had
// when unchanged and taking the next one otherwise.
template <typename T>
std::map<ObjectKey, T> stamp_manifest(const std::map<ObjectKey, T>& next,
                                      const std::map<ObjectKey, T>& previous, uint64_t& version) {
  std::map<ObjectKey, T> out;
  for (const auto& [key, object] : next) {
    T stamped = object;
    auto old = previous.find(key);
    if (old != previous.end() && same_but_version(stamped, old->second))
      stamped.metadata.resource_version = old->second.metadata.resource_version;
    else
      stamped.metadata.resource_version = std::to_string(++version);
    out.emplace(key, std::move(stamped));
  }
  return out;
}

template <typename T>
void overlay(std::map<ObjectKey, T>& into, const std::map<ObjectKey, T>& winners) {
  for (const auto& [key, object] : winners) into.insert_or_assign(key, object);
}

template <typename T>
void add_shadowed(const char* resource, const std::map<ObjectKey, T>& api,
                  const std::map<ObjectKey, T>& manifest, std::vector<std::string>& out) {
  for (const auto& [key, object] : api)
    if (manifest.contains(key))
      out.push_back(std::string(resource) + "/" + key.first + "/" + key.second);
}

}  // namespace

ConfigObjectStore::ConfigObjectStore(uint64_t first_resource_version)
    : current_(std::make_shared<const ConfigObjects>()),
      version_(first_resource_version > 0 ? first_resource_version - 1 : 0) {}

void ConfigObjectStore::set_manifest_objects(const ConfigObjects& objects) {
  ConfigObjects next;
  next.config_maps = stamp_manifest(objects.config_maps, manifest_.config_maps, version_);
  next.secrets = stamp_manifest(objects.secrets, manifest_.secrets, version_);
  manifest_ = std::move(next);
  publish();
}

ConfigMap ConfigObjectStore::put(ConfigMap object) {
  object.metadata.resource_version = std::to_string(++version_);
  ObjectKey key{object.metadata.namespace_, object.metadata.name};
  api_.config_maps.insert_or_assign(key, object);
  publish();
  return object;
}

Secret ConfigObjectStore::put(Secret object) {
  object.metadata.resource_version = std::to_string(++version_);
  ObjectKey key{object.metadata.namespace_, object.metadata.name};
  api_.secrets.insert_or_assign(key, object);
  publish();
  return object;
}

template <typename T>
bool ConfigObjectStore::erase(const ObjectKey& key) {
  if (objects_of<T>(api_).erase(key) == 0) return false;
  ++version_;  // the deletion is a change a list's resourceVersion shows
  publish();
  return true;
}

template <typename T>
std::optional<ConfigObjectSource> ConfigObjectStore::source(const ObjectKey& key) const {
  if (objects_of<T>(manifest_).contains(key)) return ConfigObjectSource::Manifest;
  if (objects_of<T>(api_).contains(key)) return ConfigObjectSource::Api;
  return std::nullopt;
}

template bool ConfigObjectStore::erase<ConfigMap>(const ObjectKey&);
template bool ConfigObjectStore::erase<Secret>(const ObjectKey&);
template std::optional<ConfigObjectSource> ConfigObjectStore::source<ConfigMap>(
    const ObjectKey&) const;
template std::optional<ConfigObjectSource> ConfigObjectStore::source<Secret>(
    const ObjectKey&) const;

std::vector<std::string> ConfigObjectStore::shadowed() const {
  std::vector<std::string> out;
  add_shadowed("configmaps", api_.config_maps, manifest_.config_maps, out);
  add_shadowed("secrets", api_.secrets, manifest_.secrets, out);
  return out;
}

void ConfigObjectStore::on_change(Handler handler) { handlers_.push_back(std::move(handler)); }

void ConfigObjectStore::publish() {
  ConfigObjects merged = api_;
  overlay(merged.config_maps, manifest_.config_maps);
  overlay(merged.secrets, manifest_.secrets);
  if (merged == *current_) return;
  current_ = std::make_shared<const ConfigObjects>(std::move(merged));
  const model::ConfigObjectsPtr view = current_;  // a handler's copy outlives a later change
  for (const auto& handler : handlers_) handler(view);
}

}  // namespace podagent::agent
