// PodWorkers' orphan cleanup (the kubelet's HandlePodCleanups): what the
// runtime holds of a pod UID that no worker owns is stopped and removed,
// sandboxes last, but only once the sources are ready, never a desired pod,
// and never a UID that becomes desired again.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "podworker/pod_workers.h"
#include "podworker/spec_hash.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::podworker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using runtime::ContainerState;
using runtime::FakeCall;
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

bool is_removal_or_stop(const FakeCall& c) {
  return c.op == Op::StopContainer || c.op == Op::StopSandbox || c.op == Op::RemoveContainer ||
         c.op == Op::RemoveSandbox;
}

class OrphanCleanupTest : public testing::Test {
 protected:
  void start() {
    PodWorkers::Options options;
    options.on_orphan = [this](const OrphanReport& r) { reports_.push_back(r); };
    workers_ = std::make_unique<PodWorkers>(rt_, clock_, io_.get_executor(), std::move(options));
    t0_ = clock_.now();
  }
  void TearDown() override {
    if (workers_) {
      workers_->stop();
      clock_.settle();
    }
  }
  void at(base::Duration since_start) { clock_.advance_to(t0_ + since_start); }

  // What an earlier agent left in the runtime of `pod`: its sandbox and its
  // app containers running, made as a worker makes them (the same spec
  // hashes), so that a worker for the pod would adopt them as they are.
  void leave_in_runtime(const model::Pod& pod) {
    auto shared = std::make_shared<const model::Pod>(pod);
    const PodSpecHashes hashes = hash_pod_containers(pod);
    bool done = false;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          runtime::SandboxConfig sandbox;
          sandbox.pod_uid = base::PodUid(pod.metadata.uid);
          sandbox.pod_name = pod.metadata.name;
          sandbox.pod_namespace = pod.metadata.namespace_;
          sandbox.pod = shared;
          base::Result<base::SandboxId> sb = co_await rt_.run_sandbox(sandbox);
          if (!sb) co_return;
          for (size_t i = 0; i < pod.spec.containers.size(); ++i) {
            runtime::ContainerConfig config;
            config.spec = pod.spec.containers[i];
            config.spec_hash = hashes.app[i];
            config.pod = shared;
            base::Result<base::ContainerId> id = co_await rt_.create_container(*sb, config);
            if (!id) co_return;
            base::Status started = co_await rt_.start_container(*id);
            if (!started) co_return;
          }
          done = true;
        },
        asio::detached);
    clock_.settle();
    ASSERT_TRUE(done);
  }

  // The ids of everything the runtime holds of `uid` now.
  std::set<std::string> ids_of(const std::string& uid) const {
    std::set<std::string> ids;
    runtime::PodRuntimeState state = rt_.pod_state(base::PodUid(uid));
    for (const auto& s : state.sandboxes) ids.insert(s.id.str());
    for (const auto& c : state.containers) ids.insert(c.id.str());
    return ids;
  }
  // The stop and remove calls made on any of `ids`, in order.
  std::vector<FakeCall> stops_and_removals(const std::set<std::string>& ids) const {
    std::vector<FakeCall> out;
    for (const auto& c : rt_.calls())
      if (is_removal_or_stop(c) && ids.contains(c.id)) out.push_back(c);
    return out;
  }
  size_t running(const std::string& uid) const { return rt_.running_containers(base::PodUid(uid)); }
  bool gone(const std::string& uid) const {
    runtime::PodRuntimeState state = rt_.pod_state(base::PodUid(uid));
    return state.sandboxes.empty() && state.containers.empty();
  }

  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor()};
  std::unique_ptr<PodWorkers> workers_;
  std::vector<OrphanReport> reports_;
  base::SteadyTime t0_;
};

