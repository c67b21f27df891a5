// Helpers for the in-process tests of the whole Agent: a temp directory, an
// Agent running on its own io_context thread, and a small blocking HTTP/1.1
// client over the agent's unix socket written on POSIX sockets.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent.h"
#include "model/document.h"
#include "model/node.h"
#include "tests/temp_dir.h"

namespace podagent::agent::testing {

namespace fs = std::filesystem;

// A guard against a hang, not a wait: every poll gives up after it.
inline constexpr auto kDeadline = std::chrono::seconds(20);

// Under /tmp unless TMPDIR says otherwise: keep it short, unix socket
// paths are limited to 108 bytes.
using test_util::TempDir;

inline void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Writes a hidden file (ignored by the source) and renames it into place, so
// that the source sees one complete file moved in.
inline void move_in(const fs::path& dir, const std::string& name, const std::string& text) {
  const fs::path hidden = dir / ("." + name + ".partial");
  write_file(hidden, text);
  fs::rename(hidden, dir / name);
}

// Polls `done` until it holds or `limit` passes; returns its last answer.
inline bool wait_for(const std::function<bool()>& done,
                     std::chrono::steady_clock::duration limit = kDeadline) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  auto pause = std::chrono::milliseconds(1);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return true;
}

inline int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const bool interrupted = errno == EINTR;
    ::close(fd);
    // A signal (glibc's SIGSETXID, or a stop and continue) interrupts a
    // blocking socket call with EINTR: try again on a fresh socket.
    return interrupted ? connect_unix(path) : -1;
  }
  timeval tv{static_cast<time_t>(kDeadline.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

inline void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;  // SO_SNDTIMEO: not restarted
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string head;
  std::string body;
};

// Decodes a chunked body (what Beast sends for watches and some replies).
inline std::string dechunk(std::string_view raw) {
  std::string out;
  while (!raw.empty()) {
    const auto eol = raw.find("\r\n");
    if (eol == std::string_view::npos) break;
    const size_t size = std::strtoul(std::string(raw.substr(0, eol)).c_str(), nullptr, 16);
    if (size == 0) break;
    out += raw.substr(eol + 2, size);
    raw.remove_prefix(std::min(raw.size(), eol + 2 + size + 2));
  }
  return out;
}

// One request on its own connection ("Connection: close"); reads to EOF.
inline HttpReply http(const std::string& socket, const std::string& method,
                      const std::string& target, const std::string& body = "",
                      const std::string& content_type = "application/json") {
  HttpReply reply;
  const int fd = connect_unix(socket);
  if (fd < 0) return reply;
  std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST" || method == "PUT")
    request += "Content-Type: " + content_type +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  send_all(fd, request);
  std::string raw;
  char chunk[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;  // SO_RCVTIMEO: not restarted
    if (n <= 0) break;
    raw.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  const auto end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) return reply;
  reply.status = std::atoi(raw.c_str() + 9);
  reply.head = raw.substr(0, end);
  reply.body = raw.substr(end + 4);
  if (reply.head.find("chunked") != std::string::npos) reply.body = dechunk(reply.body);
  return reply;
}

inline model::Node parse_json(const std::string& text) {
  auto docs = model::parse_documents(text);
  if (!docs || docs->size() != 1) {
    ADD_FAILURE() << "not one JSON document: " << text;
    return model::Node::map();
  }
  return std::move(docs->front());
}

// The scalar at a path of map keys ("" when absent).
inline std::string field(const model::Node& node, std::initializer_list<std::string_view> path) {
  const model::Node* at = &node;
  for (auto key : path) {
    at = at->find(key);
    if (!at) return "";
  }
  return at->text;
}

// A watch on a connection kept open: events are read as they come.
class WatchStream {
 public:
  WatchStream(const std::string& socket, const std::string& target) : fd_(connect_unix(socket)) {
    send_all(fd_, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  }
  ~WatchStream() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Reads until `done(events)` holds, the stream ends or kDeadline passes.
  bool read_until(const std::function<bool(const std::vector<model::Node>&)>& done) {
    const auto give_up = std::chrono::steady_clock::now() + kDeadline;
    while (!done(events_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          give_up - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return done(events_);
      raw_.append(chunk, static_cast<size_t>(n));
      parse();
    }
    return true;
  }
  // Waits for the response header: the watch is then registered.
  bool wait_started() {
    read_until([this](const std::vector<model::Node>&) {
      return raw_.find("\r\n\r\n") != std::string::npos;
    });
    return raw_.starts_with("HTTP/1.1 200");
  }
  const std::vector<model::Node>& events() const { return events_; }

 private:
  // Every complete line that is a JSON object is an event (the chunk-size
  // lines and the header lines are not).
  void parse() {
    size_t eol;
    while ((eol = raw_.find('\n', scanned_)) != std::string::npos) {
      std::string line = raw_.substr(scanned_, eol - scanned_);
      scanned_ = eol + 1;
      if (line.starts_with("{\"type\"")) events_.push_back(parse_json(line));
    }
  }

  int fd_;
  std::string raw_;
  size_t scanned_ = 0;
  std::vector<model::Node> events_;
};

// An Agent on its own io_context thread.
class RunningAgent {
 public:
  explicit RunningAgent(AgentOptions options)
      : agent_(std::make_unique<Agent>(io_, std::move(options))) {}
  ~RunningAgent() { stop(); }

  base::Status start() {
    base::Status s = agent_->start();
    if (s) thread_ = std::thread([this] { io_.run(); });
    return s;
  }
  // Runs `fn` on the io_context thread and waits for it.
  template <typename Fn>
  auto on_io(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }
  // Stops the agent; returns once io_context::run() has returned (every
  // coroutine ended), which is itself part of what is tested.
  void stop() {
    if (thread_.joinable()) {
      boost::asio::post(io_, [this] { agent_->stop(); });
      thread_.join();
    }
  }
  Agent& agent() { return *agent_; }

 private:
  boost::asio::io_context io_;
  std::unique_ptr<Agent> agent_;
  std::thread thread_;
};

// A config for tests: everything under `dir`, the fake runtime.
inline config::AgentConfig test_config(const fs::path& dir) {
  config::AgentConfig c;
  c.node_name = "node1";
  c.manifest_dir = (dir / "manifests").string();
  c.state_dir = (dir / "state").string();
  c.pod_logs_dir = (dir / "logs").string();
  c.api.socket = (dir / "api.sock").string();
  c.runtime.backend = "fake";
  fs::create_directories(c.manifest_dir);
  return c;
}

}  // namespace podagent::agent::testing
