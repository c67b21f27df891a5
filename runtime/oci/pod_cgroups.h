#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/pod.h"

// Pod cgroups as the kubelet's cgroupfs driver lays them out:
//
//   <root>/                       node allocatable (memory limit, cpu shares)
//   <root>/pod<uid>/              a Guaranteed pod
//   <root>/burstable/pod<uid>/    a Burstable pod
//   <root>/besteffort/pod<uid>/   a BestEffort pod (the qos dir: cpu shares 2)
//   .../pod<uid>/<object id>/     the pause and each container, made by runc
//                                 from linux.cgroupsPath
//
// The pure part (layout parsing, names, limits, the files to write) is
// separate from PodCgroups, which does the mkdir/write/rmdir.
namespace podagent::runtime::oci {

enum class CgroupVersion { V1, V2 };

// Where the node's cgroup hierarchies are mounted.
struct CgroupLayout {
  CgroupVersion version = CgroupVersion::V1;
  // v2: the unified hierarchy (/sys/fs/cgroup).
  std::filesystem::path unified;
  // v1: controller name ("memory", "cpu", "pids", ...) -> its mount point.
  std::map<std::string, std::filesystem::path> controllers;
  // Every hierarchy mount, named ones (name=systemd) and a hybrid node's
  // empty cgroup2 included: where runc may have made directories.
  std::vector<std::filesystem::path> hierarchies;
  bool operator==(const CgroupLayout&) const = default;
};

// The layout from the text of /proc/self/mountinfo: v2 when a cgroup2 is
// mounted at /sys/fs/cgroup (as runc decides), else v1 from the "cgroup"
// mounts (a hybrid node's cgroup2 elsewhere only joins `hierarchies`).
// Error when neither is found.
base::Result<CgroupLayout> parse_cgroup_layout(std::string_view mountinfo);

// What one cgroup is limited to; unset fields are left as they are.
struct CgroupLimits {
  std::optional<int64_t> memory_bytes;
  std::optional<int64_t> cpu_shares;    // v1 cpu.shares (v2: converted to cpu.weight)
  std::optional<int64_t> cpu_quota_us;  // per kCgroupCpuPeriodUs
  std::optional<int64_t> pids;
  bool operator==(const CgroupLimits&) const = default;
};

inline constexpr int64_t kCgroupCpuPeriodUs = 100000;

// The kubelet's conversions (pkg/kubelet/cm/helpers_linux.go).
int64_t milli_cpu_to_shares(int64_t milli);  // 0 -> 2 (the minimum), capped at 262144
int64_t milli_cpu_to_quota(int64_t milli);   // at least 1000 us
// runc's cpu.shares -> cpu.weight for v2 (0 stays 0: unset).
int64_t cpu_shares_to_weight(int64_t shares);

// "<root>" for Guaranteed, "<root>/burstable", "<root>/besteffort".
std::string qos_cgroup_name(std::string_view root, std::string_view qos_class);
// "<qos cgroup>/pod<uid>": relative to each hierarchy's mount point.
std::string pod_cgroup_name(std::string_view root, std::string_view qos_class,
                            std::string_view pod_uid);

// The pod-level limits the kubelet sets (ResourceConfigForPod): cpu shares
// from the pod's effective cpu request (2 for none); a cpu quota and a
// memory limit only when every app container and sidecar limits that
// resource, at the pod's effective limit (the larger of the app containers'
// and sidecars' sum and what runs beside each init container); pids from
// `pids_limit` when above 0. A BestEffort pod gets shares 2 and pids only.
CgroupLimits pod_cgroup_limits(const model::PodSpec& spec, int64_t pids_limit);

// The top cgroup's: node allocatable (0: not limited).
CgroupLimits node_cgroup_limits(int64_t allocatable_cpu_milli, int64_t allocatable_memory_bytes);

// One write into a cgroup's interface file.
struct CgroupWrite {
  std::filesystem::path file;  // absolute: <mount>/<cgroup>/<interface file>
  std::string value;
  bool operator==(const CgroupWrite&) const = default;
};

// The directories to make for `cgroup` (a name relative to the mounts),
// each with its parents: v1 in the memory, cpu and pids hierarchies (runc
// makes the others, cpuset included, for the objects it puts there); v2 in
// the unified one.
std::vector<std::filesystem::path> cgroup_dirs(const CgroupLayout& layout, std::string_view cgroup);
// The writes that apply `limits` to `cgroup`, in order. v1:
// memory.limit_in_bytes, cpu.shares, cpu.cfs_period_us then
// cpu.cfs_quota_us, pids.max; v2: memory.max, cpu.weight, cpu.max, pids.max.
// A controller the layout lacks is skipped.
std::vector<CgroupWrite> cgroup_writes(const CgroupLayout& layout, std::string_view cgroup,
                                       const CgroupLimits& limits);

struct PodCgroupsOptions {
  std::string root = "podagent";  // relative to each hierarchy's mount
  int64_t pod_pids_limit = 0;     // 0: unlimited
  int64_t allocatable_cpu_milli = 0;
  int64_t allocatable_memory_bytes = 0;
};

// Makes and removes the pods' cgroups on one node's layout. Blocking file
// system calls, each short (mkdir, a small write, rmdir); not thread-safe:
// one owner calls it.
class PodCgroups {
 public:
  PodCgroups(CgroupLayout layout, PodCgroupsOptions options);

  // The layout from /proc/self/mountinfo; for v2, the controllers are
  // those the unified mount's cgroup.controllers lists (limits of a missing
  // one are skipped).
  static base::Result<PodCgroups> detect(PodCgroupsOptions options);

  const CgroupLayout& layout() const { return layout_; }
  const PodCgroupsOptions& options() const { return options_; }

  // linux.cgroupsPath for an object (the pause or a container) of the pod:
  // "/<pod cgroup>/<id>", absolute, so runc takes it from each mount point.
  std::string cgroups_path(const model::Pod& pod, std::string_view object_id) const;

  // Makes the pod's cgroup with its limits, and on the first call the top
  // cgroup with node allocatable and the qos ones (v2: with the memory, cpu
  // and pids controllers enabled down to the pod). Idempotent.
  base::Status create(const model::Pod& pod);

  // Removes pod<uid> under each qos cgroup in every hierarchy: first the
  // `leaves` named (e.g. the sandbox's id, should runc have left it), then
  // the pod's own directory. A directory that still holds processes or
  // another object's cgroup stays (that object's removal takes it); only
  // an unexpected failure is an error.
  base::Status remove(std::string_view pod_uid, const std::vector<std::string>& leaves = {});

 private:
  base::Status create_top();

  CgroupLayout layout_;
  PodCgroupsOptions options_;
  bool top_ready_ = false;
};

}  // namespace podagent::runtime::oci
