// Who may call the API on TCP: TLS, bearer tokens, client certificates and
// roles, over real loopback sockets. The server's io_context runs on its own
// thread; the client is Asio's SSL stream with Beast, on the test's thread.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "agent/api_routes.h"
#include "agent/auth.h"
#include "agent/http_server.h"
#include "agent/tls_context.h"
#include "tests/agent/io_thread.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::agent {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using net::ip::tcp;

// A guard against a hang, not a wait: the client gives up after it.
constexpr auto kSafety = std::chrono::seconds(20);
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

constexpr std::string_view kTokens =
    "# token,user,uid,groups\n"
    "admin-token-0123456789,admin,1,\"podagent:admin\"\n"
    "\n"
    "reader-token-0123456789,reader,2,\"system:authenticated,podagent:read-only\"\n";

constexpr std::string_view kPodJson =
    R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},)"
    R"("spec":{"containers":[{"name":"c","image":"busybox"}]}})";

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct FakeSink : PodSink {
  void create(const model::Pod& pod) override { created.push_back(pod.metadata.name); }
  void replace(const model::Pod&) override {}
  void remove(const base::PodUid&, int64_t) override {}
  std::vector<std::string> created;
};

struct Call {
  std::string method = "GET";
  std::string target = "/api/v1/pods";
  std::string token;
  std::optional<CertificatePaths> client_cert;
  std::string body;
  std::string verify_name = "localhost";  // the name the server's certificate must carry
};

struct Reply {
  bool handshake_ok = false;
  std::string error;  // the first failure, if any
  int status = 0;     // 0: no response
  std::string body;
};

// One HTTPS request, trusting `ca` and checking the server's name.
Reply https(uint16_t port, const fs::path& ca, const Call& call) {
  net::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(ca.string());
  ctx.set_verify_mode(ssl::verify_peer);
  if (call.client_cert) {
    ctx.use_certificate_chain_file(call.client_cert->cert.string());
    ctx.use_private_key_file(call.client_cert->key.string(), ssl::context::pem);
  }
  Reply reply;
  auto run = [&]() -> net::awaitable<void> {
    beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
    stream.set_verify_callback(ssl::host_name_verification(call.verify_name));
    auto [cec] = co_await beast::get_lowest_layer(stream).async_connect(
        tcp::endpoint(net::ip::address_v4::loopback(), port), kTuple);
    if (cec) {
      reply.error = "connect: " + cec.message();
      co_return;
    }
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, kTuple);
    if (hec) {
      reply.error = "handshake: " + hec.message();
      co_return;
    }
    reply.handshake_ok = true;
    http::request<http::string_body> req{http::string_to_verb(call.method), call.target, 11};
    req.set(http::field::host, "localhost");
    if (!call.token.empty()) req.set(http::field::authorization, "Bearer " + call.token);
    if (!call.body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = call.body;
    req.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
    if (wec) {
      reply.error = "write: " + wec.message();
      co_return;
    }
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    auto [rec, rn] = co_await http::async_read(stream, buffer, res, kTuple);
    if (rec) {
      reply.error = "read: " + rec.message();
      co_return;
    }
    reply.status = res.result_int();
    reply.body = res.body();
  };
  net::co_spawn(io, run(), net::detached);
  io.run_for(kSafety);
  return reply;
}

// Plain text to the port; returns all the server sent until it closed.
std::string plain_exchange(uint16_t port, std::string_view request) {
  net::io_context io;
  std::string received;
  auto run = [&]() -> net::awaitable<void> {
    tcp::socket socket(io);
    auto [cec] =
        co_await socket.async_connect(tcp::endpoint(net::ip::address_v4::loopback(), port), kTuple);
    if (cec) co_return;
    if (!request.empty()) co_await net::async_write(socket, net::buffer(request), kTuple);
    for (;;) {
      char chunk[1024];
      auto [ec, n] = co_await socket.async_read_some(net::buffer(chunk), kTuple);
      received.append(chunk, n);
      if (ec) {
        if (ec == net::error::eof || ec == net::error::connection_reset) received += "<closed>";
        co_return;
      }
    }
  };
  net::co_spawn(io, run(), net::detached);
  io.run_for(kSafety);
  return received;
}

