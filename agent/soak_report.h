#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/soak_observer.h"
#include "agent/soak_plan.h"

// The checks of `podagent soak` over what it observed, and the report a
// person reads (a table) or a program reads (JSON). Pure: no clock, no I/O.
namespace podagent::agent {

using SoakDuration = std::chrono::steady_clock::duration;

struct SoakCheckOptions {
  SoakOptions plan;
  // A restart delay passes within [expected - early, expected + tolerance]:
  // the harness sees a termination a little after the agent does (early),
  // and the agent needs time to start the container (tolerance).
  SoakDuration tolerance = std::chrono::seconds(1);
  SoakDuration early = std::chrono::milliseconds(500);
  // The node's back-off reset (the pods override only initial and max).
  SoakDuration reset = std::chrono::minutes(10);
  SoakTime observe_end;     // when the harness stopped observing
  SoakDuration duration{};  // the run's planned length, for the report
  // Whether to judge the delays of restarts whose termination came during
  // the start burst, before every pod had been seen started (or ended)
  // once: the agent is then busy creating sandboxes and reacts to exits
  // late, so those delays say more about the burst than the back-off. They
  // are measured and listed either way; restart counts, policies and run
  // numbers are always checked.
  bool judge_start_burst = false;
};

// One measured restart delay.
struct SoakDelay {
  int32_t instance = 0;  // the run that was started
  SoakDuration seen{};
  SoakDuration expected{};
  bool ok = false;
  bool in_burst = false;  // not judged
};

struct SoakPodVerdict {
  std::string pod;
  std::string restart_policy;
  SoakPattern pattern = SoakPattern::ExitCode;
  int restarts_seen = 0;
  int restarts_min = 0;  // the range the schedule allows over the window
  int restarts_max = 0;
  int delays_checked = 0;
  int delays_passed = 0;
  int delays_in_burst = 0;                  // measured in the start burst, not judged
  std::optional<SoakDuration> worst_error;  // seen - expected, largest in size
  std::vector<SoakDelay> delays;            // for the JSON
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

// One sample of the agent's resources.
struct SoakResources {
  int64_t rss_kib = 0;
  int64_t fds = 0;
  int64_t threads = 0;
  int64_t mounts = 0;    // lines of its mountinfo
  int64_t cgroups = 0;   // cgroup directories named like the runtime's ids
  int64_t children = 0;  // its child processes and its container monitors
};

struct SoakResourceSamples {
  std::optional<SoakResources> baseline;  // before the pods
  std::optional<SoakResources> warm;      // at the end of the warm-up
  std::optional<SoakResources> end;       // at the end of the observation
  std::optional<SoakResources> after;     // once every pod is gone
};

struct SoakResourceLimits {
  int64_t rss_growth_kib = 16 * 1024;  // from warm to end
  int64_t fd_slack = 0;                // after vs baseline
  int64_t thread_slack = 0;
};

struct SoakResourceVerdict {
  std::string name;  // "rss KiB", "fds", ...
  std::optional<int64_t> baseline, warm, end, after;
  std::string rule;  // "after <= baseline", "end - warm <= 16384"
  bool ok = false;
};

struct SoakReport {
  SoakCheckOptions options;
  SoakResourceLimits limits;
  std::vector<SoakPodVerdict> pods;
  std::vector<SoakResourceVerdict> resources;
  std::vector<SoakDuration> delay_errors;  // seen - expected of the judged delays, sorted
  // From the first pod seen to the last pod seen started or ended; nullopt
  // when a pod was never seen.
  std::optional<SoakDuration> start_burst;
  std::vector<std::string> problems;  // of the run as a whole
  bool passed() const;
};

// Checks every planned pod against what `observer` saw and the resources
// against `limits`.
SoakReport check_soak(const std::vector<SoakPod>& plan, const SoakObserver& observer,
                      const SoakCheckOptions& options, const SoakResourceSamples& samples,
                      const SoakResourceLimits& limits = {});

// The restarts a container of `pattern` under `policy` can make in
// `window` from its first start: [min, max] over the pattern's run times,
// the back-off's schedule and the tolerance.
std::pair<int, int> expected_restarts(SoakPattern pattern, const std::string& policy,
                                      SoakDuration window, const SoakCheckOptions& options);

// Nearest-rank percentile (0 < p <= 100) of sorted `values`; zero if none.
SoakDuration soak_percentile(const std::vector<SoakDuration>& sorted, double p);

// The tables and the final "PASS ..." / "FAIL ..." line.
std::string format_soak_report(const SoakReport& report);
// The same data as JSON.
std::string soak_report_json(const SoakReport& report);

}  // namespace podagent::agent
