#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "base/clock.h"

namespace podagent::agent {

struct PodLogRetentionOptions {
  // Where the pods' log directories are (<namespace>_<name>_<uid>); empty:
  // the agent keeps no logs, and this does nothing.
  std::filesystem::path pod_logs_dir;
  // How long a deleted pod's logs stay readable (`logs --previous` of a
  // re-created pod, a look after the fact); zero: removed at once.
  base::Duration retention = std::chrono::hours(1);
  // True for a pod UID whose directory must stay: a pod some source
  // desires, or one whose containers may still run (its worker has not
  // finished). Required.
  std::function<bool(std::string_view uid)> wanted;
};

// Removes the log directories of pods that are gone, once the retention has
// passed, so that deleting a pod leaves nothing on the node for good:
//
//   pod_removed()  a deleted pod's containers are removed: its directory
//                  goes at now + retention;
//   sweep()        the agent starts, every source read: each directory of
//                  a pod nothing wants goes once its newest entry (the
//                  directory, its container directories and their log
//                  files) is older than the retention, on the file
//                  system's wall time: at once, or when that age is
//                  reached.
//
// A directory is removed only when its UID is not wanted then; otherwise it
// is looked at again one retention later (a pod re-created with that UID,
// or one still terminating). Names that are not <ns>_<name>_<uid> are never
// touched. Removal is a recursive unlink on the executor's thread: a pod's
// directory holds a few files.
//
// Every method on the executor's thread (the agent's io_context); time from
// the injected Clock. Destroying this object abandons its timer (the
// coroutine ends without touching it); stop() ends it cleanly.
class PodLogRetention {
 public:
  PodLogRetention(base::Clock& clock, boost::asio::any_io_executor executor,
                  PodLogRetentionOptions options);
  ~PodLogRetention();
  PodLogRetention(const PodLogRetention&) = delete;
  PodLogRetention& operator=(const PodLogRetention&) = delete;

  // The pod (its containers removed) is gone: its directory is due at
  // now + retention (a later call for it moves that).
  void pod_removed(std::string_view namespace_, std::string_view name, std::string_view uid);
  // Looks at every directory under pod_logs_dir, as above. Only the first
  // call acts: the agent calls it each time its sources are read.
  void sweep();
  // Cancels the timer; nothing is removed from now on. Idempotent.
  void stop();

  // Directory names waiting for their time, and when the next is due.
  size_t pending() const { return due_.size(); }
  std::optional<base::SteadyTime> next_due() const;
  // Directories removed so far.
  size_t removed() const { return removed_; }

 private:
  void schedule(const std::string& dir_name, base::SteadyTime at);
  void remove_due();
  boost::asio::awaitable<void> run(std::shared_ptr<bool> alive);

  base::Clock& clock_;
  boost::asio::any_io_executor executor_;
  PodLogRetentionOptions options_;
  std::map<std::string, base::SteadyTime> due_;               // by directory name
  std::set<std::pair<base::SteadyTime, std::string>> queue_;  // the same, by time
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  base::Timer* timer_ = nullptr;  // owned by run()'s frame while it runs
  bool running_ = false;
  bool swept_ = false;
  bool stopped_ = false;
  size_t removed_ = 0;
};

}  // namespace podagent::agent
