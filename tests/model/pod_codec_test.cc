#include "model/pod_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "model/decode_helpers.h"
#include "model/document.h"

namespace podagent::model {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

std::string read_manifest(const std::string& name) {
  std::ifstream in(std::string(PODAGENT_TEST_DATA) + "/manifests/" + name);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> texts(const FieldErrors& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.to_string());
  return out;
}

std::vector<std::string> fields(const FieldErrors& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field);
  return out;
}

// Decodes a text that must hold exactly one pod without errors or warnings.
Pod decode_one(const std::string& text) {
  DecodeResult r = decode_pods(text);
  EXPECT_TRUE(r.ok()) << ::testing::PrintToString(texts(r.errors));
  EXPECT_EQ(r.pods.size(), 1u);
  if (r.pods.size() != 1) return {};
  EXPECT_THAT(texts(r.pods[0].errors), ElementsAre());
  EXPECT_THAT(texts(r.pods[0].warnings), ElementsAre());
  return r.pods[0].pod;
}

// The errors of a one-pod text whose spec is `spec` (YAML, indented by 2).
FieldErrors spec_errors(const std::string& spec) {
  DecodeResult r = decode_pods("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + spec);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.pods.size(), 1u);
  return r.pods.empty() ? FieldErrors{} : r.pods[0].errors;
}

WallTime at(const char* rfc3339) { return *decoding::parse_rfc3339(rfc3339); }

const std::vector<std::string> kManifests = {
    "hello.yaml",   "shared-hostpath.yaml", "init-copy-serve.yaml", "init-fetch.yaml", "sidecar.yaml",
    "probes-hooks.yaml", "list.yaml", "multi.yaml", "pod.json", "everything.yaml", "invalid-many.yaml",
    "unknown-fields.yaml"};

TEST(PodCodecManifests, Hello) {
  Pod pod = decode_one(read_manifest("hello.yaml"));
  EXPECT_EQ(pod.api_version, "v1");
  EXPECT_EQ(pod.kind, "Pod");
  EXPECT_EQ(pod.metadata.name, "hello");
  EXPECT_EQ(pod.metadata.labels.at("app"), "hello");
  ASSERT_EQ(pod.spec.containers.size(), 1u);
  EXPECT_EQ(pod.spec.containers[0].image, "busybox:1.36");
  EXPECT_THAT(pod.spec.containers[0].command, ElementsAre("sh", "-c", "echo Hello && sleep 3600"));
  EXPECT_EQ(pod.spec.restart_policy, "");  // no defaults applied by decoding
}

TEST(PodCodecManifests, SharedHostPath) {
  Pod pod = decode_one(read_manifest("shared-hostpath.yaml"));
  ASSERT_EQ(pod.spec.volumes.size(), 1u);
  ASSERT_TRUE(pod.spec.volumes[0].host_path);
  EXPECT_EQ(pod.spec.volumes[0].host_path->path, "/var/lib/podagent-demo/shared");
  EXPECT_EQ(pod.spec.volumes[0].host_path->type, "DirectoryOrCreate");
  ASSERT_EQ(pod.spec.containers.size(), 2u);
  for (const auto& c : pod.spec.containers) {
    ASSERT_EQ(c.volume_mounts.size(), 1u);
    EXPECT_EQ(c.volume_mounts[0].name, "shared");
    EXPECT_EQ(c.volume_mounts[0].mount_path, "/data");
  }
  EXPECT_FALSE(pod.spec.containers[0].volume_mounts[0].read_only);
  EXPECT_TRUE(pod.spec.containers[1].volume_mounts[0].read_only);
}

TEST(PodCodecManifests, InitContainers) {
  Pod serve = decode_one(read_manifest("init-copy-serve.yaml"));
  ASSERT_EQ(serve.spec.init_containers.size(), 1u);
  EXPECT_EQ(serve.spec.init_containers[0].name, "copy");
  EXPECT_FALSE(serve.spec.init_containers[0].is_sidecar());
  ASSERT_TRUE(serve.spec.volumes.at(0).empty_dir);
  EXPECT_EQ(*serve.spec.volumes[0].empty_dir, EmptyDirVolumeSource{});
  ASSERT_EQ(serve.spec.containers.at(0).ports.size(), 1u);
  EXPECT_EQ(serve.spec.containers[0].ports[0].name, "http");
  EXPECT_EQ(serve.spec.containers[0].ports[0].container_port, 8080);
  EXPECT_THAT(serve.spec.containers[0].command, ElementsAre("httpd", "-f", "-p", "8080", "-h", "/www"));

  Pod fetch = decode_one(read_manifest("init-fetch.yaml"));
  EXPECT_EQ(fetch.spec.restart_policy, "OnFailure");
  ASSERT_EQ(fetch.spec.init_containers.size(), 1u);
  EXPECT_EQ(fetch.spec.init_containers[0].command.at(0), "wget");
  EXPECT_EQ(fetch.spec.init_containers[0].volume_mounts.at(0).mount_path, "/work");
}

TEST(PodCodecManifests, Sidecar) {
  Pod pod = decode_one(read_manifest("sidecar.yaml"));
  ASSERT_EQ(pod.spec.init_containers.size(), 1u);
  EXPECT_TRUE(pod.spec.init_containers[0].is_sidecar());
  EXPECT_EQ(pod.spec.init_containers[0].restart_policy, std::optional<std::string>("Always"));
  EXPECT_FALSE(pod.spec.containers.at(0).restart_policy.has_value());
}

TEST(PodCodecManifests, ProbesAndHooks) {
  Pod pod = decode_one(read_manifest("probes-hooks.yaml"));
  EXPECT_EQ(pod.spec.termination_grace_period_seconds, std::optional<int64_t>(10));
  const Container& web = pod.spec.containers.at(0);
  ASSERT_TRUE(web.startup_probe && web.startup_probe->handler.exec);
  EXPECT_THAT(web.startup_probe->handler.exec->command, ElementsAre("cat", "/tmp/healthy"));
  EXPECT_EQ(web.startup_probe->failure_threshold, std::optional<int64_t>(30));
  ASSERT_TRUE(web.liveness_probe && web.liveness_probe->handler.http_get);
  const HttpGetAction& get = *web.liveness_probe->handler.http_get;
  EXPECT_EQ(get.port.value, (std::variant<int64_t, std::string>("http")));
  EXPECT_EQ(get.http_headers, (std::vector<HttpHeader>{{"X-Probe", "liveness"}}));
  EXPECT_EQ(web.liveness_probe->initial_delay_seconds, 3);
  EXPECT_EQ(web.liveness_probe->timeout_seconds, std::optional<int64_t>(2));
  ASSERT_TRUE(web.readiness_probe && web.readiness_probe->handler.tcp_socket);
  EXPECT_EQ(web.readiness_probe->handler.tcp_socket->port.value, (std::variant<int64_t, std::string>(int64_t{8080})));
  ASSERT_TRUE(web.lifecycle && web.lifecycle->post_start && web.lifecycle->pre_stop);
  EXPECT_TRUE(web.lifecycle->post_start->exec);
  EXPECT_EQ(web.lifecycle->pre_stop->sleep, (SleepAction{2}));
  const Container& pinger = pod.spec.containers.at(1);
  ASSERT_TRUE(pinger.readiness_probe && pinger.readiness_probe->handler.grpc);
  EXPECT_EQ(pinger.readiness_probe->handler.grpc->port, 9090);
  EXPECT_EQ(pinger.readiness_probe->handler.grpc->service, std::optional<std::string>("health"));
  ASSERT_TRUE(pinger.lifecycle && pinger.lifecycle->pre_stop && pinger.lifecycle->pre_stop->http_get);
  EXPECT_EQ(pinger.lifecycle->pre_stop->http_get->path, "/shutdown");
}

TEST(PodCodecManifests, ListAndMultiDocumentWhere) {
  DecodeResult list = decode_pods(read_manifest("list.yaml"));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list.pods.size(), 2u);
  EXPECT_EQ(list.pods[0].where, "items[0]");
  EXPECT_EQ(list.pods[0].pod.metadata.name, "list-one");
  EXPECT_EQ(list.pods[1].where, "items[1]");
  EXPECT_EQ(list.pods[1].pod.metadata.name, "list-two");
  EXPECT_TRUE(list.pods[0].warnings.empty());

  DecodeResult multi = decode_pods(read_manifest("multi.yaml"));
  ASSERT_TRUE(multi.ok());
  ASSERT_EQ(multi.pods.size(), 2u);
  EXPECT_EQ(multi.pods[0].where, "document 1");
  EXPECT_EQ(multi.pods[0].pod.metadata.name, "multi-one");
  EXPECT_EQ(multi.pods[1].where, "document 2");
  EXPECT_EQ(multi.pods[1].pod.metadata.name, "multi-two");
}

