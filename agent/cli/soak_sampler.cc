#include "agent/cli/soak_sampler.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/unique_fd.h"

namespace podagent::cli {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The number after "Key:" in a /proc status file; -1 when absent.
int64_t status_field(const std::string& status, std::string_view key) {
  // Appended, not `"\n" + std::string(key)`: GCC 12 warns falsely
  // (-Wrestrict) about the insert that operator+ does there.
  std::string needle = "\n";
  needle.append(key).append(":");
  const size_t at = ("\n" + status).find(needle);
  if (at == std::string::npos) return -1;
  return std::strtoll(status.c_str() + at + needle.size() - 1, nullptr, 10);
}

int64_t count_entries(const fs::path& dir) {
  std::error_code ec;
  int64_t n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n;
}

bool is_runtime_id(const std::string& name) {
  return name.size() == 32 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

void AgentSampler::collect_ids() {
  if (state_dir_.empty()) return;
  for (const char* dir : {"oci/sandboxes", "oci/containers"}) {
    std::error_code ec;
    for (fs::directory_iterator it(fs::path(state_dir_) / dir, ec), end; !ec && it != end;
         it.increment(ec))
      ids_.insert(it->path().filename().string());
  }
}

bool AgentSampler::counts_as_cgroup(const std::string& name) const {
  return state_dir_.empty() ? is_runtime_id(name) : ids_.count(name) > 0;
}

// cgroup v1 nests controllers one level deeper than v2; runc puts a
// container beside its own cgroup, a few levels down at most.
int64_t AgentSampler::count_cgroups() const {
  std::error_code ec;
  int64_t n = 0;
  fs::recursive_directory_iterator it("/sys/fs/cgroup",
                                      fs::directory_options::skip_permission_denied, ec);
  for (fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it.depth() > 6 || !it->is_directory(type_ec) || it->is_symlink(type_ec)) {
      it.disable_recursion_pending();
      continue;
    }
    if (counts_as_cgroup(it->path().filename().string())) {
      ++n;
      it.disable_recursion_pending();
    }
  }
  return n;
}

namespace {

int64_t count_children(pid_t agent, const std::string& state_dir) {
  std::error_code ec;
  int64_t n = 0;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string pid = it->path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    auto status = read_text(it->path() / "status");
    if (!status) continue;  // gone meanwhile
    if (status_field(*status, "PPid") == agent) {
      ++n;
      continue;
    }
    // A container's monitor (the kernel keeps 15 bytes of a name).
    if (status->rfind("Name:\tpodagent-monito\n", 0) != 0 &&
        status->rfind("Name:\tconmon\n", 0) != 0)
      continue;
    std::string cmdline = read_text(it->path() / "cmdline").value_or("");
    if (state_dir.empty() || cmdline.find(state_dir) != std::string::npos) ++n;
  }
  return n;
}

}  // namespace

base::Result<pid_t> socket_peer_pid(const std::string& path) {
  base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return base::Error(std::string("socket: ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return base::Error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return base::Error("cannot connect to " + path + ": " + std::strerror(errno));
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
    return base::Error(std::string("SO_PEERCRED: ") + std::strerror(errno));
  return cred.pid;
}

base::Result<agent::SoakResources> AgentSampler::sample() {
  collect_ids();
  const pid_t pid = pid_;
  const fs::path proc = fs::path("/proc") / std::to_string(pid);
  auto status = read_text(proc / "status");
  auto mountinfo = read_text(proc / "mountinfo");
  if (!status || !mountinfo)
    return base::Error("the agent (pid " + std::to_string(pid) + ") is gone");
  agent::SoakResources r;
  r.rss_kib = status_field(*status, "VmRSS");
  r.threads = status_field(*status, "Threads");
  r.fds = count_entries(proc / "fd");
  r.mounts = static_cast<int64_t>(std::count(mountinfo->begin(), mountinfo->end(), '\n'));
  r.cgroups = count_cgroups();
  r.children = count_children(pid, state_dir_);
  return r;
}

}  // namespace podagent::cli
