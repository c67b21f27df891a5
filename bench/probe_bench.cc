// The probers' cost: N httpGet, then N tcpSocket probes, each at a 1 s
// period against a small HTTP server on 127.0.0.1 in this process, then N
// bare connects at the same rate for comparison.
//
//   probe_bench [probes [seconds]]   # default 1000 probes, 10 s per phase
//
// The prober runs as in the agent: every probe loop a coroutine on one
// io_context thread (this one), start times spread evenly over the period.
// The server runs on a thread of its own and its CPU is not counted: the
// CPU figure is getrusage(RUSAGE_THREAD) of the probers' thread, user +
// system, which includes the kernel's work for the client side's system
// calls (loopback delivery of what the client sends happens in them).
// It is normalised to "% of one core for 1,000 probes per second".
// Latency: each probe's duration (connect, request, response, close) as
// the probe loop sees it, median and p99, against a bare asio connect.
// The floor under all of them: the same number of blocking socket(),
// connect(), close() calls per second from one plain thread, no event loop.
// Prints figures; asserts nothing.

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "probes/prober.h"
#include "runtime/fake/fake_runtime.h"

namespace {

namespace net = boost::asio;
using net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using podagent::probes::ProbeResult;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

// The server: answers each request with a small 200 and closes; a
// connection that sends nothing (tcpSocket) is closed when its peer is.
net::awaitable<void> serve(tcp::socket socket) {
  net::streambuf buffer(8192);
  auto [ec, n] = co_await net::async_read_until(socket, buffer, "\r\n\r\n", kTuple);
  (void)n;
  if (ec) co_return;
  static const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  co_await net::async_write(socket, net::buffer(reply), kTuple);
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec == net::error::operation_aborted) co_return;
    if (!ec) net::co_spawn(acceptor.get_executor(), serve(std::move(socket)), net::detached);
  }
}

// User and system CPU time of the calling thread.
std::pair<double, double> cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return {seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

struct Phase {
  std::vector<double> durations_ms;
  size_t failures = 0;
  double cpu = 0;  // user + system
  double user = 0;
  double wall = 0;
};

using Attempt = std::function<net::awaitable<bool>()>;

// One probe loop: first run at `offset` into the period, then every period.
net::awaitable<void> loop(Attempt attempt, Clock::duration offset, Clock::time_point start,
                          Clock::time_point end, Phase& phase) {
  net::steady_timer timer(co_await net::this_coro::executor);
  for (Clock::time_point next = start + offset; next < end; next += 1s) {
    timer.expires_at(next);
    co_await timer.async_wait(kTuple);
    const auto t0 = Clock::now();
    const bool ok = co_await attempt();
    phase.durations_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!ok) ++phase.failures;
  }
}

Phase run_phase(net::io_context& io, size_t probes, std::chrono::seconds length,
                const std::function<Attempt()>& make_attempt) {
  Phase phase;
  phase.durations_ms.reserve(probes * length.count());
  const auto start = Clock::now() + 100ms;
  const auto end = start + length;
  for (size_t i = 0; i < probes; ++i) {
    const auto offset = std::chrono::duration_cast<Clock::duration>(1s) * i / probes;
    net::co_spawn(io, loop(make_attempt(), offset, start, end, phase), net::detached);
  }
  const auto [user0, system0] = cpu_seconds();
  const auto wall0 = Clock::now();
  io.restart();
  io.run();
  const auto [user1, system1] = cpu_seconds();
  phase.user = user1 - user0;
  phase.cpu = phase.user + system1 - system0;
  phase.wall = std::chrono::duration<double>(Clock::now() - wall0).count();
  return phase;
}

