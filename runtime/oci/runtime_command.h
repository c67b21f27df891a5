#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace podagent::runtime::oci {

// `name` itself when it holds a '/', else the first executable file of that
// name in PATH; absolute in both cases.
base::Result<std::filesystem::path> find_program(const std::filesystem::path& name);

// The program `name` in the directory of the running program
// (/proc/self/exe), where podagent's helper programs are installed.
std::filesystem::path beside_this_program(const std::string& name);

// Where the unified (cgroup2) hierarchy is mounted when the node has the
// hybrid layout (cgroup v1 controllers beside a cgroup2 mount, as under
// /sys/fs/cgroup/unified); nullopt on a pure v1 or pure v2 node.
// `mountinfo` is the text of /proc/self/mountinfo.
std::optional<std::filesystem::path> hybrid_unified_mount(const std::string& mountinfo);

// The command that the driver and the monitor run as the OCI runtime `binary`:
// a program and the arguments before the runtime's own. Normally the binary
// itself (found in PATH). crun 1.8 refuses the hybrid cgroup layout
// ("cgroups in hybrid mode not supported"), so on such a node crun runs
// through `private_mounts` (podagent-private-mounts, given the unified
// mount and crun), which detaches the unified hierarchy in a private mount
// namespace (the node's mounts are untouched) and execs crun, which then
// sees a plain v1 node. Fails when a program is missing.
base::Result<std::vector<std::string>> runtime_command(const std::filesystem::path& binary,
                                                       const std::filesystem::path& private_mounts);

}  // namespace podagent::runtime::oci
