#pragma once

#include <sys/types.h>

#include <optional>
#include <set>
#include <string>

#include "agent/soak_report.h"
#include "base/result.h"

// The /proc and /sys side of `podagent soak`: whose agent it is, and what it
// holds.
namespace podagent::cli {

// The pid of the process listening on the unix socket `path`, from the
// connection's peer credentials (SO_PEERCRED).
base::Result<pid_t> socket_peer_pid(const std::string& path);

// Samples the agent `pid`: its RSS, open fds and threads (/proc/PID), the
// lines of its mountinfo, its cgroups, and its children plus the containers'
// monitors, podagent-monitor or conmon (of the state dir when one is given,
// else every one: a monitor detaches from the agent). Its cgroups: the oci
// backend leaves cgroupsPath to the OCI runtime, which names each cgroup by
// the sandbox's or container's id (32 hex digits), under every controller.
// With a state dir only the ids found in its records (collect_ids) count;
// without one every directory named by 32 hex digits does, which counts
// other programs' too.
class AgentSampler {
 public:
  AgentSampler(pid_t pid, std::string state_dir) : pid_(pid), state_dir_(std::move(state_dir)) {}

  // Remembers the ids of the sandboxes and containers the state dir holds
  // now (cheap: call it every second or so while pods come and go).
  void collect_ids();
  // Fails when the agent is gone.
  base::Result<agent::SoakResources> sample();

 private:
  bool counts_as_cgroup(const std::string& name) const;
  int64_t count_cgroups() const;

  pid_t pid_;
  std::string state_dir_;
  std::set<std::string> ids_;
};

}  // namespace podagent::cli