// `probes` connect-and-close cycles per second for `length`, each a blocking
// socket/connect/close on this thread, paced to absolute deadlines: what a
// connection per probe costs the kernel here, with nothing of ours around it.
Phase syscall_floor(uint16_t port, size_t probes, std::chrono::seconds length) {
  Phase phase;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto [user0, system0] = cpu_seconds();
  const auto start = Clock::now();
  const size_t total = probes * static_cast<size_t>(length.count());
  for (size_t i = 0; i < total; ++i) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(1s) * i / probes);
    const auto t0 = Clock::now();
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    if (fd >= 0) ::close(fd);
    phase.durations_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!ok) ++phase.failures;
  }
  const auto [user1, system1] = cpu_seconds();
  phase.user = user1 - user0;
  phase.cpu = phase.user + system1 - system0;
  phase.wall = std::chrono::duration<double>(Clock::now() - start).count();
  return phase;
}

void report(const char* name, Phase& p, const Phase* bare) {
  std::sort(p.durations_ms.begin(), p.durations_ms.end());
  const size_t n = p.durations_ms.size();
  const double median = n ? p.durations_ms[n / 2] : 0;
  const double p99 = n ? p.durations_ms[std::min(n - 1, n * 99 / 100)] : 0;
  // CPU seconds per probe x 1,000 probes per second = cores; in percent.
  const double percent = n ? p.cpu / static_cast<double>(n) * 1000 * 100 : 0;
  fmt::print("{:<10} {:>7} probes in {:5.2f} s, {} failed; CPU {:6.3f} s = {:5.2f}% of a core per 1,000 "
             "probes/s (user {:.2f}%); duration median {:.3f} ms, p99 {:.3f} ms",
             name, n, p.wall, p.failures, p.cpu, percent, n ? p.user / static_cast<double>(n) * 1e5 : 0, median,
             p99);
  if (bare && !bare->durations_ms.empty()) {
    const size_t m = bare->durations_ms.size();
    fmt::print(" (added vs. bare connect: median {:+.3f} ms, p99 {:+.3f} ms)", median - bare->durations_ms[m / 2],
               p99 - bare->durations_ms[std::min(m - 1, m * 99 / 100)]);
  }
  fmt::print("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const size_t probes = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000;
  const std::chrono::seconds length(argc > 2 ? std::strtol(argv[2], nullptr, 10) : 10);

  net::io_context server_io;
  tcp::acceptor acceptor(server_io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  acceptor.listen(4096);
  const uint16_t port = acceptor.local_endpoint().port();
  net::co_spawn(server_io, accept_loop(acceptor), net::detached);
  std::thread server([&] { server_io.run(); });

  net::io_context io;
  podagent::base::RealClock clock;
  podagent::runtime::FakeRuntime runtime(clock, io.get_executor());
  auto prober = podagent::probes::make_prober(runtime);
  podagent::probes::ProbeTarget target;
  target.pod_ip = "127.0.0.1";
  podagent::model::Handler http;
  http.http_get.emplace();
  http.http_get->path = "/healthz";
  http.http_get->port.value = int64_t{port};
  podagent::model::Handler tcp_handler;
  tcp_handler.tcp_socket.emplace();
  tcp_handler.tcp_socket->port.value = int64_t{port};

  auto probe_with = [&](const podagent::model::Handler& h) {
    return [&] {
      return Attempt([&]() -> net::awaitable<bool> {
        auto out = co_await prober->probe(target, h, 1s);
        co_return out.result == ProbeResult::Success;
      });
    };
  };
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  auto bare_connect = [&] {
    return Attempt([&]() -> net::awaitable<bool> {
      tcp::socket socket(co_await net::this_coro::executor);
      auto [ec] = co_await socket.async_connect(endpoint, kTuple);
      co_return !ec;
    });
  };

  fmt::print("{} probe loops at a 1 s period, {} s per phase, server on 127.0.0.1:{}\n", probes, length.count(),
             port);
  Phase floor = syscall_floor(port, probes, length);
  Phase bare = run_phase(io, probes, length, bare_connect);
  Phase http_phase = run_phase(io, probes, length, probe_with(http));
  Phase tcp_phase = run_phase(io, probes, length, probe_with(tcp_handler));
  report("syscalls", floor, nullptr);
  report("bare", bare, nullptr);
  report("httpGet", http_phase, &bare);
  report("tcpSocket", tcp_phase, &bare);

  acceptor.close();
  server_io.stop();
  server.join();
  return 0;
}
