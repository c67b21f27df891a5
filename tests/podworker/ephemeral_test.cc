// Ephemeral containers: the planner starts each once the pod runs and
// never again, the pod workers run them beside the app containers and kill
// them with the pod, and the status reports them in
// ephemeralContainerStatuses.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <memory>

#include "podworker/pod_actions.h"
#include "podworker/pod_status_builder.h"
#include "podworker/pod_workers.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::podworker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using runtime::ContainerState;
using runtime::FakeRuntime;
using runtime::Op;

model::Container named(std::string name) {
  model::Container c;
  c.name = std::move(name);
  c.image = "busybox:latest";
  return c;
}

model::Pod debug_pod(const std::string& policy, bool with_init) {
  model::Pod pod;
  pod.metadata.name = "web";
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "u1";
  pod.spec.restart_policy = policy;
  pod.spec.termination_grace_period_seconds = 30;
  if (with_init) pod.spec.init_containers.push_back(named("init"));
  pod.spec.containers.push_back(named("app"));
  return pod;
}

model::Pod with_debugger(model::Pod pod, const std::string& name = "debugger") {
  model::Container c = named(name);
  c.target_container_name = "app";
  c.command = {"sh", "-c", "echo hi"};
  pod.spec.ephemeral_containers.push_back(c);
  return pod;
}

// ---- The planner, pure ----

runtime::ContainerStatus instance(const std::string& name, ContainerState state, int32_t exit_code,
                                  runtime::ContainerKind kind = runtime::ContainerKind::App) {
  static int next = 1;
  runtime::ContainerStatus c;
  c.id = base::ContainerId("c" + std::to_string(next++));
  c.sandbox_id = base::SandboxId("sb1");
  c.pod_uid = base::PodUid("u1");
  c.name = name;
  c.kind = kind;
  c.state = state;
  c.exit_code = exit_code;
  return c;
}

struct Plan {
  model::Pod pod;
  PodSpecHashes hashes;
  ObservedPod observed;
  ProbeStates probes;
  base::Backoff backoff;

  explicit Plan(model::Pod p) : pod(std::move(p)), hashes(hash_pod_containers(pod)) {
    runtime::SandboxStatus s;
    s.id = base::SandboxId("sb1");
    s.pod_uid = base::PodUid("u1");
    observed.sandboxes.push_back(s);
  }
  Plan& with(runtime::ContainerStatus c) {
    for (size_t i = 0; i < pod.spec.containers.size(); ++i)
      if (pod.spec.containers[i].name == c.name) c.spec_hash = hashes.app[i];
    for (size_t i = 0; i < pod.spec.init_containers.size(); ++i)
      if (pod.spec.init_containers[i].name == c.name) c.spec_hash = hashes.init[i];
    for (size_t i = 0; i < pod.spec.ephemeral_containers.size(); ++i)
      if (pod.spec.ephemeral_containers[i].name == c.name) c.spec_hash = hashes.ephemeral[i];
    observed.containers.push_back(std::move(c));
    return *this;
  }
  PodActions actions() const {
    return compute_pod_actions(PlanInput{
        pod, hashes, observed, probes, {}, backoff, base::SteadyTime{} + 100s, std::nullopt});
  }
  PodActions termination() const {
    return compute_termination_actions(PlanInput{
        pod, hashes, observed, probes, {}, backoff, base::SteadyTime{} + 100s, std::nullopt});
  }
};

TEST(EphemeralPlanTest, WaitsForInitializationThenStartsOnce) {
  Plan initializing(with_debugger(debug_pod("Always", true)));
  initializing.with(instance("init", ContainerState::Running, 0, runtime::ContainerKind::Init));
  EXPECT_TRUE(initializing.actions().start.empty());

  Plan running(with_debugger(debug_pod("Always", true)));
  running.with(instance("init", ContainerState::Exited, 0, runtime::ContainerKind::Init))
      .with(instance("app", ContainerState::Running, 0));
  const PodActions a = running.actions();
  ASSERT_EQ(a.start.size(), 1u);
  EXPECT_EQ(a.start[0], (ContainerStart{runtime::ContainerKind::Ephemeral, 0, "debugger", 0}));
  EXPECT_EQ(&container_of(running.pod, a.start[0]), &running.pod.spec.ephemeral_containers[0]);
  EXPECT_EQ(hash_of(running.hashes, a.start[0]), running.hashes.ephemeral[0]);
  EXPECT_TRUE(a.kill.empty()) << "the running app container is left alone";
}

TEST(EphemeralPlanTest, RunningOneIsKeptAndAnExitedOneNeverRestarts) {
  for (int32_t code : {0, 1}) {
    Plan p(with_debugger(debug_pod("Always", false)));
    p.with(instance("app", ContainerState::Running, 0))
        .with(
            instance("debugger", ContainerState::Exited, code, runtime::ContainerKind::Ephemeral));
    const PodActions a = p.actions();
    EXPECT_TRUE(a.start.empty()) << "exit code " << code;
    EXPECT_TRUE(a.remove.empty()) << "its one exited instance stays for the status";
  }
  Plan p(with_debugger(debug_pod("Always", false)));
  p.with(instance("app", ContainerState::Running, 0))
      .with(instance("debugger", ContainerState::Running, 0, runtime::ContainerKind::Ephemeral));
  const PodActions a = p.actions();
  EXPECT_TRUE(a.start.empty());
  EXPECT_TRUE(a.kill.empty()) << "a running ephemeral container is in the spec, not killed";
}