TEST(PodCodecManifests, Json) {
  Pod pod = decode_one(read_manifest("pod.json"));
  EXPECT_EQ(pod.metadata.namespace_, "demo");
  EXPECT_EQ(pod.spec.restart_policy, "Never");
  const Container& c = pod.spec.containers.at(0);
  EXPECT_EQ(c.env, (std::vector<EnvVar>{{"GREETING", "hi", std::nullopt}}));
  EXPECT_EQ(c.resources.requests.at("cpu").milli(), 100);
  EXPECT_EQ(c.resources.requests.at("memory").value(), 32 * 1024 * 1024);
  EXPECT_EQ(c.resources.limits.at("cpu").milli(), 500);  // a JSON number
}

TEST(PodCodecManifests, EverythingMetadataAndSpec) {
  Pod pod = decode_one(read_manifest("everything.yaml"));
  const ObjectMeta& m = pod.metadata;
  EXPECT_EQ(m.generate_name, "every-");
  EXPECT_EQ(m.uid, "0b6d5d4e-2f1a-4c59-9d7e-5c1b2a3f4e5d");
  EXPECT_EQ(m.resource_version, "42");
  EXPECT_EQ(m.generation, 3);
  EXPECT_EQ(m.creation_timestamp, "2026-01-02T03:04:05Z");
  EXPECT_EQ(m.deletion_grace_period_seconds, std::optional<int64_t>(30));
  EXPECT_EQ(m.annotations.at("note"), "with: colon");
  const PodSpec& s = pod.spec;
  EXPECT_EQ(s.active_deadline_seconds, std::optional<int64_t>(3600));
  EXPECT_EQ(s.dns_config->options, (std::vector<PodDnsConfigOption>{{"ndots", "2"}, {"edns0", std::nullopt}}));
  EXPECT_TRUE(s.host_network && s.host_pid && s.host_ipc);
  EXPECT_EQ(s.automount_service_account_token, std::optional<bool>(false));
  EXPECT_EQ(s.security_context->supplemental_groups, (std::vector<int64_t>{4000, 5000}));
  EXPECT_EQ(s.security_context->sysctls, (std::vector<Sysctl>{{"net.ipv4.ip_local_port_range", "32768 60999"}}));
  EXPECT_EQ(s.security_context->seccomp_profile->type, "RuntimeDefault");
  EXPECT_EQ(s.image_pull_secrets, (std::vector<LocalObjectReference>{{"registry-key"}}));
  EXPECT_EQ(s.host_aliases, (std::vector<HostAlias>{{"10.1.2.3", {"foo.local", "bar.local"}}}));
  EXPECT_EQ(s.readiness_gates, (std::vector<PodReadinessGate>{{"example.com/feature-1"}}));
  EXPECT_EQ(s.runtime_class_name, std::optional<std::string>("runc"));
  EXPECT_EQ(s.enable_service_links, std::optional<bool>(false));
  EXPECT_EQ(s.priority, std::optional<int64_t>(1000));
  ASSERT_EQ(s.tolerations.size(), 2u);
  EXPECT_EQ(s.tolerations[1].operator_, "Exists");
  EXPECT_EQ(s.tolerations[1].toleration_seconds, std::optional<int64_t>(300));
  ASSERT_TRUE(s.affinity);
  EXPECT_EQ(s.affinity->line, 0);  // source lines are dropped
  ASSERT_NE(s.affinity->find("nodeAffinity"), nullptr);
  ASSERT_EQ(s.ephemeral_containers.size(), 1u);
  EXPECT_EQ(s.ephemeral_containers[0].target_container_name, "main");
  EXPECT_TRUE(s.init_containers.at(1).is_sidecar());
}

