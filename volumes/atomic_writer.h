#pragma once

#include <filesystem>

#include "base/result.h"
#include "volumes/payload.h"

namespace podagent::volumes {

// Writes payloads into one directory the kubelet's way (its AtomicWriter),
// so that a container that has the directory bind-mounted sees either the
// old files or the new ones, never a mix:
//
//   <dir>/..2024_05_01_10_00_00.123456/   the files of the current version
//   <dir>/..data -> ..2024_05_01_10_00_00.123456
//   <dir>/<name> -> ..data/<name>         one link per top-level entry
//
// A new version goes into a new hidden timestamped directory; then a
// temporary link `..data_tmp` to it is renamed over `..data` (atomic), the
// top-level links are made, and stale links and old versions removed.
//
// Crash safety: every step leaves `..data` pointing at a complete version.
// What a crash can leave behind (a half-written version directory, a
// `..data_tmp` link, missing or stale top-level links, the old version) is
// repaired by the next write, which compares against the version `..data`
// points at and then removes every hidden entry but `..data` and that
// version.
//
// Not safe for concurrent writes to the same directory; writes to different
// directories are independent. Blocking file I/O: call it off the event loop.
class AtomicWriter {
 public:
  explicit AtomicWriter(std::filesystem::path dir);

  // Makes the directory (created 0755 if missing) hold exactly `payload`:
  // file contents and modes as given, directories 0755. Returns true when a
  // new version was written, false when the current one already matched (no
  // new directory; links still repaired). Paths must be relative, without a
  // ".." element, and their first element must not start with ".." (those
  // names are the writer's): "invalid path: ..." otherwise, and nothing is
  // changed.
  base::Result<bool> write(const Payload& payload);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace podagent::volumes
