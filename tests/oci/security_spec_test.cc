// The security parts of config.json: the seccomp filter a container or
// sandbox gets, runAsNonRoot's refusals with the kubelet's messages and the
// field at fault, and which sysctls a pod may set.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "runtime/oci/oci_spec.h"
#include "runtime/oci/seccomp.h"

// Designated initializers name only what a case needs; GCC 12 warns about
// the fields left out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::runtime::oci {
namespace {

namespace json = boost::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

model::SeccompProfile profile(const char* type) { return model::SeccompProfile{.type = type}; }

struct Case {
  model::Pod pod;
  ImageConfig image;
  ContainerSpecInput input;

  Case() {
    pod.metadata.name = "web";
    pod.metadata.namespace_ = "shop";
    pod.metadata.uid = "uid-1";
    pod.spec.init_containers.push_back(model::Container{.name = "setup", .command = {"/bin/a"}});
    pod.spec.containers.push_back(model::Container{.name = "app", .command = {"/bin/app"}});
  }
  model::SecurityContext& sc() {
    auto& c = pod.spec.containers[0].security_context;
    if (!c) c.emplace();
    return *c;
  }
  model::PodSecurityContext& pod_sc() {
    auto& s = pod.spec.security_context;
    if (!s) s.emplace();
    return *s;
  }
  base::Result<std::string> text() {
    input.pod = &pod;
    input.container = &pod.spec.containers[0];
    input.image = &image;
    input.rootfs = "/pods/uid-1/app/rootfs";
    return container_spec_json(input);
  }
  json::object spec() {
    auto t = text();
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().to_string());
    return t.ok() ? json::parse(*t).as_object() : json::object{};
  }
  bool has_seccomp() { return spec().at("linux").as_object().contains("seccomp"); }
  base::Result<std::string> sandbox_text() {
    return sandbox_spec_json({.pod = &pod, .rootfs = "/pods/uid-1/pause", .hostname = "web"});
  }
};

// The names the filter refuses unconditionally with EPERM.
std::vector<std::string> denied(const SeccompFilter& f) {
  std::vector<std::string> out;
  for (const auto& r : f.syscalls)
    if (r.action == "SCMP_ACT_ERRNO" && r.errno_ret == 1u && r.args.empty())
      out.insert(out.end(), r.names.begin(), r.names.end());
  return out;
}

std::vector<std::string> default_caps() {
  Case c;
  const json::object spec = c.spec();
  std::vector<std::string> out;
  for (const auto& v : spec.at("process").at("capabilities").at("effective").as_array())
    out.emplace_back(v.as_string());
  return out;
}

// --- seccomp ------------------------------------------------------------------

TEST(Seccomp, RuntimeDefaultAllowsAllButADenyListOnEveryAbiOfTheMachine) {
  SeccompFilter f = runtime_default_seccomp(default_caps());
  EXPECT_EQ(f.default_action, "SCMP_ACT_ALLOW");
#if defined(__x86_64__)
  EXPECT_THAT(f.architectures, ElementsAre("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"));
#endif
  for (const char* name : {"kexec_load",    "kexec_file_load",
                           "init_module",   "finit_module",
                           "delete_module", "reboot",
                           "swapon",        "swapoff",
                           "mount",         "umount2",
                           "pivot_root",    "unshare",
                           "setns",         "keyctl",
                           "add_key",       "request_key",
                           "bpf",           "perf_event_open",
                           "userfaultfd",   "open_by_handle_at",
                           "ptrace",        "acct",
                           "settimeofday",  "clock_settime",
                           "quotactl",      "lookup_dcookie",
                           "uselib",        "vm86"})
    EXPECT_THAT(denied(f), Contains(name));
  // Nothing a default container does every day.
  for (const char* name : {"read", "execve", "clone", "adjtimex", "personality", "chroot"})
    EXPECT_THAT(denied(f), Not(Contains(name)));
  // clone with any CLONE_NEW* flag, one rule per flag; clone3 is ENOSYS.
  std::vector<uint64_t> clone_flags;
  for (const auto& r : f.syscalls) {
    if (r.names != std::vector<std::string>{"clone"}) continue;
    ASSERT_EQ(r.args.size(), 1u);
    EXPECT_EQ(r.args[0].op, "SCMP_CMP_MASKED_EQ");
    EXPECT_EQ(r.args[0].index, 0u);
    EXPECT_EQ(r.args[0].value, r.args[0].value_two);
    clone_flags.push_back(r.args[0].value);
  }
  uint64_t all = 0;
  for (uint64_t flag : clone_flags) all |= flag;
  EXPECT_EQ(all, 0x7E020000u);  // NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
  auto clone3 = std::find_if(f.syscalls.begin(), f.syscalls.end(), [](const SeccompRule& r) {
    return r.names == std::vector<std::string>{"clone3"};
  });
  ASSERT_NE(clone3, f.syscalls.end());
  EXPECT_EQ(clone3->errno_ret, 38u);
}