TEST(PodCodecManifests, EverythingVolumes) {
  Pod pod = decode_one(read_manifest("everything.yaml"));
  const auto& v = pod.spec.volumes;
  ASSERT_EQ(v.size(), 7u);
  EXPECT_EQ(v[0].empty_dir->medium, "Memory");
  EXPECT_EQ(v[0].empty_dir->size_limit->value(), 64 * 1024 * 1024);
  EXPECT_EQ(v[2].downward_api->default_mode, std::optional<int32_t>(0644));  // YAML 1.1 octal
  EXPECT_EQ(v[2].downward_api->items.at(1).mode, std::optional<int32_t>(0400));
  EXPECT_EQ(v[2].downward_api->items.at(1).resource_field_ref->divisor->milli(), 1);
  EXPECT_EQ(v[2].downward_api->items.at(0).field_ref->field_path, "metadata.labels");
  EXPECT_EQ(v[3].config_map->name, "app-config");
  EXPECT_EQ(v[3].config_map->default_mode, std::optional<int32_t>(0600));
  EXPECT_EQ(v[3].config_map->items.at(0).mode, std::optional<int32_t>(420));
  EXPECT_EQ(v[3].config_map->optional, std::optional<bool>(true));
  EXPECT_EQ(v[4].secret->name, "app-secret");  // from secretName
  EXPECT_EQ(v[4].secret->default_mode, std::optional<int32_t>(256));
  const ProjectedVolumeSource& p = *v[5].projected;
  ASSERT_EQ(p.sources.size(), 4u);
  EXPECT_EQ(p.sources[0].config_map->items.at(0).path, "a.txt");
  EXPECT_EQ(p.sources[1].secret->name, "app-secret");
  EXPECT_EQ(p.sources[2].downward_api->items.at(0).field_ref->field_path, "metadata.name");
  EXPECT_EQ(p.sources[3].service_account_token->expiration_seconds, std::optional<int64_t>(3600));
  EXPECT_THAT(v[6].unsupported_sources, ElementsAre("nfs"));
}

