#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/http_server.h"
#include "agent/pod_store.h"
#include "agent/systemd_notify.h"
#include "base/clock.h"
#include "base/result.h"
#include "config/agent_config.h"

namespace boost::asio {
class io_context;
}
namespace podagent::runtime {
class Runtime;
}
namespace podagent::static_pods {
class ManifestSource;
}

namespace podagent::agent {

class ConfigObjectStore;  // agent/config_object_store.h

// Builds the container runtime the config names (runtime.backend). An error
// means the backend cannot run in this build or on this machine; the agent
// then runs without one (see Agent). The oci and cri backends plug in here.
using RuntimeFactory = std::function<base::Result<std::unique_ptr<runtime::Runtime>>(
    const config::AgentConfig& config, base::Clock& clock, boost::asio::any_io_executor executor)>;

// The factory of this build: "fake" -> runtime::FakeRuntime (only when the
// config names it; never a silent default); "oci" and anything else -> an
// error saying the backend is not available in this build.
base::Result<std::unique_ptr<runtime::Runtime>> make_runtime(const config::AgentConfig& config,
                                                             base::Clock& clock,
                                                             boost::asio::any_io_executor executor);

struct AgentOptions {
  config::AgentConfig config;  // loaded and validated
  // NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID (null: the process
  // environment). Tests pass their own rather than setenv in a threaded test.
  SystemdNotifier::EnvLookup env;
  RuntimeFactory runtime_factory;  // null: make_runtime
  // Not owned; null: a RealClock owned by the agent.
  base::Clock* clock = nullptr;
  // How often the agent reaps finished pods, looks for new manifest errors
  // and refreshes its STATUS= line.
  std::chrono::milliseconds housekeeping_period{50};
  HttpLimits http_limits;
  // Called once on the io_context thread, right after READY=1 would be sent
  // (sources read, API listening), whether or not systemd is told.
  std::function<void()> on_ready;
};

// The composition root of `podagent run`: the manifest directory source, the
// API pods persisted under stateDir, the pod workers on the configured
// runtime, the REST API (unix socket; TCP with TLS and authentication when
// api.tcp.enabled), metrics and the systemd notifications, all on one
// io_context.
//
//   start()  loads the API pods, listens, starts the manifest source (its
//            first snapshot makes the agent ready: /readyz, READY=1,
//            on_ready) and the housekeeping and watchdog timers;
//   stop()   STOPPING=1, stops the API, the source and the worker loops,
//            WITHOUT stopping any container: the next agent's workers find
//            them in the runtime and carry on. io_context::run() then
//            returns once the last coroutine has ended.
//
// Without a runtime backend (runtime_factory failed, e.g. "oci" before it
// is implemented) the error is logged once and the agent still serves: its
// pods are stored with phase Pending and a message saying why nothing runs.
//
// ConfigMaps and Secrets: the manifest directory's (each snapshot's
// `objects`) and the API's (persisted under stateDir, restored by start())
// are merged in config_objects().
//
// Extra routes served besides ApiRoutes:
//   GET /debug/manifest-errors  {"errorsTotal":N,"files":{"<file>":["<problem>",...]}}
//
// Every method except the constructor and start() must be called on the
// io_context's thread (start() may also be called before that thread runs).
// Destroy the agent after io_context::run() has returned.
class Agent {
 public:
  Agent(boost::asio::io_context& io, AgentOptions options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Errors: the API cannot listen (socket path in use, TCP security
  // refused or unusable). Nothing is left running then. REQUIRES: once.
  base::Status start();
  // Idempotent.
  void stop();
  // Calls on_signal(signo), then stop(), on the first SIGTERM or SIGINT.
  void stop_on_signals(std::function<void(int)> on_signal);

  // Every source has been read once (what /readyz reports).
  bool ready() const;
  // The bound TCP port when api.tcp.enabled.
  std::optional<uint16_t> tcp_port() const;
  // True when the configured runtime backend could be built.
  bool has_runtime() const;
  PodStore& store();
  // The ConfigMaps and Secrets of the manifest directory and the API, merged
  // (see ConfigObjectStore::on_change to follow them).
  ConfigObjectStore& config_objects();
  const static_pods::ManifestSource& manifests() const;
  // The Prometheus text of /metrics.
  std::string metrics_text() const;

  struct Parts;

 private:
  std::unique_ptr<Parts> p_;
};

}  // namespace podagent::agent
