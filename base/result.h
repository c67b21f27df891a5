#pragma once

#include <cassert>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "base/error.h"

namespace podagent::base {

// Result<T> holds either a value or an Error. Expected failures travel as
// Results; exceptions never cross a module boundary.
//
//   Result<Quantity> q = Quantity::parse("1Gi");
//   if (!q) return q.error();
//   use(*q);
//
// Reading value() of a failed Result (or error() of a good one) is a broken
// invariant and aborts.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { check(ok()); return std::get<0>(v_); }
  const T& value() const& { check(ok()); return std::get<0>(v_); }
  T&& value() && { check(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { check(!ok()); return std::get<1>(v_); }

 private:
  static void check(bool cond) {
    if (!cond) std::abort();
  }
  std::variant<T, Error> v_;
};

// Result of an operation that yields nothing but may fail.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}
  static Status Ok() { return {}; }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    if (!error_) std::abort();
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

}  // namespace podagent::base
