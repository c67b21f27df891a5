#include "runtime/fake/fake_runtime.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "tests/runtime/runtime_contract.h"

namespace podagent::runtime {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::RuntimeContractParam;
using testing::RuntimeContractParamName;
using testing::RuntimeContractTest;
using testing::RuntimeHarness;

// ---------------------------------------------------------------- contract

class FakeHarness final : public RuntimeHarness {
 public:
  Runtime& runtime() override { return runtime_; }
  asio::any_io_executor executor() override { return io_.get_executor(); }
  bool run_until(const std::function<bool()>& done) override {
    // Fake time: up to an hour, one second at a time.
    for (int i = 0; i < 3600; ++i) {
      clock_.settle();
      if (done()) return true;
      clock_.advance(1s);
    }
    return done();
  }
  model::Container runs_forever(const std::string& name) override { return spec(name); }
  model::Container exits_with(const std::string& name, int exit_code) override {
    runtime_.script(name).exit_after(1s, exit_code).repeat_last();
    return spec(name);
  }

 private:
  static model::Container spec(const std::string& name) {
    model::Container c;
    c.name = name;
    c.image = "busybox:latest";
    return c;
  }
  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime runtime_{clock_, io_.get_executor()};
};

INSTANTIATE_TEST_SUITE_P(Fake, RuntimeContractTest,
                         ::testing::Values(RuntimeContractParam{
                             "fake", [] { return std::make_unique<FakeHarness>(); }}),
                         RuntimeContractParamName());

// ---------------------------------------------------------------- fake only

class FakeRuntimeTest : public ::testing::Test {
 protected:
  FakeRuntimeTest() {
    rt_.set_event_handlers([this](const ContainerEvent& e) { events_.push_back(e); },
                           [this](const SandboxEvent& e) { sandbox_events_.push_back(e); });
  }

  // Starts `task`; its result appears in the returned slot once it completes.
  template <typename T>
  std::shared_ptr<std::optional<T>> start(Task<T> task) {
    auto out = std::make_shared<std::optional<T>>();
    asio::co_spawn(
        io_, [out, t = std::move(task)]() mutable -> Task<void> { out->emplace(co_await std::move(t)); },
        asio::detached);
    return out;
  }
  // Runs `task` without moving time; it must complete.
  template <typename T>
  T run(Task<T> task) {
    auto out = start(std::move(task));
    clock_.settle();
    if (!out->has_value()) throw std::runtime_error("call did not complete without time passing");
    return std::move(**out);
  }

  SandboxConfig sandbox_config(const std::string& uid = "uid-1") {
    auto pod = std::make_shared<model::Pod>();
    pod->metadata.uid = uid;
    pod->metadata.name = "pod-" + uid;
    SandboxConfig c;
    c.pod_uid = PodUid(uid);
    c.pod_name = "pod-" + uid;
    c.pod_namespace = "ns";
    c.pod = std::move(pod);
    return c;
  }
  ContainerConfig container_config(const std::string& name) {
    ContainerConfig c;
    c.spec.name = name;
    c.spec.image = "img";
    c.pod = std::make_shared<model::Pod>();
    return c;
  }
  SandboxId sandbox(const std::string& uid = "uid-1") { return *run(rt_.run_sandbox(sandbox_config(uid))); }
  ContainerId created(const SandboxId& sb, const std::string& name) {
    return *run(rt_.create_container(sb, container_config(name)));
  }
  ContainerId started(const SandboxId& sb, const std::string& name) {
    ContainerId id = created(sb, name);
    EXPECT_TRUE(run(rt_.start_container(id)));
    return id;
  }
  ContainerState state(const ContainerId& id) { return rt_.container(id).value().state; }
  std::vector<std::pair<ContainerEvent::Type, std::string>> event_log() const {
    std::vector<std::pair<ContainerEvent::Type, std::string>> out;
    for (const auto& e : events_) out.emplace_back(e.type, e.container_id.str());
    return out;
  }

  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor()};
  base::SteadyTime t0_ = clock_.now();
  std::vector<ContainerEvent> events_;
  std::vector<SandboxEvent> sandbox_events_;
};