TEST_F(OrphanCleanupTest, NothingIsRemovedBeforeTheSourcesAreReady) {
  leave_in_runtime(make_pod("gone", {"a", "b"}));
  start();
  workers_->update(make_pod("u1", {"a"}));
  clock_.settle();
  for (int i = 1; i <= 5; ++i) {
    workers_->sync_all();  // the periodic relist, before the sources are read
    at(i * 10s);
  }
  EXPECT_EQ(running("gone"), 2u);
  EXPECT_EQ(rt_.pod_state(base::PodUid("gone")).sandboxes.size(), 1u);
  EXPECT_TRUE(stops_and_removals(ids_of("gone")).empty());
  EXPECT_EQ(workers_->orphan_cleanup().pass_count(), 0u);
  EXPECT_TRUE(reports_.empty());
}

TEST_F(OrphanCleanupTest, AnOrphanIsStoppedWithTheShortGraceAndRemovedSandboxLast) {
  leave_in_runtime(make_pod("gone", {"a", "stubborn"}));
  rt_.script(base::PodUid("gone"), "stubborn").ignore_sigterm();
  const std::set<std::string> orphan_ids = ids_of("gone");
  start();
  workers_->update(make_pod("u1", {"a", "b"}));
  clock_.settle();
  const std::set<std::string> desired_ids = ids_of("u1");
  ASSERT_EQ(running("u1"), 2u);

  workers_->set_sources_ready();
  clock_.settle();
  // "a" took SIGTERM; "stubborn" gets SIGKILL when the 2 s grace is over.
  EXPECT_EQ(running("gone"), 1u);
  at(1999ms);
  EXPECT_EQ(running("gone"), 1u);
  at(2s);
  EXPECT_TRUE(gone("gone"));

  const std::vector<FakeCall> calls = stops_and_removals(orphan_ids);
  ASSERT_EQ(calls.size(), 6u);  // 2 container stops, sandbox stop, 2 removals, sandbox removal
  EXPECT_EQ(calls.back().op, Op::RemoveSandbox);
  EXPECT_TRUE(std::all_of(calls.begin(), calls.end(), [](const FakeCall& c) { return c.ok; }));
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0].uid, base::PodUid("gone"));
  EXPECT_EQ(reports_[0].pod_name, "pod-gone");
  EXPECT_EQ(reports_[0].containers, 2u);
  EXPECT_EQ(reports_[0].sandboxes, 1u);
  EXPECT_FALSE(reports_[0].failed);
  EXPECT_FALSE(reports_[0].interrupted);

  // The desired pod was not touched.
  EXPECT_EQ(running("u1"), 2u);
  EXPECT_EQ(ids_of("u1"), desired_ids);
  EXPECT_TRUE(stops_and_removals(desired_ids).empty());
}

TEST_F(OrphanCleanupTest, APodBeingDeletedKeepsItsOwnGrace) {
  start();
  rt_.script(base::PodUid("u2"), "stubborn").ignore_sigterm();
  workers_->update(make_pod("u2", {"stubborn"}));
  clock_.settle();
  workers_->remove(base::PodUid("u2"));  // its own 30 s
  clock_.settle();
  workers_->set_sources_ready();
  workers_->sync_all();
  at(10s);
  workers_->sync_all();
  at(20s);
  EXPECT_EQ(running("u2"), 1u) << "a terminating pod has a worker: no orphan";
  at(30s);
  EXPECT_TRUE(gone("u2"));
  EXPECT_TRUE(reports_.empty());
}

TEST_F(OrphanCleanupTest, OrphansAppearingLaterGoAtTheNextRelistAndFailuresAreRetried) {
  start();
  workers_->set_sources_ready();
  clock_.settle();
  leave_in_runtime(make_pod("late", {"a"}));  // e.g. left by a failed removal
  EXPECT_EQ(running("late"), 1u) << "nothing is removed between relists";

  rt_.fail_next(Op::RemoveSandbox, base::Error("device busy"));
  workers_->sync_all();
  clock_.settle();
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_TRUE(reports_[0].failed);
  EXPECT_EQ(rt_.pod_state(base::PodUid("late")).sandboxes.size(), 1u);
  EXPECT_EQ(running("late"), 0u);

  workers_->sync_all();  // the next relist finishes the job
  clock_.settle();
  EXPECT_TRUE(gone("late"));
  ASSERT_EQ(reports_.size(), 2u);
  EXPECT_FALSE(reports_[1].failed);
  EXPECT_EQ(reports_[1].containers, 0u);  // only the stopped sandbox was left

  workers_->sync_all();  // nothing left: nothing done
  clock_.settle();
  EXPECT_EQ(reports_.size(), 2u);
}

