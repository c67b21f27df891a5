#include "agent/api_pod_persistence.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "model/defaults.h"
#include "model/document.h"
#include "model/pod_codec.h"
#include "model/validation.h"

namespace podagent::agent {

namespace {

namespace fs = std::filesystem;
using base::Error;

constexpr std::string_view kSuffix = ".json";
constexpr std::string_view kTempSuffix = ".json.tmp";

// A UID usable as a file name: letters, digits and '-', as UUIDs are.
bool safe_uid(std::string_view uid) {
  return !uid.empty() && uid.size() <= 128 && std::all_of(uid.begin(), uid.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

Error errno_error(std::string_view what, const fs::path& path) {
  return Error(fmt::format("{} {}: {}", what, path.string(), std::strerror(errno)));
}

base::Status fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error("cannot open directory", dir);
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) return errno_error("cannot fsync directory", dir);
  return {};
}

base::Status write_all_and_sync(const fs::path& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errno_error("cannot create", path);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = errno_error("cannot write", path);
      ::close(fd);
      return e;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Error e = errno_error("cannot fsync", path);
    ::close(fd);
    return e;
  }
  if (::close(fd) != 0) return errno_error("cannot close", path);
  return {};
}

base::Status ensure_directory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Error(fmt::format("cannot create directory {}: {}", dir.string(), ec.message()));
  // Pod specs may name host paths and secrets: readable by the agent only.
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  return {};
}

// Reads, decodes, defaults and validates one pod file.
base::Result<model::Pod> read_pod_file(const fs::path& path, std::string_view uid) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error("cannot read the file");
  model::DecodeResult decoded = model::decode_pods(text.str());
  if (!decoded.errors.empty()) return Error(decoded.errors.front().to_string());
  if (decoded.pods.size() != 1)
    return Error(fmt::format("holds {} pods, expected one", decoded.pods.size()));
  model::DecodedPod& one = decoded.pods.front();
  if (!one.errors.empty()) return Error(one.errors.front().to_string());
  model::Pod pod = std::move(one.pod);
  if (pod.metadata.uid != uid)
    return Error(fmt::format("holds UID \"{}\", not its name's", pod.metadata.uid));
  model::apply_defaults(pod);
  if (auto errors = model::validate_pod(pod); !errors.empty())
    return Error(errors.front().to_string());
  pod.status = {};
  pod.metadata.resource_version.clear();
  return pod;
}

}  // namespace

ApiPodPersistence::ApiPodPersistence(const fs::path& state_dir) : dir_(state_dir / "api-pods") {}

base::Status ApiPodPersistence::save(const model::Pod& pod) {
  if (!safe_uid(pod.metadata.uid))
    return Error(fmt::format("unusable pod UID \"{}\"", pod.metadata.uid));
  if (auto s = ensure_directory(dir_); !s) return s;
  model::Pod kept = pod;
  kept.status = {};
  kept.metadata.resource_version.clear();
  const std::string text = model::to_json(model::encode_pod(kept), /*pretty=*/true) + "\n";

  const fs::path final_path = dir_ / (pod.metadata.uid + std::string(kSuffix));
  const fs::path temp_path = dir_ / ("." + pod.metadata.uid + std::string(kTempSuffix));
  if (auto s = write_all_and_sync(temp_path, text); !s) {
    ::unlink(temp_path.c_str());
    return s;
  }
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    Error e = errno_error("cannot rename into", final_path);
    ::unlink(temp_path.c_str());
    return e;
  }
  return fsync_directory(dir_);
}

base::Status ApiPodPersistence::remove(const base::PodUid& uid) {
  if (!safe_uid(uid.str())) return Error(fmt::format("unusable pod UID \"{}\"", uid.str()));
  const fs::path path = dir_ / (uid.str() + std::string(kSuffix));
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return {};
    return errno_error("cannot remove", path);
  }
  return fsync_directory(dir_);
}

LoadedPods ApiPodPersistence::load_all() const {
  LoadedPods out;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return out;
  fs::directory_iterator it(dir_, ec);
  if (ec) {
    out.problems.push_back(fmt::format("{}: {}", dir_.string(), ec.message()));
    return out;
  }
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".") && name.ends_with(kTempSuffix)) {
      // A save that never finished: its request was never answered.
      fs::remove(entry.path(), ec);
      continue;
    }
    if (!name.ends_with(kSuffix)) continue;
    const std::string uid = name.substr(0, name.size() - kSuffix.size());
    if (!entry.is_regular_file(ec)) {
      out.problems.push_back(fmt::format("{}: not a regular file", entry.path().string()));
      continue;
    }
    auto pod = read_pod_file(entry.path(), uid);
    if (!pod) {
      out.problems.push_back(fmt::format("{}: {}", entry.path().string(), pod.error().to_string()));
      continue;
    }
    out.pods.push_back(std::move(*pod));
  }
  std::sort(out.pods.begin(), out.pods.end(), [](const model::Pod& a, const model::Pod& b) {
    return a.metadata.uid < b.metadata.uid;
  });
  return out;
}

base::Status MemoryPodPersistence::save(const model::Pod& pod) {
  if (fail) return Error("injected failure");
  pods[pod.metadata.uid] = pod;
  return {};
}

base::Status MemoryPodPersistence::remove(const base::PodUid& uid) {
  if (fail) return Error("injected failure");
  pods.erase(uid.str());
  return {};
}

}  // namespace podagent::agent
