// OciRuntime: recovery after an agent restart, and log rotation.

#include <set>

#include "base/log.h"
#include "runtime/oci/container_logs.h"
#include "runtime/oci/oci_runtime.h"
#include "runtime/oci/rootfs.h"

namespace podagent::runtime::oci {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Task<base::Status> OciRuntime::recover() {
  if (recovery_ == Recovery::Done) co_return *recovery_result_;
  if (recovery_ == Recovery::Running) {
    // Another call is recovering: wait until it wakes us.
    while (recovery_ != Recovery::Done) {
      auto timer = std::shared_ptr<base::Timer>(clock_.make_timer(executor_));
      timer->expires_at(clock_.now() + 1h);
      recovery_waiters_.push_back(timer);
      co_await timer->wait();
    }
    co_return *recovery_result_;
  }
  recovery_ = Recovery::Running;
  const LoadedState loaded = state_.load();
  co_await adopt(loaded);
  recovery_result_ = base::Status::Ok();
  recovery_ = Recovery::Done;
  for (auto& w : recovery_waiters_)
    if (auto t = w.lock()) t->cancel();
  recovery_waiters_.clear();
  co_return *recovery_result_;
}

namespace {

ContainerState state_from(const std::string& oci_status) {
  if (oci_status == "created" || oci_status == "creating") return ContainerState::Created;
  if (oci_status == "running" || oci_status == "paused") return ContainerState::Running;
  if (oci_status == "stopped") return ContainerState::Exited;
  return ContainerState::Unknown;
}

}  // namespace

// What the OCI runtimes hold: every handler's objects, by id, and the
// driver of each.
struct OciRuntime::Found {
  std::map<std::string, OciState> states;
  std::map<std::string, OciDriver*> owner;
  std::set<std::string> adopted;  // ids matched with a record
};

Task<OciRuntime::Found> OciRuntime::list_objects(const LoadedState& loaded) {
  std::set<std::string> handlers = {options_.default_handler};
  for (const auto& s : loaded.sandboxes) handlers.insert(s.handler);
  for (const auto& c : loaded.containers) handlers.insert(c.handler);
  std::error_code ec;
  for (fs::directory_iterator it(state_.root() / "run", ec), end; !ec && it != end;
       it.increment(ec))
    handlers.insert(it->path().filename().string());
  Found found;
  for (const std::string& h : handlers) {
    auto d = driver(h);
    if (!d) {
      base::log_warning("oci: recovery: {}", d.error().to_string());
      continue;
    }
    base::Result<std::vector<OciState>> listed = co_await (*d)->list();
    if (!listed) {
      base::log_warning("oci: recovery: listing the {} containers: {}", h,
                        listed.error().to_string());
      continue;
    }
    for (auto& st : *listed) {
      found.owner[st.id] = *d;
      found.states[st.id] = std::move(st);
    }
  }
  co_return found;
}

Task<void> OciRuntime::adopt_sandboxes(const LoadedState& loaded, Found& found) {
  for (const SandboxRecord& r : loaded.sandboxes) {
    auto obj = found.states.find(r.id);
    // A pause never started is a creation cut short: the pod makes its
    // sandbox again rather than keep a dead one beside the new.
    const bool never_started =
        obj != found.states.end() && state_from(obj->second.status) == ContainerState::Created;
    if (obj == found.states.end() || never_started) {
      base::log_info("oci: recovery: sandbox {} of pod uid={} {}: removed", r.id, r.pod_uid,
                     never_started ? "was never started" : "has no runtime object");
      (void)co_await delete_sandbox_objects(r);
      found.states.erase(r.id);
      continue;
    }
    found.adopted.insert(r.id);
    Sandbox s;
    s.record = r;
    s.ips = recorded_ips(r.id);
    const bool running = obj->second.status == "running" && obj->second.pid > 0;
    if (running) {
      s.state = SandboxState::Ready;
      s.pause_pid = obj->second.pid;
    } else {
      s.exit_reported = true;  // the pod worker sees NotReady when it lists
      if (!s.record.finished_at) s.record.finished_at = clock_.wall_now();
    }
    index_sandbox(std::move(s));
    // A dead sandbox's IP lease and veth go now, not when its pod gets to
    // remove it (a failure is retried then).
    if (!running) {
      if (auto t = co_await teardown_network(r.id); !t)
        base::log_warning("oci: recovery: sandbox {} of pod uid={}: {}", r.id, r.pod_uid,
                          t.error().to_string());
    }
  }
}

Task<void> OciRuntime::adopt_containers(const LoadedState& loaded, Found& found) {
  for (const ContainerRecord& r : loaded.containers) {
    auto obj = found.states.find(r.id);
    // One never started is a creation cut short too: nothing of it ran, so
    // its pod makes it again as the same attempt rather than count a restart.
    const bool never_started =
        obj != found.states.end() && state_from(obj->second.status) == ContainerState::Created;
    if (obj == found.states.end() || sandboxes_.count(r.sandbox_id) == 0 || never_started) {
      base::log_info("oci: recovery: container {} ({}) of pod uid={} {}: removed", r.id, r.name,
                     r.pod_uid,
                     obj == found.states.end() ? "has no runtime object"
                     : never_started           ? "was never started"
                                               : "has no sandbox");
      if (auto s = co_await delete_container_objects(r); !s)
        base::log_warning("oci: recovery: removing container {}: {}", r.id, s.error().to_string());
      found.states.erase(r.id);  // its runtime object went with it
      continue;
    }
    found.adopted.insert(r.id);
    Container c;
    c.record = r;
    c.state = state_from(obj->second.status);
    if (c.state == ContainerState::Running && !c.record.started_at)
      c.record.started_at = clock_.wall_now();
    const bool exited = c.state == ContainerState::Exited;
    index_container(std::move(c));
    // One that exited while no agent ran gets its code recorded now,
    // without an event (the pod workers list everything when they start).
    if (exited) mark_exited(containers_.at(r.id), found.owner[r.id]->exit_code(r.id), false);
  }
}

// Each runtime object found is matched with its record. Runs once, before
// any other call is served; exits seen by the driver meanwhile are caught
// by the final pass.
Task<void> OciRuntime::adopt(const LoadedState& loaded) {
  Found found = co_await list_objects(loaded);
  co_await adopt_sandboxes(loaded, found);
  co_await adopt_containers(loaded, found);
  // Runtime objects without a record are ours (the runtime's root is the
  // agent's own) but unknown: a creation cut short. Then the directories
  // without a record.
  for (const auto& [id, st] : found.states) {
    if (found.adopted.count(id)) continue;
    base::log_info("oci: recovery: runtime object {} has no record: removed", id);
    if (auto s = co_await found.owner[id]->remove(id); s) found.owner[id]->forget(id);
  }
  for (const fs::path& dir : loaded.orphans) {
    if (auto s = remove_tree(dir); !s)
      base::log_warning("oci: recovery: {}", s.error().to_string());
  }
  // Exits the driver saw while this ran (their events found no entry).
  for (auto& [id, c] : containers_)
    if (c.state == ContainerState::Running && found.owner[id]->exit_code(id)) on_driver_exit(id);
  for (auto& [id, s] : sandboxes_)
    if (s.state == SandboxState::Ready && found.owner[id]->exit_code(id)) on_driver_exit(id);
}

void OciRuntime::rotate_logs() {
  for (auto& [id, c] : containers_) {
    if (c.record.log_path.empty() || c.state == ContainerState::Exited) continue;
    const fs::path log = c.record.log_path;
    auto rotated = rotate_log_if_full(log, options_.log_max_bytes, clock_.wall_now());
    if (!rotated) {
      base::log_warning("oci: container {}: {}", id, rotated.error().to_string());
      continue;
    }
    if (!*rotated) continue;
    if (auto d = driver(c.record.handler)) {
      if (auto s = (*d)->reopen_log(id); !s)
        base::log_warning("oci: container {}: reopening its log: {}", id, s.error().to_string());
    }
    prune_rotated_logs(log, options_.log_max_files);
  }
}

Task<void> OciRuntime::log_rotation_loop(std::shared_ptr<bool> alive,
                                         std::shared_ptr<base::Timer> timer) {
  // The runtime may be gone (or shut down) at any resumption, the first
  // included: check before touching it.
  while (*alive && !shut_down_) {
    timer->expires_at(clock_.now() + options_.log_check_period);
    const bool expired = co_await timer->wait();
    if (!*alive) co_return;  // the runtime is gone: touch nothing of it
    if (expired && !shut_down_ && recovery_ == Recovery::Done) rotate_logs();
  }
}

}  // namespace podagent::runtime::oci
