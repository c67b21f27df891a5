// httpGet against real servers on 127.0.0.1: the kubelet's request, its
// verdicts, redirects, the body cap, timeouts, HTTPS, named ports and the
// sandbox's network namespace.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "tests/probes/http_test_fixture.h"
#include "tests/probes/http_test_server.h"

namespace podagent::probes::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string response(int status, std::string_view extra_headers = {}, std::string_view body = {}) {
  return fmt::format("HTTP/1.1 {} X\r\nContent-Length: {}\r\n{}\r\n{}", status, body.size(), extra_headers, body);
}

// Answers every request with `reply(request head)`, recording what it saw.
LoopbackServer::Handler answering(Seen& seen, std::function<std::string(const std::string&)> reply) {
  return [&seen, reply = std::move(reply)](int fd) {
    std::string head = read_request_head(fd);
    seen.add(head, peer_address(fd));
    write_all(fd, reply(head));
  };
}

class HttpProberTest : public ProberTest {};

TEST_F(HttpProberTest, SendsTheKubeletsRequestAndSucceedsOn200) {
  Seen seen;
  LoopbackServer server(answering(seen, [](const std::string&) { return response(200, {}, "ok"); }));
  model::Handler h = http_get(server.port(), "/healthz?full=1");
  h.http_get->http_headers = {{"X-Custom", "yes"}};
  const ProbeOutcome out = run(h);
  EXPECT_EQ(out.result, ProbeResult::Success) << out.message;
  auto requests = seen.all();
  ASSERT_EQ(requests.size(), 1u);
  const std::string r = lower(requests[0]);
  EXPECT_THAT(r, StartsWith("get /healthz?full=1 http/1.1\r\n"));
  EXPECT_THAT(r, HasSubstr(fmt::format("\r\nhost: 127.0.0.1:{}\r\n", server.port())));
  EXPECT_THAT(r, HasSubstr("\r\nuser-agent: kube-probe/1.32\r\n"));
  EXPECT_THAT(r, HasSubstr("\r\naccept: */*\r\n"));
  EXPECT_THAT(r, HasSubstr("\r\nconnection: close\r\n"));
  EXPECT_THAT(r, HasSubstr("\r\nx-custom: yes\r\n"));
  EXPECT_TRUE(runtime_.socket_calls.empty()) << "a pod IP needs no socket in the sandbox";
}

TEST_F(HttpProberTest, AProbeHeaderReplacesTheDefaultOfItsName) {
  Seen seen;
  LoopbackServer server(answering(seen, [](const std::string&) { return response(204); }));
  model::Handler h = http_get(server.port(), "healthz");
  h.http_get->http_headers = {{"user-agent", "mine/1"}, {"Host", "example.test"}, {"Accept", ""}};
  EXPECT_EQ(run(h).result, ProbeResult::Success);
  auto requests = seen.all();
  ASSERT_EQ(requests.size(), 1u);
  const std::string r = lower(requests[0]);
  EXPECT_THAT(r, StartsWith("get /healthz http/1.1\r\n"));
  EXPECT_THAT(r, HasSubstr("\r\nuser-agent: mine/1\r\n"));
  EXPECT_THAT(r, Not(HasSubstr("kube-probe")));
  EXPECT_THAT(r, HasSubstr("\r\nhost: example.test\r\n"));
  EXPECT_THAT(r, Not(HasSubstr("127.0.0.1")));
  EXPECT_THAT(r, Not(HasSubstr("accept:"))) << "an empty Accept removes it, as in the kubelet";
}

TEST_F(HttpProberTest, StatusesFrom400FailWithTheKubeletsMessage) {
  for (int status : {404, 500, 503}) {
    Seen seen;
    LoopbackServer server(answering(seen, [status](const std::string&) { return response(status); }));
    const ProbeOutcome out = run(http_get(server.port()));
    EXPECT_EQ(out.result, ProbeResult::Failure);
    EXPECT_EQ(out.message, fmt::format("HTTP probe failed with statuscode: {}", status));
  }
}

TEST_F(HttpProberTest, ARedirectToTheSameHostIsFollowed) {
  Seen seen;
  LoopbackServer other(answering(seen, [](const std::string&) { return response(200); }));
  LoopbackServer server(answering(seen, [&](const std::string& head) {
    if (head.starts_with("GET /start ")) return response(302, "Location: next?x=1\r\n");
    // Another port of the same host, absolute: still followed.
    return response(301, fmt::format("Location: http://127.0.0.1:{}/final\r\n", other.port()));
  }));
  const ProbeOutcome out = run(http_get(server.port(), "/start"));
  EXPECT_EQ(out.result, ProbeResult::Success) << out.message;
  EXPECT_EQ(out.message, "");
  auto requests = seen.all();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_THAT(requests[0], StartsWith("GET /start "));
  EXPECT_THAT(requests[1], StartsWith("GET /next?x=1 "));
  EXPECT_THAT(requests[2], StartsWith("GET /final "));
  EXPECT_THAT(lower(requests[2]), HasSubstr("user-agent: kube-probe/1.32"));
}

TEST_F(HttpProberTest, ARedirectToAnotherHostIsASuccessWithAWarning) {
  Seen seen;
  LoopbackServer server(answering(seen, [](const std::string&) {
    return response(302, "Location: http://elsewhere.invalid/\r\n", "moved");
  }));
  const ProbeOutcome out = run(http_get(server.port()));
  EXPECT_EQ(out.result, ProbeResult::Success);
  EXPECT_EQ(out.message, "Probe terminated redirects, Response body: moved");
  EXPECT_EQ(seen.all().size(), 1u);
}

