// emptyDir volumes: a directory under the sandbox's, or a tmpfs there.

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>

#include "runtime/oci/volumes.h"

namespace podagent::runtime::oci {

namespace fs = std::filesystem;

std::string tmpfs_options(const model::EmptyDirVolumeSource& source) {
  std::string out = "mode=0777";
  if (source.size_limit && source.size_limit->value() > 0)
    out += ",size=" + std::to_string(source.size_limit->value());
  return out;
}

base::Status prepare_empty_dir(const fs::path& dir, const model::EmptyDirVolumeSource& source) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::Error("creating " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0777);  // past the umask
  if (source.medium != "Memory") return base::Status::Ok();
  // MS_NODEV/MS_NOSUID as the kubelet's tmpfs; the containers get it
  // through their bind mount of `dir`.
  const std::string options = tmpfs_options(source);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NODEV | MS_NOSUID, options.c_str()) != 0)
    return base::Error("mounting a tmpfs (" + options + ") at " + dir.string() + ": " +
                       std::strerror(errno));
  return base::Status::Ok();
}

}  // namespace podagent::runtime::oci