TEST(Seccomp, ACapabilityLiftsTheDenialsItMakesLegitimate) {
  std::vector<std::string> caps = default_caps();
  caps.push_back("CAP_SYS_PTRACE");
  caps.push_back("CAP_SYS_TIME");
  SeccompFilter f = runtime_default_seccomp(caps);
  EXPECT_THAT(denied(f), Not(Contains("ptrace")));
  EXPECT_THAT(denied(f), Not(Contains("clock_settime")));
  EXPECT_THAT(denied(f), Contains("mount"));
  caps.push_back("CAP_SYS_ADMIN");
  f = runtime_default_seccomp(caps, {"SCMP_ARCH_AARCH64"});
  EXPECT_THAT(f.architectures, ElementsAre("SCMP_ARCH_AARCH64"));
  for (const char* name : {"mount", "unshare", "setns", "bpf", "perf_event_open", "clone3"})
    EXPECT_THAT(denied(f), Not(Contains(name))) << name;
  for (const auto& r : f.syscalls) EXPECT_THAT(r.names, Not(Contains("clone")));
  EXPECT_THAT(denied(f), Contains("keyctl"));  // keyrings are not namespaced: no capability helps
}

TEST(Seccomp, UnsetAndUnconfinedGetNoFilterRuntimeDefaultGetsTheAgentsOwn) {
  Case c;
  EXPECT_FALSE(c.has_seccomp());
  c.pod_sc().seccomp_profile = profile("Unconfined");
  EXPECT_FALSE(c.has_seccomp());
  c.pod_sc().seccomp_profile = profile("RuntimeDefault");
  json::object s = c.spec();
  ASSERT_TRUE(s.at("linux").as_object().contains("seccomp"));
  const json::object& seccomp = s.at("linux").at("seccomp").as_object();
  EXPECT_EQ(seccomp.at("defaultAction"), "SCMP_ACT_ALLOW");
  EXPECT_FALSE(seccomp.at("architectures").as_array().empty());
  // The JSON carries every rule of the filter, in the spec's field names.
  const SeccompFilter f = runtime_default_seccomp(default_caps());
  ASSERT_EQ(seccomp.at("syscalls").as_array().size(), f.syscalls.size());
  EXPECT_EQ(seccomp.at("syscalls").as_array()[0].at("errnoRet"), 1);
  bool clone_arg_seen = false;
  for (const auto& rule : seccomp.at("syscalls").as_array()) {
    if (!rule.as_object().contains("args")) continue;
    EXPECT_EQ(rule.at("args").as_array()[0].at("op"), "SCMP_CMP_MASKED_EQ");
    EXPECT_TRUE(rule.at("args").as_array()[0].as_object().contains("valueTwo"));
    clone_arg_seen = true;
  }
  EXPECT_TRUE(clone_arg_seen);
}

