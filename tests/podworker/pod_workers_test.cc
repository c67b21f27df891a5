#include "podworker/pod_workers.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "podworker/backoff_overrides.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::podworker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using runtime::ContainerState;
using runtime::FakeRuntime;
using runtime::Op;

// Containers of a pod spec: "name" an app or regular init container,
// "s:name" a sidecar, "s+:name" a sidecar with a startup probe.
model::Container container(std::string name) {
  model::Container c;
  if (name.starts_with("s+:")) {
    c.restart_policy = "Always";
    c.startup_probe = model::Probe{};
    name = name.substr(3);
  } else if (name.starts_with("s:")) {
    c.restart_policy = "Always";
    name = name.substr(2);
  }
  c.name = name;
  c.image = "busybox:latest";
  return c;
}

model::Pod make_pod(const std::string& uid, const std::string& policy, std::vector<std::string> inits,
                    std::vector<std::string> apps) {
  model::Pod pod;
  pod.metadata.name = "pod-" + uid;
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = uid;
  pod.spec.restart_policy = policy;
  pod.spec.termination_grace_period_seconds = 30;
  for (auto& n : inits) pod.spec.init_containers.push_back(container(n));
  for (auto& n : apps) pod.spec.containers.push_back(container(n));
  return pod;
}

class PodWorkersTest : public testing::Test {
 protected:
  void start(PodWorkers::Options options = {}) {
    options.on_status = [this](const base::PodUid& uid, const model::PodStatus& s) {
      statuses_[uid.str()].push_back(s);
    };
    workers_ = std::make_unique<PodWorkers>(rt_, clock_, io_.get_executor(), std::move(options));
    t0_ = clock_.now();
  }
  void TearDown() override {
    if (workers_) {
      workers_->stop();
      clock_.settle();
    }
  }

  void add(const model::Pod& pod) {
    workers_->update(pod);
    clock_.settle();
  }
  void at(base::Duration since_start) { clock_.advance_to(t0_ + since_start); }

  // Running instances of `name` in pod `uid`.
  size_t running(const std::string& uid, const std::string& name) const {
    size_t n = 0;
    for (const auto& c : rt_.pod_state(base::PodUid(uid)).containers)
      n += c.name == name && c.state == ContainerState::Running;
    return n;
  }
  // Names of the containers created, in order.
  std::vector<std::string> created() const {
    std::vector<std::string> out;
    for (const auto& c : rt_.calls())
      if (c.op == Op::CreateContainer && c.ok) out.push_back(c.name);
    return out;
  }
  // Names of the containers started, in order.
  std::vector<std::string> started() const {
    std::vector<std::string> out;
    for (const auto& c : rt_.calls())
      if (c.op == Op::StartContainer && c.ok) out.push_back(c.name);
    return out;
  }
  size_t creations(const std::string& name) const {
    size_t n = 0;
    for (const auto& c : created()) n += c == name;
    return n;
  }
  // Remembers the names of the containers that exist now, so that calls
  // on them read well after they are removed.
  void remember_names() {
    for (const auto& c : rt_.pod_state(base::PodUid("u1")).containers) names_[c.id.str()] = c.name;
  }
  std::string container_name(const std::string& id) const {
    auto it = names_.find(id);
    return it == names_.end() ? "?" : it->second;
  }
  // Names of the stopped containers (and "sandbox"), in call order.
  std::vector<std::string> stops() const {
    std::vector<std::string> out;
    for (const auto& c : rt_.calls()) {
      if (c.op == Op::StopContainer) out.push_back(container_name(c.id));
      if (c.op == Op::StopSandbox) out.push_back("sandbox");
    }
    return out;
  }
  model::PodStatus status(const std::string& uid) const {
    auto s = workers_->status(base::PodUid(uid));
    return s ? *s : model::PodStatus{};
  }
  const model::ContainerStatus* cstatus(const model::PodStatus& s, const std::string& name) const {
    for (const auto& c : s.init_container_statuses)
      if (c.name == name) return &c;
    for (const auto& c : s.container_statuses)
      if (c.name == name) return &c;
    return nullptr;
  }

  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor()};
  std::unique_ptr<PodWorkers> workers_;
  std::map<std::string, std::vector<model::PodStatus>> statuses_;
  base::SteadyTime t0_;
  std::map<std::string, std::string> names_;
};

