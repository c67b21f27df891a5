#include "podworker/pod_status_builder.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "base/duration.h"
#include "model/qos.h"

namespace podagent::podworker {

namespace {

using model::ContainerState;
using model::ContainerStateTerminated;
using model::ContainerStateWaiting;
using model::PodCondition;
using runtime::ContainerState::Created;
using runtime::ContainerState::Exited;
using runtime::ContainerState::Running;

constexpr const char* kContainerCreating = "ContainerCreating";
constexpr const char* kPodInitializing = "PodInitializing";
constexpr const char* kCrashLoopBackOff = "CrashLoopBackOff";
constexpr const char* kStatusUnknown = "ContainerStatusUnknown";
constexpr const char* kTrue = "True";
constexpr const char* kFalse = "False";

enum class Kind { Init, Sidecar, App, Ephemeral };

// One container's status, with what the phase needs beyond it.
struct Built {
  model::ContainerStatus status;
  Kind kind = Kind::App;
  bool in_current_sandbox = false;  // has an instance in the current sandbox
};

bool is_terminal(std::string_view phase) {
  return phase == model::kPhaseSucceeded || phase == model::kPhaseFailed;
}

// Newest first: by creation time, then attempt.
bool newer(const runtime::ContainerStatus* a, const runtime::ContainerStatus* b) {
  if (a->created_at != b->created_at) return a->created_at > b->created_at;
  return a->attempt > b->attempt;
}

// The pod's newest sandbox, by attempt then creation time; null when none.
const runtime::SandboxStatus* newest_sandbox(std::span<const runtime::SandboxStatus> all) {
  const runtime::SandboxStatus* best = nullptr;
  for (const auto& s : all) {
    if (!best || std::tie(s.attempt, s.created_at) > std::tie(best->attempt, best->created_at))
      best = &s;
  }
  return best;
}

const model::ContainerStatus* find_status(const std::vector<model::ContainerStatus>& list,
                                          std::string_view name) {
  for (const auto& s : list)
    if (s.name == name) return &s;
  return nullptr;
}

ContainerStateTerminated terminated_of(const runtime::ContainerStatus& c,
                                       const std::string& container_id) {
  ContainerStateTerminated t;
  t.exit_code = c.exit_code;
  t.reason = !c.reason.empty() ? c.reason : (c.exit_code == 0 ? "Completed" : "Error");
  t.message = c.message;
  t.started_at = c.started_at;
  t.finished_at = c.finished_at;
  t.container_id = container_id;
  return t;
}

// Whether a container in `state` is started again by the planner (kubelet's
// ShouldContainerBeRestarted, with sidecars always restarted).
bool will_restart(const ContainerState& state, Kind kind, std::string_view policy) {
  if (state.running) return false;
  // Not run yet: waits to start (an ephemeral container too, e.g. for its
  // image), so a start failure's reason applies.
  if (!state.terminated) return true;
  int32_t code = state.terminated->exit_code;
  switch (kind) {
    case Kind::Sidecar:
      return true;
    case Kind::Init:
      return code != 0 && policy != "Never";
    case Kind::App:
      return policy == "Always" || (policy == "OnFailure" && code != 0);
    case Kind::Ephemeral:
      return false;
  }
  return false;
}

// Merges the terminations seen now into the history kept so far: deduped by
// (finishedAt, exitCode), oldest first, the newest kTerminationHistoryLength.
std::vector<model::TerminationRecord> merge_history(
    std::vector<model::TerminationRecord> history,
    const std::vector<const runtime::ContainerStatus*>& instances) {
  for (const auto* c : instances) {
    if (c->state != Exited || !c->finished_at) continue;
    bool seen = std::any_of(history.begin(), history.end(), [&](const auto& r) {
      return r.finished_at == *c->finished_at && r.exit_code == c->exit_code;
    });
    if (seen) continue;
    history.push_back({*c->finished_at, c->exit_code, terminated_of(*c, "").reason});
  }
  std::stable_sort(history.begin(), history.end(),
                   [](const auto& a, const auto& b) { return a.finished_at < b.finished_at; });
  if (history.size() > model::kTerminationHistoryLength)
    history.erase(history.begin(), history.end() - model::kTerminationHistoryLength);
  return history;
}

class Builder {
 public:
  explicit Builder(const StatusInput& in) : in_(in), sandbox_(newest_sandbox(in.sandboxes)) {}
  model::PodStatus build();

