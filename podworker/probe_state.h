#pragma once

#include <optional>

namespace podagent::podworker {

// The latest results of a container's probes, as the planner and the status
// builder read them.
struct ProbeState {
  std::optional<bool> started;  // startup probe: nullopt when it has none
  bool ready = false;
  bool operator==(const ProbeState&) const = default;
};

}  // namespace podagent::podworker
