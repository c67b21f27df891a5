#include "model/defaults.h"

#include <gtest/gtest.h>

#include <string>

// Designated initializers below name only the fields a test is about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::model {
namespace {

Container container(std::string name, std::string image) {
  Container c;
  c.name = std::move(name);
  c.image = std::move(image);
  return c;
}

Pod pod_with(Container c) {
  Pod pod;
  pod.metadata.name = "web";
  pod.spec.containers.push_back(std::move(c));
  return pod;
}

Probe http_probe(int64_t port) {
  Probe p;
  p.handler.http_get = HttpGetAction{};
  p.handler.http_get->port.value = port;
  return p;
}

TEST(DefaultsTest, PodLevelFields) {
  Pod pod = pod_with(container("app", "nginx:1.25"));
  apply_defaults(pod);
  EXPECT_EQ(pod.metadata.namespace_, "default");
  EXPECT_EQ(pod.spec.restart_policy, "Always");
  EXPECT_EQ(pod.spec.termination_grace_period_seconds, 30);
  EXPECT_EQ(pod.spec.dns_policy, "ClusterFirst");
  EXPECT_EQ(pod.spec.scheduler_name, "default-scheduler");
  EXPECT_EQ(pod.spec.enable_service_links, true);
  EXPECT_EQ(pod.spec.security_context, PodSecurityContext{});
}

TEST(DefaultsTest, NeverOverwritesSetValues) {
  Pod pod = pod_with(container("app", "nginx"));
  pod.metadata.namespace_ = "prod";
  pod.spec.restart_policy = "Never";
  pod.spec.termination_grace_period_seconds = 0;
  pod.spec.dns_policy = "Default";
  pod.spec.scheduler_name = "mine";
  pod.spec.enable_service_links = false;
  PodSecurityContext sc;
  sc.run_as_user = 1000;
  pod.spec.security_context = sc;
  auto& c = pod.spec.containers[0];
  c.image_pull_policy = "Never";
  c.termination_message_path = "/tmp/msg";
  c.termination_message_policy = "FallbackToLogsOnError";
  apply_defaults(pod);
  EXPECT_EQ(pod.metadata.namespace_, "prod");
  EXPECT_EQ(pod.spec.restart_policy, "Never");
  EXPECT_EQ(pod.spec.termination_grace_period_seconds, 0);
  EXPECT_EQ(pod.spec.dns_policy, "Default");
  EXPECT_EQ(pod.spec.scheduler_name, "mine");
  EXPECT_EQ(pod.spec.enable_service_links, false);
  EXPECT_EQ(pod.spec.security_context->run_as_user, 1000);
  EXPECT_EQ(c.image_pull_policy, "Never");
  EXPECT_EQ(c.termination_message_path, "/tmp/msg");
  EXPECT_EQ(c.termination_message_policy, "FallbackToLogsOnError");
}

struct PullCase {
  const char* image;
  const char* policy;
};

class DefaultsPullPolicyTest : public testing::TestWithParam<PullCase> {};

TEST_P(DefaultsPullPolicyTest, FromImageReference) {
  Pod pod = pod_with(container("app", GetParam().image));
  apply_defaults(pod);
  EXPECT_EQ(pod.spec.containers[0].image_pull_policy, GetParam().policy) << GetParam().image;
}

INSTANTIATE_TEST_SUITE_P(
    DefaultsImages, DefaultsPullPolicyTest,
    testing::Values(PullCase{"busybox", "Always"}, PullCase{"busybox:latest", "Always"},
                    PullCase{"busybox:1.36", "IfNotPresent"},
                    PullCase{"docker.io/library/busybox", "Always"},
                    PullCase{"registry.local:5000/app", "Always"},  // a port is not a tag
                    PullCase{"registry.local:5000/app:v2", "IfNotPresent"},
                    PullCase{"registry.local:5000/app:latest", "Always"},
                    PullCase{"busybox@sha256:0123456789abcdef", "IfNotPresent"},  // digest, no tag
                    PullCase{"busybox:latest@sha256:0123456789abcdef", "Always"},
                    PullCase{"busybox:1.36@sha256:0123456789abcdef", "IfNotPresent"}));

TEST(DefaultsTest, ContainerFieldsForEveryKind) {
  Pod pod = pod_with(container("app", "nginx"));
  pod.spec.init_containers.push_back(container("init", "busybox:1.36"));
  Container debug = container("debug", "busybox");
  debug.target_container_name = "app";
  pod.spec.ephemeral_containers.push_back(debug);
  apply_defaults(pod);
  for (const auto* list :
       {&pod.spec.init_containers, &pod.spec.containers, &pod.spec.ephemeral_containers}) {
    const Container& c = list->front();
    EXPECT_EQ(c.termination_message_path, "/dev/termination-log") << c.name;
    EXPECT_EQ(c.termination_message_policy, "File") << c.name;
    EXPECT_FALSE(c.image_pull_policy.empty()) << c.name;
  }
  EXPECT_EQ(pod.spec.init_containers[0].image_pull_policy, "IfNotPresent");
}

TEST(DefaultsTest, PortsProtocolAndEnvFieldRef) {
  Container c = container("app", "nginx");
  c.ports.push_back(ContainerPort{.name = "http", .container_port = 80});
  c.ports.push_back(ContainerPort{.name = "dns", .container_port = 53, .protocol = "UDP"});
  EnvVar env{.name = "POD_NAME"};
  env.value_from = EnvVarSource{};
  env.value_from->field_ref = ObjectFieldSelector{.field_path = "metadata.name"};
  c.env.push_back(env);
  Pod pod = pod_with(c);
  apply_defaults(pod);
  const auto& out = pod.spec.containers[0];
  EXPECT_EQ(out.ports[0].protocol, "TCP");
  EXPECT_EQ(out.ports[1].protocol, "UDP");
  EXPECT_EQ(out.ports[0].host_port, 0);  // no hostNetwork: no host port
  EXPECT_EQ(out.env[0].value_from->field_ref->api_version, "v1");
}

TEST(DefaultsTest, HostNetworkCopiesContainerPortToHostPort) {
  Container c = container("app", "nginx");
  c.ports.push_back(ContainerPort{.container_port = 8080});
  c.ports.push_back(ContainerPort{.container_port = 9090, .host_port = 9090});
  Pod pod = pod_with(c);
  pod.spec.host_network = true;
  apply_defaults(pod);
  EXPECT_EQ(pod.spec.containers[0].ports[0].host_port, 8080);
  EXPECT_EQ(pod.spec.containers[0].ports[1].host_port, 9090);
}

TEST(DefaultsTest, ProbeTimingsAndHttpGet) {
  Container c = container("app", "nginx");
  c.liveness_probe = http_probe(8080);
  c.readiness_probe = http_probe(8080);
  c.readiness_probe->period_seconds = 5;
  c.readiness_probe->failure_threshold = 0;  // Kubernetes' zero means "unset"
  c.startup_probe = Probe{};
  c.startup_probe->handler.exec = ExecAction{{"true"}};
  Lifecycle hooks;
  hooks.pre_stop = Handler{};
  hooks.pre_stop->http_get = HttpGetAction{};
  c.lifecycle = hooks;
  Pod pod = pod_with(c);
  apply_defaults(pod);
  const auto& out = pod.spec.containers[0];
  for (const Probe* p : {&*out.liveness_probe, &*out.startup_probe}) {
    EXPECT_EQ(p->timeout_seconds, 1);
    EXPECT_EQ(p->period_seconds, 10);
    EXPECT_EQ(p->success_threshold, 1);
    EXPECT_EQ(p->failure_threshold, 3);
    EXPECT_EQ(p->initial_delay_seconds, 0);
  }
  EXPECT_EQ(out.readiness_probe->period_seconds, 5);
  EXPECT_EQ(out.readiness_probe->failure_threshold, 3);
  EXPECT_EQ(out.liveness_probe->handler.http_get->path, "/");
  EXPECT_EQ(out.liveness_probe->handler.http_get->scheme, "HTTP");
  EXPECT_EQ(out.lifecycle->pre_stop->http_get->path, "/");
  EXPECT_EQ(out.lifecycle->pre_stop->http_get->scheme, "HTTP");
  EXPECT_FALSE(out.startup_probe->handler.http_get.has_value());
}

TEST(DefaultsTest, RequestsDefaultToLimitsForInitAndAppOnly) {
  Container c = container("app", "nginx");
  c.resources.limits["cpu"] = Quantity::from_milli(500);
  c.resources.limits["memory"] = Quantity::from_value(128 << 20);
  c.resources.requests["cpu"] = Quantity::from_milli(100);
  Container init = container("init", "busybox");
  init.resources.limits["memory"] = Quantity::from_value(64 << 20);
  Pod pod = pod_with(c);
  pod.spec.init_containers.push_back(init);
  apply_defaults(pod);
  const auto& app = pod.spec.containers[0].resources;
  EXPECT_EQ(app.requests.at("cpu"), Quantity::from_milli(100));  // set: kept
  EXPECT_EQ(app.requests.at("memory"), Quantity::from_value(128 << 20));
  EXPECT_EQ(pod.spec.init_containers[0].resources.requests.at("memory"),
            Quantity::from_value(64 << 20));
}

TEST(DefaultsTest, VolumeModesAndSources) {
  Pod pod = pod_with(container("app", "nginx"));
  Volume cm{.name = "config"};
  cm.config_map = ObjectVolumeSource{.name = "cfg"};
  Volume secret{.name = "secret"};
  secret.secret = ObjectVolumeSource{.name = "s", .default_mode = 0400};
  Volume downward{.name = "info"};
  downward.downward_api = DownwardApiVolumeSource{};
  downward.downward_api->items.push_back(DownwardApiVolumeFile{
      .path = "labels", .field_ref = ObjectFieldSelector{.field_path = "metadata.labels"}});
  Volume projected{.name = "all"};
  projected.projected = ProjectedVolumeSource{};
  Volume bare{.name = "scratch"};
  Volume host{.name = "host"};
  host.host_path = HostPathVolumeSource{.path = "/var/log"};
  pod.spec.volumes = {cm, secret, downward, projected, bare, host};
  apply_defaults(pod);
  const auto& v = pod.spec.volumes;
  EXPECT_EQ(v[0].config_map->default_mode, 0644);
  EXPECT_EQ(v[1].secret->default_mode, 0400);
  EXPECT_EQ(v[2].downward_api->default_mode, 420);
  EXPECT_EQ(v[2].downward_api->items[0].field_ref->api_version, "v1");
  EXPECT_EQ(v[3].projected->default_mode, 0644);
  EXPECT_TRUE(v[4].empty_dir.has_value());  // a volume without a source is an emptyDir
  EXPECT_EQ(v[5].host_path->type, "");
  EXPECT_FALSE(v[5].empty_dir.has_value());
}

TEST(DefaultsTest, UnsupportedSourceIsNotTurnedIntoEmptyDir) {
  Pod pod = pod_with(container("app", "nginx"));
  Volume nfs{.name = "nfs"};
  nfs.unsupported_sources = {"nfs"};
  pod.spec.volumes.push_back(nfs);
  apply_defaults(pod);
  EXPECT_FALSE(pod.spec.volumes[0].empty_dir.has_value());
}

TEST(DefaultsTest, Idempotent) {
  Container c = container("app", "nginx:1.25");
  c.liveness_probe = http_probe(80);
  c.ports.push_back(ContainerPort{.container_port = 80});
  c.resources.limits["cpu"] = Quantity::from_value(1);
  Pod pod = pod_with(c);
  pod.spec.host_network = true;
  Volume v{.name = "data"};
  pod.spec.volumes.push_back(v);
  apply_defaults(pod);
  Pod once = pod;
  apply_defaults(pod);
  EXPECT_EQ(pod, once);
}

}  // namespace
}  // namespace podagent::model