 private:
  Built build_container(const model::Container& spec, Kind kind,
                        const std::vector<model::ContainerStatus>& previous,
                        const char* default_reason) const;
  void set_state_from_instances(const model::Container& spec, Built& b,
                                const runtime::ContainerStatus* current,
                                const runtime::ContainerStatus* older,
                                const model::ContainerStatus* old) const;
  void apply_waiting_override(Built& b) const;
  void set_probe_results(const model::Container& spec, Built& b) const;
  std::vector<const runtime::ContainerStatus*> instances_of(std::string_view name) const;
  std::string container_id(const runtime::ContainerStatus& c) const {
    return in_.runtime_name + "://" + c.id.str();
  }
  bool restarts_allowed() const {
    return in_.lifecycle == PodLifecycle::Active && !in_.failure &&
           !is_terminal(in_.previous.phase);
  }

  void build_containers();
  void mark_unknown_on_termination();
  std::string compute_phase() const;
  void set_phase();
  void set_conditions();
  void set_ips();
  PodCondition initialized_condition() const;
  PodCondition containers_ready_condition() const;
  PodCondition ready_condition(const PodCondition& containers_ready,
                               const std::vector<PodCondition>& others) const;

  const StatusInput& in_;
  const runtime::SandboxStatus* sandbox_;
  std::vector<Built> init_;
  std::vector<Built> app_;
  std::vector<Built> ephemeral_;
  model::PodStatus out_;
};

// An instance never started (prepared ahead, or being created) is not
// reported: until it starts, its container waits as if it did not exist.
std::vector<const runtime::ContainerStatus*> Builder::instances_of(std::string_view name) const {
  std::vector<const runtime::ContainerStatus*> out;
  for (const auto& c : in_.containers)
    if (c.name == name && c.state != Created) out.push_back(&c);
  std::sort(out.begin(), out.end(), newer);
  return out;
}

Built Builder::build_container(const model::Container& spec, Kind kind,
                               const std::vector<model::ContainerStatus>& previous,
                               const char* default_reason) const {
  Built b;
  b.kind = kind;
  b.status.name = spec.name;
  b.status.image = spec.image;
  auto instances = instances_of(spec.name);
  const runtime::ContainerStatus* current = nullptr;
  const runtime::ContainerStatus* older = nullptr;
  for (const auto* c : instances) {
    if (!current && sandbox_ && c->sandbox_id == sandbox_->id) {
      current = c;
    } else if (!older && (current || !sandbox_ || c->sandbox_id != sandbox_->id)) {
      older = c;
    }
  }
  // An instance from an older sandbox newer than the current one is not
  // "older"; the order of `instances` makes that impossible in practice.
  b.in_current_sandbox = current != nullptr;
  const model::ContainerStatus* old = find_status(previous, spec.name);

  // Nothing observed at all: keep a termination reported before (its
  // containers may have been removed), as the kubelet does; except for init
  // containers of a live sandbox, which must run again in it.
  bool keep_old = instances.empty() && old && old->state.terminated &&
                  (kind == Kind::App || kind == Kind::Ephemeral || !sandbox_);
  if (keep_old) {
    b.status = *old;
  } else if (current) {
    set_state_from_instances(spec, b, current, older, old);
  } else {
    b.status.state.waiting = ContainerStateWaiting{default_reason, ""};
    if (older) {
      b.status.restart_count = static_cast<int32_t>(older->attempt);
      b.status.last_state.terminated = terminated_of(*older, container_id(*older));
    } else if (old) {
      b.status.restart_count = old->restart_count;
      b.status.last_state = old->state.terminated ? old->state : old->last_state;
    }
  }
  b.status.termination_history = merge_history(
      old ? old->termination_history : std::vector<model::TerminationRecord>{}, instances);
  apply_waiting_override(b);
  set_probe_results(spec, b);
  return b;
}

void Builder::set_state_from_instances(const model::Container& spec, Built& b,
                                       const runtime::ContainerStatus* current,
                                       const runtime::ContainerStatus* older,
                                       const model::ContainerStatus* old) const {
  model::ContainerStatus& s = b.status;
  s.image = current->image.empty() ? spec.image : current->image;
  s.image_id = current->image_id;
  s.container_id = container_id(*current);
  s.restart_count = static_cast<int32_t>(current->attempt);
  switch (current->state) {
    case Running:
      s.state.running = model::ContainerStateRunning{current->started_at};
      break;
    case Exited:
      s.state.terminated = terminated_of(*current, s.container_id);
      break;
    case Created:  // not reached: instances_of leaves these out
      s.state.waiting = ContainerStateWaiting{kContainerCreating, ""};
      break;
    case runtime::ContainerState::Unknown:
      if (old && old->state.running) {
        // It ran and vanished: "ran and failed", not "never ran".
        ContainerStateTerminated t;
        t.exit_code = 137;
        t.reason = kStatusUnknown;
        t.message = "The container could not be located when the pod was terminated";
        s.state.terminated = t;
        s.restart_count = old->restart_count + 1;
      } else {
        s.state.waiting = ContainerStateWaiting{};
      }
      break;
  }
  if (older && older->state == Exited) {
    s.last_state.terminated = terminated_of(*older, container_id(*older));
  } else if (old) {
    // The previous instance is gone (removed): what was reported of it.
    bool old_was_previous = old->state.terminated && old->container_id != s.container_id;
    s.last_state = old_was_previous ? old->state : old->last_state;
  }
}

void Builder::apply_waiting_override(Built& b) const {
  model::ContainerStatus& s = b.status;
  if (!restarts_allowed() || !will_restart(s.state, b.kind, in_.pod.spec.restart_policy)) return;
  std::optional<ContainerStateWaiting> waiting;
  if (in_.backoffs) {
    if (auto it = in_.backoffs->find(s.name); it != in_.backoffs->end()) {
      const auto& meta = in_.pod.metadata;
      waiting = ContainerStateWaiting{
          kCrashLoopBackOff, "back-off " + base::format_duration(it->second.delay) +
                                 " restarting failed container=" + s.name + " pod=" + meta.name +
                                 "_" + meta.namespace_ + "(" + meta.uid + ")"};
      s.next_restart_at = it->second.next_restart_at;
    }
  }
  if (!waiting && in_.waiting) {
    if (auto it = in_.waiting->find(s.name); it != in_.waiting->end())
      waiting = ContainerStateWaiting{it->second.reason, it->second.message};
  }
  if (!waiting) return;
  if (s.state.terminated) s.last_state = s.state;
  s.state = ContainerState{};
  s.state.waiting = std::move(waiting);
}

void Builder::set_probe_results(const model::Container& spec, Built& b) const {
  model::ContainerStatus& s = b.status;
  bool running = s.state.running.has_value();
  if (b.kind == Kind::Init) {
    s.started = running;
    s.ready = s.state.terminated && s.state.terminated->exit_code == 0;
    return;
  }
  if (b.kind == Kind::Ephemeral) {
    s.started = running;
    s.ready = false;
    return;
  }
  ProbeState probe;
  if (in_.probes) {
    if (auto it = in_.probes->find(s.name); it != in_.probes->end()) probe = it->second;
  }
  bool started = running && (!spec.startup_probe || probe.started.value_or(false));
  s.started = started;
  s.ready = started && (!spec.readiness_probe || probe.ready);
}

}  // namespace

namespace {

void Builder::build_containers() {
  const model::PodSpec& spec = in_.pod.spec;
  init_.reserve(spec.init_containers.size());
  app_.reserve(spec.containers.size());
  for (const auto& c : spec.init_containers) {
    init_.push_back(build_container(c, c.is_sidecar() ? Kind::Sidecar : Kind::Init,
                                    in_.previous.init_container_statuses, kPodInitializing));
  }
  // Initialization is complete in the current sandbox when every regular
  // init container exited 0 there and every sidecar has started.
  bool initialized = std::all_of(init_.begin(), init_.end(), [](const Built& b) {
    if (b.kind == Kind::Sidecar) return b.status.started.value_or(false);
    return b.in_current_sandbox && b.status.state.terminated &&
           b.status.state.terminated->exit_code == 0;
  });
  const char* app_reason = initialized ? kContainerCreating : kPodInitializing;
  for (const auto& c : spec.containers)
    app_.push_back(build_container(c, Kind::App, in_.previous.container_statuses, app_reason));
  for (const auto& c : spec.ephemeral_containers) {
    ephemeral_.push_back(build_container(
        c, Kind::Ephemeral, in_.previous.ephemeral_container_statuses, kContainerCreating));
  }
}

// The status manager's TerminatePod: once the pod has initialized, an app
// container that never reported a termination is taken as failed, so that a
// pod whose containers vanished is not reported as successful.
void Builder::mark_unknown_on_termination() {
  if (in_.lifecycle != PodLifecycle::Terminated) return;
  bool initialized = std::any_of(app_.begin(), app_.end(), [](const Built& b) {
    return b.status.state.running || b.status.state.terminated || b.status.last_state.terminated;
  });
  if (!initialized) return;
  for (Built& b : app_) {
    if (b.status.state.terminated) continue;
    ContainerStateTerminated t;
    t.exit_code = 137;
    t.reason = kStatusUnknown;
    t.message = "The container could not be located when the pod was terminated";
    b.status.state = ContainerState{};
    b.status.state.terminated = t;
    b.status.started = false;
    b.status.ready = false;
  }
}

// kubelet getPhase, sidecar aware.
std::string Builder::compute_phase() const {
  int pending_init = 0, failed_init = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const Built& b : init_) {
    const ContainerState& st = b.status.state;
    bool has_last = b.status.last_state.terminated.has_value();
    // Not yet run in a new sandbox: pending, whatever an older sandbox did.
    bool fresh = st.waiting && !b.in_current_sandbox;
    if (b.kind == Kind::Init) {
      if (st.terminated) {
        if (st.terminated->exit_code != 0) ++failed_init;
      } else if (st.waiting && has_last && !fresh) {
        if (b.status.last_state.terminated->exit_code != 0) ++failed_init;
      } else {
        ++pending_init;
      }
      continue;
    }
    if (st.running) {
      if (!b.status.started.value_or(false)) ++pending_init;
      ++running;
    } else if (st.waiting && (!has_last || fresh)) {
      ++pending_init;
      if (!has_last) ++waiting;
    }
  }
  bool app_started = false;
  for (const Built& b : app_) {
    const ContainerState& st = b.status.state;
    if (st.running) {
      ++running;
      app_started = true;
    } else if (st.terminated) {
      ++stopped;
      app_started = true;
      if (st.terminated->exit_code == 0) ++succeeded;
    } else if (b.status.last_state.terminated) {
      ++stopped;
    } else {
      ++waiting;
    }
  }
  const std::string& policy = in_.pod.spec.restart_policy;
  if (failed_init > 0 && policy == "Never") return model::kPhaseFailed;
  if ((pending_init > 0 && !app_started) || waiting > 0) return model::kPhasePending;
  if (running > 0) return model::kPhaseRunning;
  if (stopped == 0) return model::kPhasePending;
  if (in_.lifecycle == PodLifecycle::Terminated)
    return stopped == succeeded ? model::kPhaseSucceeded : model::kPhaseFailed;
  if (policy == "Always") return model::kPhaseRunning;  // all restarting
  if (stopped == succeeded) return model::kPhaseSucceeded;
  if (policy == "Never") return model::kPhaseFailed;
  return model::kPhaseRunning;  // OnFailure, restarting the failed ones
}

void Builder::set_phase() {
  const model::PodStatus& prev = in_.previous;
  std::string phase = compute_phase();
  // A terminal phase never changes, not even to the other one: a pod
  // failed (evicted, say) whose containers then exit 0 stays Failed.
  if (is_terminal(prev.phase)) phase = prev.phase;
  if (!is_terminal(phase) && in_.lifecycle == PodLifecycle::Terminated) phase = model::kPhaseFailed;
  out_.phase = phase;
  if (phase == prev.phase) {  // the reason and message belong to the phase
    out_.reason = prev.reason;
    out_.message = prev.message;
  }
  if (in_.failure && !is_terminal(prev.phase)) {
    out_.phase = model::kPhaseFailed;
    out_.reason = in_.failure->reason;
    out_.message = in_.failure->message;
  }
}

std::string bracket_list(const std::vector<std::string>& names) {  // Go's %s of a []string
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? " " : "") + names[i];
  return out + "]";
}

