#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "runtime/oci/cni.h"
#include "runtime/oci/file_replace_watch.h"
#include "runtime/oci/image_store.h"
#include "runtime/oci/oci_driver.h"
#include "runtime/oci/oci_spec.h"
#include "runtime/oci/oci_state.h"
#include "runtime/oci/pod_cgroups.h"
#include "runtime/runtime.h"

namespace podagent::runtime::oci {

struct OciRuntimeOptions {
  // The agent's state directory: records, bundles and per-pod files go to
  // <state_dir>/oci, images to <state_dir>/images.
  std::filesystem::path state_dir;
  // Handler name (a pod's runtimeClassName) -> OCI runtime binary.
  std::map<std::string, std::filesystem::path> handlers = {{"runc", "runc"}};
  std::string default_handler = "runc";
  // The static pause program; empty: `podagent-pause` beside the running
  // program (/proc/self/exe). podagent-private-mounts (for crun on a hybrid
  // cgroup node) is looked for beside it.
  std::filesystem::path pause_binary;
  // Each container's monitor (OciDriverOptions::monitor_binary); empty:
  // podagent-monitor beside the pause program.
  std::filesystem::path monitor_binary;
  // The node's resolver configuration, the base of each pod's resolv.conf.
  std::filesystem::path node_resolv_conf = "/etc/resolv.conf";
  // A container's log is rotated once it reaches log_max_bytes (checked
  // every log_check_period); log_max_files files are kept, current included.
  uint64_t log_max_bytes = 10 << 20;
  uint32_t log_max_files = 5;
  std::chrono::milliseconds log_check_period{10'000};
  NodeFacts node;
  // Pod networking. An empty cni.conf_dir, or one holding no network list,
  // gives pods loopback only.
  CniOptions cni;
  // Pod cgroups (pod_cgroups.h) under this cgroup, relative to each
  // hierarchy's mount; its limits are node.allocatable_*. Empty: none, and
  // the OCI runtime puts each object in its own default cgroup.
  std::string cgroup_root;
  int64_t pod_pids_limit = 0;  // each pod's and container's pids limit; 0: none
  // hostPath volumes are served only at or below these absolute paths
  // (volumes.h: host_path_allowed); empty: every hostPath is refused.
  std::vector<std::filesystem::path> host_path_allow_list;
};

// The `oci` backend: each sandbox is a pause container and each container
// an OCI bundle run by runc (or crun) under conmon, rootfs an overlay of the
// image store's layers.
//
// Disk layout and crash safety: see oci_state.h. On its first call (after
// set_event_handlers) the runtime recovers: it rebuilds its index from the
// records and the OCI runtime's state, adopts running sandboxes and
// containers untouched, reports exits that happened while no agent ran as
// Exited with their codes, and cleans up records without a runtime object
// (and runtime objects without a record, and directories left by a creation
// cut short).
//
// Pod networking through CNI (cni.h): once the pause process runs, its
// network namespace is bind-mounted at <sandbox dir>/netns (so that it
// outlives the pause for DEL) and the configured network list's ADD runs;
// the pod's IPs become SandboxStatus::ips and the /etc/hosts entry of its
// hostname. What DEL needs is stored as <sandbox dir>/network.json before
// ADD runs. DEL runs when the sandbox is stopped or removed, and at
// recovery for a sandbox found dead or without a runtime object, so no IP
// lease or veth outlives its sandbox. hostNetwork pods, and every pod when
// no network list is configured, get no CNI (loopback only: runc brings
// `lo` up in a new network namespace).
//
// Every call runs on the executor's thread. Mounts and small file writes are
// done inline there (each takes well under a millisecond); the OCI runtime
// and conmon run as child processes awaited by OciDriver. The runtime must
// not be destroyed while one of its calls is pending.
class OciRuntime final : public Runtime {
 public:
  // Opens the state directory and the image store; nothing is touched in
  // the OCI runtime until the first call.
  static base::Result<std::unique_ptr<OciRuntime>> create(base::Clock& clock,
                                                          boost::asio::any_io_executor executor,
                                                          OciRuntimeOptions options);
  ~OciRuntime() override;
  OciRuntime(const OciRuntime&) = delete;
  OciRuntime& operator=(const OciRuntime&) = delete;

