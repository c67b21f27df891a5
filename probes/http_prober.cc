// httpGet: as the kubelet's HTTP prober (pkg/probe/http), with Beast.
//
// The request is the kubelet's: GET <path>, Host <host:port>, User-Agent
// kube-probe/<major.minor>, Accept */*, Connection: close, then the probe's
// headers (one named as a default replaces it; an empty User-Agent or
// Accept removes it; Host sets the Host header). HTTPS does not verify the
// certificate. At most 10 KiB of the body is read; the rest is ignored.
// Redirects are followed as the kubelet's client follows them: to the same
// host name (any port or scheme), at most 10; a redirect to another host
// ends the probe with the 3xx response, a success with a warning.

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "probes/prober_net.h"
#include "probes/probers.h"

namespace podagent::probes {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using Clock = std::chrono::steady_clock;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr size_t kMaxBody = 10 * 1024;       // the kubelet's maxRespBodyLength
constexpr size_t kMaxHeader = 64 * 1024;     // of the response's header
constexpr int kMaxRedirects = 10;            // Go's default, which the kubelet keeps
constexpr const char* kUserAgent = "kube-probe/1.32";
constexpr const char* kHeaderTimeout = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
constexpr const char* kBodyTimeout =
    "context deadline exceeded (Client.Timeout or context cancellation while reading body)";

using Request = http::request<http::empty_body>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Url {
  bool https = false;
  std::string host;
  uint16_t port = 0;
  std::string target = "/";  // path and query
  std::string str() const {
    return fmt::format("{}://{}{}", https ? "https" : "http", join_host_port(host, port), target);
  }
};

// What one request got: an error as Go's client words it (without the
// `Get "<url>": ` its caller adds), or the status, Location and body.
struct Response {
  std::optional<std::string> error;
  unsigned status = 0;
  std::string location;
  std::string body;  // at most kMaxBody
};

Response failure(std::string error) {
  Response out;
  out.error = std::move(error);
  return out;
}

std::string normalize_path(const std::string& path) {
  if (path.empty()) return "/";
  return path[0] == '/' ? path : "/" + path;
}

// "host[:port]" or "[v6][:port]" of an absolute URL.
std::optional<Url> parse_authority(std::string_view authority, bool https) {
  Url url;
  url.https = https;
  url.port = https ? 443 : 80;
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    url.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.rfind(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return std::nullopt;
  if (!port.empty()) {
    unsigned value = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || (value = value * 10 + (c - '0')) > 65535)
        return std::nullopt;
    }
    if (value == 0) return std::nullopt;
    url.port = static_cast<uint16_t>(value);
  }
  return url;
}

// The URL a Location header points to, from `base` (RFC 3986 section 5.2,
// for the forms servers send: absolute, scheme-relative, absolute path,
// relative path). nullopt when it cannot be parsed.
std::optional<Url> resolve_location(const Url& base, std::string location) {
  if (const size_t hash = location.find('#'); hash != std::string::npos) location.resize(hash);
  const std::string low = lower(location.substr(0, 8));
  std::optional<bool> https;
  std::string_view rest = location;
  if (low.starts_with("http://")) {
    https = false;
    rest.remove_prefix(7);
  } else if (low.starts_with("https://")) {
    https = true;
    rest.remove_prefix(8);
  } else if (location.starts_with("//")) {
    https = base.https;
    rest.remove_prefix(2);
  }
  if (https) {
    const size_t end = rest.find_first_of("/?");
    auto url = parse_authority(rest.substr(0, end), *https);
    if (!url) return std::nullopt;
    url->target = end == std::string_view::npos ? "/" : normalize_path(std::string(rest.substr(end)));
    return url;
  }
  Url url = base;
  if (location.starts_with("/")) {
    url.target = location;
  } else {
    const std::string path = base.target.substr(0, base.target.find('?'));
    url.target = path.substr(0, path.rfind('/') + 1) + location;
  }
  return url;
}

bool has_authority(const std::string& location) {
  const std::string low = lower(location.substr(0, 8));
  return low.starts_with("http://") || low.starts_with("https://") || location.starts_with("//");
}

bool is_followed_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

Request make_request(const Url& url, const std::vector<model::HttpHeader>& headers,
                     const std::string& host_header) {
  Request req{http::verb::get, url.target, 11};
  req.set(http::field::host, host_header.empty() ? join_host_port(url.host, url.port) : host_header);
  req.set(http::field::user_agent, kUserAgent);
  req.set(http::field::accept, "*/*");
  req.set(http::field::connection, "close");
  std::set<std::string> replaced;
  for (const model::HttpHeader& h : headers) {
    const std::string name = lower(h.name);
    if (name == "host") continue;  // in host_header
    if (replaced.insert(name).second) req.erase(h.name);
    if (h.value.empty() && (name == "user-agent" || name == "accept")) continue;
    req.insert(h.name, h.value);
  }
  return req;
}

