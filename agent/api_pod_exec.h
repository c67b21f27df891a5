#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/api_errors.h"
#include "base/ids.h"
#include "runtime/runtime.h"

// Non-interactive exec through the API:
//
//   POST /api/v1/namespaces/{ns}/pods/{name}/exec
//        ?container=C&command=a&command=b[&timeoutSeconds=N]
//
// runs the command in the pod's running container C (default: the pod's
// only container) and answers, once it has ended,
//
//   {"kind":"ExecResult","exitCode":N,"stdout":"...","stderr":"...","timedOut":false}
//
// (output bytes that are not UTF-8 come out as U+FFFD). A request with an
// Upgrade header (kubectl exec: SPDY or websocket, for an interactive
// stream) is answered 400, saying to use `podagent exec`. The route's
// handler is ApiRoutes::exec_pod (api_pod_exec.cc); what it needs of the
// container runtime is the PodExec below.
namespace podagent::agent {

// A command to run, as the route has checked it: the container is one of
// the pod's spec.
struct ExecCall {
  base::PodUid pod_uid;
  std::string pod_name;  // for messages
  std::string container;
  std::vector<std::string> command;  // not empty
  std::chrono::milliseconds timeout{0};
};

// What became of an ExecCall: the command's result, or the error to answer
// (400 when the container is not running, 500 when the runtime failed).
struct ExecOutcome {
  std::optional<ApiError> error;
  runtime::ExecResult result;
};

// Runs commands in pods' containers for the exec route.
class PodExec {
 public:
  virtual ~PodExec() = default;
  // Runs call.command in the running container named call.container of
  // the pod call.pod_uid, and calls `done` once with the outcome, on the
  // io_context thread, never from inside run().
  virtual void run(ExecCall call, std::function<void(ExecOutcome)> done) = 0;
};

// The PodExec of a runtime: finds the container with Runtime::list_pod (the
// running one of that name) and calls Runtime::exec, as a coroutine on
// `executor`. The runtime must outlive the coroutines (the agent destroys
// it only after its io_context has run out of work).
std::shared_ptr<PodExec> make_runtime_pod_exec(runtime::Runtime& runtime,
                                               boost::asio::any_io_executor executor);

// The ExecResult body the route answers with.
std::string exec_result_json(const runtime::ExecResult& result);

// The exec timeout when the request gives no timeoutSeconds.
inline constexpr std::chrono::seconds kDefaultExecTimeout{60};

}  // namespace podagent::agent
