// The probe manager wired to the pod workers as the agent wires it, on the
// fake runtime and a fake clock, with a scripted prober: what probe results
// do to containers and to the pod's status.
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "fake_prober.h"
#include "podworker/pod_workers.h"
#include "probes/probe_manager.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::probes {
namespace {

using namespace std::chrono_literals;
using runtime::ContainerState;
using testing::exec_probe;
using testing::FakeProber;
constexpr auto S = ProbeResult::Success;
constexpr auto F = ProbeResult::Failure;

class Events final : public base::EventRecorder {
 public:
  void record(const base::PodUid&, std::string_view type, std::string_view reason, std::string_view,
              std::string message) override {
    all.push_back(std::string(type) + " " + std::string(reason) + ": " + message);
  }
  bool has(const std::string& line) const { return std::find(all.begin(), all.end(), line) != all.end(); }
  std::vector<std::string> all;
};

model::Container container(const std::string& name) {
  model::Container c;
  c.name = name;
  c.image = "busybox:latest";
  return c;
}

class ProbePodWorkersTest : public ::testing::Test {
 protected:
  ProbePodWorkersTest() {
    pod_.metadata.name = "p";
    pod_.metadata.namespace_ = "default";
    pod_.metadata.uid = "u1";
    pod_.spec.restart_policy = "Always";
    pod_.spec.termination_grace_period_seconds = 30;

    ProbeManager::Options po;
    po.on_state = [this](const base::PodUid& uid, const std::string& name, const ProbeState& s) {
      workers_->set_probe_state(uid, name, s);
    };
    po.on_kill = [this](const base::PodUid& uid, const base::ContainerId& id, std::string message,
                        std::optional<base::Duration> grace) {
      workers_->set_liveness_failed(uid, id, std::move(message), grace);
    };
    po.events = &events_;
    po.jitter = [](base::Duration) { return base::Duration::zero(); };
    manager_ = std::make_unique<ProbeManager>(prober_, clock_, io_.get_executor(), po);

    podworker::PodWorkers::Options wo;
    wo.events = &events_;
    wo.on_pod_listed = [this](const model::Pod& pod, const podworker::ObservedPod& observed, bool terminating) {
      manager_->update(pod, observed, terminating);
    };
    wo.on_pod_finished = [this](const base::PodUid& uid) { manager_->remove(uid); };
    workers_ = std::make_unique<podworker::PodWorkers>(rt_, clock_, io_.get_executor(), wo);
    t0_ = clock_.now();
  }
  ~ProbePodWorkersTest() override {
    workers_->stop();
    manager_->stop();
    clock_.settle();
  }

  void run() {
    workers_->update(pod_);
    clock_.settle();
  }
  void at(base::Duration since_start) { clock_.advance_to(t0_ + since_start); }
  model::PodStatus status() const { return workers_->status(base::PodUid("u1")).value_or(model::PodStatus{}); }
  const model::ContainerStatus* cstatus(const std::string& name) {
    status_ = status();
    for (const auto& c : status_.init_container_statuses)
      if (c.name == name) return &c;
    for (const auto& c : status_.container_statuses)
      if (c.name == name) return &c;
    return nullptr;
  }
  std::string condition(const char* type) {
    status_ = status();
    for (const auto& c : status_.conditions)
      if (c.type == type) return c.status;
    return "";
  }
  std::vector<runtime::ContainerStatus> instances(const std::string& name) const {
    std::vector<runtime::ContainerStatus> out;
    for (const auto& c : rt_.pod_state(base::PodUid("u1")).containers)
      if (c.name == name) out.push_back(c);
    return out;
  }

  boost::asio::io_context io_;
  base::FakeClock clock_{io_};
  runtime::FakeRuntime rt_{clock_, io_.get_executor()};
  FakeProber prober_{clock_};
  Events events_;
  std::unique_ptr<ProbeManager> manager_;
  std::unique_ptr<podworker::PodWorkers> workers_;
  model::Pod pod_;
  model::PodStatus status_;
  base::SteadyTime t0_;
};

TEST_F(ProbePodWorkersTest, AFailingLivenessProbeRestartsTheContainer) {
  auto web = container("web");
  web.liveness_probe = exec_probe("live", 10, 1, 3);
  pod_.spec.containers = {web};
  for (int i = 0; i < 3; ++i) prober_.push("live", F, "HTTP probe failed with statuscode: 500");
  run();  // then healthy (the fallback): the next instance
  ASSERT_EQ(instances("web").size(), 1u);
  const base::ContainerId first = instances("web")[0].id;
  at(19s);
  EXPECT_EQ(instances("web")[0].state, ContainerState::Running);  // two failures of three
  // The third failure: killed (SIGTERM: 143 at once), restarted after its backoff.
  at(20s);
  EXPECT_EQ(rt_.container(first)->state, ContainerState::Exited);
  EXPECT_TRUE(events_.has("Warning Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500"));
  EXPECT_TRUE(events_.has("Normal Killing: Container web failed liveness probe, will be restarted"));
  at(60s);
  ASSERT_EQ(instances("web").size(), 2u);
  EXPECT_EQ(instances("web")[1].state, ContainerState::Running);
  const model::ContainerStatus* s = cstatus("web");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->restart_count, 1);
  ASSERT_TRUE(s->last_state.terminated.has_value());
  EXPECT_EQ(s->last_state.terminated->exit_code, 143);
  EXPECT_EQ(s->last_state.terminated->reason, "Error");
  EXPECT_TRUE(s->state.running.has_value());
  // The new instance is probed, and healthy: no second kill.
  EXPECT_EQ(prober_.calls().back().container_id, instances("web")[1].id);
  at(200s);
  EXPECT_EQ(instances("web").size(), 2u);
}

