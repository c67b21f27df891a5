#include "runtime/oci/oci_runtime.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>
#include <vector>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "base/log.h"
#include "runtime/oci/container_logs.h"
#include "runtime/oci/oci_spec.h"

// The OciRuntime's index, events, lists, images and exec. Sandboxes are in
// oci_sandboxes.cc, containers in oci_containers.cc, recovery and log
// rotation in oci_recovery.cc.
namespace podagent::runtime::oci {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// The capabilities a privileged container gets: the agent's own bounding
// set (as containerd does), not every capability the kernel knows, which
// runc could not grant where the agent lacks some (root here may lack
// CAP_SYS_RESOURCE). Empty when /proc/self/status cannot tell: then every
// capability is asked for.
std::vector<std::string> own_bounding_capabilities() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("CapBnd:")) continue;
    const size_t begin = line.find_first_not_of(" \t", 7);
    uint64_t mask = 0;
    if (begin == std::string::npos) return {};
    auto [end, ec] = std::from_chars(line.data() + begin, line.data() + line.size(), mask, 16);
    return ec == std::errc() ? capability_names(mask) : std::vector<std::string>{};
  }
  return {};
}

}  // namespace

base::Result<std::unique_ptr<OciRuntime>> OciRuntime::create(base::Clock& clock,
                                                             asio::any_io_executor executor,
                                                             OciRuntimeOptions options) {
  if (options.state_dir.empty()) return base::Error("the oci runtime needs a state directory");
  if (options.handlers.count(options.default_handler) == 0)
    return base::Error("the default runtime handler \"" + options.default_handler +
                       "\" is not configured");
  StateDir state(options.state_dir / "oci");
  if (auto s = state.init(); !s) return s.error();
  auto store = ImageStore::open(options.state_dir / "images");
  if (!store) return store.error();
  std::optional<PodCgroups> cgroups;
  if (!options.cgroup_root.empty()) {
    auto detected = PodCgroups::detect({options.cgroup_root, options.pod_pids_limit,
                                        options.node.allocatable_cpu_millis,
                                        options.node.allocatable_memory_bytes});
    if (!detected) return base::Error("pod cgroups: " + detected.error().to_string());
    cgroups = std::move(*detected);
  }
  std::unique_ptr<OciRuntime> runtime(
      new OciRuntime(clock, std::move(executor), std::move(options), std::move(*store)));
  runtime->cgroups_ = std::move(cgroups);
  runtime->privileged_capabilities_ = own_bounding_capabilities();
  auto timer = std::shared_ptr<base::Timer>(clock.make_timer(runtime->executor_));
  runtime->rotation_timer_ = timer;
  asio::co_spawn(runtime->executor_, runtime->log_rotation_loop(runtime->alive_, std::move(timer)),
                 asio::detached);
  return runtime;
}

OciRuntime::OciRuntime(base::Clock& clock, asio::any_io_executor executor,
                       OciRuntimeOptions options, ImageStore store)
    : clock_(clock),
      executor_(std::move(executor)),
      options_(std::move(options)),
      state_(options_.state_dir / "oci"),
      store_(std::move(store)) {}

OciRuntime::~OciRuntime() {
  // The rotation loop owns its timer and checks `alive_` when it wakes.
  *alive_ = false;
  if (auto timer = rotation_timer_.lock()) timer->cancel();
}

