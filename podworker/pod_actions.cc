#include "podworker/pod_actions.h"

#include <algorithm>

#include "podworker/pod_volumes.h"

namespace podagent::podworker {
namespace {

using runtime::ContainerState;
using runtime::ContainerStatus;
using runtime::SandboxState;
using runtime::SandboxStatus;

// The order of instances of one container: a higher attempt is newer; the
// creation time and id break ties so that the choice is deterministic.
bool newer(const ContainerStatus& a, const ContainerStatus& b) {
  if (a.attempt != b.attempt) return a.attempt > b.attempt;
  if (a.created_at != b.created_at) return a.created_at > b.created_at;
  return a.id.str() > b.id.str();
}

bool newer(const SandboxStatus& a, const SandboxStatus& b) {
  if (a.attempt != b.attempt) return a.attempt > b.attempt;
  if (a.created_at != b.created_at) return a.created_at > b.created_at;
  return a.id.str() > b.id.str();
}

bool is_live(const ContainerStatus& c) {
  return c.state == ContainerState::Running || c.state == ContainerState::Unknown;
}

// The newest instance named `name` in `sandbox` (any sandbox when null),
// leaving out leftovers that were created but never started.
const ContainerStatus* newest(const ObservedPod& obs, std::string_view name, const base::SandboxId* sandbox) {
  const ContainerStatus* best = nullptr;
  for (const auto& c : obs.containers) {
    if (c.name != name || c.state == ContainerState::Created) continue;
    if (sandbox && c.sandbox_id != *sandbox) continue;
    if (!best || newer(c, *best)) best = &c;
  }
  return best;
}

// The newest exited instance named `name`, in any sandbox.
const ContainerStatus* newest_exited(const ObservedPod& obs, std::string_view name) {
  const ContainerStatus* best = nullptr;
  for (const auto& c : obs.containers) {
    if (c.name != name || c.state != ContainerState::Exited) continue;
    if (!best || newer(c, *best)) best = &c;
  }
  return best;
}

// The newest instance named `name`, whatever its state or sandbox.
const ContainerStatus* newest_any(const ObservedPod& obs, std::string_view name) {
  const ContainerStatus* best = nullptr;
  for (const auto& c : obs.containers) {
    if (c.name == name && (!best || newer(c, *best))) best = &c;
  }
  return best;
}

// The spec hash of the regular init or app container `name`; null for
// sidecars, ephemeral containers and names not in the spec.
const std::string* preparable_hash(const PlanInput& in, std::string_view name) {
  const auto& inits = in.pod.spec.init_containers;
  for (size_t i = 0; i < inits.size(); ++i)
    if (inits[i].name == name) return inits[i].is_sidecar() ? nullptr : &in.hashes.init[i];
  const auto& apps = in.pod.spec.containers;
  for (size_t i = 0; i < apps.size(); ++i)
    if (apps[i].name == name) return &in.hashes.app[i];
  return nullptr;
}

// The instance of `name` prepared in `sandbox` that is still valid: never
// started, of the current spec, and the newest of its name.
const ContainerStatus* prepared_instance(const PlanInput& in, const base::SandboxId& sandbox, std::string_view name) {
  const ContainerStatus* c = newest_any(in.observed, name);
  if (!c || c->state != ContainerState::Created || c->sandbox_id != sandbox) return nullptr;
  const std::string* hash = preparable_hash(in, name);
  return hash && c->spec_hash == *hash ? c : nullptr;
}

// An instance never started counts no restart: its attempt may be reused.
uint32_t next_attempt(const ObservedPod& obs, std::string_view name) {
  uint32_t next = 0;
  for (const auto& c : obs.containers) {
    if (c.name == name && c.state != ContainerState::Created) next = std::max(next, c.attempt + 1);
  }
  return next;
}

void wake_at(PodActions& out, SteadyTime t) {
  if (!out.next_wakeup || t < *out.next_wakeup) out.next_wakeup = t;
}

const ProbeFailure* liveness_failed(const PlanInput& in, const ContainerStatus& c) {
  auto it = std::find_if(in.liveness_failed.begin(), in.liveness_failed.end(),
                         [&](const ProbeFailure& f) { return f.id == c.id; });
  return it == in.liveness_failed.end() ? nullptr : &*it;
}

// One sync's plan under construction, with the chosen sandbox.
struct Planner {
  const PlanInput& in;
  PodActions& out;
  const base::SandboxId* sandbox = nullptr;  // null while a new one is to be created