TEST(Seccomp, TheContainersProfileWinsOverThePods) {
  Case c;
  c.pod_sc().seccomp_profile = profile("RuntimeDefault");
  c.sc().seccomp_profile = profile("Unconfined");
  EXPECT_FALSE(c.has_seccomp());
  c.pod_sc().seccomp_profile = profile("Unconfined");
  c.sc().seccomp_profile = profile("RuntimeDefault");
  EXPECT_TRUE(c.has_seccomp());
  c.pod.spec.security_context.reset();
  EXPECT_TRUE(c.has_seccomp());
}

TEST(Seccomp, APrivilegedContainerNeverGetsAFilter) {
  Case c;
  c.pod_sc().seccomp_profile = profile("RuntimeDefault");
  c.sc().privileged = true;
  EXPECT_FALSE(c.has_seccomp());
  c.sc().seccomp_profile = profile("RuntimeDefault");
  EXPECT_FALSE(c.has_seccomp());
}

TEST(Seccomp, TheFilterFollowsTheContainersCapabilities) {
  Case c;
  c.sc().seccomp_profile = profile("RuntimeDefault");
  c.sc().capabilities = model::Capabilities{.add = {"SYS_ADMIN"}};
  const json::object spec = c.spec();
  std::vector<std::string> names;
  for (const auto& rule : spec.at("linux").at("seccomp").at("syscalls").as_array())
    for (const auto& n : rule.at("names").as_array()) names.emplace_back(n.as_string());
  EXPECT_THAT(names, Not(Contains("mount")));
  EXPECT_THAT(names, Contains("reboot"));
}

TEST(Seccomp, LocalhostIsRefusedNamingTheField) {
  Case c;
  c.sc().seccomp_profile =
      model::SeccompProfile{.type = "Localhost", .localhost_profile = "my.json"};
  auto t = c.text();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().field, "spec.containers[0].securityContext.seccompProfile.type");
  EXPECT_THAT(t.error().message, ::testing::HasSubstr("Localhost"));
  c.pod.spec.containers[0].security_context.reset();
  c.pod_sc().seccomp_profile = profile("Localhost");
  t = c.sandbox_text();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().field, "spec.securityContext.seccompProfile.type");
}

TEST(Seccomp, TheSandboxGetsThePodsProfile) {
  Case c;
  auto plain = c.sandbox_text();
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(json::parse(*plain).at("linux").as_object().contains("seccomp"));
  c.pod_sc().seccomp_profile = profile("RuntimeDefault");
  auto text = c.sandbox_text();
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(json::parse(*text).at("linux").at("seccomp").at("defaultAction"), "SCMP_ACT_ALLOW");
}

TEST(CapabilityNames, NamesTheBitsOfAMaskInNumberOrder) {
  // A node whose root lacks CAP_SYS_RESOURCE (24), as some VMs' does.
  std::vector<std::string> names = capability_names(0x000001fffeffffffULL);
  EXPECT_EQ(names.size(), 40u);
  EXPECT_THAT(names, Not(Contains("CAP_SYS_RESOURCE")));
  EXPECT_EQ(names.front(), "CAP_CHOWN");
  EXPECT_EQ(names.back(), "CAP_CHECKPOINT_RESTORE");
  EXPECT_THAT(
      capability_names(0xa80425fbULL),
      ElementsAre("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                  "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
                  "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"));
  EXPECT_THAT(capability_names(uint64_t{1} << 63), ::testing::IsEmpty());
}

// --- runAsNonRoot ---------------------------------------------------------------

constexpr const char* kWho = "(pod: \"web_shop(uid-1)\", container: app)";

TEST(RunAsNonRoot, ARootImageUserIsRefusedWithTheKubeletsMessageAndField) {
  Case c;
  c.sc().run_as_non_root = true;
  for (const char* user : {"", "0", "0:0", "root"}) {
    c.image.user = user;
    auto t = c.text();
    ASSERT_FALSE(t.ok()) << user;
    EXPECT_EQ(t.error().field, "spec.containers[0].securityContext.runAsNonRoot") << user;
    if (std::string(user) == "root")
      EXPECT_EQ(t.error().message,
                std::string("container has runAsNonRoot and image has non-numeric user (root), "
                            "cannot verify user is non-root ") +
                    kWho);
    else
      EXPECT_EQ(t.error().message,
                std::string("container has runAsNonRoot and image will run as root ") + kWho)
          << user;
  }
  c.image.user = "1000:1000";
  EXPECT_TRUE(c.text().ok());
}

