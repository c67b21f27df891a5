#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/backoff.h"
#include "base/clock.h"
#include "base/event_recorder.h"
#include "base/ids.h"
#include "model/config_object.h"
#include "model/pod.h"
#include "model/resource_fields.h"
#include "podworker/admission.h"
#include "podworker/image_puller.h"
#include "podworker/lifecycle.h"
#include "podworker/orphan_cleanup.h"
#include "podworker/pod_actions.h"
#include "runtime/runtime.h"
#include "volumes/volume_manager.h"

namespace podagent::podworker {

// One worker per pod UID, each a single coroutine that syncs its pod:
//
//   for (;;) { wait until dirty or next_wakeup; list the pod in the runtime;
//              plan (compute_pod_actions / compute_termination_actions);
//              execute; build the status; publish it if it changed }
//
// So two syncs of one pod never overlap; an update, delete, probe result or
// runtime event only marks the pod dirty and wakes its coroutine, and the
// next sync uses the newest desired pod (the latest update wins). A delete
// also makes an in-flight sync stop at its next runtime call, then the pod
// terminates: app containers, sidecars in reverse order, the sandbox; then
// its objects are removed and its worker dropped, its UID remembered so
// that it never starts again. Grace periods only shrink.
//
// Lives on one io_context thread (the executor's); every method must be
// called there. No locks. Destroying PodWorkers abandons the coroutines
// (they end without touching it when next resumed); call stop() and let
// the io_context run first for a clean end.
class PodWorkers {
 public:
  using StatusSink = std::function<void(const base::PodUid&, const model::PodStatus&)>;

  struct Options {
    base::Backoff::Options backoff;
    std::string node_name;
    std::string host_ip;
    // Containers log to <pod_logs_dir>/<namespace>_<name>_<uid>/<container>/<restart>.log;
    // empty: no log files.
    std::filesystem::path pod_logs_dir;
    // Called with a pod's status whenever it changes.
    StatusSink on_status;
    // Asked before a UID first starts; a refused pod is Failed for good.
    // Not owned; may be null (everything admitted).
    Admitter* admitter = nullptr;
    // Registers handle_*_event with the runtime's set_event_handlers.
    bool subscribe_events = true;
    // How long a sync waits before retrying after a runtime error (a failed
    // image pull included: the next sync then reports ImagePullBackOff).
    base::Duration retry_after = std::chrono::seconds(1);
    // The image pull backoff, per pod and image (see ImagePuller): the
    // kubelet's fixed 10 s doubling to 300 s by default.
    base::Backoff::Options image_backoff;
    // Called after each pod sync with how long it took: from before its
    // runtime listing to the end of its actions (runtime calls awaited
    // included), on the injected Clock's monotonic time, so that it is the
    // sync's elapsed (wall) time in the agent, whose clock is the steady
    // clock, and exact fake time in tests. A pod settled by the periodic
    // resync pass counts as a sync too (its listing and planning). May be
    // null.
    std::function<void(base::Duration)> on_sync_duration;
    // The grace period of the containers of an orphan: a pod in the
    // runtime that no worker owns (see set_sources_ready). The kubelet uses
    // the pod's own, unknown here without its spec.
    base::Duration orphan_grace = std::chrono::seconds(2);
    // Called when an orphan's cleanup ends, with what it removed. May be
    // null.
    std::function<void(const OrphanReport&)> on_orphan;
    // Called with the desired pod and what the runtime holds of it after
    // each listing of a pod by its sync or the resync pass, before planning
    // (so that probe results it reports through set_probe_state count in
    // that plan and status), for the probe manager; `terminating` once the
    // pod is being stopped. May be null.
    std::function<void(const model::Pod&, const ObservedPod&, bool terminating)> on_pod_listed;
    // Called when a pod's worker finishes (its objects removed). May be null.
    std::function<void(const base::PodUid&)> on_pod_finished;
    // Receives the pods' events (see SyncTarget::events). Not owned; may be
    // null.
    base::EventRecorder* events = nullptr;
    // Runs httpGet lifecycle hooks. Not owned; must outlive the workers and
    // the hooks they started; null: httpGet hooks fail.
    probes::Prober* hook_prober = nullptr;
    // Writes configMap, secret, downwardAPI and projected volumes before a
    // pod's containers start (see PodVolumes). Not owned; null: pods with
    // such volumes cannot start their containers (the runtime refuses the
    // volume kind).
    volumes::VolumeManager* volumes = nullptr;
    // What a downward API resourceFieldRef of a limit not set reads.
    model::NodeAllocatable node_allocatable;
  };

  PodWorkers(runtime::Runtime& runtime, base::Clock& clock, boost::asio::any_io_executor executor,
             Options options);
  ~PodWorkers();
  PodWorkers(const PodWorkers&) = delete;
  PodWorkers& operator=(const PodWorkers&) = delete;

