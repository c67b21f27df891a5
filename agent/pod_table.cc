#include "agent/pod_table.h"

#include <fmt/format.h>

#include <optional>

#include "model/pod_codec.h"

namespace podagent::agent {

namespace {

using model::Node;

struct Column {
  const char* name;
  const char* format;
  int priority;  // 1: only with -o wide
  const char* description;
};

constexpr Column kColumns[] = {
    {"Name", "name", 0, "Name must be unique within a namespace."},
    {"Ready", "", 0, "The aggregate readiness state of this pod for accepting traffic."},
    {"Status", "", 0, "The aggregate status of the containers in this pod."},
    {"Restarts", "", 0, "The number of times the containers in this pod have been restarted."},
    {"Age", "", 0, "The time since the pod was created."},
    {"IP", "", 1, "The IP address assigned to this pod."},
    {"Node", "", 1, "The node the pod runs on."},
    {"Nominated Node", "", 1, "The node this pod is nominated to run on (none on a node agent)."},
    {"Readiness Gates", "", 1, "The readiness gates that are true, of those the pod declares."},
};

std::string age_since(model::WallTime then, model::WallTime now) {
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - then));
}

std::string exit_text(const model::ContainerStateTerminated& t) {
  if (!t.reason.empty()) return t.reason;
  return t.signal != 0 ? fmt::format("Signal:{}", t.signal)
                       : fmt::format("ExitCode:{}", t.exit_code);
}

bool is_sidecar(const model::PodSpec& spec, const std::string& name) {
  for (const auto& c : spec.init_containers)
    if (c.name == name) return c.restart_policy && *c.restart_policy == "Always";
  return false;
}

// The STATUS column, after kubectl's printPod: the pod's phase or reason,
// overridden by init progress ("Init:1/2", "Init:CrashLoopBackOff"), by a
// container's waiting or terminated reason, and by "Terminating".
std::string status_of(const model::Pod& pod) {
  const auto& st = pod.status;
  std::string reason = st.reason.empty() ? st.phase : st.reason;
  bool initializing = false;
  for (size_t i = 0; i < st.init_container_statuses.size(); ++i) {
    const auto& c = st.init_container_statuses[i];
    if (c.state.terminated && c.state.terminated->exit_code == 0) continue;
    if (is_sidecar(pod.spec, c.name) && c.state.running && c.started.value_or(false)) continue;
    if (c.state.terminated) {
      reason = "Init:" + exit_text(*c.state.terminated);
    } else if (c.state.waiting && !c.state.waiting->reason.empty() &&
               c.state.waiting->reason != "PodInitializing") {
      reason = "Init:" + c.state.waiting->reason;
    } else {
      reason = fmt::format("Init:{}/{}", i, pod.spec.init_containers.size());
    }
    initializing = true;
    break;
  }
  if (!initializing) {
    bool has_running = false;
    for (auto it = st.container_statuses.rbegin(); it != st.container_statuses.rend(); ++it) {
      if (it->state.waiting && !it->state.waiting->reason.empty()) {
        reason = it->state.waiting->reason;
      } else if (it->state.terminated) {
        reason = exit_text(*it->state.terminated);
      } else if (it->state.running && it->ready) {
        has_running = true;
      }
    }
    if (reason == "Completed" && has_running) {
      bool ready = false;
      for (const auto& c : st.conditions)
        ready = ready || (c.type == model::kConditionReady && c.status == "True");
      reason = ready ? "Running" : "NotReady";
    }
  }
  if (!pod.metadata.deletion_timestamp.empty()) reason = "Terminating";
  return reason;
}

}  // namespace

std::string human_duration(std::chrono::seconds d) {
  const int64_t seconds = d.count();
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return fmt::format("{}s", seconds);
  const int64_t minutes = seconds / 60;
  if (minutes < 10)
    return seconds % 60 == 0 ? fmt::format("{}m", minutes)
                             : fmt::format("{}m{}s", minutes, seconds % 60);
  if (minutes < 180) return fmt::format("{}m", minutes);
  const int64_t hours = minutes / 60;
  if (hours < 8)
    return minutes % 60 == 0 ? fmt::format("{}h", hours)
                             : fmt::format("{}h{}m", hours, minutes % 60);
  if (hours < 48) return fmt::format("{}h", hours);
  if (hours < 24 * 8)
    return hours % 24 == 0 ? fmt::format("{}d", hours / 24)
                           : fmt::format("{}d{}h", hours / 24, hours % 24);
  if (hours < 24 * 365 * 2) return fmt::format("{}d", hours / 24);
  const int64_t years = hours / 24 / 365, days = (hours / 24) % 365;
  if (hours < 24 * 365 * 8)
    return days == 0 ? fmt::format("{}y", years) : fmt::format("{}y{}d", years, days);
  return fmt::format("{}y", years);
}

