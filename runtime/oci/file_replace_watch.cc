#include "runtime/oci/file_replace_watch.h"

#include <sys/inotify.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <string>

#include "base/unique_fd.h"
#include "runtime/oci/inotify_events.h"

namespace podagent::runtime::oci {

namespace asio = boost::asio;

struct FileReplaceWatch::State {
  State(asio::any_io_executor ex, int fd) : stream(std::move(ex), fd) {}
  asio::posix::stream_descriptor stream;
  std::string name;
  std::function<void()> on_change;
  bool stopped = false;
};

namespace {

// True when the events in `buf` hold the file's replacement (or an
// overflow, which may have hidden one).
bool replaced(const std::string& name, const char* buf, size_t n) {
  bool out = false;
  for (const InotifyEvent& ev : parse_inotify_events(buf, n)) {
    if (ev.mask & IN_Q_OVERFLOW) out = true;
    if ((ev.mask & IN_MOVED_TO) && name == ev.name) out = true;
  }
  return out;
}

asio::awaitable<void> read_events(std::shared_ptr<FileReplaceWatch::State> s) {
  char buf[8192];
  for (;;) {
    auto [ec, n] =
        co_await s->stream.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (s->stopped || ec) co_return;
    if (replaced(s->name, buf, n)) {
      // A copy: the handler may stop (and destroy) the watch.
      auto handler = s->on_change;
      handler();
    }
  }
}

}  // namespace

base::Result<std::unique_ptr<FileReplaceWatch>> FileReplaceWatch::start(
    asio::any_io_executor executor, const std::filesystem::path& file,
    std::function<void()> on_change) {
  base::UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) return base::Error(std::string("inotify_init1: ") + std::strerror(errno));
  const std::filesystem::path dir = file.parent_path();
  if (::inotify_add_watch(fd.get(), dir.c_str(), IN_MOVED_TO | IN_ONLYDIR) < 0)
    return base::Error("cannot watch " + dir.string() + ": " + std::strerror(errno));
  auto state = std::make_shared<State>(executor, fd.release());
  state->name = file.filename().string();
  state->on_change = std::move(on_change);
  asio::co_spawn(executor, read_events(state), asio::detached);
  return std::unique_ptr<FileReplaceWatch>(new FileReplaceWatch(std::move(state)));
}

FileReplaceWatch::~FileReplaceWatch() { stop(); }

void FileReplaceWatch::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  state_->on_change = nullptr;
  boost::system::error_code ignored;
  state_->stream.close(ignored);  // the pending read completes, aborted
}

}  // namespace podagent::runtime::oci
