// ConfigMaps and Secrets through the API: list, get, create (POST), replace
// (PUT) and delete, in the namespace or (list) across namespaces. The write
// side validates everything first, then persists, then stores, so that a
// failure leaves no trace and an answered request survives a restart.
//
// An object from the manifest directory is read-only here (403), and its
// name cannot be taken by an API object (409): see ConfigObjectStore.
// A Secret's bytes never appear in an error message, and a read-only caller
// cannot read Secrets at all.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "agent/api_protobuf.h"
#include "agent/api_write_helpers.h"
#include "agent/api_routes.h"
#include "agent/config_object_persistence.h"
#include "agent/config_object_store.h"
#include "agent/label_selector.h"
#include "agent/pod_table.h"
#include "model/config_object_codec.h"
#include "model/document.h"

namespace podagent::agent {

namespace {

using model::ConfigMap;
using model::FieldError;
using model::FieldErrors;
using model::Node;
using model::Secret;

// What differs between the two kinds.
template <typename T>
struct Kind;

template <>
struct Kind<ConfigMap> {
  static constexpr const char* kName = "ConfigMap";
  static constexpr const char* kResource = "configmaps";
  static constexpr const char* kList = "ConfigMapList";
  static model::DecodedConfigMap decode(const Node& n) { return model::decode_config_map(n); }
  static Node encode(const ConfigMap& o) { return model::encode_config_map(o); }
  static FieldErrors validate(const ConfigMap& o) { return model::validate_config_map(o); }
  static FieldErrors shown(FieldErrors e) { return e; }
  static size_t data_count(const ConfigMap& o) { return o.data.size() + o.binary_data.size(); }
  // Kubernetes' ValidateConfigMapUpdate (immutable data), then the rest.
  static FieldErrors validate_update(const ConfigMap& next, const ConfigMap& old) {
    return model::validate_config_map_update(next, old);
  }
};

template <>
struct Kind<Secret> {
  static constexpr const char* kName = "Secret";
  static constexpr const char* kResource = "secrets";
  static constexpr const char* kList = "SecretList";
  static model::DecodedSecret decode(const Node& n) { return model::decode_secret(n); }
  static Node encode(const Secret& o) { return model::encode_secret(o); }
  static FieldErrors validate(const Secret& o) { return model::validate_secret(o); }
  static FieldErrors shown(FieldErrors e) { return redact_secret_errors(std::move(e)); }
  static size_t data_count(const Secret& o) { return o.data.size(); }
  // Kubernetes' ValidateSecretUpdate: the type never changes either.
  static FieldErrors validate_update(const Secret& next, const Secret& old) {
    return model::validate_secret_update(next, old);
  }
};

// ---- request bodies ----

bool known_media_type(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  t.erase(std::remove(t.begin(), t.end(), ' '), t.end());
  return t == "application/json" || t == "application/yaml";
}

template <typename T>
struct DecodedBody {
  std::optional<ApiError> error;
  T object;
  std::vector<std::string> warnings;
};

std::string joined(const FieldErrors& errors, const char* separator) {
  std::string out;
  for (const auto& e : errors) out += (out.empty() ? "" : separator) + e.to_string();
  return out;
}

// fieldValidation=Strict: unknown fields are an error, not a warning.
template <typename T>
DecodedBody<T> decode_body(const ApiRequest& request, const Query& query) {
  DecodedBody<T> out;
  base::Result<std::vector<Node>> docs = std::vector<Node>{};
  if (is_protobuf_media_type(request.content_type)) {
    auto decoded = decode_protobuf_object(request.body);
    if (!decoded) {
      out.error = bad_request("the request body could not be decoded: " + decoded.error().message);
      return out;
    }
    docs = std::vector<Node>{std::move(*decoded)};
  } else if (known_media_type(request.content_type)) {
    docs = model::parse_documents(request.body);
  } else {
    out.error = unsupported_media_type(request.content_type);
    return out;
  }
  // A parser's message may quote the text: for a Secret, its bytes.
  if (!docs) {
    out.error =
        bad_request(std::is_same_v<T, Secret>
                        ? std::string("the request body could not be decoded")
                        : "the request body could not be decoded: " + docs.error().to_string());
    return out;
  }
  const Node* kind = docs->size() == 1 ? docs->front().find("kind") : nullptr;
  if (!kind || kind->text != Kind<T>::kName) {
    out.error =
        bad_request(fmt::format("the request body must hold exactly one {}", Kind<T>::kName));
    return out;
  }
  auto decoded = Kind<T>::decode(docs->front());
  if (!decoded.errors.empty()) {
    out.error =
        bad_request(fmt::format("{0} in version \"v1\" cannot be handled as a {0}: {1}",
                                Kind<T>::kName, joined(Kind<T>::shown(decoded.errors), "; ")));
    return out;
  }
  if (auto e = unknown_fields(decoded.warnings,
                              query.get("fieldValidation").value_or("") == "Strict", out.warnings)) {
    out.error = std::move(e);
    return out;
  }
  out.object = std::move(decoded.object);
  return out;
}

// DeleteOptions' preconditions and dryRun, from the query and the body.
struct DeleteOptions {
  std::string uid;
  std::string resource_version;
  bool dry_run = false;
};

std::optional<ApiError> parse_delete_options(const ApiRequest& request, const Query& query,
                                             DeleteOptions& out) {
  out.dry_run = is_dry_run(query);
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
  auto docs = model::parse_documents(request.body);
  if (!docs || docs->size() != 1 || !docs->front().is_map())
    return bad_request("the request body is not a DeleteOptions object");
  const Node& body = docs->front();
  if (const Node* pre = body.find("preconditions")) {
    if (const Node* uid = pre->find("uid"); uid && uid->is_scalar()) out.uid = uid->text;
    if (const Node* rv = pre->find("resourceVersion"); rv && rv->is_scalar())
      out.resource_version = rv->text;
  }
  if (const Node* dry = body.find("dryRun"); dry && dry->is_sequence())
    for (const auto& item : dry->items) out.dry_run = out.dry_run || item.text == "All";
  return std::nullopt;
}

// ---- lists and tables ----

// metadata.name and metadata.namespace, as the API server allows them for
// these kinds; an empty selector matches everything.
struct NameSelector {
  std::vector<FieldSelector::Term> terms;
  bool matches(const model::ObjectMeta& meta) const {
    return std::all_of(terms.begin(), terms.end(), [&](const FieldSelector::Term& t) {
      const std::string& value = t.field == "metadata.name" ? meta.name : meta.namespace_;
      return (value == t.value) == t.equals;
    });
  }
};

base::Result<NameSelector> parse_name_selector(const std::string& text, const char* resource) {
  auto parsed = FieldSelector::parse(text);
  if (!parsed) return parsed.error();
  NameSelector out;
  for (const auto& t : parsed->terms()) {
    if (t.field != "metadata.name" && t.field != "metadata.namespace")
      return base::Error(fmt::format("field label not supported: {} (for {})", t.field, resource));
    out.terms.push_back(t);
  }
  return out;
}

std::string age_of(const std::string& created, model::WallTime now) {
  const auto then = parse_timestamp(created);
  if (!then) return "<unknown>";
  return human_duration(std::chrono::duration_cast<std::chrono::seconds>(now - *then));
}

template <typename T>
std::vector<std::string> row_cells(const T& object, model::WallTime now) {
  std::vector<std::string> cells = {object.metadata.name};
  if constexpr (std::is_same_v<T, Secret>) cells.push_back(object.type);
  cells.push_back(std::to_string(Kind<T>::data_count(object)));
  cells.push_back(age_of(object.metadata.creation_timestamp, now));
  return cells;
}

// A meta.k8s.io/v1 Table, as `kubectl get` asks for it: NAME (TYPE) DATA AGE.
template <typename T>
Node object_table(const std::vector<const T*>& objects, uint64_t resource_version,
                  model::WallTime now) {
  Node table = Node::map();
  table.set("kind", Node::string("Table"));
  table.set("apiVersion", Node::string("meta.k8s.io/v1"));
  table.set("metadata", Node::map())
      .set("resourceVersion", Node::string(std::to_string(resource_version)));
  Node& columns = table.set("columnDefinitions", Node::sequence());
  std::vector<const char*> names = {"Name", "Data", "Age"};
  if constexpr (std::is_same_v<T, Secret>) names.insert(names.begin() + 1, "Type");
  for (const char* name : names) {
    Node& col = columns.push(Node::map());
    col.set("name", Node::string(name));
    col.set("type", Node::string("string"));
    col.set("format", Node::string(std::string_view(name) == "Name" ? "name" : ""));
    col.set("description", Node::string(""));
    col.set("priority", Node::integer(0));
  }
  Node& rows = table.set("rows", Node::sequence());
  for (const T* object : objects) {
    Node& row = rows.push(Node::map());
    Node& cells = row.set("cells", Node::sequence());
    for (auto& cell : row_cells(*object, now)) cells.push(Node::string(std::move(cell)));
    Node partial = Node::map();
    partial.set("kind", Node::string("PartialObjectMetadata"));
    partial.set("apiVersion", Node::string("meta.k8s.io/v1"));
    Node encoded = Kind<T>::encode(*object);
    if (const Node* meta = encoded.find("metadata")) partial.set("metadata", *meta);
    row.set("object", std::move(partial));
  }
  return table;
}

Node success_status(const std::string& name, const char* resource, const std::string& uid) {
  Node n = Node::map();
  n.set("kind", Node::string("Status"));
  n.set("apiVersion", Node::string("v1"));
  n.set("metadata", Node::map());
  n.set("status", Node::string("Success"));
  Node& details = n.set("details", Node::map());
  details.set("name", Node::string(name));
  details.set("kind", Node::string(resource));
  details.set("uid", Node::string(uid));
  return n;
}

ApiError read_only_object(const char* resource, const std::string& name) {
  return forbidden(resource, name,
                   "an object from the manifest directory is read-only through the API; edit or "
                   "remove its manifest file instead");
}

}  // namespace

// ---- routing ----

ApiResponse ApiRoutes::config_objects(const ApiRequest& request, const Target& target,
                                      std::string_view resource) {
  const bool secrets = resource == "secrets";
  const std::string& method = request.method;
  const bool get = method == "GET" || method == "HEAD";
  if (request.read_only && (secrets || !get))
    return error_response(forbidden(resource, target.name, "the caller may only read"));
  if (target.namespace_.empty() && !get) return error_response(method_not_allowed(method));
  if (target.name.empty()) {
    if (get)
      return secrets ? list_objects<Secret>(request, target)
                     : list_objects<ConfigMap>(request, target);
    if (method != "POST") return error_response(method_not_allowed(method));
    return secrets ? create_object<Secret>(request, target)
                   : create_object<ConfigMap>(request, target);
  }
  if (get)
    return secrets ? get_object<Secret>(request, target) : get_object<ConfigMap>(request, target);
  if (method == "PUT")
    return secrets ? replace_object<Secret>(request, target)
                   : replace_object<ConfigMap>(request, target);
  if (method == "DELETE")
    return secrets ? delete_object<Secret>(request, target)
                   : delete_object<ConfigMap>(request, target);
  return error_response(method_not_allowed(method));
}

// ---- reads ----

template <typename T>
ApiResponse ApiRoutes::list_objects(const ApiRequest& request, const Target& target) {
  if (const auto watch = target.query.get("watch"); watch && (*watch == "true" || *watch == "1"))
    return error_response(not_implemented(fmt::format("{} cannot be watched", Kind<T>::kResource)));
  auto labels = LabelSelector::parse(target.query.get("labelSelector").value_or(""));
  if (!labels) return error_response(bad_request(labels.error().message));
  auto fields =
      parse_name_selector(target.query.get("fieldSelector").value_or(""), Kind<T>::kResource);
  if (!fields) return error_response(bad_request(fields.error().message));
  const model::ConfigObjectsPtr view = options_.config_objects->current();
  std::vector<const T*> selected;
  for (const auto& [key, object] : objects_of<T>(*view)) {
    if (!target.namespace_.empty() && key.first != target.namespace_) continue;
    if (labels->matches(object.metadata.labels) && fields->matches(object.metadata))
      selected.push_back(&object);
  }
  const uint64_t version = options_.config_objects->resource_version();
  if (wants_table(request.accept))
    return render(request, 200, object_table(selected, version, now()));
  Node items = Node::sequence();
  for (const T* object : selected) items.push(Kind<T>::encode(*object));
  Node list = Node::map();
  list.set("kind", Node::string(Kind<T>::kList));
  list.set("apiVersion", Node::string("v1"));
  list.set("metadata", Node::map()).set("resourceVersion", Node::string(std::to_string(version)));
  list.set("items", std::move(items));
  return render(request, 200, list);
}

template <typename T>
ApiResponse ApiRoutes::get_object(const ApiRequest& request, const Target& target) {
  const model::ConfigObjectsPtr view = options_.config_objects->current();
  const auto& objects = objects_of<T>(*view);
  auto it = objects.find({target.namespace_, target.name});
  if (it == objects.end()) return error_response(not_found(Kind<T>::kResource, target.name));
  if (wants_table(request.accept))
    return render(
        request, 200,
        object_table<T>({&it->second}, options_.config_objects->resource_version(), now()));
  return render(request, 200, Kind<T>::encode(it->second));
}

// ---- writes ----

template <typename T>
ApiResponse ApiRoutes::create_object(const ApiRequest& request, const Target& target) {
  DecodedBody<T> body = decode_body<T>(request, target.query);
  if (body.error) return error_response(*body.error);
  T& object = body.object;
  model::ObjectMeta& meta = object.metadata;
  if (auto e = settle_namespace(meta, target.namespace_)) return error_response(*e);
  if (meta.name.empty() && !meta.generate_name.empty())
    meta.name = meta.generate_name + random_suffix();
  // Fields the server owns; whatever the client sent is replaced.
  meta.uid = make_uid();
  meta.creation_timestamp = now_rfc3339();
  meta.resource_version.clear();
  meta.deletion_timestamp.clear();
  meta.deletion_grace_period_seconds.reset();
  meta.generation = 0;
  model::apply_defaults(object);
  if (auto errors = Kind<T>::validate(object); !errors.empty())
    return error_response(invalid(Kind<T>::kName, meta.name, Kind<T>::shown(std::move(errors))));
  ConfigObjectStore& store = *options_.config_objects;
  if (store.source<T>({meta.namespace_, meta.name}))
    return error_response(already_exists(Kind<T>::kResource, meta.name));
  if (is_dry_run(target.query))
    return with_warnings(render(request, 201, Kind<T>::encode(object)), body.warnings);

  if (auto s = options_.config_object_persistence->save(object); !s)
    return error_response(internal_error(s.error().to_string()));
  const T stored = store.put(std::move(object));
  return with_warnings(render(request, 201, Kind<T>::encode(stored)), body.warnings);
}

template <typename T>
ApiResponse ApiRoutes::replace_object(const ApiRequest& request, const Target& target) {
  DecodedBody<T> body = decode_body<T>(request, target.query);
  if (body.error) return error_response(*body.error);
  T& object = body.object;
  model::ObjectMeta& meta = object.metadata;
  if (auto e = settle_namespace(meta, target.namespace_)) return error_response(*e);
  if (meta.name.empty()) meta.name = target.name;
  if (meta.name != target.name)
    return error_response(bad_request(
        fmt::format("the name of the object ({}) does not match the name on the URL ({})",
                    meta.name, target.name)));
  ConfigObjectStore& store = *options_.config_objects;
  const model::ObjectKey key{target.namespace_, target.name};
  const auto source = store.source<T>(key);
  if (!source) return error_response(not_found(Kind<T>::kResource, target.name));
  if (*source == ConfigObjectSource::Manifest)
    return error_response(read_only_object(Kind<T>::kResource, target.name));
  const T& old = objects_of<T>(store.api_objects()).at(key);
  if (!meta.resource_version.empty() && meta.resource_version != old.metadata.resource_version)
    return error_response(conflict(Kind<T>::kResource, target.name,
                                   "the object has been modified; please apply your changes to the "
                                   "latest version and try again"));
  if (!meta.uid.empty() && meta.uid != old.metadata.uid)
    return error_response(
        conflict(Kind<T>::kResource, target.name,
                 fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                             meta.uid, old.metadata.uid)));
  meta.uid = old.metadata.uid;
  meta.creation_timestamp = old.metadata.creation_timestamp;
  meta.deletion_timestamp.clear();
  meta.deletion_grace_period_seconds.reset();
  meta.generation = 0;
  model::apply_defaults(object);
  FieldErrors errors = Kind<T>::validate_update(object, old);
  if (!errors.empty())
    return error_response(invalid(Kind<T>::kName, meta.name, Kind<T>::shown(std::move(errors))));
  if (is_dry_run(target.query)) {
    meta.resource_version = old.metadata.resource_version;
    return with_warnings(render(request, 200, Kind<T>::encode(object)), body.warnings);
  }

