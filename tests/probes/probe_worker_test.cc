#include "probes/probe_worker.h"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "fake_prober.h"

namespace podagent::probes {
namespace {

using namespace std::chrono_literals;
using testing::exec_probe;
using testing::FakeProber;
constexpr auto S = ProbeResult::Success;
constexpr auto F = ProbeResult::Failure;

class ProbeWorkerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    worker_.reset();
    clock_.settle();
  }

  // A worker for `probe` of type `type`, started now.
  void start(ProbeType type, model::Probe probe, base::Duration first_delay = 0s,
             base::Duration initial_delay_left = 0s) {
    t0_ = clock_.now();
    ProbeWorkerSpec spec;
    spec.type = type;
    spec.probe = std::move(probe);
    spec.pod_uid = base::PodUid("u1");
    spec.container_id = base::ContainerId("c1");
    spec.pod_ip = "10.88.0.1";
    spec.container.name = "web";
    spec.probe_from = t0_ + initial_delay_left;
    spec.first_delay = first_delay;
    ProbeWorkerHooks hooks;
    hooks.may_probe = [this] { return may_probe_; };
    hooks.on_attempt = [this](const ProbeOutcome& o, base::Duration took) {
      attempts_.push_back(o.result);
      took_.push_back(took);
    };
    hooks.on_result = [this](ProbeResult r) { results_.push_back(r); };
    worker_ = std::make_unique<ProbeWorker>(prober_, clock_, io_.get_executor(), std::move(spec), std::move(hooks));
    clock_.settle();
  }
  void at(base::Duration since_start) { clock_.advance_to(t0_ + since_start); }
  // Times of the prober's calls, from the start.
  std::vector<base::Duration> call_times() const {
    std::vector<base::Duration> out;
    for (const auto& c : prober_.calls()) out.push_back(c.at - t0_);
    return out;
  }
  // Queues `outcomes` for the probe named `name`, one per attempt.
  void script(const std::string& name, std::vector<ProbeResult> outcomes) {
    for (auto r : outcomes) prober_.push(name, r, r == F ? "boom" : "");
  }

  boost::asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeProber prober_{clock_};
  std::unique_ptr<ProbeWorker> worker_;
  bool may_probe_ = true;
  std::vector<ProbeResult> attempts_;
  std::vector<base::Duration> took_;
  std::vector<ProbeResult> results_;
  base::SteadyTime t0_;
};

TEST_F(ProbeWorkerTest, FirstRunAfterJitterThenEveryPeriod) {
  start(ProbeType::Readiness, exec_probe("ready", 10), 3s);
  EXPECT_TRUE(prober_.calls().empty());
  at(2999ms);
  EXPECT_TRUE(prober_.calls().empty());
  at(23s);
  EXPECT_EQ(call_times(), (std::vector<base::Duration>{3s, 13s, 23s}));
  EXPECT_EQ(prober_.calls()[0].container_id, base::ContainerId("c1"));
  EXPECT_EQ(prober_.calls()[0].pod_ip, "10.88.0.1");
}

TEST_F(ProbeWorkerTest, EachAttemptGetsTheProbeTimeout) {
  auto probe = exec_probe("ready", 10);
  probe.timeout_seconds = 4;
  start(ProbeType::Readiness, probe);
  ASSERT_EQ(prober_.calls().size(), 1u);
  EXPECT_EQ(prober_.calls()[0].timeout, 4000ms);
}

TEST_F(ProbeWorkerTest, TicksBeforeTheInitialDelaySkipped) {
  start(ProbeType::Liveness, exec_probe("live", 10), 0s, 25s);
  at(29s);
  EXPECT_TRUE(prober_.calls().empty());
  at(30s);
  EXPECT_EQ(call_times(), (std::vector<base::Duration>{30s}));
}

TEST_F(ProbeWorkerTest, ReadinessStartsNotReadyAndNeedsSuccessThreshold) {
  EXPECT_EQ(initial_result(ProbeType::Readiness), F);
  script("ready", {S, S});
  start(ProbeType::Readiness, exec_probe("ready", 10, /*success=*/2));
  EXPECT_EQ(worker_->result(), F);
  EXPECT_TRUE(results_.empty());  // one success is not enough
  at(10s);
  EXPECT_EQ(results_, (std::vector<ProbeResult>{S}));
  EXPECT_EQ(worker_->result(), S);
}

TEST_F(ProbeWorkerTest, ReadinessFlapsOnlyAtItsThresholds) {
  script("ready", {S, S, F, F, F, S, F, S, S});
  start(ProbeType::Readiness, exec_probe("ready", 10, /*success=*/2, /*failure=*/3));
  at(10s);
  EXPECT_EQ(results_, (std::vector<ProbeResult>{S}));  // ready
  at(30s);
  EXPECT_EQ(results_.size(), 1u);  // two failures: still ready
  at(40s);
  EXPECT_EQ(results_, (std::vector<ProbeResult>{S, F}));  // the third: not ready
  at(70s);
  EXPECT_EQ(results_.size(), 2u);  // S, F, S: no two successes in a row
  at(80s);
  EXPECT_EQ(results_, (std::vector<ProbeResult>{S, F, S}));  // ready again
  EXPECT_FALSE(worker_->done());   // readiness never holds
  EXPECT_EQ(worker_->attempts(), 9u);
}

