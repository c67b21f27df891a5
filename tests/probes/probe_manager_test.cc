#include "probes/probe_manager.h"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <set>
#include <tuple>
#include <vector>

#include "fake_prober.h"

namespace podagent::probes {
namespace {

using namespace std::chrono_literals;
using runtime::ContainerKind;
using runtime::ContainerState;
using testing::exec_probe;
using testing::FakeProber;
constexpr auto S = ProbeResult::Success;
constexpr auto F = ProbeResult::Failure;

struct Kill {
  std::string uid;
  std::string id;
  std::string message;
  std::optional<base::Duration> grace;
  bool operator==(const Kill&) const = default;
};

struct Event {
  std::string uid, type, reason, field_path, message;
  bool operator==(const Event&) const = default;
};

class Recorder final : public base::EventRecorder {
 public:
  void record(const base::PodUid& pod, std::string_view type, std::string_view reason,
              std::string_view field_path, std::string message) override {
    events.push_back({pod.str(), std::string(type), std::string(reason), std::string(field_path), message});
  }
  std::vector<Event> events;
};

model::Container container(const std::string& name) {
  model::Container c;
  c.name = name;
  c.image = "busybox";
  return c;
}

class ProbeManagerTest : public ::testing::Test {
 protected:
  ProbeManagerTest() {
    pod_.metadata.uid = "u1";
    pod_.metadata.name = "p";
    pod_.metadata.namespace_ = "default";
    observed_.sandboxes.push_back({});
    observed_.sandboxes[0].id = base::SandboxId("sb1");
    observed_.sandboxes[0].ips = {"10.88.0.1"};
  }
  void TearDown() override {
    if (manager_) manager_->stop();
    clock_.settle();
  }

  void make(ProbeManager::Options o = {}) {
    o.on_state = [this](const base::PodUid& uid, const std::string& name, const ProbeState& s) {
      states_.push_back({uid.str() + "/" + name, s});
    };
    o.on_kill = [this](const base::PodUid& uid, const base::ContainerId& id, std::string message,
                       std::optional<base::Duration> grace) {
      kills_.push_back({uid.str(), id.str(), std::move(message), grace});
    };
    o.events = &recorder_;
    if (!o.observe) {
      o.observe = [this](ProbeType t, ProbeResult r, base::Duration d) { observed_calls_.emplace_back(t, r, d); };
    }
    if (!o.jitter) o.jitter = [](base::Duration) { return base::Duration::zero(); };
    manager_ = std::make_unique<ProbeManager>(prober_, clock_, io_.get_executor(), std::move(o));
    t0_ = clock_.now();
  }
  // `name` runs as instance `id` (of `attempt`), started `age` ago.
  void running(const std::string& name, const std::string& id, uint32_t attempt = 0,
               ContainerKind kind = ContainerKind::App, base::Duration age = 0s) {
    runtime::ContainerStatus c;
    c.id = base::ContainerId(id);
    c.sandbox_id = base::SandboxId("sb1");
    c.pod_uid = base::PodUid("u1");
    c.name = name;
    c.kind = kind;
    c.attempt = attempt;
    c.state = ContainerState::Running;
    c.started_at = clock_.wall_now() - std::chrono::duration_cast<model::WallTime::duration>(age);
    observed_.containers.push_back(c);
  }
  void exited(const std::string& id) {
    for (auto& c : observed_.containers)
      if (c.id.str() == id) c.state = ContainerState::Exited;
  }
  void update() {
    manager_->update(pod_, observed_);
    clock_.settle();
  }
  void at(base::Duration since_start) { clock_.advance_to(t0_ + since_start); }
  std::optional<ProbeState> last_state(const std::string& name) const {
    for (auto it = states_.rbegin(); it != states_.rend(); ++it)
      if (it->first == "u1/" + name) return it->second;
    return std::nullopt;
  }
  std::vector<base::Duration> call_times(const std::string& name) const {
    std::vector<base::Duration> out;
    for (const auto& c : prober_.calls())
      if (c.name == name) out.push_back(c.at - t0_);
    return out;
  }

