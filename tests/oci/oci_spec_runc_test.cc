// The built bundle specs run under the real runc: a sandbox running the
// project's pause program, and a busybox container joining its namespaces.
// Needs root, /usr/bin/runc and busybox-static's /bin/busybox; skipped
// otherwise. PODAGENT_TEST_OCI_RUNTIME names another runtime (e.g.
// /usr/bin/crun) to run the same bundles with.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/oci/oci_spec.h"
#include "tests/oci/oci_test_env.h"

extern char** environ;

// Designated initializers name only what a case needs; GCC 12 warns about
// the fields left out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;
using testing::read_file;

constexpr const char* kRunc = "/usr/bin/runc";
constexpr const char* kBusybox = "/bin/busybox";

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

// Runs argv with stdin from /dev/null and stdout/stderr into files; returns
// its exit status (or -1).
int run(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Waits (without polling) until process `pid` has exited, up to timeout_ms.
bool wait_for_exit(pid_t pid, int timeout_ms) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;  // already gone
  pollfd p{fd, POLLIN, 0};
  int n = poll(&p, 1, timeout_ms);
  close(fd);
  return n == 1;
}

class RuncSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    if (const char* other = std::getenv("PODAGENT_TEST_OCI_RUNTIME")) runtime_ = other;
    if (!fs::exists(runtime_)) GTEST_SKIP() << "needs " << runtime_;
    if (!fs::exists(kBusybox)) GTEST_SKIP() << "needs busybox-static's " << kBusybox;
    std::string tmpl = (fs::temp_directory_path() / "podagent-spec-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    static std::atomic<int> counter{0};
    prefix_ = "podagent-spec-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  }

  void TearDown() override {
    for (auto it = ids_.rbegin(); it != ids_.rend(); ++it) runc({"delete", "--force", *it});
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  int runc(std::vector<std::string> args) {
    args.insert(args.begin(), {runtime_, "--root", (dir_ / "runc-root").string()});
    int rc = run(args, dir_ / "runc.out", dir_ / "runc.err");
    last_err_ = read_file(dir_ / "runc.err");
    last_out_ = read_file(dir_ / "runc.out");
    return rc;
  }

  std::string new_id(const std::string& what) {
    ids_.push_back(prefix_ + "-" + what);
    return ids_.back();
  }

  std::string runtime_ = kRunc;
  fs::path dir_;
  std::string prefix_;
  std::vector<std::string> ids_;
  std::string last_out_, last_err_;
};

TEST_F(RuncSpecTest, ContainerJoinsPauseSandboxAndSeesItsHostname) {
  model::Pod pod;
  pod.metadata.name = "spec-smoke-pod";
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "uid-smoke";
  pod.spec.containers.push_back(model::Container{
      .name = "probe",
      .command = {"/bin/sh", "-c",
                  "echo $(GREETING); hostname; cat /etc/hostname; head -c 6 /proc/1/cmdline"},
      .env = {{.name = "GREETING", .value = "hello"}}});
  const std::string hostname = pod_hostname(pod);
  char node_hostname[256] = {};
  gethostname(node_hostname, sizeof node_hostname - 1);
  ASSERT_NE(hostname, node_hostname);  // else the check below proves nothing

  // The sandbox: the pause program alone in a read-only rootfs.
  fs::path sandbox = dir_ / "sandbox";
  fs::create_directories(sandbox / "rootfs");
  fs::copy_file(PODAGENT_PAUSE_BINARY, sandbox / "rootfs" / "pause");
  auto sandbox_json =
      sandbox_spec_json({.pod = &pod, .rootfs = sandbox / "rootfs", .hostname = hostname});
  ASSERT_TRUE(sandbox_json.ok());
  write_file(sandbox / "config.json", *sandbox_json);
  std::string sandbox_id = new_id("sandbox");
  ASSERT_EQ(runc({"run", "-d", "--pid-file", (dir_ / "sandbox.pid").string(), "--bundle",
                  sandbox.string(), sandbox_id}),
            0)
      << last_err_;
  pid_t pause_pid = std::atoi(read_file(dir_ / "sandbox.pid").c_str());
  ASSERT_GT(pause_pid, 0);

  // The container: busybox, joining the sandbox's net, ipc, uts and (as
  // with shareProcessNamespace) pid namespaces.
  fs::path ctr = dir_ / "probe";
  fs::create_directories(ctr / "rootfs" / "bin");
  fs::copy_file(kBusybox, ctr / "rootfs" / "bin" / "busybox");
  for (const char* applet : {"sh", "hostname", "cat", "head"})
    fs::create_symlink("busybox", ctr / "rootfs" / "bin" / applet);
  write_file(dir_ / "hostname", hostname_file(pod));
  ImageConfig image{.env = {"PATH=/bin"}};
  std::string ns = "/proc/" + std::to_string(pause_pid) + "/ns/";
  ContainerSpecInput input{.pod = &pod,
                           .container = &pod.spec.containers[0],
                           .image = &image,
                           .rootfs = ctr / "rootfs",
                           .namespaces = {.network = ns + "net",
                                          .ipc = ns + "ipc",
                                          .uts = ns + "uts",
                                          .pid = ns + "pid"},
                           .mounts = {{dir_ / "hostname", "/etc/hostname", true, ""}},
                           .hostname = hostname};
  auto ctr_json = container_spec_json(input);
  ASSERT_TRUE(ctr_json.ok()) << ctr_json.error().to_string();
  write_file(ctr / "config.json", *ctr_json);
  std::string ctr_id = new_id("probe");
  ASSERT_EQ(runc({"run", "--bundle", ctr.string(), ctr_id}), 0) << last_err_;
  // $(GREETING) expanded, the sandbox's hostname, the bound /etc/hostname,
  // and the pause program as PID 1 of the shared pid namespace.
  EXPECT_EQ(last_out_, "hello\n" + hostname + "\n" + hostname + "\n/pause");

  // SIGTERM ends the pause program, so the sandbox stops.
  ASSERT_EQ(runc({"kill", sandbox_id, "TERM"}), 0) << last_err_;
  EXPECT_TRUE(wait_for_exit(pause_pid, 10'000));
  ASSERT_EQ(runc({"state", sandbox_id}), 0) << last_err_;
  EXPECT_NE(last_out_.find("\"stopped\""), std::string::npos) << last_out_;
  EXPECT_EQ(runc({"delete", sandbox_id}), 0) << last_err_;
}

}  // namespace
}  // namespace podagent::runtime::oci
