#pragma once

#include <boost/asio/awaitable.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "runtime/container_log.h"

namespace podagent::runtime {

// Follows a container's CRI log as it grows (`kubectl logs -f`): from where
// read_container_log stopped, it yields each log line once it is written
// whole, waiting on inotify events of the container's log directory (no
// polling). It copes with rotation (<n>.log renamed away and started anew:
// the old file is read to its end first) and follows the container across
// a restart: once <n+1>.log appears, <n>.log is read to its end and the
// follower goes on with <n+1>.log from its start.
//
// Not thread-safe: every call on one executor's thread, one next() at a
// time. Owns an inotify descriptor and the open log file.
class LogFollower {
 public:
  // `container_dir` holds <attempt>.log; `start` is where to begin in it.
  LogFollower(std::filesystem::path container_dir, LogPosition start, bool timestamps);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // The log lines written since the last call (never empty), waiting until
  // there are some; nullopt once finish() was called and everything written
  // has been returned (a line left unfinished then is returned as it is).
  // Runs on the caller's executor. It may be cancelled (per-operation
  // cancellation, e.g. by awaitable operators); it then returns an error and
  // the follower may not be used again. Errors: inotify or reading fails.
  boost::asio::awaitable<base::Result<std::optional<std::string>>> next();

  // Makes next() return what is left, then nullopt; wakes a waiting next().
  void finish();

  // The attempt whose file is being followed.
  uint32_t attempt() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace podagent::runtime