// Sends `req` on a connected stream and reads the response's header and up
// to kMaxBody of its body.
template <class Stream>
runtime::Task<Response> exchange(Stream& stream, const Request& req) {
  Response out;
  auto [write_ec, written] = co_await http::async_write(stream, req, kTuple);
  (void)written;
  if (write_ec) {
    out.error = write_ec == beast::error::timeout ? kHeaderTimeout : go_error_text(write_ec);
    co_return out;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(kMaxHeader);
  auto [header_ec, header_n] = co_await http::async_read_header(stream, buffer, parser, kTuple);
  (void)header_n;
  if (header_ec) {
    out.error = header_ec == beast::error::timeout ? kHeaderTimeout : go_error_text(header_ec);
    co_return out;
  }
  out.status = parser.get().result_int();
  if (auto it = parser.get().find(http::field::location); it != parser.get().end())
    out.location = std::string(it->value());
  out.body.resize(kMaxBody);
  size_t got = 0;
  while (!parser.is_done() && got < kMaxBody) {
    parser.get().body().data = out.body.data() + got;
    parser.get().body().size = kMaxBody - got;
    auto [body_ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    (void)n;
    got = kMaxBody - parser.get().body().size;
    if (!body_ec || body_ec == http::error::need_buffer) continue;
    // A TLS peer that closes without close_notify ends an EOF-delimited
    // body as well as a plain close would.
    if (body_ec == ssl::error::stream_truncated) break;
    out.error = body_ec == beast::error::timeout ? kBodyTimeout : go_error_text(body_ec);
    co_return out;
  }
  out.body.resize(got);
  co_return out;
}

}  // namespace

struct HttpProber::Impl {
  runtime::Runtime& runtime;
  ssl::context tls{ssl::context::tls_client};

  explicit Impl(runtime::Runtime& rt) : runtime(rt) {
    // As the kubelet: InsecureSkipVerify.
    tls.set_verify_mode(ssl::verify_none);
  }

  // One request to `url` (127.0.0.1 in the sandbox when `in_sandbox`).
  runtime::Task<Response> fetch(const ProbeTarget& target, const Url& url, bool in_sandbox,
                                const Request& req, Clock::time_point deadline) {
    auto executor = co_await net::this_coro::executor;
    const DialTarget to{url.host, url.port, in_sandbox};
    if (!url.https) {
      beast::tcp_stream stream(executor);
      stream.expires_at(deadline);
      if (auto failed = co_await dial(stream, runtime, target, to))
        co_return failure(Clock::now() >= deadline ? kHeaderTimeout : *failed);
      co_return co_await exchange(stream, req);
    }
    beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
    beast::get_lowest_layer(stream).expires_at(deadline);
    if (auto failed = co_await dial(beast::get_lowest_layer(stream), runtime, target, to))
      co_return failure(Clock::now() >= deadline ? kHeaderTimeout : *failed);
    // SNI names a host, never an address (RFC 6066 section 3), as Go does.
    boost::system::error_code ec;
    net::ip::make_address(url.host, ec);
    if (ec) SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
    auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::client, kTuple);
    if (handshake_ec) {
      co_return failure(handshake_ec == beast::error::timeout ? kHeaderTimeout
                                                               : "tls: " + handshake_ec.message());
    }
    co_return co_await exchange(stream, req);
  }
};

HttpProber::HttpProber(runtime::Runtime& runtime) : impl_(std::make_unique<Impl>(runtime)) {}
HttpProber::~HttpProber() = default;

runtime::Task<ProbeOutcome> HttpProber::probe(const ProbeTarget& target, const model::HttpGetAction& action,
                                              std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  auto port = resolve_port(action.port, target.container);
  if (!port) co_return ProbeOutcome{ProbeResult::Failure, port.error().message};
  const std::string scheme = lower(action.scheme);
  if (!scheme.empty() && scheme != "http" && scheme != "https")
    co_return ProbeOutcome{ProbeResult::Failure, fmt::format("unsupported HTTP scheme \"{}\"", action.scheme)};
  const DialTarget first = dial_target(target, action.host, *port);
  Url url{scheme == "https", first.host, *port, normalize_path(action.path)};
  std::string host_header;
  for (const model::HttpHeader& h : action.http_headers) {
    if (lower(h.name) == "host" && host_header.empty()) host_header = h.value;
  }
  for (int redirects = 0;; ++redirects) {
    const Response r = co_await impl_->fetch(target, url, first.in_sandbox,
                                             make_request(url, action.http_headers, host_header), deadline);
    if (r.error) co_return ProbeOutcome{ProbeResult::Failure, fmt::format("Get \"{}\": {}", url.str(), *r.error)};
    if (is_followed_redirect(r.status) && !r.location.empty()) {
      auto next = resolve_location(url, r.location);
      if (!next) {
        co_return ProbeOutcome{ProbeResult::Failure,
                               fmt::format("Get \"{}\": failed to parse Location header \"{}\"", url.str(), r.location)};
      }
      // Another host: the kubelet stops and judges the 3xx itself (below).
      if (next->host == first.host) {
        if (redirects == kMaxRedirects) {
          co_return ProbeOutcome{ProbeResult::Failure,
                                 fmt::format("Get \"{}\": stopped after {} redirects", next->str(), kMaxRedirects)};
        }
        // Go keeps a custom Host header only across a relative Location.
        if (has_authority(r.location)) host_header.clear();
        url = std::move(*next);
        continue;
      }
    }
    if (r.status >= 200 && r.status < 300) co_return ProbeOutcome{ProbeResult::Success, {}};
    if (r.status >= 300 && r.status < 400) {
      // The kubelet's probe.Warning, which counts as a success.
      co_return ProbeOutcome{ProbeResult::Success,
                             fmt::format("Probe terminated redirects, Response body: {}", r.body)};
    }
    co_return ProbeOutcome{ProbeResult::Failure, fmt::format("HTTP probe failed with statuscode: {}", r.status)};
  }
}

}  // namespace podagent::probes
