#include "podworker/pod_workers.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include "podworker/backoff_overrides.h"
#include "podworker/pod_status_builder.h"
#include "podworker/pod_sync.h"
#include "podworker/pod_volumes.h"

namespace podagent::podworker {
namespace asio = boost::asio;
using lifecycle::State;

namespace {

// A sync that acted is followed at once by another, to see the effect. A
// runtime that reports success but never changes what it lists would make
// that a hot loop; past this many in a row at one instant, the worker waits
// `retry_after` instead.
constexpr int kMaxImmediateResyncs = 32;

// One desired update with what is derived from it once: the container
// hashes and the pod's backoff options. Shared with in-flight syncs, so
// that a newer update never changes the pod under a running sync.
struct Desired {
  model::Pod pod;
  PodSpecHashes hashes;
  std::optional<base::Backoff::Options> backoff;
};

const std::string* hash_of(const Desired& d, std::string_view name) {
  for (size_t i = 0; i < d.pod.spec.init_containers.size(); ++i)
    if (d.pod.spec.init_containers[i].name == name) return &d.hashes.init[i];
  for (size_t i = 0; i < d.pod.spec.containers.size(); ++i)
    if (d.pod.spec.containers[i].name == name) return &d.hashes.app[i];
  return nullptr;
}

// The part of a listing that can change without a change of ids: each
// object's state (runtime.h: an id's identity fields never change). What a
// status was built from, kept compact so that a settled pod's sync can tell
// cheaply that its status would come out the same.
struct ObservedDigest {
  struct Container {
    base::ContainerId id;
    runtime::ContainerState state;
    int32_t exit_code;
    std::string reason;
    std::string message;
    std::optional<model::WallTime> started_at;
    std::optional<model::WallTime> finished_at;
  };
  struct Sandbox {
    base::SandboxId id;
    runtime::SandboxState state;
    std::vector<std::string> ips;
  };
  std::vector<Sandbox> sandboxes;
  std::vector<Container> containers;

  explicit ObservedDigest(const ObservedPod& o) {
    sandboxes.reserve(o.sandboxes.size());
    for (const auto& s : o.sandboxes) sandboxes.push_back({s.id, s.state, s.ips});
    containers.reserve(o.containers.size());
    for (const auto& c : o.containers)
      containers.push_back({c.id, c.state, c.exit_code, c.reason, c.message, c.started_at, c.finished_at});
  }
  bool matches(const ObservedPod& o) const {
    auto same_sandbox = [](const Sandbox& d, const runtime::SandboxStatus& s) {
      return d.id == s.id && d.state == s.state && d.ips == s.ips;
    };
    auto same_container = [](const Container& d, const runtime::ContainerStatus& c) {
      return d.id == c.id && d.state == c.state && d.exit_code == c.exit_code && d.reason == c.reason &&
             d.message == c.message && d.started_at == c.started_at && d.finished_at == c.finished_at;
    };
    return std::equal(sandboxes.begin(), sandboxes.end(), o.sandboxes.begin(), o.sandboxes.end(), same_sandbox) &&
           std::equal(containers.begin(), containers.end(), o.containers.begin(), o.containers.end(), same_container);
  }
};

bool nothing_to_do(const PodActions& plan) {
  return !plan.create_sandbox && plan.kill.empty() && plan.stop_sandboxes.empty() && plan.remove.empty() &&
         plan.remove_sandboxes.empty() && plan.start.empty() && plan.prepare.empty();
}

bool is_newest_of_its_name(const ObservedPod& observed, const runtime::ContainerStatus& c) {
  return std::none_of(observed.containers.begin(), observed.containers.end(), [&](const runtime::ContainerStatus& o) {
    return o.name == c.name && o.attempt > c.attempt && o.state != runtime::ContainerState::Created;
  });
}

}  // namespace

struct PodWorkers::Worker {
  base::PodUid uid;
  std::shared_ptr<const Desired> desired;
  State state = lifecycle::Pending{};
  std::optional<PodFailure> failure;  // rejection or deadline: forces Failed
  bool rejected = false;
  std::unique_ptr<base::Timer> timer;
  bool dirty = true;        // sync again without waiting
  bool syncing = false;     // a sync is in flight
  bool abort_sync = false;  // the in-flight sync stops at its next step
  bool queued = false;      // in the resync pass's queue
  bool checking = false;    // the resync pass is listing it: no sync meanwhile
  std::optional<base::SteadyTime> wakeup;
  model::PodStatus status;
  bool published = false;
  // What `status` was built from: the runtime's state, and whether any other
  // input (spec, probes, waiting reasons, lifecycle, back-offs) may have
  // changed since. A sync that finds both unchanged skips the rebuild.
  std::optional<ObservedDigest> status_observed;
  bool status_inputs_changed = true;
  bool status_had_backoffs = false;
  ProbeStates probes;
  std::vector<ProbeFailure> liveness_failed;
  std::vector<base::ContainerId> recorded;  // exits already judged for the backoff
  WaitingReasons waiting;
  // Stops in flight in the current sync, and the deadline they were given.
  std::vector<base::ContainerId> stopping;
  std::optional<base::SteadyTime> stopping_deadline;
  // Syncs in a row that acted at one instant (see after_action).
  base::SteadyTime acted_at{};
  int acted_streak = 0;
  PodVolumes volumes;

