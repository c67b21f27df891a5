// Volumes with real containers: a Memory emptyDir is a tmpfs of its
// sizeLimit; hostPath volumes are checked by type before their container
// is created, refused outside volumes.hostPathAllowList, and shared with
// the host; no mount outlives its pod.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "base/unique_fd.h"
#include "runtime/oci/rootfs.h"
#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::field;

// Every test's host paths live in host_, the one allowed prefix (with
// /dev/null, for a CharDevice); outside_ is beside it and not listed.
class VolumesTest : public E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    host_ = dir_->root() / "host";
    outside_ = dir_->root() / "outside";
    fs::create_directories(host_);
    fs::create_directories(outside_);
    stop_agent();
    config_.volumes.host_path_allow_list = {host_.string(), "/dev/null"};
    start_agent();
  }

  // A pod of one container running `script` with one hostPath volume
  // ("v", at /v, readOnly when `read_only`).
  std::string host_path_pod(const std::string& name, const fs::path& path, const std::string& type,
                            const std::string& script, bool read_only = false) {
    PodYaml pod(name, "  restartPolicy: Never\n  volumes:\n  - name: v\n    hostPath: {path: \"" +
                          path.string() + "\", type: \"" + type + "\"}\n");
    pod.containers = sh_container("app", script,
                                  "    volumeMounts:\n    - name: v\n      mountPath: /v\n" +
                                      std::string(read_only ? "      readOnly: true\n" : ""));
    return pod.str();
  }

  // The pod's app container once it waits with `reason`; its message.
  std::string waiting_message(const std::string& name, const std::string& reason) {
    auto pod = wait_pod(name, [&](const model::Node& p) {
      return at(container_status(p, "app"), {"state", "waiting", "reason"}) == reason;
    });
    if (!pod) return "(not waiting with " + reason + ")";
    return at(container_status(*pod, "app"), {"state", "waiting", "message"});
  }

  bool log_has(const std::string& pod, const std::string& text) {
    return wait_until([&] { return logs(pod, "app").find(text) != std::string::npos; });
  }

  fs::path host_;
  fs::path outside_;
};

TEST_F(VolumesTest, AMemoryEmptyDirIsATmpfsOfItsSizeLimitAndGoesWithThePod) {
  PodYaml pod("mem",
              "  volumes:\n  - name: cache\n    emptyDir: {medium: Memory, sizeLimit: 8Mi}\n");
  pod.containers = sh_container(
      "app",
      "grep ' /cache ' /proc/mounts | cut -d' ' -f1,3; "
      "df -k /cache | tail -1 | awk '{print \"size=\" $2}'; "
      "if dd if=/dev/zero of=/cache/big bs=1048576 count=9 2>/dev/null; then echo WROTE; "
      "else echo FULL; fi; " +
          std::string(kIdle),
      "    volumeMounts:\n    - name: cache\n      mountPath: /cache\n");
  ASSERT_EQ(create(pod.str()), 201);
  ASSERT_TRUE(log_has("mem", "FULL")) << logs("mem", "app");
  const std::string out = logs("mem", "app");
  EXPECT_NE(out.find("tmpfs tmpfs\n"), std::string::npos) << out;
  EXPECT_NE(out.find("size=8192\n"), std::string::npos) << out;
  // On the host: one tmpfs under the sandbox's directory while the pod runs.
  const auto mounts = runtime::oci::mounts_under(state_dir() / "oci" / "sandboxes");
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].filename(), "cache");
  ASSERT_EQ(remove("mem"), 200);
  ASSERT_TRUE(wait_gone("mem"));
  EXPECT_TRUE(runtime::oci::mounts_under(state_dir()).empty());
}

TEST_F(VolumesTest, AMemoryEmptyDirKeepsItsDataThroughAnAgentRestart) {
  PodYaml pod("keep", "  volumes:\n  - name: cache\n    emptyDir: {medium: Memory}\n");
  pod.containers = sh_container("app", "echo kept > /cache/f && echo DONE; " + std::string(kIdle),
                                "    volumeMounts:\n    - name: cache\n      mountPath: /cache\n");
  ASSERT_EQ(create(pod.str()), 201);
  ASSERT_TRUE(log_has("keep", "DONE")) << logs("keep", "app");
  // The containers and the tmpfs outlive the agent; the restarted agent
  // adopts them, and removes the tmpfs with the pod.
  stop_agent();
  const auto mounts = runtime::oci::mounts_under(state_dir() / "oci" / "sandboxes");
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(runtime::oci::testing::read_file(mounts[0] / "f"), "kept\n");
  start_agent();
  ASSERT_EQ(remove("keep"), 200);
  ASSERT_TRUE(wait_gone("keep"));
  EXPECT_TRUE(runtime::oci::mounts_under(state_dir()).empty());
}

