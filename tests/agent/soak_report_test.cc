#include "agent/soak_report.h"

#include <gtest/gtest.h>

#include "tests/agent/soak_test_util.h"

namespace podagent::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::at_seconds;
using testing::ContainerFeed;

// Pod i of an 18-pod plan: pattern i % 6, policy (Always, OnFailure, Never)[i / 6].
SoakPod planned(int i) {
  SoakOptions o;
  o.pods = 18;
  return plan_soak_pods(o)[static_cast<size_t>(i)];
}
constexpr int kAlwaysExit = 0, kOnFailureSucceed = 8, kNeverExit = 12;

SoakCheckOptions options_until(double end) {
  SoakCheckOptions o;
  o.observe_end = at_seconds(end);
  return o;
}

SoakPodVerdict check_one(const SoakPod& pod, const SoakObserver& obs, double end) {
  SoakReport r = check_soak({pod}, obs, options_until(end), {});
  return r.pods.at(0);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A crash loop of exit 3 at once, each restart `late` seconds after the
// back-off's 1 s, 2 s, 4 s.
void crash_loop(ContainerFeed& c, double late3, double late = 0.1) {
  c.running(0, 0.0);
  c.ended_at(0, 0.05, 3, "0");
  c.running(1, 0.05 + 1 + late);
  c.ended_at(1, 1.2, 3, "1");
  c.running(2, 1.2 + 2 + late);
  c.ended_at(2, 3.35, 3, "2");
  c.running(3, 3.35 + 4 + late3);
}

TEST(SoakReportTest, RestartsOnTheBackOffSchedulePass) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kAlwaysExit).name};
  crash_loop(c, 0.1);
  const SoakPodVerdict v = check_one(planned(kAlwaysExit), obs, 8.0);
  EXPECT_TRUE(v.ok()) << joined(v.problems);
  EXPECT_EQ(v.restarts_seen, 3);
  EXPECT_EQ(v.delays_checked, 3);
  EXPECT_EQ(v.delays_passed, 3);
  ASSERT_TRUE(v.worst_error);
  EXPECT_NEAR(std::chrono::duration<double>(*v.worst_error).count(), 0.1, 1e-6);
}

TEST(SoakReportTest, DelaysInTheStartBurstAreListedNotJudgedUnlessAskedFor) {
  SoakObserver obs;
  ContainerFeed a{obs, planned(kAlwaysExit).name};
  crash_loop(a, 0.1, /*late=*/1.5);  // restarts 1 and 2 1.5 s late, both in the burst
  ContainerFeed b{obs, planned(kNeverExit).name};
  b.running(0, 3.0);  // the last pod seen started: the burst ends
  SoakCheckOptions o = options_until(8.0);
  SoakReport r = check_soak({planned(kAlwaysExit), planned(kNeverExit)}, obs, o, {});
  const SoakPodVerdict& v = r.pods.at(0);
  EXPECT_TRUE(v.ok()) << joined(v.problems);
  EXPECT_EQ(v.delays_in_burst, 2);
  EXPECT_EQ(v.delays_checked, 1);
  ASSERT_TRUE(r.start_burst);
  EXPECT_EQ(*r.start_burst, seconds(3));
  o.judge_start_burst = true;
  r = check_soak({planned(kAlwaysExit), planned(kNeverExit)}, obs, o, {});
  EXPECT_FALSE(r.pods.at(0).ok());
  EXPECT_EQ(r.pods.at(0).delays_checked, 3);
}

TEST(SoakReportTest, ARunSeenOnlyEndedStillCountsForTheSchedule) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kAlwaysExit).name};
  c.running(0, 0.0);
  c.ended_at(0, 0.05, 3, "0");
  c.ended_at(1, 1.2, 3, "1");   // run 1 ended before it was reported running
  c.running(2, 1.2 + 2 + 0.1);  // so run 2 waits 2 s, not 1 s
  const SoakPodVerdict v = check_one(planned(kAlwaysExit), obs, 4.0);
  EXPECT_TRUE(v.ok()) << joined(v.problems);
  EXPECT_EQ(v.delays_checked, 1);
  ASSERT_EQ(v.delays.size(), 1u);
  EXPECT_EQ(v.delays[0].expected, seconds(2));
}

TEST(SoakReportTest, ARestartTooLateFails) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kAlwaysExit).name};
  crash_loop(c, 1.5);  // tolerance is 1 s
  const SoakPodVerdict v = check_one(planned(kAlwaysExit), obs, 9.0);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.delays_passed, 2);
}

