// The write side of the pods API: create (POST), replace (PUT) and delete.
// Each validates everything first, then persists, then stores, then tells
// the sink, so that a failure leaves no trace and an answered request
// survives an agent restart.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "agent/api_routes.h"
#include "agent/api_write_helpers.h"
#include "model/defaults.h"
#include "model/document.h"
#include "model/pod_codec.h"
#include "model/validation.h"

namespace podagent::agent {

namespace {

constexpr std::string_view kSourceApi = "api";
constexpr std::string_view kSourceFile = "file";

// A request body decoded into one Pod, or the error to answer.
struct DecodedBody {
  std::optional<ApiError> error;
  model::Pod pod;
  std::vector<std::string> warnings;
};

std::string media_type(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  std::string out(t);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::optional<ApiError> check_content_type(const ApiRequest& request) {
  const std::string type = media_type(request.content_type);
  if (type == "application/json" || type == "application/yaml") return std::nullopt;
  return unsupported_media_type(request.content_type);
}

// fieldValidation=Strict (kubectl's default once the server says it
// validates): unknown fields are an error instead of a warning.
DecodedBody decode_body(const ApiRequest& request, const Query& query) {
  DecodedBody out;
  if (auto e = check_content_type(request)) {
    out.error = *e;
    return out;
  }
  model::DecodeResult decoded = model::decode_pods(request.body);
  if (!decoded.errors.empty()) {
    out.error =
        bad_request("the request body could not be decoded: " + decoded.errors.front().to_string());
    return out;
  }
  if (decoded.pods.size() != 1 || !decoded.pods.front().where.empty()) {
    out.error = bad_request("the request body must hold exactly one Pod");
    return out;
  }
  model::DecodedPod& one = decoded.pods.front();
  if (!one.errors.empty()) {
    std::string list;
    for (const auto& e : one.errors) list += (list.empty() ? "" : "; ") + e.to_string();
    out.error = bad_request("Pod in version \"v1\" cannot be handled as a Pod: " + list);
    return out;
  }
  if (auto e = unknown_fields(one.warnings, query.get("fieldValidation").value_or("") == "Strict",
                              out.warnings)) {
    out.error = std::move(e);
    return out;
  }
  out.pod = std::move(one.pod);
  return out;
}

bool is_static(const model::Pod& pod) {
  auto it = pod.metadata.annotations.find(std::string(kConfigSourceAnnotation));
  return it != pod.metadata.annotations.end() && it->second == kSourceFile;
}

// Marks the pod as the API's; a pod claiming another source is refused.
void claim_source(model::Pod& pod, model::FieldErrors& errors) {
  auto& annotations = pod.metadata.annotations;
  const std::string key(kConfigSourceAnnotation);
  auto it = annotations.find(key);
  if (it != annotations.end() && it->second != kSourceApi)
    errors.push_back(model::FieldError::forbidden("metadata.annotations[" + key + "]",
                                                  "only the agent sets a pod's source"));
  annotations[key] = std::string(kSourceApi);
}

// DeleteOptions from the body (kind DeleteOptions) and the query.
struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
};

std::optional<ApiError> parse_delete_options(const ApiRequest& request, const Query& query,
                                             DeleteOptions& out) {
  out.dry_run = is_dry_run(query);
  if (auto g = query.get("gracePeriodSeconds")) {
    char* end = nullptr;
    const long long v = std::strtoll(g->c_str(), &end, 10);
    if (g->empty() || *end != '\0')
      return bad_request(fmt::format("invalid gracePeriodSeconds \"{}\"", *g));
    out.grace_period_seconds = v;
  }
  if (request.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    if (auto e = check_content_type(request)) return e;
    auto docs = model::parse_documents(request.body);
    if (!docs || docs->size() != 1 || !docs->front().is_map())
      return bad_request("the request body is not a DeleteOptions object");
    const model::Node& body = docs->front();
    if (const auto* g = body.find("gracePeriodSeconds"); g && !g->is_null()) {
      if (g->kind != model::Node::Kind::Int)
        return bad_request("gracePeriodSeconds must be an integer");
      out.grace_period_seconds = std::stoll(g->text);
    }
    if (const auto* pre = body.find("preconditions")) {
      if (const auto* uid = pre->find("uid"); uid && uid->is_scalar())
        out.precondition_uid = uid->text;
      if (const auto* rv = pre->find("resourceVersion"); rv && rv->is_scalar())
        out.precondition_resource_version = rv->text;
    }
    if (const auto* dry = body.find("dryRun"); dry && dry->is_sequence())
      for (const auto& item : dry->items) out.dry_run = out.dry_run || item.text == "All";
  }
  if (out.grace_period_seconds && *out.grace_period_seconds < 0)
    return bad_request("gracePeriodSeconds must be zero or positive");
  return std::nullopt;
}

}  // namespace

ApiResponse ApiRoutes::create_pod(const ApiRequest& request, const Target& target) {
  DecodedBody body = decode_body(request, target.query);
  if (body.error) return error_response(*body.error);
  model::Pod& pod = body.pod;
  if (auto e = settle_namespace(pod.metadata, target.namespace_)) return error_response(*e);
  if (pod.metadata.name.empty() && !pod.metadata.generate_name.empty())
    pod.metadata.name = pod.metadata.generate_name + random_suffix();

  // Fields the server owns; whatever the client sent is replaced.
  pod.metadata.uid = make_uid();
  pod.metadata.creation_timestamp = now_rfc3339();
  pod.metadata.resource_version.clear();
  pod.metadata.deletion_timestamp.clear();
  pod.metadata.deletion_grace_period_seconds.reset();
  pod.metadata.generation = 1;
  pod.status = {};
  model::FieldErrors errors;
  claim_source(pod, errors);
  if (!options_.node_name.empty()) {
    if (pod.spec.node_name.empty()) pod.spec.node_name = options_.node_name;
    if (pod.spec.node_name != options_.node_name)
      errors.push_back(
          model::FieldError::invalid("spec.nodeName", model::quote(pod.spec.node_name),
                                     "this agent runs the pods of node " + options_.node_name));
  }
  model::apply_defaults(pod);
  for (auto& e : model::validate_pod(pod)) errors.push_back(std::move(e));
  if (!errors.empty()) return error_response(invalid("Pod", pod.metadata.name, errors));
  if (store_.get(pod.metadata.namespace_, pod.metadata.name))
    return error_response(already_exists("pods", pod.metadata.name));
  if (is_dry_run(target.query))
    return with_warnings(render(request, 201, model::encode_pod(pod)), body.warnings);

  if (auto s = persistence_.save(pod); !s)
    return error_response(internal_error(s.error().to_string()));
  PodPtr stored = store_.put(pod);
  sink_.create(*stored);
  return with_warnings(render(request, 201, model::encode_pod(*stored)), body.warnings);
}

ApiResponse ApiRoutes::replace_pod(const ApiRequest& request, const Target& target) {
  DecodedBody body = decode_body(request, target.query);
  if (body.error) return error_response(*body.error);
  model::Pod& pod = body.pod;
  if (auto e = settle_namespace(pod.metadata, target.namespace_)) return error_response(*e);
  if (pod.metadata.name.empty()) pod.metadata.name = target.name;
  if (pod.metadata.name != target.name)
    return error_response(bad_request(
        fmt::format("the name of the object ({}) does not match the name on the URL ({})",
                    pod.metadata.name, target.name)));
  PodPtr old = store_.get(target.namespace_, target.name);
  if (!old) return error_response(not_found("pods", target.name));
  if (is_static(*old))
    return error_response(
        forbidden("pods", target.name,
                  "a static pod is read-only through the API; edit its manifest file instead"));
  if (!old->metadata.deletion_timestamp.empty())
    return error_response(conflict("pods", target.name, "the pod is being deleted"));
  if (!pod.metadata.resource_version.empty() &&
      pod.metadata.resource_version != old->metadata.resource_version)
    return error_response(conflict("pods", target.name,
                                   "the object has been modified; please apply your changes to the "
                                   "latest version and try again"));
  if (!pod.metadata.uid.empty() && pod.metadata.uid != old->metadata.uid)
    return error_response(
        conflict("pods", target.name,
                 fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                             pod.metadata.uid, old->metadata.uid)));