  if (auto s = options_.config_object_persistence->save(object); !s)
    return error_response(internal_error(s.error().to_string()));
  const T stored = store.put(std::move(object));
  return with_warnings(render(request, 200, Kind<T>::encode(stored)), body.warnings);
}

template <typename T>
ApiResponse ApiRoutes::delete_object(const ApiRequest& request, const Target& target) {
  DeleteOptions options;
  if (auto e = parse_delete_options(request, target.query, options)) return error_response(*e);
  ConfigObjectStore& store = *options_.config_objects;
  const model::ObjectKey key{target.namespace_, target.name};
  const auto source = store.source<T>(key);
  if (!source) return error_response(not_found(Kind<T>::kResource, target.name));
  if (*source == ConfigObjectSource::Manifest)
    return error_response(read_only_object(Kind<T>::kResource, target.name));
  const T old = objects_of<T>(store.api_objects()).at(key);
  if (!options.uid.empty() && options.uid != old.metadata.uid)
    return error_response(
        conflict(Kind<T>::kResource, target.name,
                 fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                             options.uid, old.metadata.uid)));
  if (!options.resource_version.empty() &&
      options.resource_version != old.metadata.resource_version)
    return error_response(
        conflict(Kind<T>::kResource, target.name,
                 fmt::format("Precondition failed: ResourceVersion in precondition: {}, "
                             "ResourceVersion in object meta: {}",
                             options.resource_version, old.metadata.resource_version)));
  const Node answer = success_status(old.metadata.name, Kind<T>::kResource, old.metadata.uid);
  if (options.dry_run) return render(request, 200, answer);

  if (auto s = options_.config_object_persistence->remove(old); !s)
    return error_response(internal_error(s.error().to_string()));
  store.erase<T>(key);
  return render(request, 200, answer);
}

}  // namespace podagent::agent
