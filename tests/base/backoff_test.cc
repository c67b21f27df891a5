#include "base/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace podagent::base {
namespace {

using namespace std::chrono_literals;

const SteadyTime kT0 = SteadyTime{} + 24h;

TEST(Backoff, DoublesFromTenSecondsAndCapsAtFiveMinutes) {
  Backoff b;
  const std::string key = Backoff::make_key("uid-1", "app", "h1");
  std::vector<Duration> delays;
  SteadyTime t = kT0;
  for (int i = 0; i < 8; ++i) {
    Duration d = b.record_failure(key, t);
    delays.push_back(d);
    EXPECT_EQ(b.current_delay(key), d);
    EXPECT_EQ(b.restart_allowed_at(key), t + d);
    t += d + 1s;  // restarted and failed again soon after
  }
  EXPECT_EQ(delays, (std::vector<Duration>{10s, 20s, 40s, 80s, 160s, 300s, 300s, 300s}));
}

TEST(Backoff, InBackoffUntilExactlyTheRestartTime) {
  Backoff b;
  b.record_failure("k", kT0);
  EXPECT_TRUE(b.in_backoff("k", kT0));
  EXPECT_TRUE(b.in_backoff("k", kT0 + 10s - 1ns));
  EXPECT_FALSE(b.in_backoff("k", kT0 + 10s));
  EXPECT_FALSE(b.in_backoff("unknown", kT0));
  EXPECT_EQ(b.restart_allowed_at("unknown"), std::nullopt);
  EXPECT_EQ(b.current_delay("unknown"), Duration::zero());
}

TEST(Backoff, ResetsAfterMoreThanTenMinutesWithoutFailure) {
  Backoff b;
  b.record_failure("k", kT0);
  b.record_failure("k", kT0 + 1min);  // 20 s
  EXPECT_EQ(b.record_failure("k", kT0 + 1min + 10min + 1ns), 10s);
}

// Decided: a failure exactly `reset` after the previous one is not "more
// than" reset later, so the delay keeps doubling.
TEST(Backoff, FailureExactlyTenMinutesLaterStillDoubles) {
  Backoff b;
  b.record_failure("k", kT0);
  EXPECT_EQ(b.record_failure("k", kT0 + 10min), 20s);
}

TEST(Backoff, PerKeyOptionsOverrideDefaults) {
  Backoff b;
  Backoff::Options fast{.initial = 1s, .max = 4s, .reset = 30s};
  std::vector<Duration> delays;
  for (int i = 0; i < 4; ++i) delays.push_back(b.record_failure("fast", kT0 + i * 1s, fast));
  EXPECT_EQ(delays, (std::vector<Duration>{1s, 2s, 4s, 4s}));
  EXPECT_EQ(b.record_failure("fast", kT0 + 3s + 30s + 1ns, fast), 1s);
  EXPECT_EQ(b.record_failure("slow", kT0), 10s);  // defaults for other keys
}

TEST(Backoff, AgentWideOptions) {
  Backoff b(Backoff::Options{.initial = 2s, .max = 5s, .reset = 1min});
  EXPECT_EQ(b.options().initial, 2s);
  EXPECT_EQ(b.record_failure("k", kT0), 2s);
  EXPECT_EQ(b.record_failure("k", kT0 + 1s), 4s);
  EXPECT_EQ(b.record_failure("k", kT0 + 2s), 5s);
  EXPECT_EQ(b.record_failure("k", kT0 + 2s + 1min + 1ns), 2s);
}

TEST(Backoff, InitialLargerThanMaxIsCapped) {
  Backoff b(Backoff::Options{.initial = 10s, .max = 3s, .reset = 1min});
  EXPECT_EQ(b.record_failure("k", kT0), 3s);
  EXPECT_EQ(b.record_failure("k", kT0 + 1s), 3s);
}

TEST(Backoff, GcForgetsEntriesPastTheirOwnResetPeriod) {
  Backoff b;
  b.record_failure("default", kT0);
  b.record_failure("short", kT0, Backoff::Options{.initial = 1s, .max = 2s, .reset = 1min});
  EXPECT_EQ(b.size(), 2u);
  b.gc(kT0 + 1min);  // exactly the reset period: kept
  EXPECT_EQ(b.size(), 2u);
  b.gc(kT0 + 1min + 1ns);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.restart_allowed_at("short"), std::nullopt);
  b.gc(kT0 + 10min + 1ns);
  EXPECT_EQ(b.size(), 0u);
}

TEST(Backoff, ForgetStartsAfresh) {
  Backoff b;
  b.record_failure("k", kT0);
  b.record_failure("k", kT0 + 1s);
  b.forget("k");
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.record_failure("k", kT0 + 2s), 10s);
}

TEST(Backoff, MakeKeyJoinsAllThreePartsUnambiguously) {
  EXPECT_EQ(Backoff::make_key("uid", "app", "abc"), "uid/app/abc");
  EXPECT_NE(Backoff::make_key("u", "ab", "c"), Backoff::make_key("u", "a", "bc"));
  EXPECT_NE(Backoff::make_key("ua", "b", "c"), Backoff::make_key("u", "ab", "c"));
  // A changed spec hash is a different key, so it starts afresh.
  Backoff b;
  b.record_failure(Backoff::make_key("u", "app", "h1"), kT0);
  b.record_failure(Backoff::make_key("u", "app", "h1"), kT0 + 1s);
  EXPECT_EQ(b.record_failure(Backoff::make_key("u", "app", "h2"), kT0 + 2s), 10s);
}

}  // namespace
}  // namespace podagent::base
