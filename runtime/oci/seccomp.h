#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/container.h"
#include "model/pod.h"

// The seccomp filters podagent gives containers: which profile a container
// runs under (its securityContext.seccompProfile over the pod's), and the
// agent's own RuntimeDefault profile, as plain values that the OCI spec
// builder turns into linux.seccomp. Pure: no I/O.
namespace podagent::runtime::oci {

// One argument condition of a rule, as in the OCI runtime spec
// (linux.seccomp.syscalls[].args[]). For SCMP_CMP_MASKED_EQ, `value` is the
// mask and `value_two` what the masked argument must equal.
struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", ...
  bool operator==(const SeccompArg&) const = default;
};

// The syscalls `names` get `action` (with errno `errno_ret` for
// SCMP_ACT_ERRNO) when all of `args` hold.
struct SeccompRule {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
  bool operator==(const SeccompRule&) const = default;
};

// A whole filter: linux.seccomp of config.json.
struct SeccompFilter {
  std::string default_action;
  std::vector<std::string> architectures;  // "SCMP_ARCH_X86_64", ...
  std::vector<SeccompRule> syscalls;
  bool operator==(const SeccompFilter&) const = default;
};

// The profile a process runs under.
enum class SeccompMode { Unconfined, RuntimeDefault };

// The effective profile of `container` (nullptr: the pod's sandbox), by the
// kubelet's rules: the container's seccompProfile, else the pod's, else
// Unconfined (the kubelet's default without --seccomp-default); a
// privileged container is always Unconfined. Localhost profiles are not
// supported: an error whose field is the seccompProfile's type.
// `container_path` names the container in that field ("spec.containers[0]").
base::Result<SeccompMode> seccomp_mode(const model::Pod& pod, const model::Container* container,
                                       const std::string& container_path = "");

// The agent's RuntimeDefault filter for a process with the capabilities
// `capabilities` ("CAP_..." names): every syscall allowed but a deny-list
// that fails with EPERM; a syscall that only a capability makes safe is
// denied unless the process holds that capability. `architectures`: the
// ABIs to filter; empty means those of the machine podagent was built for
// (x86_64 with x86 and x32, or aarch64 with arm).
SeccompFilter runtime_default_seccomp(const std::vector<std::string>& capabilities,
                                      std::vector<std::string> architectures = {});

}  // namespace podagent::runtime::oci
