#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/event_recorder.h"
#include "base/ids.h"
#include "model/pod.h"
#include "probes/prober.h"
#include "runtime/runtime.h"

namespace podagent::podworker {

// Where one hook runs. Held by value: a postStart hook may outlive the sync
// that started it (see run_post_start), so it owns the pod it points into.
// `runtime`, `clock` and `prober` must outlive every hook run with it.
struct HookContext {
  runtime::Runtime* runtime = nullptr;
  base::Clock* clock = nullptr;
  probes::Prober* prober = nullptr;  // null: httpGet hooks fail
  std::shared_ptr<const model::Pod> pod;
  std::string container_name;
  base::ContainerId container_id;
};

struct HookResult {
  bool ok = true;
  // Why it failed, in the kubelet's words ("Exec lifecycle hook ([...]) for
  // Container "web" in Pod "web_default(uid)" failed - error: ..., message: ...").
  std::string message;
  bool timed_out = false;  // still running at the deadline
};

// The kubelet's handler runner for a lifecycle hook: exec through
// runtime.exec, httpGet through the Prober (its target found by listing the
// pod: the container's sandbox and the pod's first IP), sleep on the clock.
// tcpSocket is accepted by validation but, as the API documents, fails when
// run ("Cannot run handler"). Completes by `deadline` when one is given
// (a hook still running then is a failure with timed_out set); without one
// it runs as long as the handler does (postStart: the kubelet gives it no
// time limit). Runs on the caller's executor.
runtime::Task<HookResult> run_hook(HookContext ctx, model::Handler handler,
                                   std::optional<base::SteadyTime> deadline);

// "name_namespace(uid)", as the kubelet names a pod in messages.
std::string pod_label(const model::Pod& pod);

// "spec.containers{web}", "spec.initContainers{setup}" or
// "spec.ephemeralContainers{debug}": an event's involvedObject.fieldPath.
std::string container_field_path(runtime::ContainerKind kind, std::string_view name);

}  // namespace podagent::podworker
