// Decoding of containers (app, init, ephemeral) with their probes, hooks,
// environment, ports, resources, mounts and security context.

#include "model/decode_helpers.h"

namespace podagent::model::decoding {

// The struct readers are not in an unnamed namespace: the list and optional
// templates of decode_helpers.h find them by argument-dependent lookup,
// which does not look into unnamed namespaces.

bool read(Context& c, const Node& n, const std::string& path, ExecAction& out) {
  FieldReader r(c, n, path);
  r.field("command", out.command);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, HttpHeader& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("value", out.value);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, HttpGetAction& out) {
  FieldReader r(c, n, path);
  r.field("path", out.path);
  r.field("port", out.port);
  r.field("host", out.host);
  r.field("scheme", out.scheme);
  r.field("httpHeaders", out.http_headers);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, TcpSocketAction& out) {
  FieldReader r(c, n, path);
  r.field("port", out.port);
  r.field("host", out.host);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, GrpcAction& out) {
  FieldReader r(c, n, path);
  r.field("port", out.port);
  r.field("service", out.service);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, SleepAction& out) {
  FieldReader r(c, n, path);
  r.field("seconds", out.seconds);
  r.done();
  return r.is_map();
}

// The handler fields inline in a probe or hook. Kubernetes' ProbeHandler has
// grpc but no sleep and LifecycleHandler the reverse; the missing one is an
// unknown field, as it is for the API server.
namespace {

enum class HandlerUse { Probe, Hook };

void read_handler(FieldReader& r, HandlerUse use, Handler& out) {
  r.field("exec", out.exec);
  r.field("httpGet", out.http_get);
  r.field("tcpSocket", out.tcp_socket);
  if (use == HandlerUse::Probe) r.field("grpc", out.grpc);
  if (use == HandlerUse::Hook) r.field("sleep", out.sleep);
}

}  // namespace

bool read(Context& c, const Node& n, const std::string& path, Probe& out) {
  FieldReader r(c, n, path);
  read_handler(r, HandlerUse::Probe, out.handler);
  r.field("initialDelaySeconds", out.initial_delay_seconds);
  r.field("timeoutSeconds", out.timeout_seconds);
  r.field("periodSeconds", out.period_seconds);
  r.field("successThreshold", out.success_threshold);
  r.field("failureThreshold", out.failure_threshold);
  r.field("terminationGracePeriodSeconds", out.termination_grace_period_seconds);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, Handler& out) {
  FieldReader r(c, n, path);
  read_handler(r, HandlerUse::Hook, out);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, Lifecycle& out) {
  FieldReader r(c, n, path);
  r.field("postStart", out.post_start);
  r.field("preStop", out.pre_stop);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, KeySelector& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("key", out.key);
  r.field("optional", out.optional);
  r.done();
  return r.is_map();
}

namespace {
// configMapRef / secretRef of envFrom: a KeySelector without a key.
bool read_env_ref(Context& c, const Node& n, const std::string& path, std::optional<KeySelector>& out) {
  FieldReader r(c, n, path);
  KeySelector ref;
  r.field("name", ref.name);
  r.field("optional", ref.optional);
  r.done();
  if (r.is_map()) out = std::move(ref);
  return r.is_map();
}
}  // namespace

bool read(Context& c, const Node& n, const std::string& path, EnvVarSource& out) {
  FieldReader r(c, n, path);
  r.field("fieldRef", out.field_ref);
  r.field("resourceFieldRef", out.resource_field_ref);
  r.field("configMapKeyRef", out.config_map_key_ref);
  r.field("secretKeyRef", out.secret_key_ref);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, EnvVar& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("value", out.value);
  r.field("valueFrom", out.value_from);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, EnvFromSource& out) {
  FieldReader r(c, n, path);
  r.field("prefix", out.prefix);
  if (const Node* v = r.take("configMapRef")) read_env_ref(c, *v, child(path, "configMapRef"), out.config_map_ref);
  if (const Node* v = r.take("secretRef")) read_env_ref(c, *v, child(path, "secretRef"), out.secret_ref);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ContainerPort& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("containerPort", out.container_port);
  r.field("hostPort", out.host_port);
  r.field("protocol", out.protocol);
  r.field("hostIP", out.host_ip);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ResourceRequirements& out) {
  FieldReader r(c, n, path);
  r.field("requests", out.requests);
  r.field("limits", out.limits);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, VolumeMount& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("mountPath", out.mount_path);
  r.field("readOnly", out.read_only);
  r.field("subPath", out.sub_path);
  r.field("subPathExpr", out.sub_path_expr);
  r.field("mountPropagation", out.mount_propagation);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, Capabilities& out) {
  FieldReader r(c, n, path);
  r.field("add", out.add);
  r.field("drop", out.drop);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, SecurityContext& out) {
  FieldReader r(c, n, path);
  r.field("privileged", out.privileged);
  r.field("capabilities", out.capabilities);
  r.field("runAsUser", out.run_as_user);
  r.field("runAsGroup", out.run_as_group);
  r.field("runAsNonRoot", out.run_as_non_root);
  r.field("readOnlyRootFilesystem", out.read_only_root_filesystem);
  r.field("allowPrivilegeEscalation", out.allow_privilege_escalation);
  r.field("seccompProfile", out.seccomp_profile);
  r.field("procMount", out.proc_mount);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, SeccompProfile& out) {
  FieldReader r(c, n, path);
  r.field("type", out.type);
  r.field("localhostProfile", out.localhost_profile);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ObjectFieldSelector& out) {
  FieldReader r(c, n, path);
  r.field("apiVersion", out.api_version);
  r.field("fieldPath", out.field_path);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ResourceFieldSelector& out) {
  FieldReader r(c, n, path);
  r.field("containerName", out.container_name);
  r.field("resource", out.resource);
  r.field("divisor", out.divisor);
  r.done();
  return r.is_map();
}

// One reader for all three container kinds: restartPolicy belongs to init
// containers and targetContainerName to ephemeral ones, but the model keeps
// them on every Container and validation refuses them where they do not
// belong, with a better message than "unknown field".
bool read(Context& c, const Node& n, const std::string& path, Container& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("image", out.image);
  r.field("imagePullPolicy", out.image_pull_policy);
  r.field("command", out.command);
  r.field("args", out.args);
  r.field("workingDir", out.working_dir);
  r.field("env", out.env);
  r.field("envFrom", out.env_from);
  r.field("ports", out.ports);
  r.field("resources", out.resources);
  r.field("volumeMounts", out.volume_mounts);
  r.field("livenessProbe", out.liveness_probe);
  r.field("readinessProbe", out.readiness_probe);
  r.field("startupProbe", out.startup_probe);
  r.field("lifecycle", out.lifecycle);
  r.field("securityContext", out.security_context);
  r.field("restartPolicy", out.restart_policy);
  r.field("stdin", out.stdin);
  r.field("stdinOnce", out.stdin_once);
  r.field("tty", out.tty);
  r.field("terminationMessagePath", out.termination_message_path);
  r.field("terminationMessagePolicy", out.termination_message_policy);
  r.field("targetContainerName", out.target_container_name);
  r.done();
  return r.is_map();
}

}  // namespace podagent::model::decoding
