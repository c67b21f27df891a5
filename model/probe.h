#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace podagent::model {

// A port given as a number or as the name of a container port ("http").
struct IntOrString {
  std::variant<int64_t, std::string> value = int64_t{0};

  bool is_int() const { return std::holds_alternative<int64_t>(value); }
  int64_t int_value() const { return is_int() ? std::get<int64_t>(value) : 0; }
  const std::string* string_value() const { return std::get_if<std::string>(&value); }
  std::string to_string() const { return is_int() ? std::to_string(int_value()) : std::get<std::string>(value); }
  bool operator==(const IntOrString&) const = default;
};

struct ExecAction {
  std::vector<std::string> command;
  bool operator==(const ExecAction&) const = default;
};

struct HttpHeader {
  std::string name;
  std::string value;
  bool operator==(const HttpHeader&) const = default;
};

struct HttpGetAction {
  std::string path;                   // defaulted to "/"
  IntOrString port;
  std::string host;                   // empty: the pod IP
  std::string scheme;                 // "HTTP" (default) or "HTTPS"
  std::vector<HttpHeader> http_headers;
  bool operator==(const HttpGetAction&) const = default;
};

struct TcpSocketAction {
  IntOrString port;
  std::string host;
  bool operator==(const TcpSocketAction&) const = default;
};

struct GrpcAction {
  int64_t port = 0;
  std::optional<std::string> service;
  bool operator==(const GrpcAction&) const = default;
};

struct SleepAction {
  int64_t seconds = 0;
  bool operator==(const SleepAction&) const = default;
};

// The handler of a probe or hook. Exactly one may be set; validation reports
// zero or several as errors, so the decoder keeps every one it found.
struct Handler {
  std::optional<ExecAction> exec;
  std::optional<HttpGetAction> http_get;
  std::optional<TcpSocketAction> tcp_socket;
  std::optional<GrpcAction> grpc;      // probes only
  std::optional<SleepAction> sleep;    // hooks only
  bool operator==(const Handler&) const = default;
};

struct Probe {
  Handler handler;
  // Defaults applied by defaulting (Kubernetes: 0 / 1 / 10 / 1 / 3).
  int64_t initial_delay_seconds = 0;
  std::optional<int64_t> timeout_seconds;
  std::optional<int64_t> period_seconds;
  std::optional<int64_t> success_threshold;
  std::optional<int64_t> failure_threshold;
  std::optional<int64_t> termination_grace_period_seconds;
  bool operator==(const Probe&) const = default;
};

struct Lifecycle {
  std::optional<Handler> post_start;
  std::optional<Handler> pre_stop;
  bool operator==(const Lifecycle&) const = default;
};

}  // namespace podagent::model