TEST_F(PodWorkersTest, InitContainersInOrderThenAllApps) {
  start();
  rt_.script("i1").exit_after(1s, 0);
  rt_.script("i2").exit_after(2s, 0);
  add(make_pod("u1", "Always", {"i1", "i2"}, {"a", "b"}));
  EXPECT_EQ(rt_.sandbox_count(), 1u);
  EXPECT_EQ(started(), (std::vector<std::string>{"i1"}));
  // Everything after i1 is prepared while it runs, each instance once.
  EXPECT_EQ(created(), (std::vector<std::string>{"i1", "i2", "a", "b"}));
  auto s = status("u1");
  ASSERT_NE(cstatus(s, "a"), nullptr);
  EXPECT_EQ(cstatus(s, "a")->state.waiting->reason, "PodInitializing");  // prepared, not reported
  EXPECT_EQ(cstatus(s, "a")->container_id, "");
  ASSERT_NE(cstatus(s, "i2"), nullptr);
  EXPECT_EQ(cstatus(s, "i2")->state.waiting->reason, "PodInitializing");
  at(999ms);
  EXPECT_EQ(started(), (std::vector<std::string>{"i1"}));
  at(1s);
  EXPECT_EQ(started(), (std::vector<std::string>{"i1", "i2"}));
  at(2999ms);
  EXPECT_EQ(running("u1", "a"), 0u);
  at(3s);
  EXPECT_EQ(started(), (std::vector<std::string>{"i1", "i2", "a", "b"}));
  EXPECT_EQ(created(), (std::vector<std::string>{"i1", "i2", "a", "b"}));
  EXPECT_EQ(running("u1", "a") + running("u1", "b"), 2u);
  s = status("u1");
  EXPECT_EQ(s.phase, model::kPhaseRunning);
  EXPECT_EQ(workers_->pod_count(), 1u);
}

// The schedule of the issue: an OnFailure init container that exits 1 is
// not restarted at 9.9 s, is restarted at 10 s, next at +20 s, +40 s ...
// capped at 300 s; after 10 minutes running cleanly the next failure waits
// 10 s again.
TEST_F(PodWorkersTest, CrashLoopBackOffExactSchedule) {
  start();
  auto& script = rt_.script("init");
  for (int i = 0; i < 8; ++i) script.exit_after(0s, 1);
  script.exit_after(601s, 1);  // ten minutes and a second of clean running
  script.exit_after(0s, 1);
  add(make_pod("u1", "OnFailure", {"init"}, {"a"}));
  ASSERT_EQ(creations("init"), 1u);
  // Start times of the 2nd, 3rd, ... runs: each failure at the run's start.
  const std::vector<base::Duration> starts = {10s, 30s, 70s, 150s, 310s, 610s, 910s, 1210s};
  size_t expected = 1;
  for (auto t : starts) {
    at(t - 100ms);
    EXPECT_EQ(creations("init"), expected) << "restarted before " << t.count();
    at(t);
    EXPECT_EQ(creations("init"), ++expected) << "not restarted at " << t.count();
  }
  // The 9th run (started at 1210 s) runs cleanly until 1811 s, then fails:
  // the backoff was reset, so it waits 10 s, not 300 s.
  at(1811s + 9900ms);
  EXPECT_EQ(creations("init"), expected);
  at(1821s);
  EXPECT_EQ(creations("init"), expected + 1);
  EXPECT_EQ(running("u1", "a"), 0u);
}

