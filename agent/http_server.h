#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/api_errors.h"
#include "agent/api_routes.h"
#include "agent/tls_context.h"
#include "base/result.h"

namespace boost::asio {
class io_context;
}

namespace podagent::agent {

// What the transport established about the caller of one connection.
struct PeerInfo {
  bool tls = false;
  // The client certificate, verified against the listener's client CA.
  std::optional<ClientCertificate> client_certificate;
};

// Decides, per listener, whether a request may be served and as whom.
// Called on the io_context thread after the request is read and before it
// is handled. It may set request.read_only; returning an error answers the
// request with it (401, 403) instead of handling it.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual std::optional<ApiError> authenticate(ApiRequest& request) = 0;
  // The server calls this one; an Authenticator that needs the connection's
  // certificate overrides it.
  virtual std::optional<ApiError> authenticate_peer(ApiRequest& request, const PeerInfo& peer) {
    (void)peer;
    return authenticate(request);
  }
};

// Bounds that keep a misbehaving client from exhausting the agent.
struct HttpLimits {
  size_t max_body_bytes = 4 * 1024 * 1024;  // larger: 413, and the connection is closed
  size_t max_header_bytes = 8 * 1024;       // request line and fields; larger: 431
  size_t max_connections = 256;             // further connections are closed at once
  // Waiting for the first byte of a request on an open connection.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  // From accepting a TLS connection to the end of its handshake.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  // From a request's first byte to the end of its header, and for its body.
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds body_timeout{std::chrono::seconds(30)};
  // Writing one response, or one watch event.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
};

struct UnixListenerOptions {
  std::string path;                              // e.g. /run/podagent/podagent.sock
  unsigned mode = 0660;                          // the socket file's permission bits
  std::string group;                             // owning group; empty: the agent's
  std::shared_ptr<Authenticator> authenticator;  // null: every caller may read and write
};

// The agent's TCP listener always has `tls` and an `authenticator` (see
// prepare_tcp_security in agent/auth.h, which refuses a configuration
// without authentication); listen_tcp refuses TLS without an
// authenticator. Plain HTTP (tls null) is kept for tests of the HTTP layer.
struct TcpListenerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port; listen_tcp reports the one bound
  std::shared_ptr<Authenticator> authenticator;
  std::shared_ptr<TlsContext> tls;  // null: plain HTTP
};

// The HTTP/1.1 server of the REST API (Boost.Beast, C++20 coroutines).
//
// Each connection is one coroutine: (TLS: a handshake within
// handshake_timeout, then) a loop of read a request (within the
// limits), authenticate, handle, write the response, until the client
// closes, a limit or timeout is hit, or the server stops. A response that
// carries a watch is streamed with chunked transfer encoding, one JSON
// event per chunk, written as soon as the store queues it; the connection
// closes when the watch ends.
//
// Everything runs on the io_context's thread; the handler is called there
// and must not block for long. The server keeps its shared state alive
// until the last connection has finished, so it may be destroyed while
// connections are still winding down (they are closed by stop()).
class HttpServer {
 public:
  using Handler = std::function<ApiResponse(const ApiRequest&)>;

  HttpServer(boost::asio::io_context& io, Handler handler, HttpLimits limits = {});
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on a unix socket: a stale socket file (nobody accepting) is
  // replaced; any other file there, or a live socket, is an error. The
  // parent directory is created when missing.
  base::Status listen_unix(const UnixListenerOptions& options);
  // Listens on TCP; returns the bound port.
  base::Result<uint16_t> listen_tcp(const TcpListenerOptions& options);

  // Stops accepting, closes every connection (ending watches) and removes
  // the unix socket files. Idempotent.
  void stop();

  // Connections currently open.
  size_t connections() const;

  // The server's state, shared with its connections (http_server.cc).
  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace podagent::agent
