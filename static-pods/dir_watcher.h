#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "model/document.h"
#include "static-pods/manifest_source.h"

namespace boost::asio {
class io_context;
}
namespace podagent::base {
class Clock;
}

namespace podagent::static_pods {

struct DirWatcherOptions {
  std::string dir;  // the manifest directory; it may not exist yet
  std::string node_name;
  // The full re-read that catches whatever inotify missed: a change made
  // through a hard link elsewhere or to a symlink's target, a hard link
  // made into the directory, a parent that did not exist yet.
  std::chrono::steady_clock::duration relist_period = std::chrono::seconds(20);
  model::DocumentLimits limits;
};

// Counters for metrics and for tests to know that work was done.
struct DirWatcherStats {
  uint64_t event_batches = 0;  // inotify wake-ups handled (each a drain of all queued events)
  uint64_t full_scans = 0;     // full listings of the directory, the first one included
  uint64_t files_read = 0;
};

// The static-pod source: the manifest directory, watched with inotify and
// re-listed every relist_period (see ManifestDir for what it makes of the
// files).
//
//  - The directory is watched for files created, written and closed, moved
//    in or out, deleted, and attribute changes (a chmod can make a file
//    unreadable). A file is read when its writer closes it, not while it is
//    written; a regular file that appears without being written (a hard
//    link) is found by the next relist.
//  - Its parent is watched for the directory appearing, disappearing or
//    being replaced (rename, or a symlink swapped); a directory that is gone
//    holds no pods. When the parent does not exist either, each relist tries
//    again.
//  - A burst of events is handled as one: every queued event is drained,
//    the named files are re-read (or everything, on an overflow or a change
//    of the directory itself), and the handler is called once, and only if
//    the desired set changed.
//
// Files are read on the io_context thread with blocking reads; manifests are
// small local files (at most limits.max_bytes are read).
//
// Everything, the handler included, runs on `io`'s thread; the watcher is
// not thread-safe. Destroying it stops it; the io_context must outlive it.
class DirWatcher final : public ManifestSource {
 public:
  DirWatcher(boost::asio::io_context& io, base::Clock& clock, DirWatcherOptions options);
  ~DirWatcher() override;
  DirWatcher(const DirWatcher&) = delete;
  DirWatcher& operator=(const DirWatcher&) = delete;

  // Posts the first full read to `io` and then watches. REQUIRES: called once.
  void start(Handler handler) override;
  void stop() override;

  bool ready() const override;
  const ManifestSnapshot& snapshot() const override;
  const ManifestErrors& errors() const override;
  uint64_t error_total() const override;
  DirWatcherStats stats() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace podagent::static_pods