PodCondition Builder::initialized_condition() const {
  PodCondition c{model::kConditionInitialized, kTrue, {}, {}, "", ""};
  if (out_.phase == model::kPhaseSucceeded) {
    c.reason = "PodCompleted";
    return c;
  }
  // Initialized once before: sidecars restarting do not undo it.
  for (const Built& b : app_)
    if (b.status.state.running || b.status.state.terminated) return c;
  std::vector<std::string> incomplete;
  for (const Built& b : init_) {
    const ContainerState& st = b.status.state;
    bool done = b.kind == Kind::Sidecar
                    ? b.status.started.value_or(false)
                    : b.in_current_sandbox && st.terminated && st.terminated->exit_code == 0;
    if (!done) incomplete.push_back(b.status.name);
  }
  if (incomplete.empty()) return c;
  c.status = kFalse;
  c.reason = "ContainersNotInitialized";
  c.message = "containers with incomplete status: " + bracket_list(incomplete);
  return c;
}

PodCondition Builder::containers_ready_condition() const {
  PodCondition c{model::kConditionContainersReady, kFalse, {}, {}, "", ""};
  if (out_.phase == model::kPhaseSucceeded) {
    c.reason = "PodCompleted";
    return c;
  }
  if (out_.phase == model::kPhaseFailed) {
    c.reason = "PodFailed";
    return c;
  }
  std::vector<std::string> unready;
  for (const Built& b : init_)
    if (b.kind == Kind::Sidecar && !b.status.ready) unready.push_back(b.status.name);
  for (const Built& b : app_)
    if (!b.status.ready) unready.push_back(b.status.name);
  if (unready.empty()) {
    c.status = kTrue;
    return c;
  }
  c.reason = "ContainersNotReady";
  c.message = "containers with unready status: " + bracket_list(unready);
  return c;
}

