// Encoding of containers with their probes, hooks, environment, ports,
// resources, mounts and security context, in the API's field order.

#include "model/encode_helpers.h"

namespace podagent::model::encoding {
namespace {

Node encode_port_value(const IntOrString& port) {
  if (port.is_int()) return Node::integer(port.int_value());
  return Node::string(*port.string_value());
}

// The handler's fields, inline in a probe or a hook.
void put_handler(Node& n, const Handler& h) {
  put_optional(n, "exec", h.exec, [](const ExecAction& e) {
    Node m = Node::map();
    put(m, "command", e.command);
    return m;
  });
  put_optional(n, "httpGet", h.http_get, [](const HttpGetAction& g) {
    Node m = Node::map();
    put(m, "path", g.path);
    m.set("port", encode_port_value(g.port));
    put(m, "host", g.host);
    put(m, "scheme", g.scheme);
    put_list(m, "httpHeaders", g.http_headers, [](const HttpHeader& hh) {
      Node header = Node::map();
      put_required(header, "name", hh.name);
      put_required(header, "value", hh.value);
      return header;
    });
    return m;
  });
  put_optional(n, "tcpSocket", h.tcp_socket, [](const TcpSocketAction& t) {
    Node m = Node::map();
    m.set("port", encode_port_value(t.port));
    put(m, "host", t.host);
    return m;
  });
  put_optional(n, "grpc", h.grpc, [](const GrpcAction& g) {
    Node m = Node::map();
    put_required(m, "port", g.port);
    put(m, "service", g.service);
    return m;
  });
  put_optional(n, "sleep", h.sleep, [](const SleepAction& s) {
    Node m = Node::map();
    put_required(m, "seconds", s.seconds);
    return m;
  });
}

Node encode_handler(const Handler& h) {
  Node n = Node::map();
  put_handler(n, h);
  return n;
}

Node encode_probe(const Probe& p) {
  Node n = Node::map();
  put_handler(n, p.handler);
  put(n, "initialDelaySeconds", p.initial_delay_seconds);
  put(n, "timeoutSeconds", p.timeout_seconds);
  put(n, "periodSeconds", p.period_seconds);
  put(n, "successThreshold", p.success_threshold);
  put(n, "failureThreshold", p.failure_threshold);
  put(n, "terminationGracePeriodSeconds", p.termination_grace_period_seconds);
  return n;
}

Node encode_lifecycle(const Lifecycle& l) {
  Node n = Node::map();
  put_optional(n, "postStart", l.post_start, encode_handler);
  put_optional(n, "preStop", l.pre_stop, encode_handler);
  return n;
}

Node encode_key_selector(const KeySelector& k, bool with_key) {
  Node n = Node::map();
  put(n, "name", k.name);
  if (with_key) put_required(n, "key", k.key);
  put(n, "optional", k.optional);
  return n;
}

Node encode_env_var(const EnvVar& e) {
  Node n = Node::map();
  put_required(n, "name", e.name);
  put(n, "value", e.value);
  put_optional(n, "valueFrom", e.value_from, [](const EnvVarSource& s) {
    Node m = Node::map();
    put_optional(m, "fieldRef", s.field_ref, encode_field_selector);
    put_optional(m, "resourceFieldRef", s.resource_field_ref, encode_resource_field_selector);
    auto keyed = [](const KeySelector& k) { return encode_key_selector(k, true); };
    put_optional(m, "configMapKeyRef", s.config_map_key_ref, keyed);
    put_optional(m, "secretKeyRef", s.secret_key_ref, keyed);
    return m;
  });
  return n;
}

Node encode_env_from(const EnvFromSource& e) {
  Node n = Node::map();
  put(n, "prefix", e.prefix);
  auto unkeyed = [](const KeySelector& k) { return encode_key_selector(k, false); };
  put_optional(n, "configMapRef", e.config_map_ref, unkeyed);
  put_optional(n, "secretRef", e.secret_ref, unkeyed);
  return n;
}

Node encode_port(const ContainerPort& p) {
  Node n = Node::map();
  put(n, "name", p.name);
  put(n, "hostPort", p.host_port);
  put_required(n, "containerPort", p.container_port);
  put(n, "protocol", p.protocol);
  put(n, "hostIP", p.host_ip);
  return n;
}

Node encode_volume_mount(const VolumeMount& v) {
  Node n = Node::map();
  put_required(n, "name", v.name);
  put(n, "readOnly", v.read_only);
  put_required(n, "mountPath", v.mount_path);
  put(n, "subPath", v.sub_path);
  put(n, "mountPropagation", v.mount_propagation);
  put(n, "subPathExpr", v.sub_path_expr);
  return n;
}

Node encode_security_context(const SecurityContext& s) {
  Node n = Node::map();
  put_optional(n, "capabilities", s.capabilities, [](const Capabilities& c) {
    Node m = Node::map();
    put(m, "add", c.add);
    put(m, "drop", c.drop);
    return m;
  });
  put(n, "privileged", s.privileged);
  put(n, "runAsUser", s.run_as_user);
  put(n, "runAsGroup", s.run_as_group);
  put(n, "runAsNonRoot", s.run_as_non_root);
  put(n, "readOnlyRootFilesystem", s.read_only_root_filesystem);
  put(n, "allowPrivilegeEscalation", s.allow_privilege_escalation);
  put(n, "procMount", s.proc_mount);
  put_optional(n, "seccompProfile", s.seccomp_profile, encode_seccomp_profile);
  return n;
}

// The container fields up to resources, in the API's order.
void put_container_head(Node& n, const Container& c) {
  put_required(n, "name", c.name);
  put(n, "image", c.image);
  put(n, "command", c.command);
  put(n, "args", c.args);
  put(n, "workingDir", c.working_dir);
  put_list(n, "ports", c.ports, encode_port);
  put_list(n, "envFrom", c.env_from, encode_env_from);
  put_list(n, "env", c.env, encode_env_var);
  // resources is a struct without omitempty: the API shows "resources: {}".
  Node& resources = n.set("resources", Node::map());
  put(resources, "limits", c.resources.limits);
  put(resources, "requests", c.resources.requests);
}

}  // namespace

Node encode_seccomp_profile(const SeccompProfile& p) {
  Node n = Node::map();
  put_required(n, "type", p.type);
  put(n, "localhostProfile", p.localhost_profile);
  return n;
}

Node encode_container(const Container& c) {
  Node n = Node::map();
  put_container_head(n, c);
  put(n, "restartPolicy", c.restart_policy);
  put_list(n, "volumeMounts", c.volume_mounts, encode_volume_mount);
  put_optional(n, "livenessProbe", c.liveness_probe, encode_probe);
  put_optional(n, "readinessProbe", c.readiness_probe, encode_probe);
  put_optional(n, "startupProbe", c.startup_probe, encode_probe);
  put_optional(n, "lifecycle", c.lifecycle, encode_lifecycle);
  put(n, "terminationMessagePath", c.termination_message_path);
  put(n, "terminationMessagePolicy", c.termination_message_policy);
  put(n, "imagePullPolicy", c.image_pull_policy);
  put_optional(n, "securityContext", c.security_context,
               [](const SecurityContext& s) { return encode_security_context(s); });
  put(n, "stdin", c.stdin);
  put(n, "stdinOnce", c.stdin_once);
  put(n, "tty", c.tty);
  // Written for any container that has it (ephemeral ones should), so that
  // validation of a re-read pod still sees a misplaced one.
  put(n, "targetContainerName", c.target_container_name);
  return n;
}

}  // namespace podagent::model::encoding
