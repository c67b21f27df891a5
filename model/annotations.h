#pragma once

namespace podagent::model {

// podagent's own pod annotations. Validation checks their values, so a pod
// that carries a malformed one is refused like any other invalid input.

// Per-pod CrashLoopBackOff overrides: Go durations ("1s", "500ms"), > 0.
inline constexpr const char* kAnnotationCrashloopInitial = "podagent.io/crashloop-initial";
inline constexpr const char* kAnnotationCrashloopMax = "podagent.io/crashloop-max";

}  // namespace podagent::model
