// Decoding of a pod's status, so that a pod reported by the API (or stored
// by the agent) can be read back.

#include "model/decode_helpers.h"

namespace podagent::model::decoding {

// Struct readers stay out of the unnamed namespace so that the templates of
// decode_helpers.h find them (see container_decoder.cc).

bool read(Context& c, const Node& n, const std::string& path, PodCondition& out) {
  FieldReader r(c, n, path);
  r.field("type", out.type);
  r.field("status", out.status);
  r.field("lastProbeTime", out.last_probe_time);
  r.field("lastTransitionTime", out.last_transition_time);
  r.field("reason", out.reason);
  r.field("message", out.message);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ContainerStateWaiting& out) {
  FieldReader r(c, n, path);
  r.field("reason", out.reason);
  r.field("message", out.message);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ContainerStateRunning& out) {
  FieldReader r(c, n, path);
  r.field("startedAt", out.started_at);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ContainerStateTerminated& out) {
  FieldReader r(c, n, path);
  r.field("exitCode", out.exit_code);
  r.field("signal", out.signal);
  r.field("reason", out.reason);
  r.field("message", out.message);
  r.field("startedAt", out.started_at);
  r.field("finishedAt", out.finished_at);
  r.field("containerID", out.container_id);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ContainerState& out) {
  FieldReader r(c, n, path);
  r.field("waiting", out.waiting);
  r.field("running", out.running);
  r.field("terminated", out.terminated);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, TerminationRecord& out) {
  FieldReader r(c, n, path);
  r.field("finishedAt", out.finished_at);
  r.field("exitCode", out.exit_code);
  r.field("reason", out.reason);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ContainerStatus& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("state", out.state);
  r.field("lastState", out.last_state);
  r.field("ready", out.ready);
  r.field("restartCount", out.restart_count);
  r.field("image", out.image);
  r.field("imageID", out.image_id);
  r.field("containerID", out.container_id);
  r.field("started", out.started);
  // podagent's own fields (see encode_pod_status).
  r.field("nextRestartAt", out.next_restart_at);
  r.field("terminationHistory", out.termination_history);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, PodIp& out) {
  FieldReader r(c, n, path);
  r.field("ip", out.ip);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, PodStatus& out) {
  FieldReader r(c, n, path);
  r.field("phase", out.phase);
  r.field("conditions", out.conditions);
  r.field("message", out.message);
  r.field("reason", out.reason);
  r.field("hostIP", out.host_ip);
  r.field("podIP", out.pod_ip);
  r.field("podIPs", out.pod_ips);
  r.take("hostIPs");  // shown by the API server; the model keeps hostIP only
  r.field("startTime", out.start_time);
  r.field("initContainerStatuses", out.init_container_statuses);
  r.field("containerStatuses", out.container_statuses);
  r.field("ephemeralContainerStatuses", out.ephemeral_container_statuses);
  r.field("qosClass", out.qos_class);
  r.done();
  return r.is_map();
}

}  // namespace podagent::model::decoding
