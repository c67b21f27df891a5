// grpc: the standard gRPC health check (grpc.health.v1.Health/Check) over
// plaintext HTTP/2 with prior knowledge ("h2c"), as the kubelet's gRPC
// prober makes it, with a minimal HTTP/2 client of its own: the project has
// no gRPC or HTTP/2 library, and one unary call needs little of either.
//
// The protocol facts used (RFC 7540 HTTP/2, RFC 7541 HPACK, gRPC's
// PROTOCOL-HTTP2.md, grpc/health/v1/health.proto):
// - The client opens with the 24-byte preface, then a SETTINGS frame. It
//   may send its request at once, without waiting for the server's
//   SETTINGS, which it must acknowledge (SETTINGS with ACK) when they come.
// - Every frame: a 9-byte header (24-bit payload length, 8-bit type, 8-bit
//   flags, 31-bit stream id), then the payload. Frames larger than 16,384
//   bytes are not sent to a peer that did not raise SETTINGS_MAX_FRAME_SIZE.
// - The request is stream 1: one HEADERS frame (END_HEADERS) with :method
//   POST, :scheme http, :path /grpc.health.v1.Health/Check, :authority,
//   content-type application/grpc and te trailers; then one DATA frame
//   (END_STREAM) holding the gRPC message: a 1-byte compressed flag (0), a
//   4-byte big-endian length, and the protobuf HealthCheckRequest, whose
//   only field is `string service = 1`.
// - The header block is written with HPACK "literal header field without
//   indexing, new name" (a 0x00 byte, then name and value as length-prefixed
//   strings without Huffman coding), which every decoder accepts and which
//   leaves the server's dynamic table untouched.
// - The response on stream 1 is HEADERS (:status 200), DATA (the gRPC
//   message: HealthCheckResponse, `ServingStatus status = 1`, 1 = SERVING),
//   then HEADERS with trailers (grpc-status, grpc-message) and END_STREAM;
//   or, for an error, one "trailers-only" HEADERS frame with END_STREAM.
// - Response headers are HPACK-encoded by the server, usually with Huffman
//   coding. This client does not decode Huffman: it reads the header fields
//   that are plain literals (grpc-status, grpc-message) and the static
//   table's :status entries, and otherwise judges by the DATA payload. A
//   response with neither a readable message nor a readable grpc-status is
//   a failure.

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "probes/prober_net.h"
#include "probes/probers.h"

