// The ephemeralcontainers subresource of a pod: GET shows the pod; PUT (a
// whole Pod) and PATCH (strategic merge, merge or JSON patch of the Pod)
// change its spec.ephemeralContainers and nothing else, as the API server's
// subresource does. Ephemeral containers may only be added: an existing one
// can be neither changed nor removed. Like the other writes: everything is
// validated first, then persisted (API pods only), stored, and handed to
// the pod workers.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "agent/api_routes.h"
#include "agent/object_patch.h"
#include "model/defaults.h"
#include "model/document.h"
#include "model/pod_codec.h"
#include "model/validation.h"

namespace podagent::agent {

namespace {

std::string lower_media_type(std::string_view content_type) {
  std::string_view t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  std::string out(t);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool is_static_pod(const model::Pod& pod) {
  auto it = pod.metadata.annotations.find(std::string(kConfigSourceAnnotation));
  return it != pod.metadata.annotations.end() && it->second == "file";
}

// The body as one document tree, or the error to answer.
base::Result<model::Node> parse_one(const std::string& body) {
  auto docs = model::parse_documents(body);
  if (!docs)
    return base::Error("the request body could not be parsed: " + docs.error().to_string());
  if (docs->size() != 1) return base::Error("the request body must hold exactly one document");
  return std::move(docs->front());
}

// The pod the request asks for, as a tree: the PUT body, or the stored pod
// with the patch applied.
base::Result<model::Node> requested_tree(const ApiRequest& request, const model::Pod& old) {
  const std::string type = lower_media_type(request.content_type);
  auto body = parse_one(request.body);
  if (!body) return body.error();
  if (request.method == "PUT") {
    if (type != "application/json" && type != "application/yaml")
      return base::Error("unsupported media type");
    return body;
  }
  if (type == "application/strategic-merge-patch+json")
    return apply_strategic_merge_patch(model::encode_pod(old), *body);
  if (type == "application/merge-patch+json")
    return apply_merge_patch(model::encode_pod(old), *body);
  if (type == "application/json-patch+json") return apply_json_patch(model::encode_pod(old), *body);
  return base::Error("unsupported media type");
}

// Kubernetes' ValidatePodEphemeralContainersUpdate: every existing
// ephemeral container is still there, unchanged.
void check_only_added(const model::Pod& old, const model::Pod& updated, model::FieldErrors& out) {
  const auto& now = updated.spec.ephemeral_containers;
  for (const auto& was : old.spec.ephemeral_containers) {
    auto it =
        std::find_if(now.begin(), now.end(), [&](const auto& c) { return c.name == was.name; });
    if (it == now.end()) {
      out.push_back(model::FieldError::forbidden(
          "spec.ephemeralContainers",
          fmt::format("existing ephemeral containers \"{}\" may not be removed", was.name)));
    } else if (!(*it == was)) {
      out.push_back(model::FieldError::forbidden(
          fmt::format("spec.ephemeralContainers[{}]", it - now.begin()),
          fmt::format("existing ephemeral containers \"{}\" may not be changed", was.name)));
    }
  }
}

}  // namespace

ApiResponse ApiRoutes::ephemeral_containers(const ApiRequest& request, const Target& target) {
  const std::string& method = request.method;
  if (method == "GET" || method == "HEAD") return get_pod(request, target);
  if (method != "PUT" && method != "PATCH") return error_response(method_not_allowed(method));
  if (request.read_only)
    return error_response(forbidden("pods", target.name, "the caller may only read"));
  PodPtr old = store_.get(target.namespace_, target.name);
  if (!old) return error_response(not_found("pods", target.name));
  if (!old->metadata.deletion_timestamp.empty())
    return error_response(conflict("pods", target.name, "the pod is being deleted"));

  base::Result<model::Node> tree = requested_tree(request, *old);
  if (!tree) {
    if (tree.error().message == "unsupported media type")
      return error_response(unsupported_media_type(request.content_type));
    return error_response(bad_request(tree.error().message));
  }
  model::DecodeResult decoded;
  model::decode_pod_document(*tree, "", decoded);
  if (decoded.pods.size() != 1)
    return error_response(bad_request("the request body must hold exactly one Pod"));
  model::DecodedPod& asked = decoded.pods.front();
  if (!asked.errors.empty())
    return error_response(bad_request("Pod in version \"v1\" cannot be handled as a Pod: " +
                                      asked.errors.front().to_string()));
  const model::ObjectMeta& meta = asked.pod.metadata;
  if ((!meta.name.empty() && meta.name != old->metadata.name) ||
      (!meta.namespace_.empty() && meta.namespace_ != old->metadata.namespace_))
    return error_response(
        bad_request("the name or namespace of the object does not match the URL"));
  if (!meta.uid.empty() && meta.uid != old->metadata.uid)
    return error_response(conflict("pods", target.name, "the UID of the object does not match"));
  if (!meta.resource_version.empty() && meta.resource_version != old->metadata.resource_version)
    return error_response(conflict("pods", target.name,
                                   "the object has been modified; please apply your changes to the "
                                   "latest version and try again"));

  // Only the ephemeral containers are taken from the request.
  model::Pod updated = *old;
  updated.spec.ephemeral_containers = std::move(asked.pod.spec.ephemeral_containers);
  model::apply_defaults(updated);
  model::FieldErrors errors;
  check_only_added(*old, updated, errors);
  for (auto& e : model::validate_pod(updated)) errors.push_back(std::move(e));
  if (!errors.empty()) return error_response(invalid("Pod", target.name, errors));
  if (updated.spec == old->spec) return render(request, 200, model::encode_pod(*old));
  updated.metadata.generation = old->metadata.generation + 1;
  if (target.query.get("dryRun").value_or("") == "All")
    return render(request, 200, model::encode_pod(updated));

  // A static pod is not the API's to persist: its manifest file is its
  // only durable source. The ephemeral containers added to it last as long
  // as its UID (the file unchanged) in this agent's run: a relist of an
  // unchanged manifest keeps the pod as started (PodConfig), while an
  // edited manifest is a new pod and an agent restart rereads the file.
  if (!is_static_pod(*old)) {
    if (auto s = persistence_.save(updated); !s)
      return error_response(internal_error(s.error().to_string()));
  }
  PodPtr stored = store_.put(updated);
  sink_.replace(*stored);
  return render(request, 200, model::encode_pod(*stored));
}

}  // namespace podagent::agent
