#include "probes/probe_manager.h"

#include <array>
#include <map>

namespace podagent::probes {

namespace {

constexpr size_t kTypes = 3;

size_t index_of(ProbeType type) { return static_cast<size_t>(type); }

// "Liveness", "Readiness", "Startup": as the kubelet's event messages
// begin.
std::string title(ProbeType type) {
  std::string name(probe_type_name(type));
  name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name;
}

const std::optional<model::Probe>& probe_of(const model::Container& c, ProbeType type) {
  switch (type) {
    case ProbeType::Startup: return c.startup_probe;
    case ProbeType::Liveness: return c.liveness_probe;
    case ProbeType::Readiness: return c.readiness_probe;
  }
  return c.liveness_probe;
}

bool has_probes(const model::Container& c) {
  return c.startup_probe || c.liveness_probe || c.readiness_probe;
}

// Whether the pod worker needs this container's ProbeState: only its
// startup and readiness results show (started, ready).
bool reports_state(const model::Container& c) { return c.startup_probe || c.readiness_probe; }

ProbeState initial_state(const model::Container& c) {
  ProbeState s;
  if (c.startup_probe) s.started = false;
  s.ready = false;
  return s;
}

// Calls fn(container, is_sidecar) for each container that is probed while
// it runs: sidecars, then app containers.
template <typename Fn>
void for_each_probed(const model::Pod& pod, Fn fn) {
  for (const auto& c : pod.spec.init_containers)
    if (c.restart_policy == "Always" && has_probes(c)) fn(c, true);
  for (const auto& c : pod.spec.containers)
    if (has_probes(c)) fn(c, false);
}

bool any_probed(const model::Pod& pod) {
  bool any = false;
  for_each_probed(pod, [&](const model::Container&, bool) { any = true; });
  return any;
}

// How events name the container.
std::string field_path(const model::Container& c, bool sidecar) {
  return (sidecar ? "spec.initContainers{" : "spec.containers{") + c.name + "}";
}

// The newest running instance of the sidecar or app container `name`.
const runtime::ContainerStatus* running_instance(const runtime::PodRuntimeState& observed, const std::string& name) {
  const runtime::ContainerStatus* best = nullptr;
  for (const auto& c : observed.containers) {
    if (c.name != name || c.state != runtime::ContainerState::Running) continue;
    if (c.kind != runtime::ContainerKind::App && c.kind != runtime::ContainerKind::Sidecar) continue;
    if (!best || c.attempt > best->attempt) best = &c;
  }
  return best;
}

bool same_probes(const model::Container& a, const model::Container& b) {
  return a.startup_probe == b.startup_probe && a.liveness_probe == b.liveness_probe &&
         a.readiness_probe == b.readiness_probe;
}

}  // namespace

struct ProbeManager::ContainerProbes {
  base::ContainerId id;  // the instance probed; empty while none runs
  model::Container spec;
  std::string field_path;
  ProbeState state;
  bool reported = false;  // `state` was given to on_state
  std::array<std::unique_ptr<ProbeWorker>, kTypes> workers;

