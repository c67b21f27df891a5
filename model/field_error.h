#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace podagent::model {

// A validation or decoding problem with one input field, formatted as the
// Kubernetes API server formats field.Error:
//   spec.initContainers[0].image: Required value
//   spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"
struct FieldError {
  enum class Type { Required, Invalid, Duplicate, NotFound, NotSupported, Forbidden, TooLong, TooMany, TypeInvalid, Unknown };

  Type type = Type::Invalid;
  std::string field;      // "spec.containers[0].name"
  std::string value;      // the offending value as text, already quoted when a string
  std::string detail;     // free text; for NotSupported, the supported values

  // "field: Type text[: value][: detail]" exactly as kubectl shows it.
  std::string to_string() const;
  base::Error to_error() const { return base::Error(to_string(), field); }

  bool operator==(const FieldError&) const = default;

  static FieldError required(std::string field, std::string detail = {});
  static FieldError invalid(std::string field, std::string value, std::string detail);
  static FieldError duplicate(std::string field, std::string value);
  static FieldError not_found(std::string field, std::string value);
  static FieldError not_supported(std::string field, std::string value, const std::vector<std::string>& supported);
  static FieldError forbidden(std::string field, std::string detail);
  static FieldError too_long(std::string field, std::string value, size_t max);
  static FieldError type_invalid(std::string field, std::string value, std::string detail);
  // A field the decoder does not know; reported as a warning, never an error.
  static FieldError unknown(std::string field);
};

using FieldErrors = std::vector<FieldError>;

// Quotes a string value as Go's %q would for the error texts ("foo" -> "\"foo\"").
std::string quote(std::string_view s);

}  // namespace podagent::model
