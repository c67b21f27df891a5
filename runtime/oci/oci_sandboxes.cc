// OciRuntime: sandboxes (the pause container and the per-pod files).

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "base/log.h"
#include "runtime/oci/oci_runtime.h"
#include "runtime/oci/rootfs.h"
#include "runtime/oci/runtime_command.h"
#include "runtime/oci/volumes.h"

namespace podagent::runtime::oci {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// How long the pause process gets to exit on SIGTERM, then on SIGKILL.
constexpr std::chrono::milliseconds kPauseGrace = 5s;
constexpr std::chrono::milliseconds kKillWait = 10s;

base::Status mkdir_mode(const fs::path& dir, mode_t mode) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::Error("creating " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), mode);  // past the umask
  return base::Status::Ok();
}

// Beside the sandbox's record: what CNI DEL needs, and the pinned netns.
constexpr const char* kNetworkFile = "network.json";
constexpr const char* kNetnsFile = "netns";

// The hostPorts of the pod's containers, as portmap takes them.
std::vector<CniPortMapping> port_mappings(const model::Pod& pod) {
  std::vector<CniPortMapping> out;
  for (const auto& c : pod.spec.containers) {
    for (const auto& p : c.ports) {
      if (p.host_port <= 0) continue;
      std::string protocol = p.protocol.empty() ? "TCP" : p.protocol;
      for (char& ch : protocol)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.push_back({static_cast<int32_t>(p.host_port), static_cast<int32_t>(p.container_port),
                     std::move(protocol), p.host_ip});
    }
  }
  return out;
}

bool is_netns_mount(const fs::path& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 &&
         st.f_type == static_cast<decltype(st.f_type)>(NSFS_MAGIC);
}

// Pins the network namespace of `pid` at `target` with a bind mount, so
// that it outlives the process (DEL must find the veth's end in it).
base::Status bind_netns(int pid, const fs::path& target) {
  base::UniqueFd fd(::open(target.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0444));
  if (!fd.valid()) return base::Error("creating " + target.string() + ": " + std::strerror(errno));
  const std::string source = "/proc/" + std::to_string(pid) + "/ns/net";
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return base::Error("bind-mounting " + source + " at " + target.string() + ": " +
                       std::strerror(errno));
  return base::Status::Ok();
}

void unbind_netns(const fs::path& target) {
  if (is_netns_mount(target)) ::umount2(target.c_str(), MNT_DETACH);
  std::error_code ec;
  fs::remove(target, ec);
}

std::string handler_of(const model::Pod& pod, const std::string& fallback) {
  return pod.spec.runtime_class_name && !pod.spec.runtime_class_name->empty()
             ? *pod.spec.runtime_class_name
             : fallback;
}

}  // namespace

base::Status OciRuntime::write_pod_files(const SandboxRecord& record, const model::Pod& pod) {
  const fs::path dir = state_.sandbox_dir(record.id);
  auto node_resolv = read_file_head(options_.node_resolv_conf, 64 * 1024);
  auto resolv = resolv_conf_file(pod, node_resolv ? *node_resolv : std::string());
  if (!resolv) return resolv.error();
  const std::pair<const char*, std::string> files[] = {
      {"hosts", hosts_file(pod, {})}, {"hostname", hostname_file(pod)}, {"resolv.conf", *resolv}};
  for (const auto& [name, text] : files) {
    if (auto s = write_file_atomic(dir / name, text, false); !s) return s;
  }
  // Memory emptyDir volumes: a tmpfs shared by the pod's containers, gone
  // with the sandbox (remove_tree of its directory unmounts it). Disk ones
  // live as long as the pod: the pod worker makes them (prepared_volumes).
  for (const auto& v : pod.spec.volumes) {
    if (!v.empty_dir || v.empty_dir->medium != "Memory") continue;
    if (auto s = prepare_empty_dir(dir / "volumes" / v.name, *v.empty_dir); !s) return s;
  }
  return base::Status::Ok();
}