class TlsAuthTest : public ::testing::Test {
 protected:
  TlsAuthTest() : routes_(store_, sink_, persistence_) {
    std::string tmpl = (fs::temp_directory_path() / "podagent-tls-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    std::ofstream(dir_ / "tokens.csv") << kTokens;
    // A client CA with an admin, a reader and a user with no role; and a
    // second CA nobody configured.
    make_ca("ca");
    make_ca("other-ca");
    alice_ = make_client("ca", "alice", {"podagent:admin"});
    bob_ = make_client("ca", "bob", {"podagent:read-only"});
    carol_ = make_client("ca", "carol", {"developers"});
    mallory_ = make_client("other-ca", "mallory", {"podagent:admin"});
  }

  ~TlsAuthTest() override {
    if (server_) io_thread_.run([&] { server_->stop(); });
    io_thread_.join();
    server_.reset();
    fs::remove_all(dir_);
  }

  CertificatePaths paths(const std::string& name) const {
    return {dir_ / (name + ".crt"), dir_ / (name + ".key")};
  }

  void make_ca(const std::string& name) {
    CertificateRequest r;
    r.common_name = name;
    r.is_ca = true;
    ASSERT_TRUE(generate_certificate(r, paths(name)).ok());
  }

  CertificatePaths make_client(const std::string& ca, const std::string& user,
                               std::vector<std::string> groups) {
    CertificateRequest r;
    r.common_name = user;
    r.organizations = std::move(groups);
    r.client_auth = true;
    r.signer = paths(ca);
    auto s = generate_certificate(r, paths(user));
    EXPECT_TRUE(s.ok()) << s.error().message;
    return paths(user);
  }

  TcpSecurityOptions security_options() const {
    return {.client_ca_file = paths("ca").cert.string(),
            .tokens_file = (dir_ / "tokens.csv").string()};
  }

  // Prepares the listener's security as the composer does and starts
  // serving TLS on a free port.
  void start(HttpLimits limits = {}) {
    auto security = prepare_tcp_security(security_options(), dir_ / "state", "node-a");
    ASSERT_TRUE(security.ok()) << security.error().to_string();
    serving_ = security->serving;
    server_ = std::make_unique<HttpServer>(
        io_, [this](const ApiRequest& r) { return routes_.handle(r); }, limits);
    io_thread_.start();
    io_thread_.run([&] {
      auto p =
          server_->listen_tcp({.authenticator = security->authenticator, .tls = security->tls});
      ASSERT_TRUE(p.ok()) << p.error().message;
      port_ = *p;
    });
  }

  Reply call(Call c) { return https(port_, serving_.cert, c); }

  size_t stored_pods() {
    size_t n = 0;
    io_thread_.run([&] { n = store_.size(); });
    return n;
  }

  testing::IoThread io_thread_;
  net::io_context& io_ = io_thread_.io();
  PodStore store_;
  FakeSink sink_;
  MemoryPodPersistence persistence_;
  ApiRoutes routes_;
  std::unique_ptr<HttpServer> server_;
  fs::path dir_;
  uint16_t port_ = 0;
  CertificatePaths serving_;
  CertificatePaths alice_, bob_, carol_, mallory_;
};

Call post_pod(std::string token = {}, std::optional<CertificatePaths> cert = {}) {
  return {.method = "POST",
          .target = "/api/v1/namespaces/default/pods",
          .token = std::move(token),
          .client_cert = std::move(cert),
          .body = std::string(kPodJson)};
}

TEST_F(TlsAuthTest, NoTokenIs401Status) {
  start();
  Reply r = call({});
  ASSERT_TRUE(r.handshake_ok) << r.error;
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find(R"("kind":"Status")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("reason":"Unauthorized")"), std::string::npos) << r.body;
}

TEST_F(TlsAuthTest, BadTokenIs401) {
  start();
  EXPECT_EQ(call({.token = "admin-token-012345678"}).status, 401);    // a prefix
  EXPECT_EQ(call({.token = "admin-token-01234567890"}).status, 401);  // longer
  EXPECT_EQ(call({.token = "nonsense"}).status, 401);
}

