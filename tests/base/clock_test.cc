#include "base/clock.h"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace podagent::base {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class FakeClockTest : public ::testing::Test {
 protected:
  // co_spawn keeps the callable alive for the coroutine's life (a lambda
  // called at once would leave its frame with dangling captures).
  template <typename F>
  void spawn(F f) {
    asio::co_spawn(io_, std::move(f), asio::detached);
  }

  asio::io_context io_;
  FakeClock clock_{io_};
  SteadyTime t0_ = clock_.now();
};

TEST_F(FakeClockTest, StartsAtFixedWallTimeAndMovesBothClocks) {
  EXPECT_EQ(clock_.wall_now(), WallClockTime{} + std::chrono::seconds(1767225600));  // 2026-01-01
  clock_.advance(90s);
  EXPECT_EQ(clock_.now(), t0_ + 90s);
  EXPECT_EQ(clock_.wall_now(), WallClockTime{} + std::chrono::seconds(1767225600 + 90));
}

TEST_F(FakeClockTest, WakesWaitersInDeadlineOrderAtTheirTimes) {
  std::vector<std::pair<int, SteadyTime>> woken;
  for (int n : {3, 1, 2}) {
    spawn([&, n]() -> asio::awaitable<void> {
      co_await clock_.sleep_until(t0_ + std::chrono::seconds(n));
      woken.emplace_back(n, clock_.now());
    });
  }
  clock_.settle();
  EXPECT_EQ(clock_.pending_waits(), 3u);
  clock_.advance(999ms);
  EXPECT_TRUE(woken.empty());
  clock_.advance(10s);
  ASSERT_EQ(woken.size(), 3u);
  EXPECT_EQ(woken[0], std::make_pair(1, t0_ + 1s));
  EXPECT_EQ(woken[1], std::make_pair(2, t0_ + 2s));
  EXPECT_EQ(woken[2], std::make_pair(3, t0_ + 3s));
  EXPECT_EQ(clock_.now(), t0_ + 10999ms);
  EXPECT_EQ(clock_.pending_waits(), 0u);
}

TEST_F(FakeClockTest, TiesCompleteInTimerCreationOrder) {
  auto first = clock_.make_timer(io_.get_executor());
  auto second = clock_.make_timer(io_.get_executor());
  first->expires_at(t0_ + 5s);
  second->expires_at(t0_ + 5s);
  std::vector<std::string> woken;
  // The second timer's wait starts first; creation order still decides.
  spawn([&]() -> asio::awaitable<void> {
    if (co_await second->wait()) woken.push_back("second");
  });
  spawn([&]() -> asio::awaitable<void> {
    if (co_await first->wait()) woken.push_back("first");
  });
  clock_.advance(5s);
  EXPECT_EQ(woken, (std::vector<std::string>{"first", "second"}));
}

TEST_F(FakeClockTest, CancelCompletesWithFalseWithoutMovingTime) {
  auto timer = clock_.make_timer(io_.get_executor());
  timer->expires_at(t0_ + 1h);
  std::optional<bool> result;
  spawn([&]() -> asio::awaitable<void> { result = co_await timer->wait(); });
  clock_.settle();
  EXPECT_FALSE(result);
  timer->cancel();
  clock_.settle();
  EXPECT_EQ(result, false);
  EXPECT_EQ(clock_.now(), t0_);
  EXPECT_EQ(clock_.pending_waits(), 0u);
  timer->cancel();  // nothing pending: no effect
}

TEST_F(FakeClockTest, RearmCompletesPendingWaitWithFalseThenWaitsForNewDeadline) {
  auto timer = clock_.make_timer(io_.get_executor());
  timer->expires_at(t0_ + 10s);
  std::vector<std::pair<bool, SteadyTime>> results;
  spawn([&]() -> asio::awaitable<void> {
    results.emplace_back(co_await timer->wait(), clock_.now());
    results.emplace_back(co_await timer->wait(), clock_.now());
  });
  clock_.advance(2s);
  timer->expires_at(t0_ + 4s);
  clock_.advance(1s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], std::make_pair(false, t0_ + 2s));
  clock_.advance(20s);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1], std::make_pair(true, t0_ + 4s));
}

TEST_F(FakeClockTest, AdvanceAcrossSeveralDeadlinesRunsEachAtItsTime) {
  std::vector<SteadyTime> ticks;
  spawn([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 5; ++i) {
      co_await clock_.sleep_until(clock_.now() + 1s);
      ticks.push_back(clock_.now());
    }
  });
  clock_.advance(10s);
  EXPECT_EQ(ticks, (std::vector<SteadyTime>{t0_ + 1s, t0_ + 2s, t0_ + 3s, t0_ + 4s, t0_ + 5s}));
  EXPECT_EQ(clock_.now(), t0_ + 10s);
}