  Task<base::Result<SandboxId>> run_sandbox(const SandboxConfig& config) override;
  Task<base::Status> stop_sandbox(const SandboxId& id) override;
  Task<base::Status> remove_sandbox(const SandboxId& id) override;
  Task<base::Result<ContainerId>> create_container(const SandboxId& sandbox,
                                                   const ContainerConfig& config) override;
  Task<base::Status> start_container(const ContainerId& id) override;
  Task<base::Status> stop_container(const ContainerId& id,
                                    std::chrono::milliseconds grace) override;
  Task<base::Status> remove_container(const ContainerId& id) override;
  Task<base::Result<std::vector<SandboxStatus>>> list_sandboxes() override;
  Task<base::Result<std::vector<ContainerStatus>>> list_containers() override;
  Task<base::Result<ContainerStatus>> container_status(const ContainerId& id) override;
  Task<base::Result<PodRuntimeState>> list_pod(const PodUid& pod) override;
  Task<base::Result<std::optional<std::string>>> image_status(const std::string& ref) override;
  Task<base::Result<std::string>> pull_image(const std::string& ref) override;
  Task<base::Result<ExecResult>> exec(const ContainerId& id, std::vector<std::string> command,
                                      std::chrono::milliseconds timeout) override;
  // A socket made in the network namespace of the sandbox's pause process
  // (/proc/<pause pid>/ns/net, which is the node's for a hostNetwork pod):
  // the calling thread enters it with setns, makes the socket and returns
  // to the agent's namespace at once (or aborts: a thread must never stay
  // in a pod's namespace). Error when the sandbox is unknown or not Ready.
  // runtime/oci/sandbox_socket.cc.
  base::Result<base::UniqueFd> open_socket_in_sandbox(const SandboxId& id, int domain, int type) override;
  // Replaces the handlers, also for events posted and not yet delivered
  // (nullptr, nullptr: none is delivered any more).
  void set_event_handlers(ContainerEventHandler on_container,
                          SandboxEventHandler on_sandbox) override;
  // Watches the image store's index (see FileReplaceWatch), so that every
  // import or removal, `podagent image import` in another process
  // included, calls `handler`. A store that cannot be watched is logged
  // once; pods waiting for an image then start at the next relist.
  void on_images_changed(ImagesChangedHandler handler) override;

  // Cancels the log rotation and the image watch and, once no call is in
  // flight, closes the drivers' exit watches; later calls fail.
  void shutdown() override;

  // Runs the recovery now if it has not run (every call does it first).
  Task<base::Status> recover();
  // Rotates every container log that reached the size limit (what the
  // periodic check does).
  void rotate_logs();

 private:
  struct Sandbox {
    SandboxRecord record;
    SandboxState state = SandboxState::NotReady;
    int pause_pid = 0;
    bool exit_reported = false;
    std::vector<std::string> ips;         // from the CNI result; empty without one
    std::vector<std::string> containers;  // ids, in creation order
    std::vector<std::weak_ptr<base::Timer>> exit_waiters;
  };
  struct Container {
    ContainerRecord record;
    ContainerState state = ContainerState::Unknown;
    bool starting = false;      // start() under way: an exit waits for it
    bool exit_pending = false;  // the exit came while starting
    std::vector<std::weak_ptr<base::Timer>> exit_waiters;
  };
  struct PodIndex {
    std::vector<std::string> sandboxes;
    std::vector<std::string> containers;
  };

  OciRuntime(base::Clock& clock, boost::asio::any_io_executor executor, OciRuntimeOptions options,
             ImageStore store);

  // Counts a public call in flight for its lifetime (see shutdown()).
  class CallGuard {
   public:
    explicit CallGuard(OciRuntime& rt) : rt_(rt) { ++rt_.calls_in_flight_; }
    ~CallGuard() {
      if (--rt_.calls_in_flight_ == 0 && rt_.shut_down_) rt_.drivers_.clear();
    }
    CallGuard(const CallGuard&) = delete;
    CallGuard& operator=(const CallGuard&) = delete;

   private:
    OciRuntime& rt_;
  };

