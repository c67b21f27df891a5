#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "base/clock.h"
#include "base/ids.h"
#include "runtime/runtime.h"

namespace podagent::podworker {

// What one orphan pod's cleanup did, for the composer's log line.
struct OrphanReport {
  base::PodUid uid;
  // From its sandboxes' metadata; empty when it had none.
  std::string pod_namespace;
  std::string pod_name;
  size_t containers = 0;  // listed (and stopped and removed unless `failed`)
  size_t sandboxes = 0;
  bool failed = false;       // a runtime call failed: the next pass tries again
  bool interrupted = false;  // the UID became owned (or the agent stopped) on the way
};

// The kubelet's HandlePodCleanups, for the runtime side: removes every
// sandbox and container whose pod UID no pod worker owns, such as the pods
// of a manifest deleted (or an API pod deleted) while the agent was down.
//
// A pass (run()) lists every sandbox and container, groups them by pod UID,
// and for each UID that is not owned(uid) and not already being cleaned,
// spawns its cleanup: every running container stopped at once with `grace`
// (SIGKILL when it has passed), then every sandbox stopped, every container
// removed, and every sandbox removed last. An orphan has no spec to take a
// grace period from, hence one short grace for all (see Options).
//
// Concurrency with the pod workers: owned(uid) is checked when the pass
// groups its listing and again before every runtime call of a cleanup, so
// a UID that becomes desired again (a pod with that UID added) is not
// touched from then on; a stop already in flight completes, and the pod's
// worker then handles the exited container as any other exit. Its worker
// waits for cleaning(uid) to turn false before its first runtime call (see
// PodWorkers), and on_done tells it when.
//
// Idempotent: everything already gone is skipped by the next listing, and a
// failed call is retried by the next pass. REQUIRES: run() only once every
// source of desired pods has been read (else a pod not read yet would be
// killed); the composer ensures it (PodWorkers::set_sources_ready).
//
// Lives on the executor's io_context thread; every method must be called
// there. Destroying it abandons the coroutines (they end without touching
// it when next resumed).
class OrphanCleanup {
 public:
  struct Options {
    // The grace period of an orphan's containers: the kubelet uses the
    // pod's, which is not known without its spec; short, since the pod is
    // already gone from every source.
    base::Duration grace = std::chrono::seconds(2);
    // Called when a UID's cleanup ends (cleaning(uid) is false by then), on
    // the io_context thread. May be null.
    std::function<void(const OrphanReport&)> on_done;
  };
  using Owned = std::function<bool(const base::PodUid&)>;

  OrphanCleanup(runtime::Runtime& runtime, base::Clock& clock, boost::asio::any_io_executor executor,
                Owned owned, Options options);
  ~OrphanCleanup();
  OrphanCleanup(const OrphanCleanup&) = delete;
  OrphanCleanup& operator=(const OrphanCleanup&) = delete;

  // Starts a pass, unless one is listing now (it stands for this one too).
  void run();
  // No pass or cleanup makes another runtime call after this; calls in
  // flight complete.
  void stop();

  // True while the UID's cleanup runs.
  bool cleaning(const base::PodUid& uid) const { return cleaning_.contains(uid); }
  bool pass_running() const { return pass_running_; }
  // Passes started so far, for tests.
  uint64_t pass_count() const { return passes_; }

 private:
  runtime::Task<void> pass(std::shared_ptr<bool> alive);
  runtime::Task<void> clean(base::PodUid uid, runtime::PodRuntimeState orphan, std::shared_ptr<bool> alive);

  runtime::Runtime& runtime_;
  base::Clock& clock_;
  boost::asio::any_io_executor executor_;
  Owned owned_;
  Options options_;
  std::set<base::PodUid> cleaning_;
  std::shared_ptr<bool> alive_;
  bool pass_running_ = false;
  bool stopping_ = false;
  uint64_t passes_ = 0;
};

}  // namespace podagent::podworker