TEST_F(PodWorkersTest, SidecarsStartInOrderGatedByStartupProbe) {
  start();
  rt_.script("i1").exit_after(1s, 0);
  add(make_pod("u1", "Never", {"s+:s1", "s:s2", "i1"}, {"a"}));
  EXPECT_EQ(created(), (std::vector<std::string>{"s1"}));  // nothing prepared behind a sidecar
  at(5s);  // running, but its startup probe has not passed
  EXPECT_EQ(created(), (std::vector<std::string>{"s1"}));
  workers_->set_probe_state(base::PodUid("u1"), "s1", ProbeState{true, false});
  clock_.settle();
  EXPECT_EQ(started(), (std::vector<std::string>{"s1", "s2", "i1"}));
  EXPECT_EQ(created(), (std::vector<std::string>{"s1", "s2", "i1", "a"}));  // a: prepared
  at(6s);
  EXPECT_EQ(started(), (std::vector<std::string>{"s1", "s2", "i1", "a"}));
  EXPECT_EQ(running("u1", "s1") + running("u1", "s2") + running("u1", "a"), 3u);
}

TEST_F(PodWorkersTest, SidecarRestartsUnderNeverWithBackoff) {
  start();
  rt_.script("s1").exit_after(5s, 0).run_forever();
  add(make_pod("u1", "Never", {"s:s1"}, {"a"}));
  at(5s);
  EXPECT_EQ(running("u1", "s1"), 0u);
  at(14900ms);
  EXPECT_EQ(creations("s1"), 1u);
  at(15s);
  EXPECT_EQ(creations("s1"), 2u);
  EXPECT_EQ(running("u1", "s1"), 1u);
  EXPECT_EQ(running("u1", "a"), 1u);  // the app kept running meanwhile
}

TEST_F(PodWorkersTest, NeverDoesNotRestartAndFails) {
  start();
  rt_.script("a").exit_after(2s, 3);
  add(make_pod("u1", "Never", {}, {"a", "b"}));
  rt_.script("b");
  at(2s);
  at(600s);
  EXPECT_EQ(creations("a"), 1u);
  // b still runs: the pod is Running until every container is done.
  EXPECT_EQ(status("u1").phase, model::kPhaseRunning);
  auto b = rt_.pod_state(base::PodUid("u1")).containers;
  for (const auto& c : b)
    if (c.name == "b") {
      ASSERT_TRUE(rt_.kill_container(c.id, 0).ok());
    }
  clock_.settle();
  auto s = status("u1");
  EXPECT_EQ(s.phase, model::kPhaseFailed);
  ASSERT_TRUE(cstatus(s, "a"));
  EXPECT_EQ(cstatus(s, "a")->restart_count, 0);
  EXPECT_TRUE(std::holds_alternative<lifecycle::Terminated>(*workers_->state(base::PodUid("u1"))));
  EXPECT_EQ(rt_.running_containers(), 0u);
}

TEST_F(PodWorkersTest, OnFailureSucceedsOnExitZeroAndRestartsOnError) {
  start();
  rt_.script("a").exit_after(1s, 1).exit_after(1s, 0);
  add(make_pod("u1", "OnFailure", {}, {"a"}));
  at(1s);
  EXPECT_EQ(creations("a"), 1u);
  at(11s);  // restarted after the 10 s backoff
  EXPECT_EQ(creations("a"), 2u);
  EXPECT_EQ(cstatus(status("u1"), "a")->restart_count, 1);
  at(12s);  // exits 0: done for good
  at(500s);
  EXPECT_EQ(creations("a"), 2u);
  EXPECT_EQ(status("u1").phase, model::kPhaseSucceeded);
  EXPECT_EQ(rt_.count(Op::StopSandbox), 1u);  // the sandbox is stopped once all is done
}

