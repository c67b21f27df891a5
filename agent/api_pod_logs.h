#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "agent/api_errors.h"
#include "agent/api_routes.h"
#include "agent/pod_store.h"
#include "model/pod.h"

// GET /api/v1/namespaces/{ns}/pods/{name}/log: a container's log, read from
// the CRI log files under the pod log directory (runtime/container_log.h),
// with the Kubernetes PodLogOptions.
namespace podagent::agent {

// Which file holds the log asked for: the container and its attempt (the
// N of <container>/<N>.log).
struct LogSource {
  std::string container;
  uint32_t attempt = 0;
  bool operator==(const LogSource&) const = default;
};

// Resolves `container` (empty: the pod's only container) and `previous`
// against the pod's status, as the API server and the kubelet do: the
// current attempt is the status's restartCount (while in CrashLoopBackOff
// that is the attempt that just ended, which lastState reports); the
// previous one is lastState's, restartCount - 1 once a newer attempt runs.
// Errors (400): no container named and several to choose from; an unknown
// container; no previous termination; a container that has not started.
std::variant<LogSource, ApiError> resolve_log_source(const model::Pod& pod,
                                                     std::string_view container, bool previous);

// True when the container's log will not grow any more: the pod has
// finished, or the container terminated and its restart policy will not
// start it again. A follow ends then, once everything is sent.
bool log_complete(const model::Pod& pod, std::string_view container);

// The route. `now` is the time sinceSeconds counts back from. The response
// is text/plain; with follow, a stream (ApiResponse::stream) that goes on
// across restarts of the container and ends when the pod is deleted or
// log_complete holds, after the last line written.
ApiResponse pod_log(PodStore& store, const std::filesystem::path& pod_logs_dir,
                    std::string_view namespace_, std::string_view name, const Query& query,
                    model::WallTime now);

}  // namespace podagent::agent
