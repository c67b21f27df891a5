// The only file of the agent that uses Boost.Beast (with tls_context.cc,
// the only one that uses Asio's SSL layer).

#include "agent/http_server.h"

#include "agent/body_stream.h"

#include <fmt/format.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <vector>

namespace podagent::agent {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using net::ip::tcp;
using unix_socket = net::local::stream_protocol;
using namespace net::experimental::awaitable_operators;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

}  // namespace

struct HttpServer::Impl {
  net::io_context& io;
  Handler handler;
  HttpLimits limits;
  bool stopped = false;
  std::vector<std::unique_ptr<tcp::acceptor>> tcp_acceptors;
  std::vector<std::unique_ptr<unix_socket::acceptor>> unix_acceptors;
  std::vector<std::string> unix_paths;
  // Per open connection, what closes it; the entry lives as long as the
  // connection's coroutine.
  std::map<uint64_t, std::function<void()>> closers;
  uint64_t next_connection = 1;
  // Connections accepted and not yet finished; counted from the accept, as
  // a spawned connection registers its closer only once it first runs.
  size_t open = 0;

  Impl(net::io_context& context, Handler h, HttpLimits l)
      : io(context), handler(std::move(h)), limits(l) {}
};

namespace {

using Impl = HttpServer::Impl;

// Registers a connection for stop() and unregisters it when the coroutine
// ends, however it ends.
class ConnectionGuard {
 public:
  ConnectionGuard(Impl& impl, std::function<void()> closer)
      : impl_(impl), id_(impl.next_connection++) {
    impl_.closers.emplace(id_, std::move(closer));
  }
  ~ConnectionGuard() {
    impl_.closers.erase(id_);
    --impl_.open;
  }
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

 private:
  Impl& impl_;
  uint64_t id_;
};

ApiRequest to_api_request(http::request<http::string_body>&& req) {
  ApiRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  r.content_type = std::string(req[http::field::content_type]);
  r.accept = std::string(req[http::field::accept]);
  r.authorization = std::string(req[http::field::authorization]);
  r.upgrade = std::string(req[http::field::upgrade]);
  r.body = std::move(req.body());
  return r;
}

// A Warning header value: 299 - "text" (quotes and backslashes escaped).
std::string warning_value(std::string_view text) {
  std::string out = "299 - \"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\r' || c == '\n') c = ' ';
    out += c;
  }
  return out + "\"";
}

ApiResponse call_handler(Impl& impl, const std::shared_ptr<Authenticator>& auth,
                         const PeerInfo& peer, ApiRequest& request) {
  try {
    if (auth)
      if (auto e = auth->authenticate_peer(request, peer)) return error_response(*e);
    return impl.handler(request);
  } catch (const std::exception& e) {
    // The handler is written not to throw; allocation failures still can.
    return error_response(internal_error(std::string("internal error: ") + e.what()));
  }
}

template <class Stream>
net::awaitable<bool> write_response(Impl& impl, Stream& stream, ApiResponse response,
                                    unsigned version, bool keep_alive, bool head) {
  http::response<http::string_body> res{static_cast<http::status>(response.status), version};
  res.set(http::field::content_type, response.content_type);
  res.set(http::field::cache_control, "no-cache, private");
  for (const auto& w : response.warnings) res.insert(http::field::warning, warning_value(w));
  res.keep_alive(keep_alive);
  const size_t length = response.body.size();
  if (!head) res.body() = std::move(response.body);
  res.content_length(length);
  beast::get_lowest_layer(stream).expires_after(impl.limits.write_timeout);
  auto [ec, n] = co_await http::async_write(stream, res, kTuple);
  co_return !ec;
}

// An error answered before the request could be read whole; the connection
// is closed after it.
template <class Stream>
net::awaitable<void> write_error_and_close(Impl& impl, Stream& stream, int status,
                                           std::string body_json) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body_json);
  co_await write_response(impl, stream, std::move(r), 11, false, false);
}

