#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "runtime/runtime.h"

namespace podagent::runtime::oci {

// A child process to run: argv, extra environment, the descriptors it
// inherits, a time limit.
struct ProcessSpec {
  // argv[0] is a path, or a name looked up in PATH. REQUIRES: not empty.
  std::vector<std::string> argv;
  // "NAME=value" entries added to the agent's environment (replacing a
  // variable of the same name). The child never gets NOTIFY_SOCKET,
  // WATCHDOG_* or LISTEN_*: systemd meant those for the agent alone.
  std::vector<std::string> env;
  // Inherited by the child as descriptors 3, 4, ... in this order; every
  // other descriptor but stdin, stdout and stderr (pipes read by the
  // caller) is closed in the child. The parent's copies are closed once
  // the child is spawned, so that a reader of a pipe's other end sees EOF
  // when the child's copies go.
  std::vector<base::UniqueFd> pass_fds;
  // The child's working directory; empty: the agent's.
  std::filesystem::path cwd;
  // The child's stdin (e.g. a pipe's read end holding its input); invalid:
  // /dev/null. Closed in the parent once the child is spawned.
  base::UniqueFd stdin_fd;
  // Zero: none. When it expires, `on_timeout` runs (to kill what the child
  // started) and the child is killed with SIGKILL.
  std::chrono::milliseconds timeout{0};
  std::function<void()> on_timeout;
  // Bytes kept of each of stdout and stderr; the rest is read and dropped.
  size_t max_output = 4 << 20;
};

struct ProcessResult {
  int exit_code = -1;  // the exit status, or 128 + signal when a signal killed it
  int signal = 0;      // the signal that killed it, if one did
  std::string stdout_text;
  std::string stderr_text;
  bool timed_out = false;
  bool ok() const { return !timed_out && signal == 0 && exit_code == 0; }
};

// Spawns the child (posix_spawn: vfork + exec, so it is cheap and exec
// failures are reported here) and completes, on `executor`, once it exited
// and both of its output pipes reached EOF, or once it was killed at the
// timeout. Never blocks the executor: the exit is awaited on a pidfd.
// Output that a process left behind keeps open (a daemon that did not close
// its stdio) holds the call until the timeout.
// Fails only when the child cannot be started.
Task<base::Result<ProcessResult>> run_process(boost::asio::any_io_executor executor,
                                              ProcessSpec spec);

// "runc start abc: exit status 1: container does not exist" — the command
// (argv[0]'s file name and the next arguments up to `words`), how it ended
// and what it printed on stderr (trimmed; stdout when stderr is empty).
base::Error process_error(const std::vector<std::string>& argv, const ProcessResult& result,
                          size_t words = 3);

// The text without leading and trailing whitespace.
std::string trim(std::string text);

}  // namespace podagent::runtime::oci
