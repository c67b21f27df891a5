#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "model/config_object.h"

namespace podagent::agent {

// The objects of one kind (T: model::ConfigMap or model::Secret).
template <typename T>
const std::map<model::ObjectKey, T>& objects_of(const model::ConfigObjects& objects) {
  if constexpr (std::is_same_v<T, model::ConfigMap>)
    return objects.config_maps;
  else
    return objects.secrets;
}

// Where an object of the merged view comes from.
enum class ConfigObjectSource { Manifest, Api };

// The ConfigMaps and Secrets the agent knows, from two sources:
//   - the manifest directory: set_manifest_objects() replaces its objects as
//     a whole (a SET, as for static pods);
//   - the REST API: put() and erase() one object at a time (the API has
//     persisted it before).
// Both are merged into one view, published as a new immutable snapshot
// (current(), and the on_change handlers) whenever it changes.
//
// One namespace/name of one kind in both sources: the manifest object wins.
// The API refuses to create a name a manifest object holds (409
// AlreadyExists) and to replace or delete a manifest object (403), so the
// two meet only when a manifest file brings a name an API object already
// has. That API object is then shadowed: kept (and persisted), absent from
// the view, listed by shadowed(), and back in the view once the manifest
// object goes. (Pods go the other way, the API pod first keeps its name:
// a pod has containers running under that name, an object has nothing to
// lose, and the node's own files are its configuration.)
//
// resourceVersions: each change of an object, in either source, stamps it
// with the next version of one counter for both kinds; a manifest object
// that is unchanged in a new set keeps its version.
//
// Single-threaded: every call on the io_context thread. Handlers are called
// synchronously inside the mutating call, in registration order, and must
// not modify the store.
class ConfigObjectStore {
 public:
  using Handler = std::function<void(const model::ConfigObjectsPtr&)>;

  // Versions start at `first_resource_version` (see PodStoreOptions for why
  // a composer seeds it from wall time).
  explicit ConfigObjectStore(uint64_t first_resource_version = 1);

  // The manifest directory's complete set of objects.
  void set_manifest_objects(const model::ConfigObjects& objects);

  // Adds or replaces an API object by its namespace/name and returns it as
  // stored (with its new resourceVersion). REQUIRES: name and namespace set,
  // and source() of that key is not Manifest.
  model::ConfigMap put(model::ConfigMap object);
  model::Secret put(model::Secret object);
  // Forgets the API object of that key; false when there is none.
  // T: model::ConfigMap or model::Secret.
  template <typename T>
  bool erase(const model::ObjectKey& key);

  // Which source the view's object of that key comes from; nullopt: none.
  template <typename T>
  std::optional<ConfigObjectSource> source(const model::ObjectKey& key) const;

  // The merged view; never null.
  const model::ConfigObjectsPtr& current() const { return current_; }
  // The API's objects, shadowed ones included.
  const model::ConfigObjects& api_objects() const { return api_; }
  // "configmaps/<ns>/<name>", "secrets/<ns>/<name>": API objects hidden by a
  // manifest object of the same name.
  std::vector<std::string> shadowed() const;
  // The latest version given to any object.
  uint64_t resource_version() const { return version_; }

  // Called with each new view. Registering does not call the handler.
  void on_change(Handler handler);

 private:
  // Rebuilds the view; publishes it when it differs from the current one.
  void publish();

  model::ConfigObjects manifest_;
  model::ConfigObjects api_;
  model::ConfigObjectsPtr current_;
  uint64_t version_;
  std::vector<Handler> handlers_;
};

}  // namespace podagent::agent