base::Result<OciDriver*> OciRuntime::driver(const std::string& handler) {
  if (shut_down_) return base::Error("the oci runtime is shut down");
  if (auto it = drivers_.find(handler); it != drivers_.end()) return it->second.get();
  auto binary = options_.handlers.find(handler);
  if (binary == options_.handlers.end())
    return base::Error("the runtime handler \"" + handler +
                       "\" is not configured (runtime.runtimeHandlers)");
  const fs::path run = state_.root() / "run" / handler;
  OciDriverOptions o;
  o.runtime_binary = binary->second;
  o.runtime_root = run / "runtime";
  o.exit_dir = run / "exits";
  // Named for conmon, the first monitor; kept so that an upgraded agent
  // finds the monitors' files of the containers it adopts.
  o.state_dir = run / "conmon";
  o.log_max_bytes = options_.log_max_bytes;
  o.monitor_binary = options_.monitor_binary;
  if (!options_.pause_binary.empty()) {
    const fs::path helpers = options_.pause_binary.parent_path();
    o.private_mounts_binary = helpers / "podagent-private-mounts";
    if (o.monitor_binary.empty()) o.monitor_binary = helpers / "podagent-monitor";
  }
  for (const fs::path& dir : {o.runtime_root, o.exit_dir, o.state_dir}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return base::Error("creating " + dir.string() + ": " + ec.message());
  }
  auto d = std::make_unique<OciDriver>(executor_, std::move(o));
  d->on_exit([this](const std::string& id) { on_driver_exit(id); });
  OciDriver* out = d.get();
  drivers_.emplace(handler, std::move(d));
  return out;
}

SandboxStatus OciRuntime::status_of(const Sandbox& s) const {
  SandboxStatus out;
  out.id = SandboxId(s.record.id);
  out.pod_uid = PodUid(s.record.pod_uid);
  out.pod_name = s.record.pod_name;
  out.pod_namespace = s.record.pod_namespace;
  out.attempt = s.record.attempt;
  out.state = s.state;
  out.created_at = s.record.created_at;
  out.ips = s.ips;
  return out;
}

ContainerStatus OciRuntime::status_of(const Container& c) const {
  const ContainerRecord& r = c.record;
  ContainerStatus out;
  out.id = ContainerId(r.id);
  out.sandbox_id = SandboxId(r.sandbox_id);
  out.pod_uid = PodUid(r.pod_uid);
  out.name = r.name;
  out.kind = r.kind;
  out.attempt = r.attempt;
  out.spec_hash = r.spec_hash;
  out.state = c.state;
  out.image = r.image;
  out.image_id = r.image_id;
  out.created_at = r.created_at;
  out.started_at = r.started_at;
  if (c.state == ContainerState::Exited) {
    out.exit_code = r.exit_code.value_or(0);
    out.reason = r.reason;
    out.message = r.message;
    out.finished_at = r.finished_at;
  }
  return out;
}

void OciRuntime::index_sandbox(Sandbox s) {
  pods_[PodUid(s.record.pod_uid)].sandboxes.push_back(s.record.id);
  std::string id = s.record.id;
  sandboxes_.insert_or_assign(std::move(id), std::move(s));
}

void OciRuntime::index_container(Container c) {
  pods_[PodUid(c.record.pod_uid)].containers.push_back(c.record.id);
  if (auto s = sandboxes_.find(c.record.sandbox_id); s != sandboxes_.end())
    s->second.containers.push_back(c.record.id);
  std::string id = c.record.id;
  containers_.insert_or_assign(std::move(id), std::move(c));
}

namespace {
void erase_id(std::vector<std::string>& v, const std::string& id) {
  v.erase(std::remove(v.begin(), v.end(), id), v.end());
}
}  // namespace

void OciRuntime::unindex_container(const std::string& id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) return;
  const PodUid uid(it->second.record.pod_uid);
  if (auto p = pods_.find(uid); p != pods_.end()) {
    erase_id(p->second.containers, id);
    if (p->second.containers.empty() && p->second.sandboxes.empty()) pods_.erase(p);
  }
  if (auto s = sandboxes_.find(it->second.record.sandbox_id); s != sandboxes_.end())
    erase_id(s->second.containers, id);
  containers_.erase(it);
}

void OciRuntime::unindex_sandbox(const std::string& id) {
  auto it = sandboxes_.find(id);
  if (it == sandboxes_.end()) return;
  const PodUid uid(it->second.record.pod_uid);
  if (auto p = pods_.find(uid); p != pods_.end()) {
    erase_id(p->second.sandboxes, id);
    if (p->second.containers.empty() && p->second.sandboxes.empty()) pods_.erase(p);
  }
  sandboxes_.erase(it);
}

