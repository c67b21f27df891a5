#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace podagent::agent {

// The sd_notify protocol, without libsystemd: each call sends one datagram of
// newline-separated VAR=value assignments to the unix socket named by
// NOTIFY_SOCKET (a filesystem path, or an abstract socket when it starts with
// '@'). When NOTIFY_SOCKET is unset every call is a no-op that succeeds, so
// the agent calls these unconditionally.
//
// The watchdog is enabled when WATCHDOG_USEC is a positive integer and
// WATCHDOG_PID is either unset or this process's pid (a child that inherited
// its parent's environment must not feed the parent's watchdog).
//
// Children of the agent (monitors, runc, hooks) should not inherit
// NOTIFY_SOCKET: runc, for one, acts on it. Keeping it out of their
// environment is the runtime's job.
//
// Not thread-safe; the agent uses it from the io_context thread. Never throws.
class SystemdNotifier {
 public:
  // Returns the value of an environment variable, or nullopt when unset.
  using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID through `env` once.
  explicit SystemdNotifier(const EnvLookup& env);
  // The same, from the process environment.
  static SystemdNotifier from_environment();

  // True when NOTIFY_SOCKET is set (valid or not: a bad value is reported by
  // each send).
  bool enabled() const { return !socket_.empty(); }

  base::Status ready() { return notify("READY=1"); }
  base::Status stopping() { return notify("STOPPING=1"); }
  base::Status watchdog() { return notify("WATCHDOG=1"); }
  // Sends "STATUS=<text>"; newlines in `text` become spaces, since they
  // would end the assignment.
  base::Status status(std::string_view text);

  // Sends `message` as one datagram (e.g. "READY=1\nSTATUS=running").
  // Errors: an unsupported or too long NOTIFY_SOCKET, or a failed sendto
  // (no listener, permission).
  base::Status notify(std::string_view message);

  // The period at which to send WATCHDOG=1: half of WATCHDOG_USEC, as
  // systemd recommends. nullopt when the watchdog is not enabled for this
  // process or NOTIFY_SOCKET is unset.
  std::optional<std::chrono::microseconds> watchdog_interval() const;

 private:
  std::string socket_;  // NOTIFY_SOCKET as given; empty when unset
  std::optional<std::chrono::microseconds> watchdog_usec_;
};

}  // namespace podagent::agent