TEST(PodCodecManifests, EverythingContainer) {
  Pod pod = decode_one(read_manifest("everything.yaml"));
  const Container& c = pod.spec.containers.at(0);
  EXPECT_EQ(c.image_pull_policy, "IfNotPresent");
  EXPECT_EQ(c.working_dir, "/srv");
  EXPECT_EQ(c.ports.at(0), (ContainerPort{"http", 8080, 18080, "TCP", "127.0.0.1"}));
  EXPECT_EQ(c.ports.at(1).protocol, "UDP");
  EXPECT_EQ(c.env_from.at(0).prefix, "CFG_");
  EXPECT_EQ(c.env_from.at(0).config_map_ref->optional, std::optional<bool>(true));
  EXPECT_EQ(c.env_from.at(1).secret_ref->name, "app-secret");
  ASSERT_EQ(c.env.size(), 5u);
  EXPECT_EQ(c.env[0].value, "1");
  EXPECT_EQ(c.env[2].value_from->resource_field_ref->divisor->value(), 1024 * 1024);
  EXPECT_EQ(c.env[3].value_from->config_map_key_ref->key, "mode");
  EXPECT_EQ(c.env[4].value_from->secret_key_ref->name, "app-secret");
  EXPECT_EQ(c.resources.limits.at("cpu").milli(), 1000);
  EXPECT_EQ(c.resources.requests.at("ephemeral-storage").value(), int64_t{1} << 30);
  EXPECT_EQ(c.volume_mounts.at(1).mount_propagation, "HostToContainer");
  EXPECT_EQ(c.volume_mounts.at(2).sub_path, "labels");
  EXPECT_EQ(c.volume_mounts.at(3).sub_path_expr, "$(POD_NAME)");
  EXPECT_EQ(c.liveness_probe->handler.http_get->scheme, "HTTPS");
  EXPECT_EQ(c.liveness_probe->termination_grace_period_seconds, std::optional<int64_t>(15));
  EXPECT_EQ(c.readiness_probe->handler.tcp_socket->host, "127.0.0.1");
  EXPECT_EQ(c.startup_probe->handler.grpc->service, std::optional<std::string>("ready"));
  EXPECT_EQ(c.lifecycle->pre_stop->sleep->seconds, 5);
  const SecurityContext& sc = *c.security_context;
  EXPECT_EQ(sc.privileged, std::optional<bool>(false));
  EXPECT_EQ(sc.capabilities, (Capabilities{{"NET_ADMIN"}, {"ALL"}}));
  EXPECT_EQ(sc.run_as_non_root, std::optional<bool>(true));
  EXPECT_EQ(sc.seccomp_profile, (SeccompProfile{"Localhost", "profiles/app.json"}));
  EXPECT_EQ(sc.proc_mount, "Default");
  EXPECT_TRUE(c.stdin && c.stdin_once && c.tty);
  EXPECT_EQ(c.termination_message_policy, "FallbackToLogsOnError");
  EXPECT_TRUE(pod.spec.containers.at(1).lifecycle->post_start->tcp_socket);
}