TEST(RunAsNonRoot, ThePodsSettingAndRunAsUserZeroNameTheirOwnFields) {
  Case c;
  c.pod_sc().run_as_non_root = true;
  auto u = container_user(c.pod, c.pod.spec.init_containers[0], c.image, "", "");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().field, "spec.securityContext.runAsNonRoot");
  EXPECT_EQ(u.error().message,
            "container has runAsNonRoot and image will run as root (pod: \"web_shop(uid-1)\", "
            "container: setup)");
  c.pod.spec.init_containers[0].security_context = model::SecurityContext{.run_as_user = 0};
  u = container_user(c.pod, c.pod.spec.init_containers[0], c.image, "", "");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().field, "spec.initContainers[0].securityContext.runAsUser");
  EXPECT_EQ(u.error().message,
            "container's runAsUser breaks non-root policy (pod: \"web_shop(uid-1)\", "
            "container: setup)");
  // runAsUser decides; the root image user no longer matters.
  c.pod.spec.init_containers[0].security_context = model::SecurityContext{.run_as_user = 1000};
  EXPECT_TRUE(container_user(c.pod, c.pod.spec.init_containers[0], c.image, "", "").ok());
  // runAsNonRoot false on the container overrides the pod's true.
  c.sc().run_as_non_root = false;
  EXPECT_TRUE(c.text().ok());
}

TEST(ContainerFieldPath, ByAddressElseByName) {
  Case c;
  EXPECT_EQ(container_field_path(c.pod, c.pod.spec.containers[0]), "spec.containers[0]");
  EXPECT_EQ(container_field_path(c.pod, c.pod.spec.init_containers[0]), "spec.initContainers[0]");
  model::Container copy = c.pod.spec.containers[0];
  EXPECT_EQ(container_field_path(c.pod, copy), "spec.containers[0]");
  copy.name = "debugger";
  c.pod.spec.ephemeral_containers.push_back(copy);
  EXPECT_EQ(container_field_path(c.pod, copy), "spec.ephemeralContainers[0]");
}

// --- sysctls ----------------------------------------------------------------------

TEST(Sysctls, OnlyThePodsOwnNamespacesSysctlsCanBeSet) {
  Case c;
  c.pod_sc().sysctls = {{"kernel.shm_rmid_forced", "1"},
                        {"net.ipv4.ip_local_port_range", "1024 65000"},
                        {"fs.mqueue.msg_max", "20"},
                        {"net/ipv4/tcp_syncookies", "1"}};
  auto ok = c.sandbox_text();
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(json::parse(*ok).at("linux").at("sysctl").at("kernel.shm_rmid_forced"), "1");

  c.pod_sc().sysctls.push_back({"vm.swappiness", "10"});
  auto refused = c.sandbox_text();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().field, "spec.securityContext.sysctls[4].name");
  EXPECT_THAT(refused.error().message,
              ::testing::StartsWith("forbidden sysctl: \"vm.swappiness\" is not namespaced"));
  c.pod_sc().sysctls = {{"kernel.hostname", "x"}};
  EXPECT_FALSE(c.sandbox_text().ok());

  c.pod_sc().sysctls = {{"net.ipv4.ip_local_port_range", "1024 65000"}};
  c.pod.spec.host_network = true;
  refused = c.sandbox_text();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "forbidden sysctl: \"net.ipv4.ip_local_port_range\" not allowed with host net enabled");
  c.pod.spec.host_network = false;
  c.pod.spec.host_ipc = true;
  c.pod_sc().sysctls = {{"kernel.msgmax", "1"}};
  EXPECT_FALSE(c.sandbox_text().ok());
}

}  // namespace
}  // namespace podagent::runtime::oci
