// The whole agent in-process: the fake runtime, a temporary manifest
// directory watched with real inotify, the REST API on a temporary unix
// socket, and a blocking HTTP client in the test. The agent's io_context
// runs on its own thread; the test waits on conditions by polling the API
// (bounded), never by sleeping a fixed time.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

#include "agent/agent.h"
#include "runtime/runtime.h"
#include "tests/agent/agent_test_util.h"

namespace podagent::agent {
namespace {

using namespace testing;

constexpr const char* kStaticPath = "/api/v1/namespaces/default/pods/web-node1";
constexpr const char* kApiPods = "/api/v1/namespaces/default/pods";

std::string manifest(const std::string& image) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
         "  - name: main\n    image: " +
         image + "\n";
}

std::string api_pod(const std::string& name, const std::string& image) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"("},"spec":{"containers":[{"name":"main","image":")" + image + R"("}]}})";
}

class AgentIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = test_config(dir_.path()); }

  RunningAgent& start(AgentOptions options = {}) {
    if (options.config == config::AgentConfig{}) options.config = config_;
    options.env = [](std::string_view) { return std::optional<std::string>(); };
    agent_ = std::make_unique<RunningAgent>(std::move(options));
    base::Status s = agent_->start();
    EXPECT_TRUE(s) << (s ? "" : s.error().to_string());
    return *agent_;
  }

  HttpReply get(const std::string& target) { return http(config_.api.socket, "GET", target); }

  // The pod at `target` once `ok` holds for it (nullopt after kDeadline).
  std::optional<model::Node> wait_pod(const std::string& target,
                                      const std::function<bool(const model::Node&)>& ok) {
    std::optional<model::Node> pod;
    const bool got = wait_for([&] {
      HttpReply r = get(target);
      if (r.status != 200) return false;
      pod = parse_json(r.body);
      return ok(*pod);
    });
    if (!got) return std::nullopt;
    return pod;
  }

  static bool running(const model::Node& pod) {
    return field(pod, {"status", "phase"}) == "Running";
  }

  fs::path manifests() const { return config_.manifest_dir; }

  TempDir dir_;
  config::AgentConfig config_;
  std::unique_ptr<RunningAgent> agent_;
};

