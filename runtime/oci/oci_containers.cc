// OciRuntime: containers (bundle, overlay rootfs, mounts, lifecycle).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include "base/log.h"
#include "base/unique_fd.h"
#include "runtime/oci/oci_runtime.h"
#include "runtime/oci/rootfs.h"
#include "runtime/oci/subpath.h"
#include "runtime/oci/volumes.h"

namespace podagent::runtime::oci {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// How long a SIGKILLed container may take to be reported exited.
constexpr std::chrono::milliseconds kKillWait = 10s;

std::string propagation_of(const std::string& k8s) {
  if (k8s == "HostToContainer") return "rslave";
  if (k8s == "Bidirectional") return "rshared";
  return "rprivate";
}

const model::Volume* find_volume(const model::Pod& pod, const std::string& name) {
  for (const auto& v : pod.spec.volumes)
    if (v.name == name) return &v;
  return nullptr;
}

std::string volume_kind(const model::Volume& v) {
  if (v.downward_api) return "downwardAPI";
  if (v.config_map) return "configMap";
  if (v.secret) return "secret";
  if (v.projected) return "projected";
  if (!v.unsupported_sources.empty()) return v.unsupported_sources.front();
  return "this kind of";
}

// Creates an empty file (mode 0666, for any user in the container) unless
// it exists.
base::Status touch(const fs::path& file) {
  base::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666));
  if (!fd.valid()) return base::Error("creating " + file.string());
  ::fchmod(fd.get(), 0666);
  return base::Status::Ok();
}

// The part of the volume at `volume_dir` that mount `m` names with its
// subPath or subPathExpr (`input` gives the container's variables), in the
// kubelet's words: "failed to prepare subPath for volumeMount ...".
base::Result<fs::path> sub_path_source(const fs::path& volume_dir, const model::VolumeMount& m,
                                       const ContainerSpecInput& input, const std::string& field) {
  const std::string failed = "failed to prepare subPath for volumeMount \"" + m.name +
                             "\" of container \"" + input.container->name + "\": ";
  std::string sub_path = m.sub_path;
  if (!m.sub_path_expr.empty()) {
    auto env = container_env_vars(input);
    if (!env) return env.error();
    auto expanded = expand_sub_path_expr(m.sub_path_expr, *env);
    if (!expanded) return base::Error(failed + expanded.error().message, field + ".subPathExpr");
    sub_path = std::move(*expanded);
  }
  auto resolved = resolve_sub_path(volume_dir, sub_path);
  if (!resolved)
    return base::Error(failed + resolved.error().message,
                       field + (m.sub_path_expr.empty() ? ".subPath" : ".subPathExpr"));
  return resolved;
}

}  // namespace

