#include "agent/pod_events.h"

#include "agent/pod_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ctime>

#include "agent/pod_table.h"
#include "model/decode_helpers.h"
#include "model/document.h"

namespace podagent::agent {

std::function<std::optional<PodRef>(const base::PodUid&)> lookup_in(const PodStore& store) {
  return [&store](const base::PodUid& uid) -> std::optional<PodRef> {
    PodPtr pod = store.get(uid);
    if (!pod) return std::nullopt;
    return PodRef{pod->metadata.namespace_, pod->metadata.name, pod->metadata.uid};
  };
}
namespace {

using model::Node;

std::string rfc3339(model::WallTime t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 32> buf{};
  const size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

bool same_kind(const model::PodEvent& a, std::string_view type, std::string_view reason,
               std::string_view field_path, std::string_view message) {
  return a.type == type && a.reason == reason && a.field_path == field_path && a.message == message;
}

constexpr std::array<std::string_view, 13> kEventFields = {"involvedObject.kind",
                                                           "involvedObject.namespace",
                                                           "involvedObject.name",
                                                           "involvedObject.uid",
                                                           "involvedObject.apiVersion",
                                                           "involvedObject.resourceVersion",
                                                           "involvedObject.fieldPath",
                                                           "reason",
                                                           "reportingComponent",
                                                           "source",
                                                           "type",
                                                           "metadata.name",
                                                           "metadata.namespace"};

std::string field_of(const StoredEvent& e, std::string_view field) {
  if (field == "involvedObject.kind") return "Pod";
  if (field == "involvedObject.namespace" || field == "metadata.namespace") return e.pod.namespace_;
  if (field == "involvedObject.name") return e.pod.name;
  if (field == "involvedObject.uid") return e.pod.uid;
  if (field == "involvedObject.apiVersion") return "v1";
  if (field == "involvedObject.fieldPath") return e.event.field_path;
  if (field == "reason") return e.event.reason;
  if (field == "source") return "podagent";
  if (field == "type") return e.event.type;
  if (field == "metadata.name") return e.name;
  return "";  // involvedObject.resourceVersion, reportingComponent: not kept
}

}  // namespace

PodEvents::PodEvents(Options options) : options_(std::move(options)) {}

void PodEvents::record(const base::PodUid& pod, std::string_view type, std::string_view reason,
                       std::string_view field_path, std::string message) {
  const model::WallTime now =
      options_.wall_now ? options_.wall_now() : std::chrono::system_clock::now();
  auto it = pods_.find(pod);
  if (it == pods_.end()) {
    std::optional<PodRef> ref = options_.lookup ? options_.lookup(pod) : std::nullopt;
    if (!ref) return;  // not (or no longer) the agent's pod
    it = pods_.emplace(pod, PodLog{std::move(*ref), {}}).first;
  }
  std::deque<StoredEvent>& events = it->second.events;
  ++version_;
  auto same = std::find_if(events.begin(), events.end(), [&](const StoredEvent& e) {
    return same_kind(e.event, type, reason, field_path, message);
  });
  if (same != events.end()) {
    StoredEvent e = std::move(*same);
    events.erase(same);
    e.event.count += 1;
    e.event.last_timestamp = now;
    e.resource_version = version_;
    events.push_back(std::move(e));
    return;
  }
  StoredEvent e;
  e.pod = it->second.pod;
  e.event = model::PodEvent{std::string(type),
                            std::string(reason),
                            std::move(message),
                            std::string(field_path),
                            now,
                            now,
                            1};
  // The kubelet's name: "<pod>.<hex of the time in ns>", made unique here.
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  last_name_ns_ = std::max(ns, last_name_ns_ + 1);
  e.name = fmt::format("{}.{:x}", e.pod.name, static_cast<uint64_t>(last_name_ns_));
  e.resource_version = version_;
  events.push_back(std::move(e));
  while (events.size() > options_.max_per_pod) events.pop_front();
}

void PodEvents::forget(const base::PodUid& pod) {
  if (pods_.erase(pod) > 0) ++version_;
}

std::vector<StoredEvent> PodEvents::of(const base::PodUid& pod) const {
  auto it = pods_.find(pod);
  if (it == pods_.end()) return {};
  return {it->second.events.begin(), it->second.events.end()};
}

std::vector<StoredEvent> PodEvents::list(std::string_view namespace_) const {
  std::vector<StoredEvent> out;
  for (const auto& [uid, log] : pods_)
    for (const auto& e : log.events)
      if (namespace_.empty() || e.pod.namespace_ == namespace_) out.push_back(e);
  std::stable_sort(out.begin(), out.end(), [](const StoredEvent& a, const StoredEvent& b) {
    if (a.event.last_timestamp != b.event.last_timestamp)
      return a.event.last_timestamp < b.event.last_timestamp;
    return a.resource_version < b.resource_version;
  });
  return out;
}

base::Result<EventFieldSelector> EventFieldSelector::parse(std::string_view text) {
  EventFieldSelector s;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view term = text.substr(start, comma - start);
    start = comma + 1;
    while (!term.empty() && term.front() == ' ') term.remove_prefix(1);
    while (!term.empty() && term.back() == ' ') term.remove_suffix(1);
    if (term.empty()) {
      if (comma == text.size()) break;
      continue;
    }
    Term t;
    size_t at = term.find("!=");
    size_t len = 2;
    if (at != std::string_view::npos) {
      t.equals = false;
    } else if ((at = term.find("==")) == std::string_view::npos) {
      at = term.find('=');
      len = 1;
    }
    if (at == std::string_view::npos)
      return base::Error(fmt::format("invalid selector: '{}'; can't understand '{}'", text, term));
    t.field = std::string(term.substr(0, at));
    t.value = std::string(term.substr(at + len));
    if (std::find(kEventFields.begin(), kEventFields.end(), t.field) == kEventFields.end())
      return base::Error(fmt::format("field label not supported: {}", t.field));
    s.terms_.push_back(std::move(t));
  }
  return s;
}

bool EventFieldSelector::matches(const StoredEvent& event) const {
  return std::all_of(terms_.begin(), terms_.end(), [&](const Term& t) {
    return (field_of(event, t.field) == t.value) == t.equals;
  });
}

Node encode_event(const StoredEvent& e, std::string_view node_name) {
  Node n = Node::map();
  n.set("kind", Node::string("Event"));
  n.set("apiVersion", Node::string("v1"));
  Node& meta = n.set("metadata", Node::map());
  meta.set("name", Node::string(e.name));
  meta.set("namespace", Node::string(e.pod.namespace_));
  meta.set("resourceVersion", Node::string(std::to_string(e.resource_version)));
  meta.set("creationTimestamp", Node::string(rfc3339(e.event.first_timestamp)));
  Node& involved = n.set("involvedObject", Node::map());
  involved.set("kind", Node::string("Pod"));
  involved.set("namespace", Node::string(e.pod.namespace_));
  involved.set("name", Node::string(e.pod.name));
  involved.set("uid", Node::string(e.pod.uid));
  involved.set("apiVersion", Node::string("v1"));
  if (!e.event.field_path.empty()) involved.set("fieldPath", Node::string(e.event.field_path));
  n.set("reason", Node::string(e.event.reason));
  n.set("message", Node::string(e.event.message));
  Node& source = n.set("source", Node::map());
  source.set("component", Node::string("podagent"));
  if (!node_name.empty()) source.set("host", Node::string(std::string(node_name)));
  n.set("firstTimestamp", Node::string(rfc3339(e.event.first_timestamp)));
  n.set("lastTimestamp", Node::string(rfc3339(e.event.last_timestamp)));
  n.set("count", Node::integer(e.event.count));
  n.set("type", Node::string(e.event.type));
  n.set("eventTime", Node::null());
  n.set("reportingComponent", Node::string("podagent"));
  n.set("reportingInstance", Node::string(std::string(node_name)));
  return n;
}

namespace {

std::string scalar(const Node* n) { return n && n->is_scalar() ? n->text : ""; }

std::string age(model::WallTime now, model::WallTime t) {
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(
      std::max(now - t, model::WallTime::duration{})));
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string describe_handler(const model::Handler& h) {
  if (h.exec) return "exec [" + join_words(h.exec->command) + "]";
  if (h.http_get) {
    const auto& g = *h.http_get;
    std::string scheme = g.scheme.empty() ? "http" : g.scheme;
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return "http-get " + scheme + "://" + g.host + ":" + g.port.to_string() + g.path;
  }
  if (h.tcp_socket)
    return "tcp-socket " + h.tcp_socket->host + ":" + h.tcp_socket->port.to_string();
  if (h.grpc)
    return "grpc <pod>:" + std::to_string(h.grpc->port) + " " + h.grpc->service.value_or("");
  if (h.sleep) return "sleep " + std::to_string(h.sleep->seconds) + "s";
  return "unknown";
}

std::string describe_probe(const model::Probe& p) {
  return fmt::format("{} delay={}s timeout={}s period={}s #success={} #failure={}",
                     describe_handler(p.handler), p.initial_delay_seconds,
                     p.timeout_seconds.value_or(1), p.period_seconds.value_or(10),
                     p.success_threshold.value_or(1), p.failure_threshold.value_or(3));
}

}  // namespace

base::Result<std::vector<model::PodEvent>> decode_event_list(std::string_view json) {
  auto docs = model::parse_documents(json);
  if (!docs) return docs.error();
  if (docs->size() != 1) return base::Error("expected one EventList");
  const Node* items = docs->front().find("items");
  std::vector<model::PodEvent> out;
  if (!items || !items->is_sequence()) return out;
  for (const Node& item : items->items) {
    model::PodEvent e;
    e.type = scalar(item.find("type"));
    e.reason = scalar(item.find("reason"));
    e.message = scalar(item.find("message"));
    if (const Node* involved = item.find("involvedObject"))
      e.field_path = scalar(involved->find("fieldPath"));
    e.count = static_cast<int32_t>(
        std::max(1L, std::strtol(scalar(item.find("count")).c_str(), nullptr, 10)));
    e.first_timestamp = model::decoding::parse_rfc3339(scalar(item.find("firstTimestamp")))
                            .value_or(model::WallTime{});
    e.last_timestamp = model::decoding::parse_rfc3339(scalar(item.find("lastTimestamp")))
                           .value_or(e.first_timestamp);
    out.push_back(std::move(e));
  }
  return out;
}

std::string describe_events(const std::vector<model::PodEvent>& events, model::WallTime now) {
  if (events.empty()) return "Events:  <none>\n";
  std::vector<std::array<std::string, 5>> rows = {{"Type", "Reason", "Age", "From", "Message"},
                                                  {"----", "------", "----", "----", "-------"}};
  for (const auto& e : events) {
    std::string when = age(now, e.last_timestamp);
    if (e.count > 1) when += fmt::format(" (x{} over {})", e.count, age(now, e.first_timestamp));
    rows.push_back({e.type, e.reason, when, "podagent", e.message});
  }
  std::array<size_t, 5> width{};
  for (const auto& r : rows)
    for (size_t i = 0; i < 4; ++i) width[i] = std::max(width[i], r[i].size());
  std::string out = "Events:\n";
  for (const auto& r : rows) {
    out += "  ";
    for (size_t i = 0; i < 4; ++i) out += r[i] + std::string(width[i] - r[i].size() + 2, ' ');
    out += r[4] + "\n";
  }
  return out;
}

std::string describe_probes(const model::Pod& pod) {
  std::string out;
  for (const auto* list : {&pod.spec.init_containers, &pod.spec.containers}) {
    for (const auto& c : *list) {
      std::vector<std::pair<std::string, std::string>> lines;
      if (c.liveness_probe) lines.emplace_back("Liveness", describe_probe(*c.liveness_probe));
      if (c.readiness_probe) lines.emplace_back("Readiness", describe_probe(*c.readiness_probe));
      if (c.startup_probe) lines.emplace_back("Startup", describe_probe(*c.startup_probe));
      if (c.lifecycle && c.lifecycle->post_start)
        lines.emplace_back("PostStart", describe_handler(*c.lifecycle->post_start));
      if (c.lifecycle && c.lifecycle->pre_stop)
        lines.emplace_back("PreStop", describe_handler(*c.lifecycle->pre_stop));
      if (lines.empty()) continue;
      if (out.empty()) out = "Probes and Hooks:\n";
      out += "  " + c.name + ":\n";
      for (const auto& [what, text] : lines) out += fmt::format("    {:<11}{}\n", what + ":", text);
    }
  }
  return out;
}

}  // namespace podagent::agent
