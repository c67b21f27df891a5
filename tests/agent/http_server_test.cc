// The HTTP server over real sockets, with a small blocking client written
// on POSIX sockets. The server's io_context runs on its own thread; the
// test talks to it only through sockets and io_thread_.run().

#include "agent/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <thread>

#include "agent/api_routes.h"
#include "tests/agent/io_thread.h"

// Options are written as designated initializers naming only what a test is
// about; the rest keep their defaults, which -Wmissing-field-initializers flags.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::agent {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;

// A guard against a hang, not a wait: every client read gives up after it.
constexpr int kSafetySeconds = 20;

void set_timeout(int fd) {
  timeval tv{kSafetySeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int connect_tcp(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    ADD_FAILURE() << "connect";
  set_timeout(fd);
  return fd;
}

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    ADD_FAILURE() << "connect " << path;
  set_timeout(fd);
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads more into `buffer`; false at EOF, error or the safety timeout.
bool read_more(int fd, std::string& buffer) {
  char chunk[4096];
  ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buffer.append(chunk, static_cast<size_t>(n));
  return true;
}

struct HttpResult {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // lowercase names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Reads one response's status line and headers from `buffer` (+ the socket).
std::optional<HttpResult> read_head(int fd, std::string& buffer) {
  size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos)
    if (!read_more(fd, buffer)) return std::nullopt;
  HttpResult r;
  std::string head = buffer.substr(0, end);
  buffer.erase(0, end + 4);
  r.status = std::stoi(head.substr(9, 3));
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    size_t next = head.find("\r\n", pos + 2);
    std::string line =
        head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace(name, line.substr(colon + 2));
    pos = next;
  }
  return r;
}

// One chunk of a chunked body; nullopt at the last chunk or EOF.
std::optional<std::string> read_chunk(int fd, std::string& buffer) {
  size_t eol;
  while ((eol = buffer.find("\r\n")) == std::string::npos)
    if (!read_more(fd, buffer)) return std::nullopt;
  const size_t size = std::stoul(buffer.substr(0, eol), nullptr, 16);
  while (buffer.size() < eol + 2 + size + 2)
    if (!read_more(fd, buffer)) return std::nullopt;
  std::string data = buffer.substr(eol + 2, size);
  buffer.erase(0, eol + 2 + size + 2);
  if (size == 0) return std::nullopt;
  return data;
}

std::optional<HttpResult> read_response(int fd, std::string& buffer) {
  auto r = read_head(fd, buffer);
  if (!r) return r;
  if (r->header("transfer-encoding") == "chunked") {
    while (auto c = read_chunk(fd, buffer)) r->body += *c;
    return r;
  }
  const size_t length =
      std::stoul(r->header("content-length").empty() ? "0" : r->header("content-length"));
  while (buffer.size() < length)
    if (!read_more(fd, buffer)) return std::nullopt;
  r->body = buffer.substr(0, length);
  buffer.erase(0, length);
  return r;
}

// True when the server closed the connection (EOF) rather than the safety
// timeout passing.
bool closed_by_server(int fd) {
  char c;
  return ::recv(fd, &c, 1, 0) == 0;
}

std::string get(std::string_view path, std::string_view extra_headers = "") {
  return fmt::format("GET {} HTTP/1.1\r\nHost: test\r\n{}\r\n", path, extra_headers);
}

struct FakeSink : PodSink {
  void create(const model::Pod&) override {}
  void replace(const model::Pod&) override {}
  void remove(const base::PodUid&, int64_t) override {}
};

class BearerAuthenticator : public Authenticator {
 public:
  std::optional<ApiError> authenticate(ApiRequest& request) override {
    if (request.authorization == "Bearer admin") return std::nullopt;
    if (request.authorization == "Bearer reader") {
      request.read_only = true;
      return std::nullopt;
    }
    return unauthorized("Unauthorized");
  }
};

model::Pod make_pod(std::string name, std::string uid) {
  model::Pod p;
  p.metadata.name = std::move(name);
  p.metadata.namespace_ = "default";
  p.metadata.uid = std::move(uid);
  return p;
}

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() : routes_(store_, sink_, persistence_) {
    std::string tmpl = (fs::temp_directory_path() / "podagent-http-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }

  ~HttpServerTest() override {
    if (server_) io_thread_.run([&] { server_->stop(); });
    io_thread_.join();
    server_.reset();
    fs::remove_all(dir_);
  }

  // Creates the server and starts the io thread; listeners are added by
  // the caller through run_on_io.
  void start(HttpLimits limits = {}) {
    server_ = std::make_unique<HttpServer>(
        io_, [this](const ApiRequest& r) { return routes_.handle(r); }, limits);
    io_thread_.start();
  }

  uint16_t listen_tcp(std::shared_ptr<Authenticator> auth = nullptr) {
    uint16_t port = 0;
    io_thread_.run([&] {
      auto p = server_->listen_tcp(TcpListenerOptions{.authenticator = std::move(auth)});
      ASSERT_TRUE(p.ok()) << p.error().message;
      port = *p;
    });
    return port;
  }

  testing::IoThread io_thread_;
  net::io_context& io_ = io_thread_.io();
  PodStore store_;
  FakeSink sink_;
  MemoryPodPersistence persistence_;
  ApiRoutes routes_;
  std::unique_ptr<HttpServer> server_;
  fs::path dir_;
};

TEST_F(HttpServerTest, ServesOnAUnixSocketWithItsMode) {
  start();
  const std::string path = (dir_ / "run" / "podagent.sock").string();
  io_thread_.run([&] { ASSERT_TRUE(server_->listen_unix({.path = path, .mode = 0660}).ok()); });
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  int fd = connect_unix(path);
  std::string buffer;
  send_all(fd, get("/healthz"));
  auto r = read_response(fd, buffer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok");
  ::close(fd);

  // A second listener on the same live socket is refused.
  io_thread_.run([&] {
    auto again = server_->listen_unix({.path = path});
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find("in use"), std::string::npos) << again.error().message;
  });
  io_thread_.run([&] { server_->stop(); });
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(HttpServerTest, ReplacesAStaleSocketButNoOtherFile) {
  start();
  const std::string stale = (dir_ / "stale.sock").string();
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", stale.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);  // the file stays, nobody listens
  }
  const std::string regular = (dir_ / "regular").string();
  std::ofstream(regular) << "keep me";
  io_thread_.run([&] {
    EXPECT_TRUE(server_->listen_unix({.path = stale}).ok());
    auto refused = server_->listen_unix({.path = regular});
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("not a socket"), std::string::npos);
    EXPECT_FALSE(
        server_->listen_unix({.path = (dir_ / "x.sock").string(), .group = "no-such-group-here"})
            .ok());
  });
  EXPECT_TRUE(fs::is_regular_file(regular));
  int fd = connect_unix(stale);
  std::string buffer;
  send_all(fd, get("/livez"));
  auto r = read_response(fd, buffer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  ::close(fd);
}

TEST_F(HttpServerTest, TcpOnPortZeroWithKeepAlive) {
  start();
  const uint16_t port = listen_tcp();
  ASSERT_NE(port, 0);
  io_thread_.run([&] { store_.put(make_pod("web", "u1")); });
  int fd = connect_tcp(port);
  std::string buffer;
  send_all(fd, get("/version") + get("/api/v1/namespaces/default/pods/web"));  // pipelined
  auto version = read_response(fd, buffer);
  ASSERT_TRUE(version);
  EXPECT_EQ(version->status, 200);
  EXPECT_EQ(version->header("content-type"), "application/json");
  EXPECT_NE(version->body.find("\"gitVersion\":\"v1.32.0-podagent.0.1.0\""), std::string::npos);
  auto pod = read_response(fd, buffer);
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->status, 200);
  EXPECT_NE(pod->body.find("\"uid\":\"u1\""), std::string::npos) << pod->body;
  send_all(fd, get("/nowhere", "Connection: close\r\n"));
  auto missing = read_response(fd, buffer);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("\"kind\":\"Status\""), std::string::npos);
  EXPECT_TRUE(closed_by_server(fd));
  ::close(fd);
}

