#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/error.h"
#include "model/node.h"
#include "model/quantity.h"

namespace podagent::config {

using base::Duration;

// The agent's configuration, in the spirit of the kubelet's
// KubeletConfiguration. Every default below is documented, field by field,
// in config/podagent.yaml; a test keeps the two equal.
//
// YAML names are the camelCase of the member names (node_name -> nodeName).

struct TcpListenerConfig {
  bool enabled = false;
  std::string address = "127.0.0.1:6443";  // host:port; [v6]:port
  std::string tls_cert_file;               // both or neither of cert and key
  std::string tls_key_file;
  std::string client_ca_file;  // a client may authenticate with a certificate this CA signed
  std::string tokens_file;     // static-token CSV with roles; see agent/auth.h
  bool operator==(const TcpListenerConfig&) const = default;
};

struct ApiConfig {
  std::string socket = "/run/podagent/podagent.sock";
  uint32_t socket_mode = 0660;  // octal in YAML ("0660")
  std::string socket_group;     // empty: the agent's own group
  TcpListenerConfig tcp;
  bool operator==(const ApiConfig&) const = default;
};

struct RuntimeConfig {
  std::string backend = "oci";       // oci | fake
  std::string oci_runtime = "runc";  // a key of runtime_handlers
  // Handler name -> OCI runtime binary. Entries in a file or a --set are added
  // to (or replace) these defaults.
  std::map<std::string, std::string> runtime_handlers = {{"crun", "/usr/bin/crun"},
                                                         {"runc", "/usr/bin/runc"}};
  Duration relist_period = std::chrono::seconds(60);
  // A container's log is rotated at this size; this many files are kept,
  // the current one included (the kubelet's containerLogMaxSize/-Files).
  std::optional<model::Quantity> container_log_max_size = model::Quantity::parse("10Mi").value();
  int64_t container_log_max_files = 5;
  // The sandbox's pause program; empty: podagent-pause beside the podagent
  // binary.
  std::string pause_binary;
  // The per-container monitor; empty: podagent-monitor beside the pause
  // program. conmon (/usr/bin/conmon) speaks the same protocol.
  std::string monitor_binary;
  bool operator==(const RuntimeConfig&) const = default;
};

// CrashLoopBackOff: the restart delay starts at `initial`, doubles up to
// `max`, and is forgotten after `reset` of clean running.
struct BackoffConfig {
  Duration initial = std::chrono::seconds(10);
  Duration max = std::chrono::seconds(300);
  Duration reset = std::chrono::minutes(10);
  bool operator==(const BackoffConfig&) const = default;
};

// Unset cpu/memory in node_allocatable: the machine's capacity minus
// system_reserved.
struct ResourceConfig {
  std::optional<model::Quantity> cpu;
  std::optional<model::Quantity> memory;
  bool operator==(const ResourceConfig&) const = default;
};

struct CniConfig {
  std::string conf_dir = "/etc/podagent/cni";
  std::vector<std::string> bin_dirs = {"/usr/lib/cni"};
  std::string cache_dir = "/var/lib/podagent/cni";
  bool operator==(const CniConfig&) const = default;
};

// Pod cgroups of the oci backend, as the kubelet's cgroupfs driver lays
// them out: <root>/pod<uid> (Guaranteed), <root>/burstable/pod<uid>,
// <root>/besteffort/pod<uid>, one cgroup per container inside; <root> is
// limited to nodeAllocatable.
struct CgroupsConfig {
  std::string root = "podagent";  // relative to each hierarchy's mount; empty: no pod cgroups
  int64_t pod_pids_limit = 0;     // pids.max of each pod and container; 0: unlimited
  bool operator==(const CgroupsConfig&) const = default;
};

// Volumes of the oci backend. A hostPath volume is served only when its
// path lies at or below one of these absolute prefixes (whole path
// components, after lexical normalisation; "/" allows every path). Empty,
// the default: every hostPath volume is refused, since one gives a pod the
// node's files (the kubelet's baseline Pod Security level forbids them too).
struct VolumesConfig {
  std::vector<std::string> host_path_allow_list;
  bool operator==(const VolumesConfig&) const = default;
};

struct AgentConfig {
  std::string node_name;  // empty: this machine's host name, lowercased (see resolve_defaults)
  std::string manifest_dir = "/etc/podagent/manifests";
  std::string state_dir = "/var/lib/podagent";
  std::string pod_logs_dir = "/var/log/pods";
  // A deleted pod's log directory is removed this long after its containers
  // (zero: at once); see agent/pod_log_retention.h.
  Duration pod_logs_retention = std::chrono::hours(1);
  ApiConfig api;
  RuntimeConfig runtime;
  BackoffConfig crash_loop_back_off;
  Duration manifest_relist_period = std::chrono::seconds(20);
  ResourceConfig node_allocatable;
  ResourceConfig system_reserved;
  int64_t max_pods = 110;  // the pod count admission allows (OutOfpods beyond)
  CniConfig cni;
  CgroupsConfig cgroups;
  VolumesConfig volumes;
  std::string log_level = "info";  // error | warning | info | debug
  bool operator==(const AgentConfig&) const = default;
};

// One problem with the configuration; `field` is its path
// ("runtime.backend", "cni.binDirs[1]"), empty for the file as a whole.
// to_string(): "runtime.backnd: unknown field".
using ConfigErrors = std::vector<base::Error>;

inline constexpr std::string_view kDefaultConfigPath = "/etc/podagent/config.yaml";
inline constexpr std::string_view kConfigApiVersion = "podagent.io/v1alpha1";
inline constexpr std::string_view kConfigKind = "AgentConfig";

// A command-line override of one field, applied after the file.
struct Override {
  std::string path;   // "crashLoopBackOff.initial", "runtime.runtimeHandlers.kata"
  std::string value;  // "1s"
  // true: `value` is YAML ("[/a, /b]" for a list, "0660"); false: a literal
  // string (what --node-name and the other named flags give).
  bool yaml = true;
  bool operator==(const Override&) const = default;
};

// "path=value" as given to --set; an error when there is no '=' or no path.
base::Result<Override> parse_set_flag(std::string_view text);

// ---- Pure functions (no I/O) ----

// Applies the fields present in `document` (one parsed YAML document) onto
// `config`. Fields absent or null keep their current value. Returns every
// problem found (unknown fields, wrong types, unparsable durations or
// quantities); `config` may then be partly changed and must be discarded.
ConfigErrors decode_config(const model::Node& document, AgentConfig& config);
// The same for YAML text holding zero (all defaults) or one document.
ConfigErrors decode_config_text(std::string_view text, AgentConfig& config);
// Applies one override; the same rules and errors as a file field.
ConfigErrors apply_override(const Override& override_, AgentConfig& config);

// Fills what has a machine-dependent default: node_name from `hostname`.
void resolve_defaults(AgentConfig& config, std::string_view hostname);

// Checks the values of a decoded, resolved config; returns every problem.
ConfigErrors validate_config(const AgentConfig& config);

// The config as a YAML-ready tree, every field present, in the order of
// config/podagent.yaml. decode_config(encode_config(c)) gives back c.
model::Node encode_config(const AgentConfig& config);
// encode_config written as YAML.
std::string render_config_yaml(const AgentConfig& config);

// ---- Loading (reads the file and the host name) ----

struct LoadOptions {
  // The file given with --config: it must exist. Unset: kDefaultConfigPath,
  // and the embedded defaults when that does not exist.
  std::optional<std::string> path;
  std::vector<Override> overrides;                             // applied in order, after the file
  std::string default_path = std::string(kDefaultConfigPath);  // tests point it elsewhere
};

struct LoadedConfig {
  // Set only when there are no errors: an invalid config is refused whole.
  std::optional<AgentConfig> config;
  std::string source;  // the file read, or "embedded defaults"
  ConfigErrors errors;
  bool ok() const { return config.has_value(); }
};

// defaults -> file -> overrides -> resolve_defaults -> validate_config.
LoadedConfig load_config(const LoadOptions& options);

}  // namespace podagent::config
