// The client subcommands (get, describe, apply, delete, logs) of the built
// podagent binary against an Agent running in-process on a temporary socket
// with the fake runtime; and the API client's HTTP framing against a canned
// server.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <string>
#include <thread>
#include <vector>

#include "agent/api_client.h"
#include "tests/agent/agent_test_util.h"
#include "tests/agent/run_podagent.h"

extern char** environ;

namespace podagent::agent {
namespace {

using namespace testing;


std::string hello_manifest() { return std::string(PODAGENT_TEST_DATA) + "/manifests/hello.yaml"; }

class ClientCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test_config(dir_.path());
    AgentOptions options;
    options.config = config_;
    options.env = [](std::string_view) { return std::optional<std::string>(); };
    agent_ = std::make_unique<RunningAgent>(std::move(options));
    base::Status s = agent_->start();
    ASSERT_TRUE(s) << (s ? "" : s.error().to_string());
  }

  // `podagent WORDS... --socket SOCKET`.
  Ran client(std::vector<std::string> words) {
    words.push_back("--socket");
    words.push_back(config_.api.socket);
    return podagent(std::move(words));
  }

  // Polls the API until the pod's JSON satisfies `ok`.
  bool wait_pod(const std::string& name, const std::function<bool(const model::Node&)>& ok) {
    return wait_for([&] {
      HttpReply r = http(config_.api.socket, "GET", "/api/v1/namespaces/default/pods/" + name);
      return r.status == 200 && ok(parse_json(r.body));
    });
  }

  TempDir dir_;
  config::AgentConfig config_;
  std::unique_ptr<RunningAgent> agent_;
};

bool running(const model::Node& pod) { return field(pod, {"status", "phase"}) == "Running"; }

TEST_F(ClientCliTest, ApplyGetDescribeDeleteRoundTrip) {
  Ran created = client({"apply", "-f", hello_manifest()});
  EXPECT_EQ(created.exit, 0) << created.err;
  EXPECT_EQ(created.out, "pod/hello created\n");
  ASSERT_TRUE(wait_pod("hello", running));

  Ran got = client({"get", "pods"});
  EXPECT_EQ(got.exit, 0) << got.err;
  EXPECT_TRUE(
      got.out.starts_with("NAME    READY   STATUS    RESTARTS   AGE\n"
                          "hello   1/1     Running   0          "))
      << got.out;

  // The same pod with another image replaces it.
  const fs::path changed = dir_.path() / "hello-2.yaml";
  write_file(changed,
             "apiVersion: v1\nkind: Pod\nmetadata: {name: hello}\nspec:\n  containers:\n"
             "  - name: hello\n    image: busybox:1.37\n");
  Ran replaced = client({"apply", "-f", changed.string()});
  EXPECT_EQ(replaced.exit, 0) << replaced.err;
  EXPECT_EQ(replaced.out, "pod/hello replaced\n");

  Ran described = client({"describe", "pod", "hello"});
  EXPECT_EQ(described.exit, 0) << described.err;
  EXPECT_TRUE(
      described.out.starts_with("Name:             hello\n"
                                "Namespace:        default\n"
                                "Node:             node1"))
      << described.out;
  EXPECT_NE(described.out.find("\n    Image:          busybox:1.37\n"), std::string::npos)
      << described.out;

  Ran deleted = client({"delete", "pod", "hello", "--grace-period", "0"});
  EXPECT_EQ(deleted.exit, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "pod \"hello\" deleted\n");
  ASSERT_TRUE(wait_for([&] {
    return http(config_.api.socket, "GET", "/api/v1/namespaces/default/pods/hello").status == 404;
  }));
  Ran gone = client({"get", "pod", "hello"});
  EXPECT_EQ(gone.exit, 1);
  EXPECT_EQ(gone.out, "");
  EXPECT_EQ(gone.err, "Error from server (NotFound): pods \"hello\" not found\n");
}

TEST_F(ClientCliTest, OutputFormatsCarryThePod) {
  ASSERT_EQ(client({"apply", "-f", hello_manifest()}).exit, 0);
  ASSERT_TRUE(wait_pod("hello", running));
  Ran json = client({"get", "pod", "hello", "-o", "json"});
  EXPECT_EQ(json.exit, 0) << json.err;
  const model::Node pod = parse_json(json.out);
  EXPECT_EQ(field(pod, {"kind"}), "Pod");
  EXPECT_EQ(field(pod, {"status", "phase"}), "Running");
  Ran yaml = client({"get", "pods", "-A", "-o", "yaml"});
  EXPECT_EQ(yaml.exit, 0) << yaml.err;
  EXPECT_TRUE(yaml.out.starts_with("apiVersion: v1\nkind: List\nitems:\n")) << yaml.out;
  Ran wide = client({"get", "pods", "-o", "wide"});
  EXPECT_TRUE(wide.out.starts_with("NAME    READY   STATUS    RESTARTS   AGE   IP")) << wide.out;
  EXPECT_NE(wide.out.find("   node1   "), std::string::npos) << wide.out;
}

TEST_F(ClientCliTest, AnEmptyNamespaceSaysSo) {
  Ran got = client({"get", "pods", "-n", "empty"});
  EXPECT_EQ(got.exit, 0) << got.err;
  EXPECT_EQ(got.out, "");
  EXPECT_EQ(got.err, "No resources found in empty namespace.\n");
}

