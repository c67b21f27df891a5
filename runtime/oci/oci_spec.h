#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/config_object.h"
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
  int64_t allocatable_ephemeral_storage_bytes = 0;
};

// The ids a container's process runs as. additional_gids holds the primary
// gid first, then the user's other groups (as containerd sets them).
struct ProcessUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
  bool operator==(const ProcessUser&) const = default;
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
  std::string cgroups_path;                     // for linux.cgroupsPath; empty: runtime's default
  int64_t pids_limit = 0;                       // linux.resources.pids.limit when above 0
  // The process's ids, as container_user() resolved them against the
  // rootfs's /etc/passwd and /etc/group. Unset: container_user() with no
  // passwd or group text, so only a numeric image user works.
  std::optional<ProcessUser> user;
  // What "privileged" grants ("CAP_..." names): the node's bounding set,
  // which the backend reads. Empty: every capability Linux 5.9+ knows.
  std::vector<std::string> privileged_capabilities;
  // The ConfigMaps and Secrets that env valueFrom and envFrom read (in the
  // pod's namespace); null: there are none.
  const model::ConfigObjects* objects = nullptr;
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
// with $(VAR) expanded against what precedes in the container's env,
// fieldRef and resourceFieldRef resolved, and HOSTNAME set. As containerd
// builds it: a default PATH first (replaced in place by the image's or the
// container's), then HOSTNAME=input.hostname, then the image's env, then
// container_env_vars().
base::Result<std::vector<std::string>> container_env(const ContainerSpecInput& input);

// The container's own variables (envFrom, then env; no image env, no
// HOSTNAME), resolved and expanded: what $(VAR) in command and args sees, as
// in the kubelet. The image's env is not visible to $(VAR) either, as in
// Kubernetes. envFrom adds every key of its ConfigMap's data or Secret after
// `prefix`; configMapKeyRef/secretKeyRef read input.objects in the pod's
// namespace. A missing object or key that is not optional is an error in
// the kubelet's words (`configmap "x" not found`, `couldn't find key k in
// Secret default/x`) whose field is the envFrom entry or the variable's
// valueFrom; an optional one defines nothing.
base::Result<std::vector<std::string>> container_env_vars(const ContainerSpecInput& input);

// Kubernetes' $(VAR) expansion: $(NAME) of a known variable is replaced,
// $$ escapes, anything else stays as written.
std::string expand_var_refs(std::string_view text, const std::map<std::string, std::string>& vars);

// Resolves an image user "user[:group]" (names or numeric ids) against the
// texts of the rootfs's /etc/passwd and /etc/group, as runc and containerd
// do: "" is root; a numeric uid missing from passwd is used as is (gid 0);
// a name missing from passwd is an error; without an explicit group, the
// groups that list the user as a member are added.
base::Result<ProcessUser> resolve_user(std::string_view user, std::string_view passwd,
                                       std::string_view group);
// The container's user: runAsUser/runAsGroup of the container's
// securityContext, else the pod's, over the image's user; then the pod's
// supplementalGroups and fsGroup appended to additional_gids.
// runAsNonRoot is checked as the kubelet checks it, against runAsUser or
// else the image's user alone (never passwd): its errors carry the kubelet's
// message and the field at fault (...securityContext.runAsNonRoot, or
// .runAsUser for runAsUser 0), so that they are CreateContainerConfigError.
base::Result<ProcessUser> container_user(const model::Pod& pod, const model::Container& container,
                                         const ImageConfig& image, std::string_view passwd,
                                         std::string_view group);
// "spec.containers[2]" (or initContainers, ephemeralContainers): where
// `container` is in the pod, found by address, else by name, for the
// fields of errors.
std::string container_field_path(const model::Pod& pod, const model::Container& container);

// The "CAP_..." names of the capabilities in `mask` (bit n: capability n),
// e.g. the CapBnd of /proc/self/status: what the backend passes as
// ContainerSpecInput::privileged_capabilities. Bits Linux 5.9 does not name
// are left out.
std::vector<std::string> capability_names(uint64_t mask);

// config.json for the pod's infra container and for a container of the pod.
// A container gets the default mounts (/proc, /dev, /dev/pts, /dev/shm,
// /dev/mqueue, /sys, /sys/fs/cgroup) and then input.mounts as rbind mounts;
// an input mount at a default mount's destination replaces it (the backend
// passes the pod's shared /dev/shm that way).
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
// /etc/hosts of a hostNetwork pod: the node's file, then the hostAliases.
std::string host_network_hosts_file(const model::Pod& pod, std::string_view node_hosts);
base::Result<std::string> resolv_conf_file(const model::Pod& pod, std::string_view node_resolv_conf);

}  // namespace podagent::runtime::oci