base::Result<std::vector<BindMount>> OciRuntime::container_mounts(const Sandbox& sandbox,
                                                                  const ContainerConfig& config,
                                                                  const fs::path& container_dir) {
  const fs::path pod_dir = state_.sandbox_dir(sandbox.record.id);
  std::vector<BindMount> out;
  out.push_back({pod_dir / "hosts", "/etc/hosts", false, ""});
  out.push_back({pod_dir / "hostname", "/etc/hostname", false, ""});
  out.push_back({pod_dir / "resolv.conf", "/etc/resolv.conf", false, ""});
  const std::string& tm = config.spec.termination_message_path;
  out.push_back(
      {container_dir / "termination-log", tm.empty() ? "/dev/termination-log" : tm, false, ""});
  const auto& mounts = config.spec.volume_mounts;
  // What a subPathExpr's $(VAR) sees: the container's own variables.
  ContainerSpecInput input;
  input.pod = config.pod.get();
  input.container = &config.spec;
  input.node = options_.node;
  input.hostname = sandbox.record.hostname;
  input.pod_ips = sandbox.ips;
  input.objects = config.objects.get();
  for (size_t i = 0; i < mounts.size(); ++i) {
    const model::VolumeMount& m = mounts[i];
    const std::string field = "volumeMounts[" + std::to_string(i) + "]";
    const model::Volume* v = find_volume(*config.pod, m.name);
    if (!v) return base::Error("no volume named \"" + m.name + "\" in the pod", field + ".name");
    auto prepared = config.prepared_volumes.find(m.name);
    if (!v->empty_dir && !v->host_path && prepared == config.prepared_volumes.end())
      return base::Error("volume \"" + m.name + "\": " + volume_kind(*v) +
                             " volumes are not supported yet by the oci runtime",
                         field);
    fs::path source = pod_dir / "volumes" / m.name;
    // configMap, secret, downwardAPI and projected volumes are written by
    // the pod worker and mounted read-only, as the kubelet does; a disk
    // emptyDir it made is mounted as the volumeMount says.
    bool read_only = m.read_only;
    if (prepared != config.prepared_volumes.end()) {
      source = prepared->second;
      read_only = m.read_only || !v->empty_dir;
    } else if (v->empty_dir && v->empty_dir->medium != "Memory") {
      // Not made by a pod worker (a runtime driven directly): one under
      // the sandbox's directory, which lives as long as the sandbox.
      if (auto s = prepare_empty_dir(source, *v->empty_dir); !s) return base::Error(s.error().message, field);
    } else if (v->host_path) {
      // Checked (and made, for the *OrCreate types) at each creation, as
      // the kubelet checks at each mount, before the container starts.
      auto host = prepare_host_path(v->name, *v->host_path, options_.host_path_allow_list);
      if (!host) return base::Error(host.error().message, field);
      source = std::move(*host);
    }
    if (!m.sub_path.empty() || !m.sub_path_expr.empty()) {
      auto part = sub_path_source(source, m, input, field);
      if (!part) return part.error();
      source = std::move(*part);
    }
    out.push_back({std::move(source), m.mount_path, read_only, propagation_of(m.mount_propagation)});
  }
  return out;
}

Task<base::Result<ContainerId>> OciRuntime::create_container(const SandboxId& sandbox_id,
                                                             const ContainerConfig& config) {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  auto sb = sandboxes_.find(sandbox_id.str());
  if (sb == sandboxes_.end()) co_return base::Error("no sandbox " + sandbox_id.str());
  if (sb->second.state != SandboxState::Ready)
    co_return base::Error("sandbox " + sandbox_id.str() + " is not ready");
  auto image = store_.find(config.spec.image);
  if (!image)
    co_return base::Error("image " + config.spec.image +
                          " not found on this node: " + image.error().message);
  ContainerRecord r;
  r.id = new_object_id();
  const fs::path dir = state_.container_dir(r.id);
  // Refused volume kinds fail here, before anything is made.
  if (auto m = container_mounts(sb->second, config, dir); !m) co_return m.error();
  const SandboxRecord& sr = sb->second.record;
  r.sandbox_id = sr.id;
  r.pod_uid = sr.pod_uid;
  r.name = config.spec.name;
  r.kind = config.kind;
  r.attempt = config.attempt;
  r.spec_hash = config.spec_hash;
  r.image = config.spec.image;
  r.image_id = image->id;
  r.handler = sr.handler;
  r.created_at = clock_.wall_now();
  if (!sr.log_directory.empty() && !config.log_path.empty())
    r.log_path = (fs::path(sr.log_directory) / config.log_path).string();
  r.termination_message_policy = config.spec.termination_message_policy;
  r.bundle = (dir / "bundle").string();
  if (auto s = state_.write(r); !s) co_return s.error();
  base::Status built = store_.add_hold(r.image_id, r.id);
  if (built) built = co_await build_container(sb->second, r, config, *image);
  if (built && sandboxes_.count(r.sandbox_id) == 0)
    built = base::Error("sandbox " + r.sandbox_id + " was removed while the container was created");
  if (!built) {
    if (auto s = co_await delete_container_objects(r); !s)
      base::log_warning("oci: cleaning up container {} after a failed create: {}", r.id,
                        s.error().to_string());
    co_return built.error();
  }
  Container c;
  c.record = r;
  c.state = ContainerState::Created;
  index_container(std::move(c));
  post(ContainerEvent::Type::Created, containers_.at(r.id));
  co_return ContainerId(r.id);
}

