// OciRuntime::open_socket_in_sandbox: a socket in a pod's network namespace,
// so that probes reach a pod whose only network is its loopback.

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/oci/oci_runtime.h"

namespace podagent::runtime::oci {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// The agent's own network namespace, opened once, on the first call: every
// call starts and ends in it, so that is what the calling thread is in.
// -1 when it cannot be opened.
int agent_netns() {
  static const int fd = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  return fd;
}

bool same_file(int a, int b) {
  struct stat sa {}, sb {};
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

base::Result<base::UniqueFd> OciRuntime::open_socket_in_sandbox(const SandboxId& id, int domain, int type) {
  auto it = sandboxes_.find(id.str());
  if (it == sandboxes_.end()) return base::Error("no such sandbox: " + id.str());
  if (it->second.state != SandboxState::Ready || it->second.pause_pid <= 0)
    return base::Error("sandbox " + id.str() + " is not running");
  const int own = agent_netns();
  if (own < 0) return base::Error(errno_text("opening the agent's network namespace"));
  const std::string path = "/proc/" + std::to_string(it->second.pause_pid) + "/ns/net";
  base::UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target.valid()) return base::Error(errno_text("opening " + path));
  const int flags = type | SOCK_NONBLOCK | SOCK_CLOEXEC;
  if (same_file(own, target.get())) {  // a hostNetwork pod: the node's namespace
    base::UniqueFd fd(::socket(domain, flags, 0));
    if (!fd.valid()) return base::Error(errno_text("socket"));
    return fd;
  }
  if (::setns(target.get(), CLONE_NEWNET) != 0) return base::Error(errno_text("entering " + path));
  base::UniqueFd fd(::socket(domain, flags, 0));
  const int socket_errno = errno;
  if (::setns(own, CLONE_NEWNET) != 0) {
    // The io_context thread would go on in the pod's namespace: every later
    // connection, listener and probe of the agent would be the pod's.
    std::fprintf(stderr, "podagent: cannot return to the agent's network namespace from %s: %s\n",
                 path.c_str(), std::strerror(errno));
    std::abort();
  }
  if (!fd.valid()) {
    errno = socket_errno;
    return base::Error(errno_text("socket in " + path));
  }
  return fd;
}

}  // namespace podagent::runtime::oci
