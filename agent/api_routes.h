#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/api_errors.h"
#include "agent/api_pod_persistence.h"
#include "agent/pod_store.h"
#include "base/ids.h"
#include "model/node.h"
#include "model/pod.h"

namespace podagent::agent {

class BodyStream;               // agent/body_stream.h
class ConfigObjectPersistence;  // agent/config_object_persistence.h
class ConfigObjectStore;        // agent/config_object_store.h
class PodEvents;                // agent/pod_events.h
class PodExec;                  // agent/api_pod_exec.h

// One HTTP request as the routes see it: the transport (unix socket, TCP,
// later TLS) and its limits are the server's business.
struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received: "/api/v1/namespaces/default/pods?watch=1"
  std::string content_type;
  std::string accept;
  std::string authorization;  // for the listener's Authenticator
  std::string upgrade;        // the Upgrade header (kubectl exec asks for SPDY or websocket)
  std::string body;
  // Set by the listener's Authenticator: the caller may only read (403 on
  // writes and on pod logs).
  bool read_only = false;
};

// The answer: a complete body, or (watch set) a stream of watch events the
// server writes as they come, one JSON line each (watch_event_line), until
// watch_timeout passes, the watch closes or the client goes.
struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::string> warnings;  // sent as `Warning: 299 - "<text>"`
  std::shared_ptr<PodWatch> watch;
  std::chrono::seconds watch_timeout{0};
  // How each event is written (null: watch_event_line).
  std::function<std::string(const WatchEvent&)> encode_event;
  // Set instead of `body` (and `watch`): the body, written as a chunked
  // stream piece by piece as the stream gives them (a followed pod log).
  std::shared_ptr<BodyStream> stream;
  // Set instead of everything else: an answer that is not ready when
  // handle() returns (pod exec). The server calls `deferred` once, on the
  // io_context thread, with a callback that takes the answer; the callback
  // is called once, on that thread, at once or later.
  std::function<void(std::function<void(ApiResponse)>)> deferred;
};

// Where the API's pod mutations go: the composition root, which hands them
// to the pod workers. By the time a call is made the pod is persisted and
// stored (PodStore::put, or mark_deleting for remove); statuses come back
// through PodStore::set_status, and once a removed pod has terminated the
// composer calls PodStore::remove. Calls run on the io_context thread.
class PodSink {
 public:
  virtual ~PodSink() = default;
  virtual void create(const model::Pod& pod) = 0;
  // The same UID, a new spec.
  virtual void replace(const model::Pod& pod) = 0;
  virtual void remove(const base::PodUid& uid, int64_t grace_period_seconds) = 0;
};

struct ApiOptions {
  // /version's gitVersion; kubectl reads major/minor from the fixed fields.
  std::string git_version = "v1.32.0-podagent.0.1.0";
  // spec.nodeName given to API pods; a pod naming another node is refused.
  // Empty: left as the client sent it.
  std::string node_name;
  // /readyz answers 200 once this is true (null: always ready).
  std::function<bool()> ready;
  // The Prometheus text for /metrics (null: /metrics is 404).
  std::function<std::string()> metrics;
  // Wall time for creationTimestamp/deletionTimestamp. The composer passes
  // its Clock's wall_now; null: the system clock.
  std::function<model::WallTime()> wall_now;
  // New pod UIDs (null: random 128-bit UUIDs, version 4).
  std::function<std::string()> new_uid;
  // Where the container logs are (the pod log route reads them): the
  // kubelet's podLogsDir. Empty: no logs.
  std::filesystem::path pod_logs_dir;
  // A watch ends after timeoutSeconds, at most this long.
  std::chrono::seconds max_watch_timeout{1800};
  // Runs the commands of POST .../pods/{name}/exec (agent/api_pod_exec.h);
  // null: exec answers 503 (no runtime backend).
  std::shared_ptr<PodExec> exec;
  // The pods' events, for GET /api/v1/events and .../namespaces/{ns}/events
  // (agent/api_events.cc). Not owned; null: both list nothing.
  const PodEvents* events = nullptr;
  // ConfigMaps and Secrets (agent/api_config_objects.cc): their API
  // objects are persisted, then put in the store. Not owned; both set or
  // both null (null: their paths are 404 and discovery leaves them out).
  ConfigObjectStore* config_objects = nullptr;
  ConfigObjectPersistence* config_object_persistence = nullptr;
};

