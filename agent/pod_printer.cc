#include "agent/pod_printer.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <optional>

#include "agent/pod_table.h"
#include "model/document.h"
#include "model/pod_codec.h"

namespace podagent::agent {

namespace {

constexpr const char* kHeaders[] = {"NAME", "READY", "STATUS",         "RESTARTS",       "AGE",
                                    "IP",   "NODE",  "NOMINATED NODE", "READINESS GATES"};
constexpr size_t kNarrowColumns = 5;
constexpr size_t kPadding = 3;  // spaces after the widest cell of a column

// Label widths of describe's two levels, so that values line up as in
// kubectl's output: "Name:" + padding to 18 at the top; container fields at
// indent 4 (width 16) and their details at indent 6 (width 14) share one
// value column.
constexpr size_t kTopWidth = 18;
constexpr size_t kContainerWidth = 16;
constexpr size_t kDetailWidth = 14;

std::string render_rows(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(widths[i] + kPadding - row[i].size(), ' ');
    }
    out += '\n';
  }
  return out;
}

// One "label:   value" line at `indent`, the value starting at indent + width.
void line(std::string& out, size_t indent, size_t width, std::string_view label,
          std::string_view value) {
  std::string head(indent, ' ');
  head += label;
  head += ':';
  if (value.empty()) {
    out += head + '\n';
    return;
  }
  head.resize(std::max(head.size() + 1, indent + width), ' ');
  out += head;
  out += value;
  out += '\n';
}

// A map as kubectl shows labels: the first entry beside the label, the
// others below it in the value column; "<none>" when empty.
void map_lines(std::string& out, std::string_view label,
               const std::map<std::string, std::string>& entries, std::string_view separator) {
  if (entries.empty()) {
    line(out, 0, kTopWidth, label, "<none>");
    return;
  }
  bool first = true;
  for (const auto& [key, value] : entries) {
    const std::string text = key + std::string(separator) + value;
    if (first) {
      line(out, 0, kTopWidth, label, text);
      first = false;
    } else {
      out += std::string(kTopWidth, ' ') + text + '\n';
    }
  }
}

void state_lines(std::string& out, std::string_view label, const model::ContainerState& state) {
  constexpr size_t kIndent = 4, kDetail = 6;
  if (state.running) {
    line(out, kIndent, kContainerWidth, label, "Running");
    if (state.running->started_at)
      line(out, kDetail, kDetailWidth, "Started", describe_time(*state.running->started_at));
  } else if (state.waiting) {
    line(out, kIndent, kContainerWidth, label, "Waiting");
    if (!state.waiting->reason.empty())
      line(out, kDetail, kDetailWidth, "Reason", state.waiting->reason);
    if (!state.waiting->message.empty())
      line(out, kDetail, kDetailWidth, "Message", state.waiting->message);
  } else if (state.terminated) {
    const auto& t = *state.terminated;
    line(out, kIndent, kContainerWidth, label, "Terminated");
    if (!t.reason.empty()) line(out, kDetail, kDetailWidth, "Reason", t.reason);
    if (!t.message.empty()) line(out, kDetail, kDetailWidth, "Message", t.message);
    line(out, kDetail, kDetailWidth, "Exit Code", std::to_string(t.exit_code));
    if (t.signal != 0) line(out, kDetail, kDetailWidth, "Signal", std::to_string(t.signal));
    if (t.started_at) line(out, kDetail, kDetailWidth, "Started", describe_time(*t.started_at));
    if (t.finished_at) line(out, kDetail, kDetailWidth, "Finished", describe_time(*t.finished_at));
  }
}

void words_lines(std::string& out, std::string_view label, const std::vector<std::string>& words) {
  if (words.empty()) return;
  line(out, 4, kContainerWidth, label, "");
  for (const auto& w : words) out += "      " + w + '\n';
}

const model::ContainerStatus* find_status(const std::vector<model::ContainerStatus>& statuses,
                                          const std::string& name) {
  for (const auto& s : statuses)
    if (s.name == name) return &s;
  return nullptr;
}