TEST_F(ProbeWorkerTest, ASuccessResetsTheFailureRun) {
  script("live", {F, F, S, F, F, S});
  start(ProbeType::Liveness, exec_probe("live", 10, 1, 3));
  at(50s);
  EXPECT_EQ(attempts_.size(), 6u);
  EXPECT_TRUE(results_.empty());  // alive from the start, never three failures in a row
  EXPECT_FALSE(worker_->done());
}

TEST_F(ProbeWorkerTest, LivenessFailureReportsOnceThenHolds) {
  EXPECT_EQ(initial_result(ProbeType::Liveness), S);
  prober_.set("live", F, "boom");
  start(ProbeType::Liveness, exec_probe("live", 10, 1, 3));
  at(10s);
  EXPECT_TRUE(results_.empty());
  at(20s);
  EXPECT_EQ(results_, (std::vector<ProbeResult>{F}));
  EXPECT_TRUE(worker_->done());
  at(200s);
  EXPECT_EQ(prober_.count("live"), 3u);  // held: no more probes for this instance
  EXPECT_EQ(results_.size(), 1u);
  EXPECT_EQ(clock_.pending_waits(), 0u);  // the loop ended
}

TEST_F(ProbeWorkerTest, StartupSuccessStopsProbing) {
  script("start", {F, F, S});
  start(ProbeType::Startup, exec_probe("start", 5, 1, 10));
  at(5s);
  EXPECT_TRUE(results_.empty());
  at(10s);
  EXPECT_EQ(results_, (std::vector<ProbeResult>{S}));
  EXPECT_TRUE(worker_->done());
  at(100s);
  EXPECT_EQ(prober_.count("start"), 3u);
}

TEST_F(ProbeWorkerTest, StartupFailureAtThresholdKills) {
  EXPECT_EQ(initial_result(ProbeType::Startup), F);
  prober_.set("start", F);
  start(ProbeType::Startup, exec_probe("start", 5, 1, 4));
  at(14s);
  EXPECT_TRUE(results_.empty());
  at(15s);
  // Reported although the result was Failure already: a kill.
  EXPECT_EQ(results_, (std::vector<ProbeResult>{F}));
  EXPECT_TRUE(worker_->done());
  at(60s);
  EXPECT_EQ(prober_.count("start"), 4u);
}

TEST_F(ProbeWorkerTest, MayProbeHoldsBackLivenessAndReadiness) {
  may_probe_ = false;
  start(ProbeType::Liveness, exec_probe("live", 10));
  at(30s);
  EXPECT_TRUE(prober_.calls().empty());
  may_probe_ = true;
  at(40s);
  EXPECT_EQ(call_times(), (std::vector<base::Duration>{40s}));
}

TEST_F(ProbeWorkerTest, StartupIgnoresMayProbe) {
  may_probe_ = false;
  start(ProbeType::Startup, exec_probe("start", 10));
  EXPECT_EQ(prober_.count("start"), 1u);
}

TEST_F(ProbeWorkerTest, AnAttemptLongerThanThePeriodDropsTicks) {
  prober_.takes(25s);
  start(ProbeType::Readiness, exec_probe("ready", 10, 1, 3));
  at(60s);
  // 0 -> 25 s, then the next tick of the schedule (30 s) -> 55 s, then 60 s.
  EXPECT_EQ(call_times(), (std::vector<base::Duration>{0s, 30s, 60s}));
  ASSERT_EQ(took_.size(), 2u);
  EXPECT_EQ(took_[0], 25s);
}

TEST_F(ProbeWorkerTest, StopIgnoresTheAttemptInFlight) {
  prober_.takes(5s);
  prober_.set("live", F);
  start(ProbeType::Liveness, exec_probe("live", 10, 1, 1));
  at(2s);
  worker_->stop();
  at(100s);
  EXPECT_EQ(prober_.calls().size(), 1u);
  EXPECT_TRUE(attempts_.empty());
  EXPECT_TRUE(results_.empty());
  EXPECT_EQ(clock_.pending_waits(), 0u);
}

TEST_F(ProbeWorkerTest, DestroyingTheWorkerEndsTheLoop) {
  start(ProbeType::Readiness, exec_probe("ready", 10), 5s);
  EXPECT_EQ(clock_.pending_waits(), 1u);
  worker_.reset();
  clock_.settle();
  EXPECT_EQ(clock_.pending_waits(), 0u);
  at(30s);
  EXPECT_TRUE(prober_.calls().empty());
}

}  // namespace
}  // namespace podagent::probes
