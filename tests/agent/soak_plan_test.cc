#include "agent/soak_plan.h"

#include <gtest/gtest.h>

#include <set>

#include "model/pod_codec.h"
#include "podworker/backoff_overrides.h"

namespace podagent::agent {
namespace {

model::Pod decode(const std::string& manifest) {
  model::DecodeResult d = model::decode_pods(manifest);
  EXPECT_TRUE(d.ok()) << manifest;
  return d.pods.empty() ? model::Pod{} : d.pods.front().pod;
}

TEST(SoakPlanTest, EighteenPodsHoldEveryPatternUnderEveryPolicyOnce) {
  SoakOptions o;
  o.pods = 18;
  std::set<std::pair<std::string, std::string>> pairs;
  std::set<std::string> names;
  for (const SoakPod& p : plan_soak_pods(o)) {
    pairs.insert({std::string(to_string(p.pattern)), p.restart_policy});
    names.insert(p.name);
  }
  EXPECT_EQ(pairs.size(), 18u);
  EXPECT_EQ(names.size(), 18u);
}

TEST(SoakPlanTest, ManifestsCarryTheBackOffAnnotationsAndThePattern) {
  SoakOptions o;
  o.pods = 6;
  o.crashloop_initial = std::chrono::milliseconds(500);
  o.crashloop_max = std::chrono::seconds(4);
  o.image = "localhost/busybox:test";
  const std::vector<SoakPod> plan = plan_soak_pods(o);
  for (const SoakPod& p : plan) {
    const model::Pod pod = decode(p.manifest);
    EXPECT_EQ(pod.metadata.namespace_, "soak");
    EXPECT_EQ(pod.spec.restart_policy, "Always");
    ASSERT_EQ(pod.spec.containers.size(), 1u);
    const model::Container& c = pod.spec.containers[0];
    EXPECT_EQ(c.image, "localhost/busybox:test");
    ASSERT_EQ(c.command.size(), 3u);
    EXPECT_NE(c.command[2].find("/dev/termination-log"), std::string::npos)
        << "each run names itself";
    auto backoff = podworker::backoff_overrides(pod, base::Backoff::Options{});
    ASSERT_TRUE(backoff) << backoff.error().message;
    ASSERT_TRUE(*backoff);
    EXPECT_EQ((*backoff)->initial, std::chrono::milliseconds(500));
    EXPECT_EQ((*backoff)->max, std::chrono::seconds(4));
    const bool probed =
        p.pattern == SoakPattern::LivenessFail || p.pattern == SoakPattern::HungOnTerm;
    EXPECT_EQ(c.liveness_probe.has_value(), probed) << p.name;
  }
  const model::Container oom =
      decode(plan[static_cast<int>(SoakPattern::OomKill)].manifest).spec.containers[0];
  EXPECT_NE(oom.command[2].find("tail /dev/zero"), std::string::npos);
  EXPECT_EQ(oom.resources.limits.count("memory"), 1u);
  const std::string hung = decode(plan[static_cast<int>(SoakPattern::HungOnTerm)].manifest)
                               .spec.containers[0]
                               .command[2];
  EXPECT_NE(hung.find("trap '' TERM"), std::string::npos);
}

TEST(SoakPlanTest, ExitCodesAndRestartRule) {
  SoakOptions o;
  o.exit_code = 7;
  EXPECT_EQ(expected_exit_code(SoakPattern::ExitCode, o), 7);
  EXPECT_EQ(expected_exit_code(SoakPattern::SucceedAfter, o), 0);
  EXPECT_EQ(expected_exit_code(SoakPattern::OomKill, o), 137);
  EXPECT_EQ(expected_exit_code(SoakPattern::HungOnTerm, o), 137);
  EXPECT_TRUE(soak_exit_fits(SoakPattern::LivenessFail, 143, o));
  EXPECT_TRUE(soak_exit_fits(SoakPattern::LivenessFail, 137, o));
  EXPECT_FALSE(soak_exit_fits(SoakPattern::LivenessFail, 0, o));
  EXPECT_FALSE(soak_exit_fits(SoakPattern::HungOnTerm, 143, o));
  EXPECT_TRUE(soak_should_restart("Always", 0));
  EXPECT_FALSE(soak_should_restart("OnFailure", 0));
  EXPECT_TRUE(soak_should_restart("OnFailure", 137));
  EXPECT_FALSE(soak_should_restart("Never", 1));
}

}  // namespace
}  // namespace podagent::agent
