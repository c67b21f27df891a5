#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <filesystem>
#include <functional>
#include <memory>

#include "base/result.h"

namespace podagent::runtime::oci {

// Tells when a file is replaced by a rename into its directory: how the
// image store commits every import and removal (ImageStore::index_file()),
// from this process or another (`podagent image import`).
//
// inotify cannot watch a file that is replaced (the watch follows the old
// inode), so the directory is watched and its events filtered by name:
// IN_MOVED_TO of the file's name. A queue overflow counts as a change too.
// Events read together are reported once.
//
// Lives on `executor`'s thread; `on_change` runs there, never after stop()
// or destruction. Not thread-safe.
class FileReplaceWatch {
 public:
  // Errors: the directory cannot be watched (it does not exist, or the
  // inotify limits are reached).
  static base::Result<std::unique_ptr<FileReplaceWatch>> start(
      boost::asio::any_io_executor executor, const std::filesystem::path& file,
      std::function<void()> on_change);
  ~FileReplaceWatch();  // stop()
  FileReplaceWatch(const FileReplaceWatch&) = delete;
  FileReplaceWatch& operator=(const FileReplaceWatch&) = delete;

  // Closes the watch; a read in flight ends without calling on_change.
  // Idempotent.
  void stop();

  struct State;  // shared with the coroutine reading the watch

 private:
  explicit FileReplaceWatch(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace podagent::runtime::oci
