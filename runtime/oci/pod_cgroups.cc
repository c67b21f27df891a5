#include "runtime/oci/pod_cgroups.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "base/unique_fd.h"
#include "model/qos.h"
#include "runtime/oci/rootfs.h"

namespace podagent::runtime::oci {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kMinShares = 2;
constexpr int64_t kMaxShares = 262144;
constexpr int64_t kMinQuotaUs = 1000;

// The v1 controllers the pod cgroups are limited through.
constexpr std::array<const char*, 3> kLimitedControllers = {"memory", "cpu", "pids"};
constexpr std::array<std::string_view, 14> kKnownControllers = {
    "cpu",  "cpuacct", "cpuset",   "memory",     "devices", "freezer", "blkio",
    "pids", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma",    "misc"};
constexpr std::string_view kUnifiedMount = "/sys/fs/cgroup";

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Mount point and super options of a cgroup or cgroup2 mount line, with its
// type; nullopt for other lines.
struct CgroupMount {
  std::string type;
  fs::path point;
  std::vector<std::string> options;
};

std::optional<CgroupMount> parse_line(std::string_view line) {
  const std::vector<std::string> f = split(line, ' ');
  auto dash = std::find(f.begin(), f.end(), "-");
  if (f.size() < 5 || dash == f.end() || std::distance(dash, f.end()) < 4) return std::nullopt;
  const std::string& type = *(dash + 1);
  if (type != "cgroup" && type != "cgroup2") return std::nullopt;
  return CgroupMount{type, unescape_mountinfo(f[4]), split(*(dash + 3), ',')};
}

// Sum over app containers and sidecars, or what runs beside the largest
// init container, whichever is larger (the kubelet's PodRequests/PodLimits).
template <typename Get>
int64_t pod_total(const model::PodSpec& spec, Get get) {
  int64_t sidecars = 0, init_max = 0;
  for (const auto& c : spec.init_containers) {
    if (c.is_sidecar()) {
      sidecars += get(c);
      init_max = std::max(init_max, sidecars);
    } else {
      init_max = std::max(init_max, get(c) + sidecars);
    }
  }
  int64_t apps = sidecars;
  for (const auto& c : spec.containers) apps += get(c);
  return std::max(apps, init_max);
}

int64_t quantity_milli(const model::ResourceList& list, const std::string& name) {
  auto it = list.find(name);
  return it == list.end() ? 0 : std::max<int64_t>(it->second.milli(), 0);
}

// Whether every app container and sidecar limits `name`.
bool all_limit(const model::PodSpec& spec, const std::string& name) {
  auto limits = [&](const model::Container& c) {
    return quantity_milli(c.resources.limits, name) > 0;
  };
  return std::all_of(spec.containers.begin(), spec.containers.end(), limits) &&
         std::all_of(spec.init_containers.begin(), spec.init_containers.end(),
                     [&](const model::Container& c) { return !c.is_sidecar() || limits(c); });
}

base::Status write_value(const fs::path& file, const std::string& value) {
  base::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return base::Error("opening " + file.string() + ": " + std::strerror(errno));
  if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
    return base::Error("writing " + value + " to " + file.string() + ": " + std::strerror(errno));
  return base::Status::Ok();
}

base::Status make_dirs(const std::vector<fs::path>& dirs) {
  for (const fs::path& d : dirs) {
    std::error_code ec;
    fs::create_directories(d, ec);
    if (ec) return base::Error("creating the cgroup " + d.string() + ": " + ec.message());
  }
  return base::Status::Ok();
}

base::Status apply(const std::vector<CgroupWrite>& writes) {
  for (const CgroupWrite& w : writes)
    if (auto s = write_value(w.file, w.value); !s) return s;
  return base::Status::Ok();
}

// rmdir that counts a missing directory as removed and one still in use
// (processes or children: EBUSY, ENOTEMPTY) as not an error.
base::Status remove_dir(const fs::path& dir) {
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT || errno == EBUSY || errno == ENOTEMPTY)
    return base::Status::Ok();
  return base::Error("removing the cgroup " + dir.string() + ": " + std::strerror(errno));
}

std::string read_small(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

base::Result<CgroupLayout> parse_cgroup_layout(std::string_view mountinfo) {
  CgroupLayout layout;
  for (const std::string& line : split(mountinfo, '\n')) {
    auto m = parse_line(line);
    if (!m) continue;
    if (m->type == "cgroup2" && m->point == kUnifiedMount) {
      // Unified: nothing else counts (runc's IsCgroup2UnifiedMode).
      CgroupLayout v2;
      v2.version = CgroupVersion::V2;
      v2.unified = m->point;
      v2.hierarchies = {m->point};
      return v2;
    }
    if (std::find(layout.hierarchies.begin(), layout.hierarchies.end(), m->point) ==
        layout.hierarchies.end())
      layout.hierarchies.push_back(m->point);
    if (m->type != "cgroup") continue;
    for (const std::string& option : m->options) {
      if (std::find(kKnownControllers.begin(), kKnownControllers.end(), option) !=
          kKnownControllers.end())
        layout.controllers.emplace(option, m->point);  // the first mount of each wins
    }
  }
  if (layout.controllers.empty())
    return base::Error(
        "no cgroup hierarchy is mounted (no cgroup2 at /sys/fs/cgroup, no v1 controller)");
  return layout;
}

int64_t milli_cpu_to_shares(int64_t milli) {
  if (milli <= 0) return kMinShares;
  return std::clamp(milli * 1024 / 1000, kMinShares, kMaxShares);
}

int64_t milli_cpu_to_quota(int64_t milli) {
  return std::max(milli * kCgroupCpuPeriodUs / 1000, kMinQuotaUs);
}

int64_t cpu_shares_to_weight(int64_t shares) {
  if (shares <= 0) return 0;
  return 1 + ((shares - 2) * 9999) / 262142;
}

std::string qos_cgroup_name(std::string_view root, std::string_view qos_class) {
  std::string out(root);
  if (qos_class == model::kQosBurstable) out += "/burstable";
  if (qos_class == model::kQosBestEffort) out += "/besteffort";
  return out;
}

std::string pod_cgroup_name(std::string_view root, std::string_view qos_class,
                            std::string_view pod_uid) {
  return qos_cgroup_name(root, qos_class) + "/pod" + std::string(pod_uid);
}

CgroupLimits pod_cgroup_limits(const model::PodSpec& spec, int64_t pids_limit) {
  CgroupLimits out;
  if (pids_limit > 0) out.pids = pids_limit;
  if (model::qos_class(spec) == model::kQosBestEffort) {
    out.cpu_shares = kMinShares;
    return out;
  }
  auto request = [](const std::string& name) {
    return [name](const model::Container& c) {
      // Unrequested but limited counts as requested at the limit (defaulting).
      return c.resources.requests.contains(name) ? quantity_milli(c.resources.requests, name)
                                                 : quantity_milli(c.resources.limits, name);
    };
  };
  auto limit = [](const std::string& name) {
    return [name](const model::Container& c) { return quantity_milli(c.resources.limits, name); };
  };
  out.cpu_shares = milli_cpu_to_shares(pod_total(spec, request("cpu")));
  if (all_limit(spec, "cpu")) out.cpu_quota_us = milli_cpu_to_quota(pod_total(spec, limit("cpu")));
  if (all_limit(spec, "memory")) out.memory_bytes = pod_total(spec, limit("memory")) / 1000;
  return out;
}

CgroupLimits node_cgroup_limits(int64_t allocatable_cpu_milli, int64_t allocatable_memory_bytes) {
  CgroupLimits out;
  if (allocatable_cpu_milli > 0) out.cpu_shares = milli_cpu_to_shares(allocatable_cpu_milli);
  if (allocatable_memory_bytes > 0) out.memory_bytes = allocatable_memory_bytes;
  return out;
}

std::vector<fs::path> cgroup_dirs(const CgroupLayout& layout, std::string_view cgroup) {
  if (layout.version == CgroupVersion::V2) return {layout.unified / cgroup};
  std::vector<fs::path> out;
  for (const char* c : kLimitedControllers) {
    auto it = layout.controllers.find(c);
    if (it == layout.controllers.end()) continue;
    fs::path dir = it->second / cgroup;
    if (std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(dir);  // co-mounted
  }
  return out;
}

std::vector<CgroupWrite> cgroup_writes(const CgroupLayout& layout, std::string_view cgroup,
                                       const CgroupLimits& limits) {
  std::vector<CgroupWrite> out;
  const bool v2 = layout.version == CgroupVersion::V2;
  auto dir = [&](const char* controller) -> std::optional<fs::path> {
    auto it = layout.controllers.find(controller);
    if (it == layout.controllers.end()) return std::nullopt;
    return it->second / cgroup;
  };
  auto add = [&](const char* controller, const char* file, std::string value) {
    if (auto d = dir(controller)) out.push_back({*d / file, std::move(value)});
  };
  if (limits.memory_bytes)
    add("memory", v2 ? "memory.max" : "memory.limit_in_bytes",
        std::to_string(*limits.memory_bytes));
  if (limits.cpu_shares) {
    if (v2)
      add("cpu", "cpu.weight", std::to_string(cpu_shares_to_weight(*limits.cpu_shares)));
    else
      add("cpu", "cpu.shares", std::to_string(*limits.cpu_shares));
  }
  if (limits.cpu_quota_us) {
    if (v2) {
      add("cpu", "cpu.max",
          std::to_string(*limits.cpu_quota_us) + " " + std::to_string(kCgroupCpuPeriodUs));
    } else {
      add("cpu", "cpu.cfs_period_us", std::to_string(kCgroupCpuPeriodUs));
      add("cpu", "cpu.cfs_quota_us", std::to_string(*limits.cpu_quota_us));
    }
  }
  if (limits.pids) add("pids", "pids.max", std::to_string(*limits.pids));
  return out;
}

PodCgroups::PodCgroups(CgroupLayout layout, PodCgroupsOptions options)
    : layout_(std::move(layout)), options_(std::move(options)) {}

base::Result<PodCgroups> PodCgroups::detect(PodCgroupsOptions options) {
  auto layout = parse_cgroup_layout(read_small("/proc/self/mountinfo"));
  if (!layout) return layout.error();
  if (layout->version == CgroupVersion::V2) {
    std::istringstream words(read_small(layout->unified / "cgroup.controllers"));
    for (std::string c; words >> c;) layout->controllers.emplace(c, layout->unified);
  }
  return PodCgroups(std::move(*layout), std::move(options));
}

std::string PodCgroups::cgroups_path(const model::Pod& pod, std::string_view object_id) const {
  return "/" + pod_cgroup_name(options_.root, model::qos_class(pod.spec), pod.metadata.uid) + "/" +
         std::string(object_id);
}

base::Status PodCgroups::create_top() {
  const std::string& root = options_.root;
  const std::string burstable = qos_cgroup_name(root, model::kQosBurstable);
  const std::string besteffort = qos_cgroup_name(root, model::kQosBestEffort);
  for (const std::string& cg : {burstable, besteffort})
    if (auto s = make_dirs(cgroup_dirs(layout_, cg)); !s) return s;
  if (layout_.version == CgroupVersion::V2) {
    // v2 hands a controller to children only through the parent's
    // cgroup.subtree_control, from the mount down to the qos cgroups.
    // Only what is not enabled yet is written: a delegated or systemd-run
    // top may refuse writes it does not need (processes in it: EBUSY).
    for (const fs::path& d : {layout_.unified, layout_.unified / root, layout_.unified / burstable,
                              layout_.unified / besteffort}) {
      std::istringstream enabled(read_small(d / "cgroup.subtree_control"));
      std::vector<std::string> on{std::istream_iterator<std::string>(enabled), {}};
      for (const char* c : kLimitedControllers) {
        if (!layout_.controllers.contains(c) || std::find(on.begin(), on.end(), c) != on.end())
          continue;
        if (auto s = write_value(d / "cgroup.subtree_control", std::string("+") + c); !s) return s;
      }
    }
  }
  CgroupLimits besteffort_limits;
  besteffort_limits.cpu_shares = kMinShares;  // as the kubelet's QoS manager
  if (auto s = apply(cgroup_writes(layout_, besteffort, besteffort_limits)); !s) return s;
  return apply(cgroup_writes(
      layout_, root,
      node_cgroup_limits(options_.allocatable_cpu_milli, options_.allocatable_memory_bytes)));
}

base::Status PodCgroups::create(const model::Pod& pod) {
  if (!top_ready_) {
    if (auto s = create_top(); !s) return s;
    top_ready_ = true;
  }
  const std::string name =
      pod_cgroup_name(options_.root, model::qos_class(pod.spec), pod.metadata.uid);
  if (auto s = make_dirs(cgroup_dirs(layout_, name)); !s) return s;
  return apply(cgroup_writes(layout_, name, pod_cgroup_limits(pod.spec, options_.pod_pids_limit)));
}

base::Status PodCgroups::remove(std::string_view pod_uid, const std::vector<std::string>& leaves) {
  for (std::string_view qos :
       {model::kQosGuaranteed, model::kQosBurstable, model::kQosBestEffort}) {
    const std::string name = pod_cgroup_name(options_.root, qos, pod_uid);
    for (const fs::path& h : layout_.hierarchies) {
      const fs::path pod_dir = h / name;
      std::error_code ec;
      if (!fs::is_directory(pod_dir, ec)) continue;
      for (const std::string& leaf : leaves)
        if (auto s = remove_dir(pod_dir / leaf); !s) return s;
      if (auto s = remove_dir(pod_dir); !s) return s;
    }
  }
  return base::Status::Ok();
}

}  // namespace podagent::runtime::oci