TEST(PodCodecManifests, EverythingStatus) {
  Pod pod = decode_one(read_manifest("everything.yaml"));
  const PodStatus& s = pod.status;
  EXPECT_EQ(s.phase, "Running");
  ASSERT_EQ(s.conditions.size(), 1u);
  EXPECT_EQ(s.conditions[0].last_transition_time, at("2026-01-02T03:04:30Z"));
  EXPECT_EQ(s.pod_ips, (std::vector<PodIp>{{"10.88.0.5"}}));
  EXPECT_EQ(s.start_time, at("2026-01-02T03:04:06Z"));
  EXPECT_EQ(s.qos_class, "Burstable");
  EXPECT_EQ(s.init_container_statuses.at(0).state.terminated->reason, "Completed");
  const ContainerStatus& main = s.container_statuses.at(0);
  EXPECT_TRUE(main.ready);
  EXPECT_EQ(main.started, std::optional<bool>(true));
  EXPECT_EQ(main.restart_count, 1);
  EXPECT_EQ(main.last_state.terminated->exit_code, 137);
  EXPECT_EQ(main.last_state.terminated->signal, 9);
  EXPECT_EQ(main.termination_history,
            (std::vector<TerminationRecord>{{at("2026-01-02T03:04:09Z"), 137, "OOMKilled"}}));
  const ContainerStatus& helper = s.container_statuses.at(1);
  EXPECT_EQ(helper.state.waiting->reason, "CrashLoopBackOff");
  EXPECT_EQ(helper.next_restart_at, at("2026-01-02T03:06:00Z"));
  EXPECT_EQ(s.ephemeral_container_statuses.at(0).name, "debugger");
}

TEST(PodCodecManifests, InvalidManyDecodesWithOnlyTheQuantityError) {
  DecodeResult r = decode_pods(read_manifest("invalid-many.yaml"));
  ASSERT_EQ(r.pods.size(), 1u);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.pods[0].errors.size(), 1u);
  EXPECT_EQ(r.pods[0].errors[0].field, "spec.containers[0].resources.limits[memory]");
  EXPECT_THAT(r.pods[0].errors[0].to_string(),
              ::testing::StartsWith("spec.containers[0].resources.limits[memory]: Invalid value: \"1.5.5\": "));
  EXPECT_TRUE(r.pods[0].warnings.empty());
  // The rest is decoded for validation to judge.
  const PodSpec& s = r.pods[0].pod.spec;
  EXPECT_EQ(s.restart_policy, "Sometimes");
  EXPECT_EQ(s.containers.at(0).ports.at(0).container_port, 70000);
  EXPECT_TRUE(s.containers.at(0).liveness_probe->handler.exec && s.containers[0].liveness_probe->handler.tcp_socket);
  EXPECT_EQ(s.containers.at(0).resources.limits.count("memory"), 0u);
  EXPECT_EQ(s.containers.at(0).resources.limits.at("cpu").milli(), 1000);
}

