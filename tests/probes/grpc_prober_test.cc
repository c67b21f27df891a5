// grpc against a minimal in-test h2c server: it reads the client's frames
// (preface, SETTINGS, HEADERS, DATA, and the ACK of its own SETTINGS) and
// answers as a gRPC server does, with a message and trailers, or with
// trailers only.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "tests/probes/http_test_fixture.h"
#include "tests/probes/http_test_server.h"

namespace podagent::probes::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  const auto n = static_cast<uint32_t>(payload.size());
  std::string out = {static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n),
                     static_cast<char>(type), static_cast<char>(flags), static_cast<char>(stream >> 24),
                     static_cast<char>(stream >> 16), static_cast<char>(stream >> 8), static_cast<char>(stream)};
  return out + std::string(payload);
}

// A literal header field without indexing, new name, short strings;
// `huffman_name` sets the H bit of the name (its bytes then unreadable to
// a client without a Huffman decoder).
std::string literal(std::string_view name, std::string_view value, bool huffman_name = false) {
  std::string out = {0x00, static_cast<char>(name.size() | (huffman_name ? 0x80 : 0))};
  out += name;
  out.push_back(static_cast<char>(value.size()));
  return out + std::string(value);
}

enum class Reply { Status, TrailersOnly, UnreadableTrailersOnly, Goaway };

struct GrpcSeen {
  std::mutex mutex;
  std::string header_block;
  std::string data;
  bool settings_acked = false;
};

// One connection of the h2c server.
void serve_grpc(int fd, Reply reply, int status, GrpcSeen& seen) {
  const int one = 1;  // the frames go out as written, not held back by Nagle
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char preface[24];
  if (!read_exact(fd, preface, sizeof preface) ||
      std::string_view(preface, 24) != "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    return;
  write_all(fd, frame(0x4, 0, 0, {}));  // our SETTINGS: none changed
  bool ended = false, acked = false;
  std::string block, data;
  while (!ended || !acked) {
    uint8_t h[9];
    if (!read_exact(fd, h, 9)) return;
    std::string payload((h[0] << 16) | (h[1] << 8) | h[2], '\0');
    if (!read_exact(fd, payload.data(), payload.size())) return;
    if (h[3] == 0x4 && (h[4] & 0x1)) acked = true;
    if (h[3] == 0x1) block += payload;
    if (h[3] == 0x0) data += payload;
    if ((h[3] == 0x0 || h[3] == 0x1) && (h[4] & 0x1)) ended = true;
  }
  {
    std::lock_guard lock(seen.mutex);
    seen.header_block = block;
    seen.data = data;
    seen.settings_acked = acked;
  }
  const std::string status_200(1, static_cast<char>(0x88));  // indexed: :status 200
  switch (reply) {
    case Reply::Status: {
      write_all(fd, frame(0x1, 0x4, 1, status_200 + literal("content-type", "application/grpc")));
      const std::string message = {0x08, static_cast<char>(status)};  // status = <status>
      write_all(fd, frame(0x0, 0, 1, std::string("\0\0\0\0\x02", 5) + message));
      write_all(fd, frame(0x1, 0x5, 1, literal("grpc-status", "0")));
      break;
    }
    case Reply::TrailersOnly:
      write_all(fd, frame(0x1, 0x5, 1, status_200 + literal("grpc-status", "12") +
                                           literal("grpc-message", "unknown service")));
      break;
    case Reply::UnreadableTrailersOnly:
      write_all(fd, frame(0x1, 0x5, 1, status_200 + literal("grpc-status", "5", true)));
      break;
    case Reply::Goaway:
      write_all(fd, frame(0x7, 0, 0, std::string(8, '\0')));
      break;
  }
  drain(fd);  // until the client closes: closing first could reset what it has yet to read
}

class GrpcProberTest : public ProberTest {
 protected:
  static model::Handler grpc(uint16_t port, std::optional<std::string> service = std::nullopt) {
    model::Handler h;
    h.grpc = model::GrpcAction{port, std::move(service)};
    return h;
  }
  ProbeOutcome probe_server(Reply reply, int status = 1, std::optional<std::string> service = std::nullopt) {
    LoopbackServer server([&](int fd) { serve_grpc(fd, reply, status, seen_); });
    return run(grpc(server.port(), std::move(service)));
  }
  GrpcSeen seen_;
};

TEST_F(GrpcProberTest, ServingSucceeds) {
  const ProbeOutcome out = probe_server(Reply::Status, 1, "my-svc");
  EXPECT_EQ(out.result, ProbeResult::Success) << out.message;
  std::lock_guard lock(seen_.mutex);
  EXPECT_TRUE(seen_.settings_acked);
  EXPECT_THAT(seen_.header_block, HasSubstr("/grpc.health.v1.Health/Check"));
  EXPECT_THAT(seen_.header_block, HasSubstr("application/grpc"));
  EXPECT_THAT(seen_.header_block, HasSubstr("trailers"));
  // The gRPC prefix (not compressed, length 8), then field 1 "my-svc".
  EXPECT_EQ(seen_.data, std::string("\0\0\0\0\x08\x0a\x06my-svc", 13));
}

TEST_F(GrpcProberTest, NoServiceSendsAnEmptyRequest) {
  EXPECT_EQ(probe_server(Reply::Status, 1).result, ProbeResult::Success);
  std::lock_guard lock(seen_.mutex);
  EXPECT_EQ(seen_.data, std::string(5, '\0'));
}

TEST_F(GrpcProberTest, NotServingFailsAsTheKubeletSaysIt) {
  ProbeOutcome out = probe_server(Reply::Status, 2);
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, "service unhealthy (responded with \"NOT_SERVING\")");
  out = probe_server(Reply::Status, 0);
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, "service unhealthy (responded with \"UNKNOWN\")");
}

TEST_F(GrpcProberTest, AnErrorStatusInTrailersFails) {
  const ProbeOutcome out = probe_server(Reply::TrailersOnly);
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message,
            "this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service");
}

TEST_F(GrpcProberTest, NoMessageAndAnUnreadableStatusFails) {
  const ProbeOutcome out = probe_server(Reply::UnreadableTrailersOnly);
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_THAT(out.message, HasSubstr("no readable grpc-status"));
}

TEST_F(GrpcProberTest, GoawayFails) {
  const ProbeOutcome out = probe_server(Reply::Goaway);
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_THAT(out.message, HasSubstr("GOAWAY"));
}

TEST_F(GrpcProberTest, ARefusedConnectionAndASilentServerFail) {
  const uint16_t port = closed_port();
  ProbeOutcome out = run(grpc(port));
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, fmt::format("error: failed to connect service at \"127.0.0.1:{0}\": dial tcp "
                                     "127.0.0.1:{0}: connect: connection refused",
                                     port));
  base::UniqueFd silent = listen_socket();
  out = run(grpc(local_port(silent.get())), 200ms);
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, "timeout: health rpc did not complete within 200ms");
}

TEST_F(GrpcProberTest, WithoutAPodIpItConnectsThroughTheSandboxsSocket) {
  target_.pod_ip.clear();
  target_.sandbox_id = base::SandboxId("sandbox-9");
  EXPECT_EQ(probe_server(Reply::Status, 1).result, ProbeResult::Success);
  EXPECT_EQ(runtime_.socket_calls.size(), 1u);
}

}  // namespace
}  // namespace podagent::probes::testing
