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

// Decodes, defaults and validates the text of one pod file.
base::Result<model::Pod> read_pod_file(const std::string& text, std::string_view uid) {
  model::DecodeResult decoded = model::decode_pods(text);
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

// ---- DurableFileDir ----------------------------------------------------------

bool DurableFileDir::usable_name(std::string_view name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

base::Status DurableFileDir::write(std::string_view name, std::string_view text) {
  if (!usable_name(name)) return Error(fmt::format("unusable file name \"{}\"", name));
  if (auto s = ensure_directory(dir_); !s) return s;
  const fs::path final_path = dir_ / (std::string(name) + std::string(kSuffix));
  const fs::path temp_path = dir_ / ("." + std::string(name) + std::string(kTempSuffix));
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

base::Status DurableFileDir::remove(std::string_view name) {
  if (!usable_name(name)) return Error(fmt::format("unusable file name \"{}\"", name));
  const fs::path path = dir_ / (std::string(name) + std::string(kSuffix));
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return {};
    return errno_error("cannot remove", path);
  }
  return fsync_directory(dir_);
}

DurableFileDir::Listing DurableFileDir::read_all() const {
  Listing out;
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
      // A write that never finished: its request was never answered.
      fs::remove(entry.path(), ec);
      continue;
    }
    if (!name.ends_with(kSuffix)) continue;
    if (!entry.is_regular_file(ec)) {
      out.problems.push_back(fmt::format("{}: not a regular file", entry.path().string()));
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in || in.bad()) {
      out.problems.push_back(fmt::format("{}: cannot read the file", entry.path().string()));
      continue;
    }
    out.files.push_back({name.substr(0, name.size() - kSuffix.size()), entry.path(), text.str()});
  }
  return out;
}

// ---- ApiPodPersistence -------------------------------------------------------

ApiPodPersistence::ApiPodPersistence(const fs::path& state_dir) : files_(state_dir / "api-pods") {}

base::Status ApiPodPersistence::save(const model::Pod& pod) {
  if (!DurableFileDir::usable_name(pod.metadata.uid))
    return Error(fmt::format("unusable pod UID \"{}\"", pod.metadata.uid));
  model::Pod kept = pod;
  kept.status = {};
  kept.metadata.resource_version.clear();
  return files_.write(pod.metadata.uid,
                      model::to_json(model::encode_pod(kept), /*pretty=*/true) + "\n");
}

base::Status ApiPodPersistence::remove(const base::PodUid& uid) {
  if (!DurableFileDir::usable_name(uid.str()))
    return Error(fmt::format("unusable pod UID \"{}\"", uid.str()));
  return files_.remove(uid.str());
}

LoadedPods ApiPodPersistence::load_all() const {
  DurableFileDir::Listing listing = files_.read_all();
  LoadedPods out;
  out.problems = std::move(listing.problems);
  for (const auto& file : listing.files) {
    auto pod = read_pod_file(file.text, file.name);
    if (!pod) {
      out.problems.push_back(fmt::format("{}: {}", file.path.string(), pod.error().to_string()));
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