TEST(PodCodecManifests, UnknownFieldsAreWarningsWithPaths) {
  DecodeResult r = decode_pods(read_manifest("unknown-fields.yaml"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.pods.size(), 1u);
  EXPECT_THAT(fields(r.pods[0].warnings),
              UnorderedElementsAre("metadata.lables", "spec.containers[0].imagePullPolicyy",
                                   "spec.containers[0].livenessProbe.periodSecond",
                                   "spec.volumes[0].emptyDir.sizelimit", "spec.nodeSelecter"));
  for (const auto& w : r.pods[0].warnings) EXPECT_EQ(w.type, FieldError::Type::Unknown);
  EXPECT_EQ(r.pods[0].pod.spec.containers.at(0).image, "busybox:1.36");
}

TEST(PodCodecErrors, WrongTypesAreAllCollectedWithPaths) {
  FieldErrors errors = spec_errors(
      "  terminationGracePeriodSeconds: abc\n"
      "  hostNetwork: \"true\"\n"
      "  nodeSelector: [a, b]\n"
      "  volumes: {name: x}\n"
      "  containers:\n"
      "    - name: c\n"
      "      image: 7\n"
      "      command: sh\n"
      "      ports: [{containerPort: 80.5}]\n"
      "      resources: {limits: {memory: [1]}}\n"
      "      livenessProbe: {httpGet: {port: 1.5}}\n"
      "    - just a string\n");
  // Every error, in the order of the model's fields (as Kubernetes reports).
  EXPECT_THAT(texts(errors),
              UnorderedElementsAre("spec.terminationGracePeriodSeconds: Invalid value: \"abc\": expected integer",
                          "spec.hostNetwork: Invalid value: \"true\": expected boolean",
                          "spec.nodeSelector: Invalid value: list: expected map",
                          "spec.volumes: Invalid value: map: expected list",
                          "spec.containers[0].image: Invalid value: 7: expected string",
                          "spec.containers[0].command: Invalid value: \"sh\": expected list",
                          "spec.containers[0].ports[0].containerPort: Invalid value: 80.5: expected integer",
                          "spec.containers[0].resources.limits[memory]: Invalid value: list: expected quantity",
                          "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 1.5: expected integer or string",
                          "spec.containers[1]: Invalid value: \"just a string\": expected map"));
  for (const auto& e : errors) EXPECT_EQ(e.type, FieldError::Type::TypeInvalid) << e.to_string();
}

TEST(PodCodecErrors, LabelValuesMustBeStrings) {
  DecodeResult r = decode_pods("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {version: 2, ok: \"2\"}\n");
  ASSERT_EQ(r.pods.size(), 1u);
  EXPECT_THAT(texts(r.pods[0].errors), ElementsAre("metadata.labels[version]: Invalid value: 2: expected string"));
  EXPECT_EQ(r.pods[0].pod.metadata.labels.at("ok"), "2");
}

TEST(PodCodecErrors, IntegersAndRanges) {
  Pod pod = decode_one("apiVersion: v1\nkind: Pod\nspec:\n  terminationGracePeriodSeconds: 30.0\n"
                       "  activeDeadlineSeconds: 0x10\n  priority: -5\n");
  EXPECT_EQ(pod.spec.termination_grace_period_seconds, std::optional<int64_t>(30));
  EXPECT_EQ(pod.spec.active_deadline_seconds, std::optional<int64_t>(16));
  EXPECT_EQ(pod.spec.priority, std::optional<int64_t>(-5));

  FieldErrors errors = spec_errors("  terminationGracePeriodSeconds: 9223372036854775808\n"
                                   "  priority: 9223372036854775807\n"
                                   "  activeDeadlineSeconds: 1e300\n"
                                   "  volumes: [{name: v, secret: {defaultMode: 4294967296}}]\n");
  EXPECT_THAT(fields(errors), UnorderedElementsAre("spec.terminationGracePeriodSeconds", "spec.activeDeadlineSeconds",
                                          "spec.volumes[0].secret.defaultMode"));
}

TEST(PodCodecErrors, NullMeansAbsent) {
  Pod pod = decode_one("apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: null}\n"
                       "spec:\n  terminationGracePeriodSeconds: null\n  securityContext: ~\n  containers:\n"
                       "    - {name: c, image: null, livenessProbe: null, command: null}\n");
  EXPECT_FALSE(pod.spec.termination_grace_period_seconds);
  EXPECT_FALSE(pod.spec.security_context);
  EXPECT_EQ(pod.spec.containers.at(0).image, "");
  EXPECT_FALSE(pod.spec.containers.at(0).liveness_probe);
}

TEST(PodCodecErrors, DeprecatedServiceAccountAlias) {
  Pod pod = decode_one("apiVersion: v1\nkind: Pod\nspec: {serviceAccount: old}\n");
  EXPECT_EQ(pod.spec.service_account_name, "old");
  pod = decode_one("apiVersion: v1\nkind: Pod\nspec: {serviceAccount: old, serviceAccountName: new}\n");
  EXPECT_EQ(pod.spec.service_account_name, "new");
}

TEST(PodCodecErrors, QuantitiesFromAnyScalar) {
  Pod pod = decode_one("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: c\n"
                       "      resources: {limits: {cpu: 2, memory: 1e3}, requests: {cpu: 0.25, memory: \"1Ki\"}}\n");
  const ResourceRequirements& r = pod.spec.containers.at(0).resources;
  EXPECT_EQ(r.limits.at("cpu").milli(), 2000);
  EXPECT_EQ(r.limits.at("memory").value(), 1000);
  EXPECT_EQ(r.requests.at("cpu").milli(), 250);
  EXPECT_EQ(r.requests.at("memory").value(), 1024);
  FieldErrors errors = spec_errors("  volumes: [{name: v, emptyDir: {sizeLimit: 12x}}]\n");
  EXPECT_THAT(fields(errors), ElementsAre("spec.volumes[0].emptyDir.sizeLimit"));
}

TEST(PodCodecErrors, BadTimesInStatus) {
  DecodeResult r = decode_pods("apiVersion: v1\nkind: Pod\nstatus: {startTime: yesterday}\n");
  ASSERT_EQ(r.pods.size(), 1u);
  EXPECT_THAT(texts(r.pods[0].errors),
              ElementsAre("status.startTime: Invalid value: \"yesterday\": expected an RFC 3339 time"));
}

TEST(PodCodecErrors, ParseRfc3339) {
  using namespace std::chrono;
  auto t = decoding::parse_rfc3339("2026-01-02T03:04:05Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(duration_cast<seconds>(t->time_since_epoch()).count(), 1767323045);
  EXPECT_EQ(decoding::parse_rfc3339("2026-01-02T05:04:05.5+02:00"), *t + milliseconds(500));
  EXPECT_FALSE(decoding::parse_rfc3339("2026-02-30T00:00:00Z"));
  EXPECT_FALSE(decoding::parse_rfc3339("2026-01-02 03:04:05"));
  EXPECT_FALSE(decoding::parse_rfc3339("2026-01-02T03:04:05"));
}

TEST(PodCodecKinds, UnsupportedAndMissingKind) {
  DecodeResult r = decode_pods("apiVersion: apps/v1\nkind: Deployment\n---\napiVersion: v1\nmetadata: {name: x}\n"
                               "---\napiVersion: v2\nkind: Pod\n---\nkind: Pod\n---\n- 1\n");
  ASSERT_EQ(r.pods.size(), 5u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.pods[0].where, "document 1");
  EXPECT_THAT(texts(r.pods[0].errors),
              ElementsAre("kind: Unsupported value: \"Deployment\": supported values: \"ConfigMap\", "
                          "\"List\", \"Pod\", \"PodList\", \"Secret\""));
  EXPECT_THAT(texts(r.pods[1].errors), ElementsAre("kind: Required value"));
  EXPECT_THAT(texts(r.pods[2].errors), ElementsAre("apiVersion: Unsupported value: \"v2\": supported values: \"v1\""));
  EXPECT_THAT(texts(r.pods[3].errors), ElementsAre("apiVersion: Required value"));
  EXPECT_EQ(r.pods[4].where, "document 5");
  EXPECT_THAT(fields(r.pods[4].errors), ElementsAre(""));
}

TEST(PodCodecKinds, ListItemsAndWhere) {
  DecodeResult r = decode_pods("kind: Pod\napiVersion: v1\nmetadata: {name: a}\n---\n"
                               "apiVersion: v1\nkind: PodList\nitems:\n"
                               "  - {apiVersion: v1, kind: Pod, metadata: {name: b}, spec: {bogus: 1}}\n"
                               "  - {apiVersion: v1, kind: Service, metadata: {name: s}}\n"
                               "  - {apiVersion: v1, metadata: {name: c}}\n");
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.pods.size(), 4u);
  EXPECT_EQ(r.pods[0].where, "document 1");
  EXPECT_TRUE(r.pods[0].errors.empty());
  EXPECT_EQ(r.pods[1].where, "document 2, items[0]");
  EXPECT_EQ(r.pods[1].pod.metadata.name, "b");
  EXPECT_TRUE(r.pods[1].errors.empty());
  EXPECT_THAT(fields(r.pods[1].warnings), ElementsAre("spec.bogus"));
  EXPECT_EQ(r.pods[2].where, "document 2, items[1]");
  EXPECT_THAT(texts(r.pods[2].errors),
              ElementsAre("items[1].kind: Unsupported value: \"Service\": supported values: "
                          "\"ConfigMap\", \"Pod\", \"Secret\""));
  EXPECT_THAT(texts(r.pods[3].errors), ElementsAre("items[2].kind: Required value"));
}

TEST(PodCodecKinds, ListEnvelopeProblems) {
  DecodeResult r = decode_pods("apiVersion: v1\nkind: List\nitems: {a: 1}\n");
  ASSERT_EQ(r.pods.size(), 1u);
  EXPECT_THAT(texts(r.pods[0].errors), ElementsAre("items: Invalid value: map: expected list"));
  r = decode_pods("apiVersion: v1\nkind: List\nextra: 1\nitems: [{apiVersion: v1, kind: Pod}]\n");
  ASSERT_EQ(r.pods.size(), 1u);
  EXPECT_TRUE(r.ok());
  EXPECT_THAT(fields(r.pods[0].warnings), ElementsAre("extra"));
}

TEST(PodCodecKinds, EmptyListWithWarningsGivesNoPod) {
  DecodeResult r = decode_pods("apiVersion: v1\nkind: List\nextra: 1\nitems: []\n");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.pods.empty());
}