base::Result<fs::path> OciRuntime::pause_rootfs() {
  // One read-only root shared by every sandbox, holding /pause (copied from
  // the configured binary, so that rebuilding that binary does not change a
  // running sandbox's file) and the mount points runc needs.
  const fs::path rootfs = state_.root() / "pause" / "rootfs";
  if (pause_ready_) return rootfs;  // checked once per runtime
  fs::path source = options_.pause_binary;
  if (source.empty()) source = beside_this_program("podagent-pause");
  auto content = read_file_head(source, 64 << 20);
  if (!content) return base::Error("the pause program: " + content.error().to_string());
  auto current = read_file_head(rootfs / "pause", 64 << 20);
  pause_ready_ = current && *current == *content;
  if (pause_ready_) return rootfs;
  for (const char* sub : {"proc", "dev", "sys"})
    if (auto s = mkdir_mode(rootfs / sub, 0755); !s) return s.error();
  if (auto s = write_file_atomic(rootfs / "pause", *content, true); !s) return s.error();
  if (::chmod((rootfs / "pause").c_str(), 0755) != 0)
    return base::Error("chmod " + (rootfs / "pause").string());
  pause_ready_ = true;
  return rootfs;
}

Task<base::Result<SandboxId>> OciRuntime::run_sandbox(const SandboxConfig& config) {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  const model::Pod& pod = *config.pod;
  SandboxRecord r;
  r.handler = handler_of(pod, options_.default_handler);
  auto d = driver(r.handler);
  if (!d) co_return base::Error(d.error().message, "spec.runtimeClassName");
  auto rootfs = pause_rootfs();
  if (!rootfs) co_return rootfs.error();
  r.id = new_object_id();
  r.pod_uid = config.pod_uid.str();
  r.pod_name = config.pod_name;
  r.pod_namespace = config.pod_namespace;
  r.attempt = config.attempt;
  r.hostname = pod_hostname(pod);
  r.created_at = clock_.wall_now();
  r.log_directory = config.log_directory.string();
  r.bundle = (state_.sandbox_dir(r.id) / "bundle").string();
  if (auto s = state_.write(r); !s) co_return s.error();
  Sandbox sandbox;
  sandbox.record = r;
  index_sandbox(std::move(sandbox));
  base::Status started = write_pod_files(r, pod);
  // After the record: whatever cgroup exists has a record whose removal takes it.
  if (started && cgroups_) started = cgroups_->create(pod);
  if (started) started = co_await start_pause(sandboxes_.at(r.id), pod, **d, *rootfs);
  // A failed ADD is undone by discard_sandbox (delete_sandbox_objects).
  if (started) started = co_await setup_network(r.id, config.pod);
  if (!started) {
    co_await discard_sandbox(r.id);
    co_return started.error();
  }
  co_return SandboxId(r.id);
}

Task<base::Status> OciRuntime::start_pause(Sandbox& sandbox, const model::Pod& pod,
                                           OciDriver& driver, const fs::path& rootfs) {
  const std::string id = sandbox.record.id;
  const fs::path bundle = sandbox.record.bundle;
  SandboxSpecInput input;
  input.pod = &pod;
  input.rootfs = rootfs;
  input.hostname = sandbox.record.hostname;
  if (cgroups_) input.cgroups_path = cgroups_->cgroups_path(pod, id);
  auto spec = sandbox_spec_json(input);
  if (!spec) co_return spec.error();
  if (auto s = mkdir_mode(bundle, 0755); !s) co_return s;
  if (auto s = write_file_atomic(bundle / "config.json", *spec, false); !s) co_return s;
  const fs::path no_log;  // named: GCC 12 mishandles temporaries across co_await
  base::Result<int> pid = co_await driver.create(id, bundle, no_log, false, false);
  if (!pid) co_return pid.error();
  base::Status started = co_await driver.start(id);
  if (!started) co_return started;
  auto it = sandboxes_.find(id);
  if (it == sandboxes_.end())
    co_return base::Error("sandbox " + id + " was removed while starting");
  // A pause process that died since is seen through its exit file, which
  // keeps the sandbox NotReady.
  if (!it->second.record.finished_at) {
    it->second.pause_pid = *pid;
    it->second.state = SandboxState::Ready;
  }
  co_return base::Status::Ok();
}