Task<base::Status> OciRuntime::build_container(Sandbox& sandbox, ContainerRecord& record,
                                               const ContainerConfig& config, const Image& image) {
  const fs::path dir = state_.container_dir(record.id);
  const fs::path bundle = record.bundle;
  if (auto s = mount_overlay(image.layer_dirs, dir / "upper", dir / "work", bundle / "rootfs"); !s)
    co_return s;
  if (auto s = touch(dir / "termination-log"); !s) co_return s;
  if (!record.log_path.empty()) {
    std::error_code ec;
    fs::create_directories(fs::path(record.log_path).parent_path(), ec);
    if (ec)
      co_return base::Error("creating the log directory of " + record.log_path + ": " +
                            ec.message());
  }
  auto mounts = container_mounts(sandbox, config, dir);
  if (!mounts) co_return mounts.error();
  const model::Pod& pod = *config.pod;
  const std::string ns = "/proc/" + std::to_string(sandbox.pause_pid) + "/ns/";
  ContainerSpecInput input;
  input.pod = &pod;
  input.container = &config.spec;
  input.image = &image.config;
  input.rootfs = bundle / "rootfs";
  // hostNetwork pods use the node's UTS namespace too, as in Kubernetes.
  input.namespaces.network = pod.spec.host_network ? "" : ns + "net";
  input.namespaces.uts = pod.spec.host_network ? "" : ns + "uts";
  input.namespaces.ipc = pod.spec.host_ipc ? "" : ns + "ipc";
  if (pod.spec.share_process_namespace.value_or(false) && !pod.spec.host_pid)
    input.namespaces.pid = ns + "pid";
  if (config.kind == ContainerKind::Ephemeral && !config.spec.target_container_name.empty() &&
      !pod.spec.host_pid) {
    // kubectl debug --target: the ephemeral container joins the PID
    // namespace of the target's running process, so that it sees its
    // processes.
    auto target_pid = co_await running_pid(sandbox.record.id, config.spec.target_container_name);
    if (!target_pid) co_return target_pid.error();
    input.namespaces.pid = "/proc/" + std::to_string(*target_pid) + "/ns/pid";
  }
  input.mounts = std::move(*mounts);
  input.node = options_.node;
  input.objects = config.objects.get();
  input.hostname = sandbox.record.hostname;
  if (cgroups_) input.cgroups_path = cgroups_->cgroups_path(pod, record.id);
  input.pids_limit = options_.pod_pids_limit;
  input.privileged_capabilities = privileged_capabilities_;
  auto spec = container_spec_json(input);
  if (!spec) co_return spec.error();
  if (auto s = write_file_atomic(bundle / "config.json", *spec, false); !s) co_return s;
  auto d = driver(record.handler);
  if (!d) co_return d.error();
  const fs::path log = record.log_path;  // named: GCC 12 mishandles temporaries across co_await
  base::Result<int> created = co_await (*d)->create(record.id, bundle, log, config.spec.tty, config.spec.stdin);
  if (!created) co_return created.error();
  co_return base::Status::Ok();
}

Task<base::Result<int>> OciRuntime::running_pid(const std::string& sandbox_id, const std::string& name) {
  std::string id, handler;
  for (const auto& [cid, c] : containers_) {
    const bool newer = id.empty() || c.record.created_at > containers_.at(id).record.created_at;
    if (c.record.sandbox_id == sandbox_id && c.record.name == name &&
        c.state == ContainerState::Running && newer) {
      id = cid;
      handler = c.record.handler;
    }
  }
  if (id.empty()) co_return base::Error("the target container " + name + " is not running");
  auto d = driver(handler);
  if (!d) co_return d.error();
  base::Result<OciState> state = co_await (*d)->state(id);
  if (!state) co_return state.error();
  if (state->pid <= 0) co_return base::Error("the target container " + name + " is not running");
  co_return state->pid;
}