TEST(PodCodecKinds, DuplicateKeysWarn) {
  Node doc = Node::map();
  doc.set("apiVersion", Node::string("v1"));
  doc.set("kind", Node::string("Pod"));
  Node& spec = doc.set("spec", Node::map());
  spec.set("hostname", Node::string("a"));
  spec.set("hostname", Node::string("b"));
  DecodeResult r;
  decode_pod_document(doc, "here", r);
  ASSERT_EQ(r.pods.size(), 1u);
  EXPECT_EQ(r.pods[0].where, "here");
  EXPECT_EQ(r.pods[0].pod.spec.hostname, "a");
  ASSERT_EQ(r.pods[0].warnings.size(), 1u);
  EXPECT_EQ(r.pods[0].warnings[0].type, FieldError::Type::Duplicate);
  EXPECT_EQ(r.pods[0].warnings[0].field, "spec.hostname");
}

TEST(PodCodecKinds, SyntaxErrorIsATextError) {
  DecodeResult r = decode_pods("apiVersion: v1\nkind: Pod\nspec: [\n");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.pods.empty());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].detail, ::testing::HasSubstr("line"));
}

// Decodes the JSON of encode_pod(pod) back into a pod.
Pod reencode(const Pod& pod) {
  DecodeResult r = decode_pods(to_json(encode_pod(pod)));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.pods.size(), 1u);
  if (r.pods.size() != 1) return {};
  EXPECT_THAT(texts(r.pods[0].warnings), ElementsAre());
  return r.pods[0].pod;
}