PodCondition Builder::ready_condition(const PodCondition& containers_ready,
                                      const std::vector<PodCondition>& others) const {
  PodCondition c = containers_ready;
  c.type = model::kConditionReady;
  if (c.status != kTrue) return c;
  std::vector<std::string> messages;
  for (const auto& gate : in_.pod.spec.readiness_gates) {
    auto it = std::find_if(others.begin(), others.end(),
                           [&](const PodCondition& o) { return o.type == gate.condition_type; });
    if (it == others.end()) {
      messages.push_back("corresponding condition of pod readiness gate \"" + gate.condition_type +
                         "\" does not exist.");
    } else if (it->status != kTrue) {
      messages.push_back("the status of pod readiness gate \"" + gate.condition_type +
                         "\" is not \"True\", but " + it->status);
    }
  }
  if (messages.empty()) return c;
  c.status = kFalse;
  c.reason = "ReadinessGatesNotReady";
  for (size_t i = 0; i < messages.size(); ++i) c.message += (i ? ", " : "") + messages[i];
  return c;
}

bool kubelet_owned(std::string_view type) {
  return type == model::kConditionPodReadyToStartContainers ||
         type == model::kConditionInitialized || type == model::kConditionContainersReady ||
         type == model::kConditionReady || type == "PodScheduled";
}

