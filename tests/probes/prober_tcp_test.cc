// tcpSocket against 127.0.0.1: an open port, a closed one, the sandbox's
// socket.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "tests/probes/http_test_fixture.h"
#include "tests/probes/http_test_server.h"

namespace podagent::probes::testing {
namespace {

class TcpProberTest : public ProberTest {};

TEST_F(TcpProberTest, AListeningPortSucceeds) {
  base::UniqueFd listener = listen_socket();
  const ProbeOutcome out = run(tcp_socket(local_port(listener.get())));
  EXPECT_EQ(out.result, ProbeResult::Success) << out.message;
  EXPECT_TRUE(runtime_.socket_calls.empty());
}

TEST_F(TcpProberTest, AClosedPortFailsAsGoSaysIt) {
  const uint16_t port = closed_port();
  const ProbeOutcome out = run(tcp_socket(port));
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, fmt::format("dial tcp 127.0.0.1:{0}: connect: connection refused", port));
}

TEST_F(TcpProberTest, TheHostWinsOverThePodIp) {
  base::UniqueFd listener = listen_socket("127.0.0.3");
  target_.pod_ip = "127.0.0.1";
  model::Handler h = tcp_socket(local_port(listener.get()));
  h.tcp_socket->host = "127.0.0.3";
  EXPECT_EQ(run(h).result, ProbeResult::Success);
}

TEST_F(TcpProberTest, WithoutAPodIpItConnectsThroughTheSandboxsSocket) {
  LoopbackServer server([](int) {});
  target_.pod_ip.clear();
  target_.sandbox_id = base::SandboxId("sandbox-3");
  EXPECT_EQ(run(tcp_socket(server.port())).result, ProbeResult::Success);
  ASSERT_EQ(runtime_.socket_calls.size(), 1u);
  EXPECT_EQ(runtime_.socket_calls[0], base::SandboxId("sandbox-3"));
}

TEST_F(TcpProberTest, ANamedPortThatDoesNotExistFails) {
  model::Container container;
  container.name = "web";
  target_.container = &container;
  model::Handler h = tcp_socket(0);
  h.tcp_socket->port.value = std::string("http");
  const ProbeOutcome out = run(h);
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, "port http not found in container web");
}

}  // namespace
}  // namespace podagent::probes::testing
