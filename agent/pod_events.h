#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/event_recorder.h"
#include "base/ids.h"
#include "base/result.h"
#include "model/event.h"
#include "model/node.h"
#include "model/pod.h"

namespace podagent::agent {
class PodStore;
}

namespace podagent::agent {

// The pod an event is about, as the API names it.
struct PodRef {
  std::string namespace_;
  std::string name;
  std::string uid;
};

// PodEvents::Options::lookup over `store` (which must outlive it): the
// pods the store holds.
std::function<std::optional<PodRef>(const base::PodUid&)> lookup_in(const PodStore& store);

// One stored event with what the API shows of it.
struct StoredEvent {
  PodRef pod;
  model::PodEvent event;
  std::string name;               // metadata.name: "<pod>.<hex>", unique in the store
  uint64_t resource_version = 0;  // of its last change
};

// The agent's event list: per pod, its last `max_per_pod` events, oldest
// first, a repeat of an event (same type, reason, fieldPath and message) being
// the same entry with its count raised, its lastTimestamp moved and its place
// moved to the end. Events of pods that `lookup` does not know (a pod never
// stored, or already removed) are dropped; forget() drops a pod's events.
//
// Lives on the io_context thread; not thread-safe.
class PodEvents final : public base::EventRecorder {
 public:
  struct Options {
    size_t max_per_pod = 100;
    // The pod of a UID, while the agent holds it.
    std::function<std::optional<PodRef>(const base::PodUid&)> lookup;
    // Wall time for the timestamps.
    std::function<model::WallTime()> wall_now;
  };
  explicit PodEvents(Options options);

  void record(const base::PodUid& pod, std::string_view type, std::string_view reason,
              std::string_view field_path, std::string message) override;
  void forget(const base::PodUid& pod);

  // A pod's events, oldest first (empty for an unknown UID).
  std::vector<StoredEvent> of(const base::PodUid& pod) const;
  // Every event in `namespace_` (every namespace when empty), ordered by
  // lastTimestamp.
  std::vector<StoredEvent> list(std::string_view namespace_ = {}) const;
  // Raised by every change.
  uint64_t resource_version() const { return version_; }

 private:
  struct PodLog {
    PodRef pod;
    std::deque<StoredEvent> events;  // oldest first
  };
  Options options_;
  std::unordered_map<base::PodUid, PodLog> pods_;
  uint64_t version_ = 0;
  int64_t last_name_ns_ = 0;
};

// A field selector over events: comma-separated `field=value`,
// `field==value` or `field!=value`, with the fields the API server supports
// for core/v1 events (involvedObject.kind, .namespace, .name, .uid,
// .apiVersion, .resourceVersion, .fieldPath, reason, reportingComponent,
// source, type, metadata.name, metadata.namespace). An unknown field is an
// error, as the API server's "field label not supported".
class EventFieldSelector {
 public:
  static base::Result<EventFieldSelector> parse(std::string_view text);
  bool matches(const StoredEvent& event) const;

 private:
  struct Term {
    std::string field;
    bool equals = true;
    std::string value;
  };
  std::vector<Term> terms_;
};

// The events of a core/v1 EventList body (items' type, reason, message,
// involvedObject.fieldPath, count, first/lastTimestamp), or why not.
base::Result<std::vector<model::PodEvent>> decode_event_list(std::string_view json);

// kubectl describe's "Events:" section: Type, Reason, Age ("3s (x5 over
// 40s)" for a repeat), From ("podagent") and Message; "Events:  <none>" for
// none. Ends with a newline.
std::string describe_events(const std::vector<model::PodEvent>& events, model::WallTime now);

// The probes and lifecycle hooks of each container, as kubectl describe
// shows them ("Liveness:  http-get http://:8080/healthz delay=0s timeout=1s
// period=10s #success=1 #failure=3", "PostStart:  exec [touch /ready]");
// empty when no container has any. Ends with a newline.
std::string describe_probes(const model::Pod& pod);

// A core/v1 Event object (involvedObject kind Pod, source.component
// "podagent", source.host `node_name`).
model::Node encode_event(const StoredEvent& event, std::string_view node_name);

}  // namespace podagent::agent
