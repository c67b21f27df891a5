// Reaching a container for the network probers: ports, addresses, dialing.

#include "probes/prober_net.h"

#include <fmt/format.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <cctype>

namespace podagent::probes {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using net::ip::tcp;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);

}  // namespace

base::Result<uint16_t> resolve_port(const model::IntOrString& port, const model::Container* container) {
  int64_t number = 0;
  if (const std::string* name = port.string_value()) {
    if (container) {
      for (const model::ContainerPort& p : container->ports) {
        if (p.name == *name) number = p.container_port;
      }
    }
    if (number == 0)
      return base::Error(fmt::format("port {} not found in container {}", *name,
                                     container ? container->name : std::string("(none)")));
  } else {
    number = port.int_value();
  }
  if (number < 1 || number > 65535) return base::Error(fmt::format("invalid port number: {}", number));
  return static_cast<uint16_t>(number);
}

DialTarget dial_target(const ProbeTarget& target, const std::string& host, uint16_t port) {
  if (!host.empty()) return {host, port, false};
  if (!target.pod_ip.empty()) return {target.pod_ip, port, false};
  return {"127.0.0.1", port, true};
}

std::string join_host_port(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::string go_error_text(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return "i/o timeout";
  if (ec == net::error::eof) return "EOF";
  std::string text = ec.message();
  // Go prints errno texts in lower case ("connection refused").
  if (!text.empty() && ec.category() == boost::system::system_category())
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

runtime::Task<std::optional<std::string>> dial(beast::tcp_stream& stream, runtime::Runtime& runtime,
                                               const ProbeTarget& target, const DialTarget& to) {
  const std::string address = join_host_port(to.host, to.port);
  boost::system::error_code ec;
  const net::ip::address ip = net::ip::make_address(to.host, ec);
  if (!ec) {
    if (to.in_sandbox) {
      // The socket is made in the pod's network namespace; connecting it
      // to 127.0.0.1 reaches the pod's loopback.
      auto fd = runtime.open_socket_in_sandbox(target.sandbox_id, ip.is_v6() ? AF_INET6 : AF_INET,
                                               SOCK_STREAM);
      if (!fd)
        co_return fmt::format("dial tcp {}: socket in sandbox {}: {}", address, target.sandbox_id.str(),
                              fd.error().message);
      stream.socket().assign(ip.is_v6() ? tcp::v6() : tcp::v4(), fd->release(), ec);
      if (ec) co_return fmt::format("dial tcp {}: {}", address, go_error_text(ec));
    }
    auto [connect_ec] = co_await stream.async_connect(tcp::endpoint(ip, to.port), kTuple);
    if (!connect_ec) co_return std::nullopt;
    if (connect_ec == beast::error::timeout) co_return fmt::format("dial tcp {}: i/o timeout", address);
    co_return fmt::format("dial tcp {}: connect: {}", address, go_error_text(connect_ec));
  }
  // A name: resolved by Asio's resolver (getaddrinfo on Asio's own
  // thread), then each address in turn within the same deadline.
  tcp::resolver resolver(stream.get_executor());
  auto [resolve_ec, results] = co_await resolver.async_resolve(to.host, std::to_string(to.port), kTuple);
  if (resolve_ec) co_return fmt::format("dial tcp: lookup {}: {}", to.host, go_error_text(resolve_ec));
  auto [connect_ec, endpoint] = co_await stream.async_connect(results, kTuple);
  (void)endpoint;
  if (!connect_ec) co_return std::nullopt;
  if (connect_ec == beast::error::timeout) co_return fmt::format("dial tcp {}: i/o timeout", address);
  co_return fmt::format("dial tcp {}: connect: {}", address, go_error_text(connect_ec));
}

}  // namespace podagent::probes