  // oci_runtime.cc
  base::Result<OciDriver*> driver(const std::string& handler);
  // The host PID of the newest running container `name` of the sandbox
  // (an ephemeral container's target).
  Task<base::Result<int>> running_pid(const std::string& sandbox_id, const std::string& name);
  SandboxStatus status_of(const Sandbox& s) const;
  ContainerStatus status_of(const Container& c) const;
  void index_sandbox(Sandbox s);
  void index_container(Container c);
  void unindex_container(const std::string& id);
  void unindex_sandbox(const std::string& id);
  void post(ContainerEvent::Type type, const Container& c);
  void post_sandbox_event(const Sandbox& s);
  void on_driver_exit(const std::string& id);
  WallTime exit_time(const ContainerRecord& r) const;
  // `notify`: post the Exited event (not for exits found by recovery).
  void mark_exited(Container& c, std::optional<int> code, bool notify = true);
  Task<bool> await_exit(const std::string& id, std::chrono::milliseconds limit);

  // oci_sandboxes.cc
  base::Status write_pod_files(const SandboxRecord& record, const model::Pod& pod);
  base::Result<std::filesystem::path> pause_rootfs();
  Task<base::Status> start_pause(Sandbox& sandbox, const model::Pod& pod, OciDriver& driver,
                                 const std::filesystem::path& rootfs);
  Task<base::Status> stop_pause(const std::string& id);
  Task<base::Status> discard_sandbox(std::string id);
  Task<base::Status> delete_sandbox_objects(SandboxRecord record);
  // The pod's cgroups, unless another sandbox of the pod is indexed.
  base::Status remove_pod_cgroups(const SandboxRecord& record);
  // CNI ADD for a sandbox whose pause runs (nothing for hostNetwork or
  // without a network list); on failure, what was set up is torn down.
  Task<base::Status> setup_network(std::string id, std::shared_ptr<const model::Pod> pod);
  // CNI DEL with what network.json recorded, then the netns mount and the
  // file go. Nothing to do (success) when the sandbox has no network.json.
  // On failure both stay, for the next stop, removal or recovery to retry.
  Task<base::Status> teardown_network(std::string id);
  // The IPs recorded in the sandbox's network.json (recovery).
  std::vector<std::string> recorded_ips(const std::string& id) const;

  // oci_containers.cc
  base::Result<std::vector<BindMount>> container_mounts(const Sandbox& sandbox,
                                                        const ContainerConfig& config,
                                                        const std::filesystem::path& container_dir);
  Task<base::Status> build_container(Sandbox& sandbox, ContainerRecord& record,
                                     const ContainerConfig& config, const Image& image);
  Task<base::Status> kill_and_wait(const std::string& id, std::chrono::milliseconds grace);
  Task<base::Status> discard_container(std::string id);
  Task<base::Status> delete_container_objects(ContainerRecord record);

  // oci_recovery.cc
  struct Found;
  Task<Found> list_objects(const LoadedState& loaded);
  Task<void> adopt_sandboxes(const LoadedState& loaded, Found& found);
  Task<void> adopt_containers(const LoadedState& loaded, Found& found);
  Task<void> adopt(const LoadedState& loaded);
  Task<void> log_rotation_loop(std::shared_ptr<bool> alive, std::shared_ptr<base::Timer> timer);

  base::Clock& clock_;
  boost::asio::any_io_executor executor_;
  OciRuntimeOptions options_;
  StateDir state_;
  ImageStore store_;
  std::map<std::string, std::unique_ptr<OciDriver>> drivers_;
  std::unordered_map<std::string, Sandbox> sandboxes_;
  std::unordered_map<std::string, Container> containers_;
  std::unordered_map<PodUid, PodIndex> pods_;
  // Shared with the posted events, which look the handlers up when they
  // run: set_event_handlers(nullptr, nullptr) silences those still queued.
  struct Handlers {
    ContainerEventHandler on_container;
    SandboxEventHandler on_sandbox;
  };
  std::shared_ptr<Handlers> handlers_ = std::make_shared<Handlers>();
  enum class Recovery { NotStarted, Running, Done } recovery_ = Recovery::NotStarted;
  std::vector<std::weak_ptr<base::Timer>> recovery_waiters_;
  std::optional<base::Status> recovery_result_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::weak_ptr<base::Timer> rotation_timer_;
  std::unique_ptr<FileReplaceWatch> image_watch_;
  // Set when options_.cgroup_root is: the pod cgroups are made before the
  // pause starts and removed after the sandbox's runtime object.
  std::optional<PodCgroups> cgroups_;
  std::vector<std::string> privileged_capabilities_;  // ContainerSpecInput's
  bool pause_ready_ = false;  // the pause rootfs holds the configured binary
  bool shut_down_ = false;
  int calls_in_flight_ = 0;
};

}  // namespace podagent::runtime::oci
