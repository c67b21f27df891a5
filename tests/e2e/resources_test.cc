// Resources with real containers: the kernel's OOM killer in a container's
// memory cgroup is reported as the kubelet reports it, and told apart from
// a plain SIGKILL; a pod's cgroup and its containers' carry the limits of
// its spec, and go with the pod.

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "runtime/oci/pod_cgroups.h"
#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::field;

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

std::string trimmed(const fs::path& file) {
  std::string text = runtime::oci::testing::read_file(file);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The memory limit and the cpu quota/period of a cgroup (a name relative to
// the mounts), as its interface files show them in this machine's layout:
// "<bytes> <quota> <period>".
std::string memory_and_quota(const runtime::oci::CgroupLayout& layout, const std::string& cgroup) {
  using runtime::oci::CgroupVersion;
  if (layout.version == CgroupVersion::V2) {
    const fs::path dir = layout.unified / cgroup;
    return trimmed(dir / "memory.max") + " " + trimmed(dir / "cpu.max");
  }
  const fs::path memory = layout.controllers.at("memory") / cgroup;
  const fs::path cpu = layout.controllers.at("cpu") / cgroup;
  return trimmed(memory / "memory.limit_in_bytes") + " " + trimmed(cpu / "cpu.cfs_quota_us") + " " +
         trimmed(cpu / "cpu.cfs_period_us");
}

TEST_F(ResourcesTest, AGuaranteedPodsCgroupHasItsLimitsAndGoesWithThePod) {
  auto layout = runtime::oci::parse_cgroup_layout(
      runtime::oci::testing::read_file("/proc/self/mountinfo"));
  ASSERT_TRUE(layout.ok()) << layout.error().to_string();
  PodYaml pod("guaranteed");
  pod.containers = sh_container(
      "app", kIdle,
      "    resources:\n"
      "      limits: {memory: 64Mi, cpu: 500m}\n"
      "      requests: {memory: 64Mi, cpu: 500m}\n");
  ASSERT_EQ(create(pod.str()), 201);
  auto running = wait_pod("guaranteed", [](const model::Node& p) {
    return at(container_status(p, "app"), {"state", "running", "startedAt"}) != "";
  });
  ASSERT_TRUE(running);
  EXPECT_EQ(field(*running, {"status", "qosClass"}), "Guaranteed");
  const std::string uid = field(*running, {"metadata", "uid"});
  std::string container_id = at(container_status(*running, "app"), {"containerID"});
  container_id.erase(0, container_id.find("://") + 3);
  ASSERT_FALSE(container_id.empty());

  // Guaranteed: directly under the root, as the kubelet's pods are under kubepods.
  const std::string pod_cgroup = config_.cgroups.root + "/pod" + uid;
  // v1: memory.limit_in_bytes, cpu.cfs_quota_us, cpu.cfs_period_us; v2: memory.max, cpu.max.
  const std::string expected = "67108864 50000 100000";
  EXPECT_EQ(memory_and_quota(*layout, pod_cgroup), expected);
  EXPECT_EQ(memory_and_quota(*layout, pod_cgroup + "/" + container_id), expected);

  ASSERT_EQ(remove("guaranteed"), 200);
  ASSERT_TRUE(wait_gone("guaranteed"));
  for (const fs::path& h : layout->hierarchies) {
    std::error_code ec;
    EXPECT_FALSE(fs::exists(h / pod_cgroup, ec)) << (h / pod_cgroup);
  }
}

}  // namespace
}  // namespace podagent::e2e
