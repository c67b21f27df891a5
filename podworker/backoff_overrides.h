#pragma once

#include <optional>
#include <string_view>

#include "base/backoff.h"
#include "base/result.h"
#include "model/pod.h"

namespace podagent::podworker {

inline constexpr const char* kAnnotationCrashloopInitial = "podagent.io/crashloop-initial";
inline constexpr const char* kAnnotationCrashloopMax = "podagent.io/crashloop-max";

// The pod's CrashLoopBackOff options: the node's, with `initial` and `max`
// replaced by the pod's annotations podagent.io/crashloop-initial and
// podagent.io/crashloop-max when set (Go durations: "1s", "500ms", "1m30s");
// `reset` stays the node's. nullopt when the pod overrides nothing; an
// error, naming the annotation, when one is not a positive duration.
base::Result<std::optional<base::Backoff::Options>> backoff_overrides(const model::Pod& pod,
                                                                      const base::Backoff::Options& node);

// A non-negative Go duration: decimal numbers with optional fractions, each
// with a unit among ns, us, ms, s, m, h ("1h30m", "1.5s"); "0" alone.
base::Result<base::Duration> parse_go_duration(std::string_view text);

}  // namespace podagent::podworker
