#include "runtime/oci/runtime_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

namespace podagent::runtime::oci {

namespace fs = std::filesystem;

namespace {

bool is_executable(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

base::Result<fs::path> find_program(const fs::path& name) {
  if (name.empty()) return base::Error("no program named");
  if (name.string().find('/') != std::string::npos) {
    fs::path p = fs::absolute(name);
    if (!is_executable(p)) return base::Error(p.string() + " is not an executable file");
    return p;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    fs::path p = fs::path(dir) / name;
    if (is_executable(p)) return fs::absolute(p);
  }
  return base::Error(name.string() + " was not found in PATH");
}

fs::path beside_this_program(const std::string& name) {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).parent_path() / name;
}

std::optional<fs::path> hybrid_unified_mount(const std::string& mountinfo) {
  // Each line: id parent major:minor root mountpoint options [optional...] - fstype source
  // superopts
  std::stringstream lines(mountinfo);
  std::string line;
  bool v1 = false;
  std::optional<fs::path> v2;
  while (std::getline(lines, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::stringstream head(line.substr(0, dash)), tail(line.substr(dash + 3));
    std::string id, parent, dev, root, point, type;
    head >> id >> parent >> dev >> root >> point;
    tail >> type;
    if (type == "cgroup") v1 = true;
    if (type == "cgroup2") v2 = point;
  }
  if (v1 && v2) return v2;
  return std::nullopt;
}

base::Result<std::vector<std::string>> runtime_command(const fs::path& binary,
                                                       const fs::path& private_mounts) {
  auto found = find_program(binary);
  if (!found) return found.error();
  if (found->filename().string().rfind("crun", 0) != 0) return std::vector<std::string>{found->string()};
  auto unified = hybrid_unified_mount(read_text("/proc/self/mountinfo"));
  if (!unified) return std::vector<std::string>{found->string()};
  if (!is_executable(private_mounts))
    return base::Error("crun on a hybrid cgroup node runs through podagent-private-mounts, and " +
                       private_mounts.string() + " is not an executable file");
  return std::vector<std::string>{fs::absolute(private_mounts).string(), unified->string(), found->string()};
}

}  // namespace podagent::runtime::oci