TEST(PodCodecRoundTrip, EveryManifest) {
  for (const auto& name : kManifests) {
    SCOPED_TRACE(name);
    DecodeResult r = decode_pods(read_manifest(name));
    ASSERT_FALSE(r.pods.empty());
    for (const auto& decoded : r.pods) {
      EXPECT_EQ(reencode(decoded.pod), decoded.pod) << to_json(encode_pod(decoded.pod), true);
      DecodeResult again = decode_pods(to_yaml(encode_pod(decoded.pod)));
      ASSERT_EQ(again.pods.size(), 1u);
      EXPECT_EQ(again.pods[0].pod, decoded.pod);
    }
  }
}

TEST(PodCodecEncode, OmitsEmptyFieldsInApiOrder) {
  Pod pod = decode_one(read_manifest("hello.yaml"));
  EXPECT_EQ(to_json(encode_pod(pod)),
            R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"hello","labels":{"app":"hello"}},)"
            R"("spec":{"containers":[{"name":"hello","image":"busybox:1.36",)"
            R"("command":["sh","-c","echo Hello && sleep 3600"],"resources":{}}]},"status":{}})");
}

TEST(PodCodecEncode, ContainerFieldsAndQuantities) {
  Pod pod = decode_one(read_manifest("pod.json"));
  Node n = encode_pod(pod);
  const Node& c = n.find("spec")->find("containers")->items.at(0);
  std::vector<std::string> keys;
  for (const auto& [k, v] : c.entries) keys.push_back(k);
  EXPECT_THAT(keys, ElementsAre("name", "image", "command", "env", "resources"));
  EXPECT_EQ(to_json(*c.find("resources")),
            R"({"limits":{"cpu":"0.5","memory":"64Mi"},"requests":{"cpu":"100m","memory":"32Mi"}})");
  std::vector<std::string> top;
  for (const auto& [k, v] : n.entries) top.push_back(k);
  EXPECT_THAT(top, ElementsAre("apiVersion", "kind", "metadata", "spec", "status"));
}

TEST(PodCodecEncode, StatusWithTimesAndPodagentExtras) {
  PodStatus s;
  s.phase = kPhaseRunning;
  s.start_time = at("2026-01-02T03:04:05Z") + std::chrono::milliseconds(900);
  ContainerStatus c;
  c.name = "app";
  c.state.waiting = ContainerStateWaiting{"CrashLoopBackOff", ""};
  c.last_state.terminated = ContainerStateTerminated{};
  c.last_state.terminated->exit_code = 1;
  c.last_state.terminated->reason = "Error";
  c.restart_count = 2;
  c.next_restart_at = at("2026-01-02T03:05:00Z");
  c.termination_history.push_back({at("2026-01-02T03:04:30Z"), 1, "Error"});
  s.container_statuses.push_back(c);
  EXPECT_EQ(to_json(encode_pod_status(s)),
            R"({"phase":"Running","startTime":"2026-01-02T03:04:05Z","containerStatuses":[{"name":"app",)"
            R"("state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{"terminated":{"exitCode":1,)"
            R"("reason":"Error"}},"ready":false,"restartCount":2,"image":"","imageID":"",)"
            R"("nextRestartAt":"2026-01-02T03:05:00Z","terminationHistory":[{"finishedAt":"2026-01-02T03:04:30Z",)"
            R"("exitCode":1,"reason":"Error"}]}]})");
}

TEST(PodCodecEncode, UnsupportedVolumeSourcesSurviveByName) {
  Pod pod;
  Volume v;
  v.name = "v";
  v.unsupported_sources = {"nfs", "persistentVolumeClaim"};
  pod.spec.volumes.push_back(v);
  EXPECT_EQ(to_json(*encode_pod(pod).find("spec")->find("volumes")),
            R"([{"name":"v","nfs":{},"persistentVolumeClaim":{}}])");
  EXPECT_EQ(reencode(pod), pod);
}

}  // namespace
}  // namespace podagent::model
