#include "podworker/backoff_overrides.h"

#include <gtest/gtest.h>

namespace podagent::podworker {
namespace {

using namespace std::chrono_literals;

base::Backoff::Options node_options() {
  base::Backoff::Options node;
  node.initial = 10s;
  node.max = 300s;
  node.reset = 10min;
  return node;
}

model::Pod pod_with(std::map<std::string, std::string> annotations) {
  model::Pod pod;
  pod.metadata.annotations = std::move(annotations);
  return pod;
}

TEST(BackoffOverrides, ReadsBothAnnotationsAsGoDurations) {
  auto o = backoff_overrides(
      pod_with({{kAnnotationCrashloopInitial, "1.5s"}, {kAnnotationCrashloopMax, "1h30m"}}),
      node_options());
  ASSERT_TRUE(o && *o);
  EXPECT_EQ((*o)->initial, 1500ms);
  EXPECT_EQ((*o)->max, 90min);
  EXPECT_EQ((*o)->reset, 10min);
}

TEST(BackoffOverrides, RefusesNonPositiveAndMalformedValues) {
  for (const char* bad : {"0", "0s", "-1s", "10", "1d", "", "1s 2m"}) {
    auto o = backoff_overrides(pod_with({{kAnnotationCrashloopInitial, bad}}), node_options());
    ASSERT_FALSE(o) << bad;
    EXPECT_EQ(o.error().field, "metadata.annotations[podagent.io/crashloop-initial]") << bad;
  }
}

TEST(PodBackoff, NoAnnotationsMeansTheNodesOptionsAndNoProblem) {
  PodBackoff b = pod_backoff(pod_with({{"other", "x"}}), node_options());
  EXPECT_FALSE(b.options);
  EXPECT_EQ(b.problem, "");
}

TEST(PodBackoff, AppliesValidAnnotations) {
  PodBackoff b = pod_backoff(pod_with({{kAnnotationCrashloopMax, "20s"}}), node_options());
  ASSERT_TRUE(b.options);
  EXPECT_EQ(b.options->initial, 10s);
  EXPECT_EQ(b.options->max, 20s);
  EXPECT_EQ(b.problem, "");
}

// An invalid annotation used to fall back to the node's options silently.
TEST(PodBackoff, InvalidAnnotationFallsBackToTheNodeAndSaysWhy) {
  PodBackoff b =
      pod_backoff(pod_with({{kAnnotationCrashloopInitial, "1s"}, {kAnnotationCrashloopMax, "10"}}),
                  node_options());
  EXPECT_FALSE(b.options);  // the valid initial is not applied either
  EXPECT_EQ(b.problem,
            "metadata.annotations[podagent.io/crashloop-max]: invalid duration \"10\": missing "
            "unit (one of ns, us, ms, s, m, h)");

  b = pod_backoff(pod_with({{kAnnotationCrashloopInitial, "-5s"}}), node_options());
  EXPECT_FALSE(b.options);
  EXPECT_EQ(b.problem,
            "metadata.annotations[podagent.io/crashloop-initial]: invalid value \"-5s\": must be "
            "a positive duration");
}

}  // namespace
}  // namespace podagent::podworker