// Writes the head of a chunked response that ends with the connection.
// False when the connection is unusable.
template <class Stream>
net::awaitable<bool> write_chunked_head(Impl& impl, Stream& stream, http::status status,
                                        const std::string& content_type, unsigned version) {
  http::response<http::empty_body> res{status, version};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-cache, private");
  res.keep_alive(false);
  res.chunked(true);
  http::response_serializer<http::empty_body> serializer{res};
  beast::get_lowest_layer(stream).expires_after(impl.limits.write_timeout);
  auto [ec, n] = co_await http::async_write_header(stream, serializer, kTuple);
  co_return !ec;
}

// Writes the events of a watch as chunks until it ends. Returns when the
// response is complete or the connection is unusable.
template <class Stream>
net::awaitable<void> stream_watch(Impl& impl, Stream& stream, net::steady_timer& wakeup,
                                  ApiResponse response, unsigned version) {
  if (!co_await write_chunked_head(impl, stream, http::status::ok, response.content_type, version)) co_return;
  auto& lowest = beast::get_lowest_layer(stream);

  std::shared_ptr<PodWatch> watch = response.watch;
  const auto deadline = std::chrono::steady_clock::now() + response.watch_timeout;
  // Events are queued only by store changes, which run while this coroutine
  // is suspended; it drains the queue before every wait, so a cancel() that
  // finds no wait pending loses nothing.
  watch->on_ready([&wakeup] { wakeup.cancel(); });
  struct Unhook {
    PodWatch& w;
    ~Unhook() { w.on_ready(nullptr); }
  } unhook{*watch};

  for (;;) {
    while (auto event = watch->pop()) {
      const std::string line =
          response.encode_event ? response.encode_event(*event) : watch_event_line(*event);
      lowest.expires_after(impl.limits.write_timeout);
      auto [ec, n] = co_await net::async_write(stream, http::make_chunk(net::buffer(line)), kTuple);
      if (ec) co_return;
    }
    if (watch->closed() || impl.stopped || std::chrono::steady_clock::now() >= deadline) break;
    wakeup.expires_at(deadline);
    // The client sends nothing during a watch: readability means it closed.
    auto woke = co_await (wakeup.async_wait(kTuple) ||
                          lowest.socket().async_wait(net::socket_base::wait_read, kTuple));
    if (woke.index() == 1) co_return;
  }
  lowest.expires_after(impl.limits.write_timeout);
  co_await net::async_write(stream, http::make_chunk_last(), kTuple);
}

// Writes a streamed body as chunks as the stream gives them, until it ends,
// the client goes away or the server stops (which closes the socket).
template <class Stream>
net::awaitable<void> stream_body(Impl& impl, Stream& stream, ApiResponse response,
                                 unsigned version) {
  if (!co_await write_chunked_head(impl, stream, static_cast<http::status>(response.status),
                                  response.content_type, version))
    co_return;
  auto& lowest = beast::get_lowest_layer(stream);
  for (;;) {
    // The client sends nothing meanwhile: readability means it closed.
    auto got = co_await (response.stream->next() ||
                         lowest.socket().async_wait(net::socket_base::wait_read, kTuple));
    if (got.index() == 1 || impl.stopped) co_return;
    const std::optional<std::string>& piece = std::get<0>(got);
    if (!piece) break;
    lowest.expires_after(impl.limits.write_timeout);
    auto [ec, n] = co_await net::async_write(stream, http::make_chunk(net::buffer(*piece)), kTuple);
    if (ec) co_return;
  }
  lowest.expires_after(impl.limits.write_timeout);
  co_await net::async_write(stream, http::make_chunk_last(), kTuple);
}

