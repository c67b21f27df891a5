#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/ids.h"
#include "base/result.h"
#include "model/pod.h"

namespace podagent::agent {

// A stored pod is an immutable snapshot: every change makes a new one, so
// lists, watch queues and the event history share them without copying.
using PodPtr = std::shared_ptr<const model::Pod>;

enum class WatchEventType { Added, Modified, Deleted };
// "ADDED", "MODIFIED", "DELETED".
const char* to_string(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::Added;
  // The pod after the change. For Deleted: its last state, stamped with the
  // deletion's resourceVersion, as Kubernetes reports it.
  PodPtr object;
  // For Modified: the pod before the change (a watch with a selector turns a
  // pod entering or leaving the selection into ADDED or DELETED). Else null.
  PodPtr previous;
  uint64_t resource_version = 0;
};

struct PodStoreOptions {
  size_t history = 1000;                // events kept for resuming watches
  uint64_t first_resource_version = 1;  // a composer may seed it from wall time, see PodStore
  size_t max_watch_queue = 1000;        // events a watcher may fall behind by
};

class PodWatch;

// The pods the API serves: the desired pods of every source, each with the
// latest status its pod worker reported, keyed by namespace/name (unique)
// and by UID. Every change gets the next resourceVersion, stamped into the
// stored pod's metadata.resourceVersion, and is recorded as a watch event in
// a bounded history so that a watch can resume from a recent version.
//
// resourceVersions start at options.first_resource_version. They are not
// persisted: a composer that wants clients holding versions from before an
// agent restart to relist (rather than silently miss changes) seeds it from
// wall time, so that those old versions fall below the history.
//
// Single-threaded: every call on the io_context thread; no locks.
// Subscribers and watches are called synchronously inside the mutating call.
class PodStore {
 public:
  explicit PodStore(PodStoreOptions options = {});
  ~PodStore();  // closes the open watches (they then report closed())
  PodStore(const PodStore&) = delete;
  PodStore& operator=(const PodStore&) = delete;

  // Adds or replaces a desired pod (its metadata and spec), by
  // metadata.namespace/name; REQUIRES: name, namespace and uid are set.
  //  - new key: ADDED; a pod that has no status yet shows phase Pending;
  //  - same key, same UID: MODIFIED, keeping the stored status (statuses come
  //    only through set_status); no event when nothing changed;
  //  - same key, another UID: the old pod DELETED, the new one ADDED.
  // Returns the stored pod.
  PodPtr put(model::Pod pod);
  // Replaces the status of the pod with this UID; MODIFIED when it differs.
  // Returns false for an unknown UID.
  bool set_status(const base::PodUid& uid, model::PodStatus status);
  // Records that the pod is being deleted (metadata.deletionTimestamp and
  // deletionGracePeriodSeconds), MODIFIED. The pod stays until remove().
  // Returns the stored pod, or null for an unknown UID.
  PodPtr mark_deleting(const base::PodUid& uid, std::string timestamp, int64_t grace_seconds);
  // Removes the pod: DELETED. Returns its last state, or null when unknown.
  PodPtr remove(const base::PodUid& uid);

  PodPtr get(std::string_view namespace_, std::string_view name) const;
  PodPtr get(const base::PodUid& uid) const;
  // Sorted by namespace, then name. An empty namespace lists all.
  std::vector<PodPtr> list(std::string_view namespace_ = {}) const;
  size_t size() const { return by_key_.size(); }
  // The version of the latest change (first_resource_version - 1 before any).
  uint64_t resource_version() const { return version_; }

  // The pod as the API encodes it: model::to_json(model::encode_pod(*pod)).
  // For the stored version of a pod the encoding is made once, on first
  // use, and kept until the pod changes (a stored pod is immutable per
  // resourceVersion), so that GETs and lists of unchanged pods encode
  // nothing. Any other snapshot (an older version, a removed pod) is
  // encoded afresh. REQUIRES: pod is not null.
  std::shared_ptr<const std::string> json(const PodPtr& pod) const;

