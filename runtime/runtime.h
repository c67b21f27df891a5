#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/ids.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "model/config_object.h"
#include "model/pod.h"

namespace podagent::runtime {

using base::ContainerId;
using base::PodUid;
using base::SandboxId;
using model::WallTime;

template <typename T>
using Task = boost::asio::awaitable<T>;

// What a sandbox (the pod's infra container) is created from.
struct SandboxConfig {
  PodUid pod_uid;
  std::string pod_name;
  std::string pod_namespace;
  uint32_t attempt = 0;  // how many sandboxes this pod had before
  // The whole pod, for what a backend needs of it (hostname, host
  // namespaces, DNS, ports, runtime class, labels). Never null.
  std::shared_ptr<const model::Pod> pod;
  // Where the pod's container logs go (the kubelet's
  // <podLogsDir>/<namespace>_<name>_<uid>); empty: the backend keeps none.
  std::filesystem::path log_directory;
  bool operator==(const SandboxConfig&) const = default;
};

enum class ContainerKind { Init, Sidecar, App, Ephemeral };

struct ContainerConfig {
  model::Container spec;
  ContainerKind kind = ContainerKind::App;
  uint32_t attempt = 0;      // the container's restart count at creation
  std::string spec_hash;     // hash of `spec`; a change means a new container
  std::shared_ptr<const model::Pod> pod;  // never null
  // The container's CRI-format log, relative to the sandbox's
  // log_directory: <container>/<attempt>.log.
  std::filesystem::path log_path;
  // The ConfigMaps and Secrets that env valueFrom and envFrom read; null
  // when there are none.
  model::ConfigObjectsPtr objects;
  // Volumes the pod worker prepared on the node (configMap, secret,
  // downwardAPI, projected; disk emptyDirs), by volume name: the directory
  // to bind-mount at each volumeMount of that volume, read-only (an
  // emptyDir: as the volumeMount says).
  std::map<std::string, std::filesystem::path> prepared_volumes;
};

enum class SandboxState { Ready, NotReady };

// An id names one sandbox for good: only state and ips ever change.
struct SandboxStatus {
  SandboxId id;
  PodUid pod_uid;
  std::string pod_name;
  std::string pod_namespace;
  uint32_t attempt = 0;
  SandboxState state = SandboxState::Ready;
  WallTime created_at{};
  std::vector<std::string> ips;
  bool operator==(const SandboxStatus&) const = default;
};

enum class ContainerState { Created, Running, Exited, Unknown };

// An id names one container for good: of its status, only state,
// exit_code, reason, message, started_at and finished_at ever change.
struct ContainerStatus {
  ContainerId id;
  SandboxId sandbox_id;
  PodUid pod_uid;
  std::string name;
  ContainerKind kind = ContainerKind::App;
  uint32_t attempt = 0;
  std::string spec_hash;
  ContainerState state = ContainerState::Created;
  int32_t exit_code = 0;
  // For Exited: "Completed", "Error", "OOMKilled", "StartError", ... as the
  // kubelet reports them; empty lets the caller derive it from exit_code.
  std::string reason;
  std::string message;
  std::string image;
  std::string image_id;
  WallTime created_at{};
  std::optional<WallTime> started_at;
  std::optional<WallTime> finished_at;
  bool operator==(const ContainerStatus&) const = default;
};

struct ExecResult {
  int32_t exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
  bool timed_out = false;
};

// A change of a container's state, pushed by the backend as it happens.
struct ContainerEvent {
  enum class Type { Created, Started, Exited, Removed };
  Type type = Type::Exited;
  ContainerId container_id;
  SandboxId sandbox_id;
  PodUid pod_uid;
};

// A sandbox that stopped (its infra process died or it was stopped).
struct SandboxEvent {
  SandboxId sandbox_id;
  PodUid pod_uid;
};

// The sandboxes and containers of one pod (every one with its UID, in any
// state), in creation order.
struct PodRuntimeState {
  std::vector<SandboxStatus> sandboxes;
  std::vector<ContainerStatus> containers;
  bool operator==(const PodRuntimeState&) const = default;
};

// The container runtime as the pod workers see it: CRI-shaped, so that each
// backend (oci, cri, fake) is a thin adapter.
//
// Every call is made from the agent's io_context thread and completes there;
// a backend that blocks (forks a tool, mounts) runs that work elsewhere and
// resumes on the caller's executor. Calls on unknown ids fail with an Error;
// stopping something already stopped succeeds.
class Runtime {
 public:
  virtual ~Runtime() = default;