TEST_F(OrphanCleanupTest, AUidDesiredAgainWhileListedIsNotTouched) {
  const model::Pod pod = make_pod("u9", {"a", "b"});
  leave_in_runtime(pod);
  const std::set<std::string> ids = ids_of("u9");
  start();
  rt_.set_latency(Op::ListContainers, 1s);
  workers_->set_sources_ready();  // the pass lists, for 1 s
  at(500ms);
  ASSERT_TRUE(workers_->orphan_cleanup().pass_running());
  workers_->update(pod);  // the pod is desired again, e.g. re-created by the API
  at(5s);
  EXPECT_FALSE(workers_->orphan_cleanup().pass_running());
  EXPECT_TRUE(stops_and_removals(ids).empty());
  EXPECT_EQ(ids_of("u9"), ids) << "the worker adopted what it found";
  EXPECT_EQ(running("u9"), 2u);
  EXPECT_TRUE(reports_.empty());
}

TEST_F(OrphanCleanupTest, AUidDesiredAgainDuringItsCleanupIsNotRemovedAndRunsAgain) {
  const model::Pod pod = make_pod("u9", {"stubborn"});
  leave_in_runtime(pod);
  rt_.script(base::PodUid("u9"), "stubborn").ignore_sigterm();
  const base::SandboxId sandbox = rt_.pod_state(base::PodUid("u9")).sandboxes.at(0).id;
  start();
  workers_->set_sources_ready();
  clock_.settle();
  ASSERT_TRUE(workers_->orphan_cleanup().cleaning(base::PodUid("u9")));  // its stop waits for the grace
  at(1s);
  rt_.clear_calls();
  workers_->update(pod);
  at(1500ms);
  // The new worker waits for the cleanup before touching the runtime.
  EXPECT_EQ(rt_.count(Op::ListPod), 0u);
  at(2s);  // the stop in flight ends with SIGKILL; nothing is done after it
  EXPECT_FALSE(workers_->orphan_cleanup().cleaning(base::PodUid("u9")));
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_TRUE(reports_[0].interrupted);
  EXPECT_EQ(rt_.count(Op::StopSandbox), 0u);
  EXPECT_EQ(rt_.count(Op::RemoveContainer), 0u);
  EXPECT_EQ(rt_.count(Op::RemoveSandbox), 0u);
  // The worker restarts the killed container in the same sandbox.
  at(20s);
  EXPECT_EQ(running("u9"), 1u);
  ASSERT_TRUE(rt_.sandbox(sandbox));
  EXPECT_EQ(rt_.sandbox(sandbox)->state, runtime::SandboxState::Ready);
  ASSERT_TRUE(workers_->state(base::PodUid("u9")));
  EXPECT_TRUE(std::holds_alternative<lifecycle::Running>(*workers_->state(base::PodUid("u9"))));
}

TEST_F(OrphanCleanupTest, StopEndsTheCleanupWithoutFurtherCalls) {
  leave_in_runtime(make_pod("gone", {"stubborn"}));
  rt_.script(base::PodUid("gone"), "stubborn").ignore_sigterm();
  start();
  workers_->set_sources_ready();
  clock_.settle();
  workers_->stop();
  at(5s);
  EXPECT_EQ(rt_.count(Op::StopSandbox), 0u);
  EXPECT_EQ(rt_.count(Op::RemoveSandbox), 0u);
  workers_->sync_all();  // no pass once stopped
  clock_.settle();
  EXPECT_EQ(workers_->orphan_cleanup().pass_count(), 1u);
}

}  // namespace
}  // namespace podagent::podworker