void OciRuntime::post(ContainerEvent::Type type, const Container& c) {
  ContainerEvent e;
  e.type = type;
  e.container_id = ContainerId(c.record.id);
  e.sandbox_id = SandboxId(c.record.sandbox_id);
  e.pod_uid = PodUid(c.record.pod_uid);
  asio::post(executor_, [h = handlers_, e] {
    if (h->on_container) h->on_container(e);
  });
}

void OciRuntime::post_sandbox_event(const Sandbox& s) {
  SandboxEvent e{SandboxId(s.record.id), PodUid(s.record.pod_uid)};
  asio::post(executor_, [h = handlers_, e] {
    if (h->on_sandbox) h->on_sandbox(e);
  });
}

namespace {
void wake(std::vector<std::weak_ptr<base::Timer>>& waiters) {
  for (auto& w : waiters)
    if (auto t = w.lock()) t->cancel();
  waiters.clear();
}
}  // namespace

void OciRuntime::shutdown() {
  shut_down_ = true;
  if (auto timer = rotation_timer_.lock()) timer->cancel();
  image_watch_.reset();
  // Stops awaiting exits (a stop in progress is left to the next agent,
  // which finds the container still running and stops it again).
  for (auto& [id, c] : containers_) wake(c.exit_waiters);
  for (auto& [id, s] : sandboxes_) wake(s.exit_waiters);
  if (calls_in_flight_ == 0) drivers_.clear();  // else the last call's guard does it
}

void OciRuntime::on_images_changed(ImagesChangedHandler handler) {
  image_watch_.reset();
  if (shut_down_ || !handler) return;
  auto watch = FileReplaceWatch::start(executor_, store_.index_file(), std::move(handler));
  if (!watch) {
    base::log_warning("image imports are seen at the next relist only: {}", watch.error().message);
    return;
  }
  image_watch_ = std::move(*watch);
}

void OciRuntime::set_event_handlers(ContainerEventHandler on_container,
                                    SandboxEventHandler on_sandbox) {
  handlers_->on_container = std::move(on_container);
  handlers_->on_sandbox = std::move(on_sandbox);
}

