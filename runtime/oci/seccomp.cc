// The agent's RuntimeDefault seccomp profile, and which profile a container
// runs under.
//
// Why a deny-list (default SCMP_ACT_ALLOW) rather than the allow-list of
// docker's and containerd's profiles (default SCMP_ACT_ERRNO, ~350 names):
// an allow-list written here, without those projects' years of reports,
// would sooner or later refuse a syscall some workload needs (a new libc's
// clone3, rseq, close_range, ...), and such failures are silent EPERMs deep
// inside programs. The deny-list refuses the syscalls those profiles refuse
// for a reason: ones that change the node's kernel state (modules, kexec,
// reboot, swap, clock, accounting), that reach outside the container's
// namespaces (mount and namespace creation, keyrings, which the kernel does
// not namespace), and the large attack surfaces an ordinary process has no
// use for (bpf, perf_event_open, userfaultfd, ptrace, the 32-bit vm86).
// Every ABI the machine runs is listed, so that the i386 or x32 entry
// points cannot be used to slip past a rule: a syscall from an architecture
// not listed is refused by the filter as a whole.
//
// As in those profiles, a syscall that a capability makes legitimate is
// denied only when the process lacks the capability (a container given
// CAP_SYS_ADMIN may mount; one given CAP_SYS_PTRACE may ptrace).
// Deliberately left alone: personality (its flags weaken only the caller's
// own hardening) and the NUMA memory policy calls.

#include "runtime/oci/seccomp.h"

#include <algorithm>
#include <initializer_list>

namespace podagent::runtime::oci {

namespace {

constexpr uint32_t kEperm = 1;
constexpr uint32_t kEnosys = 38;

// The CLONE_NEW* flags of clone(2): CLONE_NEWNS, CLONE_NEWCGROUP,
// CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET.
constexpr uint64_t kCloneNamespaceFlags[] = {0x00020000, 0x02000000, 0x04000000, 0x08000000,
                                             0x10000000, 0x20000000, 0x40000000};

// Syscalls refused unless the process holds one of `caps` (none: always).
struct Deny {
  std::initializer_list<const char*> caps;
  std::initializer_list<const char*> names;
};

// clang-format off
const Deny kDenied[] = {
    // Kernel keyrings are not namespaced; obsolete or 32-bit-only calls.
    {{}, {"keyctl", "add_key", "request_key", "uselib", "vm86", "vm86old", "nfsservctl",
          "create_module", "get_kernel_syms", "query_module", "_sysctl"}},
    {{"CAP_SYS_ADMIN"}, {"mount", "umount", "umount2", "pivot_root", "unshare", "setns",
                         "swapon", "swapoff", "quotactl", "quotactl_fd", "lookup_dcookie",
                         "fanotify_init", "name_to_handle_at", "fsopen", "fsconfig", "fsmount",
                         "fspick", "move_mount", "open_tree", "mount_setattr"}},
    {{"CAP_SYS_ADMIN", "CAP_BPF"}, {"bpf"}},
    {{"CAP_SYS_ADMIN", "CAP_PERFMON"}, {"perf_event_open"}},
    {{"CAP_SYS_ADMIN", "CAP_SYSLOG"}, {"syslog"}},
    {{"CAP_DAC_READ_SEARCH"}, {"open_by_handle_at"}},
    {{"CAP_SYS_MODULE"}, {"init_module", "finit_module", "delete_module"}},
    {{"CAP_SYS_BOOT"}, {"reboot", "kexec_load", "kexec_file_load"}},
    {{"CAP_SYS_PTRACE"}, {"ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
                          "userfaultfd"}},
    {{"CAP_SYS_PACCT"}, {"acct"}},
    {{"CAP_SYS_TIME"}, {"settimeofday", "stime", "clock_settime", "clock_settime64",
                        "clock_adjtime", "clock_adjtime64"}},
    {{"CAP_SYS_RAWIO"}, {"iopl", "ioperm"}},
};
// clang-format on

bool holds_any(const std::vector<std::string>& held, std::initializer_list<const char*> caps) {
  return std::any_of(caps.begin(), caps.end(), [&](const char* cap) {
    return std::find(held.begin(), held.end(), cap) != held.end();
  });
}

std::vector<std::string> native_architectures() {
#if defined(__x86_64__)
  return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
  return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#else
#error "podagent's seccomp profile knows x86_64 and aarch64 only"
#endif
}

base::Result<SeccompMode> mode_of(const model::SeccompProfile& profile, const std::string& at) {
  if (profile.type == "RuntimeDefault") return SeccompMode::RuntimeDefault;
  if (profile.type == "Unconfined") return SeccompMode::Unconfined;
  if (profile.type == "Localhost")
    return base::Error(
        "Localhost seccomp profiles are not supported: use RuntimeDefault or "
        "Unconfined",
        at + ".seccompProfile.type");
  return base::Error("unsupported seccomp profile type \"" + profile.type + "\"",
                     at + ".seccompProfile.type");
}

}  // namespace

base::Result<SeccompMode> seccomp_mode(const model::Pod& pod, const model::Container* container,
                                       const std::string& container_path) {
  if (container && container->security_context) {
    const model::SecurityContext& sc = *container->security_context;
    if (sc.privileged.value_or(false)) return SeccompMode::Unconfined;
    if (sc.seccomp_profile)
      return mode_of(*sc.seccomp_profile, container_path + ".securityContext");
  }
  const auto& psc = pod.spec.security_context;
  if (psc && psc->seccomp_profile) return mode_of(*psc->seccomp_profile, "spec.securityContext");
  return SeccompMode::Unconfined;
}

SeccompFilter runtime_default_seccomp(const std::vector<std::string>& capabilities,
                                      std::vector<std::string> architectures) {
  SeccompFilter filter;
  filter.default_action = "SCMP_ACT_ALLOW";
  filter.architectures = architectures.empty() ? native_architectures() : std::move(architectures);
  for (const Deny& deny : kDenied) {
    if (holds_any(capabilities, deny.caps)) continue;
    filter.syscalls.push_back(SeccompRule{.names = {deny.names.begin(), deny.names.end()},
                                          .action = "SCMP_ACT_ERRNO",
                                          .errno_ret = kEperm,
                                          .args = {}});
  }
  if (!holds_any(capabilities, {"CAP_SYS_ADMIN"})) {
    // clone(2) creating a namespace: one rule per flag, since rules are
    // alternatives and a rule's conditions must all hold. The flags are
    // argument 0 on every architecture listed here.
    for (uint64_t flag : kCloneNamespaceFlags)
      filter.syscalls.push_back(SeccompRule{
          .names = {"clone"},
          .action = "SCMP_ACT_ERRNO",
          .errno_ret = kEperm,
          .args = {SeccompArg{
              .index = 0, .value = flag, .value_two = flag, .op = "SCMP_CMP_MASKED_EQ"}}});
    // clone3 passes its flags in memory, where a filter cannot look:
    // ENOSYS makes libc fall back to clone, which the rules above check.
    filter.syscalls.push_back(SeccompRule{
        .names = {"clone3"}, .action = "SCMP_ACT_ERRNO", .errno_ret = kEnosys, .args = {}});
  }
  return filter;
}

}  // namespace podagent::runtime::oci