TEST_F(TlsAuthTest, ReadOnlyTokenReadsButCannotWrite) {
  start();
  Reply list = call({.token = "reader-token-0123456789"});
  EXPECT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find(R"("kind":"PodList")"), std::string::npos) << list.body;

  Reply create = call(post_pod("reader-token-0123456789"));
  EXPECT_EQ(create.status, 403) << create.body;
  EXPECT_NE(create.body.find(R"("reason":"Forbidden")"), std::string::npos) << create.body;
  EXPECT_NE(create.body.find("reader"), std::string::npos) << create.body;
  EXPECT_EQ(call({.method = "DELETE",
                  .target = "/api/v1/namespaces/default/pods/web",
                  .token = "reader-token-0123456789"})
                .status,
            403);
  EXPECT_EQ(call({.target = "/api/v1/namespaces/default/pods/web/log",
                  .token = "reader-token-0123456789"})
                .status,
            403);
  EXPECT_EQ(call({.method = "POST",
                  .target = "/api/v1/namespaces/default/pods/web/exec?command=sh",
                  .token = "reader-token-0123456789"})
                .status,
            403);
  EXPECT_EQ(stored_pods(), 0u);
  EXPECT_TRUE(sink_.created.empty());
}

TEST_F(TlsAuthTest, AdminTokenCreates) {
  start();
  Reply r = call(post_pod("admin-token-0123456789"));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find(R"("name":"web")"), std::string::npos) << r.body;
  EXPECT_EQ(stored_pods(), 1u);
  EXPECT_EQ(sink_.created, std::vector<std::string>{"web"});
}

TEST_F(TlsAuthTest, ClientCertificateFromTheCaIsAccepted) {
  start();
  Reply r = call(post_pod({}, alice_));
  EXPECT_EQ(r.status, 201) << r.error << r.body;
  EXPECT_EQ(stored_pods(), 1u);
  // The certificate's O decides the role: bob reads, carol may do nothing.
  EXPECT_EQ(call({.client_cert = bob_}).status, 200);
  EXPECT_EQ(call(post_pod({}, bob_)).status, 403);
  Reply carol = call({.client_cert = carol_});
  EXPECT_EQ(carol.status, 403);
  EXPECT_NE(carol.body.find("carol"), std::string::npos) << carol.body;
}

TEST_F(TlsAuthTest, ClientCertificateFromAnotherCaIsRejected) {
  start();
  Reply r = call(post_pod({}, mallory_));
  // TLS 1.3 lets the client finish its side of the handshake before the
  // server checks its certificate; the server then aborts the connection.
  EXPECT_TRUE(r.status == 0 || r.status == 401) << r.status << " " << r.body;
  EXPECT_FALSE(r.error.empty());
  EXPECT_NE(r.error.find("unknown ca"), std::string::npos) << r.error;
  EXPECT_EQ(stored_pods(), 0u);
}

TEST_F(TlsAuthTest, PlainHttpToTheTlsPortFails) {
  start();
  const std::string got = plain_exchange(port_,
                                         "GET /api/v1/pods HTTP/1.1\r\nHost: x\r\n"
                                         "Authorization: Bearer admin-token-0123456789\r\n\r\n");
  EXPECT_EQ(got.find("HTTP/1."), std::string::npos) << got;
  EXPECT_EQ(got.find("PodList"), std::string::npos) << got;
  EXPECT_NE(got.find("<closed>"), std::string::npos) << got;
}

TEST_F(TlsAuthTest, SlowHandshakeIsCutOff) {
  HttpLimits limits;
  limits.handshake_timeout = std::chrono::milliseconds(50);
  start(limits);
  // Connects and sends nothing: the server closes long before kSafety.
  EXPECT_EQ(plain_exchange(port_, ""), "<closed>");
  // Half a ClientHello record, then silence.
  EXPECT_EQ(plain_exchange(port_, std::string("\x16\x03\x01\x02\x00\x01", 6)).find("<closed>") !=
                std::string::npos,
            true);
}

TEST_F(TlsAuthTest, ConnectionLimitHoldsForTls) {
  HttpLimits limits;
  limits.max_connections = 0;
  start(limits);
  Reply r = call({.token = "admin-token-0123456789"});
  EXPECT_FALSE(r.handshake_ok);
  EXPECT_EQ(r.status, 0);
}

TEST_F(TlsAuthTest, BodyLimitHoldsForTls) {
  HttpLimits limits;
  limits.max_body_bytes = 16;
  start(limits);
  Reply r = call(post_pod("admin-token-0123456789"));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(stored_pods(), 0u);
}

