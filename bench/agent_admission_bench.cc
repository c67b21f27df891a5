// The delay from a manifest being moved into the manifest directory to its
// pod being admitted, measured inside one process: the whole Agent (fake
// runtime, real inotify, the API on a unix socket) runs on its own
// io_context thread, and a PodStore subscriber on that thread timestamps
// the pod's events against the moment just before rename(2).
//
//   agent_admission_bench [rounds]   # default 200
//
// Two figures per round:
//   stored    the pod is in the store (ADDED): inotify woke the source, it
//             read and decoded the file, and the composer took the snapshot;
//   admitted  the first status the pod worker published, i.e. admission
//             passed and the first sync ran (phase Pending or Running).
// Prints figures; asserts nothing.

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "base/log.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using podagent::agent::Agent;
using podagent::agent::AgentOptions;
using podagent::agent::PodStore;
using podagent::agent::WatchEvent;
using podagent::agent::WatchEventType;

namespace {

struct Times {
  std::optional<Clock::time_point> stored;
  std::optional<Clock::time_point> admitted;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

void print(const char* what, const std::vector<double>& ms) {
  fmt::print("{:<9} p50 {:7.3f} ms  p90 {:7.3f} ms  p99 {:7.3f} ms  max {:7.3f} ms  (n={})\n", what,
             percentile(ms, 0.5), percentile(ms, 0.9), percentile(ms, 0.99),
             ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()), ms.size());
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 200;
  podagent::base::set_log_level(podagent::base::LogLevel::Error);
  char pattern[] = "/tmp/podagent-bench-XXXXXX";
  const fs::path dir = ::mkdtemp(pattern);
  podagent::config::AgentConfig c;
  c.node_name = "bench";
  c.manifest_dir = (dir / "manifests").string();
  c.state_dir = (dir / "state").string();
  c.api.socket = (dir / "api.sock").string();
  c.runtime.backend = "fake";
  fs::create_directories(c.manifest_dir);

  boost::asio::io_context io;
  AgentOptions options;
  options.config = c;
  options.env = [](std::string_view) { return std::optional<std::string>(); };
  std::promise<void> ready;
  options.on_ready = [&] { ready.set_value(); };
  Agent agent(io, options);
  if (auto s = agent.start(); !s) {
    fmt::print(stderr, "start: {}\n", s.error().to_string());
    return 1;
  }
  std::mutex mu;
  std::condition_variable changed;
  std::map<std::string, Times> times;  // by pod name
  PodStore::Subscription subscription;
  boost::asio::post(io, [&] {
    subscription = agent.store().subscribe([&](const WatchEvent& e) {
      const auto now = Clock::now();
      std::lock_guard lock(mu);
      Times& t = times[e.object->metadata.name];
      if (e.type == WatchEventType::Added && !t.stored) t.stored = now;
      // After ADDED, a static pod changes only by the statuses its worker
      // publishes: the first MODIFIED is the first status after admission.
      if (e.type == WatchEventType::Modified && !t.admitted) t.admitted = now;
      changed.notify_all();
    });
  });
  std::thread runner([&] { io.run(); });
  ready.get_future().wait();

  std::vector<double> stored_ms, admitted_ms;
  for (int i = 0; i < rounds; ++i) {
    const std::string name = fmt::format("p{}", i);
    const fs::path hidden = dir / fmt::format("{}.yaml", name);  // outside the watched dir
    {
      std::ofstream out(hidden);
      out << "apiVersion: v1\nkind: Pod\nmetadata: {name: " << name
          << "}\nspec:\n  containers:\n  - {name: main, image: busybox}\n";
    }
    const auto start = Clock::now();
    fs::rename(hidden, fs::path(c.manifest_dir) / hidden.filename());
    const std::string pod = name + "-bench";
    const auto give_up = start + std::chrono::seconds(10);
    std::unique_lock lock(mu);
    const bool done = changed.wait_until(lock, give_up, [&] {
      const Times& t = times[pod];
      return t.stored && t.admitted;
    });
    if (!done) {
      fmt::print(stderr, "pod {} not admitted within 10 s\n", pod);
      continue;
    }
    const Times& t = times[pod];
    stored_ms.push_back(std::chrono::duration<double, std::milli>(*t.stored - start).count());
    admitted_ms.push_back(std::chrono::duration<double, std::milli>(*t.admitted - start).count());
  }
  boost::asio::post(io, [&] {
    subscription = {};
    agent.stop();
  });
  runner.join();
  std::error_code ec;
  fs::remove_all(dir, ec);

  fmt::print("manifest moved in -> pod, {} rounds (one more pod each round):\n", rounds);
  print("stored", stored_ms);
  print("admitted", admitted_ms);
  fmt::print("target: admitted < 5 ms after the move\n");
  return 0;
}
