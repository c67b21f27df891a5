// The security context with real containers: runAsNonRoot refuses a root
// image user (CreateContainerConfigError, with the kubelet's message),
// runAsUser/runAsGroup/supplementalGroups are the process's ids, a read-only
// root filesystem, the RuntimeDefault seccomp filter, capabilities,
// privileged, no_new_privs, the masked and read-only /proc paths, and
// sysctls (the pod's namespaced ones set, a node-wide one refused). What
// each container sees is read from its log once it has exited.

#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <string>

#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::field;

// The /proc/self/status lines the security checks read.
constexpr const char* kStatusLines = "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status";

class SecurityTest : public E2eTest {
 public:
  // Creates `pod` and waits until each of `containers` has terminated;
  // false (and a test failure) otherwise.
  bool run_to_end(const PodYaml& pod, std::initializer_list<std::string> containers) {
    EXPECT_EQ(create(pod.str()), 201);
    auto done = wait_pod(pod.name, [&](const model::Node& p) {
      for (const auto& c : containers)
        if (at(container_status(p, c), {"state", "terminated", "exitCode"}).empty()) return false;
      return true;
    });
    EXPECT_TRUE(done.has_value()) << pod.name << " did not run to its end";
    return done.has_value();
  }
  using E2eTest::logs;
};

// This process's line of /proc/self/status for `key` ("CapEff:\t...").
std::string own_status_line(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return line;
  return "";
}

TEST_F(SecurityTest, RunAsNonRootWithARootImageUserDoesNotStartAndSaysWhy) {
  PodYaml pod("nonroot", "  securityContext: {runAsNonRoot: true}\n");
  pod.containers = sh_container("app", kIdle);
  ASSERT_EQ(create(pod.str()), 201);
  auto waiting = wait_pod("nonroot", [](const model::Node& p) {
    return at(container_status(p, "app"), {"state", "waiting", "reason"}) ==
           "CreateContainerConfigError";
  });
  ASSERT_TRUE(waiting) << field(*wait_pod("nonroot", [](const model::Node&) { return true; }),
                                {"status", "containerStatuses"});
  const std::string uid = field(*waiting, {"metadata", "uid"});
  EXPECT_EQ(at(container_status(*waiting, "app"), {"state", "waiting", "message"}),
            "container has runAsNonRoot and image will run as root (pod: \"nonroot_default(" + uid +
                ")\", container: app)");
  EXPECT_EQ(field(*waiting, {"status", "phase"}), "Pending");
}

TEST_F(SecurityTest, RunAsUserGroupAndSupplementalGroupsAreTheProcesssIds) {
  PodYaml pod("ids",
              "  restartPolicy: Never\n"
              "  securityContext: {runAsNonRoot: true, runAsUser: 1000, supplementalGroups: [4000, "
              "5000]}\n");
  pod.containers = sh_container("app", "echo u=$(id -u) g=$(id -g) G=$(id -G)",
                                "    securityContext: {runAsGroup: 3000}\n");
  ASSERT_TRUE(run_to_end(pod, {"app"}));
  EXPECT_EQ(logs("ids", "app"), "u=1000 g=3000 G=3000 4000 5000\n");
}

TEST_F(SecurityTest, AReadOnlyRootFilesystemRefusesWritesButAnEmptyDirTakesThem) {
  PodYaml pod("rootro",
              "  restartPolicy: Never\n  volumes:\n  - name: scratch\n    emptyDir: {}\n");
  pod.containers =
      sh_container("app", "touch /x 2>&1; echo root=$?; touch /scratch/y; echo scratch=$?",
                   "    securityContext: {readOnlyRootFilesystem: true}\n"
                   "    volumeMounts:\n    - name: scratch\n      mountPath: /scratch\n");
  ASSERT_TRUE(run_to_end(pod, {"app"}));
  EXPECT_EQ(logs("rootro", "app"), "touch: /x: Read-only file system\nroot=1\nscratch=0\n");
}

// The pod asks for RuntimeDefault; "free" overrides it. Creating a user
// namespace needs no capability, so only the filter tells them apart.
// `runtime_class`: the OCI runtime's handler ("": the default, runc).
void check_runtime_default_seccomp(SecurityTest& t, const std::string& name,
                                   const std::string& runtime_class) {
  PodYaml pod(name,
              "  restartPolicy: Never\n  securityContext:\n    seccompProfile: {type: "
              "RuntimeDefault}\n");
  if (!runtime_class.empty()) pod.spec_extra += "  runtimeClassName: " + runtime_class + "\n";
  const std::string script =
      "grep Seccomp: /proc/self/status; unshare -U true 2>&1; echo unshare=$?";
  pod.containers = sh_container("confined", script) +
                   sh_container("free", script,
                                "    securityContext:\n      seccompProfile: {type: Unconfined}\n");
  ASSERT_TRUE(t.run_to_end(pod, {"confined", "free"}));
  EXPECT_EQ(t.logs(name, "confined"),
            "Seccomp:\t2\nunshare: unshare(0x10000000): Operation not permitted\nunshare=1\n");
  EXPECT_EQ(t.logs(name, "free"), "Seccomp:\t0\nunshare=0\n");
}

