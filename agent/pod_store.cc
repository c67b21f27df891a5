#include "agent/pod_store.h"

#include <fmt/format.h>

#include <cstdlib>
#include <set>

#include "model/document.h"
#include "model/pod_codec.h"

namespace podagent::agent {

// What subscriptions and watches share with the store; they hold it weakly
// so that either side may go first.
struct PodStore::Hub {
  std::map<uint64_t, Subscriber> subscribers;
  uint64_t next_id = 1;
  std::set<PodWatch*> watches;
};

const char* to_string(WatchEventType type) {
  switch (type) {
    case WatchEventType::Added:
      return "ADDED";
    case WatchEventType::Modified:
      return "MODIFIED";
    case WatchEventType::Deleted:
      return "DELETED";
  }
  return "MODIFIED";
}

// ---- PodStore ---------------------------------------------------------------

PodStore::PodStore(PodStoreOptions options)
    : options_(options),
      version_(options.first_resource_version - 1),
      evicted_up_to_(options.first_resource_version - 1),
      hub_(std::make_shared<Hub>()) {}

PodStore::~PodStore() {
  // Copy: close() may lead a callback to destroy other watches.
  const std::set<PodWatch*> watches = hub_->watches;
  for (PodWatch* w : watches)
    if (hub_->watches.count(w)) w->close();
}

PodPtr PodStore::stamp(model::Pod pod) {
  pod.metadata.resource_version = std::to_string(++version_);
  return std::make_shared<const model::Pod>(std::move(pod));
}

void PodStore::record(WatchEventType type, PodPtr object, PodPtr previous) {
  WatchEvent event{type, std::move(object), std::move(previous), version_};
  history_.push_back(event);
  while (history_.size() > options_.history) {
    evicted_up_to_ = history_.front().resource_version;
    history_.pop_front();
  }
  // A subscriber may end its own or another subscription: look each up anew.
  std::vector<uint64_t> ids;
  ids.reserve(hub_->subscribers.size());
  for (const auto& [id, _] : hub_->subscribers) ids.push_back(id);
  for (uint64_t id : ids) {
    auto it = hub_->subscribers.find(id);
    if (it == hub_->subscribers.end()) continue;
    Subscriber subscriber = it->second;  // survives its own unsubscription
    subscriber(event);
  }
}

PodPtr PodStore::put(model::Pod pod) {
  const base::PodUid uid(pod.metadata.uid);
  Key key{pod.metadata.namespace_, pod.metadata.name};
  // The UID under another name: that pod goes first.
  if (auto it = key_by_uid_.find(uid); it != key_by_uid_.end() && it->second != key) remove(uid);

  auto existing = by_key_.find(key);
  if (existing != by_key_.end() && existing->second.pod->metadata.uid == pod.metadata.uid) {
    const model::Pod& old = *existing->second.pod;
    pod.status = old.status;
    pod.metadata.resource_version = old.metadata.resource_version;
    if (pod == old) return existing->second.pod;
    PodPtr previous = existing->second.pod;
    existing->second = Stored{stamp(std::move(pod)), nullptr};
    record(WatchEventType::Modified, existing->second.pod, std::move(previous));
    return existing->second.pod;
  }
  if (existing != by_key_.end()) remove(base::PodUid(existing->second.pod->metadata.uid));

  if (pod.status.phase.empty()) pod.status.phase = model::kPhasePending;
  PodPtr stored = stamp(std::move(pod));
  by_key_[key] = Stored{stored, nullptr};
  key_by_uid_[uid] = key;
  record(WatchEventType::Added, stored, nullptr);
  return stored;
}

bool PodStore::set_status(const base::PodUid& uid, model::PodStatus status) {
  auto k = key_by_uid_.find(uid);
  if (k == key_by_uid_.end()) return false;
  Stored& slot = by_key_.at(k->second);
  if (slot.pod->status == status) return true;
  PodPtr previous = slot.pod;
  model::Pod pod = *slot.pod;
  pod.status = std::move(status);
  slot = Stored{stamp(std::move(pod)), nullptr};
  record(WatchEventType::Modified, slot.pod, std::move(previous));
  return true;
}

PodPtr PodStore::mark_deleting(const base::PodUid& uid, std::string timestamp,
                               int64_t grace_seconds) {
  auto k = key_by_uid_.find(uid);
  if (k == key_by_uid_.end()) return nullptr;
  Stored& slot = by_key_.at(k->second);
  model::Pod pod = *slot.pod;
  // A second delete may shorten the grace period, never lengthen it.
  if (!pod.metadata.deletion_timestamp.empty() && pod.metadata.deletion_grace_period_seconds &&
      *pod.metadata.deletion_grace_period_seconds <= grace_seconds)
    return slot.pod;
  if (pod.metadata.deletion_timestamp.empty())
    pod.metadata.deletion_timestamp = std::move(timestamp);
  pod.metadata.deletion_grace_period_seconds = grace_seconds;
  PodPtr previous = slot.pod;
  slot = Stored{stamp(std::move(pod)), nullptr};
  record(WatchEventType::Modified, slot.pod, std::move(previous));
  return slot.pod;
}

PodPtr PodStore::remove(const base::PodUid& uid) {
  auto k = key_by_uid_.find(uid);
  if (k == key_by_uid_.end()) return nullptr;
  auto it = by_key_.find(k->second);
  model::Pod last = *it->second.pod;
  by_key_.erase(it);
  key_by_uid_.erase(k);
  PodPtr object = stamp(std::move(last));
  record(WatchEventType::Deleted, object, nullptr);
  return object;
}

PodPtr PodStore::get(std::string_view namespace_, std::string_view name) const {
  auto it = by_key_.find(Key{std::string(namespace_), std::string(name)});
  return it == by_key_.end() ? nullptr : it->second.pod;
}

PodPtr PodStore::get(const base::PodUid& uid) const {
  auto k = key_by_uid_.find(uid);
  return k == key_by_uid_.end() ? nullptr : by_key_.at(k->second).pod;
}

std::vector<PodPtr> PodStore::list(std::string_view namespace_) const {
  std::vector<PodPtr> out;
  if (namespace_.empty()) {
    out.reserve(by_key_.size());
    for (const auto& [_, stored] : by_key_) out.push_back(stored.pod);
    return out;
  }
  const std::string ns(namespace_);
  for (auto it = by_key_.lower_bound(Key{ns, ""}); it != by_key_.end() && it->first.first == ns;
       ++it)
    out.push_back(it->second.pod);
  return out;
}

namespace {

std::shared_ptr<const std::string> encode_json(const model::Pod& pod) {
  return std::make_shared<const std::string>(model::to_json(model::encode_pod(pod)));
}

}  // namespace

std::vector<const std::string*> PodStore::list_json(std::string_view namespace_,
                                                    const Filter& filter) const {
  std::vector<const std::string*> out;
  auto it = namespace_.empty() ? by_key_.begin() : by_key_.lower_bound(Key{namespace_, ""});
  if (namespace_.empty()) out.reserve(by_key_.size());
  for (; it != by_key_.end() && (namespace_.empty() || it->first.first == namespace_); ++it) {
    const Stored& stored = it->second;
    if (filter && !filter(*stored.pod)) continue;
    if (!stored.json) stored.json = encode_json(*stored.pod);
    out.push_back(stored.json.get());
  }
  return out;
}

std::shared_ptr<const std::string> PodStore::json(const PodPtr& pod) const {
  auto it = by_key_.find(Key{pod->metadata.namespace_, pod->metadata.name});
  if (it == by_key_.end() || it->second.pod != pod) return encode_json(*pod);
  if (!it->second.json) it->second.json = encode_json(*pod);
  return it->second.json;
}

base::Result<std::vector<WatchEvent>> PodStore::events_since(uint64_t after) const {
  if (after < evicted_up_to_)
    return base::Error(fmt::format("too old resource version: {} ({})", after, evicted_up_to_ + 1));
  if (after > version_)
    return base::Error(
        fmt::format("too old resource version: {} (newer than the agent's {})", after, version_));
  std::vector<WatchEvent> out;
  // history_ is ordered by version and holds every version after evicted_up_to_.
  const size_t skip = history_.empty() ? 0 : after + 1 - history_.front().resource_version;
  for (size_t i = std::min(skip, history_.size()); i < history_.size(); ++i)
    out.push_back(history_[i]);
  return out;
}

PodStore::Subscription PodStore::subscribe(Subscriber subscriber) {
  const uint64_t id = hub_->next_id++;
  hub_->subscribers.emplace(id, std::move(subscriber));
  return Subscription(hub_, id);
}

base::Result<std::unique_ptr<PodWatch>> PodStore::watch(Filter filter,
                                                        std::optional<uint64_t> after) {
  std::vector<WatchEvent> backlog;
  if (after) {
    auto events = events_since(*after);
    if (!events) return events.error();
    backlog = std::move(*events);
  } else {
    for (const auto& [_, stored] : by_key_) {
      const PodPtr& pod = stored.pod;
      uint64_t rv = std::strtoull(pod->metadata.resource_version.c_str(), nullptr, 10);
      backlog.push_back(WatchEvent{WatchEventType::Added, pod, nullptr, rv});
    }
  }
  // The backlog does not count against the bound on falling behind.
  auto watch =
      std::make_unique<PodWatch>(std::move(filter), options_.max_watch_queue + backlog.size());
  for (const auto& event : backlog) watch->offer(event);
  PodWatch* raw = watch.get();
  watch->subscription_ = subscribe([raw](const WatchEvent& e) { raw->offer(e); });
  watch->hub_ = hub_;
  hub_->watches.insert(raw);
  return watch;
}

// ---- Subscription -------------------------------------------------------------

PodStore::Subscription::Subscription(Subscription&& other) noexcept
    : hub_(std::move(other.hub_)), id_(std::exchange(other.id_, 0)) {}

PodStore::Subscription& PodStore::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    hub_ = std::move(other.hub_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

PodStore::Subscription::~Subscription() { reset(); }

void PodStore::Subscription::reset() {
  if (auto hub = hub_.lock()) hub->subscribers.erase(id_);
  hub_.reset();
  id_ = 0;
}

// ---- PodWatch -----------------------------------------------------------------

PodWatch::PodWatch(PodStore::Filter filter, size_t max_queue)
    : filter_(std::move(filter)), max_queue_(max_queue) {}

PodWatch::~PodWatch() {
  if (auto hub = hub_.lock()) hub->watches.erase(this);
}

std::optional<WatchEvent> PodWatch::pop() {
  if (queue_.empty()) return std::nullopt;
  WatchEvent e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

void PodWatch::offer(const WatchEvent& event) {
  if (closed_) return;
  auto passes = [&](const PodPtr& pod) { return pod && (!filter_ || filter_(*pod)); };
  WatchEvent out = event;
  if (event.type == WatchEventType::Modified) {
    const bool was = passes(event.previous), is = passes(event.object);
    if (!was && !is) return;
    if (!was) out.type = WatchEventType::Added;
    if (!is) out.type = WatchEventType::Deleted;
  } else if (!passes(event.object)) {
    return;
  }
  if (queue_.size() >= max_queue_) {
    overflowed_ = true;
    close();
    return;
  }
  queue_.push_back(std::move(out));
  notify();
}

void PodWatch::close() {
  if (closed_) return;
  closed_ = true;
  subscription_ = PodStore::Subscription{};
  if (auto hub = hub_.lock()) hub->watches.erase(this);
  hub_.reset();
  notify();
}

void PodWatch::notify() {
  if (on_ready_) on_ready_();
}

}  // namespace podagent::agent
