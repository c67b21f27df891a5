#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/result.h"
#include "model/volume.h"

// Disk emptyDir volumes: a plain directory on the node, and what it holds.
namespace podagent::volumes {

// Whether `volume` is an emptyDir on the node's disk (any medium but
// "Memory", which the runtime makes a tmpfs).
bool is_disk_empty_dir(const model::Volume& volume);

// Makes `dir` (and its parents) when missing, mode 0777 past the umask so
// that any user of the pod's containers may write; what it holds is kept.
base::Status make_empty_dir(const std::filesystem::path& dir);

// The bytes the tree at `dir` takes on disk, as `du -sx` counts them:
// st_blocks * 512 of every entry, `dir` included, an inode with several
// links once, symbolic links not followed, nothing on another filesystem
// (a mount below `dir`) counted. Blocking; safe to call from any thread.
base::Result<int64_t> disk_usage(const std::filesystem::path& dir);

// `Usage of EmptyDir volume "<volume>" exceeds the limit "<limit>".`, the
// kubelet's eviction message; `limit` as the pod wrote it.
std::string empty_dir_limit_message(const std::string& volume, const std::string& limit);

}  // namespace podagent::volumes
