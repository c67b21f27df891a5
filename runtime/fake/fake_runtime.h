#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "runtime/fake/fake_script.h"
#include "runtime/runtime.h"

namespace podagent::runtime {

// The calls of the Runtime interface, for error injection and the call log.
enum class Op {
  RunSandbox,
  StopSandbox,
  RemoveSandbox,
  CreateContainer,
  StartContainer,
  StopContainer,
  RemoveContainer,
  ListSandboxes,
  ListContainers,
  ContainerStatus,
  Exec,
  ListPod,
  ImageStatus,
  PullImage,
};
std::string_view to_string(Op op);

// One call made to a FakeRuntime. `id` is the object the call is about: the
// pod UID for RunSandbox and ListPod, the image reference for ImageStatus
// and PullImage, the sandbox id for CreateContainer,
// StopSandbox and RemoveSandbox, the container id for the other container
// calls, empty for the list calls. `name` is the container's name for
// CreateContainer and for StartContainer on a known container (and the
// pod's name for RunSandbox). `ok` is false when
// the call failed (injected error or invalid call).
struct FakeCall {
  Op op = Op::RunSandbox;
  std::string id;
  std::string name;
  bool ok = true;
  bool operator==(const FakeCall&) const = default;
};

// One exec made through the runtime (e.g. a preStop hook).
struct FakeExec {
  ContainerId container_id;
  std::string container_name;
  std::vector<std::string> command;
  bool operator==(const FakeExec&) const = default;
};

// One change of a FakeRuntime's state, as its observer sees it. The status
// is the object's state just after the change (just before, for removals).
struct FakeChange {
  enum class Kind {
    SandboxReady,
    SandboxNotReady,
    SandboxRemoved,
    ContainerCreated,
    ContainerStarted,
    ContainerExited,
    ContainerRemoved,
  };
  Kind kind = Kind::SandboxReady;
  const SandboxStatus* sandbox = nullptr;      // for the Sandbox kinds
  const ContainerStatus* container = nullptr;  // for the Container kinds
};

// An in-memory, scripted container runtime for unit tests and scale
// simulations, driven by a base::Clock (a FakeClock in tests).
//
// Model (the contract tests in tests/runtime/runtime_contract.h hold for it):
// - ids are deterministic: "sandbox-1", "sandbox-2", ... and "container-1",
//   ... in order of creation; sandbox IPs are 10.88.0.N for sandbox-N
//   (10.88.x.y past 254).
// - run_sandbox -> Ready. stop_sandbox stops its running containers at once
//   (143, or 137 for those that ignore SIGTERM) and makes it NotReady.
//   remove_sandbox removes its containers too, as CRI does.
// - create_container (only in a Ready sandbox) -> Created; start_container
//   (only from Created) -> Running, or Exited/StartError when scripted so;
//   then it exits as its script says (by one shared schedule on one timer,
//   at its exact fake time). stop_container(grace) sends "SIGTERM": exit 143
//   at once, or, for a container that ignores SIGTERM, exit 137 once `grace`
//   of clock time has passed (the call waits for it; a scripted exit during
//   the grace period completes it earlier). Stopping an exited container
//   succeeds; removing a running one fails.
// - Exit reasons: 0 -> "Completed", otherwise "Error"; "OOMKilled" (137)
//   and "StartError" (128) when scripted.
// - Every state change is delivered to the handlers of set_event_handlers,
//   posted to the executor (never called from inside a runtime call):
//   container Created / Started / Exited / Removed, and a SandboxEvent when a
//   sandbox goes NotReady (stop_sandbox, kill_sandbox).
// - Status and list calls return copies.
//
// All calls, and the clock's timers, run on the one io_context thread of
// `executor`. Not thread-safe. The runtime may be destroyed with calls
// pending; they then complete with errors or are destroyed with the
// io_context.
class FakeRuntime final : public Runtime {
 public:
  struct Options {
    // Keep the call log (calls()); switch off for scale runs. The counters
    // (count()) are always kept.
    bool record_calls = true;
    // Whether an image never added nor removed is present (see add_image).
    bool images_present = true;
  };

  FakeRuntime(base::Clock& clock, boost::asio::any_io_executor executor);
  FakeRuntime(base::Clock& clock, boost::asio::any_io_executor executor, Options options);
  ~FakeRuntime() override;
  FakeRuntime(const FakeRuntime&) = delete;
  FakeRuntime& operator=(const FakeRuntime&) = delete;