void container_lines(std::string& out, const model::Container& c,
                     const model::ContainerStatus* status) {
  out += "  " + c.name + ":\n";
  if (status && !status->container_id.empty())
    line(out, 4, kContainerWidth, "Container ID", status->container_id);
  line(out, 4, kContainerWidth, "Image", c.image);
  if (status && !status->image_id.empty())
    line(out, 4, kContainerWidth, "Image ID", status->image_id);
  for (const auto& p : c.ports)
    line(out, 4, kContainerWidth, "Port",
         fmt::format("{}/{}", p.container_port, p.protocol.empty() ? "TCP" : p.protocol));
  words_lines(out, "Command", c.command);
  words_lines(out, "Args", c.args);
  if (status) {
    state_lines(out, "State", status->state);
    state_lines(out, "Last State", status->last_state);
  }
  line(out, 4, kContainerWidth, "Ready", status && status->ready ? "True" : "False");
  line(out, 4, kContainerWidth, "Restart Count",
       std::to_string(status ? status->restart_count : 0));
}

void conditions_lines(std::string& out, const std::vector<model::PodCondition>& conditions) {
  if (conditions.empty()) return;
  out += "Conditions:\n";
  std::vector<std::vector<std::string>> rows = {{"  Type", "Status"}};
  for (const auto& c : conditions) rows.push_back({"  " + c.type, c.status});
  out += render_rows(rows);
}

std::string status_text(const model::Pod& pod, model::WallTime now) {
  if (pod.metadata.deletion_timestamp.empty())
    return pod.status.phase.empty() ? "Pending" : pod.status.phase;
  auto deleted = parse_timestamp(pod.metadata.deletion_timestamp);
  if (!deleted) return "Terminating";
  return "Terminating (lasts " +
         human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *deleted)) + ")";
}

}  // namespace

std::string describe_time(model::WallTime t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  // %a and %b in the C locale: the program never calls setlocale.
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return text;
}

std::string format_pod_table(const std::vector<model::Pod>& pods, const TableOptions& options,
                             model::WallTime now) {
  if (pods.empty()) return "";
  const size_t columns = options.wide ? std::size(kHeaders) : kNarrowColumns;
  std::vector<std::vector<std::string>> rows;
  rows.emplace_back(kHeaders, kHeaders + columns);
  for (const model::Pod& pod : pods) {
    std::vector<std::string> cells = pod_row_cells(pod, now);
    cells.resize(columns);
    rows.push_back(std::move(cells));
  }
  if (options.with_namespace) {
    rows[0].insert(rows[0].begin(), "NAMESPACE");
    for (size_t i = 0; i < pods.size(); ++i)
      rows[i + 1].insert(rows[i + 1].begin(), pods[i].metadata.namespace_);
  }
  return render_rows(rows);
}

std::string describe_pod(const model::Pod& pod, model::WallTime now) {
  const auto& meta = pod.metadata;
  const auto& st = pod.status;
  std::string out;
  line(out, 0, kTopWidth, "Name", meta.name);
  line(out, 0, kTopWidth, "Namespace", meta.namespace_);
  std::string node = pod.spec.node_name.empty() ? "<none>" : pod.spec.node_name;
  if (!st.host_ip.empty()) node += "/" + st.host_ip;
  line(out, 0, kTopWidth, "Node", node);
  if (st.start_time) line(out, 0, kTopWidth, "Start Time", describe_time(*st.start_time));
  map_lines(out, "Labels", meta.labels, "=");
  map_lines(out, "Annotations", meta.annotations, ": ");
  line(out, 0, kTopWidth, "Status", status_text(pod, now));
  if (!st.reason.empty()) line(out, 0, kTopWidth, "Reason", st.reason);
  if (!st.message.empty()) line(out, 0, kTopWidth, "Message", st.message);
  line(out, 0, kTopWidth, "IP", st.pod_ip);
  if (!pod.spec.init_containers.empty()) {
    out += "Init Containers:\n";
    for (const auto& c : pod.spec.init_containers)
      container_lines(out, c, find_status(st.init_container_statuses, c.name));
  }
  out += "Containers:\n";
  for (const auto& c : pod.spec.containers)
    container_lines(out, c, find_status(st.container_statuses, c.name));
  conditions_lines(out, st.conditions);
  if (!st.qos_class.empty()) line(out, 0, kTopWidth, "QoS Class", st.qos_class);
  return out;
}

std::string format_pods_as(const std::vector<model::Pod>& pods, bool single,
                           std::string_view format) {
  model::Node out;
  if (single && pods.size() == 1) {
    out = model::encode_pod(pods.front());
  } else {
    out = model::Node::map();
    out.set("apiVersion", model::Node::string("v1"));
    out.set("kind", model::Node::string("List"));
    model::Node& items = out.set("items", model::Node::sequence());
    for (const model::Pod& pod : pods) items.push(model::encode_pod(pod));
  }
  std::string text = format == "json" ? model::to_json(out, /*pretty=*/true) : model::to_yaml(out);
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace podagent::agent
