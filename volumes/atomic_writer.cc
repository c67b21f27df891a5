#include "volumes/atomic_writer.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>

#include "base/unique_fd.h"

namespace podagent::volumes {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDataLink = "..data";
constexpr const char* kDataTmpLink = "..data_tmp";
constexpr size_t kMaxPathLength = 4096;
constexpr size_t kMaxFileNameLength = 255;
constexpr mode_t kDirMode = 0755;

base::Error sys_error(const std::string& what, int err) {
  return base::Error(what + ": " + std::strerror(err));
}
base::Error fs_error(const std::string& what, const std::error_code& ec) {
  return base::Error(what + ": " + ec.message());
}

// The kubelet's validatePath, in its words.
base::Status validate_path(const std::string& path) {
  if (path.empty()) return base::Error("invalid path: must not be empty: \"\"");
  if (path.starts_with('/')) return base::Error("invalid path: must be relative path: " + path);
  if (path.size() > kMaxPathLength)
    return base::Error("invalid path: must be less than or equal to " +
                       std::to_string(kMaxPathLength) + " characters");
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view item = std::string_view(path).substr(start, slash - start);
    if (item == "..") return base::Error("invalid path: must not contain '..': " + path);
    if (item.size() > kMaxFileNameLength)
      return base::Error("invalid path: filenames must be less than or equal to " +
                         std::to_string(kMaxFileNameLength) + " characters");
    if (start == 0 && item.starts_with("..") && item.size() > 2)
      return base::Error("invalid path: must not start with '..': " + path);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (clean_path(path) == ".") return base::Error("invalid path: names no file: " + path);
  return base::Status::Ok();
}

std::string top_level(const std::string& path) { return path.substr(0, path.find('/')); }

std::optional<std::string> read_link(const fs::path& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0 || static_cast<size_t>(n) == sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

// The version directory `..data` points at, when it names one of ours.
std::optional<std::string> current_version(const fs::path& dir) {
  auto target = read_link(dir / kDataLink);
  if (!target || !target->starts_with("..") || target->find('/') != std::string::npos ||
      *target == kDataLink || *target == kDataTmpLink)
    return std::nullopt;
  return target;
}

std::optional<std::string> read_file(const fs::path& path) {
  base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  if (n < 0) return std::nullopt;
  return out;
}

// Whether the version directory holds exactly `payload`: the same regular
// files with the same bytes and modes, and no other file or directory.
bool matches(const fs::path& version, const Payload& payload) {
  std::set<std::string> dirs;  // the directories the payload needs
  for (const auto& [path, file] : payload)
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1))
      dirs.insert(path.substr(0, slash));
  std::error_code ec;
  fs::recursive_directory_iterator it(version, ec);
  if (ec) return false;
  size_t files = 0;
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return false;
    const std::string rel = it->path().lexically_relative(version).string();
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) return false;
    if (S_ISDIR(st.st_mode)) {
      if (!dirs.contains(rel)) return false;
      continue;
    }
    auto f = payload.find(rel);
    if (!S_ISREG(st.st_mode) || f == payload.end()) return false;
    if ((st.st_mode & 07777) != static_cast<mode_t>(f->second.mode & 07777) ||
        static_cast<size_t>(st.st_size) != f->second.data.size())
      return false;
    auto data = read_file(it->path());
    if (!data || *data != f->second.data) return false;
    ++files;
  }
  return !ec && files == payload.size();
}

// A new, empty version directory "..<UTC time>.<random>"; its name. The
// time only helps a person reading the directory (as in the kubelet);
// mkdtemp makes the name unique.
base::Result<std::string> new_version_dir(const fs::path& dir) {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "..%Y_%m_%d_%H_%M_%S.", &tm);
  std::string path = (dir / (std::string(stamp) + "XXXXXX")).string();
  if (!::mkdtemp(path.data()))
    return sys_error("creating a version directory in " + dir.string(), errno);
  if (::chmod(path.c_str(), kDirMode) != 0) return sys_error("chmod " + path, errno);
  return fs::path(path).filename().string();
}

// Creates the directories of `rel` below `root` (0755); they are new, ours.
base::Status make_parents(const fs::path& root, const std::string& rel) {
  for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
    fs::path dir = root / rel.substr(0, slash);
    if (::mkdir(dir.c_str(), kDirMode) != 0) {
      if (errno == EEXIST) continue;
      return sys_error("creating " + dir.string(), errno);
    }
    if (::chmod(dir.c_str(), kDirMode) != 0) return sys_error("chmod " + dir.string(), errno);
  }
  return base::Status::Ok();
}