// When conmon wrote the exit file (<run>/<handler>/exits/<id>, see
// driver()): the exit's time also for an exit that happened while no agent
// ran. Now when there is no file.
WallTime OciRuntime::exit_time(const ContainerRecord& r) const {
  struct stat st {};
  const fs::path file = state_.root() / "run" / r.handler / "exits" / r.id;
  if (::stat(file.c_str(), &st) != 0) return clock_.wall_now();
  return WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

void OciRuntime::mark_exited(Container& c, std::optional<int> code, bool notify) {
  ContainerRecord& r = c.record;
  c.state = ContainerState::Exited;
  if (!r.finished_at) r.finished_at = exit_time(r);
  if (!r.exit_code) {
    // No exit file (conmon itself died): the code is lost.
    r.exit_code = code.value_or(255);
    r.reason = *r.exit_code == 0 ? "Completed" : "Error";
    // SIGKILL from the kernel's OOM killer, not from anyone else.
    if (*r.exit_code == 137) {
      auto d = driver(r.handler);
      if (d && (*d)->oom_killed(r.id)) r.reason = "OOMKilled";
    }
    r.message = code ? termination_message(state_.container_dir(r.id) / "termination-log",
                                           r.termination_message_policy, *r.exit_code, r.log_path)
                     : "the container's exit code was lost";
  }
  if (auto s = state_.write(r); !s)
    base::log_warning("oci: recording the exit of container {}: {}", r.id, s.error().to_string());
  wake(c.exit_waiters);
  if (notify) post(ContainerEvent::Type::Exited, c);
}

void OciRuntime::on_driver_exit(const std::string& id) {
  if (shut_down_) return;  // the exit file stays for the next agent
  if (auto it = containers_.find(id); it != containers_.end()) {
    Container& c = it->second;
    if (c.state == ContainerState::Exited) return;
    if (c.starting) {
      c.exit_pending = true;
      return;
    }
    auto d = driver(c.record.handler);
    mark_exited(c, d ? (*d)->exit_code(id) : std::nullopt);
    return;
  }
  if (auto it = sandboxes_.find(id); it != sandboxes_.end()) {
    Sandbox& s = it->second;
    s.state = SandboxState::NotReady;
    if (!s.record.finished_at) {
      s.record.finished_at = clock_.wall_now();
      (void)state_.write(s.record);
    }
    wake(s.exit_waiters);
    if (!s.exit_reported) {
      s.exit_reported = true;
      post_sandbox_event(s);
    }
  }
}

Task<bool> OciRuntime::await_exit(const std::string& id, std::chrono::milliseconds limit) {
  auto exited = [this, &id] {
    if (auto c = containers_.find(id); c != containers_.end())
      return c->second.state == ContainerState::Exited;
    if (auto s = sandboxes_.find(id); s != sandboxes_.end())
      return s->second.state != SandboxState::Ready;
    return true;  // gone
  };
  const base::SteadyTime deadline = clock_.now() + limit;
  while (!exited() && clock_.now() < deadline && !shut_down_) {
    auto timer = std::shared_ptr<base::Timer>(clock_.make_timer(executor_));
    timer->expires_at(deadline);
    if (auto c = containers_.find(id); c != containers_.end()) {
      c->second.exit_waiters.push_back(timer);
    } else if (auto s = sandboxes_.find(id); s != sandboxes_.end()) {
      s->second.exit_waiters.push_back(timer);
    }
    co_await timer->wait();
  }
  co_return exited();
}

Task<base::Result<std::vector<SandboxStatus>>> OciRuntime::list_sandboxes() {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  std::vector<SandboxStatus> out;
  out.reserve(sandboxes_.size());
  for (const auto& [id, s] : sandboxes_) out.push_back(status_of(s));
  co_return out;
}

Task<base::Result<std::vector<ContainerStatus>>> OciRuntime::list_containers() {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  std::vector<ContainerStatus> out;
  out.reserve(containers_.size());
  for (const auto& [id, c] : containers_) out.push_back(status_of(c));
  co_return out;
}

Task<base::Result<ContainerStatus>> OciRuntime::container_status(const ContainerId& id) {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  auto it = containers_.find(id.str());
  if (it == containers_.end()) co_return base::Error("no container " + id.str());
  co_return status_of(it->second);
}

Task<base::Result<PodRuntimeState>> OciRuntime::list_pod(const PodUid& pod) {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  PodRuntimeState out;
  auto p = pods_.find(pod);
  if (p == pods_.end()) co_return out;
  for (const auto& id : p->second.sandboxes) out.sandboxes.push_back(status_of(sandboxes_.at(id)));
  for (const auto& id : p->second.containers)
    out.containers.push_back(status_of(containers_.at(id)));
  co_return out;
}

Task<base::Result<std::optional<std::string>>> OciRuntime::image_status(const std::string& ref) {
  auto normalized = normalize_reference(ref);
  if (!normalized) co_return normalized.error();
  auto image = store_.find(ref);
  if (!image) co_return std::optional<std::string>();
  co_return std::optional<std::string>(image->id);
}

Task<base::Result<std::string>> OciRuntime::pull_image(const std::string& ref) {
  auto image = store_.find(ref);
  if (!image)
    co_return base::Error("image " + ref +
                          " not found on this node: import it with `podagent image import`");
  co_return image->id;
}

Task<base::Result<ExecResult>> OciRuntime::exec(const ContainerId& id,
                                                std::vector<std::string> command,
                                                std::chrono::milliseconds timeout) {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  auto it = containers_.find(id.str());
  if (it == containers_.end()) co_return base::Error("no container " + id.str());
  if (it->second.state != ContainerState::Running)
    co_return base::Error("container " + id.str() + " is not running");
  auto d = driver(it->second.record.handler);
  if (!d) co_return d.error();
  base::Result<ExecResult> r = co_await (*d)->exec(id.str(), command, timeout);
  co_return r;
}

}  // namespace podagent::runtime::oci
