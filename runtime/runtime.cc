#include "runtime/runtime.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace podagent::runtime {

Task<base::Result<PodRuntimeState>> Runtime::list_pod(const PodUid& pod) {
  // Results are named before use: GCC 12 mishandles some temporaries that
  // live across a co_await.
  base::Result<std::vector<SandboxStatus>> sandboxes = co_await list_sandboxes();
  if (!sandboxes) co_return sandboxes.error();
  base::Result<std::vector<ContainerStatus>> containers = co_await list_containers();
  if (!containers) co_return containers.error();
  PodRuntimeState out;
  for (auto& s : *sandboxes)
    if (s.pod_uid == pod) out.sandboxes.push_back(std::move(s));
  for (auto& c : *containers)
    if (c.pod_uid == pod) out.containers.push_back(std::move(c));
  co_return out;
}

Task<base::Status> Runtime::list_pod_into(const PodUid& pod, PodRuntimeState& out) {
  base::Result<PodRuntimeState> listed = co_await list_pod(pod);
  if (!listed) co_return listed.error();
  out = std::move(*listed);
  co_return base::Status::Ok();
}

base::Result<base::UniqueFd> Runtime::open_socket_in_sandbox(const SandboxId& id, int domain, int type) {
  (void)id;
  base::UniqueFd fd(::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return base::Error(std::string("socket: ") + std::strerror(errno));
  return fd;
}

}  // namespace podagent::runtime