  const ContainerStatus* current(std::string_view name) const {
    if (!sandbox) return nullptr;
    return newest(in.observed, name, sandbox);
  }

  const ContainerStatus* prepared(std::string_view name) const {
    return sandbox ? prepared_instance(in, *sandbox, name) : nullptr;
  }

  // The end of the container's backoff, while it lasts.
  std::optional<SteadyTime> held_until(const model::Container& c, const std::string& hash) const {
    const auto until = in.backoff.restart_allowed_at(base::Backoff::make_key(in.pod.metadata.uid, c.name, hash));
    if (!until || *until <= in.now) return std::nullopt;
    return until;
  }

  // Starts the container now (its prepared instance, if any), or holds it
  // until its backoff ends. True when it starts.
  bool start_or_hold(ContainerKind kind, size_t index, const model::Container& c, const std::string& hash) {
    if (const auto until = held_until(c, hash)) {
      out.held.push_back({c.name, kind, *until});
      wake_at(out, *until);
      return false;
    }
    ContainerStart s{kind, index, c.name, next_attempt(in.observed, c.name)};
    if (const ContainerStatus* p = prepared(c.name)) {
      s.attempt = p->attempt;
      s.prepared = p->id;
    }
    out.start.push_back(std::move(s));
    return true;
  }

  void prepare(ContainerKind kind, size_t index, const model::Container& c, const std::string& hash) {
    if (!may_prepare(in.pod, c) || current(c.name) || prepared(c.name) || held_until(c, hash)) return;
    out.prepare.push_back({kind, index, c.name, next_attempt(in.observed, c.name)});
  }

  // While regular init container `i` starts or runs: prepares the regular
  // init containers after it and the app containers.
  void prepare_following(size_t i) {
    const auto& inits = in.pod.spec.init_containers;
    for (size_t j = i + 1; j < inits.size(); ++j)
      if (!inits[j].is_sidecar()) prepare(ContainerKind::Init, j, inits[j], in.hashes.init[j]);
    const auto& apps = in.pod.spec.containers;
    for (size_t j = 0; j < apps.size(); ++j) prepare(ContainerKind::App, j, apps[j], in.hashes.app[j]);
  }

  void kill(const ContainerStatus& c, std::string reason, std::string message) {
    out.kill.push_back({c.id, c.name, c.kind, std::move(reason), std::move(message)});
  }

  enum class Check { Keep, Replace, Killed };

  // Kills a running instance whose spec changed (Replace: start the new
  // spec now, under its own fresh backoff key) or whose liveness probe
  // failed (Killed: restarted per policy once its exit is seen).
  Check check_running(const ContainerStatus& c, const std::string& hash) {
    if (c.spec_hash != hash) {
      kill(c, "SpecChanged", "Container " + c.name + " definition changed, will be restarted");
      return Check::Replace;
    }
    if (const ProbeFailure* failed = liveness_failed(in, c)) {
      kill(c, "Unhealthy",
           failed->message.empty() ? "Container " + c.name + " failed liveness probe, will be restarted"
                                   : failed->message);
      out.kill.back().grace = failed->grace;
      return Check::Killed;
    }
    return Check::Keep;
  }

  bool sidecar_started(const model::Container& c) const {
    if (!c.startup_probe) return true;
    auto it = in.probes.find(c.name);
    return it != in.probes.end() && it->second.started.value_or(false);
  }

  // Keeps a sidecar running. Returns true when it counts as done (running
  // and started).
  bool keep_sidecar(size_t i) {
    const auto& spec = in.pod.spec.init_containers[i];
    const auto& hash = in.hashes.init[i];
    const ContainerStatus* inst = current(spec.name);
    if (inst && is_live(*inst)) {
      if (inst->state == ContainerState::Unknown) {
        kill(*inst, "Unknown", "Container " + inst->name + " is in an unknown state");
        return false;
      }
      Check check = check_running(*inst, hash);
      if (check == Check::Keep) return sidecar_started(spec);
      if (check == Check::Replace) start_or_hold(ContainerKind::Sidecar, i, spec, hash);
      return false;
    }
    start_or_hold(ContainerKind::Sidecar, i, spec, hash);
    return false;
  }

