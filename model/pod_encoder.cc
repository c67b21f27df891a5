// Encoding of a Pod as the Kubernetes API shows it: fields in the order of
// the API's Go structs (so that output diffs cleanly against kubectl's) and
// omitempty as the API server applies it.

#include "model/encode_helpers.h"
#include "model/pod_codec.h"

namespace podagent::model {
namespace encoding {

Node encode_metadata(const ObjectMeta& m) {
  Node n = Node::map();
  put(n, "name", m.name);
  put(n, "generateName", m.generate_name);
  put(n, "namespace", m.namespace_);
  put(n, "uid", m.uid);
  put(n, "resourceVersion", m.resource_version);
  put(n, "generation", m.generation);
  put(n, "creationTimestamp", m.creation_timestamp);
  put(n, "deletionTimestamp", m.deletion_timestamp);
  put(n, "deletionGracePeriodSeconds", m.deletion_grace_period_seconds);
  put(n, "labels", m.labels);
  put(n, "annotations", m.annotations);
  return n;
}

namespace {

Node encode_security_context(const PodSecurityContext& s) {
  Node n = Node::map();
  put(n, "runAsUser", s.run_as_user);
  put(n, "runAsGroup", s.run_as_group);
  put(n, "runAsNonRoot", s.run_as_non_root);
  put(n, "supplementalGroups", s.supplemental_groups);
  put(n, "fsGroup", s.fs_group);
  put_list(n, "sysctls", s.sysctls, [](const Sysctl& sc) {
    Node m = Node::map();
    put_required(m, "name", sc.name);
    put_required(m, "value", sc.value);
    return m;
  });
  put_optional(n, "seccompProfile", s.seccomp_profile, encode_seccomp_profile);
  return n;
}

Node encode_toleration(const Toleration& t) {
  Node n = Node::map();
  put(n, "key", t.key);
  put(n, "operator", t.operator_);
  put(n, "value", t.value);
  put(n, "effect", t.effect);
  put(n, "tolerationSeconds", t.toleration_seconds);
  return n;
}

Node encode_dns_config(const PodDnsConfig& d) {
  Node n = Node::map();
  put(n, "nameservers", d.nameservers);
  put(n, "searches", d.searches);
  put_list(n, "options", d.options, [](const PodDnsConfigOption& o) {
    Node m = Node::map();
    put(m, "name", o.name);
    put(m, "value", o.value);
    return m;
  });
  return n;
}

// PodSpec fields up to and including affinity, in the API's order.
void put_spec_head(Node& n, const PodSpec& s) {
  put_list(n, "volumes", s.volumes, encode_volume);
  put_list(n, "initContainers", s.init_containers, encode_container);
  // "containers" is not omitempty in the API.
  if (s.containers.empty()) n.set("containers", Node::sequence());
  put_list(n, "containers", s.containers, encode_container);
  put_list(n, "ephemeralContainers", s.ephemeral_containers, encode_container);
  put(n, "restartPolicy", s.restart_policy);
  put(n, "terminationGracePeriodSeconds", s.termination_grace_period_seconds);
  put(n, "activeDeadlineSeconds", s.active_deadline_seconds);
  put(n, "dnsPolicy", s.dns_policy);
  put(n, "nodeSelector", s.node_selector);
  put(n, "serviceAccountName", s.service_account_name);
  put(n, "automountServiceAccountToken", s.automount_service_account_token);
  put(n, "nodeName", s.node_name);
  put(n, "hostNetwork", s.host_network);
  put(n, "hostPID", s.host_pid);
  put(n, "hostIPC", s.host_ipc);
  put(n, "shareProcessNamespace", s.share_process_namespace);
  put_optional(n, "securityContext", s.security_context, encode_security_context);
  put_list(n, "imagePullSecrets", s.image_pull_secrets, [](const LocalObjectReference& r) {
    Node m = Node::map();
    put(m, "name", r.name);
    return m;
  });
  put(n, "hostname", s.hostname);
  put(n, "subdomain", s.subdomain);
  if (s.affinity) n.set("affinity", *s.affinity);
}

Node encode_spec(const PodSpec& s) {
  Node n = Node::map();
  put_spec_head(n, s);
  put(n, "schedulerName", s.scheduler_name);
  put_list(n, "tolerations", s.tolerations, encode_toleration);
  put_list(n, "hostAliases", s.host_aliases, [](const HostAlias& a) {
    Node m = Node::map();
    put(m, "ip", a.ip);
    put(m, "hostnames", a.hostnames);
    return m;
  });
  put(n, "priorityClassName", s.priority_class_name);
  put(n, "priority", s.priority);
  put_optional(n, "dnsConfig", s.dns_config, encode_dns_config);
  put_list(n, "readinessGates", s.readiness_gates, [](const PodReadinessGate& g) {
    Node m = Node::map();
    put_required(m, "conditionType", g.condition_type);
    return m;
  });
  put(n, "runtimeClassName", s.runtime_class_name);
  put(n, "enableServiceLinks", s.enable_service_links);
  return n;
}

}  // namespace
}  // namespace encoding

Node encode_pod(const Pod& pod) {
  using namespace encoding;
  Node n = Node::map();
  put_required(n, "apiVersion", pod.api_version);
  put_required(n, "kind", pod.kind);
  n.set("metadata", encode_metadata(pod.metadata));
  n.set("spec", encode_spec(pod.spec));
  n.set("status", encode_pod_status(pod.status));
  return n;
}

}  // namespace podagent::model
