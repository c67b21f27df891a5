// Routing, discovery, health and the read side of the pods API. The write
// side (create, replace, delete) is in api_pod_writes.cc.

#include "agent/api_routes.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <random>

#include "agent/api_pod_logs.h"
#include "agent/label_selector.h"
#include "agent/pod_table.h"
#include "model/document.h"
#include "model/pod_codec.h"

namespace podagent::agent {

namespace {

using model::Node;

Node str(std::string s) { return Node::string(std::move(s)); }

Node strings(std::initializer_list<const char*> items) {
  Node n = Node::sequence();
  for (const char* s : items) n.push(str(s));
  return n;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;  // path starts with '/'
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

Node api_versions() {
  Node n = Node::map();
  n.set("kind", str("APIVersions"));
  n.set("versions", strings({"v1"}));
  n.set("serverAddressByClientCIDRs", Node::sequence());
  return n;
}

Node api_resource(const char* name, const char* singular, const char* kind,
                  std::initializer_list<const char*> verbs,
                  std::initializer_list<const char*> short_names) {
  Node r = Node::map();
  r.set("name", str(name));
  r.set("singularName", str(singular));
  r.set("namespaced", Node::boolean(true));
  r.set("kind", str(kind));
  r.set("verbs", strings(verbs));
  if (short_names.size() > 0) r.set("shortNames", strings(short_names));
  return r;
}

// `config_objects`: the agent serves configmaps and secrets.
Node api_resource_list(bool config_objects) {
  Node n = Node::map();
  n.set("kind", str("APIResourceList"));
  n.set("groupVersion", str("v1"));
  Node& resources = n.set("resources", Node::sequence());
  Node& pods = resources.push(api_resource(
      "pods", "pod", "Pod", {"create", "delete", "get", "list", "update", "watch"}, {"po"}));
  pods.set("categories", strings({"all"}));
  resources.push(api_resource("pods/log", "", "Pod", {"get"}, {}));
  resources.push(api_resource("pods/status", "", "Pod", {"get"}, {}));
  resources.push(api_resource("events", "event", "Event", {"list"}, {"ev"}));
  if (config_objects) {
    resources.push(api_resource("configmaps", "configmap", "ConfigMap",
                                {"create", "delete", "get", "list", "update"}, {"cm"}));
    resources.push(api_resource("secrets", "secret", "Secret",
                                {"create", "delete", "get", "list", "update"}, {}));
  }
  return n;
}

Node api_group_list() {
  Node n = Node::map();
  n.set("kind", str("APIGroupList"));
  n.set("apiVersion", str("v1"));
  n.set("groups", Node::sequence());
  return n;
}

// OpenAPI v3, only as far as kubectl reads it: `kubectl create/replace`
// validate by default, and use the server's own validation
// (fieldValidation=Strict) when the OpenAPI document of the group version
// lists that query parameter on the kind's PATCH operation; without any
// OpenAPI they refuse to send the object at all. The schemas are left out.
Node openapi_root() {
  Node n = Node::map();
  Node& paths = n.set("paths", Node::map());
  paths.set("api/v1", Node::map()).set("serverRelativeURL", str("/openapi/v3/api/v1"));
  return n;
}

// The PATCH operation of one kind, as far as kubectl reads it.
Node openapi_patch(const char* kind) {
  Node patch = Node::map();
  Node& gvk = patch.set("x-kubernetes-group-version-kind", Node::map());
  gvk.set("group", str(""));
  gvk.set("version", str("v1"));
  gvk.set("kind", str(kind));
  Node& parameters = patch.set("parameters", Node::sequence());
  for (const char* name : {"dryRun", "fieldValidation"}) {
    Node& p = parameters.push(Node::map());
    p.set("name", str(name));
    p.set("in", str("query"));
    p.set("schema", Node::map()).set("type", str("string"));
  }
  patch.set("responses", Node::map());
  return patch;
}

Node openapi_v1(bool config_objects) {
  Node n = Node::map();
  n.set("openapi", str("3.0.0"));
  Node& info = n.set("info", Node::map());
  info.set("title", str("podagent"));
  info.set("version", str("v1"));
  Node& paths = n.set("paths", Node::map());
  paths.set("/api/v1/namespaces/{namespace}/pods/{name}", Node::map())
      .set("patch", openapi_patch("Pod"));
  if (config_objects) {
    paths.set("/api/v1/namespaces/{namespace}/configmaps/{name}", Node::map())
        .set("patch", openapi_patch("ConfigMap"));
    paths.set("/api/v1/namespaces/{namespace}/secrets/{name}", Node::map())
        .set("patch", openapi_patch("Secret"));
  }
  return n;
}

Node version_info(const std::string& git_version) {
#if defined(__x86_64__)
  constexpr const char* kPlatform = "linux/amd64";
#elif defined(__aarch64__)
  constexpr const char* kPlatform = "linux/arm64";
#else
  constexpr const char* kPlatform = "linux/unknown";
#endif
  Node n = Node::map();
  n.set("major", str("1"));
  n.set("minor", str("32"));
  n.set("gitVersion", str(git_version));
  n.set("gitCommit", str(""));
  n.set("gitTreeState", str(""));
  n.set("buildDate", str(""));
  n.set("goVersion", str(""));
  n.set("compiler", str(""));
  n.set("platform", str(kPlatform));
  return n;
}

Node list_of(const char* kind, uint64_t resource_version, Node items = Node::sequence()) {
  Node n = Node::map();
  n.set("kind", str(kind));
  n.set("apiVersion", str("v1"));
  Node& meta = n.set("metadata", Node::map());
  meta.set("resourceVersion", str(std::to_string(resource_version)));
  n.set("items", std::move(items));
  return n;
}

ApiResponse text(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

bool is_true(const std::optional<std::string>& v) { return v && (*v == "true" || *v == "1"); }

}  // namespace

// ---- query strings ---------------------------------------------------------

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%') {
      unsigned value = 0;
      if (i + 2 >= text.size()) return std::nullopt;
      auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
      if (ec != std::errc() || ptr != text.data() + i + 3) return std::nullopt;
      out += static_cast<char>(value);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

Query Query::parse(std::string_view query) {
  Query q;
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (key && value) q.values_.emplace(*key, *value);  // Go's url.ParseQuery drops bad pairs too
  }
  return q;
}

std::optional<std::string> Query::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

// ---- responses ---------------------------------------------------------------

ApiResponse error_response(const ApiError& error) {
  ApiResponse r;
  r.status = error.code;
  r.body = status_json(error);
  return r;
}

std::string watch_event_line(const WatchEvent& event) {
  Node n = Node::map();
  n.set("type", str(to_string(event.type)));
  n.set("object", model::encode_pod(*event.object));
  return model::to_json(n) + "\n";
}

std::string watch_error_line(const ApiError& error) {
  Node n = Node::map();
  n.set("type", str("ERROR"));
  n.set("object", status_node(error));
  return model::to_json(n) + "\n";
}

namespace {
// YAML only for a client that asks for it and not for JSON.
bool wants_yaml(std::string_view accept) {
  return accept.starts_with("application/yaml") && accept.find("json") == std::string_view::npos;
}
}  // namespace

ApiResponse ApiRoutes::render(const ApiRequest& request, int status, const Node& node) const {
  ApiResponse r;
  r.status = status;
  if (wants_yaml(request.accept)) {
    r.content_type = "application/yaml";
    r.body = model::to_yaml(node);
  } else {
    r.body = model::to_json(node);
  }
  return r;
}

// ---- routing -------------------------------------------------------------------

ApiRoutes::ApiRoutes(PodStore& store, PodSink& sink, PodPersistence& persistence,
                     ApiOptions options)
    : store_(store), sink_(sink), persistence_(persistence), options_(std::move(options)) {}

ApiResponse ApiRoutes::handle(const ApiRequest& request) {
  Target target;
  const std::string_view raw = request.target;
  const size_t q = raw.find('?');
  auto path = percent_decode(raw.substr(0, q), false);
  if (!path || path->empty() || path->front() != '/')
    return error_response(bad_request("malformed request path"));
  target.path = std::move(*path);
  if (q != std::string_view::npos) target.query = Query::parse(raw.substr(q + 1));
  return route(request, target);
}

std::optional<Node> ApiRoutes::document(const std::vector<std::string_view>& seg) const {
  auto is = [&](std::initializer_list<std::string_view> path) {
    return seg.size() == path.size() && std::equal(path.begin(), path.end(), seg.begin());
  };
  if (is({"version"})) return version_info(options_.git_version);
  if (is({"api"})) return api_versions();
  if (is({"apis"})) return api_group_list();
  if (is({"api", "v1"})) return api_resource_list(options_.config_objects != nullptr);
  if (is({"openapi", "v3"})) return openapi_root();
  if (is({"openapi", "v3", "api", "v1"})) return openapi_v1(options_.config_objects != nullptr);
  const bool events = is({"api", "v1", "events"}) ||
                      (seg.size() == 5 && is({"api", "v1", "namespaces", seg[3], "events"}));
  if (events) return list_of("EventList", store_.resource_version());
  return std::nullopt;
}

ApiResponse ApiRoutes::route(const ApiRequest& request, const Target& target_in) {
  Target target = target_in;
  const auto seg = split_path(target.path);
  const std::string& method = request.method;
  const bool get = method == "GET" || method == "HEAD";

  if (seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "livez" || seg[0] == "readyz"))
    return get ? health(seg[0]) : error_response(method_not_allowed(method));
  if (seg.size() == 1 && seg[0] == "metrics" && options_.metrics) {
    if (!get) return error_response(method_not_allowed(method));
    ApiResponse r = text(200, options_.metrics());
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }
  if (options_.events && seg.size() >= 3 && seg[0] == "api" && seg[1] == "v1" &&
      (seg.size() == 3 ? seg[2] == "events" : seg.size() == 5 && seg[2] == "namespaces" && seg[4] == "events")) {
    if (!get) return error_response(method_not_allowed(method));
    if (seg.size() == 5) target.namespace_ = seg[3];
    return list_events(request, target);
  }
  if (auto doc = document(seg))
    return get ? render(request, 200, *doc) : error_response(method_not_allowed(method));
  // /api/v1/pods: across namespaces.
  if (seg.size() == 3 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "pods")
    return get ? list_pods(request, target) : error_response(method_not_allowed(method));
  auto config_resource = [&](std::string_view s) {
    return options_.config_objects && (s == "configmaps" || s == "secrets");
  };
  // /api/v1/configmaps, /api/v1/secrets: across namespaces.
  if (seg.size() == 3 && seg[0] == "api" && seg[1] == "v1" && config_resource(seg[2]))
    return config_objects(request, target, seg[2]);
  if (seg.size() < 5 || seg[0] != "api" || seg[1] != "v1" || seg[2] != "namespaces")
    return error_response(path_not_found());
  target.namespace_ = seg[3];
  if (config_resource(seg[4]) && seg.size() <= 6) {
    if (seg.size() == 6) target.name = seg[5];
    return config_objects(request, target, seg[4]);
  }
  if (seg[4] != "pods" || seg.size() > 7) return error_response(path_not_found());
  if (seg.size() == 5) {
    if (get) return list_pods(request, target);
    if (method != "POST") return error_response(method_not_allowed(method));
    if (request.read_only) return error_response(forbidden("pods", "", "the caller may only read"));
    return create_pod(request, target);
  }
  target.name = seg[5];
  if (seg.size() == 7) {
    target.subresource = seg[6];
    if (target.subresource == "status")
      return get ? get_pod(request, target) : error_response(method_not_allowed(method));
    if (target.subresource == "exec") return exec_pod(request, target);
    if (target.subresource == "ephemeralcontainers") return ephemeral_containers(request, target);
    if (target.subresource == "log") {
      if (!get) return error_response(method_not_allowed(method));
      if (request.read_only)
        return error_response(forbidden("pods", target.name, "the caller may only read"));
      return pod_log(store_, options_.pod_logs_dir, target.namespace_, target.name, target.query, now());
    }
    return error_response(path_not_found());
  }
  if (get) return get_pod(request, target);
  if (method != "PUT" && method != "DELETE") return error_response(method_not_allowed(method));
  if (request.read_only)
    return error_response(forbidden("pods", target.name, "the caller may only read"));
  return method == "PUT" ? replace_pod(request, target) : delete_pod(request, target);
}

ApiResponse ApiRoutes::health(std::string_view check) {
  if (check == "readyz" && options_.ready && !options_.ready()) {
    // Kubernetes answers a failed health check with 500 and the failing check.
    return text(500, "[-]sources not read yet\nreadyz check failed\n");
  }
  return text(200, "ok");
}

// ---- the read side of pods -----------------------------------------------------

ApiResponse ApiRoutes::list_pods(const ApiRequest& request, const Target& target) {
  auto labels = LabelSelector::parse(target.query.get("labelSelector").value_or(""));
  if (!labels) return error_response(bad_request(labels.error().message));
  auto fields = FieldSelector::parse(target.query.get("fieldSelector").value_or(""));
  if (!fields) return error_response(bad_request(fields.error().message));
  const std::string ns = target.namespace_;
  auto matches = [ns, labels = *labels, fields = *fields](const model::Pod& pod) {
    return (ns.empty() || pod.metadata.namespace_ == ns) && labels.matches(pod.metadata.labels) &&
           fields.matches(pod);
  };
  if (is_true(target.query.get("watch"))) return watch_pods(request, target, matches);

  if (wants_table(request.accept) || wants_yaml(request.accept)) {
    std::vector<PodPtr> pods = store_.list(ns);
    std::erase_if(pods, [&](const PodPtr& pod) { return !matches(*pod); });
    if (wants_yaml(request.accept)) {
      Node items = Node::sequence();
      for (const PodPtr& pod : pods) items.push(model::encode_pod(*pod));
      return render(request, 200, list_of("PodList", store_.resource_version(), std::move(items)));
    }
    return render(request, 200, pod_table(pods, std::to_string(store_.resource_version()), now()));
  }
  // JSON from the store's cached encodings of the items, spliced into the
  // list's envelope where its empty "items" array closes: the same bytes
  // as encoding the whole list, without encoding any unchanged pod.
  const std::vector<const std::string*> encoded = store_.list_json(ns, matches);
  size_t size = encoded.size();
  for (const std::string* item : encoded) size += item->size();
  const std::string envelope = model::to_json(list_of("PodList", store_.resource_version()));
  constexpr std::string_view kTail = "]}";  // of "items":[]}
  ApiResponse r;
  r.body.reserve(envelope.size() + size);
  r.body.append(envelope, 0, envelope.size() - kTail.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (i > 0) r.body += ',';
    r.body += *encoded[i];
  }
  r.body += kTail;
  return r;
}

ApiResponse ApiRoutes::watch_pods(const ApiRequest& request, const Target& target,
                                  PodStore::Filter filter) {
  std::optional<uint64_t> after;
  const std::string rv = target.query.get("resourceVersion").value_or("");
  if (!rv.empty() && rv != "0") {
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), v);
    if (ec != std::errc() || ptr != rv.data() + rv.size())
      return error_response(bad_request(fmt::format("invalid resourceVersion \"{}\"", rv)));
    after = v;
  }
  std::chrono::seconds timeout = options_.max_watch_timeout;
  if (auto t = target.query.get("timeoutSeconds")) {
    int64_t s = 0;
    auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), s);
    if (ec != std::errc() || ptr != t->data() + t->size() || s < 0)
      return error_response(bad_request(fmt::format("invalid timeoutSeconds \"{}\"", *t)));
    if (s > 0) timeout = std::min(timeout, std::chrono::seconds(s));
  }
  auto watch = store_.watch(std::move(filter), after);
  if (!watch) {
    // As Kubernetes: the watch is answered, with one ERROR event saying 410.
    ApiResponse r;
    r.body = watch_error_line(gone(watch.error().message));
    return r;
  }
  ApiResponse r;
  r.watch = std::shared_ptr<PodWatch>(std::move(*watch));
  r.watch_timeout = timeout;
  if (wants_table(request.accept)) {
    // kubectl get -w: each event's object is a Table of the one pod.
    r.encode_event = [this](const WatchEvent& event) {
      Node n = Node::map();
      n.set("type", str(to_string(event.type)));
      n.set("object", pod_table({event.object}, event.object->metadata.resource_version, now()));
      return model::to_json(n) + "\n";
    };
  }
  return r;
}

