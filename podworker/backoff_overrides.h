#pragma once

#include <optional>
#include <string>

#include "base/backoff.h"
#include "base/result.h"
#include "model/pod.h"

namespace podagent::podworker {

inline constexpr const char* kAnnotationCrashloopInitial = "podagent.io/crashloop-initial";
inline constexpr const char* kAnnotationCrashloopMax = "podagent.io/crashloop-max";

// The pod's CrashLoopBackOff options: the node's, with `initial` and `max`
// replaced by the pod's annotations podagent.io/crashloop-initial and
// podagent.io/crashloop-max when set (Go durations, see
// base::parse_duration: "1s", "500ms", "1m30s"); `reset` stays the node's.
// nullopt when the pod overrides nothing; an error, naming the annotation
// in `field`, when one is not a positive duration.
base::Result<std::optional<base::Backoff::Options>> backoff_overrides(
    const model::Pod& pod, const base::Backoff::Options& node);

// backoff_overrides with its fallback made explicit, for a caller that must
// go on with some backoff. `options` is the pod's override, or nullopt for
// the node's own options: when the pod sets no annotation, and also when an
// annotation is invalid (then none of the pod's annotations is applied).
// In that last case `problem` says why, ready for a log line or an event:
//   metadata.annotations[podagent.io/crashloop-max]: invalid duration "10":
//   missing unit (one of ns, us, ms, s, m, h)
// and is empty otherwise. Pure: reporting it is the caller's job.
struct PodBackoff {
  std::optional<base::Backoff::Options> options;
  std::string problem;
};
PodBackoff pod_backoff(const model::Pod& pod, const base::Backoff::Options& node);

}  // namespace podagent::podworker