TEST_F(AgentIntegrationTest, AManifestDroppedInRunsItsPod) {
  start();
  move_in(manifests(), "web.yaml", manifest("busybox:1"));
  auto pod = wait_pod(kStaticPath, running);
  ASSERT_TRUE(pod) << get(kStaticPath).body;
  EXPECT_EQ(field(*pod, {"spec", "nodeName"}), "node1");
  EXPECT_EQ(field(*pod, {"metadata", "annotations", "kubernetes.io/config.source"}), "file");
  // Static pods are read-only through the API.
  EXPECT_EQ(http(config_.api.socket, "DELETE", kStaticPath).status, 403);
  const std::string metrics = get("/metrics").body;
  EXPECT_NE(metrics.find("podagent_pods{phase=\"Running\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("podagent_pod_start_latency_seconds_count 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("podagent_api_requests_total{code=\"200\",method=\"GET\"}"),
            std::string::npos)
      << metrics;
}

TEST_F(AgentIntegrationTest, AnEditedManifestReplacesThePod) {
  start();
  move_in(manifests(), "web.yaml", manifest("busybox:1"));
  auto first = wait_pod(kStaticPath, running);
  ASSERT_TRUE(first);
  const std::string old_uid = field(*first, {"metadata", "uid"});
  move_in(manifests(), "web.yaml", manifest("busybox:2"));
  auto second = wait_pod(kStaticPath, [&](const model::Node& pod) {
    return field(pod, {"metadata", "uid"}) != old_uid && running(pod);
  });
  ASSERT_TRUE(second) << get(kStaticPath).body;
  const model::Node* containers = second->find("spec")->find("containers");
  EXPECT_EQ(field(containers->items.at(0), {"image"}), "busybox:2");
  // The old pod goes once its worker has finished; one pod is left.
  EXPECT_TRUE(
      wait_for([&] { return parse_json(get(kApiPods).body).find("items")->items.size() == 1; }));
}

TEST_F(AgentIntegrationTest, AnInvalidEditKeepsTheOldPodAndReportsTheError) {
  start();
  move_in(manifests(), "web.yaml", manifest("busybox:1"));
  auto pod = wait_pod(kStaticPath, running);
  ASSERT_TRUE(pod);
  const std::string uid = field(*pod, {"metadata", "uid"});
  // No image, and a restartPolicy that does not exist.
  move_in(manifests(), "web.yaml",
          "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  restartPolicy: Sometimes\n"
          "  containers:\n  - name: main\n");
  model::Node errors;
  ASSERT_TRUE(wait_for([&] {
    errors = parse_json(get("/debug/manifest-errors").body);
    const model::Node* files = errors.find("files");
    return files && files->find("web.yaml");
  }));
  const auto& problems = errors.find("files")->find("web.yaml")->items;
  std::string all;
  for (const auto& p : problems) all += p.text + "\n";
  EXPECT_NE(all.find("image"), std::string::npos) << all;
  EXPECT_EQ(field(errors, {"errorsTotal"}), "1");
  // The metric's gauge and counter.
  ASSERT_TRUE(wait_for([&] {
    const std::string m = get("/metrics").body;
    return m.find("podagent_manifest_errors 1\n") != std::string::npos &&
           m.find("podagent_manifest_errors_total 1\n") != std::string::npos;
  })) << get("/metrics").body;
  // The last good pod keeps running, the same UID.
  HttpReply now = get(kStaticPath);
  ASSERT_EQ(now.status, 200);
  EXPECT_EQ(field(parse_json(now.body), {"metadata", "uid"}), uid);
  EXPECT_TRUE(running(parse_json(now.body)));
  // Fixed: the error goes away (and the fixed text is a new pod).
  move_in(manifests(), "web.yaml", manifest("busybox:3"));
  EXPECT_TRUE(wait_for([&] {
    return parse_json(get("/debug/manifest-errors").body).find("files")->entries.empty();
  }));
}

TEST_F(AgentIntegrationTest, DeletingTheManifestDeletesThePod) {
  start();
  move_in(manifests(), "web.yaml", manifest("busybox:1"));
  ASSERT_TRUE(wait_pod(kStaticPath, running));
  fs::remove(manifests() / "web.yaml");
  EXPECT_TRUE(wait_for([&] { return get(kStaticPath).status == 404; })) << get(kStaticPath).body;
}

TEST_F(AgentIntegrationTest, ApiCreateReplaceDelete) {
  start();
  HttpReply created = http(config_.api.socket, "POST", kApiPods, api_pod("api1", "busybox:1"));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string path = std::string(kApiPods) + "/api1";
  auto pod = wait_pod(path, running);
  ASSERT_TRUE(pod) << get(path).body;
  const std::string uid = field(*pod, {"metadata", "uid"});

  HttpReply replaced = http(config_.api.socket, "PUT", path, api_pod("api1", "busybox:2"));
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  auto after = wait_pod(path, [&](const model::Node& p) {
    const model::Node* statuses =
        p.find("status") ? p.find("status")->find("containerStatuses") : nullptr;
    return statuses && !statuses->items.empty() &&
           field(statuses->items[0], {"image"}) == "busybox:2" && running(p);
  });
  ASSERT_TRUE(after) << get(path).body;
  EXPECT_EQ(field(*after, {"metadata", "uid"}), uid);

  HttpReply deleted = http(config_.api.socket, "DELETE", path + "?gracePeriodSeconds=0");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_TRUE(wait_for([&] { return get(path).status == 404; }));
  EXPECT_EQ(http(config_.api.socket, "DELETE", path).status, 404);
}

TEST_F(AgentIntegrationTest, AWatchSeesEveryTransitionInOrder) {
  start();
  WatchStream watch(config_.api.socket, std::string(kApiPods) + "?watch=true");
  ASSERT_TRUE(watch.wait_started());
  ASSERT_EQ(http(config_.api.socket, "POST", kApiPods, api_pod("w", "busybox:1")).status, 201);
  const std::string path = std::string(kApiPods) + "/w";
  ASSERT_TRUE(wait_pod(path, running));
  ASSERT_EQ(http(config_.api.socket, "DELETE", path + "?gracePeriodSeconds=0").status, 200);
  ASSERT_TRUE(watch.read_until([](const std::vector<model::Node>& events) {
    return !events.empty() && field(events.back(), {"type"}) == "DELETED";
  }));
  const auto& events = watch.events();
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(field(events.front(), {"type"}), "ADDED");
  bool saw_running = false;
  bool saw_deleting = false;
  uint64_t last_version = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const std::string type = field(events[i], {"type"});
    if (i > 0 && i + 1 < events.size()) {
      EXPECT_EQ(type, "MODIFIED") << i;
    }
    const model::Node& object = *events[i].find("object");
    EXPECT_EQ(field(object, {"metadata", "name"}), "w");
    const uint64_t version = std::stoull(field(object, {"metadata", "resourceVersion"}));
    EXPECT_GT(version, last_version) << "event " << i;
    last_version = version;
    saw_running = saw_running || running(object);
    saw_deleting = saw_deleting || !field(object, {"metadata", "deletionTimestamp"}).empty();
  }
  EXPECT_TRUE(saw_running);
  EXPECT_TRUE(saw_deleting);
}