  std::shared_ptr<const model::Pod> pod() const { return {desired, &desired->pod}; }
};

PodWorkers::PodWorkers(runtime::Runtime& runtime, base::Clock& clock, asio::any_io_executor executor, Options options)
    : runtime_(runtime),
      clock_(clock),
      executor_(std::move(executor)),
      options_(std::move(options)),
      backoff_(options_.backoff),
      images_(options_.image_backoff),
      alive_(std::make_shared<bool>(true)) {
  OrphanCleanup::Options oo;
  oo.grace = options_.orphan_grace;
  oo.on_done = [this](const OrphanReport& report) {
    if (Worker* w = find(report.uid)) wake(*w);  // it waited for the cleanup (see run)
    if (options_.on_orphan) options_.on_orphan(report);
  };
  orphans_ = std::make_unique<OrphanCleanup>(
      runtime_, clock_, executor_, [this](const base::PodUid& uid) { return workers_.contains(uid); }, std::move(oo));
  if (options_.subscribe_events) {
    runtime_.set_event_handlers([this](const runtime::ContainerEvent& e) { handle_container_event(e); },
                                [this](const runtime::SandboxEvent& e) { handle_sandbox_event(e); });
  }
}

PodWorkers::~PodWorkers() { *alive_ = false; }

PodWorkers::Worker* PodWorkers::find(const base::PodUid& uid) const {
  auto it = workers_.find(uid);
  return it == workers_.end() ? nullptr : it->second.get();
}

void PodWorkers::wake(Worker& w) {
  w.dirty = true;
  w.timer->cancel();
}

void PodWorkers::apply(Worker& w, const lifecycle::Event& event) {
  w.state = lifecycle::next(w.state, event, clock_.now());
  w.status_inputs_changed = true;
}

void PodWorkers::update(model::Pod desired) {
  base::PodUid uid(desired.metadata.uid);
  if (finished_.contains(uid)) return;
  auto d = std::make_shared<Desired>();
  d->hashes = hash_pod_containers(desired);
  // A malformed annotation leaves the node's backoff in force; validation
  // refuses such a pod before it gets here (model/validation.cc).
  if (auto overrides = backoff_overrides(desired, options_.backoff)) d->backoff = *overrides;
  d->pod = std::move(desired);
  if (Worker* w = find(uid)) {
    w->desired = std::move(d);
    apply(*w, lifecycle::Update{});
    wake(*w);
    return;
  }
  auto w = std::make_unique<Worker>();
  w->uid = uid;
  w->desired = std::move(d);
  w->timer = clock_.make_timer(executor_);
  Worker& ref = *w;
  workers_.emplace(uid, std::move(w));
  asio::co_spawn(executor_, run(ref, alive_), asio::detached);
}

void PodWorkers::remove(const base::PodUid& uid, std::optional<base::Duration> grace) {
  Worker* w = find(uid);
  if (!w) return;
  apply(*w, lifecycle::Delete{grace.value_or(pod_grace(w->desired->pod))});
  const auto* terminating = std::get_if<lifecycle::Terminating>(&w->state);
  if (terminating && !w->stopping.empty() && w->stopping_deadline && terminating->deadline < *w->stopping_deadline) {
    hurry(*w, terminating->deadline);
  }
  w->abort_sync = true;
  wake(*w);
}

// A stop in flight keeps the grace it was given; when a delete shortens the
// grace, the same containers are stopped again with what is left of the
// shorter one, so that SIGKILL comes at the new deadline. The only runtime
// calls made outside a pod's sync: they can only make a stop come sooner.
void PodWorkers::hurry(Worker& w, base::SteadyTime deadline) {
  w.stopping_deadline = deadline;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(std::max(deadline - clock_.now(), base::Duration::zero()));
  for (const auto& id : w.stopping) {
    asio::co_spawn(
        executor_,
        [&runtime = runtime_, id, left]() -> asio::awaitable<void> {
          base::Status st = co_await runtime.stop_container(id, left);
          (void)st;  // the worker's own sync sees the outcome
        },
        asio::detached);
  }
}

void PodWorkers::sync_all() {
  backoff_.gc(clock_.now());
  images_.gc(clock_.now());
  if (stopping_) return;
  if (sources_ready_) orphans_->run();
  for (auto& [uid, w] : workers_) {
    if (w->queued) continue;
    w->queued = true;
    pass_queue_.push_back(w.get());
  }
  if (pass_running_) return;  // the running pass takes the new ones too
  pass_running_ = true;
  asio::co_spawn(executor_, resync_pass(alive_), asio::detached);
}

void PodWorkers::set_sources_ready() {
  if (sources_ready_ || stopping_) return;
  sources_ready_ = true;
  orphans_->run();
  // Written volumes of pods deleted while the agent was down.
  if (!options_.volumes) return;
  if (auto on_disk = options_.volumes->pods_on_disk(); on_disk) {
    for (const auto& uid : *on_disk)
      if (!workers_.contains(uid)) (void)options_.volumes->remove(uid);
  }
}

void PodWorkers::stop() {
  stopping_ = true;
  orphans_->stop();
  for (auto& [uid, w] : workers_) {
    w->abort_sync = true;
    wake(*w);
  }
}

void PodWorkers::set_probe_state(const base::PodUid& uid, const std::string& container, ProbeState state) {
  Worker* w = find(uid);
  if (!w) return;
  auto [it, added] = w->probes.try_emplace(container, state);
  if (!added && it->second == state) return;
  it->second = state;
  w->status_inputs_changed = true;
  wake(*w);
}

void PodWorkers::set_liveness_failed(const base::PodUid& uid, const base::ContainerId& id, std::string message,
                                     std::optional<base::Duration> grace) {
  Worker* w = find(uid);
  if (!w || std::any_of(w->liveness_failed.begin(), w->liveness_failed.end(),
                        [&](const ProbeFailure& f) { return f.id == id; })) {
    return;
  }
  w->liveness_failed.push_back({id, std::move(message), grace});
  wake(*w);
}

bool PodWorkers::evict(const base::PodUid& uid, const std::string& message) {
  Worker* w = find(uid);
  if (!w || !std::holds_alternative<lifecycle::Running>(w->state)) return false;
  w->failure = PodFailure{lifecycle::kReasonEvicted, message};
  apply(*w, lifecycle::Evicted{base::Duration::zero(), message});
  if (options_.events) options_.events->record(uid, "Warning", lifecycle::kReasonEvicted, "", message);
  // Stops in flight (a restart's) get SIGKILL now too.
  if (!w->stopping.empty()) hurry(*w, std::get<lifecycle::Terminating>(w->state).deadline);
  w->abort_sync = true;
  wake(*w);
  return true;
}

std::vector<std::shared_ptr<const model::Pod>> PodWorkers::running_pods() const {
  std::vector<std::shared_ptr<const model::Pod>> out;
  for (const auto& [uid, w] : workers_)
    if (std::holds_alternative<lifecycle::Running>(w->state)) out.push_back(w->pod());
  return out;
}

void PodWorkers::handle_container_event(const runtime::ContainerEvent& event) {
  if (Worker* w = find(event.pod_uid)) wake(*w);
}

void PodWorkers::handle_sandbox_event(const runtime::SandboxEvent& event) {
  if (Worker* w = find(event.pod_uid)) wake(*w);
}

std::optional<model::PodStatus> PodWorkers::status(const base::PodUid& uid) const {
  Worker* w = find(uid);
  if (!w || !w->published) return std::nullopt;
  return w->status;
}

bool PodWorkers::idle(const base::PodUid& uid) const {
  Worker* w = find(uid);
  return w && !w->syncing && !w->dirty && !w->checking && !w->queued;
}

std::optional<State> PodWorkers::state(const base::PodUid& uid) const {
  if (Worker* w = find(uid)) return w->state;
  if (finished_.contains(uid)) return lifecycle::Finished{};
  return std::nullopt;
}

// ------------------------------------------------------------------ the loop

runtime::Task<void> PodWorkers::run(Worker& w, std::shared_ptr<bool> alive) {
  if (!*alive) co_return;  // destroyed before the spawn ran
  for (bool first = true;; first = false) {
    if (!w.dirty) {
      w.timer->expires_at(w.wakeup.value_or(base::SteadyTime::max()));
      co_await w.timer->wait();
      if (!*alive) co_return;
    } else if (!first) {
      // Let the events already posted (often of this worker's own last
      // actions) run first: they only mark the pod dirty, and one sync then
      // sees them all instead of one sync each.
      co_await asio::post(executor_, asio::use_awaitable);
      if (!*alive) co_return;
    }
    // The resync pass is listing the pod, or the orphan cleanup of an
    // earlier pod with this UID runs; each wakes the worker when done.
    while ((w.checking || orphans_->cleaning(w.uid)) && !stopping_) {
      w.dirty = true;
      w.timer->expires_at(base::SteadyTime::max());
      co_await w.timer->wait();
      if (!*alive) co_return;
    }
    if (stopping_) co_return;
    w.dirty = false;
    w.abort_sync = false;
    w.stopping.clear();
    w.stopping_deadline.reset();
    // A sync that starts Finished removes what is left; then the worker ends.
    const bool finishing = std::holds_alternative<lifecycle::Finished>(w.state);
    w.syncing = true;
    const base::SteadyTime started = clock_.now();
    co_await sync(w, alive);
    if (!*alive || stopping_) co_return;
    w.syncing = false;
    observe_sync(started);
    if (finishing) break;
  }
  if (w.queued) std::replace(pass_queue_.begin(), pass_queue_.end(), &w, static_cast<Worker*>(nullptr));
  base::PodUid uid = w.uid;
  // What a failed removal leaves, set_sources_ready() removes at the next
  // start of the agent.
  if (options_.volumes) (void)options_.volumes->remove(uid);
  finished_.insert(uid);
  if (options_.admitter) options_.admitter->release(uid);
  workers_.erase(uid);  // destroys w; nothing below may touch it
  if (options_.on_pod_finished) options_.on_pod_finished(uid);
}

runtime::Task<base::Result<ObservedPod>> PodWorkers::list(const base::PodUid& uid) {
  base::Result<ObservedPod> listed = co_await runtime_.list_pod(uid);
  co_return std::move(listed);
}

// One coroutine for the whole periodic resync, instead of waking every
// worker (a timer cancel and a coroutine resumption each). Its one listing
// buffer is reused for every pod, so that a settled pod costs no
// allocation.
runtime::Task<void> PodWorkers::resync_pass(std::shared_ptr<bool> alive) {
  if (!*alive) co_return;  // destroyed before the spawn ran
  ObservedPod observed;
  while (pass_next_ < pass_queue_.size() && !stopping_) {
    Worker* w = pass_queue_[pass_next_++];
    if (!w) continue;  // finished since it was queued
    w->queued = false;
    if (w->syncing || w->dirty) {
      w->dirty = true;  // a sync that listed before this resync is followed by another
      continue;
    }
    w->checking = true;
    const base::SteadyTime started = clock_.now();
    base::Status listed = co_await runtime_.list_pod_into(w->uid, observed);
    if (!*alive) co_return;
    w->checking = false;
    if (check_settled(*w, listed, observed)) observe_sync(started);
  }
  for (size_t i = pass_next_; i < pass_queue_.size(); ++i)
    if (pass_queue_[i]) pass_queue_[i]->queued = false;
  pass_queue_.clear();
  pass_next_ = 0;
  pass_running_ = false;
}

// After the resync pass listed `w`: a Running pod with nothing to do and no
// new wakeup is settled here, as its own sync would (failures recorded,
// status published if it changed). Any other pod is handed to its worker,
// which syncs it in full (listing it again). True when settled here.
bool PodWorkers::check_settled(Worker& w, const base::Status& listed, const ObservedPod& observed) {
  if (w.dirty || stopping_ || !listed.ok() || !std::holds_alternative<lifecycle::Running>(w.state)) {
    wake(w);
    return false;
  }
  ++syncs_;
  if (options_.on_pod_listed) options_.on_pod_listed(w.desired->pod, observed, false);
  record_failures(w, observed);
  PodActions plan = plan_live(w, observed);
  if (plan.outcome != PodOutcome::Progressing || !nothing_to_do(plan) || plan.next_wakeup != w.wakeup) {
    wake(w);
    return true;  // counted as a sync above; the worker's own sync follows
  }
  publish(w, observed, &plan);
  return true;
}

void PodWorkers::observe_sync(base::SteadyTime started) const {
  if (options_.on_sync_duration) options_.on_sync_duration(clock_.now() - started);
}

PodActions PodWorkers::plan_live(const Worker& w, const ObservedPod& observed) const {
  const Desired& d = *w.desired;
  std::optional<base::SteadyTime> deadline;
  if (d.pod.spec.active_deadline_seconds) {
    deadline = std::get<lifecycle::Running>(w.state).started_at + std::chrono::seconds(*d.pod.spec.active_deadline_seconds);
  }
  return compute_pod_actions(
      PlanInput{d.pod, d.hashes, observed, w.probes, w.liveness_failed, backoff_, clock_.now(), deadline});
}

runtime::Task<void> PodWorkers::sync(Worker& w, const std::shared_ptr<bool>& alive) {
  ++syncs_;
  base::Result<ObservedPod> listed = co_await list(w.uid);
  if (!*alive || stopping_) co_return;
  if (!listed) {
    w.wakeup = clock_.now() + options_.retry_after;
    co_return;
  }
  const ObservedPod& observed = *listed;
  if (options_.on_pod_listed)
    options_.on_pod_listed(w.desired->pod, observed, std::holds_alternative<lifecycle::Terminating>(w.state));
  if (std::holds_alternative<lifecycle::Pending>(w.state)) admit(w);
  if (std::holds_alternative<lifecycle::Running>(w.state)) {
    record_failures(w, observed);
    co_await sync_live(w, observed, alive);
  } else if (std::holds_alternative<lifecycle::Terminating>(w.state)) {
    co_await sync_terminating(w, observed, alive);
  } else if (std::holds_alternative<lifecycle::Terminated>(w.state)) {
    w.wakeup.reset();
    if (options_.admitter) options_.admitter->release(w.uid);
    publish(w, observed, nullptr);
  } else if (std::holds_alternative<lifecycle::Finished>(w.state)) {
    SyncTarget target{runtime_, clock_, w.pod(), w.desired->hashes, [alive, this] { return *alive && !stopping_; },
                      w.waiting, nullptr, options_.pod_logs_dir};
    SyncOutcome removed = co_await remove_everything(target, observed);
    (void)removed;  // the worker ends either way; leftovers are the runtime's GC's
  }
}

void PodWorkers::admit(Worker& w) {
  if (options_.admitter) {
    AdmitResult r = options_.admitter->admit(w.desired->pod);
    if (!r.admitted) {
      w.rejected = true;
      w.failure = rejection_failure(r.reason, r.message);
      apply(w, lifecycle::Rejected{r.reason, r.message});
      w.dirty = true;  // publish the rejection
      return;
    }
  }
  apply(w, lifecycle::Admitted{});
}

void PodWorkers::record_failures(Worker& w, const ObservedPod& observed) {
  auto observed_with = [&](const base::ContainerId& id, bool running_only) {
    return std::any_of(observed.containers.begin(), observed.containers.end(), [&](const runtime::ContainerStatus& c) {
      return c.id == id && (!running_only || c.state == runtime::ContainerState::Running);
    });
  };
  std::erase_if(w.recorded, [&](const base::ContainerId& id) { return !observed_with(id, false); });
  std::erase_if(w.liveness_failed, [&](const ProbeFailure& f) { return !observed_with(f.id, true); });
  const Desired& d = *w.desired;
  for (const auto& c : observed.containers) {
    if (c.state != runtime::ContainerState::Exited) continue;
    if (std::find(w.recorded.begin(), w.recorded.end(), c.id) != w.recorded.end()) continue;
    w.recorded.push_back(c.id);  // each exit is judged once, when first seen
    if (!exit_counts_for_backoff(d.pod, c)) continue;
    const std::string* hash = hash_of(d, c.name);
    // An instance killed for its old spec is no failure of the new one.
    if (!hash || c.spec_hash != *hash || !is_newest_of_its_name(observed, c)) continue;
    backoff_.record_failure(base::Backoff::make_key(d.pod.metadata.uid, c.name, *hash), clock_.now(), d.backoff);
  }
}

runtime::Task<void> PodWorkers::sync_live(Worker& w, const ObservedPod& observed,
                                          const std::shared_ptr<bool>& alive) {
  std::shared_ptr<const Desired> d = w.desired;
  const model::Pod& pod = d->pod;
  const auto now = clock_.now();
  PodActions plan = plan_live(w, observed);
  SyncTarget target{runtime_,  clock_,      w.pod(),
                    d->hashes, [alive, this, &w] { return *alive && !stopping_ && !w.abort_sync; },
                    w.waiting, &w.stopping, options_.pod_logs_dir};
  target.prober = options_.hook_prober;
  target.events = options_.events;
  target.objects = objects_;
  target.prepared_volumes = &w.volumes.prepared();
  record_backoff_events(target, plan);
  if (plan.outcome == PodOutcome::Progressing && !plan.start.empty()) {
    const std::vector<ContainerStart> planned = plan.start;
    // Before publishing, so that the status shows this sync's image reasons.
    ImageStep images = co_await ensure_images(images_, target, plan, options_.retry_after);
    if (!*alive || images.stopped) co_return;  // a delete or stop() wakes the worker again
    record_image_events(target, planned, plan.start);
    if (plan.start.empty()) plan.prepare.clear();  // they go with the start they accompany
    w.status_inputs_changed = true;            // waiting reasons may have changed
  }
  publish(w, observed, &plan);
  switch (plan.outcome) {
    case PodOutcome::Progressing:
      break;
    case PodOutcome::DeadlineExceeded:
      w.failure = deadline_exceeded_failure();
      apply(w, lifecycle::DeadlineExceeded{pod_grace(pod)});
      w.dirty = true;
      co_return;
    case PodOutcome::Completed:
    case PodOutcome::Failed:
      apply(w, lifecycle::Completed{pod_grace(pod), plan.reason, plan.message});
      w.dirty = true;
      co_return;
  }
  const bool volumes_ready = refresh_volumes(w);
  if (nothing_to_do(plan)) {  // the common case of a settled pod
    w.wakeup = plan.next_wakeup;
    co_return;
  }
  if (!volumes_ready) {  // nothing starts before its volumes are written
    w.wakeup = clock_.now() + options_.retry_after;
    co_return;
  }
  const auto kill_deadline = now + pod_grace(pod);
  w.stopping_deadline = kill_deadline;
  SyncOutcome result = co_await execute_plan(target, plan, kill_deadline);
  if (!*alive) co_return;
  w.status_inputs_changed = true;  // waiting reasons may have changed
  w.wakeup = plan.next_wakeup;
  if (result.failed) {
    auto retry = clock_.now() + options_.retry_after;
    if (!w.wakeup || retry < *w.wakeup) w.wakeup = retry;
  } else if (result.acted) {
    after_action(w);  // list again to see (and report) the effect
  }
}

bool PodWorkers::refresh_volumes(Worker& w) {
  if (!options_.volumes) return true;
  return w.volumes.refresh(*options_.volumes, w.pod(), objects_, options_.node_allocatable,
                           [&w, this](const std::string& message) {
                             if (options_.events)
                               options_.events->record(w.uid, "Warning", "FailedMount", "", message);
                           });
}

void PodWorkers::set_config_objects(model::ConfigObjectsPtr objects) {
  objects_ = std::move(objects);
  for (auto& [uid, w] : workers_)
    if (reads_config_objects(w->desired->pod)) wake(*w);
}

void PodWorkers::after_action(Worker& w) {
  const auto now = clock_.now();
  w.acted_streak = now == w.acted_at ? w.acted_streak + 1 : 0;
  w.acted_at = now;
  if (w.acted_streak < kMaxImmediateResyncs) {
    w.dirty = true;
    return;
  }
  auto retry = now + options_.retry_after;
  if (!w.wakeup || retry < *w.wakeup) w.wakeup = retry;
}

runtime::Task<void> PodWorkers::sync_terminating(Worker& w, const ObservedPod& observed,
                                                 const std::shared_ptr<bool>& alive) {
  std::shared_ptr<const Desired> d = w.desired;
  const auto deadline = std::get<lifecycle::Terminating>(w.state).deadline;
  PodActions plan = compute_termination_actions(
      PlanInput{d->pod, d->hashes, observed, w.probes, w.liveness_failed, backoff_, clock_.now(), std::nullopt});
  if (plan.all_stopped) {
    apply(w, lifecycle::RuntimeStopped{});
    publish(w, observed, nullptr);
    w.dirty = true;
    co_return;
  }
  publish(w, observed, nullptr);
  SyncTarget target{runtime_, clock_, w.pod(), d->hashes,
                    [alive, this, &w] { return *alive && !stopping_ && !w.abort_sync; }, w.waiting, &w.stopping, options_.pod_logs_dir};
  target.prober = options_.hook_prober;
  target.events = options_.events;
  w.stopping_deadline = deadline;
  SyncOutcome result = co_await execute_plan(target, plan, deadline);
  if (!*alive) co_return;
  w.status_inputs_changed = true;
  if (result.failed) {
    w.wakeup = clock_.now() + options_.retry_after;
  } else {
    w.wakeup.reset();
    after_action(w);
  }
}

void PodWorkers::publish(Worker& w, const ObservedPod& observed, const PodActions* plan) {
  const bool has_backoffs = plan && !plan->held.empty();
  if (w.published && !w.status_inputs_changed && !has_backoffs && !w.status_had_backoffs && w.status_observed &&
      w.status_observed->matches(observed)) {
    return;  // the same inputs build the same status
  }
  w.status_inputs_changed = false;
  w.status_had_backoffs = has_backoffs;
  w.status_observed.emplace(observed);
  const Desired& d = *w.desired;
  const auto now = clock_.now();
  const auto wall_now = clock_.wall_now();
  CrashLoopBackOffs backoffs;
  if (plan) {
    for (const auto& h : plan->held) {
      const std::string* hash = hash_of(d, h.name);
      auto key = base::Backoff::make_key(d.pod.metadata.uid, h.name, hash ? *hash : "");
      backoffs[h.name] = CrashLoopBackOff{
          wall_now + std::chrono::duration_cast<model::WallTime::duration>(h.until - now), backoff_.current_delay(key)};
    }
  }
  PodLifecycle lc = PodLifecycle::Active;
  if (std::holds_alternative<lifecycle::Terminating>(w.state)) lc = PodLifecycle::Terminating;
  if (std::holds_alternative<lifecycle::Terminated>(w.state) || std::holds_alternative<lifecycle::Finished>(w.state)) {
    lc = w.rejected ? PodLifecycle::Rejected : PodLifecycle::Terminated;
  }
  StatusInput in{d.pod,          w.status,  observed.sandboxes, observed.containers, &w.probes,
                 &backoffs,      &w.waiting, lc,                w.failure,           options_.host_ip,
                 "podagent",     wall_now};
  model::PodStatus status = build_pod_status(in);
  if (w.published && status == w.status) return;
  w.status = std::move(status);
  w.published = true;
  if (options_.on_status) options_.on_status(w.uid, w.status);
}

}  // namespace podagent::podworker