TEST_F(PodWorkersTest, AlwaysRestartsEvenExitZeroWithCrashLoopStatus) {
  start();
  rt_.script("a").exit_after(1s, 0).repeat_last();
  add(make_pod("u1", "Always", {}, {"a"}));
  at(1s);
  auto s = status("u1");
  const auto* a = cstatus(s, "a");
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->state.waiting);
  EXPECT_EQ(a->state.waiting->reason, "CrashLoopBackOff");
  EXPECT_EQ(a->next_restart_at, clock_.wall_now() + 10s);
  at(11s);
  EXPECT_EQ(creations("a"), 2u);
  EXPECT_EQ(cstatus(status("u1"), "a")->restart_count, 1);
  at(12s);
  at(31900ms);
  EXPECT_EQ(creations("a"), 2u);
  at(32s);  // the second failure waits 20 s
  EXPECT_EQ(creations("a"), 3u);
}

TEST_F(PodWorkersTest, AnnotationsOverrideTheBackoff) {
  start();
  rt_.script("a").exit_after(0s, 1).repeat_last();
  auto pod = make_pod("u1", "Always", {}, {"a"});
  pod.metadata.annotations[kAnnotationCrashloopInitial] = "1s";
  pod.metadata.annotations[kAnnotationCrashloopMax] = "2500ms";
  add(pod);
  // Restarts at 1 s, then +2 s, then capped at +2.5 s.
  const std::vector<base::Duration> starts = {1s, 3s, 5500ms, 8s};
  size_t n = 1;
  for (auto t : starts) {
    at(t - 1ms);
    EXPECT_EQ(creations("a"), n);
    at(t);
    EXPECT_EQ(creations("a"), ++n);
  }
}

TEST(PodWorkersOverrides, ParsesAnnotations) {
  model::Pod pod;
  base::Backoff::Options node;
  EXPECT_FALSE(*backoff_overrides(pod, node));
  pod.metadata.annotations[kAnnotationCrashloopInitial] = "1m30s";
  auto o = backoff_overrides(pod, node);
  ASSERT_TRUE(o && *o);
  EXPECT_EQ((*o)->initial, 90s);
  EXPECT_EQ((*o)->max, node.max);
  EXPECT_EQ((*o)->reset, node.reset);
  pod.metadata.annotations[kAnnotationCrashloopMax] = "10";
  auto bad = backoff_overrides(pod, node);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "metadata.annotations[podagent.io/crashloop-max]");
}

TEST_F(PodWorkersTest, SandboxDeathReCreatesItAndReRunsInits) {
  start();
  rt_.script("i1").exit_after(1s, 0).repeat_last();
  add(make_pod("u1", "Always", {"i1"}, {"a"}));
  at(1s);
  ASSERT_EQ(running("u1", "a"), 1u);
  auto before = rt_.pod_state(base::PodUid("u1"));
  ASSERT_EQ(before.sandboxes.size(), 1u);
  ASSERT_TRUE(rt_.kill_sandbox(before.sandboxes[0].id).ok());
  clock_.settle();
  auto after = rt_.pod_state(base::PodUid("u1"));
  const runtime::SandboxStatus* ready = nullptr;
  for (const auto& s : after.sandboxes)
    if (s.state == runtime::SandboxState::Ready) ready = &s;
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->attempt, 1u);
  EXPECT_EQ(creations("i1"), 2u);  // init runs again in the new sandbox
  EXPECT_EQ(running("u1", "a"), 0u);
  at(2s);
  // a was killed by the sandbox's death: a failure, so it waits its backoff.
  EXPECT_EQ(running("u1", "a"), 0u);
  at(11s);
  EXPECT_EQ(running("u1", "a"), 1u);
  for (const auto& c : rt_.pod_state(base::PodUid("u1")).containers)
    if (c.state == ContainerState::Running) {
      EXPECT_EQ(c.sandbox_id, ready->id);
    }
}

