#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/ids.h"
#include "model/pod.h"

namespace boost::asio {
class thread_pool;
}

namespace podagent::volumes {
class VolumeManager;
}

namespace podagent::agent {

struct EvictionManagerOptions {
  // How often the disk emptyDirs are measured: the kubelet's housekeeping
  // period.
  base::Duration period = std::chrono::seconds(10);
  // The pods that may be evicted: those running now. Required.
  std::function<std::vector<std::shared_ptr<const model::Pod>>()> pods;
  // Evicts the pod, with the reason's message (PodWorkers::evict); false
  // when it was not evicted (no longer running). Required.
  std::function<bool(const base::PodUid&, const std::string& message)> evict;
};

// The kubelet's local storage eviction, for disk emptyDirs: every period,
// each running pod with a disk emptyDir that has a sizeLimit has those
// volumes measured (VolumeManager::empty_dir_over_limit), and a pod whose
// volume holds more than its limit is evicted with `Usage of EmptyDir
// volume "<name>" exceeds the limit "<limit>".`.
//
// The measuring walks whole trees: it runs on this object's one thread,
// never on the executor's; its verdicts come back to the executor, where
// `evict` is called. One check at a time: a period that ends while a check
// runs starts no other.
//
// Every method on the executor's thread; time from the injected Clock.
// `volumes` must outlive this object. Destroying it waits for a check in
// flight to end, and abandons its timer and the verdicts not delivered yet
// (stop() first for a clean end).
class EvictionManager {
 public:
  EvictionManager(const volumes::VolumeManager& volumes, base::Clock& clock,
                  boost::asio::any_io_executor executor, EvictionManagerOptions options);
  ~EvictionManager();
  EvictionManager(const EvictionManager&) = delete;
  EvictionManager& operator=(const EvictionManager&) = delete;

  // Checks every period from now on (the first one period from now).
  void start();
  // Cancels the timer; no check starts and nothing is evicted from now on.
  // Idempotent.
  void stop();
  // Starts a check now, unless one is in flight or stopped.
  void check();

  // Checks whose verdicts were delivered, and pods evicted, so far.
  size_t checks() const { return checks_; }
  size_t evictions() const { return evictions_; }
  bool checking() const { return in_flight_; }

 private:
  struct Verdict {
    base::PodUid uid;
    std::string pod;  // namespace/name, for the log
    std::string message;
  };
  boost::asio::awaitable<void> run(std::shared_ptr<bool> alive);
  void deliver(const std::vector<Verdict>& verdicts);

  const volumes::VolumeManager& volumes_;
  base::Clock& clock_;
  boost::asio::any_io_executor executor_;
  EvictionManagerOptions options_;
  std::unique_ptr<boost::asio::thread_pool> pool_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  base::Timer* timer_ = nullptr;  // owned by run()'s frame while it runs
  bool started_ = false;
  bool stopped_ = false;
  bool in_flight_ = false;
  size_t checks_ = 0;
  size_t evictions_ = 0;
};

}  // namespace podagent::agent
