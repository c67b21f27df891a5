// Validation of pod-level fields, ephemeral containers and security contexts,
// many errors at once, and the test manifests decoded, defaulted and validated.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "model/pod_codec.h"
#include "tests/model/pod_builder.h"

namespace podagent::model {
namespace {

using namespace testing_pods;
using testing::IsEmpty;
using testing::UnorderedElementsAreArray;

const Case kPodCases[] = {
    {"CrashloopAnnotationWithoutUnit",
     [](Pod& p) { p.metadata.annotations["podagent.io/crashloop-max"] = "10"; },
     {"metadata.annotations[podagent.io/crashloop-max]: Invalid value: \"10\": invalid duration "
      "\"10\": missing unit (one of ns, us, ms, s, m, h)"}},
    {"CrashloopAnnotationNotPositive",
     [](Pod& p) { p.metadata.annotations["podagent.io/crashloop-initial"] = "0s"; },
     {"metadata.annotations[podagent.io/crashloop-initial]: Invalid value: \"0s\": must be a "
      "positive duration"}},
    {"GracePeriod",
     [](Pod& p) { p.spec.termination_grace_period_seconds = -1; },
     {"spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"}},
    {"ActiveDeadline",
     [](Pod& p) { p.spec.active_deadline_seconds = 0; },
     {"spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"}},
    {"DnsPolicy",
     [](Pod& p) { p.spec.dns_policy = "Cluster"; },
     {"spec.dnsPolicy: Unsupported value: \"Cluster\": supported values: "
      "\"ClusterFirstWithHostNet\", "
      "\"ClusterFirst\", \"Default\", \"None\""}},
    {"DnsNoneWithoutConfig",
     [](Pod& p) { p.spec.dns_policy = "None"; },
     {"spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"}},
    {"DnsNoneWithoutNameservers",
     [](Pod& p) {
       p.spec.dns_policy = "None";
       p.spec.dns_config = PodDnsConfig{.searches = {"svc.local"}};
     },
     {"spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when "
      "`dnsPolicy` is "
      "None"}},
    {"DnsConfig",
     [](Pod& p) {
       p.spec.dns_policy = "None";
       p.spec.dns_config = PodDnsConfig{.nameservers = {"1.1.1.1", "8.8.8.8", "::1", "dns.local"},
                                        .searches = {"ok.local.", "Bad_Domain"},
                                        .options = {PodDnsConfigOption{}}};
     },
     {"spec.dnsConfig.nameservers: Invalid value: []string{\"1.1.1.1\", \"8.8.8.8\", \"::1\", "
      "\"dns.local\"}: must "
      "not have more than 3 nameservers",
      "spec.dnsConfig.nameservers[3]: Invalid value: \"dns.local\": must be a valid IP address, "
      "(e.g. 10.9.8.7 or "
      "2001:db8::ffff)",
      "spec.dnsConfig.searches[1]: Invalid value: \"Bad_Domain\": a lowercase RFC 1123 subdomain "
      "must consist of "
      "lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
      "character (e.g. "
      "'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      "spec.dnsConfig.options[0]: Required value: must not be empty"}},
    {"TooManySearches",
     [](Pod& p) {
       p.spec.dns_config = PodDnsConfig{.searches = std::vector<std::string>(33, "a.local")};
     },
     {"spec.dnsConfig.searches: Invalid value: []string{" +
      [] {
        std::string list;
        for (int i = 0; i < 33; ++i) list += std::string(i ? ", " : "") + "\"a.local\"";
        return list;
      }() +
      "}: must not have more than 32 search paths"}},
    {"HostAliases",
     [](Pod& p) {
       p.spec.host_aliases = {HostAlias{.ip = "10.0.0.300", .hostnames = {"db.local", "DB"}}};
     },
     {"spec.hostAliases[0].ip: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. "
      "10.9.8.7 or "
      "2001:db8::ffff)",
      "spec.hostAliases[0].hostnames[1]: Invalid value: \"DB\": a lowercase RFC 1123 subdomain "
      "must consist of "
      "lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
      "character (e.g. "
      "'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}},
    {"HostnameAndSubdomain",
     [](Pod& p) {
       p.spec.hostname = "web.1";
       p.spec.subdomain = "svc";
     },
     {"spec.hostname: Invalid value: \"web.1\": a lowercase RFC 1123 label must consist of lower "
      "case alphanumeric "
      "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
      "or '123-abc', "
      "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"}},
    {"ReadinessGate",
     [](Pod& p) {
       p.spec.readiness_gates = {PodReadinessGate{"example.com/ready"},
                                 PodReadinessGate{"bad gate"}};
     },
     {"spec.readinessGates[1].conditionType: Invalid value: \"bad gate\": name part must consist "
      "of alphanumeric "
      "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
      "'MyName',  or "
      "'my.name',  or '123-abc', regex used for validation is "
      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"}},
    {"ShareProcessNamespaceWithHostPid",
     [](Pod& p) {
       p.spec.share_process_namespace = true;
       p.spec.host_pid = true;
     },
     {"spec.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot "
      "both be enabled"}},
    {"PodSecurityContext",
     [](Pod& p) {
       p.spec.security_context->run_as_user = -1;
       p.spec.security_context->run_as_group = 2147483648;
       p.spec.security_context->supplemental_groups = {0, -2};
       p.spec.security_context->sysctls = {Sysctl{"net.core.somaxconn", "1024"},
                                           Sysctl{"Net.Bad", "1"},
                                           Sysctl{"net.core.somaxconn", "2048"}, Sysctl{"", "1"}};
     },
     {"spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, "
      "inclusive",
      "spec.securityContext.runAsGroup: Invalid value: 2147483648: must be between 0 and "
      "2147483647, inclusive",
      "spec.securityContext.supplementalGroups[1]: Invalid value: -2: must be between 0 and "
      "2147483647, inclusive",
      "spec.securityContext.sysctls[1].name: Invalid value: \"Net.Bad\": must have at most 253 "
      "characters and "
      "match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$",
      "spec.securityContext.sysctls[2].name: Duplicate value: \"net.core.somaxconn\"",
      "spec.securityContext.sysctls[3].name: Required value"}},
    {"ContainerSecurityContext",
     [](Pod& p) {
       SecurityContext sc{.privileged = true,
                          .run_as_user = -5,
                          .allow_privilege_escalation = false,
                          .proc_mount = "Masked"};
       sc.capabilities = Capabilities{.add = {"NET_ADMIN", "cap_sys_time", "FLY"}, .drop = {"ALL"}};
       app(p).security_context = sc;
     },
     {"spec.containers[0].securityContext.runAsUser: Invalid value: -5: must be between 0 and "
      "2147483647, "
      "inclusive",
      "spec.containers[0].securityContext: Invalid value: cannot set `allowPrivilegeEscalation` to "
      "false and "
      "`privileged` to true",
      "spec.containers[0].securityContext.procMount: Unsupported value: \"Masked\": supported "
      "values: \"Default\", "
      "\"Unmasked\"",
      "spec.containers[0].securityContext.capabilities.add[2]: Invalid value: \"FLY\": must be a "
      "Linux capability "
      "name such as NET_ADMIN or CAP_NET_ADMIN, or ALL"}},
    {"NodeSelectorAndServiceAccount",
     [](Pod& p) {
       p.spec.node_selector = {{"kubernetes.io/os", "linux"}, {"disk", "ssd!"}};
       p.spec.service_account_name = "Builder";
     },
     {"spec.nodeSelector: Invalid value: \"ssd!\": a valid label must be an empty string or "
      "consist of "
      "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
      "character (e.g. "
      "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
      "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      "spec.serviceAccountName: Invalid value: \"Builder\": a lowercase RFC 1123 subdomain must "
      "consist of lower "
      "case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
      "character (e.g. "
      "'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"}},
};
INSTANTIATE_TEST_SUITE_P(ValidationPod, ValidationCaseTest, testing::ValuesIn(kPodCases),
                         [](const auto& info) { return std::string(info.param.name); });

Container debug_container(const char* target) {
  Container c = container("debug", "busybox:1.36");
  c.target_container_name = target;
  return c;
}

const Case kEphemeralCases[] = {
    {"TargetsApp",
     [](Pod& p) { p.spec.ephemeral_containers.push_back(debug_container("app")); },
     {}},
    {"TargetsInit",
     [](Pod& p) {
       p.spec.init_containers.push_back(container("init"));
       p.spec.ephemeral_containers.push_back(debug_container("init"));
     },
     {}},
    {"UnknownTarget",
     [](Pod& p) { p.spec.ephemeral_containers.push_back(debug_container("db")); },
     {"spec.ephemeralContainers[0].targetContainerName: Not found: \"db\""}},
    {"NoImageAndDuplicateName",
     [](Pod& p) {
       Container c = debug_container("");
       c.name = "app";
       c.image.clear();
       p.spec.ephemeral_containers.push_back(c);
     },
     {"spec.ephemeralContainers[0].name: Duplicate value: \"app\"",
      "spec.ephemeralContainers[0].image: Required value"}},
    {"ForbiddenFields",
     [](Pod& p) {
       Container c = debug_container("app");
       c.ports.push_back(ContainerPort{.container_port = 9000});
       c.liveness_probe = c.readiness_probe = c.startup_probe = tcp_probe({int64_t{9000}});
       c.lifecycle = Lifecycle{.pre_stop = Handler{.exec = ExecAction{{"true"}}}};
       c.resources.limits["cpu"] = q("1");
       c.volume_mounts.push_back(
           VolumeMount{.name = "data", .mount_path = "/data", .sub_path = "x"});
       p.spec.ephemeral_containers.push_back(c);
     },
     {"spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
      "spec.ephemeralContainers[0].livenessProbe: Forbidden: cannot be set for an Ephemeral "
      "Container",
      "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral "
      "Container",
      "spec.ephemeralContainers[0].startupProbe: Forbidden: cannot be set for an Ephemeral "
      "Container",
      "spec.ephemeralContainers[0].lifecycle: Forbidden: cannot be set for an Ephemeral Container",
      "spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container",
      "spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an "
      "Ephemeral Container"}},
};
INSTANTIATE_TEST_SUITE_P(ValidationEphemeral, ValidationCaseTest,
                         testing::ValuesIn(kEphemeralCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ValidationPodTest, ReportsEveryErrorAtOnce) {
  Pod pod = valid_pod();
  pod.metadata.name = "";
  pod.spec.restart_policy = "Sometimes";
  pod.spec.init_containers.push_back(container("init", ""));
  pod.spec.containers.push_back(container("app"));
  app(pod).ports[0].container_port = 70000;
  app(pod).volume_mounts[0].name = "cache";
  pod.spec.volumes.push_back(Volume{.name = "data"});
  apply_defaults(pod);
  auto errors = validate_pod(pod);
  std::vector<std::string> texts;
  for (const auto& e : errors) texts.push_back(e.to_string());
  EXPECT_THAT(
      texts,
      UnorderedElementsAreArray({
          "metadata.name: Required value: name or generateName is required",
          "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
          "\"OnFailure\", \"Never\"",
          "spec.initContainers[0].image: Required value",
          "spec.containers[1].name: Duplicate value: \"app\"",
          "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
          "65535, inclusive",
          "spec.containers[0].volumeMounts[0].name: Not found: \"cache\"",
          "spec.volumes[1].name: Duplicate value: \"data\"",
      }));
  // Each error carries its field path apart from the text.
  ASSERT_FALSE(errors.empty());
  for (const auto& e : errors)
    EXPECT_TRUE(e.to_string().starts_with(e.field + ": ")) << e.to_string();
}

std::string read_manifest(const std::string& name) {
  std::ifstream in(std::string(PODAGENT_TEST_DATA) + "/manifests/" + name);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(in.good() || in.eof()) << name;
  return text.str();
}

// Decodes, defaults and validates every pod of a manifest; returns the
// decoding and validation errors as text.
std::vector<std::string> check_manifest(const std::string& name, size_t* pods = nullptr) {
  DecodeResult decoded = decode_pods(read_manifest(name));
  std::vector<std::string> texts;
  for (const auto& e : decoded.errors) texts.push_back(e.to_string());
  for (auto& d : decoded.pods) {
    for (const auto& e : d.errors) texts.push_back(e.to_string());
    apply_defaults(d.pod);
    for (const auto& e : validate_pod(d.pod)) texts.push_back(e.to_string());
  }
  if (pods) *pods = decoded.pods.size();
  return texts;
}

class ValidationManifestTest : public testing::TestWithParam<const char*> {};

TEST_P(ValidationManifestTest, DecodesDefaultsAndValidatesCleanly) {
  size_t pods = 0;
  EXPECT_THAT(check_manifest(GetParam(), &pods), IsEmpty());
  EXPECT_GE(pods, 1u);
}

INSTANTIATE_TEST_SUITE_P(ValidationValid, ValidationManifestTest,
                         testing::Values("hello.yaml", "shared-hostpath.yaml",
                                         "init-copy-serve.yaml", "init-fetch.yaml", "sidecar.yaml",
                                         "probes-hooks.yaml", "multi.yaml", "list.yaml",
                                         "pod.json"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

TEST(ValidationManifestTest, InvalidManyReportsEveryError) {
  auto texts = check_manifest("invalid-many.yaml");
  for (const char* expected : {
           "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
           "\"OnFailure\", "
           "\"Never\"",
           "spec.volumes[0].hostPath.path: Invalid value: \"relative/dir\": must be an absolute "
           "path",
           "spec.initContainers[0].image: Required value",
           "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
           "65535, inclusive",
           "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or "
           "equal to cpu limit of 1",
           "spec.containers[0].volumeMounts[0].name: Not found: \"missing\"",
           "spec.containers[0].volumeMounts[1].subPath: Invalid value: \"../escape\": must not "
           "contain '..'",
           "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 "
           "handler type",
           "spec.containers[1].name: Duplicate value: \"app\"",
       })
    EXPECT_THAT(texts, testing::Contains(std::string(expected)));
  // Plus the one decoding error, for the malformed memory limit.
  EXPECT_EQ(texts.size(), 10u) << testing::PrintToString(texts);
}

}  // namespace
}  // namespace podagent::model
