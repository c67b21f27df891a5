#include "agent/systemd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

namespace podagent::agent {
namespace {

using std::chrono::microseconds;

SystemdNotifier::EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A bound SOCK_DGRAM unix socket playing systemd's side, at a filesystem
// path or (name starting with '@') in the abstract namespace.
class FakeSystemd {
 public:
  explicit FakeSystemd(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0) << std::strerror(errno);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = offsetof(sockaddr_un, sun_path) + name.size();
    if (name[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      len += 1;
    }
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
  }
  ~FakeSystemd() { ::close(fd_); }

  // The next queued datagram, or nullopt when none is queued (no waiting:
  // a unix datagram is queued by the time sendto returns).
  std::optional<std::string> next() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
      return std::nullopt;
    }
    return std::string(buf, n);
  }

 private:
  int fd_ = -1;
};

class SystemdNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::path(::testing::TempDir()) / "sdnotify-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(SystemdNotifyTest, SendsEachMessageAsOneDatagramToAPath) {
  const std::string path = (dir_ / "notify").string();
  FakeSystemd systemd(path);
  SystemdNotifier notifier(env_of({{"NOTIFY_SOCKET", path}}));
  ASSERT_TRUE(notifier.enabled());

  ASSERT_TRUE(notifier.ready());
  ASSERT_TRUE(notifier.status("3 pods running\nsecond line"));
  ASSERT_TRUE(notifier.watchdog());
  ASSERT_TRUE(notifier.stopping());
  ASSERT_TRUE(notifier.notify("READY=1\nSTATUS=both"));

  EXPECT_EQ(systemd.next(), "READY=1");
  EXPECT_EQ(systemd.next(), "STATUS=3 pods running second line");
  EXPECT_EQ(systemd.next(), "WATCHDOG=1");
  EXPECT_EQ(systemd.next(), "STOPPING=1");
  EXPECT_EQ(systemd.next(), "READY=1\nSTATUS=both");
  EXPECT_EQ(systemd.next(), std::nullopt);
}

TEST_F(SystemdNotifyTest, SendsToAnAbstractSocket) {
  const std::string name = "@podagent-test-sdnotify-" + dir_.filename().string();
  FakeSystemd systemd(name);
  SystemdNotifier notifier(env_of({{"NOTIFY_SOCKET", name}}));
  ASSERT_TRUE(notifier.ready());
  EXPECT_EQ(systemd.next(), "READY=1");
  EXPECT_EQ(systemd.next(), std::nullopt);
}

TEST_F(SystemdNotifyTest, UnsetSocketIsANoOp) {
  SystemdNotifier notifier(env_of({{"WATCHDOG_USEC", "1000000"}}));
  EXPECT_FALSE(notifier.enabled());
  EXPECT_TRUE(notifier.ready());
  EXPECT_TRUE(notifier.status("x"));
  EXPECT_TRUE(notifier.watchdog());
  EXPECT_TRUE(notifier.stopping());
  EXPECT_EQ(notifier.watchdog_interval(), std::nullopt);
}

TEST_F(SystemdNotifyTest, ErrorsAreValues) {
  const std::string missing = (dir_ / "nobody-listens").string();
  SystemdNotifier no_listener(env_of({{"NOTIFY_SOCKET", missing}}));
  base::Status s = no_listener.ready();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find(missing), std::string::npos) << s.error().message;

  SystemdNotifier relative(env_of({{"NOTIFY_SOCKET", "relative/path"}}));
  EXPECT_FALSE(relative.ready());

  SystemdNotifier too_long(env_of({{"NOTIFY_SOCKET", "/" + std::string(200, 'x')}}));
  EXPECT_FALSE(too_long.ready());
}

TEST_F(SystemdNotifyTest, WatchdogIntervalIsHalfOfWatchdogUsec) {
  const std::string pid = std::to_string(::getpid());
  SystemdNotifier no_pid(env_of({{"NOTIFY_SOCKET", "/run/x"}, {"WATCHDOG_USEC", "30000000"}}));
  EXPECT_EQ(no_pid.watchdog_interval(), microseconds(15000000));

  SystemdNotifier our_pid(
      env_of({{"NOTIFY_SOCKET", "@x"}, {"WATCHDOG_USEC", "5"}, {"WATCHDOG_PID", pid}}));
  EXPECT_EQ(our_pid.watchdog_interval(), microseconds(2));

  SystemdNotifier tiny(env_of({{"NOTIFY_SOCKET", "@x"}, {"WATCHDOG_USEC", "1"}}));
  EXPECT_EQ(tiny.watchdog_interval(), microseconds(1));
}

TEST_F(SystemdNotifyTest, NoWatchdogForAnotherPidOrABadValue) {
  const std::string other_pid = std::to_string(::getpid() + 1);
  auto interval = [](std::map<std::string, std::string> env) {
    env["NOTIFY_SOCKET"] = "@x";
    return SystemdNotifier(env_of(std::move(env))).watchdog_interval();
  };
  EXPECT_EQ(interval({{"WATCHDOG_USEC", "1000"}, {"WATCHDOG_PID", other_pid}}), std::nullopt);
  EXPECT_EQ(interval({{"WATCHDOG_USEC", "1000"}, {"WATCHDOG_PID", "abc"}}), std::nullopt);
  EXPECT_EQ(interval({{"WATCHDOG_USEC", "0"}}), std::nullopt);
  EXPECT_EQ(interval({{"WATCHDOG_USEC", "-5"}}), std::nullopt);
  EXPECT_EQ(interval({{"WATCHDOG_USEC", "10s"}}), std::nullopt);
  EXPECT_EQ(interval({{"WATCHDOG_USEC", ""}}), std::nullopt);
  EXPECT_EQ(interval({}), std::nullopt);
}

TEST_F(SystemdNotifyTest, FromEnvironmentReadsTheProcessEnvironment) {
  const std::string path = (dir_ / "notify").string();
  FakeSystemd systemd(path);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "4000", 1);
  ::unsetenv("WATCHDOG_PID");
  SystemdNotifier notifier = SystemdNotifier::from_environment();
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_EQ(notifier.watchdog_interval(), microseconds(2000));
  ASSERT_TRUE(notifier.watchdog());
  EXPECT_EQ(systemd.next(), "WATCHDOG=1");
}

}  // namespace
}  // namespace podagent::agent
