#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <thread>
#include <utility>

namespace podagent::agent::testing {

// An io_context run on a thread of its own, so that a test can drive a
// server on it with blocking clients from the test's thread. The io_context
// exists from construction (fixtures hand it to their sinks and servers);
// start() runs it; join() lets it finish its work and waits. The owner must
// stop what runs on it (through run()) before join().
class IoThread {
 public:
  IoThread() : guard_(boost::asio::make_work_guard(io_)) {}
  ~IoThread() { join(); }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context& io() { return io_; }
  void start() { thread_ = std::thread([this] { io_.run(); }); }

  // Runs f on the io thread and waits until it has run.
  template <typename F>
  void run(F&& f) {
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  void join() {
    guard_.reset();
    if (thread_.joinable()) thread_.join();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

}  // namespace podagent::agent::testing
