// Local storage eviction with real containers: a pod whose disk emptyDir
// holds more than its sizeLimit is evicted (Failed, reason Evicted, its
// container killed and not restarted, a Warning Evicted event); a pod under
// its limit keeps running. The agent measures every 10 s.

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::field;

constexpr std::chrono::seconds kEvictionWait{60};  // a 10 s period, plus the pod's start

// A pod whose container "app" runs `script` with the emptyDir "scratch"
// (sizeLimit `limit`) at /s, and optionally a container "ro" that mounts it
// read-only; restartPolicy Always.
PodYaml empty_dir_pod(const std::string& name, const std::string& limit, const std::string& script,
                      bool read_only_reader = false) {
  PodYaml pod(name,
              "  restartPolicy: Always\n  volumes:\n  - name: scratch\n    emptyDir: {sizeLimit: " +
                  limit + "}\n");
  const std::string mount = "    volumeMounts:\n    - name: scratch\n      mountPath: /s\n";
  pod.containers = sh_container("app", script, mount);
  if (read_only_reader)
    pod.containers += sh_container(
        "ro", "if touch /s/ro 2>/dev/null; then echo RW; else echo RO; fi; " + std::string(kIdle),
        mount + "      readOnly: true\n");
  return pod;
}

std::string write_then_idle(int mib) {
  return "dd if=/dev/zero of=/s/data bs=1048576 count=" + std::to_string(mib) +
         " 2>/dev/null && sync && echo WROTE; " + std::string(kIdle);
}

TEST_F(E2eTest, ADiskEmptyDirOverItsSizeLimitEvictsThePod) {
  // Under its limit first, so that the check that evicts the other pod has
  // measured this one too.
  PodYaml under = empty_dir_pod("under", "8Mi", write_then_idle(1), true);
  ASSERT_EQ(create(under.str()), 201);
  ASSERT_TRUE(wait_until([&] { return logs("under", "app").find("WROTE") != std::string::npos; }));
  EXPECT_TRUE(wait_until([&] { return logs("under", "ro") == "RO\n"; })) << logs("under", "ro");

  PodYaml over = empty_dir_pod("over", "1Mi", write_then_idle(4));
  ASSERT_EQ(create(over.str()), 201);
  auto evicted = wait_pod(
      "over",
      [](const model::Node& p) {
        return field(p, {"status", "phase"}) == "Failed";
      },
      kEvictionWait);
  ASSERT_TRUE(evicted);
  EXPECT_EQ(field(*evicted, {"status", "reason"}), "Evicted");
  EXPECT_EQ(field(*evicted, {"status", "message"}),
            "Usage of EmptyDir volume \"scratch\" exceeds the limit \"1Mi\".");
  auto stopped = wait_pod("over", [](const model::Node& p) {
    return !at(container_status(p, "app"), {"state", "terminated", "reason"}).empty();
  });
  ASSERT_TRUE(stopped);
  EXPECT_EQ(at(container_status(*stopped, "app"), {"restartCount"}), "0");
  const std::string events =
      get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dover").body;
  EXPECT_NE(events.find("\"Evicted\""), std::string::npos) << events;
  EXPECT_NE(events.find("exceeds the limit"), std::string::npos) << events;

  // restartPolicy Always does not bring it back; the other pod runs on.
  auto running = wait_pod("under", [](const model::Node& p) {
    return field(p, {"status", "phase"}) == "Running";
  });
  ASSERT_TRUE(running);
  EXPECT_EQ(at(container_status(*running, "app"), {"restartCount"}), "0");
  auto still = wait_pod("over", [](const model::Node& p) {
    return field(p, {"status", "phase"}) == "Failed";
  });
  ASSERT_TRUE(still);
  EXPECT_EQ(at(container_status(*still, "app"), {"restartCount"}), "0");
  EXPECT_TRUE(at(container_status(*still, "app"), {"state", "running", "startedAt"}).empty());
}

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

// A disk emptyDir is the pod's, not its sandbox's: under
// <state>/pods/<uid>/volumes/<name>, it keeps what the containers wrote
// when the pod is re-created from a new sandbox, and goes with the pod.
TEST_F(E2eTest, ADiskEmptyDirOutlivesItsSandbox) {
  PodYaml pod("keeper", "  volumes:\n  - name: scratch\n    emptyDir: {}\n");
  const std::string mount = "    volumeMounts:\n    - name: scratch\n      mountPath: /s\n";
  pod.init_containers = sh_container("count", "echo run >> /s/runs", mount);
  pod.containers =
      sh_container("app", "echo runs=$(wc -l < /s/runs); " + std::string(kIdle), mount);
  ASSERT_EQ(create(pod.str()), 201);
  auto first = wait_pod("keeper", [](const model::Node& p) {
    return field(p, {"status", "phase"}) == "Running";
  });
  ASSERT_TRUE(first);
  ASSERT_TRUE(wait_until([&] { return logs("keeper", "app") == "runs=1\n"; }))
      << logs("keeper", "app");
  const std::string uid = field(*first, {"metadata", "uid"});
  const fs::path dir = state_dir() / "pods" / uid / "volumes" / "scratch";
  EXPECT_TRUE(fs::exists(dir / "runs")) << dir;

  const auto records = sandbox_records(state_dir());
  ASSERT_EQ(records.size(), 1u);
  const std::string state = shell("runc --root " + (state_dir() / "oci/run/runc/runtime").string() +
                                  " state " + records[0].first);
  const size_t at_pid = state.find("\"pid\": ");
  ASSERT_NE(at_pid, std::string::npos) << state;
  const int pause_pid = std::atoi(state.c_str() + at_pid + 7);
  ASSERT_GT(pause_pid, 1);
  ASSERT_EQ(::kill(pause_pid, SIGKILL), 0);
  EXPECT_TRUE(wait_until([&] { return logs("keeper", "app") == "runs=2\n"; }))
      << logs("keeper", "app");

  ASSERT_EQ(remove("keeper"), 200);
  ASSERT_TRUE(wait_gone("keeper"));
  EXPECT_FALSE(fs::exists(state_dir() / "pods" / uid));
}

}  // namespace
}  // namespace podagent::e2e
