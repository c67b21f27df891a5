#include "agent/api_pod_logs.h"

#include <fmt/format.h>

#include <charconv>
#include <memory>
#include <utility>
#include <vector>

#include "agent/body_stream.h"
#include "model/decode_helpers.h"
#include "runtime/container_log.h"
#include "runtime/container_log_follower.h"

namespace podagent::agent {

namespace {

using model::Container;
using model::ContainerStatus;

// A container of the pod by name, with its status (null when none yet).
struct Found {
  const Container* spec = nullptr;
  const ContainerStatus* status = nullptr;
  bool init = false;
};

Found find_container(const model::Pod& pod, std::string_view name) {
  auto in = [&](const std::vector<Container>& specs, const std::vector<ContainerStatus>& statuses,
                bool init) -> std::optional<Found> {
    for (const Container& c : specs) {
      if (c.name != name) continue;
      Found f{&c, nullptr, init};
      for (const ContainerStatus& s : statuses)
        if (s.name == name) f.status = &s;
      return f;
    }
    return std::nullopt;
  };
  const model::PodStatus& st = pod.status;
  if (auto f = in(pod.spec.containers, st.container_statuses, false)) return *f;
  if (auto f = in(pod.spec.init_containers, st.init_container_statuses, true)) return *f;
  if (auto f = in(pod.spec.ephemeral_containers, st.ephemeral_container_statuses, false)) return *f;
  return {};
}

std::string names(const std::vector<Container>& containers) {
  std::string out;
  for (const Container& c : containers) out += (out.empty() ? "" : " ") + c.name;
  return out;
}

// The API server's answer to a log request without a container name.
ApiError choose_container(const model::Pod& pod) {
  std::string message =
      fmt::format("a container name must be specified for pod {}, choose one of: [{}]",
                  pod.metadata.name, names(pod.spec.containers));
  if (!pod.spec.init_containers.empty())
    message += fmt::format(" or one of the init containers: [{}]", names(pod.spec.init_containers));
  if (!pod.spec.ephemeral_containers.empty())
    message += fmt::format(" or one of the ephemeral containers: [{}]",
                           names(pod.spec.ephemeral_containers));
  return bad_request(std::move(message));
}

// The kubelet's answer for a container without a log to show yet.
ApiError waiting_to_start(const std::string& container, const std::string& pod,
                          const ContainerStatus* status) {
  const std::string reason =
      status && status->state.waiting && !status->state.waiting->reason.empty()
          ? status->state.waiting->reason
          : "ContainerCreating";
  std::string why = ": " + reason;
  if (reason == "ErrImagePull") why = ": image can't be pulled";
  if (reason == "ImagePullBackOff") why = ": trying and failing to pull image";
  return bad_request(
      fmt::format("container \"{}\" in pod \"{}\" is waiting to start{}", container, pod, why));
}

}  // namespace

std::variant<LogSource, ApiError> resolve_log_source(const model::Pod& pod,
                                                     std::string_view container, bool previous) {
  const std::string& pod_name = pod.metadata.name;
  std::string name(container);
  if (name.empty()) {
    if (pod.spec.containers.size() != 1) return choose_container(pod);
    name = pod.spec.containers.front().name;
  }
  const Found found = find_container(pod, name);
  if (!found.spec)
    return bad_request(fmt::format("container {} is not valid for pod {}", name, pod_name));
  const ContainerStatus* s = found.status;
  if (previous) {
    // While the container waits to restart, lastState is the attempt that
    // restartCount counts; once the next one runs, the one before it.
    const int64_t attempt = s ? (s->state.waiting ? s->restart_count : s->restart_count - 1) : -1;
    if (!s || !s->last_state.terminated || attempt < 0)
      return bad_request(fmt::format("previous terminated container \"{}\" in pod \"{}\" not found",
                                     name, pod_name));
    return LogSource{name, static_cast<uint32_t>(attempt)};
  }
  const bool started = s && (s->state.running || s->state.terminated || s->last_state.terminated);
  if (!started) return waiting_to_start(name, pod_name, s);
  return LogSource{name, static_cast<uint32_t>(std::max(0, s->restart_count))};
}

bool log_complete(const model::Pod& pod, std::string_view container) {
  const std::string& phase = pod.status.phase;
  if (phase == model::kPhaseSucceeded || phase == model::kPhaseFailed) return true;
  const Found f = find_container(pod, container);
  if (!f.spec || !f.status || !f.status->state.terminated) return false;
  const bool ok = f.status->state.terminated->exit_code == 0;
  if (f.init && !f.spec->is_sidecar()) return ok || pod.spec.restart_policy == "Never";
  if (f.init) return false;  // a sidecar restarts whatever the pod's policy
  const std::string& policy = pod.spec.restart_policy;
  return policy == "Never" || (policy == "OnFailure" && ok);
}

namespace {

// ---- the query ----

struct LogQuery {
  std::string container;
  bool follow = false;
  bool previous = false;
  runtime::LogReadOptions read;
};

std::optional<bool> parse_bool(const std::string& v) {
  // Go's strconv.ParseBool, which the API server uses.
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False")
    return false;
  return std::nullopt;
}

std::optional<int64_t> parse_int(const std::string& v) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  return n;
}

std::variant<LogQuery, ApiError> parse_query(const Query& query, std::string_view pod) {
  LogQuery q;
  q.container = query.get("container").value_or("");
  for (auto [key, out] : {std::pair{"follow", &q.follow}, std::pair{"previous", &q.previous},
                          std::pair{"timestamps", &q.read.timestamps}}) {
    if (auto v = query.get(key)) {
      auto b = parse_bool(*v);
      if (!b) return bad_request(fmt::format("invalid boolean value \"{}\" for {}", *v, key));
      *out = *b;
    }
  }
  for (auto [key, out] : {std::pair{"tailLines", &q.read.tail_lines},
                          std::pair{"sinceSeconds", &q.read.since_seconds},
                          std::pair{"limitBytes", &q.read.limit_bytes}}) {
    if (auto v = query.get(key)) {
      auto n = parse_int(*v);
      if (!n) return bad_request(fmt::format("invalid integer value \"{}\" for {}", *v, key));
      *out = *n;
    }
  }
  if (auto v = query.get("sinceTime")) {
    auto t = model::decoding::parse_rfc3339(*v);
    if (!t) return bad_request(fmt::format("invalid RFC 3339 time \"{}\" for sinceTime", *v));
    q.read.since_time = *t;
  }
  // The API server's validation of PodLogOptions.
  model::FieldErrors errors;
  const auto& r = q.read;
  if (r.tail_lines && *r.tail_lines < 0)
    errors.push_back(model::FieldError::invalid("tailLines", std::to_string(*r.tail_lines),
                                                "must be greater than or equal to 0"));
  if (r.limit_bytes && *r.limit_bytes < 1)
    errors.push_back(model::FieldError::invalid("limitBytes", std::to_string(*r.limit_bytes),
                                                "must be greater than 0"));
  if (r.since_seconds && r.since_time)
    errors.push_back(model::FieldError::forbidden(
        "sinceSeconds", "at most one of `sinceTime` or `sinceSeconds` may be specified"));
  if (r.since_seconds && *r.since_seconds < 1)
    errors.push_back(model::FieldError::invalid("sinceSeconds", std::to_string(*r.since_seconds),
                                                "must be greater than 0"));
  if (!errors.empty()) return invalid("PodLogOptions", pod, errors);
  return q;
}

// ---- the follow stream ----

// What has been read, then what the follower yields, until the pod is
// deleted or log_complete holds for it (the follower is then told to
// finish: it returns what is left and ends), or limitBytes is reached.
class PodLogStream final : public BodyStream {
 public:
  PodLogStream(std::string first, std::unique_ptr<runtime::LogFollower> follower,
               std::optional<int64_t> bytes_left)
      : first_(std::move(first)), follower_(std::move(follower)), bytes_left_(bytes_left) {}

