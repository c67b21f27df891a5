#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/ids.h"
#include "model/pod.h"
#include "probes/prober.h"

namespace podagent::probes {

// What one probe loop probes: one probe type of one container instance.
// Copied into the loop, which owns it.
struct ProbeWorkerSpec {
  ProbeType type = ProbeType::Readiness;
  model::Probe probe;  // defaulted: period, timeout and thresholds set
  base::PodUid pod_uid;
  base::SandboxId sandbox_id;
  base::ContainerId container_id;
  std::string pod_ip;          // the pod's first IP; empty: loopback-only
  model::Container container;  // for named ports
  // No probe before this instant (the instance's start plus
  // initialDelaySeconds, on the Clock's monotonic time): ticks before it
  // are skipped, as the kubelet does.
  base::SteadyTime probe_from{};
  // From the loop's creation to its first tick: the jitter, in [0, period),
  // that spreads the loops of many containers over the period.
  base::Duration first_delay{};
};

// What a loop reports. Called on the loop's executor, never after stop()
// or the worker's destruction; each may destroy the worker.
struct ProbeWorkerHooks {
  // Asked at each tick of a liveness or readiness loop: false skips the
  // tick (the container's startup probe has not succeeded yet). Null:
  // always true. Not asked by a startup loop.
  std::function<bool()> may_probe;
  // After each attempt, with its outcome and how long it took.
  std::function<void(const ProbeOutcome&, base::Duration)> on_attempt;
  // The probe's result at its threshold: Success after successThreshold
  // successes in a row, Failure after failureThreshold failures in a row.
  // Called when that changes the result, which starts as not ready
  // (readiness: Failure), alive (liveness: Success) or not started
  // (startup: Failure); and for every liveness or startup Failure at its
  // threshold (the container is to be killed).
  std::function<void(ProbeResult)> on_result;
};

// One probe loop, the kubelet's prober worker, as a coroutine on the
// executor (the agent's io_context), with the Clock:
//
//   wait first_delay; then every periodSeconds:
//     skip before probe_from, or while may_probe() is false;
//     probe once within timeoutSeconds; count runs of equal outcomes;
//     at a threshold, report (on_result);
//     a liveness or startup Failure reported: hold (probe no more);
//     a startup Success reported: done (probe no more).
//
// A tick missed while an attempt ran is dropped. The loop starts in the
// constructor and ends at stop() or destruction; an attempt in flight then
// completes inside the prober (within its timeout) and is ignored. Holding
// until the container instance changes is the owner's part: it replaces
// the worker for the new instance. `prober` and `clock` must outlive every
// loop's coroutine (the io_context's run). Every method must be called on
// the executor's thread.
class ProbeWorker {
 public:
  ProbeWorker(Prober& prober, base::Clock& clock, boost::asio::any_io_executor executor, ProbeWorkerSpec spec,
              ProbeWorkerHooks hooks);
  ~ProbeWorker();
  ProbeWorker(const ProbeWorker&) = delete;
  ProbeWorker& operator=(const ProbeWorker&) = delete;

  // Ends the loop at its next step. Idempotent.
  void stop();

  const ProbeWorkerSpec& spec() const;
  // The result as last reported (or the initial one).
  ProbeResult result() const;
  // True once the loop probes no more: held after a kill, or a startup
  // probe that succeeded.
  bool done() const;
  // Attempts made so far.
  uint64_t attempts() const;

  struct Loop;

 private:
  std::shared_ptr<Loop> loop_;
};

// The result a probe of `type` has before its first report.
ProbeResult initial_result(ProbeType type);

}  // namespace podagent::probes
