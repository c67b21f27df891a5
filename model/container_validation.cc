// Validation of init, app and ephemeral containers. Texts follow the
// Kubernetes API server (pkg/apis/core/validation/validation.go).

#include <cctype>
#include <set>
#include <string>

#include "model/validation_helpers.h"

namespace podagent::model::validation_detail {

namespace {

enum class Kind { Init, App, Ephemeral };

const std::vector<std::string> kProtocols = {"SCTP", "TCP",
                                             "UDP"};  // sorted, as Kubernetes lists them

const char* kEphemeralForbidden = "cannot be set for an Ephemeral Container";
const char* kRegularInitForbidden =
    "may not be set for init containers without restartPolicy=Always";

std::string int_text(int64_t v) { return std::to_string(v); }

void validate_port_number(int64_t port, const std::string& path, FieldErrors& out) {
  if (port < 1 || port > 65535)
    out.push_back(FieldError::invalid(path, int_text(port), range_msg(1, 65535)));
}

// A probe or hook port: a number, or the name of one of the container's ports.
void validate_port_ref(const IntOrString& port, const Container& c, const std::string& path,
                       FieldErrors& out) {
  if (port.is_int()) {
    validate_port_number(port.int_value(), path, out);
    return;
  }
  const std::string& name = *port.string_value();
  auto msgs = port_name_msgs(name);
  add_invalid_each(out, path, name, msgs);
  if (!msgs.empty()) return;
  for (const auto& p : c.ports)
    if (p.name == name) return;
  out.push_back(FieldError::not_found(path, quote(name)));  // the kubelet could not resolve it
}

void validate_http_get(const HttpGetAction& http, const Container& c, const std::string& path,
                       FieldErrors& out) {
  if (http.path.empty()) out.push_back(FieldError::required(path + ".path"));
  validate_port_ref(http.port, c, path + ".port", out);
  if (http.scheme != "HTTP" && http.scheme != "HTTPS")
    out.push_back(
        FieldError::not_supported(path + ".scheme", quote(http.scheme), {"HTTP", "HTTPS"}));
  for (const auto& header : http.http_headers) {
    bool ok = !header.name.empty();
    for (char c : header.name)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) ok = false;
    if (!ok)
      out.push_back(FieldError::invalid(
          path + ".httpHeaders", quote(header.name),
          "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. "
          "'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"));
  }
}

struct HandlerContext {
  bool is_probe;  // grpc allowed, sleep not; hooks the other way round
  int64_t grace_period;
};

// Exactly one action, checked in Kubernetes' order.
void validate_handler(const Handler& h, const Container& c, HandlerContext ctx,
                      const std::string& path, FieldErrors& out) {
  int count = 0;
  auto take = [&](bool present, std::string_view name) {
    if (!present) return false;
    if (count > 0) {
      out.push_back(
          FieldError::forbidden(child(path, name), "may not specify more than 1 handler type"));
      return false;
    }
    ++count;
    return true;
  };
  if (take(h.exec.has_value(), "exec") && h.exec->command.empty())
    out.push_back(FieldError::required(path + ".exec.command"));
  if (take(h.http_get.has_value(), "httpGet"))
    validate_http_get(*h.http_get, c, path + ".httpGet", out);
  if (take(h.tcp_socket.has_value(), "tcpSocket"))
    validate_port_ref(h.tcp_socket->port, c, path + ".tcpSocket.port", out);
  if (h.grpc && !ctx.is_probe)
    out.push_back(
        FieldError::forbidden(path + ".grpc", "may only be set in probes, not in lifecycle hooks"));
  else if (take(h.grpc.has_value(), "grpc"))
    validate_port_number(h.grpc->port, path + ".grpc.port", out);
  if (h.sleep && ctx.is_probe) {
    out.push_back(FieldError::forbidden(path + ".sleep",
                                        "may only be set in lifecycle hooks, not in probes"));
  } else if (take(h.sleep.has_value(), "sleep")) {
    int64_t s = h.sleep->seconds;
    if (s < 0 || s > ctx.grace_period)
      out.push_back(
          FieldError::invalid(path + ".sleep", int_text(s),
                              "must be non-negative and less than terminationGracePeriodSeconds (" +
                                  int_text(ctx.grace_period) + ")"));
  }
  if (count == 0) out.push_back(FieldError::required(path, "must specify a handler type"));
}

// Defaulting turns 0 into the default; a 0 seen here was never defaulted.
void validate_positive(const std::optional<int64_t>& v, const std::string& path, FieldErrors& out) {
  if (!v) return;
  if (*v < 0)
    out.push_back(FieldError::invalid(path, int_text(*v), kNegativeMsg));
  else if (*v == 0)
    out.push_back(FieldError::invalid(path, "0", "must be greater than or equal to 1"));
}

enum class ProbeKind { Liveness, Readiness, Startup };

void validate_probe(const Probe& probe, ProbeKind kind, const Container& c, int64_t grace,
                    const std::string& path, FieldErrors& out) {
  validate_handler(probe.handler, c, {true, grace}, path, out);
  if (probe.initial_delay_seconds < 0)
    out.push_back(FieldError::invalid(path + ".initialDelaySeconds",
                                      int_text(probe.initial_delay_seconds), kNegativeMsg));
  validate_positive(probe.timeout_seconds, path + ".timeoutSeconds", out);
  validate_positive(probe.period_seconds, path + ".periodSeconds", out);
  validate_positive(probe.success_threshold, path + ".successThreshold", out);
  validate_positive(probe.failure_threshold, path + ".failureThreshold", out);
  if (probe.termination_grace_period_seconds && *probe.termination_grace_period_seconds <= 0)
    out.push_back(FieldError::invalid(path + ".terminationGracePeriodSeconds",
                                      int_text(*probe.termination_grace_period_seconds),
                                      "must be greater than 0"));
  if (kind != ProbeKind::Readiness && probe.success_threshold.value_or(1) != 1)
    out.push_back(FieldError::invalid(path + ".successThreshold",
                                      int_text(*probe.success_threshold), "must be 1"));
  if (kind == ProbeKind::Readiness && probe.termination_grace_period_seconds)
    out.push_back(FieldError::invalid(path + ".terminationGracePeriodSeconds",
                                      int_text(*probe.termination_grace_period_seconds),
                                      "must not be set for readinessProbes"));
}

void validate_probes_and_hooks(const Container& c, int64_t grace, const std::string& path,
                               FieldErrors& out) {
  if (c.liveness_probe)
    validate_probe(*c.liveness_probe, ProbeKind::Liveness, c, grace, path + ".livenessProbe", out);
  if (c.readiness_probe)
    validate_probe(*c.readiness_probe, ProbeKind::Readiness, c, grace, path + ".readinessProbe",
                   out);
  if (c.startup_probe)
    validate_probe(*c.startup_probe, ProbeKind::Startup, c, grace, path + ".startupProbe", out);
  if (!c.lifecycle) return;
  if (c.lifecycle->post_start)
    validate_handler(*c.lifecycle->post_start, c, {false, grace}, path + ".lifecycle.postStart",
                     out);
  if (c.lifecycle->pre_stop)
    validate_handler(*c.lifecycle->pre_stop, c, {false, grace}, path + ".lifecycle.preStop", out);
}

void validate_ports(const Container& c, const std::string& path, FieldErrors& out) {
  std::set<std::string> names;
  for (size_t i = 0; i < c.ports.size(); ++i) {
    const auto& port = c.ports[i];
    const std::string p = index(path + ".ports", i);
    if (!port.name.empty()) {
      auto msgs = port_name_msgs(port.name);
      add_invalid_each(out, p + ".name", port.name, msgs);
      if (msgs.empty() && !names.insert(port.name).second)
        out.push_back(FieldError::duplicate(p + ".name", quote(port.name)));
    }
    if (port.container_port == 0)
      out.push_back(FieldError::required(p + ".containerPort"));
    else
      validate_port_number(port.container_port, p + ".containerPort", out);
    if (port.host_port != 0) validate_port_number(port.host_port, p + ".hostPort", out);
    if (port.protocol.empty())
      out.push_back(FieldError::required(p + ".protocol"));
    else if (port.protocol != "TCP" && port.protocol != "UDP" && port.protocol != "SCTP")
      out.push_back(FieldError::not_supported(p + ".protocol", quote(port.protocol), kProtocols));
    if (!port.host_ip.empty() && !is_valid_ip(port.host_ip))
      out.push_back(
          FieldError::invalid(p + ".hostIP", quote(port.host_ip), "must be a valid IP address"));
  }
}

void validate_key_selector(const KeySelector& s, const std::string& path, FieldErrors& out) {
  add_invalid_each(out, path + ".name", s.name, dns1123_subdomain_msgs(s.name));
  if (s.key.empty())
    out.push_back(FieldError::required(path + ".key"));
  else
    add_invalid_each(out, path + ".key", s.key, config_map_key_msgs(s.key));
}

void validate_env_value_from(const EnvVar& ev, const std::string& path, FieldErrors& out) {
  if (!ev.value_from) return;
  const auto& from = *ev.value_from;
  int sources = 0;
  if (from.field_ref) {
    ++sources;
    validate_object_field_selector(*from.field_ref, true, path + ".fieldRef", out);
  }
  if (from.resource_field_ref) {
    ++sources;
    validate_resource_field_selector(*from.resource_field_ref, false, path + ".resourceFieldRef",
                                     out);
  }
  if (from.config_map_key_ref) {
    ++sources;
    validate_key_selector(*from.config_map_key_ref, path + ".configMapKeyRef", out);
  }
  if (from.secret_key_ref) {
    ++sources;
    validate_key_selector(*from.secret_key_ref, path + ".secretKeyRef", out);
  }
  if (sources == 0)
    out.push_back(FieldError::invalid(path, "\"\"",
                                      "must specify one of: `fieldRef`, `resourceFieldRef`, "
                                      "`configMapKeyRef` or `secretKeyRef`"));
  else if (!ev.value.empty())
    out.push_back(
        FieldError::invalid(path, "\"\"", "may not be specified when `value` is not empty"));
  else if (sources > 1)
    out.push_back(
        FieldError::invalid(path, "\"\"", "may not have more than one field specified at a time"));
}

void validate_env(const Container& c, const std::string& path, FieldErrors& out) {
  for (size_t i = 0; i < c.env.size(); ++i) {
    const auto& ev = c.env[i];
    const std::string p = index(path + ".env", i);
    if (ev.name.empty()) out.push_back(FieldError::required(p + ".name"));
    add_invalid_each(out, p + ".name", ev.name, env_var_name_msgs(ev.name));
    validate_env_value_from(ev, p + ".valueFrom", out);
  }
  for (size_t i = 0; i < c.env_from.size(); ++i) {
    const auto& ef = c.env_from[i];
    const std::string p = index(path + ".envFrom", i);
    if (!ef.prefix.empty())
      add_invalid_each(out, p + ".prefix", ef.prefix, env_var_name_msgs(ef.prefix));
    int sources = 0;
    for (auto [ref, name] :
         {std::pair{&ef.config_map_ref, "configMapRef"}, std::pair{&ef.secret_ref, "secretRef"}}) {
      if (!*ref) continue;
      ++sources;
      const std::string name_path = p + "." + name + ".name";
      if ((*ref)->name.empty())
        out.push_back(FieldError::required(name_path));
      else
        add_invalid_each(out, name_path, (*ref)->name, dns1123_subdomain_msgs((*ref)->name));
    }
    if (sources == 0)
      out.push_back(FieldError::invalid(path + ".envFrom", "\"\"",
                                        "must specify one of: `configMapRef` or `secretRef`"));
    else if (sources > 1)
      out.push_back(FieldError::invalid(path + ".envFrom", "\"\"",
                                        "may not have more than one field specified at a time"));
  }
}

// What every kind of container shares: name, image, policies, ports, env,
// resources, mounts, security context.
void validate_common(const Container& c, Kind kind, const PodFacts& facts,
                     std::set<std::string>& names, const std::string& path, FieldErrors& out) {
  if (c.name.empty())
    out.push_back(FieldError::required(path + ".name"));
  else
    add_invalid_each(out, path + ".name", c.name, dns1123_label_msgs(c.name));
  if (!c.name.empty() && !names.insert(c.name).second)
    out.push_back(FieldError::duplicate(path + ".name", quote(c.name)));
  if (c.image.empty())
    out.push_back(FieldError::required(path + ".image"));
  else if (std::isspace(static_cast<unsigned char>(c.image.front())) ||
           std::isspace(static_cast<unsigned char>(c.image.back())))
    out.push_back(FieldError::invalid(path + ".image", quote(c.image),
                                      "must not have leading or trailing whitespace"));
  const std::string pull_path = path + ".imagePullPolicy";
  if (c.image_pull_policy.empty())
    out.push_back(FieldError::required(pull_path));
  else if (c.image_pull_policy != "Always" && c.image_pull_policy != "IfNotPresent" &&
           c.image_pull_policy != "Never")
    out.push_back(FieldError::not_supported(pull_path, quote(c.image_pull_policy),
                                            {"Always", "IfNotPresent", "Never"}));
  const std::string tmp_path = path + ".terminationMessagePolicy";
  if (c.termination_message_policy.empty())
    out.push_back(FieldError::required(tmp_path, "must be 'File' or 'FallbackToLogsOnError'"));
  else if (c.termination_message_policy != "File" &&
           c.termination_message_policy != "FallbackToLogsOnError")
    out.push_back(FieldError::not_supported(tmp_path, quote(c.termination_message_policy),
                                            {"File", "FallbackToLogsOnError"}));
  validate_ports(c, path, out);
  validate_env(c, path, out);
  validate_resources(c.resources, path + ".resources", out);
  validate_volume_mounts(c, facts, kind == Kind::Ephemeral, path + ".volumeMounts", out);
  if (c.security_context)
    validate_container_security(*c.security_context, path + ".securityContext", out);
}

void validate_init_container(const Container& c, const PodFacts& facts, const std::string& path,
                             FieldErrors& out) {
  if (c.restart_policy && *c.restart_policy != "Always")
    out.push_back(
        FieldError::not_supported(path + ".restartPolicy", quote(*c.restart_policy), {"Always"}));
  if (c.is_sidecar()) {
    validate_probes_and_hooks(c, facts.grace_period, path, out);
    return;
  }
  if (c.lifecycle) out.push_back(FieldError::forbidden(path + ".lifecycle", kRegularInitForbidden));
  if (c.liveness_probe)
    out.push_back(FieldError::forbidden(path + ".livenessProbe", kRegularInitForbidden));
  if (c.readiness_probe)
    out.push_back(FieldError::forbidden(path + ".readinessProbe", kRegularInitForbidden));
  if (c.startup_probe)
    out.push_back(FieldError::forbidden(path + ".startupProbe", kRegularInitForbidden));
}

void validate_ephemeral_container(const Container& c, const std::set<std::string>& targets,
                                  const std::string& path, FieldErrors& out) {
  if (!c.ports.empty()) out.push_back(FieldError::forbidden(path + ".ports", kEphemeralForbidden));
  if (c.liveness_probe)
    out.push_back(FieldError::forbidden(path + ".livenessProbe", kEphemeralForbidden));
  if (c.readiness_probe)
    out.push_back(FieldError::forbidden(path + ".readinessProbe", kEphemeralForbidden));
  if (c.startup_probe)
    out.push_back(FieldError::forbidden(path + ".startupProbe", kEphemeralForbidden));
  if (c.lifecycle) out.push_back(FieldError::forbidden(path + ".lifecycle", kEphemeralForbidden));
  if (!c.resources.limits.empty() || !c.resources.requests.empty())
    out.push_back(FieldError::forbidden(path + ".resources", kEphemeralForbidden));
  if (c.restart_policy)
    out.push_back(FieldError::forbidden(path + ".restartPolicy", kEphemeralForbidden));
  if (!c.target_container_name.empty() && !targets.contains(c.target_container_name))
    out.push_back(
        FieldError::not_found(path + ".targetContainerName", quote(c.target_container_name)));
}

// The containers that run side by side share one network namespace: two of
// them cannot bind the same port, and host ports must be unique on the node.
void validate_pod_ports(const PodSpec& spec, bool host_network, FieldErrors& out) {
  std::set<std::string> bound, host;
  auto check = [&](const std::vector<Container>& list, const std::string& list_path,
                   bool sidecars_only) {
    for (size_t ci = 0; ci < list.size(); ++ci) {
      if (sidecars_only && !list[ci].is_sidecar()) continue;
      for (size_t pi = 0; pi < list[ci].ports.size(); ++pi) {
        const auto& port = list[ci].ports[pi];
        const std::string p = index(index(list_path, ci) + ".ports", pi);
        if (port.container_port != 0 &&
            !bound.insert(port.protocol + "/" + int_text(port.container_port)).second)
          out.push_back(FieldError::duplicate(
              p + ".containerPort", quote(port.protocol + "/" + int_text(port.container_port))));
        if (port.host_port == 0) continue;
        std::string key = port.host_ip + "/" + port.protocol + "/" + int_text(port.host_port);
        if (!host.insert(key).second)
          out.push_back(FieldError::duplicate(p + ".hostPort", quote(key)));
        if (host_network && port.host_port != port.container_port)
          out.push_back(FieldError::invalid(p + ".containerPort", int_text(port.container_port),
                                            "must match `hostPort` when `hostNetwork` is true"));
      }
    }
  };
  check(spec.init_containers, "spec.initContainers", true);
  check(spec.containers, "spec.containers", false);
}

}  // namespace

