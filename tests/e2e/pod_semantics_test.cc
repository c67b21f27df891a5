// The pod's semantics with real containers: init containers in order over a
// shared emptyDir, containers sharing localhost and hostname, restart
// policies with a shortened CrashLoopBackOff.

#include <gtest/gtest.h>

#include <string>

#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::field;

constexpr const char* kSharedVolume = "  volumes:\n  - name: shared\n    emptyDir: {}\n";
constexpr const char* kSharedMount =
    "    volumeMounts:\n    - name: shared\n      mountPath: /shared\n";

bool running(const model::Node& pod) { return field(pod, {"status", "phase"}) == "Running"; }

int restart_count(const model::Node& pod, const std::string& container) {
  return std::atoi(at(container_status(pod, container), {"restartCount"}).c_str());
}

class PodSemanticsTest : public E2eTest {};

TEST_F(PodSemanticsTest, InitContainersRunInOrderOverASharedEmptyDir) {
  PodYaml pod("init-order", kSharedVolume);
  // `second` fails (and with restartPolicy Never fails the pod) unless
  // `first` ran to completion before it.
  pod.spec_extra += "  restartPolicy: Never\n";
  pod.init_containers =
      sh_container("first", "echo one > /shared/log", kSharedMount) +
      sh_container("second", "test \"$(cat /shared/log)\" = one && echo two >> /shared/log",
                   kSharedMount);
  pod.containers = sh_container("app", std::string("cat /shared/log; ") + kIdle, kSharedMount);
  ASSERT_EQ(create(pod.str()), 201);

  auto seen = wait_pod("init-order", [](const model::Node& p) {
    return running(p) && at(container_status(p, "app"), {"state", "running", "startedAt"}) != "";
  });
  ASSERT_TRUE(seen);
  for (const char* init : {"first", "second"}) {
    const model::Node* s = container_status(*seen, init, true);
    EXPECT_EQ(at(s, {"state", "terminated", "exitCode"}), "0") << init;
    EXPECT_EQ(at(s, {"state", "terminated", "reason"}), "Completed") << init;
    EXPECT_EQ(at(s, {"restartCount"}), "0") << init;
  }
  EXPECT_TRUE(wait_until([&] { return logs("init-order", "app") == "one\ntwo\n"; }))
      << logs("init-order", "app");
}

TEST_F(PodSemanticsTest, AppContainersShareLocalhostAndHostname) {
  PodYaml pod("share-net");
  // The server listens on 127.0.0.1 only: the client reaches it only from
  // inside the same network namespace. It serves its own hostname.
  pod.containers =
      sh_container("server",
                   "mkdir -p /www && hostname > /www/index.html && "
                   "httpd -f -p 127.0.0.1:8080 -h /www & " +
                       std::string(kIdle)) +
      sh_container("client",
                   "until wget -q -O /tmp/got http://127.0.0.1:8080/ 2>/dev/null; do sleep 0.05; done; "
                   "echo \"server=$(cat /tmp/got) client=$(hostname)\"; " +
                       std::string(kIdle));
  ASSERT_EQ(create(pod.str()), 201);
  ASSERT_TRUE(wait_pod("share-net", running));
  EXPECT_TRUE(wait_until([&] {
    return logs("share-net", "client") == "server=share-net client=share-net\n";
  })) << logs("share-net", "client");
}

// One pod per policy, all at once; the backoff is 100 ms doubling to 400 ms.
TEST_F(PodSemanticsTest, RestartPoliciesGiveTheKubeletsCountsStatesAndPhases) {
  const std::string fast =
      "podagent.io/crashloop-initial: 100ms, podagent.io/crashloop-max: 400ms";
  PodYaml always("always", "", fast);
  always.containers = sh_container("crash", "exit 3") + sh_container("done", "exit 0");
  // Fails twice, then succeeds (a counter in the emptyDir survives restarts).
  PodYaml on_failure("on-failure", kSharedVolume, fast);
  on_failure.spec_extra += "  restartPolicy: OnFailure\n";
  on_failure.containers = sh_container(
      "flaky",
      "n=$(($(cat /shared/n 2>/dev/null || echo 0) + 1)); echo $n > /shared/n; "
      "test $n -ge 3 || exit 1",
      kSharedMount);
  PodYaml never("never", "  restartPolicy: Never\n", fast);
  never.containers = sh_container("fail", "exit 2") + sh_container("ok", "exit 0");
  for (const PodYaml* p : {&always, &on_failure, &never}) ASSERT_EQ(create(p->str()), 201);

  auto a = wait_pod("always", [](const model::Node& p) {
    return restart_count(p, "crash") >= 2 && restart_count(p, "done") >= 2;
  });
  ASSERT_TRUE(a);
  EXPECT_EQ(field(*a, {"status", "phase"}), "Running");
  EXPECT_EQ(at(container_status(*a, "crash"), {"lastState", "terminated", "exitCode"}), "3");
  EXPECT_EQ(at(container_status(*a, "crash"), {"lastState", "terminated", "reason"}), "Error");
  EXPECT_EQ(at(container_status(*a, "done"), {"lastState", "terminated", "exitCode"}), "0");
  EXPECT_EQ(at(container_status(*a, "done"), {"lastState", "terminated", "reason"}), "Completed");

  auto f = wait_pod("on-failure",
                    [](const model::Node& p) { return field(p, {"status", "phase"}) == "Succeeded"; });
  ASSERT_TRUE(f);
  const model::Node* flaky = container_status(*f, "flaky");
  EXPECT_EQ(at(flaky, {"restartCount"}), "2");
  EXPECT_EQ(at(flaky, {"state", "terminated", "exitCode"}), "0");
  EXPECT_EQ(at(flaky, {"state", "terminated", "reason"}), "Completed");
  EXPECT_EQ(at(flaky, {"lastState", "terminated", "exitCode"}), "1");

  auto n = wait_pod("never",
                    [](const model::Node& p) { return field(p, {"status", "phase"}) == "Failed"; });
  ASSERT_TRUE(n);
  EXPECT_EQ(at(container_status(*n, "fail"), {"restartCount"}), "0");
  EXPECT_EQ(at(container_status(*n, "fail"), {"state", "terminated", "exitCode"}), "2");
  EXPECT_EQ(at(container_status(*n, "fail"), {"state", "terminated", "reason"}), "Error");
  EXPECT_EQ(at(container_status(*n, "ok"), {"restartCount"}), "0");
  EXPECT_EQ(at(container_status(*n, "ok"), {"state", "terminated", "exitCode"}), "0");
}

}  // namespace
}  // namespace podagent::e2e
