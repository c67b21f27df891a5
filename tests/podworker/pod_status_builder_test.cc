#include "podworker/pod_status_builder.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace podagent::podworker {
namespace {

using runtime::ContainerKind;
using std::chrono::seconds;

const model::WallTime kT0 = model::WallTime{} + seconds(1'700'000'000);
model::WallTime at(int s) { return kT0 + seconds(s); }

model::Container spec_container(const std::string& name, bool sidecar = false) {
  model::Container c;
  c.name = name;
  c.image = "busybox:" + name;
  if (sidecar) c.restart_policy = "Always";
  return c;
}

// A pod, what the runtime shows of it, and the status built from them; each
// build() feeds the result back as the next call's previous status.
struct World {
  model::Pod pod;
  model::PodStatus previous;
  std::vector<runtime::SandboxStatus> sandboxes;
  std::vector<runtime::ContainerStatus> containers;
  ProbeStates probes;
  CrashLoopBackOffs backoffs;
  WaitingReasons waiting;
  PodLifecycle lifecycle = PodLifecycle::Active;
  std::optional<PodFailure> failure;
  model::WallTime now = at(100);
  int next_id = 1;

  World(std::string policy, std::vector<std::string> apps, std::vector<std::string> inits = {},
        std::vector<std::string> sidecars_in_inits = {}) {
    pod.metadata.name = "web";
    pod.metadata.namespace_ = "default";
    pod.metadata.uid = "uid-1";
    pod.spec.restart_policy = std::move(policy);
    for (const auto& n : inits) {
      bool sidecar = std::find(sidecars_in_inits.begin(), sidecars_in_inits.end(), n) !=
                     sidecars_in_inits.end();
      pod.spec.init_containers.push_back(spec_container(n, sidecar));
    }
    for (const auto& n : apps) pod.spec.containers.push_back(spec_container(n));
  }

  void sandbox(const std::string& id, uint32_t attempt = 0, bool ready = true) {
    for (auto& s : sandboxes) s.state = runtime::SandboxState::NotReady;  // older ones died
    runtime::SandboxStatus s;
    s.id = base::SandboxId(id);
    s.attempt = attempt;
    s.state = ready ? runtime::SandboxState::Ready : runtime::SandboxState::NotReady;
    s.created_at = at(static_cast<int>(attempt));
    s.ips = {"10.88.0." + std::to_string(attempt + 5)};
    sandboxes.push_back(s);
  }

  runtime::ContainerStatus& add(const std::string& name, runtime::ContainerState state,
                                uint32_t attempt, int created, const std::string& sandbox_id) {
    runtime::ContainerStatus c;
    c.id = base::ContainerId("c" + std::to_string(next_id++));
    c.sandbox_id = base::SandboxId(sandbox_id);
    c.name = name;
    c.attempt = attempt;
    c.state = state;
    c.image = "busybox:" + name;
    c.image_id = "sha256:" + name;
    c.created_at = at(created);
    if (state != runtime::ContainerState::Created) c.started_at = at(created + 1);
    containers.push_back(c);
    return containers.back();
  }
  void running(const std::string& name, uint32_t attempt = 0, int created = 10,
               const std::string& sb = "sb1") {
    add(name, runtime::ContainerState::Running, attempt, created, sb);
  }
  void exited(const std::string& name, int32_t code, uint32_t attempt = 0, int created = 10,
              const std::string& sb = "sb1", const std::string& reason = "") {
    auto& c = add(name, runtime::ContainerState::Exited, attempt, created, sb);
    c.exit_code = code;
    c.reason = reason;
    c.finished_at = at(created + 5);
  }

  model::PodStatus build() {
    StatusInput in{.pod = pod,
                   .previous = previous,
                   .sandboxes = sandboxes,
                   .containers = containers,
                   .probes = &probes,
                   .backoffs = &backoffs,
                   .waiting = &waiting,
                   .lifecycle = lifecycle,
                   .failure = failure,
                   .host_ip = "192.168.1.10",
                   .now = now};
    previous = build_pod_status(in);
    return previous;
  }
};

const model::ContainerStatus& status_of(const model::PodStatus& s, const std::string& name) {
  for (const auto* list : {&s.init_container_statuses, &s.container_statuses})
    for (const auto& c : *list)
      if (c.name == name) return c;
  static model::ContainerStatus none;
  ADD_FAILURE() << "no status for " << name;
  return none;
}

const model::PodCondition& condition(const model::PodStatus& s, const std::string& type) {
  for (const auto& c : s.conditions)
    if (c.type == type) return c;
  static model::PodCondition none;
  ADD_FAILURE() << "no condition " << type;
  return none;
}

std::string waiting_reason(const model::ContainerStatus& c) {
  return c.state.waiting ? c.state.waiting->reason : "<not waiting>";
}

TEST(PodStatusContainers, NothingCreatedYet) {
  World w("Always", {"app"}, {"init"});
  auto s = w.build();
  EXPECT_EQ(s.phase, "Pending");
  EXPECT_EQ(waiting_reason(status_of(s, "init")), "PodInitializing");
  EXPECT_EQ(waiting_reason(status_of(s, "app")), "PodInitializing");
  EXPECT_EQ(status_of(s, "app").image, "busybox:app");
  EXPECT_EQ(status_of(s, "app").started, false);
  ASSERT_EQ(s.conditions.size(), 4u);
  EXPECT_EQ(s.conditions[0].type, "PodReadyToStartContainers");
  EXPECT_EQ(s.conditions[0].status, "False");
  EXPECT_EQ(s.conditions[1].type, "Initialized");
  EXPECT_EQ(s.conditions[1].message, "containers with incomplete status: [init]");
  EXPECT_EQ(s.conditions[1].reason, "ContainersNotInitialized");
  EXPECT_EQ(s.conditions[2].type, "ContainersReady");
  EXPECT_EQ(s.conditions[2].message, "containers with unready status: [app]");
  EXPECT_EQ(s.conditions[2].reason, "ContainersNotReady");
  EXPECT_EQ(s.conditions[3].type, "Ready");
  EXPECT_EQ(s.conditions[3].reason, "ContainersNotReady");
  EXPECT_EQ(s.start_time, at(100));
  EXPECT_EQ(s.qos_class, "BestEffort");
  EXPECT_TRUE(s.pod_ip.empty());
}

TEST(PodStatusContainers, WithoutInitContainersAppWaitsContainerCreating) {
  World w("Always", {"app"});
  w.sandbox("sb1");
  EXPECT_EQ(waiting_reason(status_of(w.build(), "app")), "ContainerCreating");
  // An instance not yet started is not reported.
  w.add("app", runtime::ContainerState::Created, 0, 10, "sb1");
  auto s = w.build();
  EXPECT_EQ(waiting_reason(status_of(s, "app")), "ContainerCreating");
  EXPECT_EQ(status_of(s, "app").container_id, "");
}

TEST(PodStatusContainers, AnAppPreparedDuringInitWaitsPodInitializing) {
  World w("Always", {"app"}, {"init"});
  w.sandbox("sb1");
  w.running("init");
  w.add("app", runtime::ContainerState::Created, 0, 10, "sb1");
  auto s = w.build();
  EXPECT_EQ(waiting_reason(status_of(s, "app")), "PodInitializing");
  EXPECT_EQ(status_of(s, "app").container_id, "");
  EXPECT_EQ(status_of(s, "app").restart_count, 0);
}

TEST(PodStatusContainers, RunningAppIsReadyAndStarted) {
  World w("Always", {"app"});
  w.sandbox("sb1");
  w.running("app");
  auto s = w.build();
  const auto& c = status_of(s, "app");
  ASSERT_TRUE(c.state.running);
  EXPECT_EQ(c.state.running->started_at, at(11));
  EXPECT_TRUE(c.ready);
  EXPECT_EQ(c.started, true);
  EXPECT_EQ(c.container_id, "podagent://c1");
  EXPECT_EQ(c.image_id, "sha256:app");
  EXPECT_EQ(s.phase, "Running");
  for (const auto& cond : s.conditions) EXPECT_EQ(cond.status, "True") << cond.type;
  EXPECT_EQ(s.pod_ip, "10.88.0.5");
  EXPECT_EQ(s.host_ip, "192.168.1.10");
}

TEST(PodStatusContainers, ProbesGateStartedAndReady) {
  World w("Always", {"app"});
  w.pod.spec.containers[0].startup_probe = model::Probe{};
  w.pod.spec.containers[0].readiness_probe = model::Probe{};
  w.sandbox("sb1");
  w.running("app");
  auto s = w.build();
  EXPECT_EQ(status_of(s, "app").started, false);
  EXPECT_FALSE(status_of(s, "app").ready);
  w.probes["app"] = ProbeState{true, false};
  s = w.build();
  EXPECT_EQ(status_of(s, "app").started, true);
  EXPECT_FALSE(status_of(s, "app").ready);
  w.probes["app"] = ProbeState{true, true};
  s = w.build();
  EXPECT_TRUE(status_of(s, "app").ready);
  EXPECT_EQ(condition(s, "Ready").status, "True");
}

struct ExitCase {
  int32_t code;
  const char* runtime_reason;
  const char* want;
};

TEST(PodStatusContainers, TerminatedReasons) {
  for (const ExitCase& tc :
       {ExitCase{0, "", "Completed"}, ExitCase{1, "", "Error"},
        ExitCase{137, "OOMKilled", "OOMKilled"}, ExitCase{128, "StartError", "StartError"}}) {
    World w("Never", {"app"});
    w.sandbox("sb1");
    w.exited("app", tc.code, 0, 10, "sb1", tc.runtime_reason);
    auto s = w.build();
    const auto& c = status_of(s, "app");
    ASSERT_TRUE(c.state.terminated) << tc.want;
    EXPECT_EQ(c.state.terminated->reason, tc.want);
    EXPECT_EQ(c.state.terminated->exit_code, tc.code);
    EXPECT_EQ(c.state.terminated->started_at, at(11));
    EXPECT_EQ(c.state.terminated->finished_at, at(15));
    EXPECT_EQ(c.state.terminated->container_id, "podagent://c1");
    EXPECT_FALSE(c.ready);
  }
}

TEST(PodStatusContainers, CrashLoopBackOffWaitsWithLastState) {
  World w("Always", {"app"});
  w.sandbox("sb1");
  w.exited("app", 1, 0, 10);
  w.exited("app", 2, 1, 20);
  w.backoffs["app"] = CrashLoopBackOff{at(45), seconds(20)};
  auto s = w.build();
  const auto& c = status_of(s, "app");
  ASSERT_TRUE(c.state.waiting);
  EXPECT_EQ(c.state.waiting->reason, "CrashLoopBackOff");
  EXPECT_EQ(c.state.waiting->message,
            "back-off 20s restarting failed container=app pod=web_default(uid-1)");
  ASSERT_TRUE(c.last_state.terminated);
  EXPECT_EQ(c.last_state.terminated->exit_code, 2);
  EXPECT_EQ(c.last_state.terminated->container_id, "podagent://c2");
  EXPECT_EQ(c.restart_count, 1);
  EXPECT_EQ(c.next_restart_at, at(45));
  EXPECT_EQ(s.phase, "Running");
}

TEST(PodStatusContainers, NoBackOffDisplayWhenTheContainerWillNotRestart) {
  for (const char* policy : {"Never", "OnFailure"}) {
    World w(policy, {"app"});
    w.sandbox("sb1");
    w.exited("app", std::string(policy) == "Never" ? 1 : 0);
    w.backoffs["app"] = CrashLoopBackOff{at(45), seconds(10)};
    auto s = w.build();
    EXPECT_TRUE(status_of(s, "app").state.terminated) << policy;
    EXPECT_FALSE(status_of(s, "app").next_restart_at) << policy;
  }
  World w("Always", {"app"});  // a terminating pod restarts nothing
  w.sandbox("sb1");
  w.exited("app", 1);
  w.backoffs["app"] = CrashLoopBackOff{at(45), seconds(10)};
  w.lifecycle = PodLifecycle::Terminating;
  EXPECT_TRUE(status_of(w.build(), "app").state.terminated);
}

TEST(PodStatusContainers, WaitingReasonFromFailedStart) {
  World w("Always", {"app"});
  w.sandbox("sb1");
  w.waiting["app"] = WaitingReason{"ErrImagePull", "pull failed"};
  auto s = w.build();
  EXPECT_EQ(waiting_reason(status_of(s, "app")), "ErrImagePull");
  EXPECT_EQ(status_of(s, "app").state.waiting->message, "pull failed");
  EXPECT_EQ(s.phase, "Pending");
}

TEST(PodStatusContainers, LastStateFromOlderInstanceWhileRunning) {
  World w("Always", {"app"});
  w.sandbox("sb1");
  w.exited("app", 3, 0, 10);
  w.running("app", 1, 30);
  auto s = w.build();
  const auto& c = status_of(s, "app");
  EXPECT_TRUE(c.state.running);
  EXPECT_EQ(c.restart_count, 1);
  ASSERT_TRUE(c.last_state.terminated);
  EXPECT_EQ(c.last_state.terminated->exit_code, 3);
}

TEST(PodStatusContainers, LastStateKeptWhenOlderInstanceIsRemoved) {
  World w("Always", {"app"});
  w.sandbox("sb1");
  w.exited("app", 3, 0, 10);
  w.backoffs["app"] = CrashLoopBackOff{at(25), seconds(10)};
  w.build();
  w.backoffs.clear();
  w.containers.clear();  // the planner removed the exited instance
  w.running("app", 1, 30);
  auto s = w.build();
  ASSERT_TRUE(status_of(s, "app").last_state.terminated);
  EXPECT_EQ(status_of(s, "app").last_state.terminated->exit_code, 3);
  EXPECT_EQ(status_of(s, "app").termination_history.size(), 1u);
  s = w.build();  // and on the next call too
  ASSERT_TRUE(status_of(s, "app").last_state.terminated);
}

TEST(PodStatusContainers, TerminationHistoryKeepsTheLastTwenty) {
  World w("Always", {"app"});
  w.sandbox("sb1");
  for (int i = 0; i < 25; ++i) {
    w.containers.clear();  // only the newest instance is ever observed
    w.exited("app", i, static_cast<uint32_t>(i), 10 * i);
    w.build();
    w.build();  // seeing the same termination again adds nothing
  }
  const auto& history = status_of(w.previous, "app").termination_history;
  ASSERT_EQ(history.size(), 20u);
  EXPECT_EQ(history.front().exit_code, 5);
  EXPECT_EQ(history.back().exit_code, 24);
  EXPECT_EQ(history.back().finished_at, at(245));
  EXPECT_EQ(history.back().reason, "Error");
}

TEST(PodStatusContainers, AppStatusesSortedByNameInitInSpecOrder) {
  World w("Always", {"zeta", "alpha"}, {"second", "first"});
  auto s = w.build();
  ASSERT_EQ(s.container_statuses.size(), 2u);
  EXPECT_EQ(s.container_statuses[0].name, "alpha");
  EXPECT_EQ(s.init_container_statuses[0].name, "second");
}

TEST(PodStatusContainers, NewSandboxRunsInitAgain) {
  World w("Always", {"app"}, {"init"});
  w.sandbox("sb1", 0);
  w.exited("init", 0, 0, 10, "sb1");
  w.exited("app", 137, 0, 20, "sb1");
  w.sandbox("sb2", 1);  // sb1 died; nothing started in sb2 yet
  auto s = w.build();
  const auto& init = status_of(s, "init");
  EXPECT_EQ(waiting_reason(init), "PodInitializing");
  ASSERT_TRUE(init.last_state.terminated);
  EXPECT_EQ(waiting_reason(status_of(s, "app")), "PodInitializing");
  EXPECT_EQ(s.phase, "Pending");
  EXPECT_EQ(condition(s, "Initialized").status, "False");
  EXPECT_EQ(condition(s, "PodReadyToStartContainers").status, "True");
  EXPECT_EQ(s.pod_ip, "10.88.0.6");
  w.exited("init", 0, 1, 30, "sb2");
  s = w.build();
  EXPECT_EQ(condition(s, "Initialized").status, "True");
  EXPECT_EQ(waiting_reason(status_of(s, "app")), "ContainerCreating");
}

// ---- phase ----

struct PhaseCase {
  const char* name;
  const char* policy;
  std::vector<std::pair<const char*, int>> apps;  // exit code, or -1: running
  const char* want;
};

// gtest prints the case by its name, not as raw bytes.
void PrintTo(const PhaseCase& c, std::ostream* os) { *os << c.name; }

class PodStatusPhaseTest : public ::testing::TestWithParam<PhaseCase> {};

TEST_P(PodStatusPhaseTest, AppOutcomes) {
  const PhaseCase& tc = GetParam();
  std::vector<std::string> names;
  for (const auto& [n, code] : tc.apps) names.push_back(n);
  World w(tc.policy, names);
  w.sandbox("sb1");
  for (const auto& [n, code] : tc.apps) {
    if (code < 0) {
      w.running(n);
    } else {
      w.exited(n, code);
    }
  }
  EXPECT_EQ(w.build().phase, tc.want);
}

INSTANTIATE_TEST_SUITE_P(
    PodStatusPhase, PodStatusPhaseTest,
    ::testing::Values(PhaseCase{"AlwaysRunning", "Always", {{"a", -1}, {"b", 0}}, "Running"},
                      PhaseCase{"AlwaysAllSucceeded", "Always", {{"a", 0}, {"b", 0}}, "Running"},
                      PhaseCase{"AlwaysAllFailed", "Always", {{"a", 1}}, "Running"},
                      PhaseCase{
                          "OnFailureAllSucceeded", "OnFailure", {{"a", 0}, {"b", 0}}, "Succeeded"},
                      PhaseCase{"OnFailureOneFailed", "OnFailure", {{"a", 0}, {"b", 1}}, "Running"},
                      PhaseCase{"OnFailureRunning", "OnFailure", {{"a", -1}, {"b", 0}}, "Running"},
                      PhaseCase{"NeverAllSucceeded", "Never", {{"a", 0}, {"b", 0}}, "Succeeded"},
                      PhaseCase{"NeverOneFailed", "Never", {{"a", 0}, {"b", 2}}, "Failed"},
                      PhaseCase{"NeverOneRunning", "Never", {{"a", -1}, {"b", 2}}, "Running"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(PodStatusPhase, InitContainerRunningIsPending) {
  World w("Always", {"app"}, {"init"});
  w.sandbox("sb1");
  w.running("init");
  EXPECT_EQ(w.build().phase, "Pending");
}

TEST(PodStatusPhase, InitFailureUnderNeverFailsThePod) {
  World w("Never", {"app"}, {"init"});
  w.sandbox("sb1");
  w.exited("init", 1);
  auto s = w.build();
  EXPECT_EQ(s.phase, "Failed");
  EXPECT_EQ(condition(s, "ContainersReady").reason, "PodFailed");
  EXPECT_EQ(condition(s, "Ready").reason, "PodFailed");
  EXPECT_EQ(condition(s, "Initialized").status, "False");
}

TEST(PodStatusPhase, InitFailureUnderOnFailureIsPendingInBackOff) {
  World w("OnFailure", {"app"}, {"init"});
  w.sandbox("sb1");
  w.exited("init", 1);
  w.backoffs["init"] = CrashLoopBackOff{at(30), seconds(10)};
  auto s = w.build();
  EXPECT_EQ(s.phase, "Pending");
  EXPECT_EQ(waiting_reason(status_of(s, "init")), "CrashLoopBackOff");
  EXPECT_EQ(status_of(s, "init").state.waiting->message,
            "back-off 10s restarting failed container=init pod=web_default(uid-1)");
}

TEST(PodStatusPhase, SidecarNotStartedKeepsThePodPending) {
  World w("Always", {"app"}, {"side"}, {"side"});
  w.pod.spec.init_containers[0].startup_probe = model::Probe{};
  w.sandbox("sb1");
  w.running("side");
  auto s = w.build();
  EXPECT_EQ(s.phase, "Pending");
  EXPECT_EQ(condition(s, "Initialized").message, "containers with incomplete status: [side]");
  EXPECT_EQ(waiting_reason(status_of(s, "app")), "PodInitializing");
  w.probes["side"] = ProbeState{true, true};
  s = w.build();
  EXPECT_EQ(condition(s, "Initialized").status, "True");
  EXPECT_EQ(waiting_reason(status_of(s, "app")), "ContainerCreating");
  EXPECT_EQ(s.phase, "Pending");  // the app container still waits
}

TEST(PodStatusPhase, SidecarDoesNotCountAsAppContainer) {
  World w("Never", {"app"}, {"side"}, {"side"});
  w.sandbox("sb1");
  w.running("side");
  w.exited("app", 0);
  auto s = w.build();
  EXPECT_EQ(s.phase, "Running");  // the sidecar is still being stopped
  EXPECT_EQ(condition(s, "ContainersReady").message, "containers with unready status: [app]");
  w.containers.clear();
  w.exited("side", 137);  // stopped after the app: ignored
  w.exited("app", 0);
  s = w.build();
  EXPECT_EQ(s.phase, "Succeeded");
  EXPECT_EQ(condition(s, "Initialized").reason, "PodCompleted");
  EXPECT_EQ(condition(s, "ContainersReady").reason, "PodCompleted");
  EXPECT_EQ(condition(s, "Ready").status, "False");
}

TEST(PodStatusPhase, CrashingSidecarDoesNotUndoInitialization) {
  World w("Always", {"app"}, {"side"}, {"side"});
  w.sandbox("sb1");
  w.exited("side", 1, 0, 5);
  w.running("app");
  w.backoffs["side"] = CrashLoopBackOff{at(30), seconds(10)};
  auto s = w.build();
  EXPECT_EQ(s.phase, "Running");
  EXPECT_EQ(condition(s, "Initialized").status, "True");
  EXPECT_EQ(condition(s, "ContainersReady").message, "containers with unready status: [side]");
}

TEST(PodStatusPhase, TerminalPhaseNeverChanges) {
  World w("Never", {"app"});
  w.sandbox("sb1");
  w.exited("app", 0);
  EXPECT_EQ(w.build().phase, "Succeeded");
  w.containers.clear();
  w.running("app", 1, 50);  // whatever appears later
  EXPECT_EQ(w.build().phase, "Succeeded");
}

TEST(PodStatusPhase, AnEvictedPodStaysFailedWhenItsContainerThenExitsZero) {
  World w("Always", {"app"});
  w.sandbox("sb1");
  w.running("app");
  w.failure = PodFailure{"Evicted", "Usage of EmptyDir volume \"s\" exceeds the limit \"1Mi\"."};
  w.lifecycle = PodLifecycle::Terminating;
  EXPECT_EQ(w.build().phase, "Failed");
  // Its shell traps SIGTERM and exits 0.
  w.sandboxes.clear();
  w.sandbox("sb1", 0, false);
  w.containers.clear();
  w.exited("app", 0);
  w.lifecycle = PodLifecycle::Terminated;
  const auto s = w.build();
  EXPECT_EQ(s.phase, "Failed");
  EXPECT_EQ(s.reason, "Evicted");
  EXPECT_EQ(s.message, "Usage of EmptyDir volume \"s\" exceeds the limit \"1Mi\".");
}

TEST(PodStatusPhase, TerminatedPodBecomesTerminal) {
  World w("Always", {"a", "b"});
  w.sandbox("sb1", 0, false);
  w.exited("a", 0);
  w.exited("b", 0);
  w.lifecycle = PodLifecycle::Terminating;
  EXPECT_EQ(w.build().phase, "Running");  // keeps its phase while terminating
  w.lifecycle = PodLifecycle::Terminated;
  EXPECT_EQ(w.build().phase, "Succeeded");

  World f("Always", {"a", "b"});
  f.sandbox("sb1", 0, false);
  f.exited("a", 0);
  f.exited("b", 137);
  f.lifecycle = PodLifecycle::Terminated;
  EXPECT_EQ(f.build().phase, "Failed");

  World p("Always", {"a"});  // deleted before anything ran
  p.lifecycle = PodLifecycle::Terminated;
  EXPECT_EQ(p.build().phase, "Failed");

  World u("Always", {"a", "b"});  // b never ran although a did
  u.sandbox("sb1", 0, false);
  u.exited("a", 0);
  u.lifecycle = PodLifecycle::Terminated;
  auto s = u.build();
  EXPECT_EQ(s.phase, "Failed");
  EXPECT_EQ(status_of(s, "b").state.terminated->reason, "ContainerStatusUnknown");
  EXPECT_EQ(status_of(s, "b").state.terminated->exit_code, 137);
}

TEST(PodStatusPhase, DeadlineExceededFailsWithReason) {
  World w("Always", {"app"});
  w.sandbox("sb1");
  w.running("app");
  EXPECT_EQ(w.build().phase, "Running");
  w.failure = deadline_exceeded_failure();
  w.lifecycle = PodLifecycle::Terminating;
  auto s = w.build();
  EXPECT_EQ(s.phase, "Failed");
  EXPECT_EQ(s.reason, "DeadlineExceeded");
  EXPECT_EQ(s.message, "Pod was active on the node longer than the specified deadline");
  w.failure.reset();  // the reason stays with the phase
  s = w.build();
  EXPECT_EQ(s.phase, "Failed");
  EXPECT_EQ(s.reason, "DeadlineExceeded");
}

TEST(PodStatusPhase, RejectedPodIsFailedWithNothingElse) {
  World w("Always", {"app"});
  w.lifecycle = PodLifecycle::Rejected;
  w.failure = rejection_failure(
      "OutOfcpu",
      "Node didn't have enough resource: cpu, requested: 2000, used: 1500, capacity: 3000");
  auto s = w.build();
  EXPECT_EQ(s.phase, "Failed");
  EXPECT_EQ(s.reason, "OutOfcpu");
  EXPECT_EQ(s.message,
            "Pod was rejected: Node didn't have enough resource: cpu, requested: 2000, used: "
            "1500, capacity: 3000");
  EXPECT_TRUE(s.container_statuses.empty());
  EXPECT_TRUE(s.conditions.empty());
  EXPECT_EQ(s.qos_class, "BestEffort");
  EXPECT_EQ(s.start_time, at(100));
}

// ---- conditions ----

TEST(PodStatusConditions, TransitionTimeKeptWhileStatusUnchanged) {
  World w("Always", {"app"});
  w.now = at(100);
  w.build();
  w.sandbox("sb1");
  w.now = at(200);
  auto s = w.build();
  EXPECT_EQ(condition(s, "PodReadyToStartContainers").last_transition_time, at(200));
  EXPECT_EQ(condition(s, "Initialized").last_transition_time, at(100));  // True all along
  EXPECT_EQ(condition(s, "ContainersReady").last_transition_time, at(100));
  w.running("app");
  w.now = at(300);
  s = w.build();
  EXPECT_EQ(condition(s, "PodReadyToStartContainers").last_transition_time, at(200));
  EXPECT_EQ(condition(s, "ContainersReady").last_transition_time, at(300));
  EXPECT_EQ(condition(s, "Ready").last_transition_time, at(300));
  w.now = at(400);
  s = w.build();
  EXPECT_EQ(condition(s, "Ready").last_transition_time, at(300));
  EXPECT_EQ(s.start_time, at(100));
}

TEST(PodStatusConditions, UnreadyListsSidecarsThenAppsInSpecOrder) {
  World w("Always", {"b", "a"}, {"init", "side"}, {"side"});
  w.sandbox("sb1");
  auto s = w.build();
  EXPECT_EQ(condition(s, "Initialized").message, "containers with incomplete status: [init side]");
  EXPECT_EQ(condition(s, "ContainersReady").message, "containers with unready status: [side b a]");
}

TEST(PodStatusConditions, ReadinessGates) {
  World w("Always", {"app"});
  w.pod.spec.readiness_gates = {{"example.com/lb"}, {"example.com/dns"}};
  w.sandbox("sb1");
  w.running("app");
  auto s = w.build();
  EXPECT_EQ(condition(s, "ContainersReady").status, "True");
  EXPECT_EQ(condition(s, "Ready").status, "False");
  EXPECT_EQ(condition(s, "Ready").reason, "ReadinessGatesNotReady");
  EXPECT_EQ(condition(s, "Ready").message,
            "corresponding condition of pod readiness gate \"example.com/lb\" does not exist., "
            "corresponding condition of pod readiness gate \"example.com/dns\" does not exist.");
  w.pod.status.conditions = {{"example.com/lb", "True", {}, {}, "", ""},
                             {"example.com/dns", "False", {}, {}, "", ""}};
  s = w.build();
  EXPECT_EQ(condition(s, "Ready").message,
            "the status of pod readiness gate \"example.com/dns\" is not \"True\", but False");
  EXPECT_EQ(s.conditions.front().type, "example.com/lb");  // kept, before the kubelet's own
  w.pod.status.conditions[1].status = "True";
  s = w.build();
  EXPECT_EQ(condition(s, "Ready").status, "True");
  EXPECT_EQ(s.conditions.size(), 6u);
}

}  // namespace
}  // namespace podagent::podworker
