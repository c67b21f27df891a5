#include "model/defaults.h"

#include <string_view>

namespace podagent::model {

namespace {

// Kubernetes' numeric defaults (pkg/apis/core/v1/defaults.go).
constexpr int64_t kTerminationGracePeriodSeconds = 30;
constexpr int32_t kVolumeDefaultMode = 0644;
constexpr int64_t kProbeTimeoutSeconds = 1;
constexpr int64_t kProbePeriodSeconds = 10;
constexpr int64_t kProbeSuccessThreshold = 1;
constexpr int64_t kProbeFailureThreshold = 3;
constexpr int64_t kTokenExpirationSeconds = 3600;

// The pull policy Kubernetes derives from the image reference: Always for
// ":latest" or no tag at all, IfNotPresent for any other tag or for a digest
// without a tag. The tag is the text after the last ':' that follows the last
// '/', so a registry port ("host:5000/app") is not mistaken for one.
std::string pull_policy_for(std::string_view image) {
  if (image.empty()) return "IfNotPresent";  // invalid anyway; Kubernetes finds no tag
  bool has_digest = false;
  if (auto at = image.find('@'); at != std::string_view::npos) {
    has_digest = true;
    image = image.substr(0, at);
  }
  std::string_view tag;
  auto colon = image.rfind(':');
  auto slash = image.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
    tag = image.substr(colon + 1);
  if (tag.empty()) return has_digest ? "IfNotPresent" : "Always";
  return tag == "latest" ? "Always" : "IfNotPresent";
}

// Kubernetes stores these as plain ints whose zero means "unset", so an
// explicit 0 is defaulted exactly like an absent value.
void default_positive(std::optional<int64_t>& value, int64_t fallback) {
  if (!value || *value == 0) value = fallback;
}

void default_http_get(HttpGetAction& http) {
  if (http.path.empty()) http.path = "/";
  if (http.scheme.empty()) http.scheme = "HTTP";
}

void default_handler(Handler& handler) {
  if (handler.http_get) default_http_get(*handler.http_get);
}

void default_probe(std::optional<Probe>& probe) {
  if (!probe) return;
  default_handler(probe->handler);
  default_positive(probe->timeout_seconds, kProbeTimeoutSeconds);
  default_positive(probe->period_seconds, kProbePeriodSeconds);
  default_positive(probe->success_threshold, kProbeSuccessThreshold);
  default_positive(probe->failure_threshold, kProbeFailureThreshold);
}

void default_field_selector(std::optional<ObjectFieldSelector>& selector) {
  if (selector && selector->api_version.empty()) selector->api_version = "v1";
}

void default_container(Container& c) {
  if (c.image_pull_policy.empty()) c.image_pull_policy = pull_policy_for(c.image);
  if (c.termination_message_path.empty()) c.termination_message_path = "/dev/termination-log";
  if (c.termination_message_policy.empty()) c.termination_message_policy = "File";
  for (auto& port : c.ports)
    if (port.protocol.empty()) port.protocol = "TCP";
  for (auto& env : c.env)
    if (env.value_from) default_field_selector(env.value_from->field_ref);
  default_probe(c.liveness_probe);
  default_probe(c.readiness_probe);
  default_probe(c.startup_probe);
  if (c.lifecycle) {
    if (c.lifecycle->post_start) default_handler(*c.lifecycle->post_start);
    if (c.lifecycle->pre_stop) default_handler(*c.lifecycle->pre_stop);
  }
}

// SetDefaults_Pod: a limit without a request makes the request equal to it.
void default_requests_from_limits(Container& c) {
  for (const auto& [name, limit] : c.resources.limits)
    c.resources.requests.try_emplace(name, limit);
}

// With hostNetwork the container port is the host port (defaultHostNetworkPorts).
void default_host_ports(Container& c) {
  for (auto& port : c.ports)
    if (port.host_port == 0) port.host_port = port.container_port;
}

void default_downward_api_items(std::vector<DownwardApiVolumeFile>& items) {
  for (auto& item : items) default_field_selector(item.field_ref);
}

void default_volume(Volume& v) {
  const bool has_source = v.empty_dir || v.host_path || v.downward_api || v.config_map ||
                          v.secret || v.projected || !v.unsupported_sources.empty();
  // Kubernetes: a volume without any source is an emptyDir.
  if (!has_source) v.empty_dir = EmptyDirVolumeSource{};
  if (v.config_map && !v.config_map->default_mode) v.config_map->default_mode = kVolumeDefaultMode;
  if (v.secret && !v.secret->default_mode) v.secret->default_mode = kVolumeDefaultMode;
  if (v.downward_api) {
    if (!v.downward_api->default_mode) v.downward_api->default_mode = kVolumeDefaultMode;
    default_downward_api_items(v.downward_api->items);
  }
  if (v.projected) {
    if (!v.projected->default_mode) v.projected->default_mode = kVolumeDefaultMode;
    for (auto& source : v.projected->sources) {
      if (source.downward_api) default_downward_api_items(source.downward_api->items);
      auto& token = source.service_account_token;
      if (token && !token->expiration_seconds) token->expiration_seconds = kTokenExpirationSeconds;
    }
  }
  // hostPath.type: "" is both the default and the model's empty value.
}

void default_spec(PodSpec& spec) {
  if (spec.restart_policy.empty()) spec.restart_policy = "Always";
  if (spec.dns_policy.empty()) spec.dns_policy = "ClusterFirst";
  if (!spec.termination_grace_period_seconds)
    spec.termination_grace_period_seconds = kTerminationGracePeriodSeconds;
  if (spec.scheduler_name.empty()) spec.scheduler_name = "default-scheduler";
  if (!spec.enable_service_links) spec.enable_service_links = true;
  if (!spec.security_context) spec.security_context = PodSecurityContext{};
  for (auto& v : spec.volumes) default_volume(v);
  // Requests from limits for init and app containers only, as Kubernetes.
  for (auto* list : {&spec.init_containers, &spec.containers}) {
    for (auto& c : *list) {
      default_requests_from_limits(c);
      if (spec.host_network) default_host_ports(c);
    }
  }
  for (auto* list : {&spec.init_containers, &spec.containers, &spec.ephemeral_containers})
    for (auto& c : *list) default_container(c);
}

}  // namespace

void apply_defaults(Pod& pod) {
  if (pod.api_version.empty()) pod.api_version = "v1";
  if (pod.kind.empty()) pod.kind = "Pod";
  if (pod.metadata.namespace_.empty()) pod.metadata.namespace_ = "default";
  default_spec(pod.spec);
}

}  // namespace podagent::model