// Waits for the answer of a deferred response (ApiResponse::deferred);
// nullopt when the server stops first (its closer cancels `wakeup`). The
// callback may come after this connection is gone: it then finds no timer.
net::awaitable<std::optional<ApiResponse>> await_deferred(
    Impl& impl, net::steady_timer& wakeup,
    std::function<void(std::function<void(ApiResponse)>)> deferred) {
  struct Pending {
    std::optional<ApiResponse> answer;
    net::steady_timer* wakeup = nullptr;
  };
  auto pending = std::make_shared<Pending>();
  pending->wakeup = &wakeup;
  struct Detach {  // however this coroutine ends
    Pending& p;
    ~Detach() { p.wakeup = nullptr; }
  } detach{*pending};
  deferred([pending](ApiResponse answer) {
    pending->answer = std::move(answer);
    if (pending->wakeup) pending->wakeup->cancel();
  });
  // Single-threaded: the answer is set only while this coroutine is
  // suspended, and is checked before every wait, so no cancel() is lost.
  while (!pending->answer && !impl.stopped) {
    wakeup.expires_at(net::steady_timer::time_point::max());
    co_await wakeup.async_wait(kTuple);
  }
  co_return std::move(pending->answer);
}

enum class ReadOutcome { Request, Closed, Answered };

// Reads one request within the limits. On a limit it answers (413, 431,
// 400) and reports Answered; the caller then closes the connection.
template <class Stream>
net::awaitable<ReadOutcome> read_request(Impl& impl, Stream& stream, beast::flat_buffer& buffer,
                                         http::request_parser<http::string_body>& parser) {
  auto& lowest = beast::get_lowest_layer(stream);
  if (buffer.size() == 0) {
    // Idle between requests: the first byte must come within idle_timeout.
    lowest.expires_after(impl.limits.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
    if (ec) co_return ReadOutcome::Closed;
    buffer.commit(n);
  }
  parser.header_limit(static_cast<std::uint32_t>(impl.limits.max_header_bytes));
  parser.body_limit(impl.limits.max_body_bytes);
  // Usually the first read brought the whole request: parse it here, which
  // spares two composed reads (each completing through a post) and their
  // timer settings. Anything less than a complete request without
  // "Expect: 100-continue" continues below, where the parser left off.
  parser.eager(true);
  beast::error_code hec;
  hec.clear();
  buffer.consume(parser.put(buffer.data(), hec));
  if (hec == http::error::need_more) hec.clear();
  if (!hec && parser.is_done() && parser.get()[http::field::expect].empty())
    co_return ReadOutcome::Request;
  if (!hec) {
    lowest.expires_after(impl.limits.header_timeout);
    auto [rec, rn] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    hec = rec;
  }
  if (!hec && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    // curl and others wait for this before sending a larger body.
    http::response<http::empty_body> go_on{http::status::continue_, 11};
    lowest.expires_after(impl.limits.write_timeout);
    auto [wec, wn] = co_await http::async_write(stream, go_on, kTuple);
    hec = wec;
  }
  if (!hec) {
    lowest.expires_after(impl.limits.body_timeout);
    auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kTuple);
    hec = bec;
  }
  if (!hec) co_return ReadOutcome::Request;
  if (hec == http::error::body_limit) {
    co_await write_error_and_close(
        impl, stream, 413, status_json(request_entity_too_large(impl.limits.max_body_bytes)));
    co_return ReadOutcome::Answered;
  }
  if (hec == http::error::header_limit) {
    ApiError e;
    e.code = 431;
    e.reason = "RequestHeaderFieldsTooLarge";
    e.message =
        fmt::format("request header fields too large: limit is {}", impl.limits.max_header_bytes);
    co_await write_error_and_close(impl, stream, 431, status_json(e));
    co_return ReadOutcome::Answered;
  }
  if (hec.category() == http::make_error_code(http::error::bad_target).category() &&
      hec != http::error::end_of_stream && hec != http::error::partial_message) {
    co_await write_error_and_close(impl, stream, 400,
                                   status_json(bad_request("malformed HTTP request")));
    co_return ReadOutcome::Answered;
  }
  co_return ReadOutcome::Closed;  // timeout, reset, or the client went away
}

