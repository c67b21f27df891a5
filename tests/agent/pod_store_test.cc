#include "agent/pod_store.h"

#include <gtest/gtest.h>

// Options are written as designated initializers naming only what a test is
// about; the rest keep their defaults, which -Wmissing-field-initializers flags.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::agent {
namespace {

model::Pod make_pod(std::string name, std::string uid, std::string ns = "default") {
  model::Pod p;
  p.metadata.name = std::move(name);
  p.metadata.namespace_ = std::move(ns);
  p.metadata.uid = std::move(uid);
  p.spec.containers.push_back(model::Container{});
  p.spec.containers[0].name = "app";
  p.spec.containers[0].image = "busybox";
  return p;
}

// "ADDED web 1" per event, for compact expectations.
std::vector<std::string> describe(const std::vector<WatchEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(std::string(to_string(e.type)) + " " + e.object->metadata.name + " " +
                  std::to_string(e.resource_version));
  return out;
}

std::vector<WatchEvent> drain(PodWatch& w) {
  std::vector<WatchEvent> out;
  while (auto e = w.pop()) out.push_back(std::move(*e));
  return out;
}

TEST(PodStoreTest, PutGetListAndVersions) {
  PodStore store;
  EXPECT_EQ(store.resource_version(), 0u);
  PodPtr web = store.put(make_pod("web", "u1"));
  EXPECT_EQ(web->metadata.resource_version, "1");
  EXPECT_EQ(web->status.phase, "Pending");  // never reported on yet
  store.put(make_pod("db", "u2", "prod"));
  store.put(make_pod("api", "u3"));
  EXPECT_EQ(store.resource_version(), 3u);
  EXPECT_EQ(store.size(), 3u);

  ASSERT_TRUE(store.get("default", "web"));
  EXPECT_EQ(store.get(base::PodUid("u2"))->metadata.name, "db");
  EXPECT_FALSE(store.get("prod", "web"));
  EXPECT_FALSE(store.get(base::PodUid("nope")));

  std::vector<std::string> names;
  for (const auto& p : store.list())
    names.push_back(p->metadata.namespace_ + "/" + p->metadata.name);
  EXPECT_EQ(names, (std::vector<std::string>{"default/api", "default/web", "prod/db"}));
  EXPECT_EQ(store.list("prod").size(), 1u);
  EXPECT_EQ(store.list("other").size(), 0u);
}

TEST(PodStoreTest, UnchangedPutRecordsNothingAndKeepsStatus) {
  PodStore store;
  store.put(make_pod("web", "u1"));
  model::PodStatus running;
  running.phase = "Running";
  ASSERT_TRUE(store.set_status(base::PodUid("u1"), running));
  EXPECT_EQ(store.resource_version(), 2u);
  EXPECT_TRUE(store.set_status(base::PodUid("u1"), running));  // same status: no change
  EXPECT_EQ(store.resource_version(), 2u);

  store.put(make_pod("web", "u1"));  // the same desired pod again
  EXPECT_EQ(store.resource_version(), 2u);

  model::Pod changed = make_pod("web", "u1");
  changed.metadata.labels["tier"] = "front";
  PodPtr stored = store.put(changed);
  EXPECT_EQ(store.resource_version(), 3u);
  EXPECT_EQ(stored->status.phase, "Running");  // statuses come only from set_status
  EXPECT_FALSE(store.set_status(base::PodUid("unknown"), running));
}

TEST(PodStoreTest, NewUidUnderTheSameNameIsDeleteThenAdd) {
  PodStore store;
  store.put(make_pod("web", "u1"));
  store.put(make_pod("web", "u2"));
  auto events = store.events_since(0);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(describe(*events),
            (std::vector<std::string>{"ADDED web 1", "DELETED web 2", "ADDED web 3"}));
  EXPECT_FALSE(store.get(base::PodUid("u1")));
  EXPECT_EQ(store.get("default", "web")->metadata.uid, "u2");
}

TEST(PodStoreTest, DeletionIsMarkedThenRemoved) {
  PodStore store;
  store.put(make_pod("web", "u1"));
  PodPtr marked = store.mark_deleting(base::PodUid("u1"), "2026-01-02T03:04:05Z", 30);
  ASSERT_TRUE(marked);
  EXPECT_EQ(marked->metadata.deletion_timestamp, "2026-01-02T03:04:05Z");
  EXPECT_EQ(marked->metadata.deletion_grace_period_seconds, 30);
  // A second delete may shorten the grace period but not lengthen it.
  EXPECT_EQ(
      store.mark_deleting(base::PodUid("u1"), "later", 60)->metadata.deletion_grace_period_seconds,
      30);
  EXPECT_EQ(
      store.mark_deleting(base::PodUid("u1"), "later", 5)->metadata.deletion_grace_period_seconds,
      5);
  EXPECT_EQ(store.get("default", "web")->metadata.deletion_timestamp, "2026-01-02T03:04:05Z");

  PodPtr removed = store.remove(base::PodUid("u1"));
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->metadata.resource_version, std::to_string(store.resource_version()));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.remove(base::PodUid("u1")));
  EXPECT_FALSE(store.mark_deleting(base::PodUid("u1"), "x", 1));
  auto events = store.events_since(0);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(describe(*events), (std::vector<std::string>{"ADDED web 1", "MODIFIED web 2",
                                                         "MODIFIED web 3", "DELETED web 4"}));
}