base::Status write_file(const fs::path& path, const FileProjection& file) {
  // O_EXCL and O_NOFOLLOW: the version directory is new, so anything already
  // there is a conflict in the payload ("a" and "a/b"), never a file to follow.
  base::UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return sys_error("creating " + path.string(), errno);
  size_t done = 0;
  while (done < file.data.size()) {
    ssize_t n = ::write(fd.get(), file.data.data() + done, file.data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("writing " + path.string(), errno);
    }
    done += static_cast<size_t>(n);
  }
  // fchmod, not the open mode: the umask must not narrow the mode asked for.
  if (::fchmod(fd.get(), static_cast<mode_t>(file.mode & 07777)) != 0)
    return sys_error("chmod " + path.string(), errno);
  return base::Status::Ok();
}

base::Status write_version(const fs::path& version, const Payload& payload) {
  for (const auto& [path, file] : payload) {
    if (auto s = make_parents(version, path); !s) return s;
    if (auto s = write_file(version / path, file); !s) return s;
  }
  return base::Status::Ok();
}

// Points `..data` at `version` with one rename, which replaces the old link
// atomically.
base::Status swap_data_link(const fs::path& dir, const std::string& version) {
  const fs::path tmp = dir / kDataTmpLink;
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT)
    return sys_error("removing " + tmp.string(), errno);
  if (::symlink(version.c_str(), tmp.c_str()) != 0)
    return sys_error("creating " + tmp.string(), errno);
  const fs::path data = dir / kDataLink;
  if (::rename(tmp.c_str(), data.c_str()) != 0)
    return sys_error("renaming to " + data.string(), errno);
  return base::Status::Ok();
}

// Makes <dir>/<name> the link ..data/<name>, replacing whatever is there.
base::Status ensure_link(const fs::path& dir, const std::string& name) {
  const fs::path path = dir / name;
  const std::string target = std::string(kDataLink) + "/" + name;
  if (read_link(path) == target) return base::Status::Ok();
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return fs_error("removing " + path.string(), ec);
  if (::symlink(target.c_str(), path.c_str()) != 0)
    return sys_error("creating " + path.string(), errno);
  return base::Status::Ok();
}

// Removes every entry of `dir` but `..data`, the current version and the
// links of `top`: old versions, a crash's leftovers, links of dropped keys.
base::Status remove_stale(const fs::path& dir, const std::string& version,
                          const std::set<std::string>& top) {
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool keep =
        name.starts_with("..") ? (name == kDataLink || name == version) : top.contains(name);
    if (!keep) stale.push_back(it->path());
  }
  if (ec) return fs_error("listing " + dir.string(), ec);
  for (const auto& path : stale) {
    fs::remove_all(path, ec);
    if (ec) return fs_error("removing " + path.string(), ec);
  }
  return base::Status::Ok();
}

}  // namespace

AtomicWriter::AtomicWriter(fs::path dir) : dir_(std::move(dir)) {}

base::Result<bool> AtomicWriter::write(const Payload& payload) {
  Payload clean;
  std::set<std::string> top;
  for (const auto& [path, file] : payload) {
    if (auto s = validate_path(path); !s) return s.error();
    std::string cleaned = clean_path(path);
    top.insert(top_level(cleaned));
    clean[std::move(cleaned)] = file;
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return fs_error("creating " + dir_.string(), ec);
  if (::chmod(dir_.c_str(), kDirMode) != 0) return sys_error("chmod " + dir_.string(), errno);

  std::optional<std::string> version = current_version(dir_);
  const bool changed = !version || !matches(dir_ / *version, clean);
  if (changed) {
    auto fresh = new_version_dir(dir_);
    if (!fresh) return fresh.error();
    base::Status s = write_version(dir_ / *fresh, clean);
    if (s) s = swap_data_link(dir_, *fresh);
    if (!s) {
      fs::remove_all(dir_ / *fresh, ec);
      return s.error();
    }
    version = std::move(*fresh);
  }
  for (const auto& name : top)
    if (auto s = ensure_link(dir_, name); !s) return s.error();
  if (auto s = remove_stale(dir_, *version, top); !s) return s.error();
  return changed;
}

}  // namespace podagent::volumes
