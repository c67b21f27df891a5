#include "runtime/oci/subpath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <map>
#include <set>

#include "base/unique_fd.h"
#include "runtime/oci/oci_spec.h"

namespace podagent::runtime::oci {

namespace fs = std::filesystem;

namespace {

// Linux's own limit on links followed in one lookup (MAXSYMLINKS).
constexpr int kMaxLinks = 40;

std::deque<std::string> elements(const std::string& path) {
  std::deque<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string::npos) end = path.size();
    std::string e = path.substr(i, end - i);
    if (!e.empty() && e != ".") out.push_back(std::move(e));
    i = end + 1;
  }
  return out;
}

std::string errno_text(int err) { return std::strerror(err); }

// The names of the $(NAME) references in `text`, as expand_var_refs()
// reads them ($$ skipped).
std::set<std::string> references(const std::string& text) {
  std::set<std::string> out;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '$') continue;
    if (text[i + 1] == '$') {
      ++i;
    } else if (text[i + 1] == '(') {
      size_t close = text.find(')', i + 2);
      if (close == std::string::npos) break;
      out.insert(text.substr(i + 2, close - i - 2));
      i = close;
    }
  }
  return out;
}

// Opens `name` in directory `dir` without following it, making it (a
// directory of `mode`) when missing.
base::Result<base::UniqueFd> open_or_make(int dir, const std::string& name, mode_t mode,
                                          const std::string& shown) {
  base::UniqueFd fd(::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (fd.valid()) return fd;
  if (errno != ENOENT) return base::Error("opening " + shown + ": " + errno_text(errno));
  if (::mkdirat(dir, name.c_str(), mode) != 0 && errno != EEXIST)
    return base::Error("creating " + shown + ": " + errno_text(errno));
  // Opened for reading, not O_PATH, so that fchmod() can undo the umask;
  // O_NOFOLLOW|O_DIRECTORY: whatever replaced it meanwhile is not followed.
  base::UniqueFd made(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!made.valid()) return base::Error("opening " + shown + ": " + errno_text(errno));
  if (::fchmod(made.get(), mode) != 0)
    return base::Error("setting the mode of " + shown + ": " + errno_text(errno));
  return made;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "/") + n;
  return out;
}

// The elements of the relative target of the symbolic link open at `fd`;
// an absolute target is refused (`outside` starts the message).
base::Result<std::deque<std::string>> link_elements(int fd, const std::string& shown,
                                                    const std::string& outside) {
  char target[PATH_MAX];
  ssize_t n = ::readlinkat(fd, "", target, sizeof target);
  if (n <= 0) return base::Error("reading the link " + shown + ": " + errno_text(errno));
  const std::string to(target, static_cast<size_t>(n));
  if (to.front() == '/')
    return base::Error(outside + shown + " is a symbolic link to the absolute path \"" + to + "\"");
  return elements(to);
}

}  // namespace

base::Result<std::string> expand_sub_path_expr(const std::string& expr,
                                               const std::vector<std::string>& env) {
  std::map<std::string, std::string> vars;
  for (const auto& e : env) {
    auto eq = e.find('=');
    if (eq != std::string::npos) vars[e.substr(0, eq)] = e.substr(eq + 1);
  }
  std::string missing;
  for (const auto& name : references(expr)) {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) missing += (missing.empty() ? "" : ", ") + name;
  }
  if (!missing.empty()) return base::Error("missing value for " + missing);
  std::string out = expand_var_refs(expr, vars);
  if (!out.empty() && out.front() == '/')
    return base::Error("subPathExpr \"" + expr + "\" expands to an absolute path \"" + out + "\"");
  for (const auto& e : elements(out))
    if (e == "..")
      return base::Error("subPathExpr \"" + expr + "\" expands to \"" + out +
                         "\", which must not contain \"..\"");
  return out;
}

base::Result<fs::path> resolve_sub_path(const fs::path& volume_dir, const std::string& sub_path) {
  const std::string outside = "subPath \"" + sub_path + "\" is outside of the volume: ";
  std::error_code ec;
  const fs::path root_real = fs::canonical(volume_dir, ec);
  if (ec) return base::Error("resolving the volume directory: " + ec.message());
  std::vector<base::UniqueFd> fds;
  fds.emplace_back(::open(root_real.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fds.back().valid()) return base::Error("opening the volume directory: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fds.back().get(), &st) != 0)
    return base::Error("stat of the volume: " + errno_text(errno));
  const mode_t mode = st.st_mode & 07777;
  std::vector<std::string> names;  // the elements of fds[1..], from the top
  std::deque<std::string> pending = elements(sub_path);
  int links = 0;
  while (!pending.empty()) {
    std::string name = std::move(pending.front());
    pending.pop_front();
    if (name == "..") {
      if (names.empty()) return base::Error(outside + "\"..\" above the volume's top");
      names.pop_back();
      fds.pop_back();
      continue;
    }
    names.push_back(name);
    const std::string shown = "\"" + join(names) + "\"";
    auto fd = open_or_make(fds.back().get(), name, mode, shown);
    if (!fd) return fd.error();
    if (::fstat(fd->get(), &st) != 0)
      return base::Error("stat of " + shown + ": " + errno_text(errno));
    if (S_ISLNK(st.st_mode)) {
      names.pop_back();
      if (++links > kMaxLinks) return base::Error(shown + ": too many levels of symbolic links");
      auto more = link_elements(fd->get(), shown, outside);
      if (!more) return more.error();
      pending.insert(pending.begin(), more->begin(), more->end());
      continue;
    }
    if (!pending.empty() && !S_ISDIR(st.st_mode)) return base::Error(shown + " is not a directory");
    fds.push_back(std::move(*fd));
  }
  const fs::path resolved = names.empty() ? root_real : root_real / join(names);
  // The walk's last file and the path handed to the OCI runtime must be
  // one file: a rename or a new link in between would make them differ.
  struct stat walked {
  }, named{};
  if (::fstat(fds.back().get(), &walked) != 0 || ::lstat(resolved.c_str(), &named) != 0 ||
      walked.st_dev != named.st_dev || walked.st_ino != named.st_ino)
    return base::Error(outside + "\"" + resolved.string() + "\" changed while it was resolved");
  return resolved;
}

}  // namespace podagent::runtime::oci
