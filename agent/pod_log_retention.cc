#include "agent/pod_log_retention.h"

#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <system_error>

#include "base/log.h"
#include "runtime/container_log.h"

namespace podagent::agent {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// The UID of "<namespace>_<name>_<uid>" (neither a namespace nor a name
// holds '_'); nullopt for any other name.
std::optional<std::string_view> uid_of(std::string_view dir_name) {
  const auto first = dir_name.find('_');
  const auto last = dir_name.rfind('_');
  if (first == std::string_view::npos || first == 0 || last == first + 1 || last == first ||
      last + 1 == dir_name.size())
    return std::nullopt;
  return dir_name.substr(last + 1);
}

std::optional<base::WallClockTime> mtime_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return std::nullopt;
  const auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return base::WallClockTime(
      std::chrono::duration_cast<base::WallClockTime::duration>(since_epoch));
}

// The newest modification time of the pod's directory, its container
// directories and their files: when its containers last wrote or rotated.
base::WallClockTime newest_entry(const fs::path& dir) {
  base::WallClockTime newest = mtime_of(dir).value_or(base::WallClockTime{});
  auto consider = [&](const fs::path& p) {
    if (auto t = mtime_of(p)) newest = std::max(newest, *t);
  };
  std::error_code ec;
  for (const auto& container : fs::directory_iterator(dir, ec)) {
    consider(container.path());
    std::error_code ignored;
    if (!container.is_directory(ignored) || container.is_symlink(ignored)) continue;
    std::error_code inner;
    for (const auto& file : fs::directory_iterator(container.path(), inner)) consider(file.path());
  }
  return newest;
}

}  // namespace

PodLogRetention::PodLogRetention(base::Clock& clock, asio::any_io_executor executor,
                                 PodLogRetentionOptions options)
    : clock_(clock), executor_(std::move(executor)), options_(std::move(options)) {}

PodLogRetention::~PodLogRetention() {
  *alive_ = false;
  if (timer_) timer_->cancel();
}

void PodLogRetention::pod_removed(std::string_view namespace_, std::string_view name,
                                  std::string_view uid) {
  if (options_.pod_logs_dir.empty() || stopped_) return;
  const std::filesystem::path dir =
      runtime::pod_log_directory(options_.pod_logs_dir, namespace_, name, uid);
  schedule(dir.filename().string(), clock_.now() + options_.retention);
}

void PodLogRetention::sweep() {
  if (swept_ || options_.pod_logs_dir.empty() || stopped_) return;
  swept_ = true;
  const base::WallClockTime wall_now = clock_.wall_now();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.pod_logs_dir, ec)) {
    std::error_code ignored;
    if (!entry.is_directory(ignored) || entry.is_symlink(ignored)) continue;
    const std::string dir_name = entry.path().filename().string();
    const auto uid = uid_of(dir_name);
    if (!uid || options_.wanted(*uid) || due_.contains(dir_name)) continue;
    const auto age =
        std::chrono::duration_cast<base::Duration>(wall_now - newest_entry(entry.path()));
    // An entry from the future (the wall clock was set back) counts as new.
    const base::Duration left = options_.retention - std::max(age, base::Duration::zero());
    schedule(dir_name, clock_.now() + std::max(left, base::Duration::zero()));
  }
  remove_due();  // the old ones at once, before any pod of this run logs
}

void PodLogRetention::stop() {
  stopped_ = true;
  due_.clear();
  queue_.clear();
  if (timer_) timer_->cancel();
}

std::optional<base::SteadyTime> PodLogRetention::next_due() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first;
}

void PodLogRetention::schedule(const std::string& dir_name, base::SteadyTime at) {
  if (auto it = due_.find(dir_name); it != due_.end()) {
    queue_.erase({it->second, dir_name});
    it->second = at;
  } else {
    due_.emplace(dir_name, at);
  }
  queue_.emplace(at, dir_name);
  if (!running_) {
    running_ = true;
    asio::co_spawn(executor_, run(alive_), asio::detached);
  } else if (timer_) {
    timer_->cancel();  // the loop wakes and waits for the new earliest
  }
}

void PodLogRetention::remove_due() {
  const base::SteadyTime now = clock_.now();
  while (!queue_.empty() && queue_.begin()->first <= now) {
    const std::string dir_name = queue_.begin()->second;
    queue_.erase(queue_.begin());
    due_.erase(dir_name);
    if (const auto uid = uid_of(dir_name); uid && options_.wanted(*uid)) {
      schedule(dir_name,
               now + std::max(options_.retention, base::Duration(std::chrono::seconds(1))));
      continue;
    }
    std::error_code ec;
    const auto count = fs::remove_all(options_.pod_logs_dir / dir_name, ec);
    if (ec)
      base::log_warning("pod logs not removed: dir={}: {}",
                        (options_.pod_logs_dir / dir_name).string(), ec.message());
    else if (count > 0) {
      ++removed_;
      base::log_info("pod logs removed, their retention over: dir={}",
                     (options_.pod_logs_dir / dir_name).string());
    }
  }
}

asio::awaitable<void> PodLogRetention::run(std::shared_ptr<bool> alive) {
  auto timer = clock_.make_timer(executor_);
  timer_ = timer.get();
  while (!stopped_ && !queue_.empty()) {
    timer->expires_at(queue_.begin()->first);
    co_await timer->wait();  // expired, or cancelled by schedule() or stop()
    if (!*alive) co_return;  // destroyed meanwhile: touch nothing
    if (!stopped_) remove_due();
  }
  timer_ = nullptr;
  running_ = false;
}

}  // namespace podagent::agent
