#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "base/event_recorder.h"
#include "base/ids.h"
#include "model/pod.h"
#include "probes/probe_state.h"
#include "probes/probe_worker.h"
#include "probes/prober.h"
#include "runtime/runtime.h"

namespace podagent::probes {

// Runs the probe loops of every pod: one ProbeWorker per (pod, running
// container instance, probe type), for the containers that run beside the
// app (sidecars: init containers with restartPolicy Always) and the app
// containers; not for regular init or ephemeral containers.
//
// It learns what runs from update(), which the pod worker calls with the
// desired pod and what the runtime holds of it after each listing: a
// container whose running instance changed gets new loops (and its probe
// state back to the initial one: not started, not ready); one that no
// longer runs loses them. Its outputs are the callbacks of Options, so that
// probes/ knows nothing of the pod worker or the agent.
//
// Lives on one io_context thread (the executor's); every method must be
// called there, and every callback is called there, never from inside
// update() or remove() (except on_state, reported by update() when an
// instance starts or stops). No locks.
class ProbeManager {
 public:
  struct Options {
    // A container's probe results changed (or were reset for a new
    // instance): `container` is its name in the pod's spec.
    std::function<void(const base::PodUid&, const std::string& container, const ProbeState&)> on_state;
    // The instance failed its liveness or startup probe at its threshold
    // and must be killed: `message` is the kubelet's ("Container web failed
    // liveness probe, will be restarted"), `grace` the probe's
    // terminationGracePeriodSeconds when set. Called once per instance.
    std::function<void(const base::PodUid&, const base::ContainerId&, std::string message,
                       std::optional<base::Duration> grace)>
        on_kill;
    // Receives an "Unhealthy" Warning for every failed attempt ("Liveness
    // probe failed: HTTP probe failed with statuscode: 500"). Not owned;
    // may be null.
    base::EventRecorder* events = nullptr;
    // Every attempt: its type, result and duration (metrics). May be null.
    std::function<void(ProbeType, ProbeResult, base::Duration)> observe;
    // The delay before a new loop's first tick, given the probe's period;
    // must be in [0, period). Null: uniformly random.
    std::function<base::Duration(base::Duration period)> jitter;
  };

  // `prober` and `clock` must outlive the io_context's run.
  ProbeManager(Prober& prober, base::Clock& clock, boost::asio::any_io_executor executor, Options options);
  ~ProbeManager();
  ProbeManager(const ProbeManager&) = delete;
  ProbeManager& operator=(const ProbeManager&) = delete;

  // Starts and stops the pod's loops to match `observed`: for each probed
  // container of `pod` (defaulted, with metadata.uid), loops for its newest
  // running instance, none when it has none. Cheap for a pod without
  // probes and for one whose instances did not change. Ignored after
  // stop(). Once `terminating` (the pod is being stopped), its liveness and
  // startup loops stop for good, as the kubelet's do; readiness goes on.
  void update(const model::Pod& pod, const runtime::PodRuntimeState& observed, bool terminating = false);
  // Stops every loop of the pod and forgets it (its worker finished).
  void remove(const base::PodUid& uid);
  // Stops every loop; update() is ignored from then on.
  void stop();

  // Loops running or held, of one pod or of all; for tests and metrics.
  size_t worker_count(const base::PodUid& uid) const;
  size_t worker_count() const;
  // The worker of one probe of a container, null when there is none.
  const ProbeWorker* worker(const base::PodUid& uid, const std::string& container, ProbeType type) const;

  struct ContainerProbes;
  struct PodProbes;

 private:
  void start_instance(const base::PodUid& uid, ContainerProbes& cp, const runtime::ContainerStatus& instance,
                      const runtime::PodRuntimeState& observed, bool readiness_only);
  std::unique_ptr<ProbeWorker> make_worker(const base::PodUid& uid, ProbeType type, const model::Probe& probe,
                                           ProbeWorkerSpec base);
  void on_attempt(const base::PodUid& uid, const std::string& container, ProbeType type,
                  const ProbeOutcome& outcome, base::Duration took);
  void on_result(const base::PodUid& uid, const std::string& container, ProbeType type, ProbeResult result);
  ContainerProbes* find(const base::PodUid& uid, const std::string& container);
  base::Duration jitter(base::Duration period);

  Prober& prober_;
  base::Clock& clock_;
  boost::asio::any_io_executor executor_;
  Options options_;
  std::mt19937_64 random_;
  std::unordered_map<base::PodUid, std::unique_ptr<PodProbes>> pods_;
  bool stopped_ = false;
};

}  // namespace podagent::probes
