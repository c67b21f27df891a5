#pragma once

#include <string>
#include <string_view>

#include "base/ids.h"

namespace podagent::base {

// Where the pod workers and the probes report what happened to a pod, for
// its event list (`GET .../pods/{name}/events`, `podagent describe pod`).
// Called on the io_context thread; must not block.
class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // `type` is "Normal" or "Warning"; `field_path` names the container as
  // "spec.containers{name}" (or initContainers, ephemeralContainers), empty
  // for the pod itself.
  virtual void record(const PodUid& pod, std::string_view type, std::string_view reason,
                      std::string_view field_path, std::string message) = 0;
};

}  // namespace podagent::base