  pod.metadata.uid = old->metadata.uid;
  pod.metadata.creation_timestamp = old->metadata.creation_timestamp;
  pod.metadata.deletion_timestamp.clear();
  pod.metadata.deletion_grace_period_seconds.reset();
  pod.status = {};
  model::FieldErrors errors;
  claim_source(pod, errors);
  if (pod.spec.node_name.empty()) pod.spec.node_name = old->spec.node_name;
  if (pod.spec.node_name != old->spec.node_name)
    errors.push_back(
        model::FieldError::forbidden("spec.nodeName", "a pod's node cannot be changed"));
  model::apply_defaults(pod);
  for (auto& e : model::validate_pod(pod)) errors.push_back(std::move(e));
  if (!errors.empty()) return error_response(invalid("Pod", pod.metadata.name, errors));
  pod.metadata.generation = old->metadata.generation + (pod.spec == old->spec ? 0 : 1);
  if (is_dry_run(target.query)) {
    pod.status = old->status;
    return with_warnings(render(request, 200, model::encode_pod(pod)), body.warnings);
  }

  if (auto s = persistence_.save(pod); !s)
    return error_response(internal_error(s.error().to_string()));
  PodPtr stored = store_.put(pod);
  sink_.replace(*stored);
  return with_warnings(render(request, 200, model::encode_pod(*stored)), body.warnings);
}

ApiResponse ApiRoutes::delete_pod(const ApiRequest& request, const Target& target) {
  DeleteOptions options;
  if (auto e = parse_delete_options(request, target.query, options)) return error_response(*e);
  PodPtr pod = store_.get(target.namespace_, target.name);
  if (!pod) return error_response(not_found("pods", target.name));
  if (is_static(*pod))
    return error_response(forbidden("pods", target.name,
                                    "a static pod is read-only through the API; remove its "
                                    "manifest file from the manifest directory to delete it"));
  if (!options.precondition_uid.empty() && options.precondition_uid != pod->metadata.uid)
    return error_response(
        conflict("pods", target.name,
                 fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                             options.precondition_uid, pod->metadata.uid)));
  if (!options.precondition_resource_version.empty() &&
      options.precondition_resource_version != pod->metadata.resource_version)
    return error_response(conflict(
        "pods", target.name,
        fmt::format("Precondition failed: ResourceVersion in precondition: {}, "
                    "ResourceVersion in object meta: {}",
                    options.precondition_resource_version, pod->metadata.resource_version)));
  const int64_t grace = options.grace_period_seconds.value_or(
      pod->spec.termination_grace_period_seconds.value_or(30));
  if (options.dry_run) return render(request, 200, model::encode_pod(*pod));

  const base::PodUid uid(pod->metadata.uid);
  if (auto s = persistence_.remove(uid); !s)
    return error_response(internal_error(s.error().to_string()));
  PodPtr marked = store_.mark_deleting(uid, now_rfc3339(), grace);
  sink_.remove(uid, grace);  // may already remove the pod from the store
  return render(request, 200, model::encode_pod(*marked));
}

}  // namespace podagent::agent