// The TLS handshake, bounded by handshake_timeout so that a client that
// opens a connection and stalls (or speaks plain HTTP) is cut off; then
// what the handshake proved about the client.
net::awaitable<std::optional<PeerInfo>> handshake(Impl& impl, TlsStream& stream) {
  beast::get_lowest_layer(stream).expires_after(impl.limits.handshake_timeout);
  auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server, kTuple);
  if (ec) co_return std::nullopt;
  PeerInfo peer;
  peer.tls = true;
  peer.client_certificate = verified_client_certificate(stream.native_handle());
  co_return peer;
}

template <class Stream>
net::awaitable<void> run_connection(std::shared_ptr<Impl> impl, Stream stream,
                                    std::shared_ptr<Authenticator> auth) {
  net::steady_timer wakeup(stream.get_executor());
  ConnectionGuard guard(*impl, [&stream, &wakeup] {
    beast::get_lowest_layer(stream).close();
    wakeup.cancel();
  });
  PeerInfo peer;
  if constexpr (kIsTls<Stream>) {
    auto established = co_await handshake(*impl, stream);
    if (!established || impl->stopped) {
      beast::get_lowest_layer(stream).close();
      co_return;
    }
    peer = std::move(*established);
  }
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    const ReadOutcome outcome = co_await read_request(*impl, stream, buffer, parser);
    if (outcome != ReadOutcome::Request || impl->stopped) break;
    http::request<http::string_body> req = parser.release();
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    const bool head = req.method() == http::verb::head;
    ApiRequest request = to_api_request(std::move(req));
    ApiResponse response = call_handler(*impl, auth, peer, request);
    if (response.deferred) {
      auto answer = co_await await_deferred(*impl, wakeup, std::move(response.deferred));
      if (!answer) break;  // the server is stopping
      response = std::move(*answer);
    }
    if (response.watch) {
      co_await stream_watch(*impl, stream, wakeup, std::move(response), version);
      break;
    }
    if (response.stream) {
      co_await stream_body(*impl, stream, std::move(response), version);
      break;
    }
    if (!co_await write_response(*impl, stream, std::move(response), version, keep_alive, head))
      break;
    if (!keep_alive) break;
  }
  // TLS: no close_notify exchange. Every response is delimited (a length or
  // the last chunk), so the client loses nothing, and waiting for its
  // close_notify would let it hold the connection open.
  beast::error_code ignored;
  beast::get_lowest_layer(stream).socket().shutdown(net::socket_base::shutdown_send, ignored);
  beast::get_lowest_layer(stream).close();
}

