#include "volumes/empty_dir.h"

#include <ftw.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

namespace podagent::volumes {

namespace fs = std::filesystem;

namespace {

// nftw passes no user pointer to its callback: the walk in progress on
// this thread keeps its sums here.
struct Walk {
  int64_t bytes = 0;
  std::set<std::pair<dev_t, ino_t>> linked;  // inodes with several links, seen once
};
thread_local Walk* current_walk = nullptr;

int add_entry(const char*, const struct stat* st, int type, struct FTW*) {
  // FTW_NS: no stat (removed while walked, or unreadable): nothing to add.
  if (type == FTW_NS) return 0;
  Walk& w = *current_walk;
  if (!S_ISDIR(st->st_mode) && st->st_nlink > 1 && !w.linked.emplace(st->st_dev, st->st_ino).second)
    return 0;
  w.bytes += static_cast<int64_t>(st->st_blocks) * 512;
  return 0;
}

}  // namespace

bool is_disk_empty_dir(const model::Volume& volume) {
  return volume.empty_dir && volume.empty_dir->medium != "Memory";
}

base::Status make_empty_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::Error("creating " + dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), 0777) != 0)
    return base::Error("chmod " + dir.string() + ": " + std::strerror(errno));
  return base::Status::Ok();
}

base::Result<int64_t> disk_usage(const fs::path& dir) {
  struct stat top {};
  if (::lstat(dir.c_str(), &top) != 0)
    return base::Error("measuring " + dir.string() + ": " + std::strerror(errno));
  if (!S_ISDIR(top.st_mode)) return base::Error("measuring " + dir.string() + ": not a directory");
  Walk walk;
  current_walk = &walk;
  // FTW_PHYS: links are not followed; FTW_MOUNT: another filesystem below
  // `dir` is neither entered nor counted, as du -x.
  const int rc = ::nftw(dir.c_str(), add_entry, 16, FTW_PHYS | FTW_MOUNT);
  const int err = errno;
  current_walk = nullptr;
  if (rc != 0) return base::Error("measuring " + dir.string() + ": " + std::strerror(err));
  return walk.bytes;
}

std::string empty_dir_limit_message(const std::string& volume, const std::string& limit) {
  return "Usage of EmptyDir volume \"" + volume + "\" exceeds the limit \"" + limit + "\".";
}

}  // namespace podagent::volumes
