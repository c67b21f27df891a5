#include "agent/api_errors.h"

#include <fmt/format.h>

#include "model/document.h"

namespace podagent::agent {

namespace {

ApiError make(int code, std::string reason, std::string message) {
  ApiError e;
  e.code = code;
  e.reason = std::move(reason);
  e.message = std::move(message);
  return e;
}

// A field error without its leading "field: ", as Kubernetes' ErrorBody().
std::string error_body(const model::FieldError& e) {
  std::string text = e.to_string();
  const std::string prefix = e.field + ": ";
  if (!e.field.empty() && text.starts_with(prefix)) text.erase(0, prefix.size());
  return text;
}

}  // namespace

std::string cause_reason(model::FieldError::Type type) {
  using T = model::FieldError::Type;
  switch (type) {
    case T::Required:
      return "FieldValueRequired";
    case T::Invalid:
      return "FieldValueInvalid";
    case T::Duplicate:
      return "FieldValueDuplicate";
    case T::NotFound:
      return "FieldValueNotFound";
    case T::NotSupported:
      return "FieldValueNotSupported";
    case T::Forbidden:
      return "FieldValueForbidden";
    case T::TooLong:
      return "FieldValueTooLong";
    case T::TooMany:
      return "FieldValueTooMany";
    case T::TypeInvalid:
      return "FieldValueTypeInvalid";
    case T::Unknown:
      return "FieldValueInvalid";
  }
  return "FieldValueInvalid";
}

model::Node status_node(const ApiError& error) {
  using model::Node;
  Node n = Node::map();
  n.set("kind", Node::string("Status"));
  n.set("apiVersion", Node::string("v1"));
  n.set("metadata", Node::map());
  n.set("status", Node::string("Failure"));
  n.set("message", Node::string(error.message));
  n.set("reason", Node::string(error.reason));
  if (!error.name.empty() || !error.kind.empty() || !error.causes.empty()) {
    Node& details = n.set("details", Node::map());
    if (!error.name.empty()) details.set("name", Node::string(error.name));
    if (!error.kind.empty()) details.set("kind", Node::string(error.kind));
    if (!error.causes.empty()) {
      Node& causes = details.set("causes", Node::sequence());
      for (const auto& c : error.causes) {
        Node& cause = causes.push(Node::map());
        cause.set("reason", Node::string(c.reason));
        cause.set("message", Node::string(c.message));
        if (!c.field.empty()) cause.set("field", Node::string(c.field));
      }
    }
  }
  n.set("code", Node::integer(error.code));
  return n;
}

std::string status_json(const ApiError& error) { return model::to_json(status_node(error)); }

ApiError not_found(std::string_view resource, std::string_view name) {
  ApiError e = make(404, "NotFound", fmt::format("{} \"{}\" not found", resource, name));
  e.name = name;
  e.kind = resource;
  return e;
}

ApiError already_exists(std::string_view resource, std::string_view name) {
  ApiError e = make(409, "AlreadyExists", fmt::format("{} \"{}\" already exists", resource, name));
  e.name = name;
  e.kind = resource;
  return e;
}

ApiError invalid(std::string_view kind, std::string_view name, const model::FieldErrors& errors) {
  // Kubernetes' aggregate error: a single error bare, several in brackets.
  std::string list;
  for (const auto& fe : errors) {
    if (!list.empty()) list += ", ";
    list += fe.to_string();
  }
  if (errors.size() > 1) list = "[" + list + "]";
  ApiError e = make(422, "Invalid", fmt::format("{} \"{}\" is invalid: {}", kind, name, list));
  e.name = name;
  e.kind = kind;
  for (const auto& fe : errors)
    e.causes.push_back({cause_reason(fe.type), error_body(fe), fe.field});
  return e;
}

ApiError bad_request(std::string message) { return make(400, "BadRequest", std::move(message)); }

ApiError forbidden(std::string_view resource, std::string_view name, std::string_view why) {
  ApiError e =
      make(403, "Forbidden", fmt::format("{} \"{}\" is forbidden: {}", resource, name, why));
  e.name = name;
  e.kind = resource;
  return e;
}

ApiError conflict(std::string_view resource, std::string_view name, std::string_view why) {
  ApiError e =
      make(409, "Conflict",
           fmt::format("Operation cannot be fulfilled on {} \"{}\": {}", resource, name, why));
  e.name = name;
  e.kind = resource;
  return e;
}

ApiError method_not_allowed(std::string_view method) {
  return make(
      405, "MethodNotAllowed",
      fmt::format("the server does not allow this method on the requested resource ({})", method));
}

ApiError request_entity_too_large(size_t limit_bytes) {
  return make(413, "RequestEntityTooLarge",
              fmt::format("Request entity too large: limit is {}", limit_bytes));
}

ApiError unsupported_media_type(std::string_view content_type) {
  return make(
      415, "UnsupportedMediaType",
      fmt::format("the body of the request was in an unknown format ({}) - accepted media types "
                  "include: application/json, application/yaml",
                  content_type.empty() ? "no Content-Type" : content_type));
}

// Kubernetes answers a watch from a compacted resourceVersion with 410 and
// reason "Expired"; client-go relists on both Expired and Gone.
ApiError gone(std::string message) { return make(410, "Expired", std::move(message)); }

ApiError unauthorized(std::string message) { return make(401, "Unauthorized", std::move(message)); }

ApiError path_not_found() {
  return make(404, "NotFound", "the server could not find the requested resource");
}

std::optional<ApiError> unknown_fields(const model::FieldErrors& unknown, bool strict,
                                       std::vector<std::string>& warnings) {
  std::string list;
  for (const auto& w : unknown) {
    warnings.push_back(fmt::format("unknown field \"{}\"", w.field));
    list += (list.empty() ? "" : ", ") + warnings.back();
  }
  if (!strict || unknown.empty()) return std::nullopt;
  return bad_request("strict decoding error: " + list);
}

ApiError internal_error(std::string message) {
  return make(500, "InternalError", std::move(message));
}

ApiError not_implemented(std::string message) {
  return make(501, "NotImplemented", std::move(message));
}

ApiError service_unavailable(std::string message) {
  return make(503, "ServiceUnavailable", std::move(message));
}

}  // namespace podagent::agent
