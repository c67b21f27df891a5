#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

// The Linux mount calls of the oci backend: a container's overlay rootfs
// and the safe removal of the directories that held mounts. Plain system
// calls on the calling thread.
namespace podagent::runtime::oci {

// Mounts an overlay at `target` (created if missing) of `layers`, given
// bottom first as the image store lists them, with the private `upper` and
// `work` directories (created if missing).
base::Status mount_overlay(const std::vector<std::filesystem::path>& layers,
                           const std::filesystem::path& upper, const std::filesystem::path& work,
                           const std::filesystem::path& target);

// Unmounts every mount at or below `path` (deepest first, detached).
// Succeeds when nothing is mounted there.
base::Status unmount_all_under(const std::filesystem::path& path);

// A mount point or source as /proc/self/mountinfo writes it, with the
// \ooo escapes (of space, tab, newline and backslash) undone.
std::string unescape_mountinfo(std::string_view s);

// The mount points at or below `path`, from /proc/self/mountinfo.
std::vector<std::filesystem::path> mounts_under(const std::filesystem::path& path);

// Unmounts what is mounted below `path`, then removes the tree. Refuses
// (error, nothing removed) when a mount stays: removing files through a live
// overlay would delete an image's shared layers. Absent: success.
base::Status remove_tree(const std::filesystem::path& path);

}  // namespace podagent::runtime::oci