using Type = ContainerEvent::Type;

TEST_F(FakeRuntimeTest, IdsIpsAndTimesAreDeterministic) {
  clock_.advance(7s);
  SandboxId a = sandbox("uid-a");
  SandboxId b = sandbox("uid-b");
  EXPECT_EQ(a.str(), "sandbox-1");
  EXPECT_EQ(b.str(), "sandbox-2");
  auto sa = rt_.sandbox(a).value();
  EXPECT_EQ(sa.ips, std::vector<std::string>{"10.88.0.1"});
  EXPECT_EQ(rt_.sandbox(b)->ips, std::vector<std::string>{"10.88.0.2"});
  EXPECT_EQ(sa.created_at, clock_.wall_now());
  EXPECT_EQ(sa.pod_name, "pod-uid-a");
  EXPECT_EQ(sa.pod_namespace, "ns");
  ContainerId c = started(a, "app");
  EXPECT_EQ(c.str(), "container-1");
  auto s = rt_.container(c).value();
  EXPECT_EQ(s.image, "img");
  EXPECT_EQ(s.created_at, clock_.wall_now());
  EXPECT_EQ(s.started_at, clock_.wall_now());
}

TEST_F(FakeRuntimeTest, ScriptedExitHappensAtItsExactFakeTime) {
  rt_.script("app").exit_after(5s, 1);
  SandboxId sb = sandbox();
  ContainerId c = started(sb, "app");
  clock_.advance(5s - 1ns);
  EXPECT_EQ(state(c), ContainerState::Running);
  EXPECT_EQ(event_log(), (decltype(event_log()){{Type::Created, "container-1"}, {Type::Started, "container-1"}}));
  clock_.advance(1ns);
  auto s = rt_.container(c).value();
  EXPECT_EQ(s.state, ContainerState::Exited);
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(s.reason, "Error");
  EXPECT_EQ(s.finished_at, clock_.wall_now());
  EXPECT_EQ(events_.back().type, Type::Exited);
}

TEST_F(FakeRuntimeTest, SuccessiveRunsTakeSuccessiveBehavioursThenRunForever) {
  rt_.script("app").exit_after(1s, 0).oom_after(2s);
  SandboxId sb = sandbox();
  ContainerId first = started(sb, "app");
  clock_.advance(1s);
  EXPECT_EQ(rt_.container(first)->exit_code, 0);
  EXPECT_EQ(rt_.container(first)->reason, "Completed");
  ContainerId second = started(sb, "app");
  clock_.advance(2s);
  EXPECT_EQ(rt_.container(second)->exit_code, 137);
  EXPECT_EQ(rt_.container(second)->reason, "OOMKilled");
  ContainerId third = started(sb, "app");
  clock_.advance(1h);
  EXPECT_EQ(state(third), ContainerState::Running);
  EXPECT_EQ(rt_.scheduled_exits(), 0u);
}

TEST_F(FakeRuntimeTest, RepeatLastMakesACrashLoop) {
  rt_.script("crasher").exit_after(3s, 2).repeat_last();
  SandboxId sb = sandbox();
  for (int i = 0; i < 4; ++i) {
    ContainerId c = started(sb, "crasher");
    clock_.advance(3s);
    EXPECT_EQ(rt_.container(c)->exit_code, 2) << i;
  }
}

TEST_F(FakeRuntimeTest, FailStartReportsStartError) {
  rt_.script("bad").fail_start("exec: \"nope\": not found");
  SandboxId sb = sandbox();
  ContainerId c = created(sb, "bad");
  auto st = run(rt_.start_container(c));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("not found"), std::string::npos);
  auto s = rt_.container(c).value();
  EXPECT_EQ(s.state, ContainerState::Exited);
  EXPECT_EQ(s.exit_code, 128);
  EXPECT_EQ(s.reason, "StartError");
  EXPECT_EQ(s.message, "exec: \"nope\": not found");
  EXPECT_FALSE(s.started_at);
  EXPECT_EQ(events_.back().type, Type::Exited);
}

