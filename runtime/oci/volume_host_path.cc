// hostPath volumes: the allow-list and the kubelet's type checks.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"
#include "runtime/oci/volumes.h"

namespace podagent::runtime::oci {

namespace fs = std::filesystem;

namespace {

// Whether `path` equals `prefix` or lies below it, component by component
// (both normalised and absolute).
bool at_or_below(const fs::path& path, const fs::path& prefix) {
  auto p = path.begin();
  for (auto q = prefix.begin(); q != prefix.end(); ++q) {
    if (q->empty()) continue;  // the trailing "" of "/data/"
    if (p == path.end() || *p != *q) return false;
    ++p;
  }
  return true;
}

std::string list_text(const std::vector<fs::path>& allow_list) {
  std::string out = "[";
  for (size_t i = 0; i < allow_list.size(); ++i) {
    if (i) out += ", ";
    out += allow_list[i].string();
  }
  return out + "]";
}

// The file kind (S_IF* bits) at `path`, symbolic links followed; 0 when
// nothing is there; -1, errno set, when stat fails otherwise.
int file_kind(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno == ENOENT ? 0 : -1;
  return static_cast<int>(st.st_mode & S_IFMT);
}

base::Status type_failure(const fs::path& path, const char* what) {
  return base::Error("hostPath type check failed: " + path.string() + " is not " + what);
}

base::Status make_dir(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec)
    return base::Error("creating the hostPath directory " + path.string() + ": " + ec.message());
  // 0755 past the umask, as the kubelet makes it.
  if (::chmod(path.c_str(), 0755) != 0)
    return base::Error("chmod " + path.string() + ": " + std::strerror(errno));
  return base::Status::Ok();
}

base::Status make_file(const fs::path& path) {
  // O_EXCL: a file made meanwhile by someone else is checked, not taken over.
  base::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid() && errno != EEXIST)
    return base::Error("creating the hostPath file " + path.string() + ": " + std::strerror(errno));
  if (fd.valid()) ::fchmod(fd.get(), 0644);  // past the umask
  return base::Status::Ok();
}

// Requires the file kind `want` (an S_IF* value) at `path`.
base::Status require_kind(const fs::path& path, int want, const char* what) {
  const int kind = file_kind(path);
  if (kind < 0) return base::Error("checking " + path.string() + ": " + std::strerror(errno));
  if (kind != want) return type_failure(path, what);
  return base::Status::Ok();
}

}  // namespace

bool host_path_allowed(const fs::path& path, const std::vector<fs::path>& allow_list) {
  if (!path.is_absolute()) return false;
  const fs::path normal = path.lexically_normal();
  for (const fs::path& prefix : allow_list) {
    if (!prefix.is_absolute()) continue;
    if (at_or_below(normal, prefix.lexically_normal())) return true;
  }
  return false;
}

base::Status check_host_path_type(const fs::path& path, const std::string& type) {
  if (type.empty()) return base::Status::Ok();
  if (type == "DirectoryOrCreate" || type == "FileOrCreate") {
    const int kind = file_kind(path);
    if (kind < 0) return base::Error("checking " + path.string() + ": " + std::strerror(errno));
    if (kind == 0) {
      const bool dir = type == "DirectoryOrCreate";
      if (auto s = dir ? make_dir(path) : make_file(path); !s) return s;
    }
    return type == "DirectoryOrCreate" ? require_kind(path, S_IFDIR, "a directory")
                                       : require_kind(path, S_IFREG, "a file");
  }
  if (type == "Directory") return require_kind(path, S_IFDIR, "a directory");
  if (type == "File") return require_kind(path, S_IFREG, "a file");
  if (type == "Socket") return require_kind(path, S_IFSOCK, "a socket file");
  if (type == "CharDevice") return require_kind(path, S_IFCHR, "a character device");
  if (type == "BlockDevice") return require_kind(path, S_IFBLK, "a block device");
  return base::Error(type + " is an invalid volume type");
}

base::Result<fs::path> prepare_host_path(const std::string& volume_name,
                                         const model::HostPathVolumeSource& source,
                                         const std::vector<fs::path>& allow_list) {
  const std::string what = "hostPath volume \"" + volume_name + "\"";
  const fs::path path(source.path);
  auto refused = [&](const fs::path& p) {
    return base::Error(
        what + ": host path " + p.string() +
        " is not allowed on this node (volumes.hostPathAllowList: " + list_text(allow_list) + ")");
  };
  if (!host_path_allowed(path, allow_list)) return refused(path);
  if (auto s = check_host_path_type(path, source.type); !s)
    return base::Error(what + ": " + s.error().message);
  // Type "": nothing is checked, but a missing path is made a directory
  // (0755) as containerd's CRI plugin does, rather than fail in runc.
  if (source.type.empty() && file_kind(path) == 0)
    if (auto s = make_dir(path); !s) return base::Error(what + ": " + s.error().message);
  // The type check followed symbolic links; so does the bind mount. The
  // real path must be allowed too.
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  if (ec) return base::Error(what + ": resolving " + path.string() + ": " + ec.message());
  if (!host_path_allowed(real, allow_list)) return refused(real);
  return real;
}

}  // namespace podagent::runtime::oci