TEST(SoakReportTest, ARestartTooEarlyFails) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kAlwaysExit).name};
  crash_loop(c, -2.0);  // restarted after 2 s where the back-off says 4 s
  const SoakPodVerdict v = check_one(planned(kAlwaysExit), obs, 6.0);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.delays_passed, 2);
}

TEST(SoakReportTest, ARestartThatNeverCameFails) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kAlwaysExit).name};
  c.running(0, 0.0);
  c.ended_at(0, 0.05, 3, "0");
  // Due at 1.05 s; at 3 s it has still not come.
  const SoakPodVerdict v = check_one(planned(kAlwaysExit), obs, 3.0);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(joined(v.problems).find("not restarted"), std::string::npos) << joined(v.problems);
}

TEST(SoakReportTest, ANeverPodThatRestartedFails) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kNeverExit).name};
  c.running(0, 0.0);
  c.ended_at(0, 0.05, 3, "0", /*waiting=*/false);
  c.running(1, 1.2);
  const SoakPodVerdict v = check_one(planned(kNeverExit), obs, 5.0);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(joined(v.problems).find("under Never"), std::string::npos) << joined(v.problems);
}

TEST(SoakReportTest, ANeverPodThatStayedDonePasses) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kNeverExit).name};
  c.running(0, 0.0);
  c.ended_at(0, 0.05, 3, "0", /*waiting=*/false);
  const SoakPodVerdict v = check_one(planned(kNeverExit), obs, 30.0);
  EXPECT_TRUE(v.ok()) << joined(v.problems);
}

TEST(SoakReportTest, AnOnFailurePodRestartedAfterSuccessFails) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kOnFailureSucceed).name};
  c.running(0, 0.0);
  c.ended_at(0, 3.0, 0, "0", /*waiting=*/false);
  c.running(1, 4.1);
  const SoakPodVerdict v = check_one(planned(kOnFailureSucceed), obs, 20.0);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(joined(v.problems).find("after an exit 0 under OnFailure"), std::string::npos)
      << joined(v.problems);
}

TEST(SoakReportTest, AnOnFailurePodThatStoppedAfterSuccessPasses) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kOnFailureSucceed).name};
  c.running(0, 0.0);
  c.ended_at(0, 3.0, 0, "0", /*waiting=*/false);
  const SoakPodVerdict v = check_one(planned(kOnFailureSucceed), obs, 20.0);
  EXPECT_TRUE(v.ok()) << joined(v.problems);
}

TEST(SoakReportTest, AGapInRunNumbersFails) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kAlwaysExit).name};
  c.running(0, 0.0);
  c.ended_at(0, 0.05, 3, "0");
  c.running(1, 1.15);
  // The agent's run 1 ends saying it is run 2: a run came and went unseen.
  c.ended_at(1, 1.2, 3, "2");
  c.running(2, 3.3);
  const SoakPodVerdict v = check_one(planned(kAlwaysExit), obs, 4.0);
  EXPECT_FALSE(v.ok());
  const std::string problems = joined(v.problems);
  EXPECT_NE(problems.find("uncounted"), std::string::npos) << problems;
  EXPECT_NE(problems.find("end of run 1 was never reported"), std::string::npos) << problems;
}

TEST(SoakReportTest, AnUnexpectedExitCodeFails) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kNeverExit).name};
  c.running(0, 0.0);
  c.ended_at(0, 0.05, 1, "0", /*waiting=*/false);
  const SoakPodVerdict v = check_one(planned(kNeverExit), obs, 10.0);
  EXPECT_FALSE(v.ok());
  EXPECT_NE(joined(v.problems).find("exited 1, the pattern exits 3"), std::string::npos);
}

TEST(SoakReportTest, APodNeverSeenRunningFails) {
  SoakObserver obs;
  const SoakPodVerdict v = check_one(planned(kAlwaysExit), obs, 10.0);
  EXPECT_FALSE(v.ok());
}

