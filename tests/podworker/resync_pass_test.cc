// PodWorkers::sync_all as one pass over the pods: settled pods are listed
// and planned in place, pods with work go to their own worker, and no pod
// is ever listed by the pass while its worker syncs it (or the reverse).

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "podworker/pod_workers.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::podworker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using runtime::ContainerState;
using runtime::FakeRuntime;
using runtime::Op;

model::Pod make_pod(const std::string& uid, const std::vector<std::string>& apps) {
  model::Pod pod;
  pod.metadata.name = "pod-" + uid;
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = uid;
  pod.spec.restart_policy = "Always";
  pod.spec.termination_grace_period_seconds = 30;
  for (const auto& n : apps) {
    model::Container c;
    c.name = n;
    c.image = "busybox:latest";
    pod.spec.containers.push_back(c);
  }
  return pod;
}

class ResyncPassTest : public testing::Test {
 protected:
  ResyncPassTest() {
    PodWorkers::Options options;
    options.on_status = [this](const base::PodUid& uid, const model::PodStatus&) { ++published_[uid.str()]; };
    workers_ = std::make_unique<PodWorkers>(rt_, clock_, io_.get_executor(), std::move(options));
  }
  ~ResyncPassTest() override {
    workers_->stop();
    clock_.settle();
  }

  void add(const model::Pod& pod) {
    workers_->update(pod);
    clock_.settle();
  }
  size_t running(const std::string& uid, const std::string& name) const {
    size_t n = 0;
    for (const auto& c : rt_.pod_state(base::PodUid(uid)).containers)
      n += c.name == name && c.state == ContainerState::Running;
    return n;
  }
  bool idle(const std::string& uid) const { return workers_->idle(base::PodUid(uid)); }
  // The pod of the last ListPod call.
  std::string last_listed() const {
    for (auto it = rt_.calls().rbegin(); it != rt_.calls().rend(); ++it)
      if (it->op == Op::ListPod) return it->id;
    return {};
  }

  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor()};
  std::map<std::string, int> published_;
  std::unique_ptr<PodWorkers> workers_;
};

TEST_F(ResyncPassTest, SettledPodsAreListedOnceAndPublishNothing) {
  for (const char* uid : {"u1", "u2", "u3"}) add(make_pod(uid, {"a", "b"}));
  const auto published = published_;
  const size_t lists = rt_.count(Op::ListPod);
  const uint64_t syncs = workers_->sync_count();
  workers_->sync_all();
  EXPECT_FALSE(idle("u1"));  // due for the pass
  clock_.settle();
  EXPECT_EQ(rt_.count(Op::ListPod), lists + 3);
  EXPECT_EQ(workers_->sync_count(), syncs + 3);
  EXPECT_EQ(published_, published);
  EXPECT_EQ(rt_.count(Op::CreateContainer), 6u);
  for (const char* uid : {"u1", "u2", "u3"}) EXPECT_TRUE(idle(uid)) << uid;
}

TEST_F(ResyncPassTest, APodWithWorkIsHandedToItsWorker) {
  add(make_pod("u1", {"a"}));
  add(make_pod("u2", {"b"}));
  auto b = rt_.pod_state(base::PodUid("u2")).containers.at(0).id;
  ASSERT_TRUE(rt_.kill_container(b, 1).ok());  // its event wakes u2 anyway: settle it first
  clock_.settle();
  auto sb = rt_.pod_state(base::PodUid("u1")).sandboxes.at(0).id;
  ASSERT_TRUE(rt_.remove_sandbox_behind_back(sb).ok());  // no event: only a resync finds it
  EXPECT_EQ(running("u1", "a"), 0u);
  workers_->sync_all();
  clock_.settle();
  EXPECT_EQ(running("u1", "a"), 1u);
  EXPECT_EQ(rt_.pod_state(base::PodUid("u1")).sandboxes.size(), 1u);
  // u2's restart still waits for its back-off: the pass left that alone.
  EXPECT_EQ(running("u2", "b"), 0u);
  clock_.advance(10s);
  EXPECT_EQ(running("u2", "b"), 1u);
}

