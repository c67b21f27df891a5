#include "agent/eviction_manager.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <utility>

#include "base/log.h"
#include "volumes/empty_dir.h"
#include "volumes/volume_manager.h"

namespace podagent::agent {

namespace asio = boost::asio;

namespace {

// Only pods with something to measure cost a walk.
bool has_limited_empty_dir(const model::Pod& pod) {
  for (const auto& v : pod.spec.volumes)
    if (volumes::is_disk_empty_dir(v) && v.empty_dir->size_limit &&
        v.empty_dir->size_limit->value() > 0)
      return true;
  return false;
}

}  // namespace

EvictionManager::EvictionManager(const volumes::VolumeManager& volumes, base::Clock& clock,
                                 asio::any_io_executor executor, EvictionManagerOptions options)
    : volumes_(volumes),
      clock_(clock),
      executor_(std::move(executor)),
      options_(std::move(options)),
      pool_(std::make_unique<asio::thread_pool>(1)) {}

EvictionManager::~EvictionManager() {
  *alive_ = false;
  pool_->join();  // a walk in flight reads volumes_: let it end first
}

void EvictionManager::start() {
  if (started_ || stopped_) return;
  started_ = true;
  asio::co_spawn(executor_, run(alive_), asio::detached);
}

void EvictionManager::stop() {
  stopped_ = true;
  if (timer_) timer_->cancel();
}

asio::awaitable<void> EvictionManager::run(std::shared_ptr<bool> alive) {
  auto timer = clock_.make_timer(executor_);
  timer_ = timer.get();
  while (!stopped_) {
    timer->expires_at(clock_.now() + options_.period);
    co_await timer->wait();  // expired, or cancelled by stop()
    if (!*alive) co_return;  // destroyed meanwhile: touch nothing
    if (!stopped_) check();
  }
  timer_ = nullptr;
}

void EvictionManager::check() {
  if (in_flight_ || stopped_) return;
  std::vector<std::shared_ptr<const model::Pod>> pods = options_.pods();
  std::erase_if(pods, [](const auto& pod) { return !has_limited_empty_dir(*pod); });
  if (pods.empty()) {
    ++checks_;
    return;
  }
  in_flight_ = true;
  // The job keeps the executor's io_context running until its verdicts
  // are posted back.
  asio::post(*pool_, [pods = std::move(pods), &volumes = volumes_, alive = alive_, this,
                      work = asio::make_work_guard(executor_)]() mutable {
    std::vector<Verdict> verdicts;
    for (const auto& pod : pods)
      if (auto message = volumes.empty_dir_over_limit(*pod))
        verdicts.push_back({base::PodUid(pod->metadata.uid),
                            pod->metadata.namespace_ + "/" + pod->metadata.name,
                            std::move(*message)});
    asio::post(work.get_executor(),
               [alive = std::move(alive), this, verdicts = std::move(verdicts)] {
                 if (*alive) deliver(verdicts);  // `this` is alive only then
               });
    work.reset();
  });
}

void EvictionManager::deliver(const std::vector<Verdict>& verdicts) {
  in_flight_ = false;
  ++checks_;
  if (stopped_) return;
  for (const auto& v : verdicts) {
    if (!options_.evict(v.uid, v.message)) continue;  // stopping already
    ++evictions_;
    base::log_warning("pod evicted: pod={} uid={}: {}", v.pod, v.uid.str(), v.message);
  }
}

}  // namespace podagent::agent
