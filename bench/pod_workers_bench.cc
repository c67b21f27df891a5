// Density and reconcile cost of PodWorkers on the FakeRuntime: admits N pods
// of 3 containers each (1 init container, 2 app containers) with
// zero-latency runtime operations and reports
//   - the time until every pod is Running,
//   - the time of one full resync of all pods (sync_all until settled),
//   - memory per pod: RSS growth (/proc/self/statm) and heap bytes in use
//     (mallinfo2), for the agent and the fake runtime together, for the
//     fake runtime's own state alone (the same pods built without workers),
//     and their difference: the agent's.
// Figures are printed beside the targets; nothing is asserted.
//
//   pod_workers_bench [pods [resyncs]]   (default 10000 pods, 5 resyncs)

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "podworker/pod_workers.h"
#include "podworker/spec_hash.h"
#include "runtime/fake/fake_runtime.h"

namespace {

namespace asio = boost::asio;
using namespace podagent;
using Clock = std::chrono::steady_clock;

struct Memory {
  size_t rss = 0;   // bytes resident
  size_t heap = 0;  // bytes allocated with malloc and not freed
};

Memory memory_now() {
  Memory m;
  std::ifstream statm("/proc/self/statm");
  size_t size = 0, resident = 0;
  if (statm >> size >> resident) m.rss = resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
  struct mallinfo2 mi = mallinfo2();
  m.heap = mi.uordblks + mi.hblkhd;
  return m;
}

// Wall time and this process's CPU time, in ms: on a shared machine the
// CPU time is the steadier figure.
struct Stopwatch {
  Clock::time_point wall = Clock::now();
  double cpu = cpu_ms();
  static double cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
  }
  double wall_ms() const { return std::chrono::duration<double, std::milli>(Clock::now() - wall).count(); }
  double cpu_spent() const { return cpu_ms() - cpu; }
};

model::Container container(const std::string& name) {
  model::Container c;
  c.name = name;
  c.image = "registry.example/app/" + name + ":1.0";
  c.command = {"/bin/" + name, "--serve"};
  c.env.push_back(model::EnvVar{"MODE", "production", std::nullopt});
  return c;
}

model::Pod make_pod(size_t i) {
  model::Pod pod;
  pod.metadata.name = "pod-" + std::to_string(i);
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "00000000-0000-4000-8000-" + std::to_string(100000000000 + i);
  pod.metadata.labels["app"] = "bench";
  pod.spec.restart_policy = "Always";
  pod.spec.termination_grace_period_seconds = 30;
  pod.spec.init_containers.push_back(container("init"));
  pod.spec.containers.push_back(container("web"));
  pod.spec.containers.push_back(container("sidecar-log"));
  return pod;
}

void script(runtime::FakeRuntime& rt) { rt.script("init").exit_after(std::chrono::seconds(0), 0).repeat_last(); }

// The fake runtime's own state for `pods`: the sandbox and containers the
// workers would create, made directly, and its memory.
Memory runtime_alone(const std::vector<model::Pod>& pods) {
  asio::io_context io;
  base::FakeClock clock(io);
  Memory before = memory_now();
  {
    runtime::FakeRuntime rt(clock, io.get_executor(), runtime::FakeRuntime::Options{.record_calls = false});
    script(rt);
    for (const auto& p : pods) {
      asio::co_spawn(
          io,
          [&rt, &p]() -> asio::awaitable<void> {
            auto shared = std::make_shared<const model::Pod>(p);
            auto hashes = podworker::hash_pod_containers(p);
            runtime::SandboxConfig sc{base::PodUid(p.metadata.uid), p.metadata.name, p.metadata.namespace_, 0, shared, {}};
            auto sb = co_await rt.run_sandbox(sc);
            auto run = [&](const model::Container& c, runtime::ContainerKind kind,
                           const std::string& hash) -> asio::awaitable<void> {
              runtime::ContainerConfig cc{c, kind, 0, hash, shared, {}};
              auto id = co_await rt.create_container(*sb, cc);
              auto st = co_await rt.start_container(*id);
              (void)st;
            };
            co_await run(p.spec.init_containers[0], runtime::ContainerKind::Init, hashes.init[0]);
            co_await run(p.spec.containers[0], runtime::ContainerKind::App, hashes.app[0]);
            co_await run(p.spec.containers[1], runtime::ContainerKind::App, hashes.app[1]);
          },
          asio::detached);
    }
    clock.settle();
    Memory after = memory_now();
    std::printf("fake runtime alone: %zu sandboxes, %zu containers\n", rt.sandbox_count(), rt.container_count());
    return {after.rss - std::min(after.rss, before.rss), after.heap - std::min(after.heap, before.heap)};
  }
}

