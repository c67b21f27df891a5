#pragma once

#include <optional>

namespace podagent::probes {

// The latest results of a container's probes, as the pod worker's planner
// and status builder read them.
struct ProbeState {
  std::optional<bool> started;  // startup probe: nullopt when it has none
  bool ready = false;
  bool operator==(const ProbeState&) const = default;
};

}  // namespace podagent::probes
