#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/container.h"
#include "model/node.h"
#include "model/pod_status.h"
#include "model/volume.h"

namespace podagent::model {

struct ObjectMeta {
  std::string name;
  std::string generate_name;
  std::string namespace_;                 // defaulted to "default"
  std::string uid;
  std::string resource_version;
  std::string creation_timestamp;         // RFC 3339, set by the agent
  std::string deletion_timestamp;
  std::optional<int64_t> deletion_grace_period_seconds;
  int64_t generation = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  bool operator==(const ObjectMeta&) const = default;
};

struct HostAlias {
  std::string ip;
  std::vector<std::string> hostnames;
  bool operator==(const HostAlias&) const = default;
};

struct PodDnsConfigOption {
  std::string name;
  std::optional<std::string> value;
  bool operator==(const PodDnsConfigOption&) const = default;
};

struct PodDnsConfig {
  std::vector<std::string> nameservers;
  std::vector<std::string> searches;
  std::vector<PodDnsConfigOption> options;
  bool operator==(const PodDnsConfig&) const = default;
};

struct Sysctl {
  std::string name;
  std::string value;
  bool operator==(const Sysctl&) const = default;
};

struct PodSecurityContext {
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<bool> run_as_non_root;
  std::vector<int64_t> supplemental_groups;
  std::optional<int64_t> fs_group;
  std::vector<Sysctl> sysctls;
  std::optional<SeccompProfile> seccomp_profile;
  bool operator==(const PodSecurityContext&) const = default;
};

struct Toleration {
  std::string key;
  std::string operator_;
  std::string value;
  std::string effect;
  std::optional<int64_t> toleration_seconds;
  bool operator==(const Toleration&) const = default;
};

struct PodReadinessGate {
  std::string condition_type;
  bool operator==(const PodReadinessGate&) const = default;
};

struct LocalObjectReference {
  std::string name;
  bool operator==(const LocalObjectReference&) const = default;
};

struct PodSpec {
  std::vector<Volume> volumes;
  std::vector<Container> init_containers;
  std::vector<Container> containers;
  std::vector<Container> ephemeral_containers;
  std::string restart_policy;                                  // defaulted to Always
  std::optional<int64_t> termination_grace_period_seconds;     // defaulted to 30
  std::optional<int64_t> active_deadline_seconds;
  std::string dns_policy;                                      // defaulted to ClusterFirst
  std::optional<PodDnsConfig> dns_config;
  std::map<std::string, std::string> node_selector;
  std::string service_account_name;
  std::optional<bool> automount_service_account_token;
  std::string node_name;
  bool host_network = false;
  bool host_pid = false;
  bool host_ipc = false;
  std::optional<bool> share_process_namespace;
  std::optional<PodSecurityContext> security_context;
  std::vector<LocalObjectReference> image_pull_secrets;
  std::string hostname;
  std::string subdomain;
  std::vector<HostAlias> host_aliases;
  std::optional<int64_t> priority;
  std::string priority_class_name;
  std::vector<PodReadinessGate> readiness_gates;
  std::optional<std::string> runtime_class_name;
  std::optional<bool> enable_service_links;                   // defaulted to true
  std::string scheduler_name;                                  // defaulted to default-scheduler
  std::vector<Toleration> tolerations;
  // A node agent cannot honour affinity; it is kept verbatim (and reported
  // back) rather than dropped.
  std::optional<Node> affinity;
  bool operator==(const PodSpec&) const = default;
};

struct Pod {
  std::string api_version = "v1";
  std::string kind = "Pod";
  ObjectMeta metadata;
  PodSpec spec;
  PodStatus status;
  bool operator==(const Pod&) const = default;
};

}  // namespace podagent::model
