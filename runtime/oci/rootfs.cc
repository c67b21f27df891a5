#include "runtime/oci/rootfs.h"

#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;

bool is_at_or_below(const fs::path& p, const fs::path& root) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (r->empty()) continue;  // a trailing separator
    if (q == p.end() || *q != *r) return false;
  }
  return true;
}

base::Status mkdirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::Error("creating " + dir.string() + ": " + ec.message());
  return base::Status::Ok();
}

}  // namespace

std::string unescape_mountinfo(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() &&
        std::all_of(s.begin() + i + 1, s.begin() + i + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

base::Status mount_overlay(const std::vector<fs::path>& layers, const fs::path& upper,
                           const fs::path& work, const fs::path& target) {
  if (layers.empty()) return base::Error("an image without layers cannot be mounted");
  for (const fs::path* dir : {&upper, &work, &target})
    if (auto s = mkdirs(*dir); !s) return s;
  // lowerdir lists the top layer first. The options must fit one page;
  // an image of very many layers would need shorter (relative) paths.
  std::string options = "lowerdir=";
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    if (it != layers.rbegin()) options += ':';
    options += it->string();
  }
  options += ",upperdir=" + upper.string() + ",workdir=" + work.string();
  if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0)
    return base::Error("mounting the overlay rootfs at " + target.string() + ": " +
                       std::strerror(errno));
  return base::Status::Ok();
}

std::vector<fs::path> mounts_under(const fs::path& path) {
  std::vector<fs::path> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  const fs::path root = path.lexically_normal();
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, mount_root, mount_point;
    if (!(fields >> id >> parent >> dev >> mount_root >> mount_point)) continue;
    fs::path p = unescape_mountinfo(mount_point);
    if (is_at_or_below(p, root)) out.push_back(std::move(p));
  }
  return out;
}

base::Status unmount_all_under(const fs::path& path) {
  // Several mounts may be stacked on one point: repeat until none is left.
  for (int round = 0; round < 16; ++round) {
    std::vector<fs::path> mounts = mounts_under(path);
    if (mounts.empty()) return base::Status::Ok();
    // Deepest first.
    std::sort(mounts.begin(), mounts.end(), [](const fs::path& a, const fs::path& b) {
      return a.string().size() > b.string().size();
    });
    for (const fs::path& m : mounts) {
      if (::umount2(m.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
        return base::Error("unmounting " + m.string() + ": " + std::strerror(errno));
    }
  }
  return base::Error("mounts stay under " + path.string());
}

base::Status remove_tree(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec))) return base::Status::Ok();
  if (auto s = unmount_all_under(path); !s) return s;
  if (!mounts_under(path).empty())
    return base::Error("refusing to remove " + path.string() + ": still mounted");
  fs::remove_all(path, ec);
  if (ec) return base::Error("removing " + path.string() + ": " + ec.message());
  return base::Status::Ok();
}

}  // namespace podagent::runtime::oci
