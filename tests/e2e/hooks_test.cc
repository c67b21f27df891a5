// Lifecycle hooks with real containers: a preStop hook runs (and its effect
// is there) before the container receives SIGTERM, and a postStart hook has
// run when the container is first reported Running.

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "runtime/container_log.h"
#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::field;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

// A pod whose container `web` runs `script` with an emptyDir at /out and
// `lifecycle` (lines indented by 4); a grace period of 20 s.
std::string hooked_pod(const std::string& name, const std::string& script,
                       const std::string& lifecycle) {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
         "\nspec:\n  terminationGracePeriodSeconds: 20\n"
         "  volumes:\n  - name: out\n    emptyDir: {}\n"
         "  containers:\n  - name: web\n    image: " +
         kImage + "\n    command: [sh, -c, \"" + script +
         "\"]\n"
         "    volumeMounts:\n    - {name: out, mountPath: /out}\n" +
         lifecycle;
}

bool web_running(const model::Node& p) {
  return !at(container_status(p, "web"), {"state", "running", "startedAt"}).empty();
}

class HooksTest : public E2eTest {};

// The container's TERM trap prints whether the preStop hook's marker (in
// the pod's emptyDir) exists at the moment the signal arrives: "seen"
// proves that the hook ran to its end before SIGTERM. The log outlives the
// pod (podLogsRetention), so the test reads it once the pod is gone.
TEST_F(HooksTest, PreStopRunsBeforeSigterm) {
  const std::string script =
      "trap 'if [ -f /out/prestop ]; then echo term-seen; else echo term-missing; fi; "
      "exit 0' TERM; echo up; sleep 3600 & wait";
  const std::string lifecycle =
      "    lifecycle:\n      preStop:\n        exec: {command: [sh, -c, \"sleep 1; echo done > "
      "/out/prestop\"]}\n";
  ASSERT_EQ(create(hooked_pod("prestop", script, lifecycle)), 201);
  auto pod = wait_pod("prestop", web_running);
  ASSERT_TRUE(pod);
  const std::string uid = field(*pod, {"metadata", "uid"});
  ASSERT_EQ(remove("prestop"), 200);
  ASSERT_TRUE(wait_gone("prestop", std::chrono::seconds(40)));
  const fs::path log = runtime::pod_log_directory(config_.pod_logs_dir, "default", "prestop", uid) /
                       runtime::container_log_path("web", 0);
  const std::string text = read_text(log);
  EXPECT_NE(text.find(" stdout F up\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" stdout F term-seen\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("term-missing"), std::string::npos) << text;
}

// The hook takes a second before it writes its file; the moment the status
// first says Running, the file is read in the container: had the status
// said Running while the hook ran, it would not be there yet.
TEST_F(HooksTest, PostStartHasRunWhenFirstReportedRunning) {
  const std::string lifecycle =
      "    lifecycle:\n      postStart:\n        exec: {command: [sh, -c, \"sleep 1; echo up > "
      "/out/poststart\"]}\n";
  ASSERT_EQ(create(hooked_pod("poststart", "trap 'exit 0' TERM; sleep 3600 & wait", lifecycle)),
            201);
  ASSERT_TRUE(wait_pod("poststart", web_running, std::chrono::seconds(30)));
  HttpReply cat = agent::testing::http(
      config_.api.socket, "POST",
      "/api/v1/namespaces/default/pods/poststart/exec?command=cat&command=/out/poststart");
  ASSERT_EQ(cat.status, 200) << cat.body;
  EXPECT_NE(cat.body.find(R"("exitCode":0)"), std::string::npos) << cat.body;
  EXPECT_NE(cat.body.find(R"("stdout":"up\n")"), std::string::npos) << cat.body;
}

// A postStart hook that fails kills the container, which restarts.
TEST_F(HooksTest, FailedPostStartKillsTheContainer) {
  const std::string lifecycle =
      "    lifecycle:\n      postStart:\n        exec: {command: [sh, -c, \"exit 3\"]}\n";
  ASSERT_EQ(create(hooked_pod("badstart", "trap 'exit 0' TERM; sleep 3600 & wait", lifecycle)),
            201);
  auto seen = wait_pod("badstart", [](const model::Node& p) {
    return !at(container_status(p, "web"), {"lastState", "terminated", "exitCode"}).empty();
  });
  ASSERT_TRUE(seen);
  EXPECT_TRUE(at(container_status(*seen, "web"), {"state", "running", "startedAt"}).empty());
  HttpReply events =
      get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dbadstart");
  EXPECT_NE(events.body.find("FailedPostStartHook"), std::string::npos) << events.body;
}

}  // namespace
}  // namespace podagent::e2e
