// Layer tars into overlay-ready directories, with *at() calls anchored at
// directory descriptors opened with O_NOFOLLOW: a path is never resolved
// through a symlink that the layer itself planted.

#include "runtime/oci/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <span>

#include "base/unique_fd.h"
#include "runtime/oci/sha256.h"

namespace podagent::runtime::oci {
namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

base::Error entry_error(std::string_view entry, const std::string& what) {
  return base::Error("layer entry " + quote(entry) + ": " + what);
}
base::Error entry_errno(std::string_view entry, const char* call) {
  return entry_error(entry, std::string(call) + ": " + std::strerror(errno));
}

std::string join(std::span<const std::string> comps) {
  std::string out;
  for (const std::string& c : comps) out += (out.empty() ? "" : "/") + c;
  return out;
}

// The decompressed bytes of a blob, hashed as the tar reader pulls them.
struct Decompressed {
  archive* raw = nullptr;
  Sha256 hash;
  std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kBufferSize);
  static constexpr size_t kBufferSize = 1 << 16;
};

la_ssize_t read_decompressed(archive* tar, void* client, const void** out) {
  auto* d = static_cast<Decompressed*>(client);
  const la_ssize_t n = archive_read_data(d->raw, d->buffer.get(), Decompressed::kBufferSize);
  if (n < 0) {
    archive_set_error(tar, EIO, "%s", archive_error_string(d->raw));
    return -1;
  }
  d->hash.update(d->buffer.get(), static_cast<size_t>(n));
  *out = d->buffer.get();
  return n;
}

// Writes the entries of one layer under `root_`.
class LayerWriter {
 public:
  LayerWriter(std::filesystem::path root, base::UniqueFd root_fd)
      : root_(std::move(root)), root_fd_(std::move(root_fd)) {}

  base::Status write(archive* a, archive_entry* e);
  // Sets the directories' times, which creating their children changed.
  void finish();

 private:
  struct DirTimes {
    std::vector<std::string> comps;
    timespec times[2];
  };

  base::Result<base::UniqueFd> open_dir(std::span<const std::string> comps, bool create,
                                        std::string_view entry) const;
  base::Status whiteout(int parent, const std::string& name, std::string_view entry);
  base::Status remove_existing(int parent, const std::string& name, std::string_view entry,
                               bool keep_dir);
  base::Status write_file(archive* a, archive_entry* e, int parent, const std::string& name,
                          std::string_view entry);
  base::Status write_dir(archive_entry* e, int parent, const std::vector<std::string>& comps,
                         std::string_view entry);
  base::Status write_link(archive_entry* e, int parent, const std::string& name,
                          std::string_view entry);
  base::Status write_other(archive_entry* e, int parent, const std::string& name,
                           std::string_view entry);
  base::Status set_xattrs(archive_entry* e, int fd, const std::string& proc_path,
                          std::string_view entry);

  std::filesystem::path root_;
  base::UniqueFd root_fd_;
  std::vector<DirTimes> dir_times_;
};

void entry_times(archive_entry* e, timespec times[2]) {
  times[1] = {static_cast<time_t>(archive_entry_mtime(e)), archive_entry_mtime_nsec(e)};
  times[0] = archive_entry_atime_is_set(e) ? timespec{static_cast<time_t>(archive_entry_atime(e)),
                                                      archive_entry_atime_nsec(e)}
                                           : times[1];
}

// "/proc/self/fd/<parent>/<name>": a path for the calls that take no
// directory descriptor, anchored at an already verified directory.
std::string proc_path(int parent, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(parent) + "/" + name;
}

