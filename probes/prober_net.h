#pragma once

// How the network probers (httpGet, tcpSocket, grpc) reach a container:
// the port, the address, and a connection within a deadline. Internal to
// probes/ (it includes Beast).

#include <boost/beast/core/tcp_stream.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "model/probe.h"
#include "probes/prober.h"

namespace podagent::probes {

// The port a handler names: a number (1-65535), or the name of one of the
// container's ports. Errors say which name or number is wrong.
base::Result<uint16_t> resolve_port(const model::IntOrString& port, const model::Container* container);

// Where a connection goes.
struct DialTarget {
  std::string host;  // an IP literal or a name; "127.0.0.1" for in_sandbox
  uint16_t port = 0;
  // 127.0.0.1 inside the sandbox's network namespace: the socket comes
  // from Runtime::open_socket_in_sandbox.
  bool in_sandbox = false;
};

// `host` when set, else the pod's IP, else 127.0.0.1 in the sandbox.
DialTarget dial_target(const ProbeTarget& target, const std::string& host, uint16_t port);

// "host:port", with brackets around an IPv6 literal (Go's JoinHostPort).
std::string join_host_port(const std::string& host, uint16_t port);

// Connects `stream`, whose expiry the caller has set (beast::tcp_stream
// closes the socket and fails the operation with error::timeout at it).
// nullopt on success; else Go's net.Dial error text: "dial tcp
// 127.0.0.1:81: connect: connection refused", "dial tcp 10.0.0.1:81: i/o
// timeout". A name is resolved first (asynchronously).
runtime::Task<std::optional<std::string>> dial(boost::beast::tcp_stream& stream, runtime::Runtime& runtime,
                                               const ProbeTarget& target, const DialTarget& to);

// An errno-style message as Go prints it ("connection refused").
std::string go_error_text(const boost::system::error_code& ec);

}  // namespace podagent::probes
