#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/ids.h"
#include "model/pod.h"
#include "runtime/runtime.h"

namespace podagent::probes {

enum class ProbeType { Startup, Liveness, Readiness };

// "startup", "liveness", "readiness": as in events, metrics and messages.
std::string_view probe_type_name(ProbeType type);

enum class ProbeResult { Success, Failure };

struct ProbeOutcome {
  ProbeResult result = ProbeResult::Failure;
  // Why it failed, in the kubelet's words where it has them ("HTTP probe
  // failed with statuscode: 500", "dial tcp 127.0.0.1:81: connect:
  // connection refused", "command timed out"); may carry the output of an
  // exec on success. Never holds a header or body longer than 10 KiB.
  std::string message;
};

// Where a handler reaches its container.
struct ProbeTarget {
  base::PodUid pod_uid;
  base::SandboxId sandbox_id;
  base::ContainerId container_id;
  // The pod's first IP. Empty (a pod with loopback-only networking): a
  // handler without `host` connects to 127.0.0.1 through a socket opened
  // inside the sandbox's network namespace (Runtime::open_socket_in_sandbox).
  std::string pod_ip;
  // Borrowed for the call: named ports (`port: http`) resolve through its
  // ports.
  const model::Container* container = nullptr;
};

// Runs one attempt of a probe or hook handler. Each call is independent;
// calls may overlap (one per probe loop). Runs on the thread of the caller
// (the agent's io_context): every wait is asynchronous, no thread per probe.
class Prober {
 public:
  virtual ~Prober() = default;
  // One attempt of `handler` (exec, httpGet, tcpSocket or grpc) within
  // `timeout`: a handler still running at the deadline is a Failure (an
  // exec's process is killed). A handler with nothing set, or with only
  // `sleep` (hooks run that themselves), is a Failure.
  virtual runtime::Task<ProbeOutcome> probe(const ProbeTarget& target, const model::Handler& handler,
                                            std::chrono::milliseconds timeout) = 0;
};

// The real prober: httpGet (HTTP and HTTPS, certificate not verified,
// headers, 10 KiB body cap, redirects as the kubelet follows them, 200-399
// succeeds), tcpSocket, exec (through runtime.exec) and grpc
// (grpc.health.v1.Health/Check, SERVING succeeds). `runtime` must outlive it.
std::unique_ptr<Prober> make_prober(runtime::Runtime& runtime);

}  // namespace podagent::probes