TEST_F(HttpServerTest, OversizedBodiesAndHeadersAreRefused) {
  start(HttpLimits{.max_body_bytes = 1024, .max_header_bytes = 2048});
  const uint16_t port = listen_tcp();
  {
    int fd = connect_tcp(port);
    std::string buffer;
    send_all(fd,
             "POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: t\r\nContent-Type: "
             "application/json\r\n"
             "Content-Length: 5000\r\n\r\n" +
                 std::string(5000, 'x'));
    auto r = read_response(fd, buffer);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_NE(r->body.find("\"reason\":\"RequestEntityTooLarge\""), std::string::npos) << r->body;
    EXPECT_TRUE(closed_by_server(fd));
    ::close(fd);
  }
  {
    int fd = connect_tcp(port);
    std::string buffer;
    send_all(fd, get("/healthz", "X-Big: " + std::string(4096, 'a') + "\r\n"));
    auto r = read_response(fd, buffer);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
    ::close(fd);
  }
  {
    int fd = connect_tcp(port);
    std::string buffer;
    send_all(fd, "THIS IS NOT HTTP\r\n\r\n");
    auto r = read_response(fd, buffer);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    ::close(fd);
  }
  io_thread_.run([&] { EXPECT_EQ(store_.size(), 0u); });
}

