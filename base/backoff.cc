#include "base/backoff.h"

#include <algorithm>

namespace podagent::base {

std::string Backoff::make_key(std::string_view pod_uid, std::string_view container,
                              std::string_view spec_hash) {
  // UIDs and container names cannot contain '/', so the key is unambiguous
  // even when the hash does.
  std::string key;
  key.reserve(pod_uid.size() + container.size() + spec_hash.size() + 2);
  key.append(pod_uid).append("/").append(container).append("/").append(spec_hash);
  return key;
}

// A failure exactly `reset` after the previous one still doubles the delay:
// the header promises a reset only for a failure *more than* `reset` later,
// as the kubelet's backoff does (strictly greater than its expiry).
Duration Backoff::record_failure(const std::string& key, SteadyTime at,
                                 const std::optional<Options>& options) {
  const Options& opts = options ? *options : options_;
  auto it = entries_.find(key);
  Duration delay = std::min(opts.initial, opts.max);
  if (it != entries_.end() && at - it->second.last_failure <= opts.reset) {
    delay = std::min(it->second.delay * 2, opts.max);
    delay = std::max(delay, std::min(opts.initial, opts.max));
  }
  entries_.insert_or_assign(key, Entry{at, delay, opts});
  return delay;
}

std::optional<SteadyTime> Backoff::restart_allowed_at(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.last_failure + it->second.delay;
}

bool Backoff::in_backoff(const std::string& key, SteadyTime now) const {
  auto at = restart_allowed_at(key);
  return at && now < *at;
}

Duration Backoff::current_delay(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? Duration::zero() : it->second.delay;
}

void Backoff::forget(const std::string& key) { entries_.erase(key); }

void Backoff::gc(SteadyTime now) {
  std::erase_if(entries_, [now](const auto& kv) {
    return now - kv.second.last_failure > kv.second.options.reset;
  });
}

}  // namespace podagent::base
