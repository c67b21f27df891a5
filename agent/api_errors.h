#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/field_error.h"
#include "model/node.h"

namespace podagent::agent {

// One cause of a Status (metav1.StatusCause): for validation errors, one
// field error each, e.g. {FieldValueRequired, "Required value",
// "spec.containers[0].image"}.
struct StatusCause {
  std::string reason;
  std::string message;
  std::string field;
  bool operator==(const StatusCause&) const = default;
};

// An API failure as Kubernetes reports it: the HTTP code, the Status reason
// (NotFound, AlreadyExists, Invalid, ...) and a message a person can read.
// `name`/`kind` and `causes` become the Status's details when set.
struct ApiError {
  int code = 500;
  std::string reason;
  std::string message;
  std::string name;
  std::string kind;
  std::vector<StatusCause> causes;
  bool operator==(const ApiError&) const = default;
};

// The Status object:
//   {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
//    "message":...,"reason":...,"details":{...},"code":N}
model::Node status_node(const ApiError& error);
std::string status_json(const ApiError& error);

// The errors the API answers, worded as the Kubernetes API server words
// them. `resource` is the plural resource name ("pods").
ApiError not_found(std::string_view resource, std::string_view name);
ApiError already_exists(std::string_view resource, std::string_view name);
// 422: `Pod "web" is invalid: [a: Required value, b: ...]`, with one cause per
// field error.
ApiError invalid(std::string_view kind, std::string_view name, const model::FieldErrors& errors);
ApiError bad_request(std::string message);
// 403: `pods "web" is forbidden: <why>`.
ApiError forbidden(std::string_view resource, std::string_view name, std::string_view why);
ApiError conflict(std::string_view resource, std::string_view name, std::string_view why);
ApiError method_not_allowed(std::string_view method);
ApiError request_entity_too_large(size_t limit_bytes);
ApiError unsupported_media_type(std::string_view content_type);
ApiError gone(std::string message);
ApiError unauthorized(std::string message);
ApiError path_not_found();
ApiError internal_error(std::string message);
// A request body's unknown fields: appends a warning per field to
// `warnings` (`unknown field "spec.x"`), and with fieldValidation=Strict
// (`strict`) returns the 400 that refuses the body.
std::optional<ApiError> unknown_fields(const model::FieldErrors& unknown, bool strict,
                                       std::vector<std::string>& warnings);
ApiError not_implemented(std::string message);
ApiError service_unavailable(std::string message);

// The Status cause type of a field error ("FieldValueRequired", ...).
std::string cause_reason(model::FieldError::Type type);

}  // namespace podagent::agent
