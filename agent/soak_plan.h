#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"

// The pods of `podagent soak`: which crash pattern and restart policy each
// pod gets, the manifest that realises it, and what the agent must then do
// with it (which exits restart, which exit codes each pattern produces, how
// long one run of it lasts). Pure: no clock, no I/O.
namespace podagent::agent {

// How a soak pod's one container ends each run. Every pattern first counts
// its run in an emptyDir and writes that number (0 for the first run) to
// /dev/termination-log, so that each termination the agent reports names
// the run it belongs to.
enum class SoakPattern {
  ExitCode,      // exits with the chosen non-zero code at once
  CrashAfter,    // exits 1 after run_seconds
  SucceedAfter,  // exits 0 after run_seconds
  OomKill,       // grows past its memory limit: killed by the kernel, 137
  LivenessFail,  // its liveness file vanishes after run_seconds: killed, exits 143 on SIGTERM
  HungOnTerm,    // as LivenessFail but ignores SIGTERM: SIGKILL after the grace period, 137
};
inline constexpr int kSoakPatternCount = 6;
std::string_view to_string(SoakPattern pattern);

struct SoakOptions {
  int pods = 50;
  std::string namespace_ = "soak";
  std::string image = "docker.io/library/busybox:latest";
  base::Duration crashloop_initial = std::chrono::seconds(1);
  base::Duration crashloop_max = std::chrono::seconds(8);
  int exit_code = 3;                  // ExitCode's code; 1..125 so no signal is implied
  int run_seconds = 3;                // N of the "after N seconds" patterns
  int grace_seconds = 2;              // terminationGracePeriodSeconds of every pod
  std::string memory_limit = "20Mi";  // OomKill's limit
};

// How long one run of a pattern lasts, from its start to its exit, as far as
// the pattern decides it (the agent's own latencies come on top).
struct SoakRunTime {
  base::Duration min{};
  base::Duration max{};
};

struct SoakPod {
  std::string name;  // "soak-007", unique in the namespace
  SoakPattern pattern = SoakPattern::ExitCode;
  std::string restart_policy;  // Always, OnFailure, Never
  std::string manifest;        // the Pod as JSON, ready for POST
};

// The container's name in every soak pod.
inline constexpr const char* kSoakContainer = "crasher";
// The label every soak pod carries ("podagent.io/soak": "true").
inline constexpr const char* kSoakLabel = "podagent.io/soak";

// `options.pods` pods: pod i gets pattern i % 6 and policy
// (Always, OnFailure, Never)[(i / 6) % 3], so that the first 18 pods hold
// every pair once. REQUIRES: options.pods >= 0.
std::vector<SoakPod> plan_soak_pods(const SoakOptions& options);

// The manifest of one pod (the JSON text of plan_soak_pods' manifests).
std::string soak_manifest(const SoakOptions& options, const std::string& name, SoakPattern pattern,
                          const std::string& restart_policy);

// The exit code each run of `pattern` ends with.
int32_t expected_exit_code(SoakPattern pattern, const SoakOptions& options);
// Whether `code` ends a run of `pattern`: its expected code, or for
// LivenessFail also 137, the SIGKILL after the grace period when the
// container's shell got no CPU to run its trap in time (a busy machine).
bool soak_exit_fits(SoakPattern pattern, int32_t code, const SoakOptions& options);
// The pattern's run time; liveness kills add up to one probe period (1 s),
// HungOnTerm also the grace period, OomKill up to a second of growing.
SoakRunTime soak_run_time(SoakPattern pattern, const SoakOptions& options);
// Whether the agent restarts a container that exited with `exit_code` under
// `restart_policy` (the kubelet's rule; a liveness kill exits non-zero here).
bool soak_should_restart(std::string_view restart_policy, int32_t exit_code);

}  // namespace podagent::agent
