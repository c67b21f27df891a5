#include "runtime/container_log_follower.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace podagent::runtime {

namespace asio = boost::asio;
namespace fs = std::filesystem;

struct LogFollower::Impl {
  Impl(fs::path d, LogPosition start, bool timestamps)
      : dir(std::move(d)), attempt(start.attempt), offset(start.offset), joiner(timestamps) {}

  fs::path file_of(uint32_t n) const { return dir / fmt::format("{}.log", n); }

  // Opens <attempt>.log at `offset` when it exists; false when it does not.
  bool open_current() {
    base::UniqueFd fd(::open(file_of(attempt).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return false;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return false;
    if (::lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0) return false;
    file = std::move(fd);
    inode = st.st_ino;
    return true;
  }

  // Reads the open file to its end; appends the log lines completed.
  base::Status drain(std::string& out) {
    std::array<char, 65536> chunk{};
    for (;;) {
      const ssize_t n = ::read(file.get(), chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        return base::Error(
            fmt::format("reading {}: {}", file_of(attempt).string(), std::strerror(errno)));
      if (n == 0) break;
      pending.append(chunk.data(), static_cast<size_t>(n));
      offset += static_cast<uint64_t>(n);
    }
    size_t pos = 0;
    for (size_t eol; (eol = pending.find('\n', pos)) != std::string::npos; pos = eol + 1) {
      if (auto record = parse_cri_record(std::string_view(pending).substr(pos, eol - pos)))
        if (auto line = joiner.add(*record)) out += line->text;
    }
    pending.erase(0, pos);
    return {};
  }

  // One level-triggered look at the files: what was written since the last
  // look, switching files on rotation and on the next attempt's file.
  base::Result<std::string> look() {
    std::string out;
    for (;;) {
      const bool next_started = ::access(file_of(attempt + 1).c_str(), F_OK) == 0;
      struct stat st {};
      const bool current_exists = ::stat(file_of(attempt).c_str(), &st) == 0;
      if (!file.valid() && current_exists) open_current();  // may fail: raced a rename
      const bool rotated = file.valid() && current_exists && st.st_ino != inode;
      if (file.valid())
        if (auto s = drain(out); !s) return s.error();
      if (!next_started && !rotated) return out;
      // The old file is complete: a record cut short in it is dropped.
      file.reset();
      pending.clear();
      offset = 0;
      if (next_started) {
        if (auto line = joiner.flush()) out += line->text + "\n";
        ++attempt;
      }
    }
  }

  base::Status watch(const asio::any_io_executor& executor) {
    base::UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!fd.valid()) return base::Error(fmt::format("inotify_init1: {}", std::strerror(errno)));
    constexpr uint32_t kMask = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                               IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF;
    if (::inotify_add_watch(fd.get(), dir.c_str(), kMask) < 0)
      return base::Error(fmt::format("watching {}: {}", dir.string(), std::strerror(errno)));
    notify.emplace(executor, fd.release());
    return {};
  }

  fs::path dir;
  uint32_t attempt;
  uint64_t offset;
  LogLineJoiner joiner;
  base::UniqueFd file;
  ino_t inode = 0;
  std::string pending;  // bytes of a record not yet ended by '\n'
  std::optional<asio::posix::stream_descriptor> notify;
  bool finishing = false;
  bool waiting = false;
};

LogFollower::LogFollower(fs::path container_dir, LogPosition start, bool timestamps)
    : impl_(std::make_unique<Impl>(std::move(container_dir), start, timestamps)) {}

LogFollower::~LogFollower() = default;

uint32_t LogFollower::attempt() const { return impl_->attempt; }

void LogFollower::finish() {
  impl_->finishing = true;
  if (impl_->waiting && impl_->notify) impl_->notify->cancel();
}

asio::awaitable<base::Result<std::optional<std::string>>> LogFollower::next() {
  Impl& d = *impl_;
  // The watch comes before the first look, so that nothing written between
  // the two goes unnoticed.
  if (!d.notify)
    if (auto s = d.watch(co_await asio::this_coro::executor); !s) co_return s.error();
  std::array<char, 4096> events{};
  for (;;) {
    auto out = d.look();
    if (!out) co_return out.error();
    if (!out->empty()) co_return std::move(*out);
    if (d.finishing) {
      if (auto line = d.joiner.flush()) co_return std::move(line->text);
      co_return std::nullopt;
    }
    // The events only say "look again"; which ones came does not matter.
    d.waiting = true;
    auto [ec, n] = co_await d.notify->async_read_some(asio::buffer(events),
                                                      asio::as_tuple(asio::use_awaitable));
    d.waiting = false;
    if (ec == asio::error::operation_aborted && d.finishing) continue;
    if (ec) co_return base::Error(fmt::format("following {}: {}", d.dir.string(), ec.message()));
  }
}

}  // namespace podagent::runtime