void report(const char* what, double value, const char* unit, double target) {
  std::printf("  %-34s %10.1f %-6s (target < %g %s)%s\n", what, value, unit, target, unit,
              value < target ? "" : "  <-- over target");
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  std::vector<model::Pod> pods;
  pods.reserve(n);
  for (size_t i = 0; i < n; ++i) pods.push_back(make_pod(i));
  malloc_trim(0);

  Memory rt_only = runtime_alone(pods);
  malloc_trim(0);

  asio::io_context io;
  base::FakeClock clock(io);
  runtime::FakeRuntime rt(clock, io.get_executor(), runtime::FakeRuntime::Options{.record_calls = false});
  script(rt);
  podworker::PodWorkers::Options options;
  options.node_name = "bench-node";
  options.host_ip = "10.0.0.1";
  size_t published = 0;
  options.on_status = [&](const base::PodUid&, const model::PodStatus&) { ++published; };
  Memory before = memory_now();
  podworker::PodWorkers workers(rt, clock, io.get_executor(), std::move(options));

  Stopwatch t0;
  for (const auto& p : pods) workers.update(p);
  clock.settle();
  const double converge_ms = t0.wall_ms(), converge_cpu = t0.cpu_spent();
  const uint64_t converge_syncs = workers.sync_count();
  size_t all_running = 0;
  for (const auto& p : pods) {
    auto s = workers.status(base::PodUid(p.metadata.uid));
    all_running += s && s->phase == model::kPhaseRunning;
  }
  Memory after = memory_now();

  std::vector<double> resyncs, resyncs_cpu;
  for (int i = 0; i < std::max(rounds, 1); ++i) {
    uint64_t syncs = workers.sync_count();
    Stopwatch t1;
    workers.sync_all();
    clock.settle();
    resyncs.push_back(t1.wall_ms());
    resyncs_cpu.push_back(t1.cpu_spent());
    if (i == 0) std::printf("one resync ran %llu syncs\n", static_cast<unsigned long long>(workers.sync_count() - syncs));
  }
  std::sort(resyncs.begin(), resyncs.end());
  std::sort(resyncs_cpu.begin(), resyncs_cpu.end());

  const double total_rss = double(after.rss - std::min(after.rss, before.rss)) / double(n);
  const double total_heap = double(after.heap - std::min(after.heap, before.heap)) / double(n);
  const double rt_heap = double(rt_only.heap) / double(n);
  std::printf("pod_workers_bench: %zu pods x 3 containers (1 init, 2 app), FakeRuntime, zero latency\n", n);
  std::printf("  pods Running: %zu of %zu, %llu syncs and %zu statuses published to converge, %zu containers running\n",
              all_running, n, static_cast<unsigned long long>(converge_syncs), published, rt.running_containers());
  report("time until all Running", converge_ms, "ms", 1000);
  std::printf("  %-34s %10.1f ms\n", "  of which CPU time", converge_cpu);
  report("full resync (median)", resyncs[resyncs.size() / 2], "ms", 50);
  std::printf("  %-34s %10.1f ms\n", "full resync (best)", resyncs.front());
  std::printf("  %-34s %10.1f ms\n", "full resync CPU time (median)", resyncs_cpu[resyncs_cpu.size() / 2]);
  report("agent heap per pod", (total_heap - rt_heap) / 1024.0, "KiB", 20);
  std::printf("  %-34s %10.1f KiB\n", "agent + fake runtime heap per pod", total_heap / 1024.0);
  std::printf("  %-34s %10.1f KiB\n", "fake runtime alone heap per pod", rt_heap / 1024.0);
  std::printf("  %-34s %10.1f KiB\n", "agent + fake runtime RSS per pod", total_rss / 1024.0);
  std::printf("  %-34s %10.1f KiB\n", "fake runtime alone RSS per pod", double(rt_only.rss) / double(n) / 1024.0);
  workers.stop();
  clock.settle();
  return 0;
}