ApiResponse ApiRoutes::get_pod(const ApiRequest& request, const Target& target) {
  PodPtr pod = store_.get(target.namespace_, target.name);
  if (!pod) return error_response(not_found("pods", target.name));
  if (wants_table(request.accept))
    return render(request, 200, pod_table({pod}, pod->metadata.resource_version, now()));
  if (wants_yaml(request.accept)) return render(request, 200, model::encode_pod(*pod));
  ApiResponse r;
  r.body = *store_.json(pod);  // encoded once per resourceVersion
  return r;
}

// ---- helpers shared with the write side ------------------------------------------

model::WallTime ApiRoutes::now() const {
  return options_.wall_now ? options_.wall_now() : std::chrono::system_clock::now();
}

std::string ApiRoutes::now_rfc3339() const {
  const std::time_t t = std::chrono::system_clock::to_time_t(now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> buf{};
  const size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf.data(), n);
}

std::string ApiRoutes::make_uid() const {
  if (options_.new_uid) return options_.new_uid();
  std::random_device random;  // the kernel's generator: UIDs must not repeat across restarts
  std::array<uint8_t, 16> b{};
  for (size_t i = 0; i < b.size(); i += 4) {
    const uint32_t r = random();
    for (size_t k = 0; k < 4; ++k) b[i + k] = static_cast<uint8_t>(r >> (8 * k));
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  return fmt::format(
      "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:"
      "02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

}  // namespace podagent::agent
