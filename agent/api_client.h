#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"

namespace podagent::agent {

// A tiny blocking HTTP/1.1 client of the agent's API on its unix socket, for
// the podagent client subcommands (get, describe, apply, delete, logs). One
// request per connection ("Connection: close"); plain POSIX sockets, so that
// the CLI needs neither Asio nor Beast.

struct ApiClientOptions {
  std::string socket_path;
  // The whole exchange (connect, send, read to the end) must fit in it.
  std::chrono::milliseconds timeout{30'000};
  size_t max_header_bytes = 64 * 1024;
  size_t max_body_bytes = 64 * 1024 * 1024;
};

struct ClientRequest {
  std::string method = "GET";
  std::string target;  // "/api/v1/namespaces/default/pods", already URL-safe
  std::string body;
  std::string content_type = "application/json";  // sent only with a body
  std::string accept = "application/json";
};

// A request with the other fields at their defaults.
inline ClientRequest client_request(std::string method, std::string target, std::string body = {}) {
  ClientRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

struct ClientResponse {
  int status = 0;            // HTTP status code
  std::string content_type;  // as sent
  std::string body;          // de-chunked
};

class ApiClient {
 public:
  explicit ApiClient(ApiClientOptions options) : options_(std::move(options)) {}

  // Sends `request` and reads the whole response (Content-Length, chunked,
  // or to EOF). Errors: the socket cannot be reached, the timeout passed,
  // the response is malformed or exceeds the size bounds. An HTTP error
  // status is a response, not an error.
  base::Result<ClientResponse> send(const ClientRequest& request) const;
  // As send, but a 200 answer with a chunked body is handed to `on_body`
  // piece by piece as it arrives, with no time limit once its head has come
  // (a followed log); its response then has an empty body. Other answers are
  // read whole, as by send.
  base::Result<ClientResponse> send_streaming(
      const ClientRequest& request, const std::function<void(std::string_view)>& on_body) const;

  const std::string& socket_path() const { return options_.socket_path; }

 private:
  ApiClientOptions options_;
};

// The line kubectl prints for a failed API call, read from the Kubernetes
// Status in the body: `Error from server (NotFound): pods "x" not found`.
// A body that is no Status gives `Error from server (<HTTP code>): <body>`.
std::string api_error_text(const ClientResponse& response);

// The `reason` of the Kubernetes Status in the body ("AlreadyExists"), or ""
// when the body is no Status.
std::string api_error_reason(const ClientResponse& response);

// `text` with every byte outside RFC 3986's unreserved set percent-encoded,
// fit for one path segment or query value.
std::string url_escape(std::string_view text);

}  // namespace podagent::agent