// The query string, decoded ('+' and %XX). A repeated key keeps its first
// value, as Go's url.Values.Get.
class Query {
 public:
  static Query parse(std::string_view query);
  std::optional<std::string> get(std::string_view key) const;
  bool has(std::string_view key) const { return get(key).has_value(); }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Decodes %XX escapes (and '+' as space when `plus_is_space`); nullopt for a
// malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// The REST API's request handling: plain functions of the request, run on
// the io_context thread, testable without sockets.
class ApiRoutes {
 public:
  // The store, sink and persistence must outlive the routes.
  ApiRoutes(PodStore& store, PodSink& sink, PodPersistence& persistence, ApiOptions options = {});

  ApiResponse handle(const ApiRequest& request);

 private:
  struct Target {
    std::string path;
    Query query;
    std::string namespace_;   // of /api/v1/namespaces/{ns}/...; empty otherwise
    std::string name;         // of .../pods/{name}
    std::string subresource;  // of .../pods/{name}/{sub}
  };
  ApiResponse route(const ApiRequest& request, const Target& target);
  // The read-only documents at `path`: discovery, version, OpenAPI, events.
  std::optional<model::Node> document(const std::vector<std::string_view>& path) const;
  ApiResponse list_pods(const ApiRequest& request, const Target& target);
  ApiResponse watch_pods(const ApiRequest& request, const Target& target, PodStore::Filter filter);
  ApiResponse get_pod(const ApiRequest& request, const Target& target);
  ApiResponse create_pod(const ApiRequest& request, const Target& target);
  ApiResponse replace_pod(const ApiRequest& request, const Target& target);
  ApiResponse delete_pod(const ApiRequest& request, const Target& target);
  // Non-interactive exec (api_pod_exec.cc).
  ApiResponse exec_pod(const ApiRequest& request, const Target& target);
  // GET, PUT and PATCH of .../pods/{name}/ephemeralcontainers
  // (api_pod_ephemeral.cc).
  ApiResponse ephemeral_containers(const ApiRequest& request, const Target& target);
  // GET /api/v1/events and /api/v1/namespaces/{ns}/events, with
  // fieldSelector (api_events.cc).
  ApiResponse list_events(const ApiRequest& request, const Target& target);
  // configmaps and secrets (api_config_objects.cc): `resource` is one of
  // them; target.name is empty for the collection, target.namespace_ for
  // all namespaces (then only GET).
  ApiResponse config_objects(const ApiRequest& request, const Target& target,
                             std::string_view resource);
  // T: model::ConfigMap or model::Secret; defined and used in
  // api_config_objects.cc only.
  template <typename T>
  ApiResponse list_objects(const ApiRequest& request, const Target& target);
  template <typename T>
  ApiResponse get_object(const ApiRequest& request, const Target& target);
  template <typename T>
  ApiResponse create_object(const ApiRequest& request, const Target& target);
  template <typename T>
  ApiResponse replace_object(const ApiRequest& request, const Target& target);
  template <typename T>
  ApiResponse delete_object(const ApiRequest& request, const Target& target);
  ApiResponse health(std::string_view check);
  ApiResponse render(const ApiRequest& request, int status, const model::Node& node) const;
  model::WallTime now() const;
  std::string now_rfc3339() const;
  std::string make_uid() const;

  PodStore& store_;
  PodSink& sink_;
  PodPersistence& persistence_;
  ApiOptions options_;
};

// An error as the API answers it: the Status object as JSON.
ApiResponse error_response(const ApiError& error);
// One line of a watch stream: {"type":"ADDED","object":{...}}\n
std::string watch_event_line(const WatchEvent& event);
// The line that ends a watch with an error: {"type":"ERROR","object":Status}\n
std::string watch_error_line(const ApiError& error);

// The annotation that says where a pod came from ("file" for static pods,
// "api" for pods created through the API), as the kubelet's.
inline constexpr std::string_view kConfigSourceAnnotation = "kubernetes.io/config.source";

}  // namespace podagent::agent
