#include "podworker/image_puller.h"

#include <algorithm>

namespace podagent::podworker {

namespace {

void wake_by(PodActions& plan, SteadyTime at) {
  if (!plan.next_wakeup || at < *plan.next_wakeup) plan.next_wakeup = at;
}

}  // namespace

bool is_image_reason(std::string_view reason) {
  return reason == kErrImageNeverPull || reason == kErrImagePull || reason == kImagePullBackOff;
}

std::string ImagePuller::key(std::string_view pod_uid, std::string_view image) {
  // The kubelet's key: "<pod UID>_<image>".
  std::string k(pod_uid);
  k += '_';
  k += image;
  return k;
}

runtime::Task<ImageCheck> ImagePuller::ensure(runtime::Runtime& runtime, base::Clock& clock,
                                              const model::Pod& pod,
                                              const model::Container& container) {
  const std::string& image = container.image;
  const std::string& policy = container.image_pull_policy;
  ImageCheck out;
  if (policy != "Always") {
    base::Result<std::optional<std::string>> present = co_await runtime.image_status(image);
    if (present && *present) {
      out.image_id = **present;
      co_return out;
    }
    // An image_status error is taken as absence: the pull below says why.
    if (policy == "Never") {
      out.waiting =
          WaitingReason{kErrImageNeverPull, "Container image \"" + image +
                                                "\" is not present with pull policy of Never"};
      co_return out;
    }
  }
  const std::string k = key(pod.metadata.uid, image);
  if (co_await must_wait(runtime, clock, k, container)) {
    out.waiting = WaitingReason{kImagePullBackOff, "Back-off pulling image \"" + image + "\""};
    out.retry_at = backoff_.restart_allowed_at(k);
    co_return out;
  }
  base::Result<std::string> pulled = co_await runtime.pull_image(image);
  if (pulled) {
    absent_.erase(k);
    out.image_id = *pulled;
    co_return out;
  }
  backoff_.record_failure(k, clock.now());
  if (policy == "Always") {
    // Otherwise the image is known absent: the status above said so.
    base::Result<std::optional<std::string>> present = co_await runtime.image_status(image);
    if (present && !*present)
      absent_.insert(k);
    else
      absent_.erase(k);
  }
  out.waiting = WaitingReason{kErrImagePull, pulled.error().message};
  out.retry_at = backoff_.restart_allowed_at(k);
  out.pull_failed = true;
  co_return out;
}

runtime::Task<bool> ImagePuller::must_wait(runtime::Runtime& runtime, base::Clock& clock,
                                           const std::string& k,
                                           const model::Container& container) {
  if (!backoff_.in_backoff(k, clock.now())) co_return false;
  if (container.image_pull_policy != "Always" || !absent_.contains(k)) co_return true;
  base::Result<std::optional<std::string>> present = co_await runtime.image_status(container.image);
  co_return !(present && *present);  // imported since: pull now
}

void ImagePuller::gc(SteadyTime now) {
  backoff_.gc(now);
  std::erase_if(absent_, [this](const std::string& k) { return !backoff_.restart_allowed_at(k); });
}

runtime::Task<ImageStep> ensure_images(ImagePuller& puller, SyncTarget& t, PodActions& plan,
                                       base::Duration retry_after) {
  ImageStep out;
  std::vector<ContainerStart> kept;
  kept.reserve(plan.start.size());
  for (const auto& s : plan.start) {
    if (!t.go_on()) {
      out.stopped = true;
      co_return out;
    }
    ImageCheck check = co_await puller.ensure(t.runtime, t.clock, *t.pod, container_of(*t.pod, s));
    if (!t.go_on()) {
      out.stopped = true;
      co_return out;
    }
    if (check.image_id) {
      auto it = t.waiting.find(s.name);
      if (it != t.waiting.end() && is_image_reason(it->second.reason)) t.waiting.erase(it);
      kept.push_back(s);
      continue;
    }
    if (check.waiting) t.waiting[s.name] = *check.waiting;
    if (check.retry_at) wake_by(plan, *check.retry_at);
    if (check.pull_failed) wake_by(plan, t.clock.now() + retry_after);
    // Later starts wait for an init container or sidecar; app and ephemeral
    // containers do not wait for each other.
    if (s.kind == ContainerKind::Init || s.kind == ContainerKind::Sidecar) break;
  }
  plan.start = std::move(kept);
  co_return out;
}

}  // namespace podagent::podworker