TEST_F(PodWorkersTest, SandboxFoundMissingOnResync) {
  start();
  add(make_pod("u1", "Always", {}, {"a"}));
  auto sb = rt_.pod_state(base::PodUid("u1")).sandboxes.at(0).id;
  ASSERT_TRUE(rt_.remove_sandbox_behind_back(sb).ok());
  workers_->sync_all();
  clock_.settle();
  auto now = rt_.pod_state(base::PodUid("u1"));
  ASSERT_EQ(now.sandboxes.size(), 1u);
  EXPECT_NE(now.sandboxes[0].id, sb);
  EXPECT_EQ(running("u1", "a"), 1u);
}

TEST_F(PodWorkersTest, SpecChangeRestartsAtOnceWithAFreshBackoff) {
  start();
  rt_.script("a").exit_after(1s, 1).exit_after(1s, 1).run_forever();
  auto pod = make_pod("u1", "Always", {}, {"a", "b"});
  add(pod);
  at(1s);
  at(11s);
  at(12s);  // second failure: the next restart would wait 20 s
  EXPECT_EQ(creations("a"), 2u);
  pod.spec.containers[0].image = "busybox:2";
  workers_->update(pod);
  clock_.settle();
  EXPECT_EQ(creations("a"), 3u);  // at once: the new spec has its own backoff
  EXPECT_EQ(running("u1", "a"), 1u);
  // b's spec did not change: it was not restarted.
  EXPECT_EQ(creations("b"), 1u);
  pod.spec.containers[1].image = "busybox:2";
  workers_->update(pod);
  clock_.settle();
  EXPECT_EQ(creations("b"), 2u);
  EXPECT_EQ(running("u1", "b"), 1u);
  for (const auto& c : rt_.pod_state(base::PodUid("u1")).containers)
    if (c.name == "b" && c.state == ContainerState::Running) {
      EXPECT_EQ(c.attempt, 1u);
    }
}

TEST_F(PodWorkersTest, DeleteCancelsAnInFlightStart) {
  start();
  rt_.set_latency(Op::CreateContainer, 5s);
  add(make_pod("u1", "Always", {}, {"a", "b"}));
  EXPECT_EQ(rt_.count(Op::RunSandbox), 1u);
  at(1s);
  workers_->remove(base::PodUid("u1"), 0s);
  clock_.settle();
  at(60s);
  EXPECT_EQ(rt_.count(Op::StartContainer), 0u);  // neither app container started
  EXPECT_EQ(rt_.count(Op::CreateContainer), 2u);  // both created at once
  EXPECT_EQ(rt_.container_count(), 0u);
  EXPECT_EQ(rt_.sandbox_count(), 0u);
  EXPECT_TRUE(workers_->is_finished(base::PodUid("u1")));
  EXPECT_EQ(workers_->pod_count(), 0u);
}

// Each creation takes 5 s. i1 is created with everything after it
// prepared alongside, until 5 s; then only starts are left: i2 and the apps
// run at 5 s. Created one after the other, b would run at 20 s.
TEST_F(PodWorkersTest, ContainersAfterAnInitContainerArePreparedWhileItRuns) {
  start();
  rt_.set_latency(Op::CreateContainer, 5s);
  rt_.script("i1").exit_after(0s, 0);
  rt_.script("i2").exit_after(0s, 0);
  add(make_pod("u1", "Always", {"i1", "i2"}, {"a", "b"}));
  at(4999ms);
  EXPECT_EQ(rt_.count(Op::StartContainer), 0u);
  at(5s);
  EXPECT_EQ(started(), (std::vector<std::string>{"i1", "i2", "a", "b"}));
  EXPECT_EQ(running("u1", "a"), 1u);
  EXPECT_EQ(running("u1", "b"), 1u);
  EXPECT_EQ(rt_.count(Op::CreateContainer), 4u);
}

