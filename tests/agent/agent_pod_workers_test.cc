// What the agent wires into its pod workers, seen from outside: the sync
// durations in /metrics and the runtime handlers in admission. The agent
// runs in-process on its own io_context thread with the fake runtime; the
// test polls the API (bounded), never sleeps a fixed time.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "agent/agent.h"
#include "runtime/fake/fake_runtime.h"
#include "tests/agent/agent_test_util.h"

namespace podagent::agent {
namespace {

using namespace testing;
using namespace std::chrono_literals;

constexpr const char* kApiPods = "/api/v1/namespaces/default/pods";

// The value of the sample `series` (its name and labels, as rendered) in
// Prometheus text; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  const std::string prefix = "\n" + series + " ";
  auto at = ("\n" + text).find(prefix);
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + prefix.size() - 1, nullptr);
}

class AgentPodWorkersTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = test_config(dir_.path()); }

  void start(AgentOptions options = {}) {
    options.config = config_;
    options.env = [](std::string_view) { return std::optional<std::string>(); };
    agent_ = std::make_unique<RunningAgent>(std::move(options));
    base::Status s = agent_->start();
    ASSERT_TRUE(s) << (s ? "" : s.error().to_string());
  }
  HttpReply get(const std::string& target) { return http(config_.api.socket, "GET", target); }

  TempDir dir_;
  config::AgentConfig config_;
  std::unique_ptr<RunningAgent> agent_;
};

TEST_F(AgentPodWorkersTest, EverySyncsDurationIsObservedInMetrics) {
  AgentOptions options;
  // Every sync lists its pod first; a listing that takes 20 ms (of the
  // agent's real clock) puts every observation above the 10 ms bucket.
  options.runtime_factory =
      [](const config::AgentConfig&, base::Clock& clock,
         boost::asio::any_io_executor executor) -> base::Result<std::unique_ptr<runtime::Runtime>> {
    auto rt = std::make_unique<runtime::FakeRuntime>(clock, std::move(executor));
    rt->set_latency(runtime::Op::ListPod, 20ms);
    return std::unique_ptr<runtime::Runtime>(std::move(rt));
  };
  start(std::move(options));
  const std::string body =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"containers":[{"name":"main","image":"busybox:1"}]}})";
  ASSERT_EQ(http(config_.api.socket, "POST", kApiPods, body).status, 201);
  std::string metrics;
  ASSERT_TRUE(wait_for([&] {
    metrics = get("/metrics").body;
    return metrics.find("podagent_pods{phase=\"Running\"} 1\n") != std::string::npos &&
           sample(metrics, "podagent_pod_sync_duration_seconds_count") >= 2;
  })) << metrics;
  const double count = sample(metrics, "podagent_pod_sync_duration_seconds_count");
  EXPECT_EQ(sample(metrics, "podagent_pod_sync_duration_seconds_bucket{le=\"0.01\"}"), 0)
      << metrics;
  EXPECT_EQ(sample(metrics, "podagent_pod_sync_duration_seconds_bucket{le=\"+Inf\"}"), count)
      << metrics;
  EXPECT_GE(sample(metrics, "podagent_pod_sync_duration_seconds_sum"), 0.02 * count) << metrics;
}

TEST_F(AgentPodWorkersTest, AnUnknownRuntimeClassFailsThePodListingTheHandlers) {
  config_.runtime.runtime_handlers = {{"runc", "/usr/bin/runc"}, {"crun", "/usr/bin/crun"}};
  start();
  const std::string body =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"runtimeClassName":"kata",)"
      R"("containers":[{"name":"main","image":"busybox:1"}]}})";
  ASSERT_EQ(http(config_.api.socket, "POST", kApiPods, body).status, 201);
  const std::string path = std::string(kApiPods) + "/p1";
  std::optional<model::Node> pod;
  ASSERT_TRUE(wait_for([&] {
    HttpReply r = get(path);
    if (r.status != 200) return false;
    pod = parse_json(r.body);
    return field(*pod, {"status", "phase"}) == "Failed";
  })) << get(path).body;
  EXPECT_EQ(field(*pod, {"status", "reason"}), "RuntimeClassNotFound");
  EXPECT_EQ(field(*pod, {"status", "message"}),
            "Pod was rejected: RuntimeClass \"kata\" not found: the node's runtime handlers are "
            "crun, runc");

  const std::string known =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p2"},"spec":{"runtimeClassName":"crun",)"
      R"("containers":[{"name":"main","image":"busybox:1"}]}})";
  ASSERT_EQ(http(config_.api.socket, "POST", kApiPods, known).status, 201);
  EXPECT_TRUE(wait_for([&] {
    HttpReply r = get(std::string(kApiPods) + "/p2");
    return r.status == 200 && field(parse_json(r.body), {"status", "phase"}) == "Running";
  })) << get(std::string(kApiPods) + "/p2").body;
}

}  // namespace
}  // namespace podagent::agent