Task<base::Status> OciRuntime::stop_pause(const std::string& id) {
  auto it = sandboxes_.find(id);
  if (it == sandboxes_.end() || it->second.state != SandboxState::Ready)
    co_return base::Status::Ok();
  auto d = driver(it->second.record.handler);
  if (!d) co_return d.error();
  OciDriver& driver = **d;
  (void)co_await driver.kill(id, SIGTERM);
  if (!co_await await_exit(id, kPauseGrace)) {
    if (shut_down_)
      co_return base::Error("the oci runtime shut down while sandbox " + id + " was stopping");
    (void)co_await driver.kill(id, SIGKILL, true);
    if (!co_await await_exit(id, kKillWait)) {
      base::Result<OciState> state = co_await driver.state(id);
      if (state && state->status == "running")
        co_return base::Error("the pause process of " + id + " did not stop");
      on_driver_exit(id);  // gone without an exit file
    }
  }
  co_return base::Status::Ok();
}

Task<base::Status> OciRuntime::stop_sandbox(const SandboxId& id) {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  auto it = sandboxes_.find(id.str());
  if (it == sandboxes_.end()) co_return base::Error("no sandbox " + id.str());
  // As CRI's StopPodSandbox: containers still running are killed at once
  // (the pod worker has already stopped them with their grace periods).
  const std::vector<std::string> containers = it->second.containers;
  for (const std::string& c : containers) {
    auto ci = containers_.find(c);
    if (ci == containers_.end() || ci->second.state != ContainerState::Running) continue;
    if (auto s = co_await kill_and_wait(c, 0ms); !s) co_return s;
  }
  // As containerd: the network goes before the pause (its netns is pinned).
  if (auto s = co_await teardown_network(id.str()); !s) co_return s;
  co_return co_await stop_pause(id.str());
}

Task<base::Status> OciRuntime::remove_sandbox(const SandboxId& id) {
  const CallGuard guard(*this);
  if (auto s = co_await recover(); !s) co_return s.error();
  auto it = sandboxes_.find(id.str());
  if (it == sandboxes_.end()) co_return base::Error("no sandbox " + id.str());
  const std::vector<std::string> containers = it->second.containers;
  for (const std::string& c : containers) {
    auto ci = containers_.find(c);
    if (ci == containers_.end()) continue;
    if (ci->second.state == ContainerState::Running)
      if (auto s = co_await kill_and_wait(c, 0ms); !s) co_return s;
    if (auto s = co_await discard_container(c); !s) co_return s;
  }
  if (auto s = co_await stop_pause(id.str()); !s) co_return s;
  co_return co_await discard_sandbox(id.str());
}

Task<base::Status> OciRuntime::delete_sandbox_objects(SandboxRecord record) {
  if (auto s = co_await teardown_network(record.id); !s) co_return s;
  if (auto d = driver(record.handler)) {
    base::Status removed = co_await (*d)->remove(record.id);
    if (!removed) co_return removed;
    (*d)->forget(record.id);
  }
  if (auto s = remove_pod_cgroups(record); !s) co_return s;
  // The runtime object is gone: now the record may go with the directory.
  co_return remove_tree(state_.sandbox_dir(record.id));
}

base::Status OciRuntime::remove_pod_cgroups(const SandboxRecord& record) {
  if (!cgroups_) return base::Status::Ok();
  // Another sandbox of the pod (its next one) may have made the pod's
  // cgroup and not yet put its pause there: that cgroup must stay.
  if (auto p = pods_.find(PodUid(record.pod_uid)); p != pods_.end()) {
    for (const std::string& other : p->second.sandboxes)
      if (other != record.id) return base::Status::Ok();
  }
  return cgroups_->remove(record.pod_uid, {record.id});
}

Task<base::Status> OciRuntime::discard_sandbox(std::string id) {
  auto it = sandboxes_.find(id);
  if (it == sandboxes_.end()) co_return base::Status::Ok();
  if (auto s = co_await delete_sandbox_objects(it->second.record); !s) co_return s;
  unindex_sandbox(id);
  co_return base::Status::Ok();
}