bool wants_table(std::string_view accept) {
  // Any offered media type with the parameter as=Table (g=meta.k8s.io, v1 or v1beta1).
  return accept.find("as=Table") != std::string_view::npos;
}

std::vector<std::string> pod_row_cells(const model::Pod& pod, model::WallTime now) {
  const auto& st = pod.status;
  int ready = 0, restarts = 0;
  size_t total = pod.spec.containers.size();
  std::optional<model::WallTime> last_restart;
  auto count = [&](const model::ContainerStatus& c) {
    restarts += c.restart_count;
    if (c.last_state.terminated && c.last_state.terminated->finished_at &&
        (!last_restart || *c.last_state.terminated->finished_at > *last_restart))
      last_restart = c.last_state.terminated->finished_at;
  };
  for (const auto& c : st.init_container_statuses) {
    count(c);
    if (is_sidecar(pod.spec, c.name)) {
      ++total;
      if (c.ready) ++ready;
    }
  }
  for (const auto& c : st.container_statuses) {
    count(c);
    if (c.ready && c.state.running) ++ready;
  }
  std::string restart_text = std::to_string(restarts);
  if (restarts > 0 && last_restart) restart_text += " (" + age_since(*last_restart, now) + " ago)";
  auto created = parse_timestamp(pod.metadata.creation_timestamp);
  std::string gates = "<none>";
  if (!pod.spec.readiness_gates.empty()) {
    size_t true_gates = 0;
    for (const auto& g : pod.spec.readiness_gates)
      for (const auto& c : st.conditions)
        if (c.type == g.condition_type && c.status == "True") ++true_gates;
    gates = fmt::format("{}/{}", true_gates, pod.spec.readiness_gates.size());
  }
  return {pod.metadata.name,
          fmt::format("{}/{}", ready, total),
          status_of(pod),
          restart_text,
          created ? age_since(*created, now) : "<unknown>",
          st.pod_ip.empty() ? "<none>" : st.pod_ip,
          pod.spec.node_name.empty() ? "<none>" : pod.spec.node_name,
          "<none>",
          gates};
}

model::Node pod_table(const std::vector<PodPtr>& pods, const std::string& resource_version,
                      model::WallTime now) {
  Node table = Node::map();
  table.set("kind", Node::string("Table"));
  table.set("apiVersion", Node::string("meta.k8s.io/v1"));
  table.set("metadata", Node::map()).set("resourceVersion", Node::string(resource_version));
  Node& columns = table.set("columnDefinitions", Node::sequence());
  for (const auto& c : kColumns) {
    Node& col = columns.push(Node::map());
    col.set("name", Node::string(c.name));
    col.set("type", Node::string("string"));
    col.set("format", Node::string(c.format));
    col.set("description", Node::string(c.description));
    col.set("priority", Node::integer(c.priority));
  }
  Node& rows = table.set("rows", Node::sequence());
  for (const PodPtr& pod : pods) {
    Node& row = rows.push(Node::map());
    Node& cells = row.set("cells", Node::sequence());
    for (auto& cell : pod_row_cells(*pod, now)) cells.push(Node::string(std::move(cell)));
    Node object = Node::map();
    object.set("kind", Node::string("PartialObjectMetadata"));
    object.set("apiVersion", Node::string("meta.k8s.io/v1"));
    Node encoded = model::encode_pod(*pod);
    if (const Node* meta = encoded.find("metadata")) object.set("metadata", *meta);
    row.set("object", std::move(object));
  }
  return table;
}

std::optional<model::WallTime> parse_timestamp(const std::string& text) {
  std::tm tm{};
  if (text.size() < 20 || !strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace podagent::agent