TEST(EphemeralPlanTest, NotStartedInACompletedPod) {
  Plan p(with_debugger(debug_pod("Never", false)));
  p.with(instance("app", ContainerState::Exited, 0));
  const PodActions a = p.actions();
  EXPECT_EQ(a.outcome, PodOutcome::Completed);
  EXPECT_TRUE(a.start.empty());
}

TEST(EphemeralPlanTest, KilledWithThePod) {
  Plan p(with_debugger(debug_pod("Always", false)));
  p.with(instance("app", ContainerState::Running, 0))
      .with(instance("debugger", ContainerState::Running, 0, runtime::ContainerKind::Ephemeral));
  const PodActions a = p.termination();
  ASSERT_EQ(a.kill.size(), 2u);
  EXPECT_EQ(a.kill[1].name, "debugger");
  EXPECT_FALSE(a.all_stopped);
}

// ---- The pod workers with the fake runtime and clock ----

class EphemeralWorkersTest : public testing::Test {
 protected:
  EphemeralWorkersTest() {
    PodWorkers::Options options;
    workers_ = std::make_unique<PodWorkers>(rt_, clock_, io_.get_executor(), std::move(options));
    t0_ = clock_.now();
  }
  ~EphemeralWorkersTest() override {
    workers_->stop();
    clock_.settle();
  }
  void update(const model::Pod& pod) {
    workers_->update(pod);
    clock_.settle();
  }
  void at(base::Duration since_start) { clock_.advance_to(t0_ + since_start); }
  size_t creations(const std::string& name) const {
    size_t n = 0;
    for (const auto& c : rt_.calls()) n += c.op == Op::CreateContainer && c.ok && c.name == name;
    return n;
  }
  size_t running(const std::string& name) const {
    size_t n = 0;
    for (const auto& c : rt_.pod_state(base::PodUid("u1")).containers)
      n += c.name == name && c.state == ContainerState::Running;
    return n;
  }
  const model::ContainerStatus* ephemeral_status(const std::string& name) {
    status_ = workers_->status(base::PodUid("u1")).value_or(model::PodStatus{});
    for (const auto& c : status_.ephemeral_container_statuses)
      if (c.name == name) return &c;
    return nullptr;
  }

  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor()};
  std::unique_ptr<PodWorkers> workers_;
  base::SteadyTime t0_;
  model::PodStatus status_;
};

TEST_F(EphemeralWorkersTest, AddedToARunningPodStartsOnceAndIsNeverRestarted) {
  rt_.script("init").exit_after(500ms, 0);
  rt_.script("debugger").exit_after(2s, 1);
  update(debug_pod("Always", true));
  at(1s);
  ASSERT_EQ(running("app"), 1u);
  const size_t app_creations = creations("app");

  update(with_debugger(debug_pod("Always", true)));
  EXPECT_EQ(creations("debugger"), 1u);
  EXPECT_EQ(running("debugger"), 1u);
  EXPECT_EQ(creations("app"), app_creations) << "adding it restarts nothing";
  EXPECT_EQ(creations("init"), 1u);
  for (const auto& c : rt_.pod_state(base::PodUid("u1")).containers) {
    if (c.name == "debugger") {
      EXPECT_EQ(c.kind, runtime::ContainerKind::Ephemeral);
    }
  }
  const model::ContainerStatus* s = ephemeral_status("debugger");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->state.running.has_value());
  EXPECT_EQ(s->restart_count, 0);
  EXPECT_EQ(s->ready, false);
  EXPECT_EQ(s->image, "busybox:latest");
  EXPECT_TRUE(s->container_id.starts_with("podagent://")) << s->container_id;

  at(3s);  // it exits 1 under restartPolicy Always
  at(10min);
  EXPECT_EQ(creations("debugger"), 1u);
  EXPECT_EQ(running("debugger"), 0u);
  EXPECT_EQ(running("app"), 1u);
  s = ephemeral_status("debugger");
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->state.terminated.has_value());
  EXPECT_EQ(s->state.terminated->exit_code, 1);
  EXPECT_EQ(s->state.terminated->reason, "Error");
  EXPECT_FALSE(s->state.waiting.has_value()) << "no CrashLoopBackOff for an ephemeral container";
  EXPECT_EQ(status_.phase, model::kPhaseRunning);
  EXPECT_EQ(status_.container_statuses.size(), 1u);
}

TEST_F(EphemeralWorkersTest, KilledWithThePod) {
  update(with_debugger(debug_pod("Always", false)));
  at(1s);
  ASSERT_EQ(running("debugger"), 1u);
  ASSERT_EQ(running("app"), 1u);
  workers_->remove(base::PodUid("u1"), 0s);
  clock_.settle();
  at(2s);
  EXPECT_EQ(running("debugger"), 0u);
  EXPECT_EQ(running("app"), 0u);
  EXPECT_EQ(rt_.running_containers(), 0u);
}

TEST_F(EphemeralWorkersTest, ImageFailureIsReportedAndRetried) {
  rt_.remove_image("missing:1");
  model::Pod pod = with_debugger(debug_pod("Always", false));
  pod.spec.ephemeral_containers[0].image = "missing:1";
  pod.spec.ephemeral_containers[0].image_pull_policy = "Never";
  update(pod);
  at(1s);
  EXPECT_EQ(running("app"), 1u);
  const model::ContainerStatus* s = ephemeral_status("debugger");
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->state.waiting.has_value());
  EXPECT_EQ(s->state.waiting->reason, "ErrImageNeverPull");
  rt_.add_image("missing:1");
  workers_->sync_all();  // the periodic resync
  clock_.settle();
  EXPECT_EQ(running("debugger"), 1u);
  EXPECT_EQ(creations("debugger"), 1u);
}

}  // namespace
}  // namespace podagent::podworker