TEST_F(HttpServerTest, SlowAndIdleClientsAreCutOff) {
  start(HttpLimits{.idle_timeout = std::chrono::milliseconds(50),
                   .header_timeout = std::chrono::milliseconds(50)});
  const uint16_t port = listen_tcp();
  int idle = connect_tcp(port);
  EXPECT_TRUE(closed_by_server(idle));
  ::close(idle);
  int slow = connect_tcp(port);
  send_all(slow, "GET /healthz HTTP/1.1\r\n");  // and never the rest
  EXPECT_TRUE(closed_by_server(slow));
  ::close(slow);
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitAreClosed) {
  start(HttpLimits{.max_connections = 2});
  const uint16_t port = listen_tcp();
  int a = connect_tcp(port), b = connect_tcp(port);
  std::string ba, bb;
  send_all(a, get("/healthz"));
  send_all(b, get("/healthz"));
  ASSERT_TRUE(read_response(a, ba));  // both are being served now
  ASSERT_TRUE(read_response(b, bb));
  int c = connect_tcp(port);
  EXPECT_TRUE(closed_by_server(c));
  io_thread_.run([&] { EXPECT_EQ(server_->connections(), 2u); });
  ::close(a);
  ::close(b);
  ::close(c);
}

TEST_F(HttpServerTest, WatchStreamsOneChunkPerEvent) {
  start();
  const uint16_t port = listen_tcp();
  io_thread_.run([&] { store_.put(make_pod("web", "u1")); });
  int fd = connect_tcp(port);
  std::string buffer;
  send_all(fd, get("/api/v1/pods?watch=true"));
  auto head = read_head(fd, buffer);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("transfer-encoding"), "chunked");
  auto first = read_chunk(fd, buffer);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->starts_with(R"({"type":"ADDED","object":{)")) << *first;
  EXPECT_EQ(first->back(), '\n');

  io_thread_.run([&] {
    model::PodStatus running;
    running.phase = "Running";
    store_.set_status(base::PodUid("u1"), running);
  });
  auto second = read_chunk(fd, buffer);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->starts_with(R"({"type":"MODIFIED")")) << *second;
  EXPECT_NE(second->find("\"phase\":\"Running\""), std::string::npos);

  io_thread_.run([&] { store_.remove(base::PodUid("u1")); });
  auto third = read_chunk(fd, buffer);
  ASSERT_TRUE(third);
  EXPECT_TRUE(third->starts_with(R"({"type":"DELETED")")) << *third;

  // Stopping the server ends the watch.
  io_thread_.run([&] { server_->stop(); });
  EXPECT_FALSE(read_chunk(fd, buffer));
  ::close(fd);
}