TEST_F(FakeRuntimeTest, StopSendsSigtermAndExitsAtOnceWith143) {
  SandboxId sb = sandbox();
  ContainerId c = started(sb, "app");
  EXPECT_TRUE(run(rt_.stop_container(c, 30s)));
  EXPECT_EQ(rt_.container(c)->exit_code, 143);
  EXPECT_EQ(rt_.container(c)->reason, "Error");
  EXPECT_EQ(clock_.now(), t0_);
}

TEST_F(FakeRuntimeTest, ContainerIgnoringSigtermIsKilledAfterGrace) {
  rt_.script("stubborn").ignore_sigterm();
  SandboxId sb = sandbox();
  ContainerId c = started(sb, "stubborn");
  auto stop = start(rt_.stop_container(c, 30s));
  clock_.advance(30s - 1ms);
  EXPECT_FALSE(stop->has_value());
  EXPECT_EQ(state(c), ContainerState::Running);
  clock_.advance(1ms);
  ASSERT_TRUE(stop->has_value());
  EXPECT_TRUE(**stop);
  auto s = rt_.container(c).value();
  EXPECT_EQ(s.exit_code, 137);
  EXPECT_EQ(s.finished_at, clock_.wall_now());
}

TEST_F(FakeRuntimeTest, ScriptedExitDuringGraceCompletesTheStopEarly) {
  rt_.script("stubborn").ignore_sigterm().exit_after(10s, 0);
  SandboxId sb = sandbox();
  ContainerId c = started(sb, "stubborn");
  auto stop = start(rt_.stop_container(c, 30s));
  clock_.advance(10s);
  ASSERT_TRUE(stop->has_value());
  EXPECT_TRUE(**stop);
  EXPECT_EQ(rt_.container(c)->exit_code, 0);
}

TEST_F(FakeRuntimeTest, StopWithZeroGraceKillsAtOnce) {
  rt_.script("stubborn").ignore_sigterm();
  SandboxId sb = sandbox();
  ContainerId c = started(sb, "stubborn");
  EXPECT_TRUE(run(rt_.stop_container(c, 0ms)));
  EXPECT_EQ(rt_.container(c)->exit_code, 137);
}

TEST_F(FakeRuntimeTest, StopOfCreatedContainerLeavesItCreated) {
  SandboxId sb = sandbox();
  ContainerId c = created(sb, "app");
  EXPECT_TRUE(run(rt_.stop_container(c, 1s)));
  EXPECT_EQ(state(c), ContainerState::Created);
  EXPECT_TRUE(run(rt_.remove_container(c)));
}

TEST_F(FakeRuntimeTest, KillContainer) {
  SandboxId sb = sandbox();
  ContainerId c = started(sb, "app");
  EXPECT_TRUE(rt_.kill_container(c, 139));
  EXPECT_EQ(rt_.container(c)->exit_code, 139);
  EXPECT_EQ(rt_.container(c)->reason, "Error");
  EXPECT_FALSE(rt_.kill_container(c, 1));  // not running any more
  ContainerId d = started(sb, "other");
  EXPECT_TRUE(rt_.kill_container(d, 137, "OOMKilled"));
  EXPECT_EQ(rt_.container(d)->reason, "OOMKilled");
}

