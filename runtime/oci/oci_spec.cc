// config.json (OCI runtime spec 1.0.2) for the pod's infra container and
// its containers, with the defaults containerd's CRI plugin gives a pod
// (mounts, capabilities, masked paths, device rules), so that runc 1.1 and
// crun 1.8 run them as they would run a kubelet's pod.
//
// Deliberately absent: process.rlimits and process.oomScoreAdj (raising
// limits or a negative score needs CAP_SYS_RESOURCE, which some nodes' root
// lacks; the runtime's defaults are inherited).

#include "runtime/oci/oci_spec.h"

#include "runtime/oci/seccomp.h"

#include <algorithm>
#include <cctype>
#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace podagent::runtime::oci {

namespace json = boost::json;

namespace {

constexpr const char* kDefaultCapabilities[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

// Every capability of Linux 5.9 and later, in number order.
// clang-format off
constexpr const char* kAllCapabilities[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};
// clang-format on

// containerd's defaults (oci.populateDefaultUnixSpec).
constexpr const char* kMaskedPaths[] = {
    "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi",          "/sys/firmware"};
constexpr const char* kReadonlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                          "/proc/sysrq-trigger"};

constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The kubelet's CPU figures (pkg/kubelet/cm/helpers_linux.go).
constexpr int64_t kMinShares = 2;
constexpr int64_t kMaxShares = 262144;
constexpr int64_t kCpuPeriod = 100000;
constexpr int64_t kMinQuota = 1000;

json::array strings(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

json::object mount(std::string_view dest, std::string_view type, std::string_view source,
                   std::vector<std::string> options) {
  return json::object{
      {"destination", dest}, {"type", type}, {"source", source}, {"options", strings(options)}};
}

// containerd's default mounts, with the cgroup mount its CRI plugin adds.
// A privileged container gets /sys and /sys/fs/cgroup writable.
json::array default_mounts(bool privileged) {
  std::string sys_mode = privileged ? "rw" : "ro";
  json::array m;
  m.push_back(mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  m.push_back(
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  m.push_back(mount("/dev/pts", "devpts", "devpts",
                    {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  m.push_back(
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  m.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  m.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", sys_mode}));
  m.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup",
                    {"nosuid", "noexec", "nodev", "relatime", sys_mode}));
  return m;
}

size_t depth(std::string_view path) {
  return static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

// The defaults, each replaced by an input mount at its destination, then
// the other input mounts, parents before children (as containerd orders them).
json::array all_mounts(bool privileged, std::vector<BindMount> binds) {
  json::array out = default_mounts(privileged);
  std::stable_sort(binds.begin(), binds.end(), [](const BindMount& a, const BindMount& b) {
    return depth(a.destination) < depth(b.destination);
  });
  for (const auto& b : binds) {
    std::string propagation = b.propagation.empty() ? "rprivate" : b.propagation;
    json::object m = mount(b.destination, "bind", b.source.string(),
                           {"rbind", propagation, b.read_only ? "ro" : "rw"});
    auto same = std::find_if(out.begin(), out.end(), [&](const json::value& v) {
      return v.as_object().at("destination").as_string() == b.destination;
    });
    if (same != out.end())
      *same = std::move(m);
    else
      out.push_back(std::move(m));
  }
  return out;
}

json::object capabilities(const std::vector<std::string>& caps) {
  json::array a = strings(caps);
  return json::object{{"bounding", a}, {"effective", a}, {"permitted", a}};
}

std::string cap_name(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return name.starts_with("CAP_") ? name : "CAP_" + name;
}

// containerd's WithCapabilities: add ALL, drop ALL, then the single adds
// and drops, so that "add ALL, drop CHOWN" means all but CHOWN.
std::vector<std::string> container_capabilities(const ContainerSpecInput& in, bool privileged) {
  std::vector<std::string> all(std::begin(kAllCapabilities), std::end(kAllCapabilities));
  if (!in.privileged_capabilities.empty()) all = in.privileged_capabilities;
  if (privileged) return all;
  std::vector<std::string> caps(std::begin(kDefaultCapabilities), std::end(kDefaultCapabilities));
  const auto& sc = in.container->security_context;
  if (!sc || !sc->capabilities) return caps;
  const auto& add = sc->capabilities->add;
  const auto& drop = sc->capabilities->drop;
  auto has_all = [](const std::vector<std::string>& v) {
    return std::any_of(v.begin(), v.end(),
                       [](const std::string& s) { return cap_name(s) == "CAP_ALL"; });
  };
  if (has_all(add)) caps = all;
  if (has_all(drop)) caps.clear();
  for (const auto& c : add) {
    std::string name = cap_name(c);
    if (name != "CAP_ALL" && std::find(caps.begin(), caps.end(), name) == caps.end())
      caps.push_back(name);
  }
  for (const auto& c : drop) std::erase(caps, cap_name(c));
  return caps;
}

json::object annotations(const model::Pod& pod, std::string_view type) {
  return json::object{{"io.kubernetes.cri.container-type", type},
                      {"io.kubernetes.pod.name", pod.metadata.name},
                      {"io.kubernetes.pod.namespace", pod.metadata.namespace_},
                      {"io.kubernetes.pod.uid", pod.metadata.uid}};
}

json::object user_json(const ProcessUser& user) {
  json::object u{{"uid", user.uid}, {"gid", user.gid}};
  if (!user.additional_gids.empty()) {
    json::array gids;
    for (uint32_t g : user.additional_gids) gids.emplace_back(g);
    u["additionalGids"] = std::move(gids);
  }
  return u;
}

json::object namespace_json(std::string_view type, std::string_view path = {}) {
  json::object ns{{"type", type}};
  if (!path.empty()) ns["path"] = path;
  return ns;
}

json::object resources(const model::ResourceRequirements& r, bool privileged,
                       int64_t pids_limit) {
  json::object out{
      {"devices", json::array{json::object{{"allow", privileged}, {"access", "rwm"}}}}};
  const auto& limits = r.limits;
  const auto& requests = r.requests;
  if (auto it = limits.find("memory"); it != limits.end() && !it->second.is_zero())
    out["memory"] = json::object{{"limit", it->second.value()}};
  int64_t cpu_limit = limits.contains("cpu") ? limits.at("cpu").milli() : 0;
  int64_t cpu_request = requests.contains("cpu") ? requests.at("cpu").milli() : 0;
  // The kubelet takes shares from the request, or from the limit when only
  // that is set.
  int64_t basis = cpu_request == 0 ? cpu_limit : cpu_request;
  int64_t shares =
      basis == 0 ? kMinShares : std::clamp(basis * 1024 / 1000, kMinShares, kMaxShares);
  json::object cpu{{"shares", shares}};
  if (cpu_limit > 0) {
    cpu["quota"] = std::max(cpu_limit * kCpuPeriod / 1000, kMinQuota);
    cpu["period"] = kCpuPeriod;
  }
  out["cpu"] = std::move(cpu);
  if (pids_limit > 0) out["pids"] = json::object{{"limit", pids_limit}};
  return out;
}

void set_security_paths(json::object& linux_obj) {
  json::array masked, readonly;
  for (const char* p : kMaskedPaths) masked.emplace_back(p);
  for (const char* p : kReadonlyPaths) readonly.emplace_back(p);
  linux_obj["maskedPaths"] = std::move(masked);
  linux_obj["readonlyPaths"] = std::move(readonly);
}

json::object seccomp_json(const SeccompFilter& filter) {
  json::array rules;
  for (const SeccompRule& r : filter.syscalls) {
    json::object rule{{"names", strings(r.names)}, {"action", r.action}};
    if (r.errno_ret) rule["errnoRet"] = *r.errno_ret;
    if (!r.args.empty()) {
      json::array args;
      for (const SeccompArg& a : r.args)
        args.push_back(json::object{
            {"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
      rule["args"] = std::move(args);
    }
    rules.push_back(std::move(rule));
  }
  return json::object{{"defaultAction", filter.default_action},
                      {"architectures", strings(filter.architectures)},
                      {"syscalls", std::move(rules)}};
}

// linux.seccomp for a process with `caps`, when its profile asks for one.
base::Status set_seccomp(json::object& linux_obj, const model::Pod& pod,
                         const model::Container* container, const std::vector<std::string>& caps) {
  const std::string path = container ? container_field_path(pod, *container) : "";
  auto mode = seccomp_mode(pod, container, path);
  if (!mode) return mode.error();
  if (*mode == SeccompMode::RuntimeDefault)
    linux_obj["seccomp"] = seccomp_json(runtime_default_seccomp(caps));
  return {};
}

// The kernel namespace of a sysctl that has one (the kubelet's
// pkg/kubelet/sysctl/namespace.go): "ipc", "net", or "" for a node-wide one.
std::string_view sysctl_namespace(std::string name) {
  // "net/ipv4/ip_forward" is another spelling of "net.ipv4.ip_forward".
  if (name.find('.') == std::string::npos || name.find('/') < name.find('.'))
    std::replace(name.begin(), name.end(), '/', '.');
  static constexpr const char* kIpc[] = {"kernel.sem",    "kernel.shmall", "kernel.shmmax",
                                         "kernel.shmmni", "kernel.msgmax", "kernel.msgmnb",
                                         "kernel.msgmni", "kernel.shm_rmid_forced"};
  if (std::find(std::begin(kIpc), std::end(kIpc), name) != std::end(kIpc)) return "ipc";
  if (name.starts_with("fs.mqueue.")) return "ipc";
  if (name.starts_with("net.")) return "net";
  return "";
}

// Only sysctls of the pod's own namespaces can be set: one of the node's
// would change every pod's and the node's value.
base::Status check_sysctls(const model::PodSpec& spec) {
  const auto& sc = spec.security_context;
  if (!sc) return {};
  for (size_t i = 0; i < sc->sysctls.size(); ++i) {
    const std::string& name = sc->sysctls[i].name;
    const std::string at = "spec.securityContext.sysctls[" + std::to_string(i) + "].name";
    std::string_view ns = sysctl_namespace(name);
    if (ns.empty())
      return base::Error("forbidden sysctl: \"" + name +
                             "\" is not namespaced (only net.*, fs.mqueue.*, kernel.sem, "
                             "kernel.shm* and kernel.msg* sysctls can be set for a pod)",
                         at);
    if ((ns == "net" && spec.host_network) || (ns == "ipc" && spec.host_ipc))
      return base::Error("forbidden sysctl: \"" + name + "\" not allowed with host " +
                             std::string(ns == "net" ? "net" : "ipc") + " enabled",
                         at);
  }
  return {};
}

base::Status check_input(const model::Pod* pod, const std::filesystem::path& rootfs) {
  if (!pod) return base::Error("no pod given");
  if (rootfs.empty() || !rootfs.is_absolute())
    return base::Error("rootfs must be an absolute path");
  return {};
}

base::Result<json::object> container_linux(const ContainerSpecInput& in, bool privileged,
                                           const std::vector<std::string>& caps) {
  const model::Pod& pod = *in.pod;
  const auto& sc = in.container->security_context;
  json::array ns{namespace_json("mount")};
  if (!in.namespaces.network.empty())
    ns.push_back(namespace_json("network", in.namespaces.network));
  if (!in.namespaces.ipc.empty()) ns.push_back(namespace_json("ipc", in.namespaces.ipc));
  if (!in.namespaces.uts.empty()) ns.push_back(namespace_json("uts", in.namespaces.uts));
  if (!in.namespaces.pid.empty())
    ns.push_back(namespace_json("pid", in.namespaces.pid));
  else if (!pod.spec.host_pid)
    ns.push_back(namespace_json("pid"));
  json::object linux_obj{
      {"namespaces", std::move(ns)},
      {"resources", resources(in.container->resources, privileged, in.pids_limit)}};
  if (!in.cgroups_path.empty()) linux_obj["cgroupsPath"] = in.cgroups_path;
  bool unmasked = sc && sc->proc_mount == "Unmasked";
  if (!privileged && !unmasked) set_security_paths(linux_obj);
  if (auto st = set_seccomp(linux_obj, pod, in.container, caps); !st) return st.error();
  return linux_obj;
}

}  // namespace

std::vector<std::string> capability_names(uint64_t mask) {
  std::vector<std::string> out;
  for (size_t bit = 0; bit < std::size(kAllCapabilities); ++bit)
    if (mask & (uint64_t{1} << bit)) out.emplace_back(kAllCapabilities[bit]);
  return out;
}

base::Result<std::string> sandbox_spec_json(const SandboxSpecInput& in) {
  if (auto st = check_input(in.pod, in.rootfs); !st) return st.error();
  const model::PodSpec& spec = in.pod->spec;
  if (auto st = check_sysctls(spec); !st) return st.error();
  ProcessUser user;
  if (spec.security_context) {
    user.uid = static_cast<uint32_t>(spec.security_context->run_as_user.value_or(0));
    user.gid = static_cast<uint32_t>(spec.security_context->run_as_group.value_or(0));
  }
  std::vector<std::string> caps(std::begin(kDefaultCapabilities), std::end(kDefaultCapabilities));
  json::object process{{"terminal", false},
                       {"user", user_json(user)},
                       {"args", json::array{"/pause"}},
                       {"env", json::array{kDefaultPath}},
                       {"cwd", "/"},
                       {"capabilities", capabilities(caps)},
                       {"noNewPrivileges", true}};
  // The kubelet gives the pod its own UTS namespace exactly when it has its
  // own network namespace.
  bool own_uts = !spec.host_network;
  json::array ns{namespace_json("mount")};
  if (!spec.host_network) ns.push_back(namespace_json("network"));
  if (!spec.host_ipc) ns.push_back(namespace_json("ipc"));
  if (own_uts) ns.push_back(namespace_json("uts"));
  if (!spec.host_pid) ns.push_back(namespace_json("pid"));
  json::object linux_obj{
      {"namespaces", std::move(ns)},
      {"resources",
       json::object{{"devices", json::array{json::object{{"allow", false}, {"access", "rwm"}}}}}}};
  if (!in.cgroups_path.empty()) linux_obj["cgroupsPath"] = in.cgroups_path;
  if (spec.security_context && !spec.security_context->sysctls.empty()) {
    json::object sysctl;
    for (const auto& s : spec.security_context->sysctls) sysctl[s.name] = s.value;
    linux_obj["sysctl"] = std::move(sysctl);
  }
  set_security_paths(linux_obj);
  // The pod's seccompProfile applies to the infra container too, as
  // containerd applies it to the sandbox.
  if (auto st = set_seccomp(linux_obj, *in.pod, nullptr, caps); !st) return st.error();

  json::object config{{"ociVersion", "1.0.2"},
                      {"process", std::move(process)},
                      {"root", json::object{{"path", in.rootfs.string()}, {"readonly", true}}}};
  if (own_uts) config["hostname"] = in.hostname;
  json::array mounts = default_mounts(false);
  mounts.pop_back();  // the pause program has no use for /sys/fs/cgroup
  config["mounts"] = std::move(mounts);
  config["linux"] = std::move(linux_obj);
  config["annotations"] = annotations(*in.pod, "sandbox");
  return json::serialize(config);
}

base::Result<std::string> container_spec_json(const ContainerSpecInput& in) {
  if (auto st = check_input(in.pod, in.rootfs); !st) return st.error();
  if (!in.container || !in.image) return base::Error("no container or image given");
  const model::Container& c = *in.container;
  const auto& sc = c.security_context;
  bool privileged = sc && sc->privileged.value_or(false);

  auto own_env = container_env_vars(in);
  if (!own_env) return own_env.error();
  auto argv = container_argv(c, *in.image, *own_env);
  if (!argv) return argv.error();
  auto env = container_env(in);
  if (!env) return env.error();
  ProcessUser user;
  if (in.user) {
    user = *in.user;
  } else {
    auto resolved = container_user(*in.pod, c, *in.image, {}, {});
    if (!resolved) return resolved.error();
    user = std::move(*resolved);
  }
  std::string cwd = !c.working_dir.empty()           ? c.working_dir
                    : !in.image->working_dir.empty() ? in.image->working_dir
                                                     : "/";
  // The kubelet: no_new_privs unless privilege escalation is allowed, which
  // it is when unsaid and always for a privileged container.
  bool no_new_privileges =
      !privileged && sc && sc->allow_privilege_escalation && !*sc->allow_privilege_escalation;

  const std::vector<std::string> caps = container_capabilities(in, privileged);
  auto linux_obj = container_linux(in, privileged, caps);
  if (!linux_obj) return linux_obj.error();
  json::object process{{"terminal", c.tty},
                       {"user", user_json(user)},
                       {"args", strings(*argv)},
                       {"env", strings(*env)},
                       {"cwd", cwd},
                       {"capabilities", capabilities(caps)},
                       {"noNewPrivileges", no_new_privileges}};
  bool readonly_root = sc && sc->read_only_root_filesystem.value_or(false);
  json::object config{
      {"ociVersion", "1.0.2"},
      {"process", std::move(process)},
      {"root", json::object{{"path", in.rootfs.string()}, {"readonly", readonly_root}}},
      {"mounts", all_mounts(privileged, in.mounts)},
      {"linux", std::move(*linux_obj)}};
  json::object notes = annotations(*in.pod, "container");
  notes["io.kubernetes.container.name"] = c.name;
  // The OCI spec has no stdin; the monitor reads these to keep it open.
  if (c.stdin) notes["io.podagent.stdin"] = "true";
  if (c.stdin_once) notes["io.podagent.stdin-once"] = "true";
  config["annotations"] = std::move(notes);
  return json::serialize(config);
}

}  // namespace podagent::runtime::oci
