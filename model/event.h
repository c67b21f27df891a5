#pragma once

#include <cstdint>
#include <string>

#include "model/pod_status.h"

namespace podagent::model {

// One entry of a pod's event list, shaped like a core/v1 Event: repeats of
// the same (type, reason, field_path, message) are one entry with a count.
struct PodEvent {
  std::string type;        // "Normal" or "Warning"
  std::string reason;      // Pulled, Created, Started, Killing, Unhealthy, BackOff, FailedPostStartHook, ...
  std::string message;
  std::string field_path;  // "spec.containers{web}", "spec.initContainers{setup}"; empty: the pod
  WallTime first_timestamp{};
  WallTime last_timestamp{};
  int32_t count = 1;
  bool operator==(const PodEvent&) const = default;
};

}  // namespace podagent::model