  // Walks the init containers in order. Returns true once initialization is
  // complete; otherwise it planned the next step (or the pod failed).
  bool initialize() {
    const auto& inits = in.pod.spec.init_containers;
    for (size_t i = 0; i < inits.size(); ++i) {
      if (inits[i].is_sidecar()) {
        if (!keep_sidecar(i)) return false;
        continue;
      }
      const ContainerStatus* inst = current(inits[i].name);
      if (inst && inst->state == ContainerState::Unknown) {
        kill(*inst, "Unknown", "Container " + inst->name + " is in an unknown state");
        return false;
      }
      if (inst && inst->state == ContainerState::Exited) {
        if (inst->exit_code == 0) continue;
        if (in.pod.spec.restart_policy == "Never") {
          out.outcome = PodOutcome::Failed;
          out.reason = "InitContainerFailed";
          out.message = "Init container " + inst->name + " failed with exit code " + std::to_string(inst->exit_code);
          return false;
        }
      }
      const bool runs = (inst && inst->state == ContainerState::Running) ||
                        start_or_hold(ContainerKind::Init, i, inits[i], in.hashes.init[i]);
      if (runs) prepare_following(i);
      return false;
    }
    return true;
  }

  // Once app containers ran in this sandbox, the pod stays initialized:
  // sidecars are kept running but regular init containers never re-run.
  bool previously_initialized() const {
    for (const auto& c : in.pod.spec.containers) {
      if (current(c.name)) return true;
    }
    return false;
  }

  // True when every app container exited in this sandbox and none will
  // restart.
  bool apps_done() const {
    for (const auto& c : in.pod.spec.containers) {
      const ContainerStatus* inst = current(c.name);
      if (!inst || inst->state != ContainerState::Exited) return false;
      if (should_restart(in.pod.spec.restart_policy, inst->exit_code)) return false;
    }
    return true;
  }

  // Plans the ephemeral containers: each starts once, never again (the
  // kubelet starts one only while the runtime knows no instance of it).
  // An instance left Created by a failed start is garbage, so that start is
  // retried.
  void run_ephemeral() {
    const auto& list = in.pod.spec.ephemeral_containers;
    for (size_t k = 0; k < list.size(); ++k) {
      if (newest(in.observed, list[k].name, nullptr)) continue;
      out.start.push_back({ContainerKind::Ephemeral, k, list[k].name, 0});
    }
  }

