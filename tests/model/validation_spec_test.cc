// Validation of ports, resources, env, volumes and mounts, and of pod-level
// fields; the cases run through the fixture of validation_test.cc.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/model/pod_builder.h"

namespace podagent::model {
namespace {

using namespace testing_pods;

const Case kPortCases[] = {
    {"ContainerPortRange",
     [](Pod& p) { app(p).ports[0].container_port = 70000; },
     {"spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
      "65535, inclusive"}},
    {"ContainerPortRequired",
     [](Pod& p) { app(p).ports[0].container_port = 0; },
     {"spec.containers[0].ports[0].containerPort: Required value"}},
    {"HostPortRange",
     [](Pod& p) { app(p).ports[0].host_port = -1; },
     {"spec.containers[0].ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, "
      "inclusive"}},
    {"Protocol",
     [](Pod& p) { app(p).ports[0].protocol = "HTTP"; },
     {"spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: "
      "\"SCTP\", \"TCP\", "
      "\"UDP\""}},
    {"PortNameRules",
     [](Pod& p) { app(p).ports[0].name = "-Web--Server-Port-"; },
     {"spec.containers[0].ports[0].name: Invalid value: \"-Web--Server-Port-\": must be no more "
      "than 15 characters",
      "spec.containers[0].ports[0].name: Invalid value: \"-Web--Server-Port-\": must contain only "
      "alpha-numeric "
      "characters (a-z, 0-9), and hyphens (-)",
      "spec.containers[0].ports[0].name: Invalid value: \"-Web--Server-Port-\": must not contain "
      "consecutive "
      "hyphens (-)",
      "spec.containers[0].ports[0].name: Invalid value: \"-Web--Server-Port-\": must not begin or "
      "end with a "
      "hyphen (-)"}},
    {"DuplicatePortName",
     [](Pod& p) { app(p).ports.push_back(ContainerPort{.name = "http", .container_port = 81}); },
     {"spec.containers[0].ports[1].name: Duplicate value: \"http\""}},
    {"SamePortTwoContainers",
     [](Pod& p) {
       Container other = container("other");
       other.ports.push_back(ContainerPort{.container_port = 80});
       p.spec.containers.push_back(other);
     },
     {"spec.containers[1].ports[0].containerPort: Duplicate value: \"TCP/80\""}},
    {"SamePortOtherProtocol",
     [](Pod& p) {
       Container other = container("other");
       other.ports.push_back(ContainerPort{.container_port = 80, .protocol = "UDP"});
       p.spec.containers.push_back(other);
     },
     {}},
    {"SidecarPortClashes",
     [](Pod& p) {
       Container side = container("side");
       side.restart_policy = "Always";
       side.ports.push_back(ContainerPort{.container_port = 80});
       p.spec.init_containers.push_back(side);
     },
     {"spec.containers[0].ports[0].containerPort: Duplicate value: \"TCP/80\""}},
    {"RegularInitMayReusePort",
     [](Pod& p) {
       Container init = container("init");
       init.ports.push_back(ContainerPort{.container_port = 80});
       p.spec.init_containers.push_back(init);
     },
     {}},
    {"DuplicateHostPort",
     [](Pod& p) {
       app(p).ports[0].host_port = 8080;
       Container other = container("other");
       other.ports.push_back(ContainerPort{.container_port = 81, .host_port = 8080});
       p.spec.containers.push_back(other);
     },
     {"spec.containers[1].ports[0].hostPort: Duplicate value: \"/TCP/8080\""}},
    {"HostNetworkPortMismatch",
     [](Pod& p) {
       p.spec.host_network = true;
       app(p).ports[0].host_port = 8080;
     },
     {"spec.containers[0].ports[0].containerPort: Invalid value: 80: must match `hostPort` when "
      "`hostNetwork` is "
      "true"}},
    {"HostNetworkDefaultsHostPort", [](Pod& p) { p.spec.host_network = true; }, {}},
};
INSTANTIATE_TEST_SUITE_P(ValidationPorts, ValidationCaseTest, testing::ValuesIn(kPortCases),
                         [](const auto& info) { return std::string(info.param.name); });

const Case kResourceCases[] = {
    {"RequestAboveLimit",
     [](Pod& p) {
       app(p).resources.requests["cpu"] = q("2");
       app(p).resources.limits["cpu"] = q("1");
     },
     {"spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to "
      "cpu limit of 1"}},
    {"MemoryRequestAboveLimit",
     [](Pod& p) {
       app(p).resources.requests["memory"] = q("256Mi");
       app(p).resources.limits["memory"] = q("128Mi");
     },
     {"spec.containers[0].resources.requests: Invalid value: \"256Mi\": must be less than or equal "
      "to memory limit "
      "of 128Mi"}},
    {"LimitOnlyIsFine", [](Pod& p) { app(p).resources.limits["memory"] = q("128Mi"); }, {}},
    {"Negative",
     [](Pod& p) { app(p).resources.limits["memory"] = q("-1Gi"); },
     // Defaulting copies the limit into the request, which is negative too.
     {"spec.containers[0].resources.limits[memory]: Invalid value: \"-1Gi\": must be greater than "
      "or equal to 0",
      "spec.containers[0].resources.requests[memory]: Invalid value: \"-1Gi\": must be greater "
      "than or equal to 0"}},
    {"UnknownName",
     [](Pod& p) { app(p).resources.limits["gpu"] = q("1"); },
     {"spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard "
      "resource type or fully "
      "qualified",
      "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard "
      "resource for containers",
      "spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard "
      "resource type or "
      "fully qualified",
      "spec.containers[0].resources.requests[gpu]: Invalid value: \"gpu\": must be a standard "
      "resource for "
      "containers"}},
    {"ExtendedNeedsLimit",
     [](Pod& p) { app(p).resources.requests["example.com/gpu"] = q("1"); },
     {"spec.containers[0].resources.limits: Required value: Limit must be set for non "
      "overcommitable resources"}},
    {"ExtendedEqual",
     [](Pod& p) {
       app(p).resources.requests["example.com/gpu"] = q("1");
       app(p).resources.limits["example.com/gpu"] = q("2");
     },
     {"spec.containers[0].resources.requests: Invalid value: \"1\": must be equal to "
      "example.com/gpu limit of 2"}},
    {"ExtendedInteger",
     [](Pod& p) { app(p).resources.limits["example.com/gpu"] = q("500m"); },
     {"spec.containers[0].resources.limits[example.com/gpu]: Invalid value: \"500m\": must be an "
      "integer",
      "spec.containers[0].resources.requests[example.com/gpu]: Invalid value: \"500m\": must be an "
      "integer"}},
    {"HugePagesNeedCpuOrMemory",
     [](Pod& p) { app(p).resources.limits["hugepages-2Mi"] = q("4Mi"); },
     {"spec.containers[0].resources: Forbidden: HugePages require cpu or memory"}},
    {"HugePagesWithMemory",
     [](Pod& p) {
       app(p).resources.limits["hugepages-2Mi"] = q("4Mi");
       app(p).resources.limits["memory"] = q("64Mi");
       app(p).resources.limits["ephemeral-storage"] = q("1Gi");
     },
     {}},
};
INSTANTIATE_TEST_SUITE_P(ValidationResources, ValidationCaseTest, testing::ValuesIn(kResourceCases),
                         [](const auto& info) { return std::string(info.param.name); });

EnvVar field_env(const char* name, const char* path) {
  EnvVar ev{.name = name};
  ev.value_from = EnvVarSource{.field_ref = ObjectFieldSelector{.field_path = path}};
  return ev;
}

const std::string kEnvNameMsg =
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or "
    "'.', and must "
    "not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used "
    "for validation "
    "is '[-._a-zA-Z][-._a-zA-Z0-9]*')";

const Case kEnvCases[] = {
    {"GoodEnv",
     [](Pod& p) {
       auto& env = app(p).env;
       env.push_back(EnvVar{.name = "my.env-name", .value = "x"});
       for (const char* path :
            {"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels['app']",
             "metadata.annotations['Example.com/Key']", "spec.nodeName", "spec.serviceAccountName",
             "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"})
         env.push_back(field_env("F", path));
       EnvVar limits{.name = "CPU"};
       limits.value_from =
           EnvVarSource{.resource_field_ref = ResourceFieldSelector{.resource = "limits.cpu"}};
       env.push_back(limits);
       app(p).env_from.push_back(
           EnvFromSource{.prefix = "CFG_", .config_map_ref = KeySelector{.name = "cfg"}});
     },
     {}},
    {"BadName",
     [](Pod& p) { app(p).env.push_back(EnvVar{.name = "1ABC", .value = "x"}); },
     {"spec.containers[0].env[0].name: Invalid value: \"1ABC\": " + kEnvNameMsg}},
    {"EmptyName",
     [](Pod& p) { app(p).env.push_back(EnvVar{.value = "x"}); },
     {"spec.containers[0].env[0].name: Required value",
      "spec.containers[0].env[0].name: Invalid value: \"\": " + kEnvNameMsg}},
    {"DotDot",
     [](Pod& p) { app(p).env.push_back(EnvVar{.name = "..", .value = "x"}); },
     {"spec.containers[0].env[0].name: Invalid value: \"..\": must not be '..'"}},
    {"ValueAndValueFrom",
     [](Pod& p) {
       EnvVar ev = field_env("A", "metadata.name");
       ev.value = "x";
       app(p).env.push_back(ev);
     },
     {"spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not be specified when `value` "
      "is not empty"}},
    {"NoSource",
     [](Pod& p) {
       EnvVar ev{.name = "A"};
       ev.value_from = EnvVarSource{};
       app(p).env.push_back(ev);
     },
     {"spec.containers[0].env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, "
      "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"}},
    {"TwoSources",
     [](Pod& p) {
       EnvVar ev = field_env("A", "metadata.name");
       ev.value_from->secret_key_ref = KeySelector{.name = "s", .key = "k"};
       app(p).env.push_back(ev);
     },
     {"spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not have more than one field "
      "specified at a "
      "time"}},
    {"UnsupportedFieldPath",
     [](Pod& p) { app(p).env.push_back(field_env("A", "status.phase")); },
     {"spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "
      "\"status.phase\": supported "
      "values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", "
      "\"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", "
      "\"status.podIPs\""}},
    {"SubscriptNotSupported",
     [](Pod& p) { app(p).env.push_back(field_env("A", "spec.nodeName['x']")); },
     {"spec.containers[0].env[0].valueFrom.fieldRef: Invalid value: \"spec.nodeName\": does not "
      "support "
      "subscript"}},
    {"ResourceFieldRef",
     [](Pod& p) {
       EnvVar ev{.name = "A"};
       ev.value_from =
           EnvVarSource{.resource_field_ref = ResourceFieldSelector{.resource = "limits.gpu"}};
       EnvVar div{.name = "B"};
       div.value_from = EnvVarSource{.resource_field_ref = ResourceFieldSelector{
                                         .resource = "requests.cpu", .divisor = q("10m")}};
       app(p).env = {ev, div};
     },
     {"spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value: "
      "\"limits.gpu\": "
      "supported values: \"limits.cpu\", \"limits.ephemeral-storage\", \"limits.memory\", "
      "\"requests.cpu\", "
      "\"requests.ephemeral-storage\", \"requests.memory\"",
      "spec.containers[0].env[1].valueFrom.resourceFieldRef.divisor: Invalid value: \"10m\": only "
      "divisor's values "
      "1m and 1 are supported with the cpu resource"}},
    {"KeyRef",
     [](Pod& p) {
       EnvVar ev{.name = "A"};
       ev.value_from = EnvVarSource{.config_map_key_ref = KeySelector{.name = "cfg"}};
       app(p).env.push_back(ev);
     },
     {"spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value"}},
    {"EnvFrom",
     [](Pod& p) { app(p).env_from.push_back(EnvFromSource{.prefix = "1X"}); },
     {"spec.containers[0].envFrom[0].prefix: Invalid value: \"1X\": " + kEnvNameMsg,
      "spec.containers[0].envFrom: Invalid value: \"\": must specify one of: `configMapRef` or "
      "`secretRef`"}},
};
INSTANTIATE_TEST_SUITE_P(ValidationEnv, ValidationCaseTest, testing::ValuesIn(kEnvCases),
                         [](const auto& info) { return std::string(info.param.name); });

Volume volume(const char* name) { return Volume{.name = name}; }

const Case kVolumeCases[] = {
    {"DuplicateName",
     [](Pod& p) { p.spec.volumes.push_back(volume("data")); },
     {"spec.volumes[1].name: Duplicate value: \"data\""}},
    {"BadName",
     [](Pod& p) { p.spec.volumes.push_back(volume("Data")); },
     {"spec.volumes[1].name: Invalid value: \"Data\": a lowercase RFC 1123 label must consist of "
      "lower case "
      "alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. "
      "'my-name',  or "
      "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"}},
    {"TwoSources",
     [](Pod& p) { p.spec.volumes[0].host_path = HostPathVolumeSource{.path = "/srv"}; },
     {"spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"}},
    {"Unsupported",
     [](Pod& p) {
       Volume v = volume("claim");
       v.unsupported_sources = {"persistentVolumeClaim"};
       p.spec.volumes.push_back(v);
     },
     {"spec.volumes[1].persistentVolumeClaim: Forbidden: podagent supports only emptyDir, "
      "hostPath, configMap, "
      "secret, downwardAPI and projected volumes"}},
    {"NoSourceUndefaulted",
     [](Pod& p) { p.spec.volumes[0].empty_dir.reset(); },
     {"spec.volumes[0]: Required value: must specify a volume type"},
     false},
    {"EmptyDir",
     [](Pod& p) {
       p.spec.volumes[0].empty_dir->medium = "HugePages";
       p.spec.volumes[0].empty_dir->size_limit = q("-1Mi");
     },
     {"spec.volumes[0].emptyDir.medium: Unsupported value: \"HugePages\": supported values: \"\", "
      "\"Memory\"",
      "spec.volumes[0].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource "
      "quantity"}},
    {"MemoryEmptyDir",
     [](Pod& p) {
       p.spec.volumes[0].empty_dir =
           EmptyDirVolumeSource{.medium = "Memory", .size_limit = q("64Mi")};
     },
     {}},
    {"HostPath",
     [](Pod& p) {
       Volume a = volume("a"), b = volume("b"), c = volume("c");
       a.host_path = HostPathVolumeSource{.path = "relative/dir"};
       b.host_path = HostPathVolumeSource{.path = "/srv/../etc", .type = "Dir"};
       c.host_path = HostPathVolumeSource{};
       p.spec.volumes = {a, b, c};
       app(p).volume_mounts.clear();
     },
     {"spec.volumes[0].hostPath.path: Invalid value: \"relative/dir\": must be an absolute path",
      "spec.volumes[1].hostPath.path: Invalid value: \"/srv/../etc\": must not contain '..'",
      "spec.volumes[1].hostPath.type: Unsupported value: \"Dir\": supported values: \"\", "
      "\"BlockDevice\", "
      "\"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", "
      "\"Socket\"",
      "spec.volumes[2].hostPath.path: Required value"}},
    {"ConfigMapAndSecret",
     [](Pod& p) {
       Volume cm = volume("cm"), secret = volume("secret");
       cm.config_map = ObjectVolumeSource{.default_mode = 01000};
       cm.config_map->items = {KeyToPath{.key = "a", .path = "../a"},
                               KeyToPath{.path = "/abs", .mode = -1},
                               KeyToPath{.key = "c", .path = "..c"}};
       secret.secret = ObjectVolumeSource{};
       p.spec.volumes.push_back(cm);
       p.spec.volumes.push_back(secret);
     },
     {"spec.volumes[1].configMap.name: Required value",
      "spec.volumes[1].configMap.defaultMode: Invalid value: 512: must be a number between 0 and "
      "0777 (octal), both "
      "inclusive",
      "spec.volumes[1].configMap.items[0].path: Invalid value: \"../a\": must not contain '..'",
      "spec.volumes[1].configMap.items[1].key: Required value",
      "spec.volumes[1].configMap.items[1].path: Invalid value: \"/abs\": must be a relative path",
      "spec.volumes[1].configMap.items[1].mode: Invalid value: -1: must be a number between 0 and "
      "0777 (octal), "
      "both inclusive",
      "spec.volumes[1].configMap.items[2].path: Invalid value: \"..c\": must not start with '..'",
      "spec.volumes[2].secret.secretName: Required value"}},
    {"DownwardApi",
     [](Pod& p) {
       Volume v = volume("info");
       v.downward_api = DownwardApiVolumeSource{};
       v.downward_api->items = {
           DownwardApiVolumeFile{.path = "labels",
                                 .field_ref = ObjectFieldSelector{.field_path = "metadata.labels"}},
           DownwardApiVolumeFile{.path = "ip",
                                 .field_ref = ObjectFieldSelector{.field_path = "status.podIP"}},
           DownwardApiVolumeFile{
               .path = "cpu",
               .resource_field_ref = ResourceFieldSelector{.resource = "limits.cpu"}},
           DownwardApiVolumeFile{.path = "none"}};
       p.spec.volumes.push_back(v);
     },
     {"spec.volumes[1].downwardAPI.items[1].fieldRef.fieldPath: Unsupported value: "
      "\"status.podIP\": supported "
      "values: \"metadata.annotations\", \"metadata.labels\", \"metadata.name\", "
      "\"metadata.namespace\", "
      "\"metadata.uid\"",
      "spec.volumes[1].downwardAPI.items[2].resourceFieldRef.containerName: Required value",
      "spec.volumes[1].downwardAPI.items[3]: Required value: one of fieldRef and resourceFieldRef "
      "is required"}},
    {"Projected",
     [](Pod& p) {
       Volume v = volume("all");
       v.projected = ProjectedVolumeSource{};
       VolumeProjection both;
       both.config_map = ObjectVolumeSource{.name = "cfg"};
       both.secret = ObjectVolumeSource{.name = "s"};
       VolumeProjection token;
       token.service_account_token = ServiceAccountTokenProjection{.path = "token"};
       v.projected->sources = {both, token, VolumeProjection{}};
       p.spec.volumes.push_back(v);
     },
     {"spec.volumes[1].projected.sources[0].configMap: Forbidden: may not specify more than 1 "
      "volume type",
      "spec.volumes[1].projected.sources[2]: Required value: must specify exactly 1 volume type"}},
};
INSTANTIATE_TEST_SUITE_P(ValidationVolumes, ValidationCaseTest, testing::ValuesIn(kVolumeCases),
                         [](const auto& info) { return std::string(info.param.name); });

VolumeMount mount(const char* name, const char* path) {
  return VolumeMount{.name = name, .mount_path = path};
}

const Case kMountCases[] = {
    {"UnknownVolume",
     [](Pod& p) { app(p).volume_mounts[0].name = "cache"; },
     {"spec.containers[0].volumeMounts[0].name: Not found: \"cache\""}},
    {"MountPath",
     [](Pod& p) {
       app(p).volume_mounts = {mount("data", ""), mount("data", "rel"), mount("data", "/x"),
                               mount("data", "/x")};
     },
     {"spec.containers[0].volumeMounts[0].mountPath: Required value",
      "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"rel\": must be an absolute "
      "path",
      "spec.containers[0].volumeMounts[3].mountPath: Invalid value: \"/x\": must be unique"}},
    {"SubPath",
     [](Pod& p) {
       VolumeMount a = mount("data", "/a"), b = mount("data", "/b"), c = mount("data", "/c");
       a.sub_path = "../escape";
       b.sub_path = "/abs";
       c.sub_path = "ok/dir";
       c.sub_path_expr = "$(POD_NAME)";
       app(p).volume_mounts = {a, b, c};
     },
     {"spec.containers[0].volumeMounts[0].subPath: Invalid value: \"../escape\": must not contain "
      "'..'",
      "spec.containers[0].volumeMounts[1].subPath: Invalid value: \"/abs\": must be a relative "
      "path",
      "spec.containers[0].volumeMounts[2].subPathExpr: Invalid value: \"$(POD_NAME)\": subPathExpr "
      "and subPath are "
      "mutually exclusive"}},
    {"Propagation",
     [](Pod& p) {
       VolumeMount a = mount("data", "/a"), b = mount("data", "/b");
       a.mount_propagation = "Shared";
       b.mount_propagation = "Bidirectional";
       app(p).volume_mounts = {a, b};
     },
     {"spec.containers[0].volumeMounts[0].mountPropagation: Unsupported value: \"Shared\": "
      "supported values: "
      "\"Bidirectional\", \"HostToContainer\", \"None\"",
      "spec.containers[0].volumeMounts[1].mountPropagation: Forbidden: Bidirectional mount "
      "propagation is "
      "available only to privileged containers"}},
    {"BidirectionalWhenPrivileged",
     [](Pod& p) {
       app(p).volume_mounts[0].mount_propagation = "Bidirectional";
       app(p).security_context = SecurityContext{.privileged = true};
     },
     {}},
};
INSTANTIATE_TEST_SUITE_P(ValidationMounts, ValidationCaseTest, testing::ValuesIn(kMountCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace podagent::model
