#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/result.h"

namespace podagent::base {

// The same alias as in base/clock.h, repeated so that code which only reads
// or writes durations does not include the clock's asio headers. It counts
// nanoseconds (duration.cc checks), as Go's time.Duration does.
using Duration = std::chrono::steady_clock::duration;

// Parses a Go / Kubernetes duration exactly as Go's time.ParseDuration: an
// optional sign, then one or more decimal numbers (with an optional
// fraction) each followed by a unit: "ns", "us" ("µs", "μs"), "ms", "s", "m",
// "h". Examples: "10s", "1h30m", "300ms", "1.5s", ".5s", "-2m". A bare "0" is
// the only number allowed without a unit. Digits finer than a nanosecond are
// dropped. Refuses anything else ("10", "1d", "1s 2m", "", " 1s") and values
// beyond about 292 years, with a reason:
//   invalid duration "10": missing unit (one of ns, us, ms, s, m, h)
base::Result<Duration> parse_duration(std::string_view text);

// Writes `d` as Go's time.Duration.String() does, so that messages match
// the kubelet's word for word ("back-off 5m0s restarting failed ..."):
//   0 -> "0s", 1500ms -> "1.5s", 90s -> "1m30s", 300s -> "5m0s",
//   1h -> "1h0m0s", 300ms -> "300ms", 1500us -> "1.5ms", 5us -> "5µs",
//   -2min -> "-2m0s".
// parse_duration reads every result back to `d`.
std::string format_duration(Duration d);

// Writes the shortest ASCII form that parse_duration reads back to `d`, for
// configuration files and messages about them, where "5m0s" is noise:
//   0 -> "0s", 60s -> "1m", 90min -> "1h30m", 3601s -> "1h1s",
//   1500ms -> "1.5s", 300ms -> "300ms", 5us -> "5us", -2min -> "-2m".
// Below a second it uses the largest of ms, us, ns that divides `d` exactly.
std::string format_duration_short(Duration d);

}  // namespace podagent::base