TEST_F(FakeRuntimeTest, KillSandboxStopsEverythingAndPostsSandboxEvent) {
  SandboxId sb = sandbox();
  ContainerId a = started(sb, "a");
  ContainerId b = created(sb, "b");
  EXPECT_TRUE(rt_.kill_sandbox(sb));
  EXPECT_EQ(rt_.sandbox(sb)->state, SandboxState::NotReady);
  EXPECT_EQ(rt_.container(a)->exit_code, 137);
  EXPECT_EQ(state(b), ContainerState::Created);
  EXPECT_TRUE(sandbox_events_.empty());  // posted, not yet delivered
  clock_.settle();
  ASSERT_EQ(sandbox_events_.size(), 1u);
  EXPECT_EQ(sandbox_events_[0].sandbox_id, sb);
  EXPECT_EQ(sandbox_events_[0].pod_uid, PodUid("uid-1"));
  EXPECT_FALSE(run(rt_.create_container(sb, container_config("late"))));  // not ready
}

TEST_F(FakeRuntimeTest, SandboxRemovedBehindBackVanishesWithoutEvents) {
  SandboxId sb = sandbox();
  ContainerId c = started(sb, "app");
  clock_.settle();
  size_t events = events_.size();
  EXPECT_TRUE(rt_.remove_sandbox_behind_back(sb));
  clock_.settle();
  EXPECT_EQ(events_.size(), events);
  EXPECT_TRUE(sandbox_events_.empty());
  EXPECT_FALSE(rt_.sandbox(sb));
  EXPECT_FALSE(rt_.container(c));
  EXPECT_TRUE(run(rt_.list_sandboxes())->empty());
  EXPECT_TRUE(rt_.pod_state(PodUid("uid-1")).sandboxes.empty());
}

TEST_F(FakeRuntimeTest, PendingStopCompletesWhenSandboxVanishes) {
  rt_.script("stubborn").ignore_sigterm();
  SandboxId sb = sandbox();
  ContainerId c = started(sb, "stubborn");
  auto stop = start(rt_.stop_container(c, 30s));
  clock_.settle();
  EXPECT_TRUE(rt_.remove_sandbox_behind_back(sb));
  clock_.settle();
  ASSERT_TRUE(stop->has_value());
  EXPECT_TRUE(**stop);
}

TEST_F(FakeRuntimeTest, FailNextInjectsOneErrorPerCall) {
  SandboxId sb = sandbox();
  rt_.fail_next(Op::CreateContainer, base::Error("disk full"));
  auto failed = run(rt_.create_container(sb, container_config("app")));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "disk full");
  EXPECT_EQ(rt_.container_count(), 0u);
  EXPECT_TRUE(run(rt_.create_container(sb, container_config("app"))));
  EXPECT_EQ(rt_.count(Op::CreateContainer), 2u);
  EXPECT_EQ(rt_.calls(), (std::vector<FakeCall>{{Op::RunSandbox, "uid-1", "pod-uid-1", true},
                                               {Op::CreateContainer, "sandbox-1", "app", false},
                                               {Op::CreateContainer, "sandbox-1", "app", true}}));
}

TEST_F(FakeRuntimeTest, FailWhenPredicateSelectsCalls) {
  SandboxId sb = sandbox();
  rt_.fail_when([](const FakeCall& call) -> std::optional<base::Error> {
    if (call.op == Op::CreateContainer && call.name == "flaky") return base::Error("boom");
    return std::nullopt;
  });
  EXPECT_FALSE(run(rt_.create_container(sb, container_config("flaky"))));
  EXPECT_TRUE(run(rt_.create_container(sb, container_config("fine"))));
  rt_.fail_when(nullptr);
  EXPECT_TRUE(run(rt_.create_container(sb, container_config("flaky"))));
}

TEST_F(FakeRuntimeTest, LatencyMakesCallsTakeFakeTime) {
  rt_.set_latency(Op::RunSandbox, 2s);
  // Awaitables start lazily: the arguments must outlive the call.
  SandboxConfig config = sandbox_config();
  auto r = start(rt_.run_sandbox(config));
  clock_.advance(2s - 1ns);
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(rt_.sandbox_count(), 0u);
  clock_.advance(1ns);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(rt_.sandbox((**r).value())->created_at, clock_.wall_now());
}

