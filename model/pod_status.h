#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace podagent::model {

// Wall-clock time shown to users (RFC 3339 in JSON). Intervals use the
// monotonic clock elsewhere; this type is only for reported timestamps.
using WallTime = std::chrono::system_clock::time_point;

inline constexpr const char* kPhasePending = "Pending";
inline constexpr const char* kPhaseRunning = "Running";
inline constexpr const char* kPhaseSucceeded = "Succeeded";
inline constexpr const char* kPhaseFailed = "Failed";
inline constexpr const char* kPhaseUnknown = "Unknown";

inline constexpr const char* kConditionPodReadyToStartContainers = "PodReadyToStartContainers";
inline constexpr const char* kConditionInitialized = "Initialized";
inline constexpr const char* kConditionContainersReady = "ContainersReady";
inline constexpr const char* kConditionReady = "Ready";

struct PodCondition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::optional<WallTime> last_probe_time;
  std::optional<WallTime> last_transition_time;
  std::string reason;
  std::string message;
  bool operator==(const PodCondition&) const = default;
};

struct ContainerStateWaiting {
  std::string reason;   // ContainerCreating, PodInitializing, CrashLoopBackOff, ErrImagePull, ...
  std::string message;
  bool operator==(const ContainerStateWaiting&) const = default;
};

struct ContainerStateRunning {
  std::optional<WallTime> started_at;
  bool operator==(const ContainerStateRunning&) const = default;
};

struct ContainerStateTerminated {
  int32_t exit_code = 0;
  int32_t signal = 0;
  std::string reason;   // Completed, Error, OOMKilled, StartError, DeadlineExceeded, ...
  std::string message;
  std::optional<WallTime> started_at;
  std::optional<WallTime> finished_at;
  std::string container_id;
  bool operator==(const ContainerStateTerminated&) const = default;
};

// Exactly one member is set in a reported state; none is set in an empty
// lastState.
struct ContainerState {
  std::optional<ContainerStateWaiting> waiting;
  std::optional<ContainerStateRunning> running;
  std::optional<ContainerStateTerminated> terminated;
  bool operator==(const ContainerState&) const = default;
};

// One past termination, kept beyond the kubelet's single lastState.
struct TerminationRecord {
  WallTime finished_at;
  int32_t exit_code = 0;
  std::string reason;
  bool operator==(const TerminationRecord&) const = default;
};

inline constexpr size_t kTerminationHistoryLength = 20;

struct ContainerStatus {
  std::string name;
  ContainerState state;
  ContainerState last_state;
  bool ready = false;
  std::optional<bool> started;
  int32_t restart_count = 0;
  std::string image;
  std::string image_id;
  std::string container_id;
  // While in CrashLoopBackOff: when the next restart is due (wall time).
  std::optional<WallTime> next_restart_at;
  // Newest last, at most kTerminationHistoryLength entries.
  std::vector<TerminationRecord> termination_history;
  bool operator==(const ContainerStatus&) const = default;
};

struct PodIp {
  std::string ip;
  bool operator==(const PodIp&) const = default;
};

struct PodStatus {
  std::string phase;  // empty until the agent has seen the pod
  std::vector<PodCondition> conditions;
  std::string message;
  std::string reason;  // OutOfcpu, OutOfmemory, OutOfpods, DeadlineExceeded, Evicted, ...
  std::string host_ip;
  std::string pod_ip;
  std::vector<PodIp> pod_ips;
  std::optional<WallTime> start_time;
  std::vector<ContainerStatus> init_container_statuses;
  std::vector<ContainerStatus> container_statuses;
  std::vector<ContainerStatus> ephemeral_container_statuses;
  std::string qos_class;  // Guaranteed, Burstable, BestEffort
  bool operator==(const PodStatus&) const = default;
};

}  // namespace podagent::model
