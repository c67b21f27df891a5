#include "podworker/orphan_cleanup.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <map>

#include "podworker/pod_actions.h"
#include "podworker/pod_sync.h"

namespace podagent::podworker {
namespace asio = boost::asio;

namespace {

// Reason of an orphan's kills (ContainerKill::reason).
constexpr const char* kOrphaned = "Orphaned";

// Everything of the orphan, in execute_plan's order: kills (the running
// containers, all at once), sandbox stops, container removals, sandbox
// removals last.
PodActions orphan_plan(const runtime::PodRuntimeState& orphan) {
  PodActions plan;
  for (const auto& c : orphan.containers) {
    if (c.state == runtime::ContainerState::Running || c.state == runtime::ContainerState::Unknown)
      plan.kill.push_back({c.id, c.name, c.kind, kOrphaned, "the pod is not desired by any source"});
    plan.remove.push_back(c.id);
  }
  for (const auto& s : orphan.sandboxes) {
    if (s.state == runtime::SandboxState::Ready) plan.stop_sandboxes.push_back(s.id);
    plan.remove_sandboxes.push_back(s.id);
  }
  return plan;
}

// A stand-in for the pod that is no longer known: what execute_plan needs
// of it (no spec, hence no preStop hook).
std::shared_ptr<const model::Pod> stand_in(const base::PodUid& uid, const runtime::PodRuntimeState& orphan) {
  auto pod = std::make_shared<model::Pod>();
  pod->metadata.uid = uid.str();
  if (!orphan.sandboxes.empty()) {
    pod->metadata.name = orphan.sandboxes.front().pod_name;
    pod->metadata.namespace_ = orphan.sandboxes.front().pod_namespace;
  }
  return pod;
}

}  // namespace

OrphanCleanup::OrphanCleanup(runtime::Runtime& runtime, base::Clock& clock, asio::any_io_executor executor,
                             Owned owned, Options options)
    : runtime_(runtime),
      clock_(clock),
      executor_(std::move(executor)),
      owned_(std::move(owned)),
      options_(std::move(options)),
      alive_(std::make_shared<bool>(true)) {}

OrphanCleanup::~OrphanCleanup() { *alive_ = false; }

void OrphanCleanup::run() {
  if (stopping_ || pass_running_) return;
  pass_running_ = true;
  ++passes_;
  asio::co_spawn(executor_, pass(alive_), asio::detached);
}

void OrphanCleanup::stop() { stopping_ = true; }

runtime::Task<void> OrphanCleanup::pass(std::shared_ptr<bool> alive) {
  if (!*alive) co_return;  // destroyed before the spawn ran
  // Named results: GCC 12 mishandles some temporaries across a co_await.
  base::Result<std::vector<runtime::SandboxStatus>> sandboxes = co_await runtime_.list_sandboxes();
  if (!*alive) co_return;
  base::Result<std::vector<runtime::ContainerStatus>> containers = co_await runtime_.list_containers();
  if (!*alive) co_return;
  pass_running_ = false;
  if (stopping_ || !sandboxes || !containers) co_return;  // a failed listing waits for the next pass
  // Owned is judged now, after both listings: a worker added meanwhile
  // owns what it may have created.
  auto orphan = [&](const base::PodUid& uid) { return !owned_(uid) && !cleaning_.contains(uid); };
  std::map<base::PodUid, runtime::PodRuntimeState> orphans;
  for (auto& s : *sandboxes)
    if (orphan(s.pod_uid)) orphans[s.pod_uid].sandboxes.push_back(std::move(s));
  for (auto& c : *containers)
    if (orphan(c.pod_uid)) orphans[c.pod_uid].containers.push_back(std::move(c));
  for (auto& [uid, state] : orphans) {
    cleaning_.insert(uid);
    asio::co_spawn(executor_, clean(uid, std::move(state), alive_), asio::detached);
  }
}

runtime::Task<void> OrphanCleanup::clean(base::PodUid uid, runtime::PodRuntimeState orphan,
                                         std::shared_ptr<bool> alive) {
  if (!*alive) co_return;
  const PodActions plan = orphan_plan(orphan);
  const PodSpecHashes hashes;
  WaitingReasons waiting;
  // `this` is only touched while *alive holds, checked first.
  SyncTarget target{runtime_, clock_, stand_in(uid, orphan), hashes,
                    [alive, this, uid] { return *alive && !stopping_ && !owned_(uid); }, waiting};
  SyncOutcome out = co_await execute_plan(target, plan, clock_.now() + options_.grace);
  if (!*alive) co_return;
  cleaning_.erase(uid);
  if (!options_.on_done) co_return;
  OrphanReport report;
  report.uid = uid;
  report.pod_namespace = target.pod->metadata.namespace_;
  report.pod_name = target.pod->metadata.name;
  report.containers = orphan.containers.size();
  report.sandboxes = orphan.sandboxes.size();
  report.failed = out.failed;
  report.interrupted = out.stopped;
  options_.on_done(report);
}

}  // namespace podagent::podworker
