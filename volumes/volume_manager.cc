#include "volumes/volume_manager.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>
#include <utility>

#include "volumes/atomic_writer.h"
#include "volumes/empty_dir.h"
#include "volumes/sources.h"

namespace podagent::volumes {

namespace fs = std::filesystem;

namespace {

// A UID is one path element of pods_dir; anything else would write outside it.
base::Status check_uid(const std::string& uid) {
  if (uid.empty() || uid == "." || uid == ".." || uid.find('/') != std::string::npos ||
      uid.find('\0') != std::string::npos)
    return base::Error("invalid pod UID \"" + uid + "\" for a volume directory");
  return base::Status::Ok();
}

base::Error set_up_failed(const std::string& volume, const std::string& message) {
  return base::Error("MountVolume.SetUp failed for volume \"" + volume + "\" : " + message);
}

}  // namespace

VolumeManager::VolumeManager(fs::path pods_dir) : pods_dir_(std::move(pods_dir)) {}

fs::path VolumeManager::volume_dir(const base::PodUid& uid, const std::string& volume) const {
  return pods_dir_ / uid.str() / "volumes" / volume;
}

base::Result<std::map<std::string, fs::path>> VolumeManager::prepare(
    const model::Pod& pod, const model::ConfigObjects& objects,
    const model::NodeAllocatable& node) {
  const base::PodUid uid(pod.metadata.uid);
  if (auto s = check_uid(uid.str()); !s) return s.error();
  std::error_code ec;
  fs::create_directories(pods_dir_, ec);
  if (ec) return base::Error("creating " + pods_dir_.string() + ": " + ec.message());
  if (::chmod(pods_dir_.c_str(), 0700) != 0)
    return base::Error("chmod " + pods_dir_.string() + ": " + std::strerror(errno));

  const VolumeInputs in{.pod = &pod, .objects = &objects, .node = node};
  std::map<std::string, fs::path> out;
  std::optional<base::Error> first_error;
  for (const model::Volume& volume : pod.spec.volumes) {
    if (is_disk_empty_dir(volume)) {
      fs::path dir = volume_dir(uid, volume.name);
      if (auto made = make_empty_dir(dir); !made) {
        if (!first_error) first_error = set_up_failed(volume.name, made.error().message);
        continue;
      }
      out.emplace(volume.name, std::move(dir));
      continue;
    }
    auto payload = volume_payload(volume, in);
    if (!payload) continue;  // made by the runtime
    if (!*payload) {
      if (!first_error) first_error = set_up_failed(volume.name, payload->error().message);
      continue;
    }
    fs::path dir = volume_dir(uid, volume.name);
    auto written = AtomicWriter(dir).write(**payload);
    if (!written) {
      if (!first_error) first_error = set_up_failed(volume.name, written.error().message);
      continue;
    }
    out.emplace(volume.name, std::move(dir));
  }
  if (first_error) return *first_error;
  return out;
}

base::Status VolumeManager::remove(const base::PodUid& uid) {
  if (auto s = check_uid(uid.str()); !s) return s;
  std::error_code ec;
  fs::remove_all(pods_dir_ / uid.str(), ec);
  if (ec) return base::Error("removing the volumes of pod " + uid.str() + ": " + ec.message());
  return base::Status::Ok();
}

base::Result<std::vector<base::PodUid>> VolumeManager::pods_on_disk() const {
  std::vector<base::PodUid> uids;
  std::error_code ec;
  fs::directory_iterator it(pods_dir_, ec);
  if (ec == std::errc::no_such_file_or_directory) return uids;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->is_directory(ec) && !ec) uids.emplace_back(it->path().filename().string());
  if (ec) return base::Error("listing " + pods_dir_.string() + ": " + ec.message());
  std::sort(uids.begin(), uids.end());
  return uids;
}

base::Result<int64_t> VolumeManager::usage(const base::PodUid& uid, const std::string& volume) const {
  if (auto s = check_uid(uid.str()); !s) return s.error();
  return disk_usage(volume_dir(uid, volume));
}

std::optional<std::string> VolumeManager::empty_dir_over_limit(const model::Pod& pod) const {
  const base::PodUid uid(pod.metadata.uid);
  for (const model::Volume& volume : pod.spec.volumes) {
    if (!is_disk_empty_dir(volume) || !volume.empty_dir->size_limit) continue;
    // A limit of 0 is no limit (the kubelet's "unset" quantity); a volume
    // name with a '/' cannot be one path element: validation refuses both
    // kinds of pod, this only keeps the walk inside pods_dir.
    const model::Quantity& limit = *volume.empty_dir->size_limit;
    if (limit.value() <= 0 || volume.name.find('/') != std::string::npos) continue;
    auto used = usage(uid, volume.name);
    if (used && *used > limit.value()) return empty_dir_limit_message(volume.name, limit.text());
  }
  return std::nullopt;
}

}  // namespace podagent::volumes
