#include "agent/soak_observer.h"

#include <gtest/gtest.h>

#include "tests/agent/soak_test_util.h"

namespace podagent::agent {
namespace {

using testing::at_seconds;
using testing::ContainerFeed;

TEST(SoakObserverTest, ARestartsDelayRunsFromTheSeenTerminationToTheSeenStart) {
  SoakObserver obs;
  ContainerFeed c{obs, "soak-000"};
  c.running(0, 0.0);
  c.ended_at(0, 0.1, 3, "0");
  c.running(1, 1.3);
  c.running(1, 1.4);  // seen again: nothing new
  const SoakContainerHistory* h = obs.find("soak/soak-000", kSoakContainer);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->starts.size(), 2u);
  ASSERT_EQ(h->terminations.size(), 1u);
  EXPECT_EQ(h->terminations[0].instance, 0);
  EXPECT_EQ(h->terminations[0].claimed, 0);
  const std::vector<SoakRestart> restarts = h->restarts();
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_EQ(restarts[0].instance, 1);
  ASSERT_NE(restarts[0].previous, nullptr);
  EXPECT_EQ(restarts[0].previous->exit_code, 3);
  ASSERT_TRUE(restarts[0].delay);
  EXPECT_EQ(*restarts[0].delay, at_seconds(1.3) - at_seconds(0.1));
  EXPECT_EQ(h->pending(), nullptr);
  EXPECT_EQ(h->restart_count, 1);
}

TEST(SoakObserverTest, ARunNeverSeenRunningIsPlacedByItsOwnCount) {
  SoakObserver obs;
  ContainerFeed c{obs, "soak-000"};
  c.ended_at(0, 0.2, 3, "0");  // exited before any running status went out
  c.running(1, 1.3);
  const SoakContainerHistory* h = obs.find("soak/soak-000", kSoakContainer);
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(h->terminations.size(), 1u);
  EXPECT_EQ(h->terminations[0].instance, -1);
  EXPECT_EQ(h->terminations[0].run(), 0);
  const std::vector<SoakRestart> restarts = h->restarts();
  ASSERT_EQ(restarts.size(), 1u);
  ASSERT_NE(restarts[0].previous, nullptr);
  EXPECT_TRUE(restarts[0].delay);
}

TEST(SoakObserverTest, BothSeenInOneVersionLeaveNoDelayToMeasure) {
  SoakObserver obs;
  ContainerFeed c{obs, "soak-000"};
  c.running(0, 0.0);
  c.ended[0].exit_code = 3;
  c.ended[0].message = "0";
  c.ended[0].container_id = ContainerFeed::id(0);
  c.running(1, 2.0);  // lastState names run 0: its end is seen only now
  const std::vector<SoakRestart> restarts = obs.find("soak/soak-000", kSoakContainer)->restarts();
  ASSERT_EQ(restarts.size(), 1u);
  EXPECT_NE(restarts[0].previous, nullptr);
  EXPECT_FALSE(restarts[0].delay);
}

TEST(SoakObserverTest, TheLastTerminationWithoutALaterRunIsPending) {
  SoakObserver obs;
  ContainerFeed c{obs, "soak-000"};
  c.running(0, 0.0);
  c.ended_at(0, 3.0, 0, "0", /*waiting=*/false);
  const SoakTermination* p = obs.find("soak/soak-000", kSoakContainer)->pending();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->seen_at, at_seconds(3.0));
  EXPECT_EQ(p->instance, 0);
}

TEST(SoakObserverTest, APodBeingDeletedIsNotObserved) {
  SoakObserver obs;
  ContainerFeed c{obs, "soak-000"};
  c.running(0, 0.0);
  model::Pod p = c.pod();
  p.metadata.deletion_timestamp = "2026-01-01T00:00:00Z";
  model::ContainerStatus s = c.status(0);
  s.state.terminated =
      model::ContainerStateTerminated{137, 9, "Error", "0", {}, {}, ContainerFeed::id(0)};
  p.status.container_statuses.push_back(s);
  obs.observe(p, at_seconds(5), model::WallTime{});
  EXPECT_TRUE(obs.find("soak/soak-000", kSoakContainer)->terminations.empty());
}

TEST(SoakObserverTest, AVersionThatArrivedLateCountsFromTheAgentsTimestamp) {
  SoakObserver obs;
  ContainerFeed c{obs, "soak-000"};
  const model::WallTime wall = model::WallTime{} + std::chrono::hours(1000);
  model::Pod p = c.pod();
  model::ContainerStatus s = c.status(0);
  s.state.running = model::ContainerStateRunning{wall};
  p.status.container_statuses = {s};
  // Arrives 3.5 s after the second its run started in: seen at most 1 s on.
  obs.observe(p, at_seconds(10), wall + std::chrono::milliseconds(3500));
  s = c.status(0);
  s.state.terminated = model::ContainerStateTerminated{
      3, 0, "Error", "0", wall, wall + std::chrono::seconds(2), ContainerFeed::id(0)};
  p.status.container_statuses = {s};
  // Arrives 0.4 s after the second it ended in: seen when it arrived.
  obs.observe(p, at_seconds(11), wall + std::chrono::milliseconds(2400));
  const SoakContainerHistory* h = obs.find("soak/soak-000", kSoakContainer);
  ASSERT_EQ(h->starts.size(), 1u);
  EXPECT_EQ(h->starts[0].seen_at, at_seconds(10 - 3.5 + 1));
  ASSERT_EQ(h->terminations.size(), 1u);
  EXPECT_EQ(h->terminations[0].seen_at, at_seconds(11));
}

TEST(SoakObserverTest, RunNumbersAreReadFromTheMessage) {
  EXPECT_EQ(parse_run_number("12"), 12);
  EXPECT_EQ(parse_run_number("0"), 0);
  EXPECT_EQ(parse_run_number(""), std::nullopt);
  EXPECT_EQ(parse_run_number("1x"), std::nullopt);
  EXPECT_EQ(parse_run_number("-1"), std::nullopt);
}

}  // namespace
}  // namespace podagent::agent
