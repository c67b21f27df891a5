#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "model/container.h"
#include "model/pod.h"
#include "runtime/oci/image_store.h"

// Pure builders of OCI runtime bundle configurations (config.json, runtime
// spec 1.0) and of the per-pod files a container sees. No I/O here: the
// backend writes what these return.
namespace podagent::runtime::oci {

// A bind mount into a container: a prepared volume, or a per-pod file.
struct BindMount {
  std::filesystem::path source;     // on the host
  std::string destination;          // in the container
  bool read_only = false;
  std::string propagation;          // "", "rprivate", "rslave", "rshared"
  bool operator==(const BindMount&) const = default;
};

// Where the sandbox's namespaces are, for containers to join. Empty means
// "the node's" (hostNetwork and friends) for net/ipc/uts, and "a new one of
// the container's own" for pid.
struct SandboxNamespaces {
  std::string network;  // e.g. /proc/<pause pid>/ns/net
  std::string ipc;
  std::string uts;
  std::string pid;      // set only with shareProcessNamespace (or an ephemeral container's target)
  bool operator==(const SandboxNamespaces&) const = default;
};

// What the node says about itself, for the downward API.
struct NodeFacts {
  std::string node_name;
  std::string host_ip;
  int64_t allocatable_cpu_millis = 0;   // resourceFieldRef of a limit not set
  int64_t allocatable_memory_bytes = 0;
};

struct SandboxSpecInput {
  const model::Pod* pod = nullptr;              // never null
  std::filesystem::path rootfs;                 // holds the pause program at /pause
  std::string hostname;                         // pod_hostname(pod)
  std::string cgroups_path;                     // for linux.cgroupsPath; empty: runtime's default
};

struct ContainerSpecInput {
  const model::Pod* pod = nullptr;              // never null
  const model::Container* container = nullptr;  // never null
  const ImageConfig* image = nullptr;           // never null
  std::filesystem::path rootfs;                 // the container's mounted overlay
  SandboxNamespaces namespaces;
  std::vector<BindMount> mounts;                // volumes and the per-pod files
  std::vector<std::string> pod_ips;
  NodeFacts node;
  std::string hostname;                         // for HOSTNAME, as the sandbox has it
  std::string cgroups_path;
};

// The container's process arguments by the Kubernetes rules: command
// replaces the image's entrypoint (and drops its cmd), args replaces cmd;
// $(VAR) references in command and args expand against `env`.
// "no command specified" when both end up empty.
base::Result<std::vector<std::string>> container_argv(const model::Container& container,
                                                      const ImageConfig& image,
                                                      const std::vector<std::string>& env);

// The container's environment, "NAME=value", in order: the image's, then
// the container's (later entries win, order of first appearance kept),
// with $(VAR) expanded against what precedes, fieldRef and resourceFieldRef
// resolved, and HOSTNAME set. configMapKeyRef/secretKeyRef give an error
// naming the variable until those sources exist.
base::Result<std::vector<std::string>> container_env(const ContainerSpecInput& input);

// Kubernetes' $(VAR) expansion: $(NAME) of a known variable is replaced,
// $$ escapes, anything else stays as written.
std::string expand_var_refs(std::string_view text, const std::map<std::string, std::string>& vars);

// config.json for the pod's infra container and for a container of the pod.
base::Result<std::string> sandbox_spec_json(const SandboxSpecInput& input);
base::Result<std::string> container_spec_json(const ContainerSpecInput& input);

// The pod's hostname (spec.hostname, else metadata.name, cut to 63).
std::string pod_hostname(const model::Pod& pod);
// Contents of the per-pod /etc/hosts (localhost lines, the pod's IPs with its
// hostname and FQDN when a subdomain is set, then hostAliases), /etc/hostname
// and /etc/resolv.conf (dnsPolicy and dnsConfig applied to `node_resolv_conf`,
// the node's own file's text).
std::string hosts_file(const model::Pod& pod, const std::vector<std::string>& pod_ips);
std::string hostname_file(const model::Pod& pod);
base::Result<std::string> resolv_conf_file(const model::Pod& pod, std::string_view node_resolv_conf);

}  // namespace podagent::runtime::oci