TEST_F(FakeRuntimeTest, ExecRecordsCallsAndReturnsScriptedResults) {
  ExecResult scripted;
  scripted.exit_code = 3;
  scripted.stdout_text = "out";
  rt_.script("hooked").exec_result(scripted);
  SandboxId sb = sandbox();
  ContainerId plain = started(sb, "plain");
  ContainerId hooked = started(sb, "hooked");
  auto r1 = run(rt_.exec(plain, {"sh", "-c", "true"}, 5s));
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->exit_code, 0);
  EXPECT_TRUE(r1->stdout_text.empty());
  auto r2 = run(rt_.exec(hooked, {"/pre-stop"}, 5s));
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->exit_code, 3);
  EXPECT_EQ(r2->stdout_text, "out");
  EXPECT_EQ(rt_.execs(), (std::vector<FakeExec>{{plain, "plain", {"sh", "-c", "true"}},
                                               {hooked, "hooked", {"/pre-stop"}}}));
  ASSERT_TRUE(run(rt_.stop_container(plain, 1s)));
  EXPECT_FALSE(run(rt_.exec(plain, {"true"}, 1s)));  // not running
}

TEST_F(FakeRuntimeTest, SlowExecTimesOutAtItsTimeout) {
  rt_.script("slow").exec_result(ExecResult{}, 10s);
  SandboxId sb = sandbox();
  ContainerId c = started(sb, "slow");
  auto quick = start(rt_.exec(c, {"x"}, 20s));
  auto cut = start(rt_.exec(c, {"x"}, 4s));
  clock_.advance(4s);
  ASSERT_TRUE(cut->has_value());
  EXPECT_TRUE((**cut)->timed_out);
  EXPECT_FALSE(quick->has_value());
  clock_.advance(6s);
  ASSERT_TRUE(quick->has_value());
  EXPECT_FALSE((**quick)->timed_out);
}

TEST_F(FakeRuntimeTest, EventsArePostedNotDeliveredInsideTheCall) {
  SandboxId sb = sandbox();
  ContainerId c = created(sb, "app");
  clock_.settle();
  std::optional<size_t> seen_right_after;
  asio::co_spawn(
      io_,
      [&]() -> Task<void> {
        (void)co_await rt_.start_container(c);
        seen_right_after = events_.size();
      },
      asio::detached);
  clock_.settle();
  EXPECT_EQ(seen_right_after, 1u);  // only Created so far
  EXPECT_EQ(event_log(), (decltype(event_log()){{Type::Created, "container-1"}, {Type::Started, "container-1"}}));
}

TEST_F(FakeRuntimeTest, PodScopedScriptTakesPrecedence) {
  rt_.script("app").exit_after(1s, 1);
  rt_.script(PodUid("uid-2"), "app").exit_after(2s, 2);
  ContainerId c1 = started(sandbox("uid-1"), "app");
  ContainerId c2 = started(sandbox("uid-2"), "app");
  clock_.advance(2s);
  EXPECT_EQ(rt_.container(c1)->exit_code, 1);
  EXPECT_EQ(rt_.container(c2)->exit_code, 2);
}

TEST_F(FakeRuntimeTest, ExitsOfManyContainersShareOneTimerAndHappenInOrder) {
  rt_.script("c3").exit_after(3s, 3);
  rt_.script("c1").exit_after(1s, 1);
  rt_.script("c2").exit_after(2s, 2);
  SandboxId sb = sandbox();
  ContainerId c3 = started(sb, "c3");
  ContainerId c1 = started(sb, "c1");
  ContainerId c2 = started(sb, "c2");
  clock_.settle();
  EXPECT_EQ(clock_.pending_waits(), 1u);
  EXPECT_EQ(rt_.scheduled_exits(), 3u);
  events_.clear();
  clock_.advance(10s);
  EXPECT_EQ(event_log(), (decltype(event_log()){{Type::Exited, c1.str()}, {Type::Exited, c2.str()},
                                               {Type::Exited, c3.str()}}));
  EXPECT_EQ(clock_.pending_waits(), 0u);
}