  // ---- Runtime ----
  Task<base::Result<SandboxId>> run_sandbox(const SandboxConfig& config) override;
  Task<base::Status> stop_sandbox(const SandboxId& id) override;
  Task<base::Status> remove_sandbox(const SandboxId& id) override;
  Task<base::Result<ContainerId>> create_container(const SandboxId& sandbox,
                                                   const ContainerConfig& config) override;
  Task<base::Status> start_container(const ContainerId& id) override;
  Task<base::Status> stop_container(const ContainerId& id, std::chrono::milliseconds grace) override;
  Task<base::Status> remove_container(const ContainerId& id) override;
  Task<base::Result<std::vector<SandboxStatus>>> list_sandboxes() override;
  Task<base::Result<std::vector<ContainerStatus>>> list_containers() override;
  Task<base::Result<ContainerStatus>> container_status(const ContainerId& id) override;
  Task<base::Result<ExecResult>> exec(const ContainerId& id, std::vector<std::string> command,
                                      std::chrono::milliseconds timeout) override;
  // The image store: an image is present when added, or, unless removed,
  // when Options::images_present; its id is "sha256:fake-" + ref. Pulling
  // an absent image fails, saying to import it.
  Task<base::Result<std::optional<std::string>>> image_status(const std::string& ref) override;
  Task<base::Result<std::string>> pull_image(const std::string& ref) override;
  // Without scanning the other pods: O(that pod's objects).
  Task<base::Result<PodRuntimeState>> list_pod(const PodUid& pod) override;
  // Copies into `out`'s existing elements: no allocation once `out` has held
  // a pod of the same shape.
  Task<base::Status> list_pod_into(const PodUid& pod, PodRuntimeState& out) override;
  void set_event_handlers(ContainerEventHandler on_container, SandboxEventHandler on_sandbox) override;
  // Called (posted) after each add_image and remove_image.
  void on_images_changed(ImagesChangedHandler handler) override;

  // ---- Scripting (tests) ----
  // The script of containers named `container` in any pod, or in pod `pod`
  // only (which takes precedence). Created on first use; references stay
  // valid for the runtime's life. A script's queue is shared by every
  // container it applies to, in order of their starts.
  FakeScript& script(const std::string& container);
  FakeScript& script(const PodUid& pod, const std::string& container);

  // Makes the next call of `op` fail with `error`, without effect (queued:
  // n calls make the next n calls fail).
  void fail_next(Op op, base::Error error);
  // Makes every call for which `predicate` returns an error fail with it
  // (checked after fail_next). Replaces any previous predicate; an empty
  // function removes it.
  using FailurePredicate = std::function<std::optional<base::Error>(const FakeCall&)>;
  void fail_when(FailurePredicate predicate);
  // Makes every call of `op` take `d` of clock time before it acts (zero:
  // completes without waiting, the default).
  void set_latency(Op op, base::Duration d);

  // ---- Things that happen to the runtime (tests) ----
  // The container exits now with `exit_code` and `reason` (empty: derived
  // from the code). Error when it is not running.
  base::Status kill_container(const ContainerId& id, int32_t exit_code, std::string reason = {});
  // The sandbox dies: NotReady, its running containers exit (137, "Error"),
  // and a SandboxEvent is posted.
  base::Status kill_sandbox(const SandboxId& id);
  // The sandbox and its containers vanish without any event, as if removed
  // by someone else ("found missing" on the next list).
  base::Status remove_sandbox_behind_back(const SandboxId& id);
  // The image `ref` is in the node's store from now on (as if imported), or
  // is not (as if removed). Containers already created keep running. Each
  // posts the images-changed handler (see on_images_changed).
  void add_image(const std::string& ref);
  void remove_image(const std::string& ref);
  bool has_image(const std::string& ref) const;

  // ---- Audit (tests) ----
  // Reports every change, synchronously, from inside the call or scripted
  // event that makes it (removals without events included), so that a test
  // can audit the whole history at the fake time it happens. The observer
  // must not call the runtime. Replaces any previous one; empty removes it.
  using Observer = std::function<void(const FakeChange&)>;
  void set_observer(Observer observer);

  // ---- Inspection (tests); synchronous copies ----
  std::optional<SandboxStatus> sandbox(const SandboxId& id) const;
  std::optional<ContainerStatus> container(const ContainerId& id) const;
  PodRuntimeState pod_state(const PodUid& pod) const;
  // Running containers of `pod` (all pods when nullopt).
  size_t running_containers(const std::optional<PodUid>& pod = std::nullopt) const;
  size_t sandbox_count() const;
  size_t container_count() const;
  // The call log in order (empty unless Options::record_calls) and the
  // number of calls per op (failed ones included).
  const std::vector<FakeCall>& calls() const;
  size_t count(Op op) const;
  void clear_calls();
  const std::vector<FakeExec>& execs() const;
  // Scheduled exits not yet happened.
  size_t scheduled_exits() const;

  class State;  // shared with the posted events and the exit scheduler

 private:
  void post_images_changed();

  std::shared_ptr<State> state_;
};

}  // namespace podagent::runtime
