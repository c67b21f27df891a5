#include "agent/soak_observer.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace podagent::agent {

namespace {

std::string key_of(const std::string& ns, const std::string& name) { return ns + "/" + name; }

}  // namespace

std::optional<int32_t> parse_run_number(const std::string& message) {
  int32_t n = 0;
  auto [ptr, ec] = std::from_chars(message.data(), message.data() + message.size(), n);
  if (ec != std::errc() || ptr != message.data() + message.size() || n < 0) return std::nullopt;
  return n;
}

std::vector<SoakRestart> SoakContainerHistory::restarts() const {
  // A run that ends at once may never be reported running: its termination
  // alone tells that it was started.
  std::set<int32_t> runs;
  for (const SoakStart& s : starts) runs.insert(s.instance);
  for (const SoakTermination& t : terminations) runs.insert(t.run());
  std::vector<SoakRestart> out;
  for (int32_t run : runs) {
    if (run < 1) continue;
    SoakRestart r;
    r.instance = run;
    for (const SoakStart& s : starts) {
      if (s.instance == run && !r.started_seen_at) r.started_seen_at = s.seen_at;
    }
    for (const SoakTermination& t : terminations) {
      if (t.run() == run - 1) r.previous = &t;
    }
    // Seen in the same version (or, impossibly, later): no delay to measure.
    if (r.previous && r.started_seen_at && r.previous->seen_at < *r.started_seen_at)
      r.delay = *r.started_seen_at - r.previous->seen_at;
    out.push_back(r);
  }
  return out;
}

const SoakTermination* SoakContainerHistory::pending() const {
  if (terminations.empty()) return nullptr;
  const SoakTermination& last = terminations.back();
  const int32_t newest_run = starts.empty() ? -1 : starts.back().instance;
  if (last.run() >= 0 && last.run() < newest_run) return nullptr;
  if (last.run() < 0 && !starts.empty() && starts.back().seen_at > last.seen_at) return nullptr;
  return &last;
}

const SoakContainerHistory* SoakObserver::find(const std::string& pod_key,
                                               const std::string& container) const {
  auto it = containers_.find(pod_key + "/" + container);
  return it == containers_.end() ? nullptr : &it->second;
}

SoakTime SoakObserver::Arrival::bounded_by(const std::optional<model::WallTime>& stamp) const {
  if (!stamp) return at;
  const auto since = std::chrono::duration_cast<SoakTime::duration>(wall_at - *stamp);
  const SoakTime latest = at - since + std::chrono::seconds(1);
  return std::min(at, latest);
}

void SoakObserver::observe(const model::Pod& pod, SoakTime at, model::WallTime wall_at) {
  // A pod being deleted is killed by the harness, not by its pattern.
  if (!pod.metadata.deletion_timestamp.empty()) return;
  const std::string pod_key = key_of(pod.metadata.namespace_, pod.metadata.name);
  for (const model::Container& c : pod.spec.containers) {
    auto [it, inserted] = containers_.try_emplace(pod_key + "/" + c.name);
    SoakContainerHistory& h = it->second;
    if (inserted) {
      h.pod = pod_key;
      h.container = c.name;
      h.first_seen = at;
    }
  }
  for (const model::ContainerStatus& s : pod.status.container_statuses) {
    auto it = containers_.find(pod_key + "/" + s.name);
    if (it != containers_.end()) observe_container(it->second, s, Arrival{at, wall_at});
  }
}

void SoakObserver::observe_container(SoakContainerHistory& h, const model::ContainerStatus& s,
                                     Arrival at) {
  h.restart_count = std::max(h.restart_count, s.restart_count);
  // The previous run first: it ended before the current one began.
  if (s.last_state.terminated) {
    const model::ContainerStateTerminated& t = *s.last_state.terminated;
    // While waiting in CrashLoopBackOff the agent reports the run that just
    // ended as lastState with its own restartCount; otherwise lastState is
    // the run before the current one. Only a known id tells them apart.
    add_termination(h, t, {}, -1, at);
  }
  if (s.state.running && !s.container_id.empty()) {
    const bool known = std::any_of(h.starts.begin(), h.starts.end(), [&](const SoakStart& x) {
      return x.container_id == s.container_id;
    });
    if (!known)
      h.starts.push_back(
          {s.restart_count, s.container_id, at.bounded_by(s.state.running->started_at)});
  }
  if (s.state.terminated)
    add_termination(h, *s.state.terminated, s.container_id, s.restart_count, at);
}

void SoakObserver::add_termination(SoakContainerHistory& h,
                                   const model::ContainerStateTerminated& t,
                                   const std::string& fallback_id, int32_t instance, Arrival at) {
  const std::string id = t.container_id.empty() ? fallback_id : t.container_id;
  if (id.empty()) return;  // nothing to tell one run's end from another's
  if (std::any_of(h.terminations.begin(), h.terminations.end(),
                  [&](const SoakTermination& x) { return x.container_id == id; }))
    return;
  // A run seen running names its instance.
  for (const SoakStart& s : h.starts) {
    if (s.container_id == id) instance = s.instance;
  }
  h.terminations.push_back({instance, id, t.exit_code, t.reason, t.message,
                            at.bounded_by(t.finished_at), parse_run_number(t.message)});
}

}  // namespace podagent::agent