// While the pass waits for a pod's listing, an update of that pod is not
// synced: the worker waits for the pass, then syncs the new spec.
TEST_F(ResyncPassTest, NoSyncOfAPodWhileThePassListsIt) {
  auto pod = make_pod("u1", {"a"});
  add(pod);
  rt_.set_latency(Op::ListPod, 1s);
  const size_t lists = rt_.count(Op::ListPod);
  workers_->sync_all();
  clock_.settle();
  ASSERT_EQ(rt_.count(Op::ListPod), lists + 1);  // the pass's listing, in flight
  pod.spec.containers[0].image = "busybox:2";
  workers_->update(pod);
  clock_.settle();
  EXPECT_EQ(rt_.count(Op::ListPod), lists + 1);
  EXPECT_FALSE(idle("u1"));
  clock_.advance(1s);  // the pass's listing completes; then the worker lists
  EXPECT_EQ(rt_.count(Op::ListPod), lists + 2);
  clock_.advance(10s);
  std::vector<std::string> images;
  for (const auto& c : rt_.pod_state(base::PodUid("u1")).containers)
    if (c.state == ContainerState::Running) images.push_back(c.image);
  EXPECT_EQ(images, std::vector<std::string>{"busybox:2"});
  EXPECT_TRUE(idle("u1"));
}

// A resync asked for during a pass joins it: no pod is listed twice at once,
// the pod being listed is listed once more, and the pass ends.
TEST_F(ResyncPassTest, ResyncDuringAPassJoinsIt) {
  add(make_pod("u1", {"a"}));
  add(make_pod("u2", {"b"}));
  rt_.set_latency(Op::ListPod, 1s);
  const size_t lists = rt_.count(Op::ListPod);
  workers_->sync_all();
  clock_.settle();
  ASSERT_EQ(rt_.count(Op::ListPod), lists + 1);
  workers_->sync_all();
  clock_.settle();
  EXPECT_EQ(rt_.count(Op::ListPod), lists + 1);
  clock_.advance(1s);
  EXPECT_EQ(rt_.count(Op::ListPod), lists + 2);
  clock_.advance(1s);
  EXPECT_EQ(rt_.count(Op::ListPod), lists + 3);
  clock_.advance(10s);
  EXPECT_EQ(rt_.count(Op::ListPod), lists + 3);
  EXPECT_TRUE(idle("u1"));
  EXPECT_TRUE(idle("u2"));
}

// A pod that finishes while queued for the pass is skipped (its worker is
// gone), and the next resync still runs.
TEST_F(ResyncPassTest, APodFinishedWhileQueuedIsSkipped) {
  add(make_pod("u1", {"a"}));
  add(make_pod("u2", {"b"}));
  rt_.set_latency(Op::ListPod, 1s);
  workers_->sync_all();
  clock_.settle();
  const std::string first = last_listed();
  const std::string other = first == "u1" ? "u2" : "u1";
  ASSERT_TRUE(first == "u1" || first == "u2");
  rt_.set_latency(Op::ListPod, 0s);
  workers_->remove(base::PodUid(other), 0s);
  clock_.settle();
  ASSERT_TRUE(workers_->is_finished(base::PodUid(other)));
  clock_.advance(1s);
  EXPECT_TRUE(idle(first));
  EXPECT_EQ(workers_->pod_count(), 1u);
  const size_t lists = rt_.count(Op::ListPod);
  workers_->sync_all();
  clock_.settle();
  EXPECT_EQ(rt_.count(Op::ListPod), lists + 1);
  EXPECT_EQ(last_listed(), first);
}

// A failed listing in the pass hands the pod to its worker, which lists
// again.
TEST_F(ResyncPassTest, AFailedListingIsRetriedByTheWorker) {
  add(make_pod("u1", {"a"}));
  rt_.fail_next(Op::ListPod, base::Error("runtime down"));
  const size_t lists = rt_.count(Op::ListPod);
  workers_->sync_all();
  clock_.settle();
  EXPECT_EQ(rt_.count(Op::ListPod), lists + 2);
  EXPECT_TRUE(idle("u1"));
  EXPECT_EQ(running("u1", "a"), 1u);
}

// Destroying PodWorkers right after sync_all() and update(), before the
// io_context ran the spawned pass and worker, leaves them harmless.
TEST(ResyncPassLifetime, DestroyedBeforeThePassRuns) {
  asio::io_context io;
  base::FakeClock clock(io);
  FakeRuntime rt(clock, io.get_executor());
  auto workers = std::make_unique<PodWorkers>(rt, clock, io.get_executor(), PodWorkers::Options{});
  workers->update(make_pod("u1", {"a"}));
  clock.settle();
  workers->sync_all();
  workers->update(make_pod("u2", {"b"}));
  workers.reset();
  clock.settle();
  EXPECT_EQ(rt.count(Op::RunSandbox), 1u);  // u2 never started
}

}  // namespace
}  // namespace podagent::podworker
