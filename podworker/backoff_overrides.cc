#include "podworker/backoff_overrides.h"

#include <utility>

#include "base/duration.h"

namespace podagent::podworker {

base::Result<std::optional<base::Backoff::Options>> backoff_overrides(
    const model::Pod& pod, const base::Backoff::Options& node) {
  base::Backoff::Options options = node;
  bool any = false;
  for (auto [name, field] : {std::pair{kAnnotationCrashloopInitial, &options.initial},
                             std::pair{kAnnotationCrashloopMax, &options.max}}) {
    auto it = pod.metadata.annotations.find(name);
    if (it == pod.metadata.annotations.end()) continue;
    const std::string path = std::string("metadata.annotations[") + name + "]";
    auto d = base::parse_duration(it->second);
    if (!d) return base::Error(d.error().message, path);
    if (*d <= base::Duration::zero()) {
      return base::Error("invalid value \"" + it->second + "\": must be a positive duration", path);
    }
    *field = *d;
    any = true;
  }
  if (!any) return std::optional<base::Backoff::Options>();
  return std::optional<base::Backoff::Options>(options);
}

}  // namespace podagent::podworker
