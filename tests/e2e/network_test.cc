// Pod networking through real CNI plugins (bridge + host-local), as root.
// Each test has its own network list: a bridge and a /24 of its own, no
// gateway, no masquerade, no route out, and its IPAM data under the test's
// temp dir, so tests neither collide with each other nor with a real agent.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::field;
using runtime::oci::testing::read_file;

constexpr const char* kPluginDir = "/usr/lib/cni";

bool running(const model::Node& pod) { return field(pod, {"status", "phase"}) == "Running"; }

// The output of a shell command (what `ip` and `runc` say).
std::string shell(const std::string& command) {
  std::string out;
  if (FILE* f = ::popen(command.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = ::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    ::pclose(f);
  }
  return out;
}

class NetworkTest : public E2eTest {
 protected:
  void SetUp() override {
    for (const char* plugin : {"bridge", "host-local", "portmap"})
      if (::access((fs::path(kPluginDir) / plugin).c_str(), X_OK) != 0)
        GTEST_SKIP() << "no CNI " << plugin << " plugin in " << kPluginDir
                     << " (install containernetworking-plugins)";
    E2eTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // A bridge name (at most 15 characters) and a /24 for this test alone.
    static std::atomic<int> serial{0};
    const int n = serial++;
    const int pid = static_cast<int>(::getpid());
    bridge_ = "pat" + std::to_string(pid % 100000) + "x" + std::to_string(n);
    subnet_prefix_ = "10.213." + std::to_string((pid * 7 + n) % 250) + ".";
    ASSERT_FALSE(fs::exists("/sys/class/net/" + bridge_)) << bridge_ << " exists already";
    ipam_dir_ = dir_->root() / "ipam";
    const fs::path conf_dir = dir_->root() / "cni";
    fs::create_directories(conf_dir);
    std::ofstream(conf_dir / "10-test.conflist") << R"({
  "cniVersion": "1.0.0", "name": "podagent-test",
  "plugins": [{
    "type": "bridge", "bridge": ")" + bridge_ + R"(", "isGateway": )" +
                                                        (with_portmap() ? "true" : "false") +
                                                        R"(, "ipMasq": false,
    "ipam": {"type": "host-local", "ranges": [[{"subnet": ")" +
                                                        subnet_prefix_ + R"(0/24"}]],
             "dataDir": ")" + ipam_dir_.string() + R"("}
  })" + (with_portmap() ? R"(, {"type": "portmap", "capabilities": {"portMappings": true}})" : "") +
                                                        "]}";
    // The agent SetUp started had the default configuration: restart it
    // with this network.
    stop_agent();
    config_.cni.conf_dir = conf_dir.string();
    config_.cni.bin_dirs = {kPluginDir};
    start_agent();
  }

  void TearDown() override {
    E2eTest::TearDown();
    // The bridge plugin makes the bridge and never removes it.
    if (!bridge_.empty() && fs::exists("/sys/class/net/" + bridge_))
      shell("ip link delete " + bridge_ + " type bridge 2>&1");
  }

  // The host-local leases: files named after an address in the network's
  // data dir, each holding the container id (then a line with the ifname).
  std::vector<std::pair<std::string, std::string>> leases() const {
    std::vector<std::pair<std::string, std::string>> out;
    std::error_code ec;
    for (fs::directory_iterator it(ipam_dir_ / "podagent-test", ec), end; !ec && it != end;
         it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!name.starts_with(subnet_prefix_)) continue;
      const std::string text = read_file(it->path());
      out.emplace_back(name, text.substr(0, text.find_first_of("\r\n")));
    }
    return out;
  }

  // The interfaces enslaved to the test's bridge.
  std::vector<std::string> bridge_ports() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it("/sys/class/net/" + bridge_ + "/brif", ec), end;
         !ec && it != end; it.increment(ec))
      out.push_back(it->path().filename().string());
    return out;
  }

  std::string pod_ip(const std::string& name) {
    auto pod = wait_pod(name, [](const model::Node& p) {
      return running(p) && field(p, {"status", "podIP"}) != "";
    });
    return pod ? field(*pod, {"status", "podIP"}) : "";
  }

  // Whether the network list ends with the portmap plugin (hostPort), which
  // changes the node's iptables (its own chains, removed by DEL). Then the
  // bridge is the gateway too: it gets the subnet's first address, so that
  // the node has a route to its pods (without one, what portmap DNATs
  // would follow the node's default route out). The pods still get no
  // default route (host-local is given no routes) and no masquerade.
  virtual bool with_portmap() const { return false; }

  std::string bridge_;
  std::string subnet_prefix_;  // "10.213.N."
  fs::path ipam_dir_;
};

