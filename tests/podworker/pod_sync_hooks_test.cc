// Lifecycle hooks (postStart, preStop) and the events of the pod workers,
// with the fake runtime and the fake clock.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>

#include "podworker/pod_sync.h"
#include "podworker/pod_workers.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::podworker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using runtime::ContainerState;
using runtime::FakeRuntime;
using runtime::Op;

struct Recorded {
  std::string type, reason, field_path, message;
};

class ListRecorder final : public base::EventRecorder {
 public:
  void record(const base::PodUid&, std::string_view type, std::string_view reason,
              std::string_view field_path, std::string message) override {
    events.push_back(
        {std::string(type), std::string(reason), std::string(field_path), std::move(message)});
  }
  std::vector<Recorded> events;
};

// Answers every probe with `outcome`, after `takes` of fake time, and
// remembers what it was asked.
class FakeProber final : public probes::Prober {
 public:
  explicit FakeProber(base::Clock& clock) : clock_(clock) {}
  runtime::Task<probes::ProbeOutcome> probe(const probes::ProbeTarget& target,
                                            const model::Handler& handler,
                                            std::chrono::milliseconds timeout) override {
    calls.push_back({target.sandbox_id.str(), target.container_id.str(), target.pod_ip,
                     target.container ? target.container->name : "",
                     handler.http_get ? handler.http_get->path : ""});
    timeouts.push_back(timeout);
    if (takes > base::Duration::zero()) co_await clock_.sleep_until(clock_.now() + takes);
    co_return outcome;
  }
  struct Call {
    std::string sandbox, container, ip, container_name, path;
  };
  std::vector<Call> calls;
  std::vector<std::chrono::milliseconds> timeouts;
  probes::ProbeOutcome outcome{probes::ProbeResult::Success, ""};
  base::Duration takes{};

 private:
  base::Clock& clock_;
};

model::Handler exec_hook(std::vector<std::string> command) {
  model::Handler h;
  h.exec = model::ExecAction{std::move(command)};
  return h;
}

model::Handler http_hook(std::string path) {
  model::Handler h;
  h.http_get = model::HttpGetAction{};
  h.http_get->path = std::move(path);
  h.http_get->port.value = int64_t{8080};
  return h;
}

model::Pod make_pod(std::optional<model::Handler> post_start,
                    std::optional<model::Handler> pre_stop, int64_t grace = 30) {
  model::Pod pod;
  pod.metadata.name = "web";
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "u1";
  pod.spec.restart_policy = "Always";
  pod.spec.termination_grace_period_seconds = grace;
  model::Container c;
  c.name = "web";
  c.image = "busybox";
  c.image_pull_policy = "IfNotPresent";
  if (post_start || pre_stop) c.lifecycle = model::Lifecycle{post_start, pre_stop};
  pod.spec.containers.push_back(c);
  return pod;
}

class PodSyncHooksTest : public testing::Test {
 protected:
  void SetUp() override {
    PodWorkers::Options options;
    options.on_status = [this](const base::PodUid&, const model::PodStatus& s) {
      statuses_.push_back(s);
    };
    options.events = &events_;
    options.hook_prober = &prober_;
    workers_ = std::make_unique<PodWorkers>(rt_, clock_, io_.get_executor(), std::move(options));
    t0_ = clock_.now();
  }
  void TearDown() override {
    workers_->stop();
    clock_.settle();
  }
  void add(const model::Pod& pod) {
    workers_->update(pod);
    clock_.settle();
  }
  void at(base::Duration since_start) { clock_.advance_to(t0_ + since_start); }
  void remove() {
    workers_->remove(base::PodUid("u1"));
    clock_.settle();
  }

  size_t running() const { return rt_.running_containers(base::PodUid("u1")); }
  std::optional<runtime::ContainerStatus> web() const {
    std::optional<runtime::ContainerStatus> last;
    for (const auto& c : rt_.pod_state(base::PodUid("u1")).containers) last = c;
    return last;
  }
  size_t creations() const { return rt_.count(Op::CreateContainer); }
  // How many published statuses said web was running.
  size_t running_statuses() const {
    size_t n = 0;
    for (const auto& s : statuses_)
      for (const auto& c : s.container_statuses)
        n += c.name == "web" && c.state.running.has_value();
    return n;
  }
  std::vector<Recorded> with_reason(std::string_view reason) const {
    std::vector<Recorded> out;
    for (const auto& e : events_.events)
      if (e.reason == reason) out.push_back(e);
    return out;
  }
  // The ops made on the container, in order (Exec, StopContainer, ...).
  std::vector<Op> container_ops() const {
    std::vector<Op> out;
    for (const auto& c : rt_.calls())
      if (c.op == Op::Exec || c.op == Op::StopContainer) out.push_back(c.op);
    return out;
  }

  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor()};
  ListRecorder events_;
  FakeProber prober_{clock_};
  std::unique_ptr<PodWorkers> workers_;
  std::vector<model::PodStatus> statuses_;
  base::SteadyTime t0_;
};

