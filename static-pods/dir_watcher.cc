#include "static-pods/dir_watcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "static-pods/manifest_dir.h"

namespace podagent::static_pods {

namespace asio = boost::asio;

namespace {

// Events on the manifest directory. IN_MODIFY is left out on purpose: a
// file is read once its writer closes it (IN_CLOSE_WRITE), not halfway.
constexpr uint32_t kDirMask = IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                              IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB | IN_ONLYDIR;
// Events on its parent: the directory's own name appearing or going.
constexpr uint32_t kParentMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

std::string error_text(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

// Reads one entry. nullopt when there is nothing to read: the name is gone
// (or is a dangling symlink) or is not a regular file.
std::optional<FileRead> read_entry(const std::string& dir, const std::string& name,
                                   size_t max_bytes) {
  std::string path = dir + "/" + name;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    return FileRead{name, base::Error(error_text("cannot stat", errno))};
  }
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  // O_NONBLOCK: should a fifo replace the file after the stat, open does not hang.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    return FileRead{name, base::Error(error_text("cannot open", errno))};
  }
  std::string text;
  char buf[16384];
  for (;;) {
    // One byte past the limit, so that the decoder reports the size.
    size_t want = std::min(sizeof buf, max_bytes + 1 - text.size());
    if (want == 0) break;
    ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return FileRead{name, base::Error(error_text("cannot read", err))};
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return FileRead{name, std::move(text)};
}

// The directory's readable entries; an empty list when the directory is gone.
base::Result<std::vector<FileRead>> list_dir(const std::string& dir, size_t max_bytes) {
  std::vector<FileRead> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return out;
    return base::Error(error_text("cannot list the manifest directory", errno));
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    if (!is_ignored_name(e->d_name)) names.emplace_back(e->d_name);
  }
  ::closedir(d);
  for (const std::string& name : names) {
    if (auto read = read_entry(dir, name, max_bytes)) out.push_back(std::move(*read));
  }
  return out;
}

std::pair<std::string, std::string> split_parent(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  size_t slash = dir.rfind('/');
  if (slash == std::string::npos) return {".", dir};
  return {slash == 0 ? "/" : dir.substr(0, slash), dir.substr(slash + 1)};
}

// What one drain of the inotify queue asks for.
struct Pending {
  bool rewatch = false;                   // the directory itself appeared, went or was replaced
  bool rescan = false;                    // re-read everything
  std::map<std::string, uint32_t> files;  // name -> union of event masks
};

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

}  // namespace

class DirWatcher::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, base::Clock& clock, DirWatcherOptions options)
      : io_(io),
        clock_(clock),
        options_(std::move(options)),
        dir_(ManifestDirOptions{options_.dir, options_.node_name, options_.limits}) {
    std::tie(parent_, base_name_) = split_parent(options_.dir);
  }

  void start(Handler handler) {
    handler_ = std::move(handler);
    asio::post(io_, [self = shared_from_this()] { self->begin(); });
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    if (events_) events_->close();  // closes the inotify fd: every watch goes with it
    if (relist_timer_) relist_timer_->cancel();
  }

 private:
  void begin();
  asio::awaitable<void> run_events();
  asio::awaitable<void> run_relist();
  void drain(Pending& pending);
  void note_event(const inotify_event& event, Pending& pending);
  void apply(const Pending& pending);
  void ensure_watches();
  void rewatch_dir();
  void full_scan();
  void deliver(bool force);
  void log_error_changes();
  int fd() { return events_ ? events_->native_handle() : -1; }

  asio::io_context& io_;
  base::Clock& clock_;
  DirWatcherOptions options_;
  std::string parent_;
  std::string base_name_;
  Handler handler_;
  bool stopped_ = false;
  std::optional<asio::posix::stream_descriptor> events_;
  std::unique_ptr<base::Timer> relist_timer_;
  int dir_wd_ = -1;
  int parent_wd_ = -1;
  ManifestErrors logged_errors_;

 public:
  // Read by the DirWatcher's accessors; declared after options_, which
  // dir_ is built from.
  ManifestDir dir_;
  ManifestSnapshot delivered_;
  bool ready_ = false;
  DirWatcherStats stats_;
};

void DirWatcher::Impl::begin() {
  if (stopped_) return;
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    // Without inotify the relist alone keeps the pods up to date, late.
    base::log_error(
        "static pods: inotify_init1 failed: {}; relying on the relist every {} s",
        std::strerror(errno),
        std::chrono::duration_cast<std::chrono::seconds>(options_.relist_period).count());
  } else {
    events_.emplace(io_, fd);
  }
  relist_timer_ = clock_.make_timer(io_.get_executor());
  ensure_watches();
  full_scan();
  ready_ = true;
  deliver(true);
  if (stopped_) return;  // by the handler
  auto self = shared_from_this();
  if (events_)
    asio::co_spawn(
        io_, [self]() { return self->run_events(); }, rethrow);
  asio::co_spawn(
      io_, [self]() { return self->run_relist(); }, rethrow);
}

asio::awaitable<void> DirWatcher::Impl::run_events() {
  for (;;) {
    auto [ec] = co_await events_->async_wait(asio::posix::descriptor_base::wait_read,
                                             asio::as_tuple(asio::use_awaitable));
    if (stopped_) co_return;
    if (ec) {
      base::log_error("static pods: waiting for inotify events failed: {}", ec.message());
      co_return;
    }
    Pending pending;
    drain(pending);
    ++stats_.event_batches;
    apply(pending);
  }
}