TEST_F(NetworkTest, TwoPodsGetTheirOwnAddressesAndOneReachesTheOther) {
  PodYaml server("server");
  server.containers =
      sh_container("web",
                   "grep -w server /etc/hosts; mkdir -p /www && echo hello > /www/index.html && "
                   "exec httpd -f -p 8080 -h /www");
  ASSERT_EQ(create(server.str()), 201);
  const std::string server_ip = pod_ip("server");
  ASSERT_TRUE(server_ip.starts_with(subnet_prefix_)) << server_ip;
  // status.podIPs holds the same single address; /etc/hosts names the pod.
  auto seen = wait_pod("server", running);
  ASSERT_TRUE(seen);
  const model::Node* ips = seen->find("status")->find("podIPs");
  ASSERT_TRUE(ips && ips->items.size() == 1u);
  EXPECT_EQ(field(ips->items[0], {"ip"}), server_ip);
  EXPECT_TRUE(wait_until([&] { return logs("server", "web") == server_ip + "\tserver\n"; }))
      << logs("server", "web");

  // (Not `wget -T`: Debian's static busybox crashes with it.)
  PodYaml client("client", "  restartPolicy: Never\n");
  client.containers =
      sh_container("get", "for i in $(seq 100); do wget -q -O - http://" + server_ip +
                              ":8080/ && exit 0; sleep 0.1; done; exit 1");
  ASSERT_EQ(create(client.str()), 201);
  auto done = wait_pod("client", [](const model::Node& p) {
    const std::string phase = field(p, {"status", "phase"});
    return phase == "Succeeded" || phase == "Failed";
  });
  ASSERT_TRUE(done);
  EXPECT_EQ(field(*done, {"status", "phase"}), "Succeeded");
  EXPECT_EQ(logs("client", "get"), "hello\n");
  const std::string client_ip = field(*done, {"status", "podIP"});
  EXPECT_TRUE(client_ip.starts_with(subnet_prefix_)) << client_ip;
  EXPECT_NE(client_ip, server_ip);
  // The client's sandbox may be gone already (its pod finished).
  bool server_leased = false;
  for (const auto& [address, owner] : leases()) server_leased |= address == server_ip;
  EXPECT_TRUE(server_leased);

  ASSERT_EQ(remove("server"), 200);
  ASSERT_EQ(remove("client"), 200);
  ASSERT_TRUE(wait_gone("server"));
  ASSERT_TRUE(wait_gone("client"));
  EXPECT_EQ(bridge_ports(), std::vector<std::string>{});
  EXPECT_EQ(leases(), (std::vector<std::pair<std::string, std::string>>{}));
}

TEST_F(NetworkTest, ContainersOfAPodShareLocalhostButNotAPort) {
  PodYaml pod("shared", "  restartPolicy: Never\n");
  const std::string wait_for_web =
      "until wget -q -O /tmp/got http://localhost:8080/ 2>/dev/null; do sleep 0.05; done; ";
  pod.containers =
      sh_container("web",
                   "mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8080 -h /www") +
      sh_container("client", wait_for_web + "cat /tmp/got; " + kIdle) +
      // Binds the port only once `web` holds it: it must fail.
      sh_container("second", wait_for_web + "exec httpd -f -p 8080 -h /tmp",
                   "    terminationMessagePolicy: FallbackToLogsOnError\n");
  ASSERT_EQ(create(pod.str()), 201);
  EXPECT_TRUE(wait_until([&] { return logs("shared", "client") == "hi\n"; }))
      << logs("shared", "client");
  auto seen = wait_pod("shared", [](const model::Node& p) {
    return at(container_status(p, "second"), {"state", "terminated", "exitCode"}) != "";
  });
  ASSERT_TRUE(seen);
  const model::Node* second = container_status(*seen, "second");
  EXPECT_NE(at(second, {"state", "terminated", "exitCode"}), "0");
  EXPECT_EQ(at(second, {"state", "terminated", "reason"}), "Error");
  EXPECT_NE(at(second, {"state", "terminated", "message"}).find("in use"), std::string::npos)
      << at(second, {"state", "terminated", "message"});
  EXPECT_EQ(at(container_status(*seen, "web"), {"state", "running", "startedAt"}) != "", true);
}

