#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/probe.h"
#include "model/quantity.h"
#include "model/volume.h"

namespace podagent::model {

struct KeySelector {  // configMapKeyRef / secretKeyRef
  std::string name;
  std::string key;
  std::optional<bool> optional;
  bool operator==(const KeySelector&) const = default;
};

struct EnvVarSource {
  std::optional<ObjectFieldSelector> field_ref;
  std::optional<ResourceFieldSelector> resource_field_ref;
  std::optional<KeySelector> config_map_key_ref;
  std::optional<KeySelector> secret_key_ref;
  bool operator==(const EnvVarSource&) const = default;
};

struct EnvVar {
  std::string name;
  std::string value;
  std::optional<EnvVarSource> value_from;
  bool operator==(const EnvVar&) const = default;
};

struct EnvFromSource {
  std::string prefix;
  std::optional<KeySelector> config_map_ref;  // key unused
  std::optional<KeySelector> secret_ref;      // key unused
  bool operator==(const EnvFromSource&) const = default;
};

struct ContainerPort {
  std::string name;
  int64_t container_port = 0;
  int64_t host_port = 0;       // 0: none
  std::string protocol;        // defaulted to "TCP"
  std::string host_ip;
  bool operator==(const ContainerPort&) const = default;
};

struct ResourceRequirements {
  ResourceList requests;
  ResourceList limits;
  bool operator==(const ResourceRequirements&) const = default;
};

struct VolumeMount {
  std::string name;
  std::string mount_path;
  bool read_only = false;
  std::string sub_path;
  std::string sub_path_expr;
  std::string mount_propagation;  // "", None, HostToContainer, Bidirectional
  bool operator==(const VolumeMount&) const = default;
};

struct Capabilities {
  std::vector<std::string> add;
  std::vector<std::string> drop;
  bool operator==(const Capabilities&) const = default;
};

struct SeccompProfile {
  std::string type;  // RuntimeDefault, Unconfined, Localhost
  std::string localhost_profile;
  bool operator==(const SeccompProfile&) const = default;
};

struct SecurityContext {
  std::optional<bool> privileged;
  std::optional<Capabilities> capabilities;
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<bool> run_as_non_root;
  std::optional<bool> read_only_root_filesystem;
  std::optional<bool> allow_privilege_escalation;
  std::optional<SeccompProfile> seccomp_profile;
  std::string proc_mount;
  bool operator==(const SecurityContext&) const = default;
};

// A container of any kind: app, init (sidecar when restart_policy is
// "Always") or ephemeral.
struct Container {
  std::string name;
  std::string image;
  std::string image_pull_policy;           // Always, IfNotPresent, Never; defaulted from the tag
  std::vector<std::string> command;
  std::vector<std::string> args;
  std::string working_dir;
  std::vector<EnvVar> env;
  std::vector<EnvFromSource> env_from;
  std::vector<ContainerPort> ports;
  ResourceRequirements resources;
  std::vector<VolumeMount> volume_mounts;
  std::optional<Probe> liveness_probe;
  std::optional<Probe> readiness_probe;
  std::optional<Probe> startup_probe;
  std::optional<Lifecycle> lifecycle;
  std::optional<SecurityContext> security_context;
  std::optional<std::string> restart_policy;  // init containers only: "Always" makes a sidecar
  bool stdin = false;
  bool stdin_once = false;
  bool tty = false;
  std::string termination_message_path;     // defaulted to /dev/termination-log
  std::string termination_message_policy;   // defaulted to File
  std::string target_container_name;        // ephemeral containers only

  bool is_sidecar() const { return restart_policy && *restart_policy == "Always"; }
  bool operator==(const Container&) const = default;
};

}  // namespace podagent::model
