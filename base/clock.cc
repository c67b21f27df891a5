#include "base/clock.h"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cassert>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>
#include <optional>
#include <utility>

namespace podagent::base {

namespace asio = boost::asio;

asio::awaitable<void> Clock::sleep_until(SteadyTime deadline) {
  if (deadline <= now()) co_return;
  auto timer = make_timer(co_await asio::this_coro::executor);
  timer->expires_at(deadline);
  co_await timer->wait();
}

// ---------------------------------------------------------------- RealClock

namespace {

class RealTimer final : public Timer {
 public:
  explicit RealTimer(asio::any_io_executor executor) : timer_(std::move(executor)) {}

  void expires_at(SteadyTime deadline) override { timer_.expires_at(deadline); }
  void cancel() override { timer_.cancel(); }
  asio::awaitable<bool> wait() override {
    auto [ec] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }

 private:
  asio::steady_timer timer_;
};

}  // namespace

SteadyTime RealClock::now() const { return std::chrono::steady_clock::now(); }
WallClockTime RealClock::wall_now() const { return std::chrono::system_clock::now(); }
std::unique_ptr<Timer> RealClock::make_timer(asio::any_io_executor executor) {
  return std::make_unique<RealTimer>(std::move(executor));
}

// ---------------------------------------------------------------- FakeClock

namespace {

class FakeTimer;

// 2026-01-01T00:00:00Z: a fixed wall-clock start, so that tests can assert
// timestamps exactly.
constexpr std::chrono::seconds kWallStart{1767225600};
// Monotonic time starts a day after the steady epoch, so that a default
// SteadyTime{} is never "now" and now - 10 min is still after it.
constexpr SteadyTime kSteadyStart = SteadyTime{} + std::chrono::hours(24);

// The clock's time and its pending waits, ordered by (deadline, timer
// creation number). Shared with the timers, which may outlive the clock.
struct FakeClockState {
  using Key = std::pair<SteadyTime, uint64_t>;
  SteadyTime now = kSteadyStart;
  uint64_t next_timer_seq = 0;
  std::map<Key, FakeTimer*> waits;
};

// Pending fake waits are type-erased completion handlers that no asio
// service knows of. A coroutine waiting on a fake timer that lives in its own
// frame would form a cycle (frame -> timer -> handler -> frame) that the
// io_context's destruction could not break; this service destroys those
// handlers when the io_context shuts down, as asio does for its own timers.
class FakeWaitService final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;
  explicit FakeWaitService(asio::execution_context& ctx) : service(ctx) {}

  void add(FakeTimer* t) { pending_.insert(t); }
  void remove(FakeTimer* t) { pending_.erase(t); }
  bool shut_down() const { return shut_down_; }
  void shutdown() override;

 private:
  std::set<FakeTimer*> pending_;
  bool shut_down_ = false;
};

// A Timer on fake time. A pending wait is completed by posting its handler
// (never by calling it inline). It is not io_context work, so
// io_context::poll() returns when only fake waits remain.
class FakeTimer final : public Timer {
 public:
  using Handler = asio::any_completion_handler<void(bool)>;

  FakeTimer(std::shared_ptr<FakeClockState> clock, asio::any_io_executor executor)
      : clock_(std::move(clock)),
        executor_(std::move(executor)),
        service_(asio::use_service<FakeWaitService>(asio::query(executor_, asio::execution::context))),
        seq_(clock_->next_timer_seq++) {}
  ~FakeTimer() override {
    finish(false);
    *self_ = nullptr;
  }

  void expires_at(SteadyTime deadline) override {
    finish(false);
    deadline_ = deadline;
  }
  void cancel() override { finish(false); }

  asio::awaitable<bool> wait() override {
    co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(bool)>(
        [this](auto handler) { start(std::move(handler)); }, asio::use_awaitable);
  }

  // Completes the pending wait, if any, with `expired`.
  void finish(bool expired) {
    if (std::optional<Handler> handler = take()) post(std::move(*handler), expired);
  }
  // post() runs the handler on its own executor (the waiting coroutine's).
  void post(Handler handler, bool expired) { asio::post(executor_, asio::append(std::move(handler), expired)); }