// `make_stream(socket)` wraps each accepted socket in the listener's stream.
template <class Stream, class Acceptor, class MakeStream>
net::awaitable<void> accept_loop(std::shared_ptr<Impl> impl, Acceptor& acceptor,
                                 std::shared_ptr<Authenticator> auth, MakeStream make_stream) {
  net::steady_timer backoff(impl->io);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (impl->stopped || ec == net::error::operation_aborted) co_return;
    if (ec) {
      // Out of file descriptors and the like: pause rather than spin.
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    if (impl->open >= impl->limits.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++impl->open;
    net::co_spawn(impl->io, run_connection<Stream>(impl, make_stream(std::move(socket)), auth),
                  net::detached);
  }
}

base::Status errno_status(std::string_view what, const std::string& path) {
  return base::Error(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

// A socket file left by an agent that is gone: nobody accepts on it.
bool stale_socket(net::io_context& io, const std::string& path) {
  unix_socket::socket probe(io);
  beast::error_code ec;
  probe.connect(unix_socket::endpoint(path), ec);
  return ec == net::error::connection_refused;
}

base::Status set_group(const std::string& path, const std::string& group) {
  std::vector<char> buf(16384);
  struct group entry {};
  struct group* found = nullptr;
  if (getgrnam_r(group.c_str(), &entry, buf.data(), buf.size(), &found) != 0 || found == nullptr)
    return base::Error(fmt::format("unknown group \"{}\" for {}", group, path));
  if (::chown(path.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0)
    return errno_status(fmt::format("cannot give group \"{}\" to", group), path);
  return {};
}

}  // namespace

HttpServer::HttpServer(net::io_context& io, Handler handler, HttpLimits limits)
    : impl_(std::make_shared<Impl>(io, std::move(handler), limits)) {}

HttpServer::~HttpServer() { stop(); }

base::Status HttpServer::listen_unix(const UnixListenerOptions& options) {
  const std::string& path = options.path;
  if (path.empty()) return base::Error("no unix socket path");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return base::Error(fmt::format("{} exists and is not a socket", path));
    if (!stale_socket(impl_->io, path))
      return base::Error(fmt::format("{} is in use by another process", path));
    if (::unlink(path.c_str()) != 0) return errno_status("cannot remove the stale socket", path);
  }
  std::error_code fs_ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, fs_ec);

  auto acceptor = std::make_unique<unix_socket::acceptor>(impl_->io);
  beast::error_code ec;
  acceptor->open(unix_socket(), ec);
  if (!ec) acceptor->bind(unix_socket::endpoint(path), ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return base::Error(fmt::format("cannot listen on {}: {}", path, ec.message()));
  // The file mode and group are what guard the socket.
  if (::chmod(path.c_str(), options.mode) != 0) return errno_status("cannot set the mode of", path);
  if (!options.group.empty())
    if (auto s = set_group(path, options.group); !s) return s;

  using UnixStream = beast::basic_stream<unix_socket>;
  net::co_spawn(
      impl_->io,
      accept_loop<UnixStream>(impl_, *acceptor, options.authenticator,
                              [](unix_socket::socket s) { return UnixStream(std::move(s)); }),
      net::detached);
  impl_->unix_acceptors.push_back(std::move(acceptor));
  impl_->unix_paths.push_back(path);
  return {};
}

base::Result<uint16_t> HttpServer::listen_tcp(const TcpListenerOptions& options) {
  if (options.tls && !options.authenticator)
    return base::Error("refusing to serve TLS without an authenticator");
  beast::error_code ec;
  const auto address = net::ip::make_address(options.address, ec);
  if (ec) return base::Error(fmt::format("invalid listen address \"{}\"", options.address));
  auto acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  const tcp::endpoint endpoint(address, options.port);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return base::Error(
        fmt::format("cannot listen on {}:{}: {}", options.address, options.port, ec.message()));
  const uint16_t port = acceptor->local_endpoint().port();
  if (options.tls) {
    // The lambda holds the context for as long as the listener accepts.
    auto make = [tls = options.tls](tcp::socket s) {
      return TlsStream(beast::tcp_stream(std::move(s)), tls->native());
    };
    net::co_spawn(impl_->io, accept_loop<TlsStream>(impl_, *acceptor, options.authenticator, make),
                  net::detached);
  } else {
    auto make = [](tcp::socket s) { return beast::tcp_stream(std::move(s)); };
    net::co_spawn(impl_->io,
                  accept_loop<beast::tcp_stream>(impl_, *acceptor, options.authenticator, make),
                  net::detached);
  }
  impl_->tcp_acceptors.push_back(std::move(acceptor));
  return port;
}

void HttpServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ignored;
  for (auto& a : impl_->tcp_acceptors) a->close(ignored);
  for (auto& a : impl_->unix_acceptors) a->close(ignored);
  // Closing ends each connection's coroutine, which erases its entry.
  std::vector<std::function<void()>> closers;
  for (auto& [_, close] : impl_->closers) closers.push_back(close);
  for (auto& close : closers) close();
  for (const auto& path : impl_->unix_paths) ::unlink(path.c_str());
}

size_t HttpServer::connections() const { return impl_->open; }

}  // namespace podagent::agent