TEST_F(PodSyncHooksTest, PostStartRunsBeforeTheStatusSaysRunning) {
  rt_.script("web").exec_result(runtime::ExecResult{0, "", "", false}, 5s);
  add(make_pod(exec_hook({"/bin/sh", "-c", "touch /ready"}), std::nullopt));
  at(4999ms);
  EXPECT_EQ(running(), 1u);  // started in the runtime, the hook still running
  ASSERT_EQ(rt_.execs().size(), 1u);
  EXPECT_EQ(rt_.execs()[0].command, (std::vector<std::string>{"/bin/sh", "-c", "touch /ready"}));
  EXPECT_EQ(running_statuses(), 0u);
  at(5s);
  EXPECT_GE(running_statuses(), 1u);
  EXPECT_TRUE(with_reason("FailedPostStartHook").empty());
  ASSERT_EQ(with_reason("Started").size(), 1u);
  EXPECT_EQ(with_reason("Started")[0].message, "Started container web");
  EXPECT_EQ(with_reason("Started")[0].field_path, "spec.containers{web}");
  EXPECT_EQ(with_reason("Created")[0].message, "Created container web");
  EXPECT_EQ(with_reason("Pulled")[0].message,
            "Container image \"busybox\" already present on machine");
}

TEST_F(PodSyncHooksTest, SleepPostStartHoldsRunningForItsSeconds) {
  model::Handler sleep;
  sleep.sleep = model::SleepAction{3};
  add(make_pod(sleep, std::nullopt));
  at(2999ms);
  EXPECT_EQ(running(), 1u);
  EXPECT_EQ(running_statuses(), 0u);
  at(3s);
  EXPECT_GE(running_statuses(), 1u);
}

TEST_F(PodSyncHooksTest, FailedPostStartKillsAndRestartsWithBackoff) {
  rt_.script("web").exec_result(runtime::ExecResult{1, "", "boom", false});
  add(make_pod(exec_hook({"/hook"}), std::nullopt));
  EXPECT_EQ(running(), 0u);
  ASSERT_TRUE(web());
  EXPECT_EQ(web()->state, ContainerState::Exited);
  EXPECT_EQ(running_statuses(), 0u);
  auto failed = with_reason("FailedPostStartHook");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].type, "Warning");
  EXPECT_EQ(failed[0].message,
            "Exec lifecycle hook ([/hook]) for Container \"web\" in Pod \"web_default(u1)\" failed "
            "- error: "
            "command '/hook' exited with 1: boom, message: \"boom\"");
  auto killing = with_reason("Killing");
  ASSERT_EQ(killing.size(), 1u);
  EXPECT_EQ(killing[0].message, failed[0].message);
  // Restarted under Always with the CrashLoopBackOff: 10 s, then 20 s.
  at(9999ms);
  EXPECT_EQ(creations(), 1u);
  ASSERT_FALSE(with_reason("BackOff").empty());
  EXPECT_EQ(with_reason("BackOff")[0].message,
            "Back-off restarting failed container web in pod web_default(u1)");
  at(10s);
  EXPECT_EQ(creations(), 2u);
  EXPECT_EQ(with_reason("FailedPostStartHook").size(), 2u);
  at(29999ms);
  EXPECT_EQ(creations(), 2u);
  at(30s);
  EXPECT_EQ(creations(), 3u);
  EXPECT_EQ(running_statuses(), 0u);
}

TEST_F(PodSyncHooksTest, PreStopExecRunsBeforeStop) {
  add(make_pod(std::nullopt, exec_hook({"/drain"})));
  ASSERT_EQ(running(), 1u);
  rt_.clear_calls();
  remove();
  EXPECT_EQ(container_ops(), (std::vector<Op>{Op::Exec, Op::StopContainer}));
  ASSERT_EQ(rt_.execs().size(), 1u);
  EXPECT_EQ(rt_.execs()[0].command, (std::vector<std::string>{"/drain"}));
  EXPECT_EQ(with_reason("Killing")[0].message, "Stopping container web");
  EXPECT_TRUE(with_reason("FailedPreStopHook").empty());
  EXPECT_TRUE(workers_->is_finished(base::PodUid("u1")));
}

TEST_F(PodSyncHooksTest, FailedPreStopIsRecordedAndTheStopGoesOn) {
  rt_.script("web").exec_result(runtime::ExecResult{2, "", "no", false});
  add(make_pod(std::nullopt, exec_hook({"/drain"})));
  remove();
  ASSERT_EQ(with_reason("FailedPreStopHook").size(), 1u);
  EXPECT_EQ(with_reason("FailedPreStopHook")[0].type, "Warning");
  EXPECT_EQ(running(), 0u);
  EXPECT_TRUE(workers_->is_finished(base::PodUid("u1")));
}

