#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/api_routes.h"
#include "agent/pod_store.h"
#include "base/clock.h"
#include "base/ids.h"
#include "model/pod.h"
#include "static-pods/manifest_source.h"

namespace podagent::podworker {
class PodWorkers;
}

namespace podagent::agent {

struct AgentMetrics;

struct PodConfigOptions {
  // Without pod workers (no runtime backend in this build): every pod is
  // stored with phase Pending, reason kReasonRuntimeUnavailable and this
  // message, and nothing runs.
  std::string unavailable_message = "the container runtime is not available";
  // Not owned; may be null. Fed with container restarts and pod start
  // latencies as statuses come in.
  AgentMetrics* metrics = nullptr;
};

inline constexpr const char* kReasonRuntimeUnavailable = "RuntimeUnavailable";

// Merges the sources of desired pods (the manifest directory's snapshots,
// the REST API's writes, the API pods persisted from an earlier run) into
// one set by UID, and keeps three things in step with it:
//   - the PodStore the API serves (desired pods, with the statuses the pod
//     workers report);
//   - the PodWorkers (update for a new or changed pod, remove for a pod no
//     longer desired); admission happens there, through the Admitter the
//     composer gave them;
//   - for a removed pod, PodStore::remove once its worker has finished
//     (reap()), so that watchers see it DELETED only when it is gone.
//
// A static pod's UID is a hash of its manifest: an edited file shows up as
// one UID removed and another added, and the store turns the second put of
// the same namespace/name into DELETED + ADDED.
//
// A static pod whose namespace/name is held by an API pod is not added
// (the API pod came first); the conflict is returned by conflicts(), and
// the pod is added once that API pod is gone.
//
// Single-threaded: every call on the io_context thread.
class PodConfig final : public PodSink {
 public:
  // `workers` may be null (see PodConfigOptions::unavailable_message). The
  // store, workers and clock must outlive this object.
  PodConfig(PodStore& store, podworker::PodWorkers* workers, base::Clock& clock,
            PodConfigOptions options = {});

  // The manifest directory's complete desired set (a SET, as the kubelet's
  // file source): pods absent from it are removed, new ones added.
  void set_static_pods(const static_pods::ManifestSnapshot& snapshot);
  // API pods saved by an earlier run: stored and started as if just created.
  void restore_api_pods(std::vector<model::Pod> pods);

  // ---- PodSink (the REST API's writes; the pod is already stored) ----
  void create(const model::Pod& pod) override;
  void replace(const model::Pod& pod) override;
  void remove(const base::PodUid& uid, int64_t grace_period_seconds) override;

  // The pod workers' status sink.
  void on_status(const base::PodUid& uid, const model::PodStatus& status);

  // Removes from the store every removed pod whose worker has finished.
  // Returns how many were removed. Called periodically by the composer
  // (PodWorkers reports no "finished" event).
  size_t reap();

  // Pods removed but not yet finished.
  size_t removing() const { return removing_.size(); }
  // Static pods desired now.
  size_t static_pod_count() const { return static_.size(); }
  // "<ns>/<name>" of static pods refused because an API pod holds the name.
  const std::set<std::string>& conflicts() const { return conflicts_; }

 private:
  // Stores (when `store_it`) and starts a desired pod.
  void start(const model::Pod& pod, bool store_it);
  // Stops a pod; it leaves the store once reaped.
  void stop(const base::PodUid& uid, std::optional<int64_t> grace_seconds);
  void observe_metrics(const base::PodUid& uid, const model::PodStatus& status);

  PodStore& store_;
  podworker::PodWorkers* workers_;
  base::Clock& clock_;
  PodConfigOptions options_;
  // The static pods started, by UID: the manifest snapshot's own pods.
  std::map<base::PodUid, std::shared_ptr<const model::Pod>> static_;
  std::set<base::PodUid> removing_;
  std::set<std::string> conflicts_;
  static_pods::ManifestSnapshot last_snapshot_;
  // When each pod became desired, until all its containers first ran.
  std::map<base::PodUid, base::SteadyTime> desired_at_;
  // The restart counts last seen, per pod and container, for the counter.
  std::map<base::PodUid, std::map<std::string, int32_t>> restarts_;
};

}  // namespace podagent::agent
