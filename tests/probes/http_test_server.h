#pragma once

// Loopback servers for the probers' tests: plain blocking sockets served on
// a thread of their own, so that the prober under test runs on the test's
// io_context as it runs in the agent.

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "probes/prober.h"

namespace podagent::probes::testing {

// A listening TCP socket on `address`:0 (bound, listening, never accepted
// unless a LoopbackServer takes it).
base::UniqueFd listen_socket(const char* address = "127.0.0.1");
uint16_t local_port(int fd);
// A port on 127.0.0.1 where nothing listens (bound then closed).
uint16_t closed_port();

// Accepts connections on 127.0.0.1 and runs `handler` on each, one at a
// time, on its own thread. Destruction stops accepting and joins.
class LoopbackServer {
 public:
  using Handler = std::function<void(int fd)>;
  explicit LoopbackServer(Handler handler);
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;
  uint16_t port() const { return port_; }

 private:
  base::UniqueFd listener_;
  uint16_t port_ = 0;
  std::thread thread_;
};

// Blocking I/O helpers for handlers. send never raises SIGPIPE.
bool write_all(int fd, std::string_view data);
// Reads up to and including the blank line that ends a request's header.
std::string read_request_head(int fd);
// Reads exactly n bytes; false on EOF or error.
bool read_exact(int fd, void* data, size_t n);
// Reads until the peer closes (so that closing does not reset what the
// peer has yet to read).
void drain(int fd);
// The peer's address ("127.0.0.2").
std::string peer_address(int fd);

// What a server saw, shared with its thread.
struct Seen {
  std::mutex mutex;
  std::vector<std::string> requests;  // request heads, in order
  std::vector<std::string> peers;     // the peer address of each
  std::string server_name;            // TLS SNI of the last connection
  void add(std::string request, std::string peer) {
    std::lock_guard lock(mutex);
    requests.push_back(std::move(request));
    peers.push_back(std::move(peer));
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex);
    return requests;
  }
};

// A server context with a fresh self-signed certificate for "localhost".
struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
std::unique_ptr<SSL_CTX, SslCtxDeleter> self_signed_server_context();

}  // namespace podagent::probes::testing
