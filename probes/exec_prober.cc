// exec: as the kubelet's exec prober, through the runtime's exec, which
// enforces the timeout by killing the process at the deadline.

#include <string>

#include "probes/probers.h"

namespace podagent::probes {

namespace {

// The kubelet's cap on what it keeps of a probe's output.
constexpr size_t kMaxOutput = 10 * 1024;

}  // namespace

runtime::Task<ProbeOutcome> probe_exec(runtime::Runtime& runtime, const ProbeTarget& target,
                                       const model::ExecAction& action,
                                       std::chrono::milliseconds timeout) {
  if (action.command.empty()) co_return ProbeOutcome{ProbeResult::Failure, "exec probe has no command"};
  auto result = co_await runtime.exec(target.container_id, action.command, timeout);
  if (!result) co_return ProbeOutcome{ProbeResult::Failure, result.error().message};
  if (result->timed_out) co_return ProbeOutcome{ProbeResult::Failure, "command timed out"};
  // The combined output, stdout first, as the kubelet reports it.
  std::string output = result->stdout_text.substr(0, kMaxOutput);
  output += result->stderr_text.substr(0, kMaxOutput - output.size());
  co_return ProbeOutcome{result->exit_code == 0 ? ProbeResult::Success : ProbeResult::Failure,
                         std::move(output)};
}

}  // namespace podagent::probes
