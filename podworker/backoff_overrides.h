#pragma once

#include <optional>
#include <string>

#include "base/backoff.h"
#include "base/result.h"
#include "model/annotations.h"
#include "model/pod.h"

namespace podagent::podworker {

using model::kAnnotationCrashloopInitial;
using model::kAnnotationCrashloopMax;

// The pod's CrashLoopBackOff options: the node's, with `initial` and `max`
// replaced by the pod's annotations podagent.io/crashloop-initial and
// podagent.io/crashloop-max when set (Go durations, see
// base::parse_duration: "1s", "500ms", "1m30s"); `reset` stays the node's.
// nullopt when the pod overrides nothing; an error, naming the annotation
// in `field`, when one is not a positive duration.
base::Result<std::optional<base::Backoff::Options>> backoff_overrides(
    const model::Pod& pod, const base::Backoff::Options& node);


}  // namespace podagent::podworker