  // Removes the pending wait, if any, and returns its handler.
  std::optional<Handler> take(bool from_slot = false) {
    if (!handler_) return std::nullopt;
    if (registered_) clock_->waits.erase(key());
    registered_ = false;
    service_.remove(this);
    // The slot's own handler must not be destroyed while it runs.
    if (slot_.is_connected() && !from_slot) slot_.clear();
    slot_ = asio::cancellation_slot();
    std::optional<Handler> handler = std::move(handler_);
    handler_.reset();
    return handler;
  }

 private:
  template <typename H>
  void start(H&& handler) {
    // At most one pending wait (the Timer contract); a second is a bug.
    if (handler_) std::abort();
    slot_ = asio::get_associated_cancellation_slot(handler);
    handler_.emplace(std::forward<H>(handler));
    service_.add(this);
    if (slot_.is_connected()) {
      // The signal may outlive this wait and this timer: the handler finds
      // the timer through a weak reference and acts only on its own wait.
      slot_.assign([self = std::weak_ptr<FakeTimer*>(self_), gen = ++wait_gen_](asio::cancellation_type) {
        auto timer = self.lock();
        if (!timer || !*timer || (*timer)->wait_gen_ != gen) return;
        if (auto h = (*timer)->take(/*from_slot=*/true)) (*timer)->post(std::move(*h), false);
      });
    }
    if (deadline_ <= clock_->now) {
      finish(true);
      return;
    }
    clock_->waits.emplace(key(), this);
    registered_ = true;
  }

  FakeClockState::Key key() const { return {deadline_, seq_}; }

  std::shared_ptr<FakeClockState> clock_;
  asio::any_io_executor executor_;
  FakeWaitService& service_;
  uint64_t seq_;
  SteadyTime deadline_{};
  std::optional<Handler> handler_;
  asio::cancellation_slot slot_;
  bool registered_ = false;
  uint64_t wait_gen_ = 0;
  std::shared_ptr<FakeTimer*> self_ = std::make_shared<FakeTimer*>(this);
};

void FakeWaitService::shutdown() {
  shut_down_ = true;
  std::vector<FakeTimer::Handler> handlers;
  while (!pending_.empty()) {
    if (auto h = (*pending_.begin())->take()) handlers.push_back(std::move(*h));
  }
  handlers.clear();  // destroys the waiting coroutines (and maybe timers)
}

}  // namespace

class FakeClock::Impl {
 public:
  explicit Impl(asio::io_context& io) : io(io), state(std::make_shared<FakeClockState>()) {}
  asio::io_context& io;
  std::shared_ptr<FakeClockState> state;
};

FakeClock::FakeClock(asio::io_context& io) : impl_(std::make_unique<Impl>(io)) {}
FakeClock::~FakeClock() = default;

SteadyTime FakeClock::now() const { return impl_->state->now; }

WallClockTime FakeClock::wall_now() const {
  auto since_start = impl_->state->now - kSteadyStart;
  return WallClockTime{} + kWallStart + std::chrono::duration_cast<WallClockTime::duration>(since_start);
}

std::unique_ptr<Timer> FakeClock::make_timer(asio::any_io_executor executor) {
  return std::make_unique<FakeTimer>(impl_->state, std::move(executor));
}

void FakeClock::advance(Duration d) { advance_to(now() + d); }

void FakeClock::advance_to(SteadyTime t) {
  FakeClockState& s = *impl_->state;
  settle();
  // One due wait at a time, each followed by a settle, so that the code
  // under test sees every deadline at its exact time and may arm new
  // timers that are due before `t`.
  while (!s.waits.empty() && s.waits.begin()->first.first <= t) {
    auto [key, timer] = *s.waits.begin();
    if (key.first > s.now) s.now = key.first;
    timer->finish(true);
    settle();
  }
  if (t > s.now) s.now = t;
  settle();
}

void FakeClock::settle() {
  asio::io_context& io = impl_->io;
  for (;;) {
    // poll() stops the context when it runs out of work; that is idle here.
    if (io.stopped()) io.restart();
    if (io.poll() == 0) break;
  }
}

size_t FakeClock::pending_waits() const { return impl_->state->waits.size(); }

}  // namespace podagent::base