TEST_F(SecurityTest, RuntimeDefaultSeccompFiltersAndUnconfinedDoesNot) {
  check_runtime_default_seccomp(*this, "seccomp", "");
  PodYaml plain("noseccomp", "  restartPolicy: Never\n");
  plain.containers = sh_container("app", "grep Seccomp: /proc/self/status");
  ASSERT_TRUE(run_to_end(plain, {"app"}));
  EXPECT_EQ(logs("noseccomp", "app"), "Seccomp:\t0\n");
}

TEST_F(SecurityTest, CrunRunsTheRuntimeDefaultFilterToo) {
  if (!fs::exists(config_.runtime.runtime_handlers.at("crun"))) GTEST_SKIP() << "needs crun";
  check_runtime_default_seccomp(*this, "seccomp-crun", "crun");
}

TEST_F(SecurityTest, CapabilitiesPrivilegedAndNoNewPrivs) {
  PodYaml pod("caps",
              "  restartPolicy: Never\n  securityContext:\n    seccompProfile: {type: "
              "RuntimeDefault}\n");
  pod.containers =
      sh_container("dropall", kStatusLines,
                   "    securityContext:\n      capabilities: {drop: [ALL]}\n") +
      sh_container("netadmin", kStatusLines,
                   "    securityContext:\n      capabilities: {drop: [ALL], add: [NET_ADMIN]}\n") +
      sh_container("nnp", kStatusLines, "    securityContext: {allowPrivilegeEscalation: false}\n");
  ASSERT_TRUE(run_to_end(pod, {"dropall", "netadmin", "nnp"}));
  EXPECT_EQ(logs("caps", "dropall"), "CapEff:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2\n");
  // CAP_NET_ADMIN is capability 12.
  EXPECT_EQ(logs("caps", "netadmin"), "CapEff:\t0000000000001000\nNoNewPrivs:\t0\nSeccomp:\t2\n");
  // The default set (docker's and containerd's 14), no_new_privs on.
  EXPECT_EQ(logs("caps", "nnp"), "CapEff:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\n");
}

TEST_F(SecurityTest, APrivilegedContainerHasTheNodesCapabilitiesAndNoFilter) {
  // The pod asks for RuntimeDefault: the privileged container still runs
  // without a filter, with every capability of the node's bounding set
  // (which, on some nodes, lacks one: CAP_SYS_RESOURCE in some VMs).
  PodYaml pod("priv",
              "  restartPolicy: Never\n  securityContext:\n    seccompProfile: {type: "
              "RuntimeDefault}\n");
  pod.containers = sh_container("priv", kStatusLines, "    securityContext: {privileged: true}\n");
  ASSERT_TRUE(run_to_end(pod, {"priv"}));
  EXPECT_EQ(logs("priv", "priv"),
            own_status_line("CapBnd").replace(0, 6, "CapEff") + "\nNoNewPrivs:\t0\nSeccomp:\t0\n");
}

TEST_F(SecurityTest, ProcHasMaskedAndReadOnlyPaths) {
  PodYaml pod("proc", "  restartPolicy: Never\n");
  pod.containers = sh_container(
      "app",
      "exec 2>&1; echo keys=$(wc -c < /proc/keys) timer_list=$(wc -c < /proc/timer_list); "
      "echo 1 > /proc/sys/kernel/shm_rmid_forced; echo sys=$?");
  ASSERT_TRUE(run_to_end(pod, {"app"}));
  // /proc/kcore is masked too, where the kernel has one (not in every VM).
  EXPECT_EQ(logs("proc", "app"),
            "keys=0 timer_list=0\nsh: can't create /proc/sys/kernel/shm_rmid_forced: Read-only "
            "file system\nsys=1\n");
}

TEST_F(SecurityTest, NamespacedSysctlsAreSetAndANodeWideOneIsRefused) {
  PodYaml pod("sysctls",
              "  restartPolicy: Never\n  securityContext:\n    sysctls:\n"
              "    - {name: kernel.shm_rmid_forced, value: \"1\"}\n"
              "    - {name: net.ipv4.ip_local_port_range, value: \"20000 30000\"}\n");
  pod.containers = sh_container(
      "app", "cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_local_port_range");
  ASSERT_TRUE(run_to_end(pod, {"app"}));
  EXPECT_EQ(logs("sysctls", "app"), "1\n20000\t30000\n");

  PodYaml node_wide(
      "swappiness",
      "  securityContext:\n    sysctls:\n    - {name: vm.swappiness, value: \"10\"}\n");
  node_wide.containers = sh_container("app", kIdle);
  ASSERT_EQ(create(node_wide.str()), 201);
  auto events = [&] {
    return get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dswappiness")
        .body;
  };
  EXPECT_TRUE(wait_until([&] {
    const std::string text = events();
    return text.find("FailedCreatePodSandBox") != std::string::npos &&
           text.find("vm.swappiness\\\" is not namespaced") != std::string::npos;
  })) << events();
  auto pending = wait_pod("swappiness", [](const model::Node& p) {
    return at(container_status(p, "app"), {"state", "waiting", "reason"}) == "ContainerCreating";
  });
  ASSERT_TRUE(pending);
  EXPECT_EQ(field(*pending, {"status", "phase"}), "Pending");
}

}  // namespace
}  // namespace podagent::e2e
