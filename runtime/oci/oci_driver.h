#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/runtime.h"

namespace podagent::runtime::oci {

// What the OCI runtime says of one container (`runc state`).
struct OciState {
  std::string id;
  std::string status;  // "creating", "created", "running", "stopped", "paused"
  int pid = 0;         // 0 once stopped
  std::filesystem::path bundle;
  bool operator==(const OciState&) const = default;
};

struct OciDriverOptions {
  std::filesystem::path runtime_binary = "runc";  // runc or crun (a name is looked up in PATH)
  // podagent-private-mounts, which runs crun on a hybrid cgroup node
  // (runtime_command); empty: beside the running program.
  std::filesystem::path private_mounts_binary;
  std::filesystem::path runtime_root;             // --root of the runtime's state; empty: its default
  // Each container's monitor: podagent-monitor (runtime/monitor/monitor.c),
  // or conmon, which takes the same arguments; empty: podagent-monitor
  // beside the running program.
  std::filesystem::path monitor_binary;
  // The monitor writes <exit_dir>/<id> holding the exit code when a
  // container's process ends; watched with inotify.
  std::filesystem::path exit_dir;
  // The monitor's pid files (and its "oom" mark) live under <state_dir>/<id>/.
  std::filesystem::path state_dir;
  // Log files rotate at this size (the kubelet's containerLogMaxSize).
  uint64_t log_max_bytes = 10 << 20;
  // A runtime command (or the monitor's create) still running after this is
  // killed and its call fails.
  std::chrono::milliseconds command_timeout{30000};
};

// One OCI runtime binary (runc, crun) driven through one monitor per
// container (podagent-monitor, or conmon): the monitor has the runtime
// create the container, holds its stdio, writes its CRI-format log and its
// exit code, and outlives the agent, so containers keep running when the
// agent stops. Processes are spawned and awaited without blocking
// the io_context (pidfds). Every call completes on `executor`.
// REQUIRES: no call is in flight when the driver is destroyed; the
// containers and their monitors live on (a new driver on the same
// directories sees them).
class OciDriver {
 public:
  OciDriver(boost::asio::any_io_executor executor, OciDriverOptions options);
  ~OciDriver();
  OciDriver(const OciDriver&) = delete;
  OciDriver& operator=(const OciDriver&) = delete;

  // Creates the container of `bundle` (its config.json written) under a new
  // monitor; completes once the runtime created it (state "created"), with
  // the pid of its init process (as `state` would give it, without running
  // the runtime once more). `log_path` receives stdout/stderr in the CRI
  // format; empty: no log.
  Task<base::Result<int>> create(const std::string& id, const std::filesystem::path& bundle,
                            const std::filesystem::path& log_path, bool terminal, bool stdin_open);
  Task<base::Status> start(const std::string& id);
  // Signals the container's init process (`all`: every process of it).
  Task<base::Status> kill(const std::string& id, int signal, bool all = false);
  // `runc delete --force`; succeeds when the container is already gone.
  Task<base::Status> remove(const std::string& id);
  Task<base::Result<OciState>> state(const std::string& id);
  Task<base::Result<std::vector<OciState>>> list();
  // A non-interactive process in the container: its exit code and output;
  // killed at `timeout` (timed_out set).
  Task<base::Result<ExecResult>> exec(const std::string& id, const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout);
  // Asks the container's monitor to reopen its log file (after a rotation).
  base::Status reopen_log(const std::string& id);

  // The exit code the monitor recorded, if the container exited.
  std::optional<int> exit_code(const std::string& id) const;
  // Whether the monitor saw the kernel's OOM killer act in the container's
  // memory cgroup (its OOM event counter), recorded in an "oom" file.
  bool oom_killed(const std::string& id) const;
  // Called on the executor with the id of each container whose exit file
  // appeared (possibly more than once for an id: after an inotify queue
  // overflow every exit file present is reported). Set once, before create().
  void on_exit(std::function<void(const std::string& id)> handler);
  // Forgets the exit file and the monitor's files of a removed container.
  void forget(const std::string& id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podagent::runtime::oci