TEST_F(AgentIntegrationTest, BadRequestsGetTheirStatusAndChangeNothing) {
  AgentOptions options;
  options.config = config_;
  options.http_limits.max_body_bytes = 64 * 1024;
  start(std::move(options));
  ASSERT_EQ(http(config_.api.socket, "POST", kApiPods, api_pod("keep", "busybox:1")).status, 201);
  auto list_version = [&] {
    return field(parse_json(get(kApiPods).body), {"metadata", "resourceVersion"});
  };
  // Let the pod settle so that no status change lands between two lists.
  ASSERT_TRUE(wait_pod(std::string(kApiPods) + "/keep", running));
  ASSERT_TRUE(wait_for([&] {
    const std::string a = list_version();
    return a == list_version();
  }));
  const std::string before = get(kApiPods).body;

  HttpReply big = http(config_.api.socket, "POST", kApiPods,
                       std::string(100 * 1024, ' ') + api_pod("big", "x"));
  EXPECT_EQ(big.status, 413) << big.body;
  HttpReply malformed = http(config_.api.socket, "POST", kApiPods, "{\"apiVersion\": \"v1\", ");
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  EXPECT_EQ(field(parse_json(malformed.body), {"kind"}), "Status");
  HttpReply invalid =
      http(config_.api.socket, "POST", kApiPods,
           R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad"},)"
           R"("spec":{"restartPolicy":"Sometimes","containers":[{"name":"main"}]}})");
  EXPECT_EQ(invalid.status, 422) << invalid.body;
  const model::Node status = parse_json(invalid.body);
  const model::Node* causes =
      status.find("details") ? status.find("details")->find("causes") : nullptr;
  ASSERT_TRUE(causes) << invalid.body;
  std::string fields;
  for (const auto& c : causes->items) fields += field(c, {"field"}) + " ";
  EXPECT_NE(fields.find("spec.restartPolicy"), std::string::npos) << fields;
  EXPECT_NE(fields.find("spec.containers[0].image"), std::string::npos) << fields;
  HttpReply text = http(config_.api.socket, "POST", kApiPods, api_pod("t", "x"), "text/plain");
  EXPECT_EQ(text.status, 415) << text.body;

  EXPECT_EQ(get(kApiPods).body, before);
}

TEST_F(AgentIntegrationTest, ARestartedAgentServesTheSameApiPods) {
  start();
  ASSERT_EQ(http(config_.api.socket, "POST", kApiPods, api_pod("kept", "busybox:1")).status, 201);
  const std::string path = std::string(kApiPods) + "/kept";
  auto pod = wait_pod(path, running);
  ASSERT_TRUE(pod);
  const std::string uid = field(*pod, {"metadata", "uid"});
  agent_->stop();  // returns only once the io_context has run dry
  agent_.reset();
  EXPECT_EQ(connect_unix(config_.api.socket), -1) << "the old agent still listens";

  start();
  auto again = wait_pod(path, running);
  ASSERT_TRUE(again) << get(path).body;
  EXPECT_EQ(field(*again, {"metadata", "uid"}), uid);
}

TEST_F(AgentIntegrationTest, WithoutARuntimeBackendPodsStayPendingAndSayWhy) {
  AgentOptions options;
  options.config = config_;
  options.runtime_factory = [](const config::AgentConfig&, base::Clock&, boost::asio::any_io_executor)
      -> base::Result<std::unique_ptr<runtime::Runtime>> {
    return base::Error("the oci runtime backend is not available on this node", "runtime.backend");
  };
  start(std::move(options));
  EXPECT_FALSE(agent_->agent().has_runtime());
  ASSERT_EQ(http(config_.api.socket, "POST", kApiPods, api_pod("p", "busybox:1")).status, 201);
  auto pod = wait_pod(std::string(kApiPods) + "/p", [](const model::Node& p) {
    return field(p, {"status", "phase"}) == "Pending" &&
           field(p, {"status", "message"}).find("not available") != std::string::npos;
  });
  EXPECT_TRUE(pod) << get(std::string(kApiPods) + "/p").body;
  EXPECT_EQ(get("/readyz").status, 200);
}

TEST_F(AgentIntegrationTest, TcpListensWithTlsOnPortZero) {
  write_file(dir_.path() / "tokens.csv", "t0ken,admin,1,podagent:admin\n");
  config_.api.tcp.enabled = true;
  config_.api.tcp.address = "127.0.0.1:0";
  config_.api.tcp.tokens_file = (dir_.path() / "tokens.csv").string();
  start();
  ASSERT_TRUE(agent_->agent().tcp_port());
  EXPECT_NE(*agent_->agent().tcp_port(), 0);
  // A self-signed serving pair was made under the state directory.
  EXPECT_TRUE(fs::exists(fs::path(config_.state_dir) / "pki"));
  // Plain HTTP on the TLS port is not served.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(*agent_->agent().tcp_port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  send_all(fd, "GET /api/v1/pods HTTP/1.1\r\nHost: x\r\n\r\n");
  char buffer[64] = {};
  const ssize_t n = ::recv(fd, buffer, sizeof buffer - 1, 0);
  EXPECT_FALSE(n > 0 && std::string(buffer).starts_with("HTTP/1.1 200")) << buffer;
  ::close(fd);
}

TEST_F(AgentIntegrationTest, TcpWithoutAuthenticationIsRefused) {
  config_.api.tcp.enabled = true;
  config_.api.tcp.address = "127.0.0.1:0";
  AgentOptions options;
  options.config = config_;
  options.env = [](std::string_view) { return std::optional<std::string>(); };
  RunningAgent agent(std::move(options));
  base::Status s = agent.start();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().field, "api.tcp.tokensFile") << s.error().to_string();
  // Nothing listens: the unix socket was closed again.
  EXPECT_EQ(connect_unix(config_.api.socket), -1);
}

}  // namespace
}  // namespace podagent::agent
