#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/ids.h"
#include "base/result.h"
#include "model/config_object.h"
#include "model/pod.h"
#include "model/resource_fields.h"

namespace podagent::volumes {

// Writes the volumes the agent makes on the node (configMap, secret,
// downwardAPI, projected) for each pod, as the kubelet's volume manager
// does for these kinds; the runtime bind-mounts the directories read-only.
// It also makes each disk emptyDir (medium ""), which the runtime mounts
// as the volumeMount says; a `medium: Memory` one is the runtime's tmpfs.
//
//   <pods_dir>/                      0700: secrets are inside
//   <pods_dir>/<uid>/volumes/<name>/ one AtomicWriter directory per volume;
//                                    0777 and plain for a disk emptyDir, kept
//                                    (with what the containers wrote) until
//                                    remove(), across sandbox re-creations
//
// Blocking file I/O. prepare() and remove() touch a few small files, and
// the pod workers call them on the event loop only when a pod's inputs
// changed; usage() walks a whole volume, so the eviction manager calls it
// on a thread of its own. It keeps no state but pods_dir, so calls for
// different pods may run at the same time; calls for one pod must not.
class VolumeManager {
 public:
  explicit VolumeManager(std::filesystem::path pods_dir);

  // Writes every configMap, secret, downwardAPI and projected volume of
  // `pod` (ConfigMaps and Secrets from `objects`, in the pod's namespace;
  // resourceFieldRef limits not set from `node`) and returns their
  // directories by volume name, with each disk emptyDir's (made when
  // missing, its content left as it is); Memory emptyDir and hostPath
  // volumes are not listed. Called again (an object or the pod's labels changed), it writes
  // a new version only of the volumes whose files changed, atomically.
  // Every volume is tried; the first failure is returned, in the kubelet's
  // words: `MountVolume.SetUp failed for volume "cfg" : configmap "x" not
  // found`. REQUIRES: pod.metadata.uid is set.
  base::Result<std::map<std::string, std::filesystem::path>> prepare(
      const model::Pod& pod, const model::ConfigObjects& objects,
      const model::NodeAllocatable& node);

  // Removes the pod's directory and everything in it; no error when it is
  // already gone.
  base::Status remove(const base::PodUid& uid);

  // The UIDs that have a directory in pods_dir (for cleaning up pods that
  // are gone after an agent restart); empty when pods_dir does not exist.
  base::Result<std::vector<base::PodUid>> pods_on_disk() const;

  // <pods_dir>/<uid>/volumes/<name>
  std::filesystem::path volume_dir(const base::PodUid& uid, const std::string& volume) const;

  // The bytes the files under the volume's directory take on disk, as du
  // counts them (st_blocks * 512, each inode once, links not followed,
  // nothing below another mount counted; the directory itself included).
  // An error when the directory is missing or unreadable. Blocking: a walk
  // of the whole tree.
  base::Result<int64_t> usage(const base::PodUid& uid, const std::string& volume) const;

  // The eviction message of the first disk emptyDir of `pod` whose usage
  // exceeds its sizeLimit, in the kubelet's words: `Usage of EmptyDir
  // volume "scratch" exceeds the limit "1Mi".`; nullopt when none does (a
  // volume that cannot be measured does not count). Only volumes with a
  // sizeLimit are walked. Blocking, as usage().
  std::optional<std::string> empty_dir_over_limit(const model::Pod& pod) const;

 private:
  std::filesystem::path pods_dir_;
};

}  // namespace podagent::volumes