// Grace 10 s; the hook would take a minute and the container ignores
// SIGTERM: the hook is given up at 10 s, SIGTERM then, SIGKILL 2 s later.
TEST_F(PodSyncHooksTest, PreStopPastTheGracePeriodGetsTwoMoreSecondsThenTheKill) {
  rt_.script("web").ignore_sigterm().exec_result(runtime::ExecResult{0, "", "", false}, 60s);
  std::optional<int32_t> exit_code;
  rt_.set_observer([&](const runtime::FakeChange& c) {
    if (c.kind == runtime::FakeChange::Kind::ContainerExited) exit_code = c.container->exit_code;
  });
  add(make_pod(std::nullopt, exec_hook({"/slow"}), 10));
  rt_.clear_calls();
  remove();
  at(9999ms);
  EXPECT_EQ(container_ops(), (std::vector<Op>{Op::Exec}));
  at(10s);
  EXPECT_EQ(container_ops(), (std::vector<Op>{Op::Exec, Op::StopContainer}));
  auto failed = with_reason("FailedPreStopHook");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].message.find("Exceeded grace period"), std::string::npos)
      << failed[0].message;
  at(11999ms);
  EXPECT_EQ(running(), 1u);
  at(12s);
  EXPECT_EQ(running(), 0u);
  EXPECT_EQ(exit_code, 137);
}

// A hook that ends within the grace period leaves the rest of it to the
// stop; past 8 of 10 s, the 2 s minimum applies all the same.
TEST_F(PodSyncHooksTest, PreStopLeavesTheRestOfTheGraceToTheStop) {
  rt_.script("web").ignore_sigterm().exec_result(runtime::ExecResult{0, "", "", false}, 4s);
  add(make_pod(std::nullopt, exec_hook({"/drain"}), 10));
  remove();
  at(4s);
  EXPECT_EQ(rt_.count(Op::StopContainer), 1u);
  at(9999ms);
  EXPECT_EQ(running(), 1u);
  at(10s);
  EXPECT_EQ(running(), 0u);
  EXPECT_TRUE(with_reason("FailedPreStopHook").empty());
}

TEST_F(PodSyncHooksTest, HttpGetHooksGoThroughTheProberWithThePodsAddress) {
  add(make_pod(http_hook("/started"), http_hook("/stopping")));
  ASSERT_EQ(prober_.calls.size(), 1u);
  EXPECT_EQ(prober_.calls[0].path, "/started");
  EXPECT_EQ(prober_.calls[0].sandbox, "sandbox-1");
  EXPECT_EQ(prober_.calls[0].ip, "10.88.0.1");
  EXPECT_EQ(prober_.calls[0].container_name, "web");
  ASSERT_TRUE(web());
  EXPECT_EQ(prober_.calls[0].container, web()->id.str());
  EXPECT_GE(running_statuses(), 1u);
  rt_.clear_calls();
  remove();
  ASSERT_EQ(prober_.calls.size(), 2u);
  EXPECT_EQ(prober_.calls[1].path, "/stopping");
  EXPECT_LE(prober_.timeouts[1], 30000ms);  // within the grace period
}

TEST_F(PodSyncHooksTest, FailedHttpGetPostStartKillsTheContainer) {
  prober_.outcome = {probes::ProbeResult::Failure, "HTTP probe failed with statuscode: 500"};
  add(make_pod(http_hook("/started"), std::nullopt));
  EXPECT_EQ(running(), 0u);
  auto failed = with_reason("FailedPostStartHook");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].message,
            "HTTP lifecycle hook (/started) for Container \"web\" in Pod \"web_default(u1)\" "
            "failed - error: "
            "HTTP probe failed with statuscode: 500");
}

// A tcpSocket hook is accepted by validation but fails when run, as the
// API documents.
TEST_F(PodSyncHooksTest, TcpSocketPostStartFails) {
  model::Handler tcp;
  tcp.tcp_socket = model::TcpSocketAction{};
  add(make_pod(tcp, std::nullopt));
  EXPECT_EQ(running(), 0u);
  ASSERT_EQ(with_reason("FailedPostStartHook").size(), 1u);
  EXPECT_NE(with_reason("FailedPostStartHook")[0].message.find("Cannot run handler"),
            std::string::npos);
}

// A delete while postStart hangs: the sync stops waiting within a second
// and the pod terminates.
TEST_F(PodSyncHooksTest, DeleteDuringAHangingPostStart) {
  rt_.script("web").exec_result(runtime::ExecResult{0, "", "", false}, 1h);
  add(make_pod(exec_hook({"/hang"}), std::nullopt, 5));
  at(1s);
  ASSERT_EQ(running(), 1u);
  remove();
  at(3s);
  EXPECT_EQ(running(), 0u);
  at(10s);
  EXPECT_TRUE(workers_->is_finished(base::PodUid("u1")));
}

TEST_F(PodSyncHooksTest, ImageNeverPulledIsAnEvent) {
  rt_.remove_image("busybox");
  auto pod = make_pod(std::nullopt, std::nullopt);
  pod.spec.containers[0].image_pull_policy = "Never";
  add(pod);
  auto never = with_reason("ErrImageNeverPull");
  ASSERT_FALSE(never.empty());
  EXPECT_EQ(never[0].type, "Warning");
  EXPECT_EQ(never[0].message,
            "Container image \"busybox\" is not present with pull policy of Never");
}

}  // namespace
}  // namespace podagent::podworker