// Conditions set by others (readiness gates): those of the previous status,
// replaced by the desired pod's own where it sets them.
std::vector<PodCondition> foreign_conditions(const StatusInput& in) {
  std::vector<PodCondition> out;
  for (const auto& c : in.previous.conditions)
    if (!kubelet_owned(c.type)) out.push_back(c);
  for (const auto& c : in.pod.status.conditions) {
    if (kubelet_owned(c.type)) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const PodCondition& o) { return o.type == c.type; });
    if (it != out.end()) {
      *it = c;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void Builder::set_conditions() {
  std::vector<PodCondition> conditions = foreign_conditions(in_);
  size_t own_from = conditions.size();
  bool sandbox_ready = sandbox_ && sandbox_->state == runtime::SandboxState::Ready;
  conditions.push_back(
      {model::kConditionPodReadyToStartContainers, sandbox_ready ? kTrue : kFalse, {}, {}, "", ""});
  conditions.push_back(initialized_condition());
  PodCondition containers_ready = containers_ready_condition();
  conditions.push_back(containers_ready);
  conditions.push_back(ready_condition(containers_ready, conditions));
  for (size_t i = own_from; i < conditions.size(); ++i) {
    PodCondition& c = conditions[i];
    c.last_transition_time = in_.now;
    for (const auto& old : in_.previous.conditions) {
      if (old.type == c.type && old.status == c.status && old.last_transition_time)
        c.last_transition_time = old.last_transition_time;
    }
  }
  out_.conditions = std::move(conditions);
}

// The sandbox's IPs, ordered as the kubelet orders them: the first of the
// node's IP family, then the first of the other family.
void Builder::set_ips() {
  out_.host_ip = in_.host_ip;
  if (sandbox_ && sandbox_->state == runtime::SandboxState::Ready) {
    bool node_v6 = in_.host_ip.find(':') != std::string::npos;
    for (bool want_v6 : {node_v6, !node_v6}) {
      for (const auto& ip : sandbox_->ips) {
        if ((ip.find(':') != std::string::npos) == want_v6) {
          out_.pod_ips.push_back({ip});
          break;
        }
      }
    }
  }
  if (out_.pod_ips.empty() && in_.pod.spec.host_network && !in_.host_ip.empty())
    out_.pod_ips.push_back({in_.host_ip});
  if (!out_.pod_ips.empty()) out_.pod_ip = out_.pod_ips.front().ip;
}

std::vector<model::ContainerStatus> statuses_of(std::vector<Built>& built, bool by_name) {
  std::vector<model::ContainerStatus> out;
  out.reserve(built.size());
  for (Built& b : built) out.push_back(std::move(b.status));
  // The kubelet lists app and ephemeral containers by name, init
  // containers in spec order.
  if (by_name) {
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  }
  return out;
}

model::PodStatus Builder::build() {
  out_.qos_class = std::string(model::qos_class(in_.pod.spec));
  out_.start_time = in_.previous.start_time ? in_.previous.start_time : in_.now;
  if (in_.lifecycle == PodLifecycle::Rejected) {
    // As the kubelet's rejectPod: nothing but the verdict.
    out_.phase = model::kPhaseFailed;
    if (in_.failure) {
      out_.reason = in_.failure->reason;
      out_.message = in_.failure->message;
    }
    return std::move(out_);
  }
  build_containers();
  mark_unknown_on_termination();
  set_phase();
  set_conditions();
  set_ips();
  out_.init_container_statuses = statuses_of(init_, false);
  out_.container_statuses = statuses_of(app_, true);
  out_.ephemeral_container_statuses = statuses_of(ephemeral_, true);
  return std::move(out_);
}

}  // namespace

PodFailure deadline_exceeded_failure() {
  return {"DeadlineExceeded", "Pod was active on the node longer than the specified deadline"};
}

PodFailure rejection_failure(std::string reason, const std::string& message) {
  return {std::move(reason), "Pod was rejected: " + message};
}

model::PodStatus build_pod_status(const StatusInput& in) { return Builder(in).build(); }

}  // namespace podagent::podworker
