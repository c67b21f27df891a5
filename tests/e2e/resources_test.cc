// Resources with real containers: the kernel's OOM killer in a container's
// memory cgroup is reported as the kubelet reports it, and told apart from
// a plain SIGKILL.

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

class ResourcesTest : public E2eTest {};

// The pid of the process whose command line is exactly `argv` (NUL-separated),
// 0 when there is none.
pid_t find_process(const std::string& argv) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    const std::string cmdline{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (cmdline == argv) return static_cast<pid_t>(std::stol(name));
  }
  return 0;
}

std::string terminated(const model::Node& pod, const std::string& container, const char* key) {
  return at(container_status(pod, container), {"state", "terminated", key});
}

TEST_F(ResourcesTest, AnOomKillIsOomKilledAndAPlainSigkillIsNot) {
  PodYaml oom("oom");
  oom.spec_extra += "  restartPolicy: Never\n";
  // busybox tail buffers a line that never ends: it grows until the
  // kernel kills it at the 20Mi limit (well before 100 MiB).
  oom.containers = sh_container("hog", "tail /dev/zero",
                                "    resources:\n      limits: {memory: 20Mi}\n");
  PodYaml killed("sigkill");
  killed.spec_extra += "  restartPolicy: Never\n";
  // Its main process, killed with SIGKILL from outside (inside the
  // container it is PID 1, which SIGKILL from within cannot reach).
  killed.containers = sh_container("victim", "exec sleep 3601",
                                   "    resources:\n      limits: {memory: 20Mi}\n");
  ASSERT_EQ(create(oom.str()), 201);
  ASSERT_EQ(create(killed.str()), 201);

  auto done = [](const char* container) {
    return [container](const model::Node& p) { return terminated(p, container, "exitCode") != ""; };
  };
  auto hog = wait_pod("oom", done("hog"), std::chrono::seconds(60));
  ASSERT_TRUE(hog);
  EXPECT_EQ(terminated(*hog, "hog", "exitCode"), "137");
  EXPECT_EQ(terminated(*hog, "hog", "reason"), "OOMKilled");
  pid_t sleeper = 0;
  ASSERT_TRUE(wait_until([&] { return (sleeper = find_process(std::string("sleep\0" "3601\0", 11))) != 0; }));
  ASSERT_EQ(::kill(sleeper, SIGKILL), 0);
  auto victim = wait_pod("sigkill", done("victim"));
  ASSERT_TRUE(victim);
  EXPECT_EQ(terminated(*victim, "victim", "exitCode"), "137");
  EXPECT_EQ(terminated(*victim, "victim", "reason"), "Error");
}

}  // namespace
}  // namespace podagent::e2e