// A failed init container under Never fails the pod: what was prepared
// behind it never starts, is removed, and is not reported.
TEST_F(PodWorkersTest, PreparedContainersOfAFailedPodAreRemovedUnstarted) {
  start();
  rt_.script("i1").exit_after(1s, 3);
  add(make_pod("u1", "Never", {"i1"}, {"a", "b"}));
  EXPECT_EQ(created(), (std::vector<std::string>{"i1", "a", "b"}));
  at(2s);
  EXPECT_EQ(started(), (std::vector<std::string>{"i1"}));
  auto s = status("u1");
  EXPECT_EQ(s.phase, model::kPhaseFailed);
  ASSERT_NE(cstatus(s, "a"), nullptr);
  EXPECT_EQ(cstatus(s, "a")->state.waiting->reason, "PodInitializing");
  EXPECT_EQ(rt_.container_count(), 1u);  // i1 only, kept for its status
}

// A prepared instance whose spec changed before it started is garbage: the
// new spec is created and started instead.
TEST_F(PodWorkersTest, APreparedContainerOfAnOldSpecIsReplaced) {
  start();
  rt_.script("i1").exit_after(10s, 0);
  model::Pod pod = make_pod("u1", "Always", {"i1"}, {"a"});
  add(pod);
  EXPECT_EQ(created(), (std::vector<std::string>{"i1", "a"}));
  pod.spec.containers[0].image = "busybox:2";
  add(pod);
  at(10s);
  EXPECT_EQ(started(), (std::vector<std::string>{"i1", "a"}));
  EXPECT_EQ(created(), (std::vector<std::string>{"i1", "a", "a"}));
  EXPECT_EQ(rt_.container_count(), 2u);
  auto s = status("u1");
  ASSERT_NE(cstatus(s, "a"), nullptr);
  EXPECT_EQ(cstatus(s, "a")->image, "busybox:2");
  EXPECT_EQ(cstatus(s, "a")->restart_count, 0);  // the old instance never ran
}

TEST_F(PodWorkersTest, GraceOnlyShrinksAndSigkillAfterIt) {
  start();
  rt_.script("a").ignore_sigterm();
  add(make_pod("u1", "Always", {}, {"a"}));
  workers_->remove(base::PodUid("u1"), 20s);
  clock_.settle();
  at(1s);
  workers_->remove(base::PodUid("u1"), 100s);  // longer: ignored
  clock_.settle();
  at(19900ms);
  EXPECT_EQ(running("u1", "a"), 1u);
  at(20s);
  EXPECT_EQ(running("u1", "a"), 0u);
  EXPECT_TRUE(workers_->is_finished(base::PodUid("u1")));
  EXPECT_EQ(rt_.container_count(), 0u);
}

TEST_F(PodWorkersTest, ShorterGraceHurriesAStopInFlight) {
  start();
  rt_.script("a").ignore_sigterm();
  add(make_pod("u1", "Always", {}, {"a"}));
  workers_->remove(base::PodUid("u1"), 20s);
  clock_.settle();
  at(1s);
  workers_->remove(base::PodUid("u1"), 5s);  // SIGKILL at 6 s, not 20 s
  clock_.settle();
  at(5900ms);
  EXPECT_EQ(running("u1", "a"), 1u);
  at(6s);
  EXPECT_EQ(running("u1", "a"), 0u);
  at(7s);
  EXPECT_TRUE(workers_->is_finished(base::PodUid("u1")));
}

TEST_F(PodWorkersTest, LivenessFailureKillsAndRestartsWithBackoff) {
  start();
  add(make_pod("u1", "Always", {}, {"a"}));
  base::ContainerId first = rt_.pod_state(base::PodUid("u1")).containers.at(0).id;
  workers_->set_liveness_failed(base::PodUid("u1"), first);
  clock_.settle();
  EXPECT_EQ(running("u1", "a"), 0u);
  at(9900ms);
  EXPECT_EQ(creations("a"), 1u);
  at(10s);
  EXPECT_EQ(creations("a"), 2u);
  EXPECT_EQ(running("u1", "a"), 1u);
}

