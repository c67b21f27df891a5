#include "runtime/oci/pod_cgroups.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include "tests/oci/image_test_util.h"

// Designated initializers name only what a case needs; GCC 12 warns about
// the fields left out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

model::Quantity q(const char* text) { return *model::Quantity::parse(text); }

model::Container container(const char* name, model::ResourceList requests,
                           model::ResourceList limits) {
  model::Container c{.name = name, .image = "busybox"};
  c.resources.requests = std::move(requests);
  c.resources.limits = std::move(limits);
  return c;
}

model::Pod pod_of(std::vector<model::Container> containers) {
  model::Pod pod;
  pod.metadata.name = "web";
  pod.metadata.uid = "1234-abcd";
  pod.spec.containers = std::move(containers);
  return pod;
}

// This machine's layout: v1 controllers, each on its own, and an empty
// cgroup2 at /sys/fs/cgroup/unified.
constexpr const char* kHybridMountinfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

TEST(CgroupLayout, HybridIsV1WithEveryHierarchyListed) {
  auto layout = parse_cgroup_layout(kHybridMountinfo);
  ASSERT_TRUE(layout.ok()) << layout.error().to_string();
  EXPECT_EQ(layout->version, CgroupVersion::V1);
  EXPECT_EQ(layout->controllers.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(layout->controllers.at("cpu"), "/sys/fs/cgroup/cpu");
  EXPECT_EQ(layout->controllers.at("pids"), "/sys/fs/cgroup/pids");
  EXPECT_FALSE(layout->controllers.contains("name=systemd"));
  EXPECT_THAT(layout->hierarchies, ElementsAre("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct",
                                               "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
                                               "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"));
}

TEST(CgroupLayout, CoMountedControllersAndEscapedMountPoints) {
  auto layout = parse_cgroup_layout(
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
      "35 31 0:32 /host /mnt/my\\040cgroups rw - cgroup cgroup rw,memory\n");
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->controllers.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout->controllers.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(layout->controllers.at("memory"), "/mnt/my cgroups");
}

TEST(CgroupLayout, UnifiedWhenCgroup2IsAtTheTop) {
  auto layout = parse_cgroup_layout(
      "25 21 0:22 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->version, CgroupVersion::V2);
  EXPECT_EQ(layout->unified, "/sys/fs/cgroup");
  EXPECT_THAT(layout->hierarchies, ElementsAre("/sys/fs/cgroup"));
}

TEST(CgroupLayout, NoCgroupsIsAnError) {
  EXPECT_FALSE(parse_cgroup_layout("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n").ok());
  EXPECT_FALSE(parse_cgroup_layout("").ok());
}

TEST(PodCgroupNames, AsTheKubeletsCgroupfsDriver) {
  EXPECT_EQ(pod_cgroup_name("podagent", "Guaranteed", "u1"), "podagent/podu1");
  EXPECT_EQ(pod_cgroup_name("podagent", "Burstable", "u1"), "podagent/burstable/podu1");
  EXPECT_EQ(pod_cgroup_name("a/b", "BestEffort", "u1"), "a/b/besteffort/podu1");
  model::Pod pod = pod_of({container("app", {}, {{"cpu", q("1")}, {"memory", q("1Gi")}})});
  PodCgroups cgroups(CgroupLayout{}, PodCgroupsOptions{.root = "kp"});
  EXPECT_EQ(cgroups.cgroups_path(pod, "c1"), "/kp/pod1234-abcd/c1");
  pod.spec.containers[0].resources = {};
  EXPECT_EQ(cgroups.cgroups_path(pod, "c1"), "/kp/besteffort/pod1234-abcd/c1");
}

TEST(PodCgroupLimits, GuaranteedGetsSharesQuotaAndMemory) {
  model::Pod pod = pod_of({container("a", {}, {{"cpu", q("500m")}, {"memory", q("64Mi")}}),
                           container("b", {}, {{"cpu", q("250m")}, {"memory", q("32Mi")}})});
  CgroupLimits l = pod_cgroup_limits(pod.spec, 0);
  EXPECT_EQ(l, (CgroupLimits{.memory_bytes = 96 << 20, .cpu_shares = 768, .cpu_quota_us = 75000}));
  EXPECT_EQ(pod_cgroup_limits(pod.spec, 100).pids, 100);
}

TEST(PodCgroupLimits, BurstableGetsLimitsOnlyWhenEveryContainerHasOne) {
  model::Pod pod = pod_of({container("a", {{"cpu", q("100m")}}, {{"memory", q("64Mi")}}),
                           container("b", {{"cpu", q("200m")}}, {})});
  CgroupLimits l = pod_cgroup_limits(pod.spec, 0);
  EXPECT_EQ(l, (CgroupLimits{.cpu_shares = 307}));
  pod.spec.containers[1].resources.limits = {{"memory", q("16Mi")}, {"cpu", q("2")}};
  l = pod_cgroup_limits(pod.spec, 0);
  EXPECT_EQ(l.memory_bytes, 80 << 20);
  EXPECT_EQ(l.cpu_quota_us, std::nullopt);  // container a limits no cpu
}

TEST(PodCgroupLimits, InitContainersAndSidecarsCountAsTheKubeletCountsThem) {
  model::Pod pod = pod_of({container("app", {}, {{"cpu", q("100m")}, {"memory", q("10Mi")}})});
  // A big init container runs alone: the pod's limit is its, not the sum.
  pod.spec.init_containers.push_back(
      container("init", {}, {{"cpu", q("1")}, {"memory", q("100Mi")}}));
  CgroupLimits l = pod_cgroup_limits(pod.spec, 0);
  EXPECT_EQ(l.memory_bytes, 100 << 20);
  EXPECT_EQ(l.cpu_quota_us, 100000);
  EXPECT_EQ(l.cpu_shares, 1024);
  // A sidecar declared first runs beside both.
  model::Container sidecar = container("side", {}, {{"cpu", q("50m")}, {"memory", q("5Mi")}});
  sidecar.restart_policy = "Always";
  pod.spec.init_containers.insert(pod.spec.init_containers.begin(), sidecar);
  l = pod_cgroup_limits(pod.spec, 0);
  EXPECT_EQ(l.memory_bytes, 105 << 20);
  EXPECT_EQ(l.cpu_quota_us, 105000);
}

TEST(PodCgroupLimits, BestEffortGetsTheMinimumShares) {
  model::Pod pod = pod_of({container("a", {}, {})});
  EXPECT_EQ(pod_cgroup_limits(pod.spec, 0), (CgroupLimits{.cpu_shares = 2}));
}

TEST(CpuConversions, TheKubeletsAndRuncsFormulas) {
  EXPECT_EQ(milli_cpu_to_shares(0), 2);
  EXPECT_EQ(milli_cpu_to_shares(1), 2);
  EXPECT_EQ(milli_cpu_to_shares(500), 512);
  EXPECT_EQ(milli_cpu_to_shares(1000000), 262144);
  EXPECT_EQ(milli_cpu_to_quota(1), 1000);
  EXPECT_EQ(milli_cpu_to_quota(500), 50000);
  EXPECT_EQ(cpu_shares_to_weight(2), 1);
  EXPECT_EQ(cpu_shares_to_weight(1024), 39);
  EXPECT_EQ(cpu_shares_to_weight(262144), 10000);
}

TEST(CgroupWrites, V1AndV2Files) {
  auto v1 = parse_cgroup_layout(kHybridMountinfo);
  ASSERT_TRUE(v1.ok());
  const CgroupLimits limits{
      .memory_bytes = 1024, .cpu_shares = 512, .cpu_quota_us = 50000, .pids = 7};
  EXPECT_THAT(cgroup_writes(*v1, "r/podu", limits),
              ElementsAre(CgroupWrite{"/sys/fs/cgroup/memory/r/podu/memory.limit_in_bytes", "1024"},
                          CgroupWrite{"/sys/fs/cgroup/cpu/r/podu/cpu.shares", "512"},
                          CgroupWrite{"/sys/fs/cgroup/cpu/r/podu/cpu.cfs_period_us", "100000"},
                          CgroupWrite{"/sys/fs/cgroup/cpu/r/podu/cpu.cfs_quota_us", "50000"},
                          CgroupWrite{"/sys/fs/cgroup/pids/r/podu/pids.max", "7"}));
  EXPECT_THAT(cgroup_dirs(*v1, "r/podu"),
              ElementsAre("/sys/fs/cgroup/memory/r/podu", "/sys/fs/cgroup/cpu/r/podu",
                          "/sys/fs/cgroup/pids/r/podu"));
  CgroupLayout v2{.version = CgroupVersion::V2, .unified = "/sys/fs/cgroup"};
  v2.controllers = {{"cpu", "/sys/fs/cgroup"}, {"memory", "/sys/fs/cgroup"}};  // no pids
  EXPECT_THAT(cgroup_writes(v2, "r/podu", limits),
              ElementsAre(CgroupWrite{"/sys/fs/cgroup/r/podu/memory.max", "1024"},
                          CgroupWrite{"/sys/fs/cgroup/r/podu/cpu.weight", "20"},
                          CgroupWrite{"/sys/fs/cgroup/r/podu/cpu.max", "50000 100000"}));
  EXPECT_THAT(cgroup_writes(v2, "r", CgroupLimits{}), IsEmpty());
}

std::string read(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

using image_testing::TempDir;

// PodCgroups over plain directories standing in for the mounts.
TEST(PodCgroups, CreatesTheTreeWithLimitsAndRemovesThePodLeafFirst) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const fs::path mem = dir.path() / "memory", cpu = dir.path() / "cpu", pids = dir.path() / "pids",
                 other = dir.path() / "freezer";
  CgroupLayout layout{.controllers = {{"memory", mem}, {"cpu", cpu}, {"pids", pids}},
                      .hierarchies = {mem, cpu, pids, other}};
  PodCgroups cgroups(layout, {.root = "pa",
                              .pod_pids_limit = 9,
                              .allocatable_cpu_milli = 2000,
                              .allocatable_memory_bytes = 1 << 30});
  model::Pod pod = pod_of({container("a", {}, {{"cpu", q("500m")}, {"memory", q("64Mi")}})});
  ASSERT_TRUE(cgroups.create(pod));
  EXPECT_EQ(read(mem / "pa/memory.limit_in_bytes"), "1073741824");
  EXPECT_EQ(read(cpu / "pa/cpu.shares"), "2048");
  EXPECT_EQ(read(cpu / "pa/besteffort/cpu.shares"), "2");
  EXPECT_TRUE(fs::is_directory(mem / "pa/burstable"));
  EXPECT_EQ(read(mem / "pa/pod1234-abcd/memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(read(cpu / "pa/pod1234-abcd/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(read(cpu / "pa/pod1234-abcd/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(read(pids / "pa/pod1234-abcd/pids.max"), "9");

  // Real cgroup directories hold only kernel files, which rmdir ignores;
  // plain ones must be emptied for the stand-in.
  for (const fs::path& h : {mem, cpu, pids})
    for (const auto& e : fs::directory_iterator(h / "pa/pod1234-abcd")) fs::remove(e.path());
  fs::create_directories(other / "pa/pod1234-abcd/sandbox1");  // made by runc, left behind
  fs::create_directories(cpu / "pa/pod1234-abcd/busy/child");  // still in use: stays
  ASSERT_TRUE(cgroups.remove("1234-abcd", {"sandbox1", "busy"}));
  EXPECT_FALSE(fs::exists(mem / "pa/pod1234-abcd"));
  EXPECT_FALSE(fs::exists(pids / "pa/pod1234-abcd"));
  EXPECT_FALSE(fs::exists(other / "pa/pod1234-abcd"));
  EXPECT_TRUE(fs::exists(cpu / "pa/pod1234-abcd/busy"));
  EXPECT_TRUE(fs::is_directory(mem / "pa/burstable"));  // the qos cgroups stay, as the kubelet's
  fs::remove_all(cpu / "pa/pod1234-abcd/busy");
  ASSERT_TRUE(cgroups.remove("1234-abcd"));
  EXPECT_FALSE(fs::exists(cpu / "pa/pod1234-abcd"));
}

TEST(PodCgroups, OnV2EnablesTheControllersNotYetOnAndWritesTheV2Files) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const fs::path top = dir.path();
  std::ofstream(top / "cgroup.subtree_control") << "cpu memory pids\n";  // already on
  CgroupLayout layout{.version = CgroupVersion::V2, .unified = top, .hierarchies = {top}};
  layout.controllers = {{"cpu", top}, {"memory", top}};  // no pids controller
  PodCgroups cgroups(layout, {.root = "pa", .pod_pids_limit = 9});
  model::Pod pod = pod_of({container("a", {}, {{"cpu", q("500m")}, {"memory", q("64Mi")}})});
  ASSERT_TRUE(cgroups.create(pod));
  EXPECT_EQ(read(top / "cgroup.subtree_control"), "cpu memory pids\n");  // not written
  // A plain file keeps only the last write ("+memory", then "+cpu").
  EXPECT_EQ(read(top / "pa/cgroup.subtree_control"), "+cpu");
  EXPECT_EQ(read(top / "pa/burstable/cgroup.subtree_control"), "+cpu");
  EXPECT_EQ(read(top / "pa/besteffort/cpu.weight"), "1");
  EXPECT_EQ(read(top / "pa/pod1234-abcd/memory.max"), "67108864");
  EXPECT_EQ(read(top / "pa/pod1234-abcd/cpu.max"), "50000 100000");
  EXPECT_EQ(read(top / "pa/pod1234-abcd/cpu.weight"), "20");
  EXPECT_FALSE(fs::exists(top / "pa/pod1234-abcd/pids.max"));
}

}  // namespace
}  // namespace podagent::runtime::oci