base::Result<base::UniqueFd> LayerWriter::open_dir(std::span<const std::string> comps, bool create,
                                                   std::string_view entry) const {
  base::UniqueFd fd(::fcntl(root_fd_.get(), F_DUPFD_CLOEXEC, 0));
  if (!fd.valid()) return entry_errno(entry, "dup");
  for (size_t i = 0; i < comps.size(); ++i) {
    const char* name = comps[i].c_str();
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int next = ::openat(fd.get(), name, kFlags);
    if (next < 0 && errno == ENOENT && create) {
      if (::mkdirat(fd.get(), name, 0755) != 0 && errno != EEXIST)
        return entry_errno(entry, "mkdir");
      next = ::openat(fd.get(), name, kFlags);
    }
    if (next < 0) {
      const int error = errno;
      struct stat st;
      const std::string walked = join(comps.first(i + 1));
      if (::fstatat(fd.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return entry_error(entry, "passes through the symlink " + quote(walked) +
                                      ", which could lead outside the layer; refused");
      return entry_error(entry, quote(walked) + ": " + std::strerror(error));
    }
    fd.reset(next);
  }
  return fd;
}

base::Status LayerWriter::remove_existing(int parent, const std::string& name,
                                          std::string_view entry, bool keep_dir) {
  struct stat st;
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT ? base::Status::Ok() : entry_errno(entry, "stat");
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parent, name.c_str(), 0) != 0) return entry_errno(entry, "unlink");
    return base::Status::Ok();
  }
  if (keep_dir) return base::Status::Ok();
  // remove_all never follows symlinks; the parent is a verified directory.
  std::error_code ec;
  std::filesystem::remove_all(proc_path(parent, name), ec);
  if (ec) return entry_error(entry, "remove: " + ec.message());
  return base::Status::Ok();
}

base::Status LayerWriter::whiteout(int parent, const std::string& name, std::string_view entry) {
  if (name == kOpaqueMarker) {
    if (::fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) != 0)
      return entry_errno(entry, "setxattr trusted.overlay.opaque");
    return base::Status::Ok();
  }
  const std::string target = name.substr(kWhiteoutPrefix.size());
  if (target.empty() || target == "." || target == "..")
    return entry_error(entry, "a whiteout of nothing");
  if (auto s = remove_existing(parent, target, entry, /*keep_dir=*/false); !s) return s;
  if (::mknodat(parent, target.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
    return entry_errno(entry, "mknod whiteout");
  return base::Status::Ok();
}

base::Status LayerWriter::set_xattrs(archive_entry* e, int fd, const std::string& path,
                                     std::string_view entry) {
  archive_entry_xattr_reset(e);
  const char* name;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    // overlayfs reads trusted.overlay.* (opaque, redirect, ...) as its own
    // metadata; only the store sets them, from whiteout markers.
    if (std::string_view(name).starts_with("trusted.overlay.")) continue;
    const int r = fd >= 0 ? ::fsetxattr(fd, name, value, size, 0)
                          : ::lsetxattr(path.c_str(), name, value, size, 0);
    if (r != 0) return entry_errno(entry, ("setxattr " + std::string(name)).c_str());
  }
  return base::Status::Ok();
}