TEST(SoakReportTest, TheExpectedRestartCountFollowsTheSchedule) {
  SoakCheckOptions o;  // 1 s doubling to 8 s, tolerance 1 s, early 250 ms
  // At most: 0.75, 2.5, 6.25, 14, 21.75, 29.5, 37.25 (7 in 40 s); at least
  // with 1 s more each: 2, 5, 10, 19, 28, 37 (6, less one for the end).
  EXPECT_EQ(expected_restarts(SoakPattern::ExitCode, "Always", seconds(40), o),
            std::make_pair(5, 7));
  EXPECT_EQ(expected_restarts(SoakPattern::ExitCode, "Never", seconds(40), o),
            std::make_pair(0, 0));
  EXPECT_EQ(expected_restarts(SoakPattern::SucceedAfter, "OnFailure", seconds(40), o),
            std::make_pair(0, 0));
  EXPECT_GT(expected_restarts(SoakPattern::SucceedAfter, "Always", seconds(40), o).second, 0);
}

SoakResources resources(int64_t rss, int64_t mounts) { return {rss, 10, 4, mounts, 0, 0}; }

const SoakResourceVerdict& verdict(const SoakReport& r, const std::string& name) {
  for (const auto& v : r.resources)
    if (v.name == name) return v;
  throw std::logic_error("no verdict " + name);
}

TEST(SoakReportTest, ResourcesBackAtTheBaselinePass) {
  SoakResourceSamples s{resources(1000, 50), resources(5000, 90), resources(6000, 90),
                        resources(6000, 50)};
  const SoakReport r = check_soak({}, SoakObserver{}, options_until(0), s);
  for (const auto& v : r.resources) EXPECT_TRUE(v.ok) << v.name;
}

TEST(SoakReportTest, ALeakedMountAndRssGrowthFail) {
  SoakResourceSamples s{resources(1000, 50), resources(5000, 90), resources(5000 + 20000, 90),
                        resources(25000, 51)};
  const SoakReport r = check_soak({planned(0)}, SoakObserver{}, options_until(0), s);
  EXPECT_FALSE(verdict(r, "mounts").ok);
  EXPECT_FALSE(verdict(r, "rss KiB").ok);  // 20000 KiB > 16384
  EXPECT_TRUE(verdict(r, "fds").ok);
  EXPECT_FALSE(r.passed());
  SoakResourceLimits limits;
  limits.rss_growth_kib = 20000;
  EXPECT_TRUE(verdict(check_soak({}, SoakObserver{}, options_until(0), s, limits), "rss KiB").ok);
}

TEST(SoakReportTest, FewerThanAtTheBaselineIsNoLeak) {
  SoakResourceSamples s{resources(1000, 50), resources(1000, 90), resources(1000, 90),
                        resources(1000, 49)};
  EXPECT_TRUE(verdict(check_soak({}, SoakObserver{}, options_until(0), s), "mounts").ok);
}

TEST(SoakReportTest, AMissingSampleFails) {
  SoakResourceSamples s{resources(1000, 50), std::nullopt, resources(1000, 50),
                        resources(1000, 50)};
  const SoakReport r = check_soak({}, SoakObserver{}, options_until(0), s);
  EXPECT_FALSE(verdict(r, "rss KiB").ok);
  EXPECT_TRUE(verdict(r, "mounts").ok);
}

TEST(SoakReportTest, PercentilesAreNearestRank) {
  std::vector<SoakDuration> v;
  for (int i = 1; i <= 100; ++i) v.push_back(milliseconds(i));
  EXPECT_EQ(soak_percentile(v, 50), milliseconds(50));
  EXPECT_EQ(soak_percentile(v, 99), milliseconds(99));
  EXPECT_EQ(soak_percentile(v, 100), milliseconds(100));
  EXPECT_EQ(soak_percentile({}, 50), SoakDuration{});
}

TEST(SoakReportTest, TheTableAndTheJsonCarryTheVerdicts) {
  SoakObserver obs;
  ContainerFeed c{obs, planned(kAlwaysExit).name};
  crash_loop(c, 1.5);
  SoakResourceSamples s{resources(1, 1), resources(1, 1), resources(1, 1), resources(1, 1)};
  const SoakReport r = check_soak({planned(kAlwaysExit)}, obs, options_until(9.0), s);
  const std::string table = format_soak_report(r);
  EXPECT_NE(table.find("soak-000"), std::string::npos) << table;
  EXPECT_NE(table.find("FAIL: 0/1 pods, 6/6 resources"), std::string::npos) << table;
  const std::string json = soak_report_json(r);
  EXPECT_NE(json.find("\"passed\": false"), std::string::npos) << json;
  EXPECT_NE(json.find("\"delaysChecked\": 3"), std::string::npos) << json;
}

}  // namespace
}  // namespace podagent::agent
