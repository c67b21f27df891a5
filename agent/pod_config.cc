#include "agent/pod_config.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "agent/metrics.h"
#include "base/log.h"
#include "podworker/pod_workers.h"
#include "static-pods/static_pod_naming.h"

namespace podagent::agent {
namespace {

std::string rfc3339(model::WallTime t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", tm);
}

std::string key_of(const model::Pod& pod) {
  return pod.metadata.namespace_ + "/" + pod.metadata.name;
}

bool is_static(const model::Pod& pod) {
  auto it = pod.metadata.annotations.find(std::string(static_pods::kConfigSourceAnnotation));
  return it != pod.metadata.annotations.end() && it->second == static_pods::kConfigSourceFile;
}

bool all_containers_running(const model::PodStatus& status) {
  return !status.container_statuses.empty() &&
         std::all_of(status.container_statuses.begin(), status.container_statuses.end(),
                     [](const model::ContainerStatus& c) { return c.state.running.has_value(); });
}

}  // namespace

PodConfig::PodConfig(PodStore& store, podworker::PodWorkers* workers, base::Clock& clock,
                     PodConfigOptions options)
    : store_(store), workers_(workers), clock_(clock), options_(std::move(options)) {}

void PodConfig::set_static_pods(const static_pods::ManifestSnapshot& snapshot) {
  last_snapshot_ = snapshot;
  // Removals first: an edited manifest's old UID is marked deleting before
  // the new UID takes its namespace/name in the store.
  std::vector<base::PodUid> gone;
  for (const auto& [uid, pod] : static_)
    if (!snapshot.pods.contains(uid)) gone.push_back(uid);
  for (const auto& uid : gone) {
    const model::Pod& pod = *static_.at(uid);
    base::log_info("static pod removed: pod={} uid={}", key_of(pod), uid.str());
    stop(uid, std::nullopt);
    static_.erase(uid);
  }
  std::set<std::string> conflicts;
  for (const auto& [uid, desired] : snapshot.pods) {
    if (static_.contains(uid)) continue;
    const model::Pod& pod = *desired.pod;
    const std::string key = key_of(pod);
    PodPtr holder = store_.get(pod.metadata.namespace_, pod.metadata.name);
    if (holder && !is_static(*holder)) {
      if (!conflicts_.contains(key))
        base::log_error("static pod {} from {} not started: an API pod holds that name", key,
                        desired.file);
      conflicts.insert(key);
      continue;
    }
    base::log_info("static pod added: pod={} uid={} file={}", key, uid.str(), desired.file);
    static_.emplace(uid, desired.pod);
    start(pod, true);
  }
  conflicts_ = std::move(conflicts);
}

void PodConfig::restore_api_pods(std::vector<model::Pod> pods) {
  for (auto& pod : pods) {
    base::log_info("API pod restored: pod={} uid={}", key_of(pod), pod.metadata.uid);
    start(pod, true);
  }
}

void PodConfig::create(const model::Pod& pod) { start(pod, false); }

void PodConfig::replace(const model::Pod& pod) {
  if (workers_) workers_->update(pod);
}

void PodConfig::remove(const base::PodUid& uid, int64_t grace_period_seconds) {
  stop(uid, grace_period_seconds);
}

void PodConfig::start(const model::Pod& pod, bool store_it) {
  const base::PodUid uid(pod.metadata.uid);
  if (store_it) store_.put(pod);
  desired_at_.try_emplace(uid, clock_.now());
  if (workers_) {
    workers_->update(pod);
    return;
  }
  model::PodStatus status;
  status.phase = model::kPhasePending;
  status.reason = kReasonRuntimeUnavailable;
  status.message = options_.unavailable_message;
  store_.set_status(uid, std::move(status));
}

void PodConfig::stop(const base::PodUid& uid, std::optional<int64_t> grace_seconds) {
  PodPtr pod = store_.get(uid);
  if (pod && pod->metadata.deletion_timestamp.empty()) {
    const int64_t grace =
        grace_seconds.value_or(pod->spec.termination_grace_period_seconds.value_or(30));
    store_.mark_deleting(uid, rfc3339(clock_.wall_now()), grace);
  }
  desired_at_.erase(uid);
  removing_.insert(uid);
  if (workers_) {
    std::optional<base::Duration> grace;
    if (grace_seconds) grace = std::chrono::seconds(*grace_seconds);
    workers_->remove(uid, grace);
  }
  reap();  // a pod that never had a worker goes at once
}

size_t PodConfig::reap() {
  size_t reaped = 0;
  for (auto it = removing_.begin(); it != removing_.end();) {
    const bool gone = !workers_ || workers_->is_finished(*it) || !workers_->state(*it);
    if (!gone) {
      ++it;
      continue;
    }
    if (PodPtr last = store_.remove(*it)) {
      base::log_info("pod deleted: pod={} uid={}", key_of(*last), it->str());
      if (options_.metrics)
        for (const auto& [container, count] : restarts_[*it])
          options_.metrics->container_restarts.remove(
              {last->metadata.namespace_, last->metadata.name, container});
    }
    restarts_.erase(*it);
    it = removing_.erase(it);
    ++reaped;
  }
  // A static pod refused for a name an API pod held may fit now.
  if (reaped > 0 && !conflicts_.empty()) set_static_pods(last_snapshot_);
  return reaped;
}

void PodConfig::on_status(const base::PodUid& uid, const model::PodStatus& status) {
  if (!store_.set_status(uid, status)) return;  // replaced or already removed
  observe_metrics(uid, status);
}

void PodConfig::observe_metrics(const base::PodUid& uid, const model::PodStatus& status) {
  if (auto it = desired_at_.find(uid); it != desired_at_.end() && all_containers_running(status)) {
    const std::chrono::duration<double> latency = clock_.now() - it->second;
    if (options_.metrics) options_.metrics->pod_start_latency.observe(latency.count());
    desired_at_.erase(it);
  }
  if (!options_.metrics) return;
  PodPtr pod = store_.get(uid);
  if (!pod) return;
  auto& seen = restarts_[uid];
  auto count = [&](const std::vector<model::ContainerStatus>& statuses) {
    for (const auto& c : statuses) {
      int32_t& last = seen[c.name];
      if (c.restart_count > last) {
        options_.metrics->container_restarts
            .with({pod->metadata.namespace_, pod->metadata.name, c.name})
            .inc(c.restart_count - last);
      }
      last = std::max(last, c.restart_count);
    }
  };
  count(status.init_container_statuses);
  count(status.container_statuses);
}

}  // namespace podagent::agent