TEST_F(VolumesTest, DirectoryOrCreateMakesTheDirectoryAndWritesReachTheHost) {
  const fs::path made = host_ / "made" / "deep";
  ASSERT_EQ(create(host_path_pod("mkdir", made, "DirectoryOrCreate",
                                 "echo hello > /v/f && echo DONE; " + std::string(kIdle))),
            201);
  ASSERT_TRUE(log_has("mkdir", "DONE")) << logs("mkdir", "app");
  EXPECT_EQ(runtime::oci::testing::read_file(made / "f"), "hello\n");
  struct stat st {};
  ASSERT_EQ(::stat(made.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  // The same directory, read-only: writes fail, reads work.
  ASSERT_EQ(create(host_path_pod("ro", made, "Directory",
                                 "cat /v/f; if touch /v/g 2>/dev/null; then echo RW; else echo RO; "
                                 "fi; " +
                                     std::string(kIdle),
                                 true)),
            201);
  ASSERT_TRUE(log_has("ro", "RO")) << logs("ro", "app");
  EXPECT_EQ(logs("ro", "app"), "hello\nRO\n");
  EXPECT_FALSE(fs::exists(made / "g"));
}

TEST_F(VolumesTest, FileSocketAndCharDeviceTypesMountWhatIsThere) {
  base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.valid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const fs::path sock = host_ / "s.sock";
  ASSERT_LT(sock.string().size(), sizeof(addr.sun_path));
  std::strcpy(addr.sun_path, sock.c_str());
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(create(host_path_pod("file", host_ / "new.txt", "FileOrCreate",
                                 "echo data > /v && echo DONE; " + std::string(kIdle))),
            201);
  ASSERT_EQ(create(host_path_pod("sock", sock, "Socket",
                                 "test -S /v && echo SOCKET; " + std::string(kIdle))),
            201);
  ASSERT_EQ(create(host_path_pod("devnull", "/dev/null", "CharDevice",
                                 "test -c /v && echo CHAR; " + std::string(kIdle))),
            201);
  ASSERT_TRUE(log_has("file", "DONE")) << logs("file", "app");
  EXPECT_EQ(runtime::oci::testing::read_file(host_ / "new.txt"), "data\n");
  EXPECT_TRUE(log_has("sock", "SOCKET")) << logs("sock", "app");
  EXPECT_TRUE(log_has("devnull", "CHAR")) << logs("devnull", "app");
}

TEST_F(VolumesTest, ATypeMismatchOrAnUnlistedPathKeepsTheContainerFromStarting) {
  fs::create_directories(host_ / "dir");
  ASSERT_EQ(create(host_path_pod("missing", host_ / "missing", "Directory", kIdle)), 201);
  ASSERT_EQ(create(host_path_pod("notfile", host_ / "dir", "File", kIdle)), 201);
  ASSERT_EQ(create(host_path_pod("outside", outside_ / "new", "DirectoryOrCreate", kIdle)), 201);
  // ("..": refused by validation.) A symbolic link leading out is refused
  // by its real path.
  fs::create_directory_symlink(outside_, host_ / "link");
  ASSERT_EQ(create(host_path_pod("escape", host_ / "link", "Directory", kIdle)), 201);

  EXPECT_EQ(waiting_message("missing", "CreateContainerConfigError"),
            "hostPath volume \"v\": hostPath type check failed: " + (host_ / "missing").string() +
                " is not a directory");
  EXPECT_FALSE(fs::exists(host_ / "missing"));
  EXPECT_EQ(waiting_message("notfile", "CreateContainerConfigError"),
            "hostPath volume \"v\": hostPath type check failed: " + (host_ / "dir").string() +
                " is not a file");
  const std::string list = "[" + host_.string() + ", /dev/null]";
  EXPECT_EQ(waiting_message("outside", "CreateContainerConfigError"),
            "hostPath volume \"v\": host path " + (outside_ / "new").string() +
                " is not allowed on this node (volumes.hostPathAllowList: " + list + ")");
  EXPECT_FALSE(fs::exists(outside_ / "new"));
  EXPECT_EQ(waiting_message("escape", "CreateContainerConfigError"),
            "hostPath volume \"v\": host path " + outside_.string() +
                " is not allowed on this node (volumes.hostPathAllowList: " + list + ")");
  auto pod = wait_pod("missing", [](const model::Node&) { return true; });
  ASSERT_TRUE(pod);
  EXPECT_EQ(field(*pod, {"status", "phase"}), "Pending");
}

}  // namespace
}  // namespace podagent::e2e