Task<base::Status> OciRuntime::setup_network(std::string id,
                                             std::shared_ptr<const model::Pod> pod) {
  if (pod->spec.host_network || options_.cni.conf_dir.empty()) co_return base::Status::Ok();
  auto network = load_cni_network(options_.cni.conf_dir);
  if (!network) co_return network.error();
  if (!*network) co_return base::Status::Ok();  // no network list: loopback only
  auto it = sandboxes_.find(id);
  if (it == sandboxes_.end() || it->second.state != SandboxState::Ready)
    co_return base::Error("the pause process of sandbox " + id + " is not running");
  const fs::path dir = state_.sandbox_dir(id);
  CniState st;
  st.network = std::move(**network);
  st.attachment.container_id = id;
  st.attachment.netns = (dir / kNetnsFile).string();
  st.attachment.pod_namespace = it->second.record.pod_namespace;
  st.attachment.pod_name = it->second.record.pod_name;
  st.attachment.pod_uid = it->second.record.pod_uid;
  st.attachment.port_mappings = port_mappings(*pod);
  for (const auto& d : options_.cni.bin_dirs) st.bin_dirs.push_back(d.string());
  // Recorded before ADD starts: a SIGKILL during ADD leaves what DEL needs.
  if (auto s = write_file_atomic(dir / kNetworkFile, encode_cni_state(st), false); !s) co_return s;
  if (auto s = bind_netns(it->second.pause_pid, dir / kNetnsFile); !s) co_return s;
  base::Result<std::string> result =
      co_await cni_add(executor_, options_.cni, st.network, st.attachment);
  if (!result) co_return result.error();
  auto ips = cni_result_ips(*result);
  if (!ips)
    co_return base::Error("CNI network " + st.network.name + ": " + ips.error().to_string());
  st.result = std::move(*result);
  if (auto s = write_file_atomic(dir / kNetworkFile, encode_cni_state(st), false); !s) co_return s;
  if (auto s = write_file_atomic(dir / "hosts", hosts_file(*pod, *ips), false); !s) co_return s;
  it = sandboxes_.find(id);
  if (it == sandboxes_.end())
    co_return base::Error("sandbox " + id + " was removed while starting");
  it->second.ips = std::move(*ips);
  co_return base::Status::Ok();
}

Task<base::Status> OciRuntime::teardown_network(std::string id) {
  const fs::path dir = state_.sandbox_dir(id);
  const fs::path file = dir / kNetworkFile;
  const fs::path netns = dir / kNetnsFile;
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    unbind_netns(netns);  // pinned, then cut short before network.json
    co_return base::Status::Ok();
  }
  auto text = read_file_head(file, 4 << 20);
  if (!text) co_return text.error();
  auto st = decode_cni_state(*text);
  if (!st) co_return base::Error(file.string() + ": " + st.error().to_string());
  // The plugins of the ADD: the configured directories first, then those
  // the ADD used (an agent reconfigured since, or a bare sweep).
  CniOptions options = options_.cni;
  for (const auto& d : st->bin_dirs) options.bin_dirs.emplace_back(d);
  // Without the pinned namespace (the machine rebooted), DEL still releases
  // the IP lease and the port mappings; the veth went with the namespace.
  CniAttachment attachment = st->attachment;
  if (!is_netns_mount(netns)) attachment.netns.clear();
  base::Status del = co_await cni_del(executor_, options, st->network, attachment, st->result);
  if (!del) co_return base::Error("sandbox " + id + ": " + del.error().to_string());
  unbind_netns(netns);
  fs::remove(file, ec);
  co_return base::Status::Ok();
}

std::vector<std::string> OciRuntime::recorded_ips(const std::string& id) const {
  auto text = read_file_head(state_.sandbox_dir(id) / kNetworkFile, 4 << 20);
  if (!text) return {};
  auto st = decode_cni_state(*text);
  if (!st || st->result.empty()) return {};
  auto ips = cni_result_ips(st->result);
  return ips ? *ips : std::vector<std::string>();
}

}  // namespace podagent::runtime::oci
