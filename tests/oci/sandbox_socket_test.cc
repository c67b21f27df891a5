// OciRuntime::open_socket_in_sandbox as root with runc: a socket made for a
// running sandbox reaches a server that a container of the pod runs on the
// pod's 127.0.0.1, which a socket of the agent's namespace cannot; the
// calling thread stays in its namespace.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "tests/oci/oci_test_env.h"

namespace podagent::runtime::oci::testing {
namespace {

ino_t own_netns() {
  struct stat st {};
  ::stat("/proc/thread-self/ns/net", &st);
  return st.st_ino;
}

// A port where nothing of the agent's namespace listens (bound, closed).
uint16_t free_port() {
  base::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  return ntohs(addr.sin_port);
}

// A blocking connect of `fd` to 127.0.0.1:port; errno's value on failure.
int connect_loopback(int fd, uint16_t port) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno;
}

// GET / over a connected socket; what came back.
std::string get(int fd) {
  const std::string request = "GET / HTTP/1.0\r\n\r\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) return {};
  std::string out;
  char buf[1024];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

class SandboxSocketTest : public OciRuntimeTest {};

TEST_F(SandboxSocketTest, ReachesThePodsLoopbackWhereTheAgentsSocketCannot) {
  const uint16_t port = free_port();
  ASSERT_NE(port, 0);
  SandboxConfig sb = sandbox_config_for(make_pod("uid-sock", "sock"), dir_->logs_dir());
  auto sandbox = driver_.await(runtime_->run_sandbox(sb));
  ASSERT_TRUE(sandbox) << sandbox.error().to_string();
  ids_.add(sandbox->str());
  const std::string script = "mkdir -p /www && echo in-the-pod > /www/index.html && exec httpd -f -p 127.0.0.1:" +
                             std::to_string(port) + " -h /www";
  auto id = driver_.await(runtime_->create_container(*sandbox, container_config_for(sh_container("srv", script), sb)));
  ASSERT_TRUE(id) << id.error().to_string();
  ids_.add(id->str());
  ASSERT_TRUE(driver_.await(runtime_->start_container(*id)));

  const ino_t before = own_netns();
  // httpd listens a moment after it starts: until then, connect is refused.
  std::string reply;
  ASSERT_TRUE(driver_.run_until([&] {
    auto fd = runtime_->open_socket_in_sandbox(*sandbox, AF_INET, SOCK_STREAM);
    EXPECT_TRUE(fd) << fd.error().to_string();
    if (!fd || connect_loopback(fd->get(), port) != 0) return false;
    reply = get(fd->get());
    return true;
  }));
  EXPECT_NE(reply.find("in-the-pod"), std::string::npos) << reply;
  EXPECT_EQ(own_netns(), before) << "the thread went back to its own namespace";

  // The agent's own socket: nothing listens on its 127.0.0.1 at that port.
  base::UniqueFd plain(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(connect_loopback(plain.get(), port), ECONNREFUSED);

  auto unknown = runtime_->open_socket_in_sandbox(SandboxId("nope"), AF_INET, SOCK_STREAM);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "no such sandbox: nope");

  ASSERT_TRUE(driver_.await(runtime_->stop_sandbox(*sandbox)));
  auto stopped = runtime_->open_socket_in_sandbox(*sandbox, AF_INET, SOCK_STREAM);
  ASSERT_FALSE(stopped);
  EXPECT_NE(stopped.error().message.find("is not running"), std::string::npos) << stopped.error().message;
  ASSERT_TRUE(driver_.await(runtime_->remove_sandbox(*sandbox)));
}

TEST_F(SandboxSocketTest, AHostNetworkSandboxGivesASocketOfTheNode) {
  // A listener of the agent's namespace, reached through the sandbox.
  base::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);

  auto pod = make_pod("uid-hostnet", "hostnet");
  pod->spec.host_network = true;
  SandboxConfig sb = sandbox_config_for(pod, dir_->logs_dir());
  auto sandbox = driver_.await(runtime_->run_sandbox(sb));
  ASSERT_TRUE(sandbox) << sandbox.error().to_string();
  ids_.add(sandbox->str());
  auto fd = runtime_->open_socket_in_sandbox(*sandbox, AF_INET, SOCK_STREAM);
  ASSERT_TRUE(fd) << fd.error().to_string();
  EXPECT_EQ(connect_loopback(fd->get(), ntohs(addr.sin_port)), 0);
  ASSERT_TRUE(driver_.await(runtime_->remove_sandbox(*sandbox)));
}

}  // namespace
}  // namespace podagent::runtime::oci::testing