base::Status LayerWriter::write_file(archive* a, archive_entry* e, int parent,
                                     const std::string& name, std::string_view entry) {
  base::UniqueFd fd(
      ::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return entry_errno(entry, "create");
  const void* block;
  size_t size;
  la_int64_t offset;
  for (;;) {
    const int r = archive_read_data_block(a, &block, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return entry_error(entry, archive_error_string(a));
    const char* p = static_cast<const char*>(block);
    while (size > 0) {
      const ssize_t n = ::pwrite(fd.get(), p, size, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return entry_errno(entry, "write");
      p += n;
      size -= static_cast<size_t>(n);
      offset += n;
    }
  }
  // A sparse file may end in a hole that no block covers.
  if (archive_entry_size_is_set(e) && ::ftruncate(fd.get(), archive_entry_size(e)) != 0)
    return entry_errno(entry, "truncate");
  if (::fchown(fd.get(), archive_entry_uid(e), archive_entry_gid(e)) != 0)
    return entry_errno(entry, "chown");
  // After chown, which clears the set-id bits.
  if (::fchmod(fd.get(), archive_entry_perm(e)) != 0) return entry_errno(entry, "chmod");
  if (auto s = set_xattrs(e, fd.get(), {}, entry); !s) return s;
  timespec times[2];
  entry_times(e, times);
  if (::futimens(fd.get(), times) != 0) return entry_errno(entry, "utimens");
  return base::Status::Ok();
}

base::Status LayerWriter::write_dir(archive_entry* e, int parent,
                                    const std::vector<std::string>& comps, std::string_view entry) {
  base::UniqueFd fd;
  if (comps.empty()) {
    fd.reset(::fcntl(root_fd_.get(), F_DUPFD_CLOEXEC, 0));
  } else {
    const char* name = comps.back().c_str();
    if (::mkdirat(parent, name, 0700) != 0 && errno != EEXIST) return entry_errno(entry, "mkdir");
    fd.reset(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!fd.valid()) return entry_errno(entry, "open directory");
  if (::fchown(fd.get(), archive_entry_uid(e), archive_entry_gid(e)) != 0)
    return entry_errno(entry, "chown");
  if (::fchmod(fd.get(), archive_entry_perm(e)) != 0) return entry_errno(entry, "chmod");
  if (auto s = set_xattrs(e, fd.get(), {}, entry); !s) return s;
  DirTimes t{comps, {}};
  entry_times(e, t.times);
  dir_times_.push_back(std::move(t));
  return base::Status::Ok();
}

base::Status LayerWriter::write_link(archive_entry* e, int parent, const std::string& name,
                                     std::string_view entry) {
  const std::string target = archive_entry_hardlink(e);
  auto comps = split_entry_path(target);
  if (!comps || comps->empty())
    return entry_error(entry,
                       "hardlink target " + quote(target) + " is outside the layer; refused");
  auto target_parent =
      open_dir(std::span<const std::string>(*comps).first(comps->size() - 1), false, entry);
  if (!target_parent) return target_parent.error();
  if (::linkat(target_parent->get(), comps->back().c_str(), parent, name.c_str(), 0) != 0)
    return entry_errno(entry, ("link to " + quote(target)).c_str());
  return base::Status::Ok();
}

base::Status LayerWriter::write_other(archive_entry* e, int parent, const std::string& name,
                                      std::string_view entry) {
  const mode_t type = archive_entry_filetype(e);
  if (type == AE_IFLNK) {
    const char* target = archive_entry_symlink(e);
    if (::symlinkat(target ? target : "", parent, name.c_str()) != 0)
      return entry_errno(entry, "symlink");
  } else if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO) {
    const dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
    if (::mknodat(parent, name.c_str(), type | archive_entry_perm(e), dev) != 0)
      return entry_errno(entry, "mknod");
  } else {
    return base::Status::Ok();  // sockets and unknown types mean nothing in an image
  }
  if (::fchownat(parent, name.c_str(), archive_entry_uid(e), archive_entry_gid(e),
                 AT_SYMLINK_NOFOLLOW) != 0)
    return entry_errno(entry, "chown");
  if (type != AE_IFLNK && ::fchmodat(parent, name.c_str(), archive_entry_perm(e), 0) != 0)
    return entry_errno(entry, "chmod");
  if (auto s = set_xattrs(e, -1, proc_path(parent, name), entry); !s) return s;
  timespec times[2];
  entry_times(e, times);
  if (::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    return entry_errno(entry, "utimens");
  return base::Status::Ok();
}

base::Status LayerWriter::write(archive* a, archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  const std::string entry = raw != nullptr ? raw : "";
  auto comps = split_entry_path(entry);
  if (!comps) return entry_error(entry, comps.error().message);
  if (comps->empty()) {
    if (archive_entry_filetype(e) != AE_IFDIR)
      return entry_error(entry, "the layer's root is not a directory");
    return write_dir(e, -1, *comps, entry);
  }
  const std::string& name = comps->back();
  auto parent =
      open_dir(std::span<const std::string>(*comps).first(comps->size() - 1), true, entry);
  if (!parent) return parent.error();
  const int pfd = parent->get();
  if (name.starts_with(kWhiteoutPrefix)) return whiteout(pfd, name, entry);
  const bool is_dir = archive_entry_hardlink(e) == nullptr && archive_entry_filetype(e) == AE_IFDIR;
  if (auto s = remove_existing(pfd, name, entry, /*keep_dir=*/is_dir); !s) return s;
  if (archive_entry_hardlink(e) != nullptr) return write_link(e, pfd, name, entry);
  switch (archive_entry_filetype(e)) {
    case AE_IFREG:
      return write_file(a, e, pfd, name, entry);
    case AE_IFDIR:
      return write_dir(e, pfd, *comps, entry);
    default:
      return write_other(e, pfd, name, entry);
  }
}

void LayerWriter::finish() {
  for (const DirTimes& t : dir_times_) {
    // Best effort: a later entry may have replaced the directory.
    auto fd = open_dir(t.comps, false, "");
    if (fd) ::futimens(fd->get(), t.times);
  }
}

base::Status unpack_tar(Decompressed& source, const std::filesystem::path& dest) {
  base::UniqueFd root_fd(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root_fd.valid())
    return base::Error("cannot open " + dest.string() + ": " + std::strerror(errno));
  LayerWriter writer(dest, std::move(root_fd));
  ArchivePtr tar(archive_read_new());
  archive_read_support_format_tar(tar.get());
  if (archive_read_open(tar.get(), &source, nullptr, read_decompressed, nullptr) != ARCHIVE_OK)
    return base::Error(std::string("not a tar: ") + archive_error_string(tar.get()));
  for (;;) {
    archive_entry* e = nullptr;
    const int r = archive_read_next_header(tar.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return base::Error(std::string("bad tar: ") + archive_error_string(tar.get()));
    if (auto s = writer.write(tar.get(), e); !s) return s;
  }
  writer.finish();
  return base::Status::Ok();
}

}  // namespace

base::Result<std::vector<std::string>> split_entry_path(std::string_view path) {
  if (path.starts_with('/')) return base::Error("an absolute path escapes the directory; refused");
  std::vector<std::string> comps;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view c = path.substr(start, slash - start);
    if (c == "..") return base::Error("a \"..\" component escapes the directory; refused");
    if (!c.empty() && c != ".") comps.emplace_back(c);
    start = slash + 1;
  }
  return comps;
}

base::Result<std::string> read_layer(const std::filesystem::path& blob,
                                     const std::optional<std::filesystem::path>& dest) {
  ArchivePtr raw(archive_read_new());
  archive_read_support_filter_all(raw.get());
  archive_read_support_format_raw(raw.get());
  archive_read_support_format_empty(raw.get());
  if (archive_read_open_filename(raw.get(), blob.c_str(), 1 << 16) != ARCHIVE_OK)
    return base::Error("cannot read " + blob.string() + ": " + archive_error_string(raw.get()));
  Decompressed source;
  source.raw = raw.get();
  archive_entry* e = nullptr;
  const int r = archive_read_next_header(raw.get(), &e);
  if (r == ARCHIVE_EOF) return source.hash.finish();  // an empty file
  if (r < ARCHIVE_WARN)
    return base::Error("cannot read " + blob.string() + ": " + archive_error_string(raw.get()));
  if (dest) {
    if (auto s = unpack_tar(source, *dest); !s) return s.error();
  }
  // The digest covers every byte, also the padding after the tar's end.
  for (;;) {
    const la_ssize_t n =
        archive_read_data(raw.get(), source.buffer.get(), Decompressed::kBufferSize);
    if (n < 0)
      return base::Error("cannot decompress " + blob.string() + ": " +
                         archive_error_string(raw.get()));
    if (n == 0) break;
    source.hash.update(source.buffer.get(), static_cast<size_t>(n));
  }
  return source.hash.finish();
}

}  // namespace podagent::runtime::oci