  // Subscribes to the store's changes of the pod with `uid`.
  void watch(PodStore& store, std::string uid, std::string container) {
    runtime::LogFollower* follower = follower_.get();
    subscription_ = store.subscribe([follower, uid = std::move(uid),
                                     container = std::move(container)](const WatchEvent& event) {
      if (event.object->metadata.uid != uid) return;
      if (event.type == WatchEventType::Deleted || log_complete(*event.object, container))
        follower->finish();
    });
  }

  boost::asio::awaitable<std::optional<std::string>> next() override {
    if (!first_.empty()) co_return std::exchange(first_, std::string());
    if (ended_) co_return std::nullopt;
    auto got = co_await follower_->next();
    // An error (the log directory vanished, the call was cancelled) ends
    // the stream like its end: the client sees the body close.
    if (!got || !*got) {
      ended_ = true;
      co_return std::nullopt;
    }
    std::string chunk = std::move(**got);
    if (bytes_left_) {
      if (static_cast<int64_t>(chunk.size()) >= *bytes_left_) {
        chunk.resize(static_cast<size_t>(*bytes_left_));
        ended_ = true;
      }
      *bytes_left_ -= static_cast<int64_t>(chunk.size());
      if (chunk.empty()) co_return std::nullopt;
    }
    co_return chunk;
  }

 private:
  std::string first_;
  std::unique_ptr<runtime::LogFollower> follower_;
  std::optional<int64_t> bytes_left_;
  bool ended_ = false;
  PodStore::Subscription subscription_;
};

ApiResponse plain(std::string text) {
  ApiResponse r;
  r.content_type = "text/plain";
  r.body = std::move(text);
  return r;
}

}  // namespace

ApiResponse pod_log(PodStore& store, const std::filesystem::path& pod_logs_dir,
                    std::string_view namespace_, std::string_view name, const Query& query,
                    model::WallTime now) {
  auto parsed = parse_query(query, name);
  if (auto* e = std::get_if<ApiError>(&parsed)) return error_response(*e);
  LogQuery& q = std::get<LogQuery>(parsed);
  const PodPtr pod = store.get(namespace_, name);
  if (!pod) return error_response(not_found("pods", name));
  auto source = resolve_log_source(*pod, q.container, q.previous);
  if (auto* e = std::get_if<ApiError>(&source)) return error_response(*e);
  const LogSource& src = std::get<LogSource>(source);
  if (pod_logs_dir.empty()) return plain("");  // the agent keeps no logs

  const auto& meta = pod->metadata;
  const auto dir = runtime::pod_log_directory(pod_logs_dir, meta.namespace_, meta.name, meta.uid) /
                   src.container;
  const bool follow = q.follow && !q.previous && !log_complete(*pod, src.container);
  q.read.hold_unfinished = follow;
  auto read = runtime::read_container_log(dir, src.attempt, q.read, now);
  if (!read) return error_response(internal_error(read.error().to_string()));
  std::optional<int64_t> left = q.read.limit_bytes;
  if (left) *left -= static_cast<int64_t>(read->text.size());
  if (!follow || read->limit_reached || (left && *left <= 0)) return plain(std::move(read->text));

  auto follower = std::make_unique<runtime::LogFollower>(dir, read->end, q.read.timestamps);
  auto stream = std::make_shared<PodLogStream>(std::move(read->text), std::move(follower), left);
  stream->watch(store, meta.uid, src.container);
  ApiResponse r = plain("");
  r.stream = std::move(stream);
  return r;
}

}  // namespace podagent::agent
