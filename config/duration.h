#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace podagent::config {

using Duration = std::chrono::nanoseconds;

// Parses a Go / Kubernetes duration string exactly as Go's time.ParseDuration:
// an optional sign, then one or more decimal numbers (with an optional
// fraction) each followed by a unit: "ns", "us" ("µs", "μs"), "ms", "s", "m",
// "h". Examples: "10s", "1h30m", "300ms", "1.5s", "-2m". A bare "0" is the
// only number allowed without a unit. Refuses anything else ("10", "1d",
// "1s 2m", "") and values beyond about 292 years, with a reason.
base::Result<Duration> parse_duration(std::string_view text);

// Writes the shortest form that parse_duration reads back to the same value:
// 60s -> "1m", 90m -> "1h30m", 1500ms -> "1.5s", 300ms -> "300ms", 0 -> "0s".
std::string format_duration(Duration d);

}  // namespace podagent::config
