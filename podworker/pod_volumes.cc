#include "podworker/pod_volumes.h"

#include "volumes/empty_dir.h"

namespace podagent::podworker {

bool env_reads_config_objects(const model::Container& c) {
  for (const auto& e : c.env_from)
    if (e.config_map_ref || e.secret_ref) return true;
  for (const auto& e : c.env)
    if (e.value_from && (e.value_from->config_map_key_ref || e.value_from->secret_key_ref))
      return true;
  return false;
}

bool has_written_volumes(const model::Pod& pod) {
  for (const auto& v : pod.spec.volumes)
    if (v.config_map || v.secret || v.downward_api || v.projected || volumes::is_disk_empty_dir(v))
      return true;
  return false;
}

bool reads_config_objects(const model::Pod& pod) {
  for (const auto& v : pod.spec.volumes) {
    if (v.config_map || v.secret) return true;
    if (!v.projected) continue;
    for (const auto& s : v.projected->sources)
      if (s.config_map || s.secret) return true;
  }
  for (const auto* list : {&pod.spec.init_containers, &pod.spec.containers})
    for (const auto& c : *list)
      if (env_reads_config_objects(c)) return true;
  return false;
}

bool PodVolumes::refresh(volumes::VolumeManager& manager, const std::shared_ptr<const model::Pod>& pod,
                         const model::ConfigObjectsPtr& objects, const model::NodeAllocatable& node,
                         const ErrorHandler& on_error) {
  if (!has_written_volumes(*pod)) return true;
  if (pod == pod_ && objects == objects_) return ready_;
  static const model::ConfigObjects kNone;
  auto written = manager.prepare(*pod, objects ? *objects : kNone, node);
  if (!written) {
    if (written.error().message != last_error_) {
      last_error_ = written.error().message;
      on_error(last_error_);
    }
    return ready_;
  }
  pod_ = pod;
  objects_ = objects;
  ready_ = true;
  prepared_ = std::move(*written);
  last_error_.clear();
  return true;
}

}  // namespace podagent::podworker