TEST_F(FakeClockTest, SleepUntilPastTimeCompletesWithoutAdvancing) {
  bool done = false;
  spawn([&]() -> asio::awaitable<void> {
    co_await clock_.sleep_until(t0_ - 1s);
    co_await clock_.sleep_until(t0_);
    done = true;
  });
  clock_.settle();
  EXPECT_TRUE(done);
  EXPECT_EQ(clock_.now(), t0_);
}

TEST_F(FakeClockTest, WaitOnExpiredTimerCompletesTrueAtOnce) {
  auto timer = clock_.make_timer(io_.get_executor());
  timer->expires_at(t0_ - 1ms);
  std::optional<bool> result;
  spawn([&]() -> asio::awaitable<void> { result = co_await timer->wait(); });
  clock_.settle();
  EXPECT_EQ(result, true);
}

TEST_F(FakeClockTest, OperationCancellationCompletesTheLosingWait) {
  using namespace asio::experimental::awaitable_operators;
  auto fast = clock_.make_timer(io_.get_executor());
  auto slow = clock_.make_timer(io_.get_executor());
  fast->expires_at(t0_ + 1s);
  slow->expires_at(t0_ + 5s);
  std::optional<size_t> winner;
  spawn([&]() -> asio::awaitable<void> {
    auto r = co_await (fast->wait() || slow->wait());
    winner = r.index();
  });
  clock_.settle();
  EXPECT_EQ(clock_.pending_waits(), 2u);
  clock_.advance(1s);
  EXPECT_EQ(winner, 0u);
  EXPECT_EQ(clock_.pending_waits(), 0u);
}

TEST_F(FakeClockTest, CancellationSignalCompletesWaitAndIsHarmlessAfterward) {
  asio::cancellation_signal signal;
  auto timer = clock_.make_timer(io_.get_executor());
  timer->expires_at(t0_ + 1h);
  std::optional<bool> result;
  asio::co_spawn(io_, [&]() -> asio::awaitable<void> { result = co_await timer->wait(); },
                 asio::bind_cancellation_slot(signal.slot(), asio::detached));
  clock_.settle();
  signal.emit(asio::cancellation_type::terminal);
  clock_.settle();
  EXPECT_EQ(result, false);
  EXPECT_EQ(clock_.pending_waits(), 0u);
  timer.reset();
  signal.emit(asio::cancellation_type::terminal);  // the timer is gone: no effect
  clock_.settle();
}

TEST_F(FakeClockTest, WaitsArmedByWokenCodeBeforeTargetRunInTheSameAdvance) {
  std::vector<SteadyTime> times;
  spawn([&]() -> asio::awaitable<void> {
    co_await clock_.sleep_until(t0_ + 3s);
    times.push_back(clock_.now());
    co_await clock_.sleep_until(t0_ + 3s);  // already due: at once
    times.push_back(clock_.now());
    co_await clock_.sleep_until(t0_ + 7s);
    times.push_back(clock_.now());
  });
  clock_.advance(8s);
  EXPECT_EQ(times, (std::vector<SteadyTime>{t0_ + 3s, t0_ + 3s, t0_ + 7s}));
}

TEST(FakeClockLifetime, DestroyingIoContextDestroysWaitingCoroutines) {
  bool frame_destroyed = false;
  struct Guard {
    bool* flag;
    ~Guard() { *flag = true; }
  };
  {
    asio::io_context io;
    FakeClock clock(io);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          Guard guard{&frame_destroyed};
          auto timer = clock.make_timer(co_await asio::this_coro::executor);
          timer->expires_at(clock.now() + 1h);
          co_await timer->wait();
        },
        asio::detached);
    clock.settle();
    EXPECT_EQ(clock.pending_waits(), 1u);
    EXPECT_FALSE(frame_destroyed);
  }
  EXPECT_TRUE(frame_destroyed);
}

TEST(RealClock, TimerExpiredInThePastCompletesTrueAndCancelCompletesFalse) {
  asio::io_context io;
  RealClock clock;
  auto past = clock.make_timer(io.get_executor());
  auto future = clock.make_timer(io.get_executor());
  past->expires_at(clock.now() - 1s);
  future->expires_at(clock.now() + 1h);
  std::optional<bool> past_result, future_result;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { past_result = co_await past->wait(); }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { future_result = co_await future->wait(); },
                 asio::detached);
  io.poll();
  future->cancel();
  io.run();  // returns: nothing left to wait for
  EXPECT_EQ(past_result, true);
  EXPECT_EQ(future_result, false);
  auto wall = clock.wall_now();
  EXPECT_GT(wall, WallClockTime{} + std::chrono::hours(24 * 365 * 50));
}

}  // namespace
}  // namespace podagent::base
