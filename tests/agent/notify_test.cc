// The agent's sd_notify conversation with a fake systemd: a SOCK_DGRAM unix
// socket in a temp directory, named to the agent through its env lookup
// (not setenv: the test is threaded).

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "agent/agent.h"
#include "tests/agent/agent_test_util.h"

namespace podagent::agent {
namespace {

using namespace testing;

class FakeSystemd {
 public:
  explicit FakeSystemd(const fs::path& path) : path_(path.string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ADD_FAILURE() << "bind";
  }
  ~FakeSystemd() { ::close(fd_); }
  const std::string& path() const { return path_; }

  // The next datagram, or nullopt after kDeadline.
  std::optional<std::string> next() {
    pollfd p{fd_, POLLIN, 0};
    const int ms = static_cast<int>(std::chrono::milliseconds(kDeadline).count());
    if (::poll(&p, 1, ms) <= 0) return std::nullopt;
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(n));
  }
  // True when a datagram is waiting now.
  bool pending() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }
  // Datagrams until one starts with `prefix` (returned last), skipping
  // WATCHDOG=1 and STATUS= lines unless asked for.
  std::vector<std::string> until(const std::string& prefix) {
    std::vector<std::string> seen;
    while (auto d = next()) {
      seen.push_back(*d);
      if (d->starts_with(prefix)) break;
    }
    return seen;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

AgentOptions options_for(const config::AgentConfig& c, const std::string& notify_socket,
                         std::optional<std::string> watchdog_usec = std::nullopt) {
  AgentOptions options;
  options.config = c;
  options.env = [notify_socket,
                 watchdog_usec](std::string_view name) -> std::optional<std::string> {
    if (name == "NOTIFY_SOCKET") return notify_socket;
    if (name == "WATCHDOG_USEC") return watchdog_usec;
    return std::nullopt;
  };
  return options;
}

TEST(NotifyTest, ReadyOnlyOnceTheApiAnswersThenStatusThenStopping) {
  TempDir dir;
  config::AgentConfig c = test_config(dir.path());
  move_in(c.manifest_dir, "web.yaml",
          "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
          "  - {name: main, image: busybox}\n");
  FakeSystemd systemd(dir.path() / "notify.sock");
  RunningAgent agent(options_for(c, systemd.path()));
  ASSERT_TRUE(agent.start());

  std::optional<std::string> first = systemd.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "READY=1");
  // When READY=1 arrives the API already answers, the sources are read
  // (/readyz) and the manifest's pod is known.
  EXPECT_EQ(http(c.api.socket, "GET", "/readyz").status, 200);
  EXPECT_EQ(http(c.api.socket, "GET", "/api/v1/namespaces/default/pods/web-node1").status, 200);

  std::optional<std::string> second = systemd.next();
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->starts_with("STATUS=")) << *second;
  // The STATUS= line follows the pods: it reaches "running 1 of 1 pods".
  std::vector<std::string> statuses = systemd.until("STATUS=running 1 of 1 pods");
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back(), "STATUS=running 1 of 1 pods");

  agent.stop();
  std::vector<std::string> tail = systemd.until("STOPPING=1");
  ASSERT_FALSE(tail.empty());
  EXPECT_EQ(tail.back(), "STOPPING=1");
}

TEST(NotifyTest, NoReadyWhileTheApiCannotListen) {
  TempDir dir;
  config::AgentConfig c = test_config(dir.path());
  // A regular file where the socket should be: listen_unix refuses it.
  write_file(c.api.socket, "not a socket");
  FakeSystemd systemd(dir.path() / "notify.sock");
  RunningAgent agent(options_for(c, systemd.path()));
  EXPECT_FALSE(agent.start());
  // Nothing was sent (start() failed before anything ran on the
  // io_context): the agent never claimed readiness.
  EXPECT_FALSE(systemd.pending());
}

TEST(NotifyTest, WatchdogPingsAtHalfTheInterval) {
  TempDir dir;
  config::AgentConfig c = test_config(dir.path());
  FakeSystemd systemd(dir.path() / "notify.sock");
  // 20 ms: pings every 10 ms.
  RunningAgent agent(options_for(c, systemd.path(), "20000"));
  ASSERT_TRUE(agent.start());
  int pings = 0;
  while (pings < 3) {
    auto d = systemd.next();
    ASSERT_TRUE(d) << "only " << pings << " WATCHDOG=1";
    pings += *d == "WATCHDOG=1";
  }
  agent.stop();
}

}  // namespace
}  // namespace podagent::agent