TEST_F(NetworkTest, AHostNetworkPodSkipsCni) {
  PodYaml pod("host", "  hostNetwork: true\n");
  pod.containers = sh_container("idle", kIdle);
  ASSERT_EQ(create(pod.str()), 201);
  ASSERT_TRUE(wait_pod("host", running));
  EXPECT_EQ(leases(), (std::vector<std::pair<std::string, std::string>>{}));
  EXPECT_EQ(bridge_ports(), std::vector<std::string>{});
}

// The agent goes away (pods keep running), the pod's pause dies meanwhile:
// the restarted agent's recovery runs DEL for the dead sandbox, then the pod
// gets a new sandbox with a new address.
TEST_F(NetworkTest, ASandboxFoundDeadAtRestartReleasesItsAddress) {
  PodYaml pod("victim");
  pod.containers = sh_container("idle", kIdle);
  ASSERT_EQ(create(pod.str()), 201);
  const std::string ip = pod_ip("victim");
  ASSERT_TRUE(ip.starts_with(subnet_prefix_)) << ip;
  const auto records = sandbox_records(state_dir());
  ASSERT_EQ(records.size(), 1u);
  const std::string sandbox = records[0].first;
  ASSERT_EQ(leases(), (std::vector<std::pair<std::string, std::string>>{{ip, sandbox}}));

  stop_agent();
  const std::string state =
      shell("runc --root " + (state_dir() / "oci/run/runc/runtime").string() + " state " + sandbox);
  const size_t at_pid = state.find("\"pid\": ");
  ASSERT_NE(at_pid, std::string::npos) << state;
  const int pause_pid = std::atoi(state.c_str() + at_pid + 7);
  ASSERT_GT(pause_pid, 1);
  ASSERT_EQ(::kill(pause_pid, SIGKILL), 0);
  start_agent();

  EXPECT_TRUE(wait_until([&] {
    for (const auto& [address, owner] : leases())
      if (owner == sandbox) return false;
    return true;
  })) << "the dead sandbox's lease is still there";
  auto again = wait_pod("victim", [&](const model::Node& p) {
    const std::string now = field(p, {"status", "podIP"});
    return running(p) && now != "" && now != ip;
  });
  ASSERT_TRUE(again);
  EXPECT_TRUE(field(*again, {"status", "podIP"}).starts_with(subnet_prefix_));
  EXPECT_EQ(leases().size(), 1u);
  EXPECT_EQ(bridge_ports().size(), 1u);
}

class HostPortTest : public NetworkTest {
 protected:
  bool with_portmap() const override { return true; }
};

// A port of the node's loopback that nothing listens on now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// What 127.0.0.1:port answers to an HTTP GET ("" when it does not).
std::string http_get_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  timeval limit{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string request = "GET / HTTP/1.0\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

TEST_F(HostPortTest, AHostPortIsReachableOnTheNodesLoopback) {
  const int port = free_port();
  ASSERT_GT(port, 0);
  PodYaml pod("exposed");
  pod.containers = sh_container(
      "web",
      "ip route; mkdir -p /www && echo exposed > /www/index.html && exec httpd -f -p 8080 -h /www",
      "    ports:\n    - {containerPort: 8080, hostPort: " + std::to_string(port) + "}\n");
  ASSERT_EQ(create(pod.str()), 201);
  ASSERT_NE(pod_ip("exposed"), "");
  std::string got;
  EXPECT_TRUE(wait_until([&] {
    got = http_get_loopback(port);
    return got.find("exposed") != std::string::npos;
  })) << got;
  // The bridge is the pods' gateway to the node only: no route out.
  EXPECT_EQ(logs("exposed", "web").find("default"), std::string::npos) << logs("exposed", "web");
  EXPECT_NE(logs("exposed", "web").find(subnet_prefix_ + "0/24 dev eth0"), std::string::npos)
      << logs("exposed", "web");

  // A second pod asking for the same host port is refused as a whole.
  PodYaml clash("clash");
  clash.containers = sh_container(
      "web", kIdle,
      "    ports:\n    - {containerPort: 80, hostPort: " + std::to_string(port) + "}\n");
  ASSERT_EQ(create(clash.str()), 201);
  auto refused = wait_pod("clash", [](const model::Node& p) {
    return field(p, {"status", "phase"}) == "Failed";
  });
  ASSERT_TRUE(refused);
  EXPECT_EQ(field(*refused, {"status", "reason"}), "NodePorts");

  ASSERT_EQ(remove("exposed"), 200);
  ASSERT_TRUE(wait_gone("exposed"));
  EXPECT_EQ(http_get_loopback(port), "");  // the mapping went with the pod
}

}  // namespace
}  // namespace podagent::e2e