TEST_F(PodWorkersTest, AgentRestartAdoptsRunningContainers) {
  start();
  rt_.script("i1").exit_after(1s, 0);
  auto pod = make_pod("u1", "Always", {"i1"}, {"a"});
  add(pod);
  at(1s);
  ASSERT_EQ(running("u1", "a"), 1u);
  workers_->stop();
  clock_.settle();
  workers_.reset();
  // A new agent: it recomputes from what the runtime reports.
  start();
  add(pod);
  at(100s);
  EXPECT_EQ(creations("i1"), 1u);
  EXPECT_EQ(creations("a"), 1u);
  EXPECT_EQ(rt_.count(Op::RunSandbox), 1u);
  EXPECT_EQ(status("u1").phase, model::kPhaseRunning);
}

TEST_F(PodWorkersTest, TerminationOrderAppsThenSidecarsReverseThenSandbox) {
  start();
  auto pod = make_pod("u1", "Always", {"s:s1", "s:s2"}, {"a", "b"});
  model::Lifecycle hooks;
  hooks.pre_stop = model::Handler{};
  hooks.pre_stop->exec = model::ExecAction{{"/bin/drain"}};
  pod.spec.containers[0].lifecycle = hooks;
  add(pod);
  ASSERT_EQ(rt_.running_containers(), 4u);
  remember_names();
  rt_.clear_calls();
  workers_->remove(base::PodUid("u1"));
  clock_.settle();
  auto order = stops();
  ASSERT_GE(order.size(), 5u);
  std::vector<std::string> apps(order.begin(), order.begin() + 2);
  std::sort(apps.begin(), apps.end());
  EXPECT_EQ(apps, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(std::vector<std::string>(order.begin() + 2, order.begin() + 5),
            (std::vector<std::string>{"s2", "s1", "sandbox"}));
  ASSERT_EQ(rt_.execs().size(), 1u);
  EXPECT_EQ(rt_.execs()[0].container_name, "a");
  EXPECT_EQ(rt_.execs()[0].command, (std::vector<std::string>{"/bin/drain"}));
  EXPECT_TRUE(workers_->is_finished(base::PodUid("u1")));
}

TEST_F(PodWorkersTest, TerminatedUidNeverStartsAgain) {
  start();
  rt_.script("a").exit_after(1s, 0);
  auto pod = make_pod("u1", "Never", {}, {"a"});
  add(pod);
  at(1s);
  EXPECT_EQ(status("u1").phase, model::kPhaseSucceeded);
  workers_->update(pod);  // the same UID again: nothing restarts
  clock_.settle();
  at(100s);
  EXPECT_EQ(creations("a"), 1u);
  workers_->remove(base::PodUid("u1"));
  clock_.settle();
  EXPECT_TRUE(workers_->is_finished(base::PodUid("u1")));
  workers_->update(pod);
  clock_.settle();
  EXPECT_EQ(workers_->pod_count(), 0u);
  EXPECT_EQ(rt_.count(Op::RunSandbox), 1u);
}

TEST_F(PodWorkersTest, ActiveDeadlineFailsThePod) {
  start();
  auto pod = make_pod("u1", "Always", {}, {"a"});
  pod.spec.active_deadline_seconds = 5;
  add(pod);
  at(4900ms);
  EXPECT_EQ(running("u1", "a"), 1u);
  at(5s);
  EXPECT_EQ(running("u1", "a"), 0u);
  auto s = status("u1");
  EXPECT_EQ(s.phase, model::kPhaseFailed);
  EXPECT_EQ(s.reason, "DeadlineExceeded");
  EXPECT_TRUE(std::holds_alternative<lifecycle::Terminated>(*workers_->state(base::PodUid("u1"))));
}

TEST_F(PodWorkersTest, AdmissionRejectionStartsNothing) {
  NodeAllocatable node;
  node.cpu_milli = 1000;
  node.memory_bytes = int64_t{1} << 30;
  Admitter admitter(node);
  PodWorkers::Options options;
  options.admitter = &admitter;
  start(options);
  auto pod = make_pod("u1", "Always", {}, {"a"});
  pod.spec.containers[0].resources.requests["cpu"] = *model::Quantity::parse("2");
  add(pod);
  auto s = status("u1");
  EXPECT_EQ(s.phase, model::kPhaseFailed);
  EXPECT_EQ(s.reason, "OutOfcpu");
  EXPECT_EQ(rt_.count(Op::RunSandbox), 0u);
  EXPECT_EQ(rt_.count(Op::CreateContainer), 0u);
  // Never retried for that UID.
  workers_->sync_all();
  at(100s);
  EXPECT_EQ(rt_.count(Op::RunSandbox), 0u);
  auto fits = make_pod("u2", "Always", {}, {"a"});
  add(fits);
  EXPECT_EQ(rt_.count(Op::RunSandbox), 1u);
}

TEST_F(PodWorkersTest, LatestUpdateWinsAfterAnInFlightSync) {
  start();
  rt_.set_latency(Op::StartContainer, 2s);
  auto pod = make_pod("u1", "Always", {}, {"a"});
  add(pod);  // the start of a#0 is in flight
  pod.spec.containers[0].image = "busybox:2";
  workers_->update(pod);
  pod.spec.containers[0].image = "busybox:3";
  workers_->update(pod);
  at(10s);
  std::vector<std::string> images;
  for (const auto& c : rt_.pod_state(base::PodUid("u1")).containers)
    if (c.state == ContainerState::Running) images.push_back(c.image);
  EXPECT_EQ(images, std::vector<std::string>{"busybox:3"});
  EXPECT_EQ(creations("a"), 2u);  // busybox:2 was never started
}

// A resync of a settled pod publishes nothing new; a probe result (an input
// of the status beyond the runtime's state) still changes the status.
TEST_F(PodWorkersTest, SettledResyncKeepsTheStatusAndProbesChangeIt) {
  start();
  auto pod = make_pod("u1", "Always", {}, {"a"});
  pod.spec.containers[0].readiness_probe = model::Probe{};
  add(pod);
  const size_t published = statuses_["u1"].size();
  ASSERT_FALSE(cstatus(status("u1"), "a")->ready);
  workers_->sync_all();
  at(1s);
  EXPECT_EQ(statuses_["u1"].size(), published);
  workers_->set_probe_state(base::PodUid("u1"), "a", ProbeState{std::nullopt, true});
  clock_.settle();
  EXPECT_EQ(statuses_["u1"].size(), published + 1);
  EXPECT_TRUE(cstatus(status("u1"), "a")->ready);
}

// Runtime's default list_pod (for backends without a per-pod index), run
// on the fake by a non-virtual call: it filters the full lists.
TEST_F(PodWorkersTest, DefaultListPodFiltersTheFullLists) {
  start();
  rt_.script("i1").exit_after(1s, 0);
  add(make_pod("u1", "Always", {"i1"}, {"a"}));
  add(make_pod("u2", "Always", {}, {"b"}));
  at(1s);
  std::optional<base::Result<runtime::PodRuntimeState>> got;
  auto list = [&]() -> asio::awaitable<void> { got.emplace(co_await rt_.runtime::Runtime::list_pod(base::PodUid("u1"))); };
  asio::co_spawn(io_, list, asio::detached);
  clock_.settle();
  ASSERT_TRUE(got && got->ok());
  EXPECT_EQ(**got, rt_.pod_state(base::PodUid("u1")));
  EXPECT_EQ((*got)->containers.size(), 2u);  // i1 and a, not u2's b
}

}  // namespace
}  // namespace podagent::podworker