TEST_F(TlsAuthTest, ListenerWithoutAuthenticationIsRefused) {
  const auto s = validate_tcp_security({});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "api.tcp.tokensFile");
  EXPECT_NE(s.error().message.find("api.tcp.clientCAFile"), std::string::npos);
  auto prepared = prepare_tcp_security({}, dir_ / "state", "node-a");
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().field, "api.tcp.tokensFile");
  EXPECT_FALSE(fs::exists(dir_ / "state" / "pki"));  // refused before generating anything

  // The server itself refuses TLS without an authenticator.
  auto tls = TlsContext::make_server({.serving = *ensure_serving_cert(dir_, "n", "", "")});
  ASSERT_TRUE(tls.ok());
  HttpServer server(io_, [](const ApiRequest&) { return ApiResponse{}; });
  EXPECT_FALSE(server.listen_tcp({.tls = *tls}).ok());
}

TEST_F(TlsAuthTest, CertificateWithoutKeyIsRefused) {
  TcpSecurityOptions o = security_options();
  o.tls_cert_file = paths("ca").cert.string();
  const auto s = validate_tcp_security(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "api.tcp.tlsKeyFile");
  // A key that is not the certificate's.
  o.tls_key_file = paths("other-ca").key.string();
  auto prepared = prepare_tcp_security(o, dir_ / "state", "node-a");
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().field, "api.tcp.tlsCertFile");
}

TEST_F(TlsAuthTest, GeneratedCertificateIsReusedOnSecondStart) {
  const fs::path state = dir_ / "state";
  auto first = ensure_serving_cert(state, "node-a", "", "");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->cert, state / "pki" / "podagent.crt");
  EXPECT_EQ(first->key, state / "pki" / "podagent.key");
  struct stat st {};
  ASSERT_EQ(::stat(first->key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string cert = read_text(first->cert);
  const std::string key = read_text(first->key);

  auto second = ensure_serving_cert(state, "node-a", "", "");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(read_text(second->cert), cert);
  EXPECT_EQ(read_text(second->key), key);

  // Another node name is not covered: a new pair.
  auto renamed = ensure_serving_cert(state, "node-b", "", "");
  ASSERT_TRUE(renamed.ok());
  EXPECT_NE(read_text(renamed->cert), cert);
  // A damaged pair is replaced too.
  std::ofstream(renamed->key) << "garbage";
  auto repaired = ensure_serving_cert(state, "node-b", "", "");
  ASSERT_TRUE(repaired.ok());
  EXPECT_TRUE(TlsContext::make_server({.serving = *repaired}).ok());
}

TEST_F(TlsAuthTest, GeneratedCertificateNamesLoopbackAndTheNode) {
  start();  // serves the generated pair; the client checks the name it is given
  for (const char* name : {"localhost", "127.0.0.1", "::1", "node-a"}) {
    Reply r = call({.target = "/healthz", .token = "admin-token-0123456789", .verify_name = name});
    EXPECT_EQ(r.status, 200) << name << ": " << r.error;
  }
  Reply wrong = call({.target = "/healthz", .verify_name = "node-b"});
  EXPECT_FALSE(wrong.handshake_ok);
  EXPECT_EQ(wrong.status, 0);
}

// ---- Pure parts ----

TEST(TlsAuthTokens, ParsesTheKubernetesFormat) {
  auto tokens = parse_tokens(kTokens);
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].user, "admin");
  EXPECT_EQ((*tokens)[0].uid, "1");
  EXPECT_EQ((*tokens)[0].role, Role::Admin);
  EXPECT_EQ((*tokens)[1].groups,
            (std::vector<std::string>{"system:authenticated", "podagent:read-only"}));
  EXPECT_EQ((*tokens)[1].role, Role::ReadOnly);
  ApiAuthenticator auth(std::move(*tokens));
  auto id = auth.identify_token("reader-token-0123456789");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->user, "reader");
  EXPECT_FALSE(auth.identify_token("reader-token-012345678").has_value());
  EXPECT_FALSE(auth.identify_token("").has_value());
}

