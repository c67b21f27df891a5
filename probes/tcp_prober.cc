// tcpSocket: as the kubelet's DoTCPProbe, a connection made within the
// timeout and closed at once; nothing is sent.

#include <chrono>

#include "probes/prober_net.h"
#include "probes/probers.h"

namespace podagent::probes {

runtime::Task<ProbeOutcome> probe_tcp(runtime::Runtime& runtime, const ProbeTarget& target,
                                      const model::TcpSocketAction& action,
                                      std::chrono::milliseconds timeout) {
  auto port = resolve_port(action.port, target.container);
  if (!port) co_return ProbeOutcome{ProbeResult::Failure, port.error().message};
  boost::beast::tcp_stream stream(co_await boost::asio::this_coro::executor);
  stream.expires_after(timeout);
  auto failed = co_await dial(stream, runtime, target, dial_target(target, action.host, *port));
  if (failed) co_return ProbeOutcome{ProbeResult::Failure, std::move(*failed)};
  boost::system::error_code ignored;
  stream.socket().close(ignored);
  co_return ProbeOutcome{ProbeResult::Success, {}};
}

}  // namespace podagent::probes