TEST_F(FakeRuntimeTest, ListPodReturnsOnlyThatPod) {
  SandboxId a = sandbox("uid-a");
  SandboxId b = sandbox("uid-b");
  ContainerId ca = started(a, "app");
  started(b, "app");
  ASSERT_TRUE(run(rt_.stop_sandbox(a)));
  SandboxId a2 = sandbox("uid-a");
  ContainerId ca2 = started(a2, "app");
  auto pod = run(rt_.list_pod(PodUid("uid-a")));
  ASSERT_TRUE(pod);
  ASSERT_EQ(pod->sandboxes.size(), 2u);
  EXPECT_EQ(pod->sandboxes[0].id, a);
  EXPECT_EQ(pod->sandboxes[0].state, SandboxState::NotReady);
  EXPECT_EQ(pod->sandboxes[1].id, a2);
  ASSERT_EQ(pod->containers.size(), 2u);
  EXPECT_EQ(pod->containers[0].id, ca);
  EXPECT_EQ(pod->containers[1].id, ca2);
  EXPECT_EQ(rt_.running_containers(PodUid("uid-a")), 1u);
  EXPECT_EQ(rt_.running_containers(), 2u);
  EXPECT_TRUE(run(rt_.list_pod(PodUid("nobody")))->sandboxes.empty());
}

TEST(FakeRuntimeLifetime, DestroyingRuntimeWithPendingWorkIsSafe) {
  asio::io_context io;
  base::FakeClock clock(io);
  auto rt = std::make_unique<FakeRuntime>(clock, io.get_executor());
  rt->script("stubborn").ignore_sigterm().exit_after(1h, 0);
  std::optional<base::Status> stop;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        SandboxConfig config;
        config.pod_uid = PodUid("u");
        config.pod = std::make_shared<model::Pod>();
        SandboxId sb = *co_await rt->run_sandbox(config);
        ContainerConfig cc;
        cc.spec.name = "stubborn";
        cc.pod = config.pod;
        ContainerId c = *co_await rt->create_container(sb, cc);
        (void)co_await rt->start_container(c);
        stop = co_await rt->stop_container(c, 30s);
      },
      asio::detached);
  clock.settle();
  EXPECT_FALSE(stop);
  rt.reset();
  clock.advance(2h);
  ASSERT_TRUE(stop);
  EXPECT_FALSE(*stop);  // cancelled by the runtime's end
}

TEST(FakeRuntimeScale, ThousandsOfPodsAreCheap) {
  asio::io_context io;
  base::FakeClock clock(io);
  FakeRuntime rt(clock, io.get_executor(), FakeRuntime::Options{.record_calls = false});
  rt.script("init").exit_after(0s, 0).repeat_last();
  size_t done = 0;
  for (int p = 0; p < 2000; ++p) {
    asio::co_spawn(
        io,
        [&rt, &done, p]() -> Task<void> {
          SandboxConfig config;
          config.pod_uid = PodUid("uid-" + std::to_string(p));
          config.pod = std::make_shared<model::Pod>();
          SandboxId sb = *co_await rt.run_sandbox(config);
          for (const char* name : {"init", "a", "b"}) {
            ContainerConfig cc;
            cc.spec.name = name;
            cc.pod = config.pod;
            ContainerId c = *co_await rt.create_container(sb, cc);
            (void)co_await rt.start_container(c);
          }
          ++done;
        },
        asio::detached);
  }
  clock.settle();
  EXPECT_EQ(done, 2000u);
  EXPECT_EQ(rt.running_containers(), 4000u);
  EXPECT_EQ(rt.calls().size(), 0u);
  EXPECT_EQ(rt.count(Op::StartContainer), 6000u);
}

}  // namespace
}  // namespace podagent::runtime