TEST_F(HttpServerTest, WatchEndsAtItsTimeout) {
  start();
  const uint16_t port = listen_tcp();
  int fd = connect_tcp(port);
  std::string buffer;
  send_all(fd, get("/api/v1/pods?watch=1&timeoutSeconds=1"));
  auto r = read_response(fd, buffer);  // returns once the last chunk came
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  ::close(fd);
}

TEST_F(HttpServerTest, AClientLeavingAWatchFreesItsConnection) {
  start();
  const uint16_t port = listen_tcp();
  int fd = connect_tcp(port);
  std::string buffer;
  send_all(fd, get("/api/v1/pods?watch=1"));
  ASSERT_TRUE(read_head(fd, buffer));
  ::close(fd);
  // The server notices without any event happening: the connection count
  // drops. Polled through the io thread, bounded by the safety limit.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(kSafetySeconds);
  size_t open = 1;
  while (open != 0 && std::chrono::steady_clock::now() < give_up) {
    io_thread_.run([&] { open = server_->connections(); });
    if (open != 0) std::this_thread::yield();
  }
  EXPECT_EQ(open, 0u);
}

TEST_F(HttpServerTest, AuthenticatorDecidesPerListener) {
  start();
  const uint16_t port = listen_tcp(std::make_shared<BearerAuthenticator>());
  const uint16_t open_port = listen_tcp();
  auto status_of = [&](uint16_t p, const std::string& request) {
    int fd = connect_tcp(p);
    std::string buffer;
    send_all(fd, request);
    auto r = read_response(fd, buffer);
    ::close(fd);
    return r ? r->status : 0;
  };
  const std::string create =
      "POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: t\r\nContent-Type: "
      "application/json\r\n"
      "Authorization: Bearer reader\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(status_of(port, get("/api/v1/pods")), 401);
  EXPECT_EQ(status_of(port, get("/api/v1/pods", "Authorization: Bearer wrong\r\n")), 401);
  EXPECT_EQ(status_of(port, get("/api/v1/pods", "Authorization: Bearer reader\r\n")), 200);
  EXPECT_EQ(status_of(port, create), 403);
  EXPECT_EQ(status_of(open_port, get("/api/v1/pods")), 200);
}

TEST_F(HttpServerTest, WarningsBecomeHeaders) {
  start();
  const uint16_t port = listen_tcp();
  const std::string body =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"w"},"spec":{"bogus":1,"containers":[{"name":"a","image":"b"}]}})";
  int fd = connect_tcp(port);
  std::string buffer;
  send_all(fd,
           fmt::format("POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: t\r\nContent-Type: "
                       "application/json\r\nContent-Length: {}\r\n\r\n{}",
                       body.size(), body));
  auto r = read_response(fd, buffer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(r->header("warning"), R"(299 - "unknown field \"spec.bogus\"")");
  ::close(fd);
}

TEST_F(HttpServerTest, AnswersExpectContinueBeforeTheBody) {
  start();
  const uint16_t port = listen_tcp();
  const std::string body =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"c"},"spec":{"containers":[{"name":"a","image":"b"}]}})";
  int fd = connect_tcp(port);
  std::string buffer;
  send_all(fd,
           fmt::format("POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: t\r\nContent-Type: "
                       "application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
                       body.size()));
  auto go_on = read_head(fd, buffer);
  ASSERT_TRUE(go_on);
  EXPECT_EQ(go_on->status, 100);
  send_all(fd, body);
  auto r = read_response(fd, buffer);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  ::close(fd);
}

}  // namespace
}  // namespace podagent::agent