  boost::asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeProber prober_{clock_};
  Recorder recorder_;
  std::unique_ptr<ProbeManager> manager_;
  model::Pod pod_;
  runtime::PodRuntimeState observed_;
  std::vector<std::pair<std::string, ProbeState>> states_;
  std::vector<Kill> kills_;
  std::vector<std::tuple<ProbeType, ProbeResult, base::Duration>> observed_calls_;
  base::SteadyTime t0_;
};

TEST_F(ProbeManagerTest, APodWithoutProbesCostsNothing) {
  make();
  pod_.spec.containers.push_back(container("web"));
  running("web", "c1");
  update();
  EXPECT_EQ(manager_->worker_count(), 0u);
  EXPECT_TRUE(states_.empty());
  at(100s);
  EXPECT_TRUE(prober_.calls().empty());
}

TEST_F(ProbeManagerTest, ProbesRunningSidecarsAndAppsOnly) {
  make();
  auto init = container("init");
  init.readiness_probe = exec_probe("init-ready");  // refused by validation; never probed anyway
  auto side = container("side");
  side.restart_policy = "Always";
  side.readiness_probe = exec_probe("side-ready");
  auto web = container("web");
  web.liveness_probe = exec_probe("web-live");
  web.readiness_probe = exec_probe("web-ready");
  auto idle = container("idle");
  idle.liveness_probe = exec_probe("idle-live");
  pod_.spec.init_containers = {init, side};
  pod_.spec.containers = {web, idle};
  running("init", "c0", 0, ContainerKind::Init);
  running("side", "c1", 0, ContainerKind::Sidecar);
  running("web", "c2");
  update();  // "idle" does not run yet
  EXPECT_EQ(manager_->worker_count(base::PodUid("u1")), 3u);
  EXPECT_NE(manager_->worker(base::PodUid("u1"), "web", ProbeType::Liveness), nullptr);
  EXPECT_EQ(manager_->worker(base::PodUid("u1"), "init", ProbeType::Readiness), nullptr);
  EXPECT_EQ(prober_.count("side-ready"), 1u);
  EXPECT_EQ(prober_.count("web-live"), 1u);
  EXPECT_EQ(prober_.count("init-ready"), 0u);
  EXPECT_EQ(prober_.count("idle-live"), 0u);
  EXPECT_EQ(prober_.calls()[0].pod_ip, "10.88.0.1");
}

TEST_F(ProbeManagerTest, ANewInstanceStartsNotStartedAndNotReady) {
  make();
  auto web = container("web");
  web.startup_probe = exec_probe("start");
  web.readiness_probe = exec_probe("ready");
  pod_.spec.containers = {web};
  prober_.set("start", F);
  running("web", "c1");
  update();
  EXPECT_EQ(last_state("web"), (ProbeState{false, false}));
}

TEST_F(ProbeManagerTest, ReadinessDrivesReady) {
  make();
  auto web = container("web");
  web.readiness_probe = exec_probe("ready", 10, 1, 2);
  pod_.spec.containers = {web};
  prober_.push("ready", F);
  prober_.push("ready", S);
  prober_.push("ready", F);
  prober_.push("ready", F);
  running("web", "c1");
  update();
  EXPECT_EQ(last_state("web"), (ProbeState{std::nullopt, false}));
  at(10s);
  EXPECT_EQ(last_state("web"), (ProbeState{std::nullopt, true}));
  at(20s);
  EXPECT_EQ(last_state("web"), (ProbeState{std::nullopt, true}));  // one failure of two
  at(30s);
  EXPECT_EQ(last_state("web"), (ProbeState{std::nullopt, false}));
  EXPECT_TRUE(kills_.empty());  // readiness never kills
}

TEST_F(ProbeManagerTest, StartupHoldsBackLivenessAndReadinessThenHandsOver) {
  make();
  auto web = container("web");
  web.startup_probe = exec_probe("start", 5, 1, 10);
  web.liveness_probe = exec_probe("live", 10);
  web.readiness_probe = exec_probe("ready", 10);
  pod_.spec.containers = {web};
  prober_.push("start", F);
  prober_.push("start", F);
  prober_.push("start", S);
  running("web", "c1");
  update();
  at(9s);
  EXPECT_EQ(prober_.count("live"), 0u);
  EXPECT_EQ(prober_.count("ready"), 0u);
  EXPECT_EQ(last_state("web"), (ProbeState{false, false}));
  at(10s);  // the third startup attempt succeeds; the others tick at 10 s too
  EXPECT_EQ(call_times("start"), (std::vector<base::Duration>{0s, 5s, 10s}));
  EXPECT_EQ(last_state("web"), (ProbeState{true, true}));
  at(60s);
  EXPECT_EQ(prober_.count("start"), 3u);  // started: no more startup probes
  EXPECT_GE(prober_.count("live"), 5u);
  EXPECT_TRUE(manager_->worker(base::PodUid("u1"), "web", ProbeType::Startup)->done());
}

TEST_F(ProbeManagerTest, StartupFailureKillsWithTheProbesGrace) {
  make();
  auto web = container("web");
  web.startup_probe = exec_probe("start", 5, 1, 2);
  web.startup_probe->termination_grace_period_seconds = 7;
  web.liveness_probe = exec_probe("live", 5);
  pod_.spec.containers = {web};
  prober_.set("start", F, "exit status 1");
  running("web", "c1");
  update();
  at(5s);
  EXPECT_EQ(kills_, (std::vector<Kill>{{"u1", "c1", "Container web failed startup probe, will be restarted", 7s}}));
  at(60s);
  EXPECT_EQ(kills_.size(), 1u);
  EXPECT_EQ(prober_.count("live"), 0u);  // never started
  EXPECT_EQ(recorder_.events.size(), 2u);
  EXPECT_EQ(recorder_.events[0], (Event{"u1", "Warning", "Unhealthy", "spec.containers{web}",
                                        "Startup probe failed: exit status 1"}));
}

TEST_F(ProbeManagerTest, LivenessFailureKillsOnceAndHoldsUntilTheInstanceChanges) {
  make();
  auto web = container("web");
  web.liveness_probe = exec_probe("live", 10, 1, 3);
  web.readiness_probe = exec_probe("ready", 10, 1, 3);
  pod_.spec.containers = {web};
  prober_.set("live", F, "HTTP probe failed with statuscode: 500");
  running("web", "c1");
  update();
  at(20s);
  ASSERT_EQ(kills_, (std::vector<Kill>{{"u1", "c1", "Container web failed liveness probe, will be restarted",
                                        std::nullopt}}));
  at(100s);
  EXPECT_EQ(kills_.size(), 1u);
  EXPECT_EQ(prober_.count("live"), 3u);  // held
  update();                               // the same instance: still held
  at(120s);
  EXPECT_EQ(prober_.count("live"), 3u);
  // Killed and restarted: the new instance is probed, from the start.
  exited("c1");
  running("web", "c2", 1);
  prober_.set("live", S);
  const size_t states_before = states_.size();
  update();
  EXPECT_EQ(prober_.count("live"), 4u);
  EXPECT_EQ(prober_.calls().back().container_id, base::ContainerId("c2"));
  ASSERT_GT(states_.size(), states_before);
  EXPECT_EQ(last_state("web"), (ProbeState{std::nullopt, true}));  // c2's first readiness attempt succeeded
  EXPECT_EQ(recorder_.events.front().message, "Liveness probe failed: HTTP probe failed with statuscode: 500");
  EXPECT_EQ(kills_.size(), 1u);
}

TEST_F(ProbeManagerTest, ProbingStopsWhenTheContainerStops) {
  make();
  auto web = container("web");
  web.readiness_probe = exec_probe("ready", 10);
  pod_.spec.containers = {web};
  running("web", "c1");
  update();
  at(10s);
  EXPECT_EQ(last_state("web"), (ProbeState{std::nullopt, true}));
  exited("c1");
  update();
  EXPECT_EQ(manager_->worker_count(), 0u);
  EXPECT_EQ(last_state("web"), (ProbeState{std::nullopt, false}));
  const size_t reports = states_.size();
  update();  // still stopped: nothing new
  EXPECT_EQ(states_.size(), reports);
  at(100s);
  EXPECT_EQ(prober_.count("ready"), 2u);
}

TEST_F(ProbeManagerTest, TheInitialDelayCountsFromTheContainersStart) {
  make();
  auto web = container("web");
  web.liveness_probe = exec_probe("live", 10, 1, 3, /*initial_delay=*/25);
  pod_.spec.containers = {web};
  running("web", "c1", 0, ContainerKind::App, /*age=*/20s);  // e.g. adopted after an agent restart
  update();
  at(9s);
  EXPECT_TRUE(prober_.calls().empty());  // 20 s old at 0 s: not yet
  at(10s);
  EXPECT_EQ(call_times("live"), (std::vector<base::Duration>{10s}));
}

TEST_F(ProbeManagerTest, TheJitterGetsThePeriodAndDelaysTheFirstRun) {
  std::vector<base::Duration> asked;
  ProbeManager::Options o;
  o.jitter = [&](base::Duration period) {
    asked.push_back(period);
    return 4s;
  };
  make(o);
  auto web = container("web");
  web.readiness_probe = exec_probe("ready", 7);
  pod_.spec.containers = {web};
  running("web", "c1");
  update();
  EXPECT_EQ(asked, (std::vector<base::Duration>{7s}));
  at(18s);
  EXPECT_EQ(call_times("ready"), (std::vector<base::Duration>{4s, 11s, 18s}));
}

TEST_F(ProbeManagerTest, TheDefaultJitterSpreadsFirstRunsOverThePeriod) {
  ProbeManager::Options o;
  o.jitter = nullptr;
  make(o);
  manager_.reset();  // make() set a zero jitter; build it again with none
  o.on_state = nullptr;
  manager_ = std::make_unique<ProbeManager>(prober_, clock_, io_.get_executor(), o);
  for (int i = 0; i < 200; ++i) {
    auto c = container("c" + std::to_string(i));
    c.readiness_probe = exec_probe("ready", 10);
    pod_.spec.containers.push_back(c);
    running(c.name, "id" + std::to_string(i));
  }
  update();
  at(10s - 1ns);  // the last instant of the first period: a first delay is in [0, 10 s)
  EXPECT_EQ(prober_.count("ready"), 200u);  // each once within the first period
  std::set<int64_t> seconds;
  for (auto t : call_times("ready")) seconds.insert(std::chrono::duration_cast<std::chrono::seconds>(t).count());
  EXPECT_EQ(seconds.size(), 10u);  // in every second of it (all in one would be a thundering herd)
}

TEST_F(ProbeManagerTest, EventsNameTheSidecarsFieldAndObserveSeesEveryAttempt) {
  make();
  auto side = container("side");
  side.restart_policy = "Always";
  side.readiness_probe = exec_probe("ready", 10);
  pod_.spec.init_containers = {side};
  prober_.takes(300ms);
  prober_.push("ready", F, "dial tcp 10.88.0.1:81: connect: connection refused");
  running("side", "c1", 0, ContainerKind::Sidecar);
  update();
  at(10300ms);  // the second attempt, from 10 s, has ended
  ASSERT_EQ(recorder_.events.size(), 1u);
  EXPECT_EQ(recorder_.events[0],
            (Event{"u1", "Warning", "Unhealthy", "spec.initContainers{side}",
                   "Readiness probe failed: dial tcp 10.88.0.1:81: connect: connection refused"}));
  ASSERT_EQ(observed_calls_.size(), 2u);
  EXPECT_EQ(observed_calls_[0], std::make_tuple(ProbeType::Readiness, F, base::Duration(300ms)));
  EXPECT_EQ(observed_calls_[1], std::make_tuple(ProbeType::Readiness, S, base::Duration(300ms)));
}

TEST_F(ProbeManagerTest, RemoveAndStopEndTheLoops) {
  make();
  auto web = container("web");
  web.liveness_probe = exec_probe("live", 10);
  pod_.spec.containers = {web};
  running("web", "c1");
  update();
  EXPECT_EQ(manager_->worker_count(), 1u);
  manager_->remove(base::PodUid("u1"));
  EXPECT_EQ(manager_->worker_count(), 0u);
  at(50s);
  EXPECT_EQ(prober_.count("live"), 1u);
  EXPECT_EQ(clock_.pending_waits(), 0u);
  update();  // a listing after remove (the worker lists once more): probed again
  EXPECT_EQ(manager_->worker_count(), 1u);
  manager_->stop();
  update();  // ignored once stopped
  EXPECT_EQ(manager_->worker_count(), 0u);
  clock_.settle();
  EXPECT_EQ(clock_.pending_waits(), 0u);
}

TEST_F(ProbeManagerTest, AChangedProbeRestartsTheLoops) {
  make();
  auto web = container("web");
  web.readiness_probe = exec_probe("ready", 10);
  pod_.spec.containers = {web};
  running("web", "c1");
  update();
  pod_.spec.containers[0].readiness_probe = exec_probe("ready2", 10);
  update();
  EXPECT_EQ(prober_.count("ready2"), 1u);
  at(30s);
  EXPECT_EQ(prober_.count("ready"), 1u);
}

TEST_F(ProbeManagerTest, AContainerLeavingTheSpecLosesItsLoops) {
  make();
  auto web = container("web");
  web.readiness_probe = exec_probe("ready", 10);
  auto db = container("db");
  db.liveness_probe = exec_probe("live", 10);
  pod_.spec.containers = {web, db};
  running("web", "c1");
  running("db", "c2");
  update();
  EXPECT_EQ(manager_->worker_count(), 2u);
  pod_.spec.containers = {web};
  update();
  EXPECT_EQ(manager_->worker_count(), 1u);
  EXPECT_EQ(manager_->worker(base::PodUid("u1"), "db", ProbeType::Liveness), nullptr);
  pod_.spec.containers = {container("web")};  // no probes left
  update();
  EXPECT_EQ(manager_->worker_count(), 0u);
  at(50s);
  EXPECT_EQ(prober_.count("live"), 1u);
}

}  // namespace
}  // namespace podagent::probes
