#include "probes/probe_worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>

namespace podagent::probes {
namespace asio = boost::asio;

namespace {

base::Duration seconds_or(const std::optional<int64_t>& v, int64_t fallback) {
  return std::chrono::seconds(std::max<int64_t>(1, v.value_or(fallback)));
}

}  // namespace

ProbeResult initial_result(ProbeType type) {
  return type == ProbeType::Liveness ? ProbeResult::Success : ProbeResult::Failure;
}

// The loop's state, shared by the worker and its coroutine, so that the
// coroutine can outlive the worker (an attempt in flight when it stops).
struct ProbeWorker::Loop {
  Loop(Prober& p, base::Clock& c, ProbeWorkerSpec s, ProbeWorkerHooks h, asio::any_io_executor executor)
      : prober(p),
        clock(c),
        spec(std::move(s)),
        hooks(std::move(h)),
        timer(c.make_timer(std::move(executor))),
        period(seconds_or(spec.probe.period_seconds, 10)),
        timeout(std::chrono::duration_cast<std::chrono::milliseconds>(seconds_or(spec.probe.timeout_seconds, 1))),
        result(initial_result(spec.type)) {}

  Prober& prober;
  base::Clock& clock;
  ProbeWorkerSpec spec;
  ProbeWorkerHooks hooks;
  std::unique_ptr<base::Timer> timer;
  base::Duration period;
  std::chrono::milliseconds timeout;
  ProbeResult result;
  // The kubelet's lastResult and resultRun: the latest outcome and how many
  // times in a row it came.
  std::optional<ProbeResult> last;
  int64_t run = 0;
  uint64_t attempts = 0;
  bool stopped = false;
  bool done = false;

  bool may_probe() const {
    if (clock.now() < spec.probe_from) return false;
    if (spec.type == ProbeType::Startup || !hooks.may_probe) return true;
    return hooks.may_probe();
  }

  // Counts `r` and reports at a threshold. Returns false when the loop is
  // to end (held or done, or stopped by a hook).
  bool count(ProbeResult r) {
    run = last == r ? run + 1 : 1;
    last = r;
    const int64_t threshold = r == ProbeResult::Success ? spec.probe.success_threshold.value_or(1)
                                                        : spec.probe.failure_threshold.value_or(3);
    if (run < threshold) return true;
    const bool kill = r == ProbeResult::Failure && spec.type != ProbeType::Readiness;
    const bool started = r == ProbeResult::Success && spec.type == ProbeType::Startup;
    const bool changed = r != result;
    result = r;
    if (kill || started) {
      done = true;  // before the hook, which may look at the worker
      run = 0;
    }
    if ((changed || kill) && hooks.on_result) hooks.on_result(r);
    return !done && !stopped;
  }
};

namespace {

// The first tick after `now` of the schedule `tick` + k * period.
base::SteadyTime next_tick(base::SteadyTime tick, base::SteadyTime now, base::Duration period) {
  if (now < tick + period) return tick + period;
  const auto missed = (now - tick) / period;
  return tick + (missed + 1) * period;
}

asio::awaitable<void> run_loop(std::shared_ptr<ProbeWorker::Loop> loop) {
  ProbeWorker::Loop& l = *loop;
  base::SteadyTime tick = l.clock.now() + l.spec.first_delay;
  const ProbeTarget target{l.spec.pod_uid, l.spec.sandbox_id, l.spec.container_id, l.spec.pod_ip,
                           &l.spec.container};
  for (;;) {
    l.timer->expires_at(tick);
    bool fired = co_await l.timer->wait();
    (void)fired;  // only stop() cancels the timer
    if (l.stopped) co_return;
    if (l.may_probe()) {
      const base::SteadyTime began = l.clock.now();
      ProbeOutcome outcome = co_await l.prober.probe(target, l.spec.probe.handler, l.timeout);
      if (l.stopped) co_return;
      ++l.attempts;
      if (l.hooks.on_attempt) l.hooks.on_attempt(outcome, l.clock.now() - began);
      if (l.stopped || !l.count(outcome.result)) co_return;
    }
    tick = next_tick(tick, l.clock.now(), l.period);
  }
}

}  // namespace

ProbeWorker::ProbeWorker(Prober& prober, base::Clock& clock, asio::any_io_executor executor, ProbeWorkerSpec spec,
                         ProbeWorkerHooks hooks) {
  loop_ = std::make_shared<Loop>(prober, clock, std::move(spec), std::move(hooks), executor);
  asio::co_spawn(executor, run_loop(loop_), asio::detached);
}

ProbeWorker::~ProbeWorker() { stop(); }

void ProbeWorker::stop() {
  if (loop_->stopped) return;
  loop_->stopped = true;
  loop_->timer->cancel();
}

const ProbeWorkerSpec& ProbeWorker::spec() const { return loop_->spec; }
ProbeResult ProbeWorker::result() const { return loop_->result; }
bool ProbeWorker::done() const { return loop_->done; }
uint64_t ProbeWorker::attempts() const { return loop_->attempts; }

}  // namespace podagent::probes
