#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "model/config_object.h"
#include "model/pod.h"
#include "model/resource_fields.h"
#include "volumes/volume_manager.h"

// The volumes a pod worker writes on the node before the pod's containers
// start (configMap, secret, downwardAPI, projected; and disk emptyDirs,
// made once), and keeps up to date while the pod runs, as the kubelet's
// volume manager does.
namespace podagent::podworker {

// Whether `pod` has a volume that the pod worker writes.
bool has_written_volumes(const model::Pod& pod);

// Whether `pod` reads ConfigMaps or Secrets: through a volume (projected
// ones included), env valueFrom or envFrom.
bool reads_config_objects(const model::Pod& pod);

// Whether the environment of `c` reads ConfigMaps or Secrets (env valueFrom
// or envFrom).
bool env_reads_config_objects(const model::Container& c);

// One pod's written volumes, as its worker last prepared them.
class PodVolumes {
 public:
  using ErrorHandler = std::function<void(const std::string& message)>;

  // Writes the pod's volumes when `pod` or `objects` is not the one (by
  // identity) of the last successful call; a pod without such volumes
  // needs nothing. A failure is passed to `on_error` once per distinct
  // message (the kubelet's FailedMount event) and retried at the next
  // call. True when the containers may start: the volumes were prepared
  // once (a later failure leaves the last good files in place, as the
  // kubelet does).
  bool refresh(volumes::VolumeManager& manager, const std::shared_ptr<const model::Pod>& pod,
               const model::ConfigObjectsPtr& objects, const model::NodeAllocatable& node,
               const ErrorHandler& on_error);

  // The directories by volume name (ContainerConfig::prepared_volumes).
  const std::map<std::string, std::filesystem::path>& prepared() const { return prepared_; }

 private:
  std::shared_ptr<const model::Pod> pod_;
  model::ConfigObjectsPtr objects_;
  bool ready_ = false;
  std::map<std::string, std::filesystem::path> prepared_;
  std::string last_error_;
};

}  // namespace podagent::podworker