  // Adds the pod (by metadata.uid), or replaces the desired spec of its
  // worker. Ignored for a UID that terminated (it never starts again).
  // REQUIRES: `desired` is defaulted and valid, with a uid.
  void update(model::Pod desired);
  // Deletes the pod: terminates it within `grace` (the pod's own grace
  // period when nullopt); a shorter grace than one already given shortens
  // it, a longer one is ignored. Unknown UIDs are ignored.
  void remove(const base::PodUid& uid, std::optional<base::Duration> grace = std::nullopt);
  // The periodic reconcile: every pod is synced once more, and stale
  // backoff entries are forgotten. One pass over the pods (a single
  // coroutine) lists each pod whose worker is idle and plans it in place;
  // only a pod with something to do (or whose listing failed, or whose
  // state is not Running) has its own worker woken to sync. A pod with a
  // sync in flight or due is left to that sync.
  void sync_all();
  // Ends every worker's coroutine at its next step, leaving the runtime as
  // it is (containers keep running across an agent restart).
  void stop();
  // Every source of desired pods has been read once, and each desired pod
  // given to update(): from now on, whatever the runtime holds of a pod UID
  // without a worker is an orphan, stopped (Options::orphan_grace) and
  // removed, sandboxes last (OrphanCleanup): at once, then with each
  // sync_all(). Never before, so that an agent starting does not kill the
  // pods it has not read yet. A UID that gets a worker while its orphan
  // cleanup runs is not touched from then on, and its worker's first sync
  // waits for that cleanup to end. Idempotent.
  void set_sources_ready();
  bool sources_ready() const { return sources_ready_; }

  // The ConfigMaps and Secrets as they are now: containers created from now
  // on read them (env), and the written volumes of every pod that reads
  // them are brought up to date at once.
  void set_config_objects(model::ConfigObjectsPtr objects);

  // Probe results for the current instance of `container`.
  void set_probe_state(const base::PodUid& uid, const std::string& container, ProbeState state);
  // The instance's liveness (or startup) probe failed: it is killed, with
  // `message` ("Container web failed startup probe, will be restarted";
  // empty: the liveness one) and within `grace` (the probe's
  // terminationGracePeriodSeconds; nullopt: the pod's), and restarted per
  // restartPolicy.
  void set_liveness_failed(const base::PodUid& uid, const base::ContainerId& id, std::string message = {},
                           std::optional<base::Duration> grace = std::nullopt);

  // Evicts a Running pod, as the kubelet's eviction manager does: every
  // container is killed at once (grace period 0, no preStop hook), the pod
  // ends Failed with reason Evicted and `message`, a `Warning Evicted`
  // event says why, and nothing of it restarts whatever its restartPolicy.
  // False (nothing done) for a pod that is not Running: unknown, not yet
  // admitted, or already stopping.
  bool evict(const base::PodUid& uid, const std::string& message);
  // The desired pods of the workers in the Running state (admitted, not
  // stopping), for the checks that may evict them.
  std::vector<std::shared_ptr<const model::Pod>> running_pods() const;

  void handle_container_event(const runtime::ContainerEvent& event);
  void handle_sandbox_event(const runtime::SandboxEvent& event);

  // The last status built; nullopt for unknown or finished UIDs.
  std::optional<model::PodStatus> status(const base::PodUid& uid) const;
  std::optional<lifecycle::State> state(const base::PodUid& uid) const;
  // True when the pod's worker waits for work: no sync in flight and none
  // due at once (false for unknown UIDs). Its status then reflects the
  // runtime as last listed.
  bool idle(const base::PodUid& uid) const;
  // Pods with a worker (not finished).
  size_t pod_count() const { return workers_.size(); }
  bool is_finished(const base::PodUid& uid) const { return finished_.contains(uid); }
  const base::Backoff& backoff() const { return backoff_; }
  const base::Backoff& image_backoff() const { return images_.backoff(); }
  const OrphanCleanup& orphan_cleanup() const { return *orphans_; }
  // Syncs run so far, for tests and benchmarks.
  uint64_t sync_count() const { return syncs_; }

 private:
  struct Worker;

  Worker* find(const base::PodUid& uid) const;
  void wake(Worker& w);
  runtime::Task<void> run(Worker& w, std::shared_ptr<bool> alive);
  runtime::Task<void> resync_pass(std::shared_ptr<bool> alive);
  bool check_settled(Worker& w, const base::Status& listed, const ObservedPod& observed);
  void observe_sync(base::SteadyTime started) const;
  PodActions plan_live(const Worker& w, const ObservedPod& observed) const;
  runtime::Task<void> sync(Worker& w, const std::shared_ptr<bool>& alive);
  runtime::Task<void> sync_live(Worker& w, const ObservedPod& observed, const std::shared_ptr<bool>& alive);
  runtime::Task<void> sync_terminating(Worker& w, const ObservedPod& observed, const std::shared_ptr<bool>& alive);
  runtime::Task<base::Result<ObservedPod>> list(const base::PodUid& uid);
  void record_failures(Worker& w, const ObservedPod& observed);
  void admit(Worker& w);
  void publish(Worker& w, const ObservedPod& observed, const PodActions* plan);
  void apply(Worker& w, const lifecycle::Event& event);
  void hurry(Worker& w, base::SteadyTime deadline);
  void after_action(Worker& w);
  bool refresh_volumes(Worker& w);

  runtime::Runtime& runtime_;
  base::Clock& clock_;
  boost::asio::any_io_executor executor_;
  Options options_;
  base::Backoff backoff_;
  ImagePuller images_;
  std::unordered_map<base::PodUid, std::unique_ptr<Worker>> workers_;
  std::unordered_set<base::PodUid> finished_;
  std::shared_ptr<bool> alive_;
  // The workers a resync pass still has to look at, from `pass_next_` on
  // (null: erased since). A worker is queued at most once.
  std::vector<Worker*> pass_queue_;
  size_t pass_next_ = 0;
  bool pass_running_ = false;
  bool stopping_ = false;
  bool sources_ready_ = false;
  uint64_t syncs_ = 0;
  model::ConfigObjectsPtr objects_;
  // Declared last: destroyed first, so that its coroutines never see this
  // object half destroyed.
  std::unique_ptr<OrphanCleanup> orphans_;
};

}  // namespace podagent::podworker