TEST_F(ProbePodWorkersTest, AStartupFailureKillsWithTheProbesGracePeriod) {
  auto web = container("web");
  web.startup_probe = exec_probe("start", 5, 1, 2);
  web.startup_probe->termination_grace_period_seconds = 4;
  pod_.spec.containers = {web};
  rt_.script("web").ignore_sigterm();  // so that the kill waits out its grace
  prober_.set("start", F);
  run();
  const base::ContainerId first = instances("web")[0].id;
  at(5s);  // the second failure: killed with 4 s, not the pod's 30 s
  EXPECT_TRUE(events_.has("Normal Killing: Container web failed startup probe, will be restarted"));
  at(8999ms);
  EXPECT_EQ(rt_.container(first)->state, ContainerState::Running);
  at(9s);
  EXPECT_EQ(rt_.container(first)->state, ContainerState::Exited);
  EXPECT_EQ(rt_.container(first)->exit_code, 137);
}

TEST_F(ProbePodWorkersTest, ReadinessDrivesReadyContainersReadyAndReady) {
  auto web = container("web");
  web.readiness_probe = exec_probe("ready", 10, 2, 1);
  pod_.spec.containers = {web};
  prober_.push("ready", S);
  prober_.push("ready", S);
  prober_.push("ready", F);
  prober_.push("ready", S);
  prober_.push("ready", S);
  run();
  ASSERT_NE(cstatus("web"), nullptr);
  EXPECT_TRUE(cstatus("web")->state.running.has_value());
  EXPECT_FALSE(cstatus("web")->ready);  // one success of two
  EXPECT_EQ(condition(model::kConditionContainersReady), "False");
  EXPECT_EQ(condition(model::kConditionReady), "False");
  at(10s);
  EXPECT_TRUE(cstatus("web")->ready);
  EXPECT_EQ(condition(model::kConditionContainersReady), "True");
  EXPECT_EQ(condition(model::kConditionReady), "True");
  at(20s);  // one failure is the threshold
  EXPECT_FALSE(cstatus("web")->ready);
  EXPECT_EQ(condition(model::kConditionReady), "False");
  EXPECT_TRUE(events_.has("Warning Unhealthy: Readiness probe failed: "));
  at(30s);
  EXPECT_FALSE(cstatus("web")->ready);  // one success of two
  at(40s);
  EXPECT_TRUE(cstatus("web")->ready);
  EXPECT_EQ(condition(model::kConditionReady), "True");
  EXPECT_EQ(instances("web").size(), 1u);  // readiness never restarts
}

TEST_F(ProbePodWorkersTest, ASidecarsStartupProbeGatesTheAppContainers) {
  auto side = container("side");
  side.restart_policy = "Always";
  side.startup_probe = exec_probe("start", 5, 1, 10);
  pod_.spec.init_containers = {side};
  pod_.spec.containers = {container("web")};
  prober_.push("start", F);
  prober_.push("start", F);
  run();
  EXPECT_EQ(instances("side").size(), 1u);
  EXPECT_TRUE(instances("web").empty());
  ASSERT_NE(cstatus("side"), nullptr);
  EXPECT_EQ(cstatus("side")->started, false);
  at(9s);
  EXPECT_TRUE(instances("web").empty());
  at(10s);  // the third attempt succeeds
  EXPECT_EQ(cstatus("side")->started, true);
  ASSERT_EQ(instances("web").size(), 1u);
  EXPECT_EQ(instances("web")[0].state, ContainerState::Running);
}

TEST_F(ProbePodWorkersTest, ProbingEndsWithThePod) {
  auto web = container("web");
  web.readiness_probe = exec_probe("ready", 10);
  pod_.spec.containers = {web};
  run();
  EXPECT_EQ(manager_->worker_count(), 1u);
  workers_->remove(base::PodUid("u1"), 0s);
  clock_.settle();
  at(1s);
  EXPECT_TRUE(workers_->is_finished(base::PodUid("u1")));
  EXPECT_EQ(manager_->worker_count(), 0u);
  const size_t calls = prober_.calls().size();
  at(100s);
  EXPECT_EQ(prober_.calls().size(), calls);
}

TEST_F(ProbePodWorkersTest, ATerminatingPodKeepsOnlyItsReadinessProbe) {
  auto web = container("web");
  web.liveness_probe = exec_probe("live", 1, 1, 1);
  web.startup_probe = exec_probe("start", 1, 1, 1);
  web.readiness_probe = exec_probe("ready", 1);
  pod_.spec.containers = {web};
  rt_.script("web").ignore_sigterm();  // so that its termination lasts the grace period
  run();
  at(2s);
  ASSERT_EQ(manager_->worker_count(), 3u);
  prober_.set("live", F, "it would kill the container");
  workers_->remove(base::PodUid("u1"), 20s);
  clock_.settle();
  const base::PodUid uid("u1");
  EXPECT_EQ(manager_->worker(uid, "web", ProbeType::Liveness), nullptr);
  EXPECT_EQ(manager_->worker(uid, "web", ProbeType::Startup), nullptr);
  EXPECT_NE(manager_->worker(uid, "web", ProbeType::Readiness), nullptr);
  const size_t live = prober_.count("live"), ready = prober_.count("ready");
  at(12s);
  EXPECT_EQ(prober_.count("live"), live);  // no liveness attempt while it terminates
  EXPECT_GT(prober_.count("ready"), ready);
  EXPECT_FALSE(events_.has("Normal Killing: Container web failed liveness probe, will be restarted"));
  at(30s);  // SIGKILL at the end of the grace period; the pod is gone
  EXPECT_TRUE(workers_->is_finished(uid));
  EXPECT_EQ(manager_->worker_count(), 0u);
}

}  // namespace
}  // namespace podagent::probes
