#include "tests/probes/http_test_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>

namespace podagent::probes::testing {

base::Result<base::UniqueFd> SandboxSocketRuntime::open_socket_in_sandbox(const SandboxId& id, int domain,
                                                                          int type) {
  socket_calls.push_back(id);
  auto fd = Runtime::open_socket_in_sandbox(id, domain, type);
  if (fd && !source.empty()) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &addr.sin_addr);
    if (::bind(fd->get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
  }
  return fd;
}

model::Handler http_get(uint16_t port, std::string path, std::string scheme) {
  model::Handler h;
  h.http_get.emplace();
  h.http_get->port.value = int64_t{port};
  h.http_get->path = std::move(path);
  h.http_get->scheme = std::move(scheme);
  return h;
}

model::Handler tcp_socket(uint16_t port) {
  model::Handler h;
  h.tcp_socket.emplace();
  h.tcp_socket->port.value = int64_t{port};
  return h;
}

}  // namespace podagent::probes::testing
