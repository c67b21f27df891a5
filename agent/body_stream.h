#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

namespace podagent::agent {

// A response body produced piece by piece as it becomes available (a
// followed pod log). The HTTP server writes each piece as one chunk of a
// chunked response, as soon as next() gives it.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // The next piece of the body (never empty), waiting until there is one;
  // nullopt: the body is complete. Called on the connection's executor, one
  // call at a time. The server cancels a pending call (per-operation
  // cancellation) when the client goes away or the server stops, and then
  // never calls again.
  virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
};

}  // namespace podagent::agent