Task<base::Status> OciRuntime::start_container(const ContainerId& id) {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  auto it = containers_.find(id.str());
  if (it == containers_.end()) co_return base::Error("no container " + id.str());
  Container& c = it->second;
  if (c.state != ContainerState::Created || c.starting)
    co_return base::Error("container " + id.str() + " was already started");
  auto d = driver(c.record.handler);
  if (!d) co_return d.error();
  c.starting = true;
  base::Status started = co_await (*d)->start(id.str());
  it = containers_.find(id.str());
  if (it == containers_.end())
    co_return base::Error("container " + id.str() + " was removed while starting");
  Container& now = it->second;
  now.starting = false;
  if (!started) {
    now.record.exit_code = 128;
    now.record.reason = "StartError";
    now.record.message = started.error().message;
    mark_exited(now, 128);
    co_return started;
  }
  now.record.started_at = clock_.wall_now();
  now.state = ContainerState::Running;
  if (auto s = state_.write(now.record); !s)
    base::log_warning("oci: recording the start of container {}: {}", id.str(),
                      s.error().to_string());
  post(ContainerEvent::Type::Started, now);
  if (now.exit_pending) mark_exited(now, (*d)->exit_code(id.str()));
  co_return base::Status::Ok();
}

Task<base::Status> OciRuntime::kill_and_wait(const std::string& id,
                                             std::chrono::milliseconds grace) {
  auto it = containers_.find(id);
  if (it == containers_.end()) co_return base::Error("no container " + id);
  auto d = driver(it->second.record.handler);
  if (!d) co_return d.error();
  OciDriver& driver = **d;
  // A kill that fails because the process is already gone is fine: the
  // exit event follows.
  (void)co_await driver.kill(id, SIGTERM);
  if (co_await await_exit(id, grace)) co_return base::Status::Ok();
  if (shut_down_)
    co_return base::Error("the oci runtime shut down while container " + id + " was stopping");
  (void)co_await driver.kill(id, SIGKILL, true);
  if (co_await await_exit(id, kKillWait)) co_return base::Status::Ok();
  base::Result<OciState> state = co_await driver.state(id);
  if (state && state->status == "running")
    co_return base::Error("container " + id + " did not stop after SIGKILL");
  it = containers_.find(id);
  if (it != containers_.end() && it->second.state != ContainerState::Exited)
    mark_exited(it->second, driver.exit_code(id));
  co_return base::Status::Ok();
}

Task<base::Status> OciRuntime::stop_container(const ContainerId& id,
                                              std::chrono::milliseconds grace) {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  auto it = containers_.find(id.str());
  if (it == containers_.end()) co_return base::Error("no container " + id.str());
  if (it->second.state != ContainerState::Running) co_return base::Status::Ok();
  co_return co_await kill_and_wait(id.str(), grace);
}

Task<base::Status> OciRuntime::remove_container(const ContainerId& id) {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  auto it = containers_.find(id.str());
  if (it == containers_.end()) co_return base::Error("no container " + id.str());
  if (it->second.state == ContainerState::Running || it->second.starting)
    co_return base::Error("container " + id.str() + " is running: stop it first");
  co_return co_await discard_container(id.str());
}

Task<base::Status> OciRuntime::delete_container_objects(ContainerRecord record) {
  if (auto d = driver(record.handler)) {
    base::Status removed = co_await (*d)->remove(record.id);
    if (!removed) co_return removed;
    (*d)->forget(record.id);
  }
  // Runtime object first, then the hold, then the directory with the
  // record: a crash in between leaves a record that recovery cleans.
  if (!record.image_id.empty()) (void)store_.drop_hold(record.image_id, record.id);
  co_return remove_tree(state_.container_dir(record.id));
}

Task<base::Status> OciRuntime::discard_container(std::string id) {
  auto it = containers_.find(id);
  if (it == containers_.end()) co_return base::Status::Ok();
  if (it->second.state == ContainerState::Created) {
    // Its conmon writes an exit file once the runtime's waiting init
    // process dies: kill that first and wait for the file, or it would
    // appear after forget() and stay.
    if (auto d = driver(it->second.record.handler)) {
      (void)co_await (*d)->kill(id, SIGKILL);
      (void)co_await await_exit(id, kKillWait);
    }
    it = containers_.find(id);
    if (it == containers_.end()) co_return base::Status::Ok();
  }
  if (auto s = co_await delete_container_objects(it->second.record); !s) co_return s;
  it = containers_.find(id);
  if (it != containers_.end()) {
    post(ContainerEvent::Type::Removed, it->second);
    unindex_container(id);
  }
  co_return base::Status::Ok();
}

}  // namespace podagent::runtime::oci
