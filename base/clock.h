#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace boost::asio {
class io_context;
}

#include <chrono>
#include <memory>

namespace podagent::base {

using SteadyTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;
using WallClockTime = std::chrono::system_clock::time_point;

// A one-shot timer bound to a Clock, used as the agent's only way to wait.
// It follows asio's timer contract: setting the expiry or cancelling
// completes a pending wait early with `false`.
//
// A Timer belongs to the io_context thread that created it; it is not
// thread-safe.
class Timer {
 public:
  virtual ~Timer() = default;
  // Sets the expiry; a pending wait completes with false.
  virtual void expires_at(SteadyTime deadline) = 0;
  // Completes a pending wait with false. No effect when none is pending.
  virtual void cancel() = 0;
  // Completes with true once now() >= expiry, or false when cancelled or
  // re-armed first. At most one wait may be pending at a time.
  virtual boost::asio::awaitable<bool> wait() = 0;
};

// The source of time. Monotonic time (now) for intervals and deadlines; wall
// time only for timestamps shown to users.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime now() const = 0;
  virtual WallClockTime wall_now() const = 0;
  // A timer on `executor` (the io_context the caller runs on).
  virtual std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) = 0;

  // Completes at `deadline` (at once when it has passed).
  boost::asio::awaitable<void> sleep_until(SteadyTime deadline);
};

// The machine's clocks, with asio steady timers.
class RealClock final : public Clock {
 public:
  SteadyTime now() const override;
  WallClockTime wall_now() const override;
  std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) override;
};

// A clock that moves only when a test says so. Its wall time starts at a
// fixed date and moves with its monotonic time.
//
// advance(d) moves time forward to each due timer in deadline order (ties in
// creation order), completes that timer's wait and runs the io_context until
// it is idle before moving on, so the code under test sees every deadline at
// its exact time. Owned and driven by the test's thread, which must also be
// the io_context's thread.
class FakeClock final : public Clock {
 public:
  class Impl;
  explicit FakeClock(boost::asio::io_context& io);
  ~FakeClock() override;

  SteadyTime now() const override;
  WallClockTime wall_now() const override;
  std::unique_ptr<Timer> make_timer(boost::asio::any_io_executor executor) override;

  void advance(Duration d);
  void advance_to(SteadyTime t);
  // Runs the io_context until idle without moving time.
  void settle();
  // Number of timers with a pending wait.
  size_t pending_waits() const;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace podagent::base
