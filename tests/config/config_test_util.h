#pragma once

#include <string>

#include "config/agent_config.h"

namespace podagent::config::testing {

// Every "field: message" line of `errors`, for readable test failures.
inline std::string errors_of(const ConfigErrors& errors) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  return out;
}

}  // namespace podagent::config::testing
