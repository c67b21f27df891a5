#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.h"

namespace podagent::base {

// CrashLoopBackOff bookkeeping, keyed by pod UID + container name + container
// spec hash (make_key), so that a changed spec starts afresh.
//
// Each failure recorded at time t delays the next restart until t + delay,
// where delay is `initial` for the first failure, or for a failure more than
// `reset` after the previous one, and otherwise doubles, capped at `max`.
// With the defaults: 10 s, 20 s, 40 s, ... 300 s; forgotten after 10 minutes
// without a failure.
//
// A plain value owned by one thread; not thread-safe.
class Backoff {
 public:
  struct Options {
    Duration initial = std::chrono::seconds(10);
    Duration max = std::chrono::seconds(300);
    Duration reset = std::chrono::minutes(10);
    bool operator==(const Options&) const = default;
  };

  Backoff() = default;
  explicit Backoff(Options options) : options_(options) {}

  static std::string make_key(std::string_view pod_uid, std::string_view container,
                              std::string_view spec_hash);

  // Records a failure of `key` at `at` (with per-key options, e.g. from pod
  // annotations, when given) and returns the delay before it may restart.
  Duration record_failure(const std::string& key, SteadyTime at,
                          const std::optional<Options>& options = std::nullopt);
  // When `key` may restart; nullopt when it has no recorded failure.
  std::optional<SteadyTime> restart_allowed_at(const std::string& key) const;
  // True when `key` must still wait at `now`.
  bool in_backoff(const std::string& key, SteadyTime now) const;
  // The delay of the last recorded failure; zero when none.
  Duration current_delay(const std::string& key) const;

  void forget(const std::string& key);
  // Forgets every key whose last failure is older than its reset period.
  void gc(SteadyTime now);
  size_t size() const { return entries_.size(); }
  const Options& options() const { return options_; }

 private:
  struct Entry {
    SteadyTime last_failure;
    Duration delay;
    Options options;
  };
  Options options_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace podagent::base
