// How the driver runs the OCI runtime: the runtime command (crun through
// podagent-private-mounts on a hybrid cgroup node) and that helper itself.

#include "runtime/oci/runtime_command.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/oci/oci_test_env.h"

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;
using testing::read_file;

TEST(RuntimeCommand, FindsTheUnifiedMountOfAHybridNode) {
  const std::string hybrid =
      "30 23 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
      "31 30 0:27 / /sys/fs/cgroup/unified rw shared:5 - cgroup2 cgroup2 rw\n"
      "32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  EXPECT_EQ(hybrid_unified_mount(hybrid), fs::path("/sys/fs/cgroup/unified"));
  EXPECT_EQ(hybrid_unified_mount("31 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
            std::nullopt);
  EXPECT_EQ(hybrid_unified_mount("32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n"),
            std::nullopt);
  EXPECT_FALSE(find_program("no-such-program-podagent").ok());
}

TEST(RuntimeCommand, WrapsCrunOnlyOnAHybridNode) {
  const fs::path helper = PODAGENT_PRIVATE_MOUNTS_BINARY;
  auto runc = runtime_command("runc", helper);
  ASSERT_TRUE(runc.ok()) << runc.error().message;
  EXPECT_EQ(*runc, std::vector<std::string>{find_program("runc")->string()});
  auto crun = runtime_command("crun", helper);
  ASSERT_TRUE(crun.ok()) << crun.error().message;
  const std::string crun_path = find_program("crun")->string();
  auto unified = hybrid_unified_mount(read_file("/proc/self/mountinfo"));
  if (unified) {
    EXPECT_EQ(*crun, (std::vector<std::string>{helper.string(), unified->string(), crun_path}));
    auto missing = runtime_command("crun", "/nonexistent/podagent-private-mounts");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("/nonexistent/podagent-private-mounts"),
              std::string::npos);
  } else {
    EXPECT_EQ(*crun, std::vector<std::string>{crun_path});
  }
}

// The helper detaches the mount in its own namespace only, and execs the
// program with its arguments; its own failures exit 125, a program that
// cannot run 127.
TEST(PrivateMounts, DetachesTheMountForTheProgramOnly) {
  if (::geteuid() != 0) GTEST_SKIP() << "unshares a mount namespace: needs root";
  char tmpl[] = "/tmp/podagent-private-mounts-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  ASSERT_EQ(::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k"), 0);
  const std::string helper = PODAGENT_PRIVATE_MOUNTS_BINARY;
  auto status_of = [](const std::string& cmd) {
    int st = std::system(cmd.c_str());
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  };
  const std::string in_mounts = "grep -q ' " + dir.string() + " ' /proc/self/mountinfo";
  EXPECT_EQ(status_of(helper + " " + dir.string() + " /bin/sh -c \"" + in_mounts + "\""), 1)
      << "the program still sees the mount";
  EXPECT_EQ(status_of(helper + " " + dir.string() + " /bin/sh -c 'exit 7'"), 7);
  EXPECT_EQ(status_of(in_mounts), 0) << "the node lost the mount";
  EXPECT_EQ(status_of(helper + " /nonexistent-mount /bin/true 2>/dev/null"), 125);
  EXPECT_EQ(status_of(helper + " " + dir.string() + " /nonexistent-program 2>/dev/null"), 127);
  EXPECT_EQ(status_of(helper + " 2>/dev/null"), 125);
  ::umount2(dir.c_str(), MNT_DETACH);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace podagent::runtime::oci