TEST(TlsAuthTokens, RefusesBadFilesNamingTheLine) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"t1,alice,1,\"podagent:admin\"\nt2,bob,2\n",
       "line 2: the token of user \"bob\" has no role"},
      {"t1,alice,1,\"podagent:admin\nx", "line 1: unterminated quote"},
      {"t1,alice\n", "line 1: expected token,user,uid"},
      {",alice,1,podagent:admin\n", "line 1: empty token"},
      {"t1,,1,podagent:admin\n", "line 1: empty user"},
      {"t1,a,1,podagent:admin\n#\nt1,b,2,podagent:read-only\n",
       "line 3: the token of user \"b\" repeats"},
      {"t1,a,1,podagent:admin,extra\n", "line 1: expected"},
  };
  for (const auto& c : cases) {
    auto r = parse_tokens(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().message.rfind(c.expected, 0), 0u) << r.error().message;
  }
}

TEST(TlsAuthTokens, AdminWinsOverReadOnly) {
  EXPECT_EQ(role_of({"podagent:read-only", "podagent:admin"}), Role::Admin);
  EXPECT_EQ(role_of({"system:masters"}), std::nullopt);
}

TEST(TlsAuthAuthorize, ReadOnlyMayOnlyRead) {
  const Identity reader{"r", {}, Role::ReadOnly};
  const Identity admin{"a", {}, Role::Admin};
  const Identity nobody{"n", {}, std::nullopt};
  struct Case {
    std::string method, target;
    bool reader_allowed;
  };
  const std::vector<Case> cases = {
      {"GET", "/api/v1/pods", true},
      {"GET", "/api/v1/namespaces/default/pods?watch=true", true},
      {"HEAD", "/api/v1/namespaces/default/pods/web", true},
      {"GET", "/api/v1/namespaces/default/pods/web/status", true},
      {"GET", "/healthz", true},
      {"GET", "/api/v1/namespaces/default/pods/web/log?follow=true", false},
      {"GET", "/api/v1/namespaces/default/pods/web/exec?command=ls", false},
      {"POST", "/api/v1/namespaces/default/pods/web/attach", false},
      {"POST", "/api/v1/namespaces/default/pods", false},
      {"PUT", "/api/v1/namespaces/default/pods/web", false},
      {"PATCH", "/api/v1/namespaces/default/pods/web", false},
      {"DELETE", "/api/v1/namespaces/default/pods/web", false},
  };
  for (const auto& c : cases) {
    const auto r = authorize(reader, c.method, c.target);
    EXPECT_EQ(!r.has_value(), c.reader_allowed) << c.method << " " << c.target;
    if (r) {
      EXPECT_EQ(r->code, 403);
    }
    EXPECT_FALSE(authorize(admin, c.method, c.target).has_value());
    EXPECT_TRUE(authorize(nobody, c.method, c.target).has_value());
  }
  const auto denied = authorize(reader, "DELETE", "/api/v1/namespaces/kube/pods/web");
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->reason, "Forbidden");
  EXPECT_EQ(denied->message,
            "pods \"web\" is forbidden: User \"r\" cannot delete resource \"pods\" in the "
            "namespace \"kube\"");
}

TEST(TlsAuthAuthorize, BearerSchemeIsCaseInsensitiveAndReadOnlyIsMarked) {
  auto tokens = parse_tokens(kTokens);
  ASSERT_TRUE(tokens.ok());
  ApiAuthenticator auth(std::move(*tokens));
  ApiRequest r{
      .method = "GET", .target = "/api/v1/pods", .authorization = "bearer reader-token-0123456789"};
  EXPECT_FALSE(auth.authenticate(r).has_value());
  EXPECT_TRUE(r.read_only);
  ApiRequest basic{
      .method = "GET", .target = "/api/v1/pods", .authorization = "Basic YWRtaW46YWRtaW4="};
  auto e = auth.authenticate(basic);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, 401);
  // A verified certificate wins over the header.
  ApiRequest with_cert{.method = "POST",
                       .target = "/api/v1/namespaces/default/pods",
                       .authorization = "Bearer reader-token-0123456789"};
  PeerInfo peer{.tls = true, .client_certificate = ClientCertificate{"alice", {"podagent:admin"}}};
  EXPECT_FALSE(auth.authenticate_peer(with_cert, peer).has_value());
  EXPECT_FALSE(with_cert.read_only);
}

}  // namespace
}  // namespace podagent::agent