  virtual Task<base::Result<SandboxId>> run_sandbox(const SandboxConfig& config) = 0;
  // Stops every container of the sandbox, then the sandbox itself.
  virtual Task<base::Status> stop_sandbox(const SandboxId& id) = 0;
  virtual Task<base::Status> remove_sandbox(const SandboxId& id) = 0;

  // An error with a `field` is about the container's configuration (env it
  // cannot resolve, runAsNonRoot against the image's user, a subPath): the
  // pod worker reports it as CreateContainerConfigError; any other as
  // CreateContainerError.
  virtual Task<base::Result<ContainerId>> create_container(const SandboxId& sandbox,
                                                           const ContainerConfig& config) = 0;
  virtual Task<base::Status> start_container(const ContainerId& id) = 0;
  // SIGTERM, then SIGKILL once `grace` has passed. Completes when it exited.
  virtual Task<base::Status> stop_container(const ContainerId& id, std::chrono::milliseconds grace) = 0;
  virtual Task<base::Status> remove_container(const ContainerId& id) = 0;

  virtual Task<base::Result<std::vector<SandboxStatus>>> list_sandboxes() = 0;
  virtual Task<base::Result<std::vector<ContainerStatus>>> list_containers() = 0;
  virtual Task<base::Result<ContainerStatus>> container_status(const ContainerId& id) = 0;
  // The sandboxes and containers of one pod: what a pod's sync looks at.
  // The default filters list_sandboxes() and list_containers(), which costs
  // O(all pods) per call; a backend with a per-pod index overrides it.
  virtual Task<base::Result<PodRuntimeState>> list_pod(const PodUid& pod);
  // As list_pod, into `out`, whose previous contents are replaced (and left
  // unspecified on an error), so that a caller listing many pods in a row
  // reuses one buffer's allocations. The default moves list_pod's result.
  virtual Task<base::Status> list_pod_into(const PodUid& pod, PodRuntimeState& out);

  // Images, against the node's local store: there is no registry, so
  // "pulling" resolves the reference locally, or fails saying how to get the
  // image onto the node. image_status gives the image's id, or nullopt when
  // the node lacks it.
  virtual Task<base::Result<std::optional<std::string>>> image_status(const std::string& ref) = 0;
  virtual Task<base::Result<std::string>> pull_image(const std::string& ref) = 0;

  // Runs `command` in the container; kills it at `timeout`.
  virtual Task<base::Result<ExecResult>> exec(const ContainerId& id, std::vector<std::string> command,
                                              std::chrono::milliseconds timeout) = 0;

  // A socket(2) of `domain` and `type`, created in the network namespace of
  // the sandbox (the node's for a hostNetwork pod), non-blocking and
  // close-on-exec, so that a probe reaches a pod with loopback-only
  // networking. The default creates it in the agent's own namespace (a
  // backend whose sandboxes share the node's network, like the fake).
  virtual base::Result<base::UniqueFd> open_socket_in_sandbox(const SandboxId& id, int domain, int type);

  // Registers the receiver of events. Called once, before any other call;
  // handlers run on the agent's io_context thread.
  using ContainerEventHandler = std::function<void(const ContainerEvent&)>;
  using SandboxEventHandler = std::function<void(const SandboxEvent&)>;
  virtual void set_event_handlers(ContainerEventHandler on_container, SandboxEventHandler on_sandbox) = 0;

  // Registers the receiver of "the node's images changed": an image was
  // imported or removed, by this process or another (`podagent image
  // import`), so that pods waiting for an image are synced at once rather
  // than at the next relist. A second call replaces the handler. The
  // handler runs on the agent's io_context thread, possibly for a change
  // that left every image as it was, and never after shutdown(). The
  // default never calls it (a backend that cannot watch its images).
  using ImagesChangedHandler = std::function<void()>;
  virtual void on_images_changed(ImagesChangedHandler handler) { (void)handler; }

  // Ends the backend's own background work (timers, file watches) once the
  // calls in flight have completed, so that the io_context can run dry;
  // containers keep running. Calls made after it fail. The default does
  // nothing (a backend without background work).
  virtual void shutdown() {}
};

}  // namespace podagent::runtime