void validate_all_containers(const PodSpec& spec, const PodFacts& facts, FieldErrors& out) {
  std::set<std::string> names;
  for (size_t i = 0; i < spec.init_containers.size(); ++i) {
    const std::string path = index("spec.initContainers", i);
    validate_common(spec.init_containers[i], Kind::Init, facts, names, path, out);
    validate_init_container(spec.init_containers[i], facts, path, out);
  }
  if (spec.containers.empty()) out.push_back(FieldError::required("spec.containers"));
  for (size_t i = 0; i < spec.containers.size(); ++i) {
    const auto& c = spec.containers[i];
    const std::string path = index("spec.containers", i);
    validate_common(c, Kind::App, facts, names, path, out);
    if (c.restart_policy)
      out.push_back(
          FieldError::forbidden(path + ".restartPolicy", "may not be set for non-init containers"));
    validate_probes_and_hooks(c, facts.grace_period, path, out);
  }
  // Ephemeral containers may target any container of the pod but another
  // ephemeral one.
  const std::set<std::string> targets = names;
  for (size_t i = 0; i < spec.ephemeral_containers.size(); ++i) {
    const std::string path = index("spec.ephemeralContainers", i);
    validate_common(spec.ephemeral_containers[i], Kind::Ephemeral, facts, names, path, out);
    validate_ephemeral_container(spec.ephemeral_containers[i], targets, path, out);
  }
  validate_pod_ports(spec, facts.host_network, out);
}

}  // namespace podagent::model::validation_detail