  void stop() {
    for (auto& w : workers) w.reset();
    id = {};
  }
  size_t count() const {
    size_t n = 0;
    for (const auto& w : workers) n += w != nullptr;
    return n;
  }
};

struct ProbeManager::PodProbes {
  std::map<std::string, ContainerProbes, std::less<>> containers;
  bool terminating = false;  // liveness and startup probing stopped for good
};

ProbeManager::ProbeManager(Prober& prober, base::Clock& clock, boost::asio::any_io_executor executor, Options options)
    : prober_(prober),
      clock_(clock),
      executor_(std::move(executor)),
      options_(std::move(options)),
      random_(std::random_device{}()) {}

ProbeManager::~ProbeManager() { stop(); }

void ProbeManager::update(const model::Pod& pod, const runtime::PodRuntimeState& observed, bool terminating) {
  if (stopped_) return;
  base::PodUid uid(pod.metadata.uid);
  auto it = pods_.find(uid);
  if (it == pods_.end()) {
    if (!any_probed(pod)) return;  // the common case: nothing to probe
    it = pods_.emplace(uid, std::make_unique<PodProbes>()).first;
  }
  PodProbes& pp = *it->second;
  if (terminating && !pp.terminating) {
    // As the kubelet: a terminating pod's containers are no longer killed
    // for failing liveness or startup probes; readiness goes on.
    pp.terminating = true;
    for (auto& [name, cp] : pp.containers) {
      cp.workers[index_of(ProbeType::Liveness)].reset();
      cp.workers[index_of(ProbeType::Startup)].reset();
    }
  }
  size_t wanted = 0;
  for_each_probed(pod, [&](const model::Container& spec, bool sidecar) {
    ++wanted;
    auto [cit, added] = pp.containers.try_emplace(spec.name);
    ContainerProbes& cp = cit->second;
    const runtime::ContainerStatus* running = running_instance(observed, spec.name);
    const base::ContainerId now_id = running ? running->id : base::ContainerId{};
    if (!added && cp.id == now_id && same_probes(cp.spec, spec)) return;
    cp.stop();
    cp.spec = spec;
    cp.field_path = field_path(spec, sidecar);
    cp.state = initial_state(spec);
    // Reported at once, so that a sync that lists a new instance plans and
    // builds its status without the last instance's results.
    if (reports_state(spec) && options_.on_state) {
      cp.reported = true;
      options_.on_state(uid, spec.name, cp.state);
    }
    if (running) start_instance(uid, cp, *running, observed, pp.terminating);
  });
  if (pp.containers.size() != wanted) {  // some left the spec
    std::erase_if(pp.containers, [&](const auto& entry) {
      bool in_spec = false;
      for_each_probed(pod, [&](const model::Container& c, bool) { in_spec = in_spec || c.name == entry.first; });
      return !in_spec;
    });
  }
  if (pp.containers.empty()) pods_.erase(it);
}

void ProbeManager::start_instance(const base::PodUid& uid, ContainerProbes& cp,
                                  const runtime::ContainerStatus& instance,
                                  const runtime::PodRuntimeState& observed, bool readiness_only) {
  const model::Container& spec = cp.spec;
  cp.id = instance.id;
  // The instance's start, moved onto the monotonic clock: how long ago it
  // started by the wall clock (zero when unknown, or in the future).
  auto age = base::Duration::zero();
  if (instance.started_at) {
    age = std::max(base::Duration::zero(),
                   std::chrono::duration_cast<base::Duration>(clock_.wall_now() - *instance.started_at));
  }
  ProbeWorkerSpec ws;
  ws.pod_uid = uid;
  ws.sandbox_id = instance.sandbox_id;
  ws.container_id = instance.id;
  for (const auto& s : observed.sandboxes)
    if (s.id == instance.sandbox_id && !s.ips.empty()) ws.pod_ip = s.ips.front();
  ws.container = spec;
  const base::SteadyTime started = clock_.now() - age;
  for (ProbeType type : {ProbeType::Startup, ProbeType::Liveness, ProbeType::Readiness}) {
    const auto& probe = probe_of(spec, type);
    if (!probe || (readiness_only && type != ProbeType::Readiness)) continue;
    ProbeWorkerSpec one = ws;
    one.probe_from = started + std::chrono::seconds(std::max<int64_t>(0, probe->initial_delay_seconds));
    cp.workers[index_of(type)] = make_worker(uid, type, *probe, std::move(one));
  }
}

std::unique_ptr<ProbeWorker> ProbeManager::make_worker(const base::PodUid& uid, ProbeType type,
                                                       const model::Probe& probe, ProbeWorkerSpec spec) {
  spec.type = type;
  spec.probe = probe;
  spec.first_delay = jitter(std::chrono::seconds(std::max<int64_t>(1, probe.period_seconds.value_or(10))));
  const std::string name = spec.container.name;
  const base::ContainerId id = spec.container_id;
  ProbeWorkerHooks hooks;
  if (type != ProbeType::Startup) {
    // Held back until the startup probe (when there is one) succeeded.
    hooks.may_probe = [this, uid, name, id] {
      ContainerProbes* cp = find(uid, name);
      return cp && cp->id == id && cp->state.started.value_or(true);
    };
  }
  hooks.on_attempt = [this, uid, name, type](const ProbeOutcome& outcome, base::Duration took) {
    on_attempt(uid, name, type, outcome, took);
  };
  hooks.on_result = [this, uid, name, id, type](ProbeResult result) {
    ContainerProbes* cp = find(uid, name);
    if (cp && cp->id == id) on_result(uid, name, type, result);
  };
  return std::make_unique<ProbeWorker>(prober_, clock_, executor_, std::move(spec), std::move(hooks));
}

void ProbeManager::on_attempt(const base::PodUid& uid, const std::string& container, ProbeType type,
                              const ProbeOutcome& outcome, base::Duration took) {
  if (options_.observe) options_.observe(type, outcome.result, took);
  if (outcome.result != ProbeResult::Failure || !options_.events) return;
  ContainerProbes* cp = find(uid, container);
  if (!cp) return;
  options_.events->record(uid, "Warning", "Unhealthy", cp->field_path,
                          title(type) + " probe failed: " + outcome.message);
}

void ProbeManager::on_result(const base::PodUid& uid, const std::string& container, ProbeType type,
                             ProbeResult result) {
  ContainerProbes* cp = find(uid, container);
  if (!cp) return;
  if (result == ProbeResult::Failure && type != ProbeType::Readiness) {
    if (!options_.on_kill) return;
    std::optional<base::Duration> grace;
    if (const auto& probe = probe_of(cp->spec, type); probe && probe->termination_grace_period_seconds)
      grace = std::chrono::seconds(std::max<int64_t>(0, *probe->termination_grace_period_seconds));
    options_.on_kill(uid, cp->id,
                     "Container " + container + " failed " + std::string(probe_type_name(type)) +
                         " probe, will be restarted",
                     grace);
    return;
  }
  ProbeState next = cp->state;
  if (type == ProbeType::Startup) next.started = result == ProbeResult::Success;
  if (type == ProbeType::Readiness) next.ready = result == ProbeResult::Success;
  if (next == cp->state && cp->reported) return;
  cp->state = next;
  cp->reported = true;
  if (options_.on_state) options_.on_state(uid, container, cp->state);
}

void ProbeManager::remove(const base::PodUid& uid) { pods_.erase(uid); }

void ProbeManager::stop() {
  stopped_ = true;
  pods_.clear();
}

ProbeManager::ContainerProbes* ProbeManager::find(const base::PodUid& uid, const std::string& container) {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return nullptr;
  auto cit = it->second->containers.find(container);
  return cit == it->second->containers.end() ? nullptr : &cit->second;
}

base::Duration ProbeManager::jitter(base::Duration period) {
  if (options_.jitter) return options_.jitter(period);
  std::uniform_int_distribution<base::Duration::rep> pick(0, period.count() - 1);
  return base::Duration(pick(random_));
}

size_t ProbeManager::worker_count(const base::PodUid& uid) const {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return 0;
  size_t n = 0;
  for (const auto& [name, cp] : it->second->containers) n += cp.count();
  return n;
}

size_t ProbeManager::worker_count() const {
  size_t n = 0;
  for (const auto& [uid, pp] : pods_) n += worker_count(uid);
  return n;
}

const ProbeWorker* ProbeManager::worker(const base::PodUid& uid, const std::string& container,
                                        ProbeType type) const {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return nullptr;
  auto cit = it->second->containers.find(container);
  if (cit == it->second->containers.end()) return nullptr;
  return cit->second.workers[index_of(type)].get();
}

}  // namespace podagent::probes