  // Plans the app containers.
  void run_apps() {
    const auto& apps = in.pod.spec.containers;
    for (size_t j = 0; j < apps.size(); ++j) {
      const ContainerStatus* inst = current(apps[j].name);
      if (!inst) {
        start_or_hold(ContainerKind::App, j, apps[j], in.hashes.app[j]);
        continue;
      }
      if (inst->state == ContainerState::Unknown) {
        kill(*inst, "Unknown", "Container " + inst->name + " is in an unknown state");
        continue;
      }
      if (inst->state == ContainerState::Running) {
        if (check_running(*inst, in.hashes.app[j]) == Check::Replace) {
          start_or_hold(ContainerKind::App, j, apps[j], in.hashes.app[j]);
        }
        continue;
      }
      if (should_restart(in.pod.spec.restart_policy, inst->exit_code)) {
        start_or_hold(ContainerKind::App, j, apps[j], in.hashes.app[j]);
      }
    }
  }
};

const SandboxStatus* pick_sandbox(const ObservedPod& obs) {
  const SandboxStatus* best = nullptr;
  for (const auto& s : obs.sandboxes) {
    if (s.state != SandboxState::Ready) continue;
    if (!best || newer(s, *best)) best = &s;
  }
  return best;
}

bool in_spec(const model::Pod& pod, std::string_view name) {
  auto named = [&](const model::Container& c) { return c.name == name; };
  return std::any_of(pod.spec.init_containers.begin(), pod.spec.init_containers.end(), named) ||
         std::any_of(pod.spec.containers.begin(), pod.spec.containers.end(), named) ||
         std::any_of(pod.spec.ephemeral_containers.begin(), pod.spec.ephemeral_containers.end(), named);
}

// Older exited instances, instances never started (but the valid prepared
// ones in `sandbox`, the pod's Ready sandbox if any), and exited instances
// of containers no longer in the spec are garbage; the newest exited
// instance of each container stays for status (lastState), as the kubelet
// keeps it.
void collect_garbage(const PlanInput& in, const SandboxStatus* sandbox, PodActions& out) {
  const auto& obs = in.observed;
  for (const auto& c : obs.containers) {
    if (c.state == ContainerState::Created) {
      if (!sandbox || prepared_instance(in, sandbox->id, c.name) != &c) out.remove.push_back(c.id);
      continue;
    }
    if (c.state != ContainerState::Exited) continue;
    if (!in_spec(in.pod, c.name) || newest_exited(obs, c.name) != &c) out.remove.push_back(c.id);
  }
  for (const auto& s : obs.sandboxes) {
    if (s.state == SandboxState::Ready) continue;
    bool keeps_one = std::any_of(obs.containers.begin(), obs.containers.end(), [&](const ContainerStatus& c) {
      return c.sandbox_id == s.id && std::find(out.remove.begin(), out.remove.end(), c.id) == out.remove.end();
    });
    bool newest_sandbox = std::none_of(obs.sandboxes.begin(), obs.sandboxes.end(),
                                       [&](const SandboxStatus& o) { return newer(o, s); });
    if (!keeps_one && !newest_sandbox) out.remove_sandboxes.push_back(s.id);
  }
}

uint32_t next_sandbox_attempt(const ObservedPod& obs) {
  uint32_t next = 0;
  for (const auto& s : obs.sandboxes) next = std::max(next, s.attempt + 1);
  return next;
}

// No Ready sandbox: kill what still runs and, unless a Never pod already ran
// containers (the kubelet does not re-create those), start over.
void replace_sandbox(const PlanInput& in, PodActions& out) {
  for (const auto& c : in.observed.containers) {
    if (is_live(c)) {
      out.kill.push_back({c.id, c.name, c.kind, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created"});
    }
  }
  out.kill_pod = !out.kill.empty();
  if (in.pod.spec.restart_policy == "Never" && !in.observed.containers.empty()) {
    out.outcome = PodOutcome::Completed;
    out.reason = "SandboxLost";
    out.message = "The pod's sandbox stopped and restartPolicy is Never";
    return;
  }
  out.create_sandbox = true;
  out.sandbox_attempt = next_sandbox_attempt(in.observed);
  Planner p{in, out, nullptr};
  if (p.initialize()) p.run_apps();
}

}  // namespace

const model::Container& container_of(const model::Pod& pod, const ContainerStart& s) {
  switch (s.kind) {
    case ContainerKind::App:
      return pod.spec.containers[s.index];
    case ContainerKind::Ephemeral:
      return pod.spec.ephemeral_containers[s.index];
    case ContainerKind::Init:
    case ContainerKind::Sidecar:
      break;
  }
  return pod.spec.init_containers[s.index];
}

const std::string& hash_of(const PodSpecHashes& hashes, const ContainerStart& s) {
  switch (s.kind) {
    case ContainerKind::App:
      return hashes.app[s.index];
    case ContainerKind::Ephemeral:
      return hashes.ephemeral[s.index];
    case ContainerKind::Init:
    case ContainerKind::Sidecar:
      break;
  }
  return hashes.init[s.index];
}

bool may_prepare(const model::Pod& pod, const model::Container& c) {
  if (c.image_pull_policy == "Always" || env_reads_config_objects(c)) return false;
  for (const auto& m : c.volume_mounts) {
    if (!m.sub_path.empty() || !m.sub_path_expr.empty()) return false;
    for (const auto& v : pod.spec.volumes)
      if (v.name == m.name && v.host_path && !v.host_path->type.empty()) return false;
  }
  return true;
}

bool should_restart(std::string_view restart_policy, int32_t exit_code) {
  if (restart_policy == "Never") return false;
  if (restart_policy == "OnFailure") return exit_code != 0;
  return true;  // Always, the default
}

bool exit_counts_for_backoff(const model::Pod& pod, const runtime::ContainerStatus& c) {
  if (c.state != ContainerState::Exited) return false;
  for (const auto& init : pod.spec.init_containers) {
    if (init.name != c.name) continue;
    if (init.is_sidecar()) return true;
    return c.exit_code != 0 && pod.spec.restart_policy != "Never";
  }
  for (const auto& app : pod.spec.containers) {
    if (app.name == c.name) return should_restart(pod.spec.restart_policy, c.exit_code);
  }
  return false;
}

PodActions compute_pod_actions(const PlanInput& in) {
  PodActions out;
  if (in.active_deadline) {
    if (in.now >= *in.active_deadline) {
      out.outcome = PodOutcome::DeadlineExceeded;
      out.reason = "DeadlineExceeded";
      out.message = "Pod was active on the node longer than the specified deadline";
      return out;
    }
    wake_at(out, *in.active_deadline);
  }
  const SandboxStatus* sandbox = pick_sandbox(in.observed);
  collect_garbage(in, sandbox, out);
  if (!sandbox) {
    replace_sandbox(in, out);
    return out;
  }
  out.sandbox = sandbox->id;
  for (const auto& s : in.observed.sandboxes) {
    if (s.state == SandboxState::Ready && s.id != sandbox->id) out.stop_sandboxes.push_back(s.id);
  }
  Planner p{in, out, &sandbox->id};
  for (const auto& c : in.observed.containers) {
    if (!is_live(c)) continue;
    if (c.sandbox_id != sandbox->id) {
      p.kill(c, "SandboxChanged", "Container " + c.name + " runs outside the pod's current sandbox");
    } else if (!in_spec(in.pod, c.name)) {
      p.kill(c, "NotInSpec", "Container " + c.name + " is no longer in the pod's spec");
    }
  }
  if (p.previously_initialized()) {
    if (p.apps_done()) {  // done for good: the sidecars are stopped, not restarted
      out.outcome = PodOutcome::Completed;
      out.reason = "Completed";
      return out;
    }
    const auto& inits = in.pod.spec.init_containers;
    for (size_t i = 0; i < inits.size(); ++i) {
      if (inits[i].is_sidecar()) p.keep_sidecar(i);
    }
    p.run_apps();
    p.run_ephemeral();
    return out;
  }
  if (p.initialize()) {
    p.run_apps();
    p.run_ephemeral();
  }
  return out;
}

namespace {

// The position of `name` among the sidecars' init order; nullopt when it is
// not a sidecar of the spec.
std::optional<size_t> sidecar_index(const model::Pod& pod, std::string_view name) {
  const auto& inits = pod.spec.init_containers;
  for (size_t i = 0; i < inits.size(); ++i) {
    if (inits[i].name == name) return inits[i].is_sidecar() ? std::optional<size_t>(i) : std::nullopt;
  }
  return std::nullopt;
}

ContainerKill stopping(const runtime::ContainerStatus& c) {
  return {c.id, c.name, c.kind, "Killing", "Stopping container " + c.name};
}

}  // namespace

PodActions compute_termination_actions(const PlanInput& in) {
  PodActions out;
  const runtime::ContainerStatus* last_sidecar = nullptr;
  size_t last_index = 0;
  for (const auto& c : in.observed.containers) {
    if (c.state == ContainerState::Created) out.remove.push_back(c.id);  // prepared, or a leftover
    if (!is_live(c)) continue;
    auto index = sidecar_index(in.pod, c.name);
    if (!index) {
      out.kill.push_back(stopping(c));
    } else if (!last_sidecar || *index > last_index) {
      last_sidecar = &c;
      last_index = *index;
    }
  }
  if (!out.kill.empty() || !out.remove.empty()) return out;
  if (last_sidecar) {
    out.kill.push_back(stopping(*last_sidecar));
    return out;
  }
  for (const auto& s : in.observed.sandboxes) {
    if (s.state == runtime::SandboxState::Ready) out.stop_sandboxes.push_back(s.id);
  }
  out.all_stopped = out.stop_sandboxes.empty();
  return out;
}

}  // namespace podagent::podworker
