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

}  // namespace
}  // namespace podagent::podworker