TEST_F(ClientCliTest, TheServersRefusalIsPrintedAsKubectlDoes) {
  const fs::path bad = dir_.path() / "bad.yaml";
  write_file(bad,
             "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers:\n"
             "  - name: c\n");
  Ran applied = client({"apply", "-f", bad.string()});
  EXPECT_EQ(applied.exit, 1);
  EXPECT_TRUE(applied.err.starts_with("Error from server (Invalid): Pod \"bad\" is invalid: "))
      << applied.err;
  EXPECT_NE(applied.err.find("spec.containers[0].image"), std::string::npos) << applied.err;

  Ran deleted = client({"delete", "pod", "nothing"});
  EXPECT_EQ(deleted.exit, 1);
  EXPECT_EQ(deleted.err, "Error from server (NotFound): pods \"nothing\" not found\n");
}

TEST_F(ClientCliTest, LogsPrintTheServersStatusOnFailure) {
  ASSERT_EQ(client({"apply", "-f", hello_manifest()}).exit, 0);
  Ran logs = client({"logs", "hello", "-c", "hello"});
  // The API's log route is a stub: whatever it refuses with is shown.
  if (logs.exit != 0) {
    EXPECT_EQ(logs.exit, 1);
    EXPECT_TRUE(logs.err.starts_with("Error from server (")) << logs.err;
    EXPECT_EQ(logs.out, "");
  }
  Ran missing = client({"logs", "nothing"});
  EXPECT_EQ(missing.exit, 1);
  EXPECT_TRUE(missing.err.starts_with("Error from server (")) << missing.err;
}

TEST_F(ClientCliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(client({"get"}).exit, 2);
  EXPECT_EQ(client({"get", "deployments"}).exit, 2);
  EXPECT_EQ(client({"get", "pods", "-o", "xml"}).exit, 2);
  EXPECT_EQ(client({"describe", "pod"}).exit, 2);
  EXPECT_EQ(client({"apply", "hello.yaml"}).exit, 2);
  EXPECT_EQ(client({"delete", "pod", "x", "--grace-period", "soon"}).exit, 2);
  EXPECT_EQ(client({"logs"}).exit, 2);
  EXPECT_EQ(client({"get", "pods", "--bogus"}).exit, 2);
}

TEST_F(ClientCliTest, TheSocketComesFromTheConfigWithoutSocketFlag) {
  const fs::path config = dir_.path() / "config.yaml";
  write_file(config, "api:\n  socket: " + config_.api.socket + "\n");
  Ran got = podagent({"get", "pods", "-n", "empty", "--config", config.string()});
  EXPECT_EQ(got.exit, 0) << got.err;
  EXPECT_EQ(got.err, "No resources found in empty namespace.\n");
}

TEST_F(ClientCliTest, NoAgentOnTheSocketIsAnError) {
  Ran got = podagent({"get", "pods", "--socket", (dir_.path() / "none.sock").string()});
  EXPECT_EQ(got.exit, 1);
  EXPECT_NE(got.err.find("cannot connect to the agent"), std::string::npos) << got.err;
}

// The API client alone, against canned answers: no agent.
class ClientCliHttpTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

// A server that answers one connection with `reply` after reading the
// request head.
class CannedServer {
 public:
  CannedServer(const fs::path& path, std::string reply) : path_(path.string()) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 1) != 0)
      ADD_FAILURE() << "cannot listen on " << path_;
    thread_ = std::thread([this, reply = std::move(reply)] {
      const int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      std::string head;
      char c;
      while (head.find("\r\n\r\n") == std::string::npos && ::read(conn, &c, 1) == 1) head += c;
      request_ = head;
      send_all(conn, reply);
      ::close(conn);
    });
  }
  ~CannedServer() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  const std::string& path() const { return path_; }
  // The request head; waits for the exchange to end.
  const std::string& request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::string request_;
};

TEST_F(ClientCliHttpTest, DecodesChunkedBodies) {
  CannedServer server(dir_.path() / "canned.sock",
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "5\r\nhello\r\nA;ext=1\r\n, chunked!\r\n0\r\n\r\n");
  ApiClient client({.socket_path = server.path()});
  auto reply = client.send(client_request("GET", "/x"));
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->content_type, "application/json");
  EXPECT_EQ(reply->body, "hello, chunked!");
  EXPECT_TRUE(server.request().starts_with("GET /x HTTP/1.1\r\n"));
}

TEST_F(ClientCliHttpTest, ReadsContentLengthAndStops) {
  // Bytes past Content-Length are not part of the body.
  CannedServer server(dir_.path() / "canned.sock",
                      "HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\n\r\nbodyEXTRA");
  ApiClient client({.socket_path = server.path()});
  auto reply = client.send(client_request("DELETE", "/y"));
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->body, "body");
  EXPECT_EQ(api_error_text(*reply), "Error from server (404): body");
}

TEST_F(ClientCliHttpTest, RefusesAnOversizedBody) {
  CannedServer server(dir_.path() / "canned.sock",
                      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
  ApiClient client({.socket_path = server.path(), .max_body_bytes = 10});
  auto reply = client.send(client_request("GET", "/z"));
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().message.find("size limit"), std::string::npos);
}

TEST_F(ClientCliHttpTest, TimesOutOnASilentServer) {
  // The server reads the request but answers only after the client gave up
  // (an empty reply after the timeout: the connection closes).
  const fs::path path = dir_.path() / "silent.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);  // the kernel completes the connection; nobody answers
  ApiClient client({.socket_path = path.string(), .timeout = std::chrono::milliseconds(50)});
  auto reply = client.send(client_request("GET", "/"));
  ::close(fd);
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().message.find("timed out"), std::string::npos) << reply.error().message;
}

}  // namespace
}  // namespace podagent::agent
