#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/volume.h"

// The volume kinds the oci backend serves on the node's filesystem:
// emptyDir (volume_empty_dir.cc) and hostPath (volume_host_path.cc). Plain
// system calls on the calling thread.
namespace podagent::runtime::oci {

// ---- emptyDir ----

// The tmpfs mount options of a `medium: Memory` emptyDir: mode=0777, and
// size=<sizeLimit in bytes> when a limit is set. Without one the tmpfs is
// left unsized (the kernel's default, half of the node's RAM); the
// kubelet's default, the node's allocatable memory, is not applied.
std::string tmpfs_options(const model::EmptyDirVolumeSource& source);

// Makes the emptyDir's directory `dir` (mode 0777, for any user in the
// containers) and, for `medium: Memory`, mounts a tmpfs on it. The mount
// lives under the sandbox's directory, so removing that directory with
// remove_tree() (rootfs.h) unmounts it first, at recovery too.
base::Status prepare_empty_dir(const std::filesystem::path& dir,
                               const model::EmptyDirVolumeSource& source);

// ---- hostPath ----

// Whether absolute `path` lies at or below one of the absolute prefixes of
// `allow_list`, comparing whole components after lexical normalisation:
// "/data" allows "/data" and "/data/x", not "/database" nor "/data/../etc".
// A relative path is never allowed.
bool host_path_allowed(const std::filesystem::path& path,
                       const std::vector<std::filesystem::path>& allow_list);

// The kubelet's check of a hostPath `type` against what is at `path`,
// with its messages ("hostPath type check failed: /x is not a directory"):
// "" checks nothing; DirectoryOrCreate makes a missing directory (0755,
// parents too); FileOrCreate makes a missing empty file (0644; its parent
// must exist); Directory, File, Socket, CharDevice and BlockDevice require
// that kind of file there (symbolic links followed).
base::Status check_host_path_type(const std::filesystem::path& path, const std::string& type);

// What the container bind-mounts for hostPath volume `volume_name`: the
// allow-list is checked on the path as written and again on the real path
// after the type check (so a symbolic link cannot lead out of it), and the
// real path is returned. Errors name the volume (and the list, for a
// refused path).
base::Result<std::filesystem::path> prepare_host_path(
    const std::string& volume_name, const model::HostPathVolumeSource& source,
    const std::vector<std::filesystem::path>& allow_list);

}  // namespace podagent::runtime::oci