namespace podagent::probes {

namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kFrameHeaderSize = 9;
constexpr uint32_t kMaxFrameSize = 16384;  // SETTINGS_MAX_FRAME_SIZE's initial value
constexpr uint32_t kStream = 1;            // the first client-initiated stream

// Frame types and flags (RFC 7540 section 6).
enum FrameType : uint8_t {
  kData = 0x0,
  kHeaders = 0x1,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPing = 0x6,
  kGoaway = 0x7,
  kContinuation = 0x9,
};
constexpr uint8_t kEndStream = 0x1;  // DATA, HEADERS
constexpr uint8_t kAck = 0x1;        // SETTINGS, PING
constexpr uint8_t kEndHeaders = 0x4;
constexpr uint8_t kPadded = 0x8;
constexpr uint8_t kPriority = 0x20;
constexpr uint16_t kSettingsEnablePush = 0x2;

void append_frame(std::string& out, uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  const auto n = static_cast<uint32_t>(payload.size());
  const char header[kFrameHeaderSize] = {
      static_cast<char>(n >> 16), static_cast<char>(n >> 8), static_cast<char>(n),
      static_cast<char>(type),    static_cast<char>(flags),  static_cast<char>((stream >> 24) & 0x7f),
      static_cast<char>(stream >> 16), static_cast<char>(stream >> 8), static_cast<char>(stream)};
  out.append(header, kFrameHeaderSize);
  out.append(payload);
}

// An HPACK integer with an N-bit prefix; `high` holds the bits above it
// (RFC 7541 section 5.1).
void append_hpack_int(std::string& out, uint8_t high, int prefix_bits, uint64_t value) {
  const uint64_t max = (1u << prefix_bits) - 1;
  if (value < max) {
    out.push_back(static_cast<char>(high | value));
    return;
  }
  out.push_back(static_cast<char>(high | max));
  for (value -= max; value >= 128; value >>= 7) out.push_back(static_cast<char>((value & 0x7f) | 0x80));
  out.push_back(static_cast<char>(value));
}

// "Literal Header Field without Indexing -- New Name", no Huffman coding
// (RFC 7541 section 6.2.2).
void append_literal(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(0x00);
  append_hpack_int(out, 0x00, 7, name.size());
  out.append(name);
  append_hpack_int(out, 0x00, 7, value.size());
  out.append(value);
}

void append_varint(std::string& out, uint64_t value) {
  for (; value >= 128; value >>= 7) out.push_back(static_cast<char>((value & 0x7f) | 0x80));
  out.push_back(static_cast<char>(value));
}

// Preface, SETTINGS (no server push), HEADERS and DATA of the one call.
std::string make_request(const std::string& authority, const std::optional<std::string>& service) {
  std::string out(kPreface);
  const char settings[6] = {0, kSettingsEnablePush, 0, 0, 0, 0};
  append_frame(out, kSettings, 0, 0, std::string_view(settings, sizeof settings));
  std::string block;
  append_literal(block, ":method", "POST");
  append_literal(block, ":scheme", "http");
  append_literal(block, ":path", "/grpc.health.v1.Health/Check");
  append_literal(block, ":authority", authority);
  append_literal(block, "content-type", "application/grpc");
  append_literal(block, "user-agent", "kube-probe/1.32");
  append_literal(block, "te", "trailers");
  append_frame(out, kHeaders, kEndHeaders, kStream, block);
  std::string message;  // HealthCheckRequest; proto3 omits an empty string
  if (service && !service->empty()) {
    message.push_back(0x0a);  // field 1, wire type 2 (length-delimited)
    append_varint(message, service->size());
    message.append(*service);
  }
  std::string data(1, '\0');  // not compressed
  const auto n = static_cast<uint32_t>(message.size());
  for (int shift = 24; shift >= 0; shift -= 8) data.push_back(static_cast<char>(n >> shift));
  data += message;
  append_frame(out, kData, kEndStream, kStream, data);
  return out;
}

bool read_hpack_int(std::string_view& in, int prefix_bits, uint64_t& value) {
  if (in.empty()) return false;
  const uint64_t max = (1u << prefix_bits) - 1;
  value = static_cast<uint8_t>(in[0]) & max;
  in.remove_prefix(1);
  if (value < max) return true;
  for (int shift = 0; shift < 56; shift += 7) {
    if (in.empty()) return false;
    const auto byte = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    value += static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

// A string literal (RFC 7541 section 5.2); nullopt in `text` when it is
// Huffman-coded (not decoded here). False when malformed.
bool read_hpack_string(std::string_view& in, std::optional<std::string>& text) {
  if (in.empty()) return false;
  const bool huffman = static_cast<uint8_t>(in[0]) & 0x80;
  uint64_t n = 0;
  if (!read_hpack_int(in, 7, n) || n > in.size()) return false;
  if (huffman) text.reset(); else text.emplace(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

// What this client reads of a header block.
struct HeaderFields {
  std::optional<int> http_status;
  std::optional<int> grpc_status;
  std::string grpc_message;
};

// Scans a header block for the fields this client reads. The static
// table's entries 8-14 are ":status" 200, 204, 206, 304, 400, 404, 500
// (RFC 7541 appendix A). False when the block is malformed.
bool scan_header_block(std::string_view in, HeaderFields& out) {
  constexpr std::array<int, 7> kStatuses = {200, 204, 206, 304, 400, 404, 500};
  while (!in.empty()) {
    const auto first = static_cast<uint8_t>(in[0]);
    uint64_t index = 0;
    if (first & 0x80) {  // indexed header field
      if (!read_hpack_int(in, 7, index)) return false;
      if (index >= 8 && index <= 14) out.http_status = kStatuses[index - 8];
      continue;
    }
    if ((first & 0xe0) == 0x20) {  // dynamic table size update
      if (!read_hpack_int(in, 5, index)) return false;
      continue;
    }
    // A literal: with incremental indexing (6-bit index), or without / never
    // indexed (4-bit index); index 0: the name follows as a string.
    if (!read_hpack_int(in, (first & 0xc0) == 0x40 ? 6 : 4, index)) return false;
    std::optional<std::string> name, value;
    if (index == 0 && !read_hpack_string(in, name)) return false;
    if (index >= 8 && index <= 14) name = ":status";
    if (!read_hpack_string(in, value)) return false;
    if (!name || !value) continue;
    if (*name == "grpc-status" || *name == ":status") {
      int number = 0;
      for (char c : *value) number = number * 10 + (c >= '0' && c <= '9' ? c - '0' : 0);
      (*name == ":status" ? out.http_status : out.grpc_status) = number;
    } else if (*name == "grpc-message") {
      out.grpc_message = *value;  // percent-encoded, shown as sent
    }
  }
  return true;
}

bool read_varint(std::string_view& in, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

// The status of the HealthCheckResponse in a response's DATA (the 5-byte
// gRPC prefix, then the protobuf message); nullopt when it holds none.
std::optional<uint64_t> serving_status(std::string_view data) {
  if (data.size() < 5 || data[0] != 0) return std::nullopt;  // compressed: never asked for
  uint32_t n = 0;
  for (size_t i = 1; i < 5; ++i) n = (n << 8) | static_cast<uint8_t>(data[i]);
  if (data.size() - 5 < n) return std::nullopt;
  std::string_view message = data.substr(5, n);
  uint64_t status = 0;  // absent: proto3's default, UNKNOWN
  while (!message.empty()) {
    uint64_t key = 0, value = 0;
    if (!read_varint(message, key)) return std::nullopt;
    switch (key & 7) {  // the wire type; unknown fields are skipped
      case 0:
        if (!read_varint(message, value)) return std::nullopt;
        if (key >> 3 == 1) status = value;
        break;
      case 1:
      case 5: {
        const size_t size = (key & 7) == 1 ? 8 : 4;
        if (message.size() < size) return std::nullopt;
        message.remove_prefix(size);
        break;
      }
      case 2:
        if (!read_varint(message, value) || value > message.size()) return std::nullopt;
        message.remove_prefix(value);
        break;
      default: return std::nullopt;
    }
  }
  return status;
}

std::string_view serving_status_name(uint64_t status) {
  constexpr std::array<std::string_view, 4> kNames = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
  return status < kNames.size() ? kNames[status] : "UNKNOWN";
}

std::string_view grpc_code_name(int code) {
  constexpr std::array<std::string_view, 17> kNames = {
      "OK",         "Canceled",          "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
      "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
      "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"};
  return code >= 0 && code < static_cast<int>(kNames.size()) ? kNames[code] : "Unknown";
}

// Go's %v of a time.Duration, for the kubelet's messages: "1s", "200ms".
std::string go_duration(std::chrono::milliseconds d) {
  return d.count() % 1000 == 0 ? fmt::format("{}s", d.count() / 1000) : fmt::format("{}ms", d.count());
}

// The response of stream 1 as it arrives.
struct Call {
  HeaderFields fields;
  std::string header_block;  // HEADERS and CONTINUATION fragments so far
  bool block_ends_stream = false;
  std::string data;
  bool ended = false;  // END_STREAM seen
};

// The payload without its padding (and a HEADERS frame's priority fields).
std::optional<std::string_view> frame_content(uint8_t type, uint8_t flags, std::string_view payload) {
  size_t pad = 0;
  if (flags & kPadded) {
    if (payload.empty()) return std::nullopt;
    pad = static_cast<uint8_t>(payload[0]);
    payload.remove_prefix(1);
  }
  if (type == kHeaders && (flags & kPriority)) {
    if (payload.size() < 5) return std::nullopt;
    payload.remove_prefix(5);
  }
  if (pad > payload.size()) return std::nullopt;
  return payload.substr(0, payload.size() - pad);
}

// Takes one frame into `call`; frames the server needs answered (its
// SETTINGS, a PING) get their acknowledgement appended to `reply`. An
// error ends the call.
std::optional<std::string> on_frame(Call& call, uint8_t type, uint8_t flags, uint32_t stream,
                                    std::string_view payload, std::string& reply) {
  if (type == kSettings && !(flags & kAck)) append_frame(reply, kSettings, kAck, 0, {});
  if (type == kPing && !(flags & kAck)) append_frame(reply, kPing, kAck, 0, payload);
  if (type == kGoaway) return "rpc error: code = Unavailable desc = the server sent GOAWAY";
  if (stream != kStream) return std::nullopt;
  if (type == kRstStream) {
    uint32_t code = 0;
    for (size_t i = 0; i < 4 && i < payload.size(); ++i) code = (code << 8) | static_cast<uint8_t>(payload[i]);
    return fmt::format("rpc error: code = Internal desc = stream reset by the server (error code {})", code);
  }
  if (type != kData && type != kHeaders && type != kContinuation) return std::nullopt;
  auto content = type == kContinuation ? std::optional(payload) : frame_content(type, flags, payload);
  if (!content) return "rpc error: code = Internal desc = malformed HTTP/2 frame";
  if (type == kData) {
    call.data.append(*content);
    call.ended = flags & kEndStream;
    return std::nullopt;
  }
  if (type == kHeaders) {
    call.header_block.clear();
    call.block_ends_stream = flags & kEndStream;
  }
  call.header_block.append(*content);
  if (flags & kEndHeaders) {
    if (!scan_header_block(call.header_block, call.fields))
      return "rpc error: code = Internal desc = malformed HPACK header block";
    call.ended = call.block_ends_stream;
  }
  return std::nullopt;
}

// The kubelet's verdict on a finished call.
ProbeOutcome judge(const Call& call) {
  const HeaderFields& f = call.fields;
  if (f.http_status && *f.http_status != 200) {
    return {ProbeResult::Failure,
            fmt::format("error: health rpc probe failed: rpc error: code = Unknown desc = unexpected HTTP "
                        "status code received from server: {}",
                        *f.http_status)};
  }
  if (f.grpc_status == 12) {
    return {ProbeResult::Failure,
            "this server does not implement the grpc health protocol (grpc.health.v1.Health): " + f.grpc_message};
  }
  if (f.grpc_status && *f.grpc_status != 0) {
    return {ProbeResult::Failure, fmt::format("error: health rpc probe failed: rpc error: code = {} desc = {}",
                                              grpc_code_name(*f.grpc_status), f.grpc_message)};
  }
  const auto status = serving_status(call.data);
  if (!status) {
    return {ProbeResult::Failure, call.data.empty()
                                      ? "error: health rpc probe failed: the response has no message and no "
                                        "readable grpc-status"
                                      : "error: health rpc probe failed: the response is not a HealthCheckResponse"};
  }
  if (*status != 1) {
    return {ProbeResult::Failure,
            fmt::format("service unhealthy (responded with \"{}\")", serving_status_name(*status))};
  }
  return {ProbeResult::Success, {}};
}

// Reads frames until stream 1 ends, answering the server's SETTINGS and
// PINGs. An error as the kubelet words it.
runtime::Task<std::optional<std::string>> read_response(boost::beast::tcp_stream& stream, Call& call) {
  std::array<uint8_t, kFrameHeaderSize> header{};
  std::string payload;
  while (!call.ended) {
    auto [header_ec, header_n] = co_await net::async_read(stream, net::buffer(header), kTuple);
    (void)header_n;
    const uint32_t size = (uint32_t{header[0]} << 16) | (uint32_t{header[1]} << 8) | header[2];
    if (!header_ec && size > kMaxFrameSize)
      co_return "error: health rpc probe failed: rpc error: code = Internal desc = HTTP/2 frame too large";
    payload.resize(size);
    boost::system::error_code ec = header_ec;
    if (!ec) std::tie(ec, std::ignore) = co_await net::async_read(stream, net::buffer(payload), kTuple);
    if (ec == boost::beast::error::timeout) co_return std::string();  // the caller words it
    if (ec) {
      co_return "error: health rpc probe failed: rpc error: code = Unavailable desc = connection closed: " +
          go_error_text(ec);
    }
    const uint32_t stream_id = ((uint32_t{header[5]} & 0x7f) << 24) | (uint32_t{header[6]} << 16) |
                               (uint32_t{header[7]} << 8) | header[8];
    std::string reply;
    if (auto failed = on_frame(call, header[3], header[4], stream_id, payload, reply))
      co_return "error: health rpc probe failed: " + *failed;
    if (!reply.empty()) {
      auto [write_ec, written] = co_await net::async_write(stream, net::buffer(reply), kTuple);
      (void)written;
      if (write_ec == boost::beast::error::timeout) co_return std::string();
    }
  }
  co_return std::nullopt;
}

}  // namespace

runtime::Task<ProbeOutcome> probe_grpc(runtime::Runtime& runtime, const ProbeTarget& target,
                                       const model::GrpcAction& action, std::chrono::milliseconds timeout) {
  if (action.port < 1 || action.port > 65535)
    co_return ProbeOutcome{ProbeResult::Failure, fmt::format("invalid port number: {}", action.port)};
  const DialTarget to = dial_target(target, {}, static_cast<uint16_t>(action.port));
  const std::string address = join_host_port(to.host, to.port);
  boost::beast::tcp_stream stream(co_await net::this_coro::executor);
  stream.expires_after(timeout);
  const auto deadline = Clock::now() + timeout;
  if (auto failed = co_await dial(stream, runtime, target, to)) {
    if (Clock::now() >= deadline) {
      co_return ProbeOutcome{ProbeResult::Failure,
                             fmt::format("timeout: failed to connect service \"{}\" within {}: context "
                                         "deadline exceeded",
                                         address, go_duration(timeout))};
    }
    co_return ProbeOutcome{ProbeResult::Failure,
                           fmt::format("error: failed to connect service at \"{}\": {}", address, *failed)};
  }
  // As Go's dialer: small frames (the SETTINGS ACK) go out at once.
  boost::system::error_code ignored;
  stream.socket().set_option(net::ip::tcp::no_delay(true), ignored);
  const std::string request = make_request(address, action.service);
  Call call;
  auto [write_ec, written] = co_await net::async_write(stream, net::buffer(request), kTuple);
  (void)written;
  std::optional<std::string> failed;
  if (write_ec == boost::beast::error::timeout) {
    failed = std::string();
  } else if (write_ec) {
    failed = "error: health rpc probe failed: rpc error: code = Unavailable desc = " + go_error_text(write_ec);
  } else {
    failed = co_await read_response(stream, call);
  }
  if (failed && failed->empty()) {
    co_return ProbeOutcome{ProbeResult::Failure,
                           fmt::format("timeout: health rpc did not complete within {}", go_duration(timeout))};
  }
  if (failed) co_return ProbeOutcome{ProbeResult::Failure, std::move(*failed)};
  co_return judge(call);
}

}  // namespace podagent::probes
