#pragma once

#include <string>
#include <utility>

namespace podagent::base {

// An expected failure, carried as a value. `field` is the path of the input
// field at fault ("spec.containers[1].image") when the error is about input,
// and empty otherwise.
struct Error {
  std::string message;
  std::string field;

  Error() = default;
  explicit Error(std::string msg, std::string at = {})
      : message(std::move(msg)), field(std::move(at)) {}

  // "field: message", or just the message when no field is at fault.
  std::string to_string() const { return field.empty() ? message : field + ": " + message; }

  bool operator==(const Error&) const = default;
};

}  // namespace podagent::base