TEST_F(HttpProberTest, RedirectsStopAfterTen) {
  Seen seen;
  LoopbackServer server(answering(seen, [](const std::string&) { return response(307, "Location: /again\r\n"); }));
  const ProbeOutcome out = run(http_get(server.port()));
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message,
            fmt::format("Get \"http://127.0.0.1:{}/again\": stopped after 10 redirects", server.port()));
  EXPECT_EQ(seen.all().size(), 11u);
}

TEST_F(HttpProberTest, ABodyLargerThan10KiBStillSucceeds) {
  Seen seen;
  const std::string body(200 * 1024, 'x');
  LoopbackServer server(answering(seen, [&](const std::string&) { return response(200, {}, body); }));
  EXPECT_EQ(run(http_get(server.port())).result, ProbeResult::Success);
  // Without a length too: the body then ends when the server closes.
  LoopbackServer unsized(answering(seen, [&](const std::string&) { return "HTTP/1.1 200 OK\r\n\r\n" + body; }));
  EXPECT_EQ(run(http_get(unsized.port())).result, ProbeResult::Success);
}

TEST_F(HttpProberTest, AServerThatNeverAnswersFailsAtTheTimeout) {
  // Connections are queued in the backlog and never accepted nor answered.
  base::UniqueFd silent = listen_socket();
  const uint16_t port = local_port(silent.get());
  const auto started = std::chrono::steady_clock::now();
  const ProbeOutcome out = run(http_get(port), 200ms);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, fmt::format("Get \"http://127.0.0.1:{}/\": context deadline exceeded "
                                     "(Client.Timeout exceeded while awaiting headers)",
                                     port));
}

TEST_F(HttpProberTest, ARefusedConnectionFailsAsGoSaysIt) {
  const uint16_t port = closed_port();
  const ProbeOutcome out = run(http_get(port));
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, fmt::format("Get \"http://127.0.0.1:{0}/\": dial tcp 127.0.0.1:{0}: connect: "
                                     "connection refused",
                                     port));
}

TEST_F(HttpProberTest, HttpsDoesNotVerifyTheCertificateAndSendsSni) {
  auto ctx = self_signed_server_context();
  Seen seen;
  LoopbackServer server([&](int fd) {
    SSL* ssl = SSL_new(ctx.get());
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      std::string head;
      char c;
      while (head.find("\r\n\r\n") == std::string::npos && SSL_read(ssl, &c, 1) == 1) head.push_back(c);
      const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
      {
        std::lock_guard lock(seen.mutex);
        seen.server_name = sni ? sni : "";
      }
      seen.add(head, peer_address(fd));
      const std::string reply = response(200, {}, "secure");
      SSL_write(ssl, reply.data(), static_cast<int>(reply.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
  });
  // "localhost": a name, so that SNI carries it (it may resolve to ::1
  // first, where nothing listens; 127.0.0.1 is tried next).
  model::Handler h = http_get(server.port(), "/tls", "HTTPS");
  h.http_get->host = "localhost";
  const ProbeOutcome out = run(h);
  EXPECT_EQ(out.result, ProbeResult::Success) << out.message;
  auto requests = seen.all();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(requests[0], StartsWith("GET /tls HTTP/1.1\r\n"));
  std::lock_guard lock(seen.mutex);
  EXPECT_EQ(seen.server_name, "localhost");
}

TEST_F(HttpProberTest, ANamedPortResolvesThroughTheContainersPorts) {
  Seen seen;
  LoopbackServer server(answering(seen, [](const std::string&) { return response(200); }));
  model::Container container;
  container.name = "app";
  container.ports = {{"metrics", 1, 0, "TCP", ""}, {"http", server.port(), 0, "TCP", ""}};
  target_.container = &container;
  model::Handler h = http_get(0);
  h.http_get->port.value = std::string("http");
  EXPECT_EQ(run(h).result, ProbeResult::Success);
  EXPECT_EQ(seen.all().size(), 1u);

  h.http_get->port.value = std::string("nope");
  const ProbeOutcome out = run(h);
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, "port nope not found in container app");
}

TEST_F(HttpProberTest, WithoutAPodIpItConnectsThroughTheSandboxsSocket) {
  Seen seen;
  LoopbackServer server(answering(seen, [](const std::string&) { return response(200); }));
  target_.pod_ip.clear();
  target_.sandbox_id = base::SandboxId("sandbox-7");
  runtime_.source = "127.0.0.2";  // marks the runtime's socket
  const ProbeOutcome out = run(http_get(server.port()));
  EXPECT_EQ(out.result, ProbeResult::Success) << out.message;
  ASSERT_EQ(runtime_.socket_calls.size(), 1u);
  EXPECT_EQ(runtime_.socket_calls[0], base::SandboxId("sandbox-7"));
  std::lock_guard lock(seen.mutex);
  ASSERT_EQ(seen.peers.size(), 1u);
  EXPECT_EQ(seen.peers[0], "127.0.0.2");
  EXPECT_THAT(seen.requests[0], HasSubstr(fmt::format("Host: 127.0.0.1:{}\r\n", server.port())));
}

TEST_F(HttpProberTest, AHandlerWithNothingSetFails) {
  EXPECT_EQ(run(model::Handler{}).result, ProbeResult::Failure);
}

}  // namespace
}  // namespace podagent::probes::testing
