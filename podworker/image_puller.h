#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "base/backoff.h"
#include "base/clock.h"
#include "model/pod.h"
#include "podworker/pod_actions.h"
#include "podworker/pod_status_builder.h"
#include "podworker/pod_sync.h"
#include "runtime/runtime.h"

namespace podagent::podworker {

// The kubelet's waiting reasons for a container whose image is not there
// (pkg/kubelet/images/types.go).
inline constexpr const char* kErrImageNeverPull = "ErrImageNeverPull";
inline constexpr const char* kErrImagePull = "ErrImagePull";
inline constexpr const char* kImagePullBackOff = "ImagePullBackOff";

// True for the three reasons above.
bool is_image_reason(std::string_view reason);

// What ensuring one container's image came to.
struct ImageCheck {
  std::optional<std::string> image_id;   // set: the image is there, create the container
  std::optional<WaitingReason> waiting;  // otherwise: why the container waits
  std::optional<SteadyTime> retry_at;    // when the image's pull backoff ends
  bool pull_failed = false;              // a pull was tried now and failed
};

// The kubelet's image manager (images.EnsureImageExists) against the node's
// local image store, where "pulling" resolves a reference locally:
//
//   Never:        present -> ok; absent -> ErrImageNeverPull
//                 ("Container image "X" is not present with pull policy of Never"),
//                 with no backoff (the image can only appear by an import).
//   IfNotPresent: present -> ok; absent -> pull.
//   Always:       pull.
//   pull:         while the backoff of (pod UID, image) runs -> ImagePullBackOff
//                 ("Back-off pulling image "X""), without pulling; else pull,
//                 and a failed pull -> ErrImagePull with the runtime's message,
//                 recorded in that backoff (the kubelet's: 10 s doubling to
//                 300 s, forgotten after 10 minutes without a failure).
//
// An import ends the wait, whatever the policy: the backoff is there to
// spare a registry, and here the only thing that changes a missing image's
// pull is the user importing it. Never and IfNotPresent find it because
// they look in the store first; for Always, a failed pull that found the
// image absent is marked, and while its backoff runs each sync asks the
// store again and pulls once the image is there. A pull that failed with
// the image present (the store locked, unreadable) keeps its backoff.
//
// An empty imagePullPolicy (a pod that was not defaulted) counts as
// IfNotPresent. The backoff is per pod and image, as the kubelet's is, so
// two containers of a pod with one image share it, and a pod re-created
// with a new UID starts afresh.
//
// Lives on the pod workers' io_context thread; not thread-safe.
class ImagePuller {
 public:
  explicit ImagePuller(base::Backoff::Options backoff = {}) : backoff_(backoff) {}

  // REQUIRES: `runtime`, `clock`, `pod` and `container` outlive the task.
  runtime::Task<ImageCheck> ensure(runtime::Runtime& runtime, base::Clock& clock,
                                   const model::Pod& pod, const model::Container& container);

  // Forgets the backoffs that ended more than their reset period ago.
  void gc(SteadyTime now);
  const base::Backoff& backoff() const { return backoff_; }
  static std::string key(std::string_view pod_uid, std::string_view image);

 private:
  // True when `k` is in its backoff and the image is still to be imported
  // (see above): the pull waits.
  runtime::Task<bool> must_wait(runtime::Runtime& runtime, base::Clock& clock, const std::string& k,
                                const model::Container& container);

  base::Backoff backoff_;
  // The keys (of Always pulls) whose last failure found the image absent.
  std::unordered_set<std::string> absent_;
};

struct ImageStep {
  bool stopped = false;  // target.go_on() turned false on the way
};

// Ensures the image of every container that `plan` starts, in plan order,
// before the plan is executed (the kubelet pulls in startContainer, right
// before creating the container). A container whose image is not there is
// taken out of plan.start with its waiting reason recorded in
// target.waiting (an image reason of a container whose image is there is
// cleared); an init container or sidecar takes every later start with it,
// as they depend on it, while an app container goes alone. plan.next_wakeup
// is brought forward to the end of each pull backoff met, and, after a
// failed pull, to `now + retry_after`, so that the next sync reports
// ImagePullBackOff. The sandbox steps of the plan are left as they are: a
// pod waiting for an image keeps its sandbox, and the container starts in
// it once the image is there.
runtime::Task<ImageStep> ensure_images(ImagePuller& puller, SyncTarget& target, PodActions& plan,
                                       base::Duration retry_after);

}  // namespace podagent::podworker
