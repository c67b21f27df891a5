// Probes with real containers: an httpGet readiness probe against busybox
// httpd, an exec liveness probe that starts failing, a tcpSocket readiness
// probe against a closed port. Files are made and removed inside the
// containers through the API's exec.

#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::field;

std::string condition(const model::Node& pod, const std::string& type) {
  const model::Node* status = pod.find("status");
  const model::Node* list = status ? status->find("conditions") : nullptr;
  if (!list) return "";
  for (const model::Node& c : list->items)
    if (field(c, {"type"}) == type) return field(c, {"status"});
  return "";
}

bool web_running(const model::Node& p) {
  return field(p, {"status", "phase"}) == "Running" &&
         at(container_status(p, "web"), {"state", "running", "startedAt"}) != "";
}

class ProbesTest : public E2eTest {
 protected:
  // Runs `command` in the pod's container `web`; its exit code (-1: no answer).
  int exec(const std::string& pod, const std::vector<std::string>& command) {
    std::string target = "/api/v1/namespaces/default/pods/" + pod + "/exec?container=web";
    for (const auto& word : command) target += "&command=" + word;
    HttpReply r = agent::testing::http(config_.api.socket, "POST", target);
    if (r.status != 200) return -1;
    const std::string code = field(agent::testing::parse_json(r.body), {"exitCode"});
    return code.empty() ? -1 : std::atoi(code.c_str());
  }
  // The text of the namespace's events (their messages among it).
  std::string events() { return get("/api/v1/namespaces/default/events").body; }
  bool wait_event(const std::string& text) {
    return wait_until([&] { return events().find(text) != std::string::npos; });
  }
};

TEST_F(ProbesTest, AnHttpGetReadinessProbeMakesThePodReadyOnlyOnceItsPathIsServed) {
  PodYaml pod("ready-http");
  pod.containers = sh_container("web", std::string("mkdir -p /www && httpd -f -p 8080 -h /www & ") + kIdle,
                                "    readinessProbe:\n"
                                "      httpGet: {path: /ready, port: 8080}\n"
                                "      periodSeconds: 1\n");
  ASSERT_EQ(create(pod.str()), 201);
  ASSERT_TRUE(wait_pod("ready-http", web_running));
  // httpd answers 404 until /www/ready exists.
  ASSERT_TRUE(wait_event("Readiness probe failed: HTTP probe failed with statuscode: 404")) << events();
  auto unready = wait_pod("ready-http", web_running);
  ASSERT_TRUE(unready);
  EXPECT_EQ(at(container_status(*unready, "web"), {"ready"}), "false");
  EXPECT_EQ(condition(*unready, "ContainersReady"), "False");
  EXPECT_EQ(condition(*unready, "Ready"), "False");

  ASSERT_EQ(exec("ready-http", {"touch", "/www/ready"}), 0);
  auto ready = wait_pod("ready-http", [](const model::Node& p) { return condition(p, "Ready") == "True"; });
  ASSERT_TRUE(ready) << get("/api/v1/namespaces/default/pods/ready-http").body;
  EXPECT_EQ(at(container_status(*ready, "web"), {"ready"}), "true");
  EXPECT_EQ(condition(*ready, "ContainersReady"), "True");
  EXPECT_EQ(at(container_status(*ready, "web"), {"restartCount"}), "0");
}

TEST_F(ProbesTest, ALivenessExecProbeThatStartsFailingRestartsTheContainer) {
  PodYaml pod("live-exec", "", "podagent.io/crashloop-initial: 100ms, podagent.io/crashloop-max: 400ms");
  pod.containers = sh_container("web", std::string("touch /tmp/healthy; ") + kIdle,
                                "    livenessProbe:\n"
                                "      exec: {command: [test, -f, /tmp/healthy]}\n"
                                "      periodSeconds: 1\n"
                                "      failureThreshold: 2\n");
  ASSERT_EQ(create(pod.str()), 201);
  ASSERT_TRUE(wait_pod("live-exec", web_running));
  ASSERT_EQ(exec("live-exec", {"rm", "/tmp/healthy"}), 0);

  // The new instance makes /tmp/healthy again: restarted once, then healthy.
  auto restarted = wait_pod("live-exec", [](const model::Node& p) {
    return web_running(p) && at(container_status(p, "web"), {"restartCount"}) == "1";
  });
  ASSERT_TRUE(restarted) << get("/api/v1/namespaces/default/pods/live-exec").body;
  const model::Node* web = container_status(*restarted, "web");
  EXPECT_NE(at(web, {"lastState", "terminated", "finishedAt"}), "");
  EXPECT_NE(at(web, {"lastState", "terminated", "reason"}), "");
  const std::string text = events();
  EXPECT_NE(text.find("Liveness probe failed"), std::string::npos) << text;
  EXPECT_NE(text.find("Container web failed liveness probe, will be restarted"), std::string::npos) << text;
}

TEST_F(ProbesTest, ATcpSocketReadinessProbeAgainstAClosedPortKeepsThePodUnready) {
  PodYaml pod("ready-tcp");
  pod.containers = sh_container("web", kIdle,
                                "    readinessProbe:\n"
                                "      tcpSocket: {port: 8081}\n"
                                "      periodSeconds: 1\n");
  ASSERT_EQ(create(pod.str()), 201);
  ASSERT_TRUE(wait_pod("ready-tcp", web_running));
  ASSERT_TRUE(wait_event("Readiness probe failed: dial tcp")) << events();
  auto seen = wait_pod("ready-tcp", web_running);
  ASSERT_TRUE(seen);
  EXPECT_EQ(at(container_status(*seen, "web"), {"ready"}), "false");
  EXPECT_EQ(condition(*seen, "ContainersReady"), "False");
  EXPECT_EQ(condition(*seen, "Ready"), "False");
  EXPECT_EQ(at(container_status(*seen, "web"), {"restartCount"}), "0");
  const std::string metrics = get("/metrics").body;
  EXPECT_NE(metrics.find("prober_probe_total{probe_type=\"readiness\",result=\"failed\"}"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("prober_probe_duration_seconds_count{probe_type=\"readiness\"}"), std::string::npos);
}

}  // namespace
}  // namespace podagent::e2e