asio::awaitable<void> DirWatcher::Impl::run_relist() {
  for (;;) {
    relist_timer_->expires_at(clock_.now() + options_.relist_period);
    bool expired = co_await relist_timer_->wait();
    if (stopped_) co_return;
    if (!expired) continue;
    ensure_watches();
    full_scan();
    deliver(false);
  }
}

// Reads every queued event (the fd is non-blocking), so that a burst costs
// one pass over the files.
void DirWatcher::Impl::drain(Pending& pending) {
  alignas(inotify_event) char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN) {
        base::log_error("static pods: reading inotify events failed: {}", std::strerror(errno));
        pending.rescan = true;
      }
      return;
    }
    for (ssize_t off = 0; off < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buf + off);
      note_event(*event, pending);
      off += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
}

void DirWatcher::Impl::note_event(const inotify_event& event, Pending& pending) {
  std::string name = event.len > 0 ? std::string(event.name) : std::string();
  if (event.mask & IN_Q_OVERFLOW) {
    pending.rescan = true;
  } else if (event.wd == dir_wd_) {
    if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
      if (event.mask & IN_IGNORED) dir_wd_ = -1;  // the kernel dropped the watch
      pending.rewatch = true;
    } else if (name.empty()) {
      pending.rescan = true;  // the directory's own attributes
    } else if (!is_ignored_name(name)) {
      pending.files[name] |= event.mask;
    }
  } else if (event.wd == parent_wd_) {
    if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
      // A parent moved away keeps its watch unless removed.
      if (!(event.mask & IN_IGNORED)) ::inotify_rm_watch(fd(), parent_wd_);
      parent_wd_ = -1;
      pending.rewatch = true;
    } else if (name == base_name_) {
      pending.rewatch = true;
    }
  }
  // Any other wd is a watch already dropped; its late events mean nothing.
}

void DirWatcher::Impl::apply(const Pending& pending) {
  if (pending.rewatch) rewatch_dir();
  if (pending.rewatch || pending.rescan) {
    full_scan();
  } else {
    for (const auto& [name, mask] : pending.files) {
      if (mask == IN_CREATE) {
        // A new regular file is read when its writer closes it; a new
        // symlink will not be written, so it is read now.
        struct stat st {};
        std::string path = options_.dir + "/" + name;
        if (::lstat(path.c_str(), &st) == 0 && !S_ISLNK(st.st_mode)) continue;
      }
      ++stats_.files_read;
      if (auto read = read_entry(options_.dir, name, options_.limits.max_bytes)) {
        dir_.update(*read);
      } else {
        dir_.remove(name);
      }
    }
  }
  deliver(false);
}

void DirWatcher::Impl::ensure_watches() {
  if (fd() < 0) return;
  if (parent_wd_ < 0) parent_wd_ = ::inotify_add_watch(fd(), parent_.c_str(), kParentMask);
  if (dir_wd_ < 0) dir_wd_ = ::inotify_add_watch(fd(), options_.dir.c_str(), kDirMask);
}

// The directory was created, removed or replaced: watch whatever is at its
// path now (a moved-away directory keeps its watch otherwise).
void DirWatcher::Impl::rewatch_dir() {
  if (fd() < 0) return;
  if (dir_wd_ >= 0) ::inotify_rm_watch(fd(), dir_wd_);
  dir_wd_ = -1;
  ensure_watches();
}

void DirWatcher::Impl::full_scan() {
  ++stats_.full_scans;
  auto listing = list_dir(options_.dir, options_.limits.max_bytes);
  if (!listing) {
    // Keep what we have: an unlistable directory says nothing about its files.
    base::log_error("static pods: {}: {}", options_.dir, listing.error().to_string());
    return;
  }
  stats_.files_read += listing->size();
  dir_.replace_all(*listing);
}

void DirWatcher::Impl::deliver(bool force) {
  log_error_changes();
  if (stopped_) return;
  if (!force && dir_.desired() == delivered_) return;
  delivered_ = dir_.desired();
  if (handler_) handler_(delivered_);
}

// One log line per file whose problems appeared or changed, and one when a
// file is good again.
void DirWatcher::Impl::log_error_changes() {
  const ManifestErrors& now = dir_.errors();
  for (const auto& [file, problems] : now) {
    auto before = logged_errors_.find(file);
    if (before != logged_errors_.end() && before->second == problems) continue;
    std::string joined;
    for (const std::string& p : problems) joined += (joined.empty() ? "" : "; ") + p;
    base::log_warning("static pods: manifest {}/{}: {} (its last good pods, if any, keep running)",
                      options_.dir, file, joined);
  }
  for (const auto& [file, problems] : logged_errors_) {
    if (!now.contains(file))
      base::log_info("static pods: manifest {}/{} has no more errors", options_.dir, file);
  }
  logged_errors_ = now;
}

DirWatcher::DirWatcher(asio::io_context& io, base::Clock& clock, DirWatcherOptions options)
    : impl_(std::make_shared<Impl>(io, clock, std::move(options))) {}

DirWatcher::~DirWatcher() { impl_->stop(); }

void DirWatcher::start(Handler handler) { impl_->start(std::move(handler)); }
void DirWatcher::stop() { impl_->stop(); }
bool DirWatcher::ready() const { return impl_->ready_; }
const ManifestSnapshot& DirWatcher::snapshot() const { return impl_->delivered_; }
const ManifestErrors& DirWatcher::errors() const { return impl_->dir_.errors(); }
uint64_t DirWatcher::error_total() const { return impl_->dir_.error_total(); }
DirWatcherStats DirWatcher::stats() const { return impl_->stats_; }

}  // namespace podagent::static_pods