TEST(PodStoreTest, HistoryIsBoundedAndOldVersionsAreGone) {
  PodStore store(PodStoreOptions{.history = 3, .first_resource_version = 100});
  EXPECT_EQ(store.resource_version(), 99u);
  for (int i = 0; i < 5; ++i) store.put(make_pod("p" + std::to_string(i), "u" + std::to_string(i)));
  EXPECT_EQ(store.resource_version(), 104u);
  auto recent = store.events_since(101);
  ASSERT_TRUE(recent.ok()) << recent.error().message;
  EXPECT_EQ(describe(*recent),
            (std::vector<std::string>{"ADDED p2 102", "ADDED p3 103", "ADDED p4 104"}));
  EXPECT_TRUE(store.events_since(104).ok());
  EXPECT_TRUE(store.events_since(104)->empty());

  auto old = store.events_since(100);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().message, "too old resource version: 100 (102)");
  EXPECT_FALSE(store.events_since(5).ok());    // from before a restart
  EXPECT_FALSE(store.events_since(500).ok());  // newer than the store
}

TEST(PodStoreTest, SubscribersSeeEveryChangeUntilUnsubscribed) {
  PodStore store;
  std::vector<WatchEvent> seen;
  {
    PodStore::Subscription sub = store.subscribe([&](const WatchEvent& e) { seen.push_back(e); });
    store.put(make_pod("web", "u1"));
    store.remove(base::PodUid("u1"));
  }
  store.put(make_pod("db", "u2"));
  EXPECT_EQ(describe(seen), (std::vector<std::string>{"ADDED web 1", "DELETED web 2"}));
}

TEST(PodStoreTest, SubscriptionMayOutliveTheStore) {
  auto store = std::make_unique<PodStore>();
  PodStore::Subscription sub = store->subscribe([](const WatchEvent&) {});
  store.reset();
  // Destroying `sub` afterwards must not touch the store.
}

TEST(PodStoreTest, WatchStartsWithAddedForExistingPodsThenFollows) {
  PodStore store;
  store.put(make_pod("a", "u1"));
  store.put(make_pod("b", "u2"));
  auto watch = store.watch(nullptr, std::nullopt);
  ASSERT_TRUE(watch.ok());
  int ready = 0;
  (*watch)->on_ready([&] { ++ready; });
  EXPECT_EQ(describe(drain(**watch)), (std::vector<std::string>{"ADDED a 1", "ADDED b 2"}));
  store.remove(base::PodUid("u1"));
  EXPECT_EQ(ready, 1);
  EXPECT_EQ(describe(drain(**watch)), (std::vector<std::string>{"DELETED a 3"}));
}

TEST(PodStoreTest, WatchResumesFromAVersion) {
  PodStore store;
  store.put(make_pod("a", "u1"));
  store.put(make_pod("b", "u2"));
  store.put(make_pod("c", "u3"));
  auto watch = store.watch(nullptr, 1);
  ASSERT_TRUE(watch.ok());
  EXPECT_EQ(describe(drain(**watch)), (std::vector<std::string>{"ADDED b 2", "ADDED c 3"}));
  EXPECT_FALSE(store.watch(nullptr, 7).ok());
}

TEST(PodStoreTest, WatchFilterTurnsEnteringAndLeavingIntoAddedAndDeleted) {
  PodStore store;
  auto watch = store.watch(
      [](const model::Pod& p) { return p.metadata.labels.count("watched") > 0; }, std::nullopt);
  ASSERT_TRUE(watch.ok());
  model::Pod p = make_pod("web", "u1");
  store.put(p);  // not selected
  p.metadata.labels["watched"] = "yes";
  store.put(p);  // enters
  p.metadata.labels["other"] = "1";
  store.put(p);  // stays
  p.metadata.labels.erase("watched");
  store.put(p);                      // leaves
  store.remove(base::PodUid("u1"));  // not selected any more
  EXPECT_EQ(describe(drain(**watch)),
            (std::vector<std::string>{"ADDED web 2", "MODIFIED web 3", "DELETED web 4"}));
}

TEST(PodStoreTest, WatchThatFallsBehindIsClosed) {
  PodStore store(PodStoreOptions{.max_watch_queue = 2});
  auto watch = store.watch(nullptr, std::nullopt);
  ASSERT_TRUE(watch.ok());
  for (int i = 0; i < 4; ++i) store.put(make_pod("p" + std::to_string(i), "u" + std::to_string(i)));
  EXPECT_TRUE((*watch)->closed());
  EXPECT_TRUE((*watch)->overflowed());
  // What was queued before the overflow is still delivered, in order.
  EXPECT_EQ(describe(drain(**watch)), (std::vector<std::string>{"ADDED p0 1", "ADDED p1 2"}));
}

TEST(PodStoreTest, StoreDestructionClosesWatches) {
  auto store = std::make_unique<PodStore>();
  auto watch = store->watch(nullptr, std::nullopt);
  ASSERT_TRUE(watch.ok());
  bool notified = false;
  (*watch)->on_ready([&] { notified = true; });
  store.reset();
  EXPECT_TRUE((*watch)->closed());
  EXPECT_FALSE((*watch)->overflowed());
  EXPECT_TRUE(notified);
}

TEST(PodStoreTest, ADestroyedWatchStopsReceiving) {
  PodStore store;
  {
    auto watch = store.watch(nullptr, std::nullopt);
    ASSERT_TRUE(watch.ok());
  }
  store.put(make_pod("a", "u1"));  // must not reach the destroyed watch
  EXPECT_EQ(store.size(), 1u);
}

}  // namespace
}  // namespace podagent::agent
