// Encoding of a pod's status as the Kubernetes API shows it, plus podagent's
// own per-container fields (terminationHistory, nextRestartAt), which
// Kubernetes tools ignore as unknown keys.

#include <chrono>
#include <cstdio>

#include "model/encode_helpers.h"
#include "model/pod_codec.h"

namespace podagent::model {
namespace encoding {
namespace {

// RFC 3339 in UTC with whole seconds, as metav1.Time is written
// ("2026-01-02T03:04:05Z"); a fraction of a second is dropped (rounded down).
std::string format_time(WallTime t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto days = floor<std::chrono::days>(secs);
  const year_month_day ymd{days};
  const hh_mm_ss<seconds> hms{secs - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

void put_time(Node& n, const char* key, const std::optional<WallTime>& t) {
  if (t) n.set(key, Node::string(format_time(*t)));
}

Node encode_condition(const PodCondition& c) {
  Node n = Node::map();
  put_required(n, "type", c.type);
  put_required(n, "status", c.status);
  put_time(n, "lastProbeTime", c.last_probe_time);
  put_time(n, "lastTransitionTime", c.last_transition_time);
  put(n, "reason", c.reason);
  put(n, "message", c.message);
  return n;
}

Node encode_state(const ContainerState& s) {
  Node n = Node::map();
  put_optional(n, "waiting", s.waiting, [](const ContainerStateWaiting& w) {
    Node m = Node::map();
    put(m, "reason", w.reason);
    put(m, "message", w.message);
    return m;
  });
  put_optional(n, "running", s.running, [](const ContainerStateRunning& r) {
    Node m = Node::map();
    put_time(m, "startedAt", r.started_at);
    return m;
  });
  put_optional(n, "terminated", s.terminated, [](const ContainerStateTerminated& t) {
    Node m = Node::map();
    put_required(m, "exitCode", int64_t{t.exit_code});
    put(m, "signal", int64_t{t.signal});
    put(m, "reason", t.reason);
    put(m, "message", t.message);
    put_time(m, "startedAt", t.started_at);
    put_time(m, "finishedAt", t.finished_at);
    put(m, "containerID", t.container_id);
    return m;
  });
  return n;
}

Node encode_container_status(const ContainerStatus& s) {
  Node n = Node::map();
  put_required(n, "name", s.name);
  // state and lastState are structs without omitempty: shown as {} when empty.
  n.set("state", encode_state(s.state));
  n.set("lastState", encode_state(s.last_state));
  put_required(n, "ready", s.ready);
  put_required(n, "restartCount", int64_t{s.restart_count});
  put_required(n, "image", s.image);
  put_required(n, "imageID", s.image_id);
  put(n, "containerID", s.container_id);
  put(n, "started", s.started);
  put_time(n, "nextRestartAt", s.next_restart_at);
  put_list(n, "terminationHistory", s.termination_history, [](const TerminationRecord& r) {
    Node m = Node::map();
    m.set("finishedAt", Node::string(format_time(r.finished_at)));
    put_required(m, "exitCode", int64_t{r.exit_code});
    put(m, "reason", r.reason);
    return m;
  });
  return n;
}

}  // namespace
}  // namespace encoding

Node encode_pod_status(const PodStatus& status) {
  using namespace encoding;
  Node n = Node::map();
  put(n, "phase", status.phase);
  put_list(n, "conditions", status.conditions, encode_condition);
  put(n, "message", status.message);
  put(n, "reason", status.reason);
  put(n, "hostIP", status.host_ip);
  put(n, "podIP", status.pod_ip);
  put_list(n, "podIPs", status.pod_ips, [](const PodIp& ip) {
    Node m = Node::map();
    put_required(m, "ip", ip.ip);
    return m;
  });
  put_time(n, "startTime", status.start_time);
  put_list(n, "initContainerStatuses", status.init_container_statuses, encode_container_status);
  put_list(n, "containerStatuses", status.container_statuses, encode_container_status);
  put(n, "qosClass", status.qos_class);
  put_list(n, "ephemeralContainerStatuses", status.ephemeral_container_statuses, encode_container_status);
  return n;
}

}  // namespace podagent::model