  // The events after version `after`, oldest first. Fails (the caller
  // answers 410 Gone) when the history no longer holds all of them, or when
  // `after` is newer than the store (a version from before a restart).
  base::Result<std::vector<WatchEvent>> events_since(uint64_t after) const;

  class Subscription;
  using Subscriber = std::function<void(const WatchEvent&)>;
  // Calls `subscriber` with each event from now on until the Subscription
  // is destroyed. The subscriber must not mutate the store.
  [[nodiscard]] Subscription subscribe(Subscriber subscriber);

  // A watch of the pods that pass `filter` (null: all). Without `after` it
  // starts with ADDED for every such pod; with it, with the events after
  // that version (failing as events_since fails).
  using Filter = std::function<bool(const model::Pod&)>;
  // The encodings (as json() gives them) of the pods that list(namespace_)
  // gives and `filter` passes (null: all), in that order. The strings are
  // the store's: valid until its next change, so use them at once.
  std::vector<const std::string*> list_json(std::string_view namespace_,
                                            const Filter& filter) const;
  base::Result<std::unique_ptr<PodWatch>> watch(Filter filter, std::optional<uint64_t> after);

 private:
  struct Hub;
  using Key = std::pair<std::string, std::string>;  // namespace, name
  // A stored pod and its JSON encoding, made lazily by json(); a new
  // version of the pod is a new Stored, so the encoding goes with the old.
  struct Stored {
    PodPtr pod;
    mutable std::shared_ptr<const std::string> json;
  };

  void record(WatchEventType type, PodPtr object, PodPtr previous);
  PodPtr stamp(model::Pod pod);  // sets resourceVersion to the next version

  PodStoreOptions options_;
  uint64_t version_;
  uint64_t evicted_up_to_;  // events up to this version are no longer in history_
  std::map<Key, Stored> by_key_;
  std::unordered_map<base::PodUid, Key> key_by_uid_;
  std::deque<WatchEvent> history_;
  std::shared_ptr<Hub> hub_;

  friend class PodWatch;
};

// Unsubscribes on destruction; may outlive the store (then does nothing).
class PodStore::Subscription {
 public:
  Subscription() = default;
  Subscription(std::weak_ptr<Hub> hub, uint64_t id) : hub_(std::move(hub)), id_(id) {}
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  ~Subscription();

 private:
  void reset();
  std::weak_ptr<Hub> hub_;
  uint64_t id_ = 0;
};

// One watcher's queue of events, filled by the store as changes happen and
// drained by whoever streams them (the HTTP session). The filter decides
// membership: a pod modified into the selection arrives as ADDED, one
// modified out of it as DELETED, as the Kubernetes watch cache does.
//
// When the watcher falls more than max_watch_queue events behind, the watch
// is closed (overflowed): no more events are queued, the ones queued stay.
// The client resumes from the last version it saw, as from any ended watch.
class PodWatch {
 public:
  // Made by PodStore::watch.
  PodWatch(PodStore::Filter filter, size_t max_queue);
  ~PodWatch();
  PodWatch(const PodWatch&) = delete;
  PodWatch& operator=(const PodWatch&) = delete;

  // The oldest queued event, or nullopt when none is queued.
  std::optional<WatchEvent> pop();
  bool empty() const { return queue_.empty(); }
  size_t queued() const { return queue_.size(); }
  // No more events will come: the queue overflowed or the store is gone.
  bool closed() const { return closed_; }
  bool overflowed() const { return overflowed_; }
  // Called (on the store's thread, inside the store's mutating call) after
  // events were queued or the watch closed. It may not mutate the store.
  void on_ready(std::function<void()> callback) { on_ready_ = std::move(callback); }

  // For the store: offers an event; applies the filter and the queue bound.
  void offer(const WatchEvent& event);
  void close();

 private:
  void notify();

  PodStore::Filter filter_;
  size_t max_queue_;
  std::deque<WatchEvent> queue_;
  bool closed_ = false;
  bool overflowed_ = false;
  std::function<void()> on_ready_;
  PodStore::Subscription subscription_;
  std::weak_ptr<PodStore::Hub> hub_;  // to be closed when the store goes

  friend class PodStore;
};

}  // namespace podagent::agent
