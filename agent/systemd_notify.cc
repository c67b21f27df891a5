#include "agent/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "base/unique_fd.h"

namespace podagent::agent {

namespace {

// A whole decimal number, or nullopt (empty, sign, trailing junk, overflow).
std::optional<std::uint64_t> parse_unsigned(const std::string& text) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}


base::Error errno_error(const std::string& what) {
  return base::Error(what + ": " + std::strerror(errno));
}

}  // namespace

SystemdNotifier::SystemdNotifier(const EnvLookup& env) {
  socket_ = env("NOTIFY_SOCKET").value_or("");
  std::optional<std::string> usec = env("WATCHDOG_USEC");
  if (!usec) return;
  std::optional<std::uint64_t> value = parse_unsigned(*usec);
  if (!value || *value == 0) return;
  if (std::optional<std::string> pid_text = env("WATCHDOG_PID")) {
    std::optional<std::uint64_t> pid = parse_unsigned(*pid_text);
    if (!pid || *pid != static_cast<std::uint64_t>(::getpid())) return;
  }
  watchdog_usec_ = std::chrono::microseconds(*value);
}

SystemdNotifier SystemdNotifier::from_environment() {
  return SystemdNotifier([](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  });
}

base::Status SystemdNotifier::status(std::string_view text) {
  std::string message = "STATUS=";
  message += text;
  for (std::size_t i = 7; i < message.size(); ++i) {
    if (message[i] == '\n') message[i] = ' ';
  }
  return notify(message);
}

base::Status SystemdNotifier::notify(std::string_view message) {
  if (socket_.empty()) return base::Status::Ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socklen_t addr_len = 0;
  if (socket_[0] == '@') {
    // Abstract namespace: a leading NUL, then the name, not NUL-terminated;
    // the address length says where it ends.
    if (socket_.size() > sizeof(addr.sun_path)) {
      return base::Error("NOTIFY_SOCKET is too long: " + socket_);
    }
    std::memcpy(addr.sun_path + 1, socket_.data() + 1, socket_.size() - 1);
    addr_len = offsetof(sockaddr_un, sun_path) + socket_.size();
  } else if (socket_[0] == '/') {
    if (socket_.size() >= sizeof(addr.sun_path)) {
      return base::Error("NOTIFY_SOCKET is too long: " + socket_);
    }
    std::memcpy(addr.sun_path, socket_.data(), socket_.size());
    addr_len = offsetof(sockaddr_un, sun_path) + socket_.size() + 1;
  } else {
    return base::Error("NOTIFY_SOCKET is neither an absolute path nor '@' abstract: " + socket_);
  }

  base::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return errno_error("sd_notify: socket");
  ssize_t sent = ::sendto(fd.get(), message.data(), message.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&addr), addr_len);
  if (sent < 0) return errno_error("sd_notify to " + socket_);
  if (static_cast<std::size_t>(sent) != message.size()) {
    return base::Error("sd_notify to " + socket_ + ": short datagram");
  }
  return base::Status::Ok();
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdog_interval() const {
  if (socket_.empty() || !watchdog_usec_) return std::nullopt;
  // At least 1 us, so that WATCHDOG_USEC=1 cannot make a busy loop.
  return std::max(*watchdog_usec_ / 2, std::chrono::microseconds(1));
}

}  // namespace podagent::agent
