#include "model/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/defaults.h"
#include "tests/model/pod_builder.h"

namespace podagent::model {
namespace {

using namespace testing_pods;
using testing::IsEmpty;
using testing::UnorderedElementsAreArray;

const std::string kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
    "is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const std::string kLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const std::string kInitForbidden =
    "Forbidden: may not be set for init containers without restartPolicy=Always";

TEST(ValidationTest, ValidPodHasNoErrors) { EXPECT_THAT(errors_of(valid_pod()), IsEmpty()); }

TEST(ValidationTest, Dns1123Names) {
  EXPECT_THAT(validate_dns1123_label("my-name", "f"), IsEmpty());
  EXPECT_THAT(validate_dns1123_label("123-abc", "f"), IsEmpty());
  EXPECT_THAT(validate_dns1123_subdomain("example.com", "f"), IsEmpty());
  auto errs = validate_dns1123_label("my.name", "spec.hostname");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].to_string(), "spec.hostname: Invalid value: \"my.name\": " + kLabelMsg);
  for (const char* bad : {"", "-a", "a-", "A", "a_b"})
    EXPECT_EQ(validate_dns1123_label(bad, "f").size(), 1u) << bad;
  for (const char* bad : {"", ".a", "a.", "a..b", "Example.com", "a_b.c"})
    EXPECT_EQ(validate_dns1123_subdomain(bad, "f").size(), 1u) << bad;
  auto too_long = validate_dns1123_label(std::string(64, 'a'), "f");
  ASSERT_EQ(too_long.size(), 1u);
  EXPECT_EQ(too_long[0].detail, "must be no more than 63 characters");
  EXPECT_THAT(validate_dns1123_label(std::string(63, 'a'), "f"), IsEmpty());
  EXPECT_EQ(validate_dns1123_subdomain(std::string(254, 'a'), "f").at(0).detail,
            "must be no more than 253 characters");
  EXPECT_THAT(validate_dns1123_subdomain(std::string(253, 'a'), "f"), IsEmpty());
}

TEST_P(ValidationCaseTest, ReportsExactlyTheseErrors) {
  Pod pod = valid_pod();
  GetParam().mutate(pod);
  if (GetParam().redefault) apply_defaults(pod);
  EXPECT_THAT(errors_of(pod), UnorderedElementsAreArray(GetParam().errors));
}

const Case kMetadataCases[] = {
    {"MissingName",
     [](Pod& p) { p.metadata.name.clear(); },
     {"metadata.name: Required value: name or generateName is required"}},
    {"BadName",
     [](Pod& p) { p.metadata.name = "Web_1"; },
     {"metadata.name: Invalid value: \"Web_1\": " + kSubdomainMsg}},
    {"DottedNameIsFine", [](Pod& p) { p.metadata.name = "web.example-1"; }, {}},
    {"BadNamespace",
     [](Pod& p) { p.metadata.namespace_ = "a.b"; },
     {"metadata.namespace: Invalid value: \"a.b\": " + kLabelMsg}},
    {"BadLabelKeyAndValue",
     [](Pod& p) {
       p.metadata.labels = {{"example.com/", "ok"}, {"tier", "-front"}};
     },
     {"metadata.labels: Invalid value: \"example.com/\": name part must be non-empty",
      "metadata.labels: Invalid value: \"example.com/\": name part must consist of alphanumeric "
      "characters, '-', "
      "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
      "'my.name',  or "
      "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      "metadata.labels: Invalid value: \"-front\": a valid label must be an empty string or "
      "consist of "
      "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
      "character (e.g. "
      "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
      "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"}},
    {"EmptyLabelValueIsFine", [](Pod& p) { p.metadata.labels["empty"] = ""; }, {}},
    {"LongLabelName",
     [](Pod& p) { p.metadata.labels[std::string(64, 'k')] = "v"; },
     {"metadata.labels: Invalid value: \"" + std::string(64, 'k') +
      "\": name part must be no more than 63 characters"}},
    {"AnnotationKeyPrefix",
     [](Pod& p) { p.metadata.annotations["Bad_Prefix/key"] = "v"; },
     {"metadata.annotations: Invalid value: \"Bad_Prefix/key\": prefix part " + kSubdomainMsg}},
};
INSTANTIATE_TEST_SUITE_P(ValidationMetadata, ValidationCaseTest, testing::ValuesIn(kMetadataCases),
                         [](const auto& info) { return std::string(info.param.name); });

const Case kContainerCases[] = {
    {"NoContainers",
     [](Pod& p) {
       p.spec.containers.clear();
       p.spec.volumes.clear();
     },
     {"spec.containers: Required value"}},
    {"InitWithoutImage",
     [](Pod& p) { p.spec.init_containers.push_back(container("init", "")); },
     {"spec.initContainers[0].image: Required value"}},
    {"DuplicateAppName",
     [](Pod& p) { p.spec.containers.push_back(container("app")); },
     {"spec.containers[1].name: Duplicate value: \"app\""}},
    {"AppNamedLikeInit",
     [](Pod& p) { p.spec.init_containers.push_back(container("app")); },
     {"spec.containers[0].name: Duplicate value: \"app\""}},
    {"BadContainerName",
     [](Pod& p) { app(p).name = "App"; },
     {"spec.containers[0].name: Invalid value: \"App\": " + kLabelMsg}},
    {"ImageWhitespace",
     [](Pod& p) { app(p).image = "nginx "; },
     {"spec.containers[0].image: Invalid value: \"nginx \": must not have leading or trailing "
      "whitespace"}},
    {"PullPolicy",
     [](Pod& p) { app(p).image_pull_policy = "Sometimes"; },
     {"spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: "
      "\"Always\", "
      "\"IfNotPresent\", \"Never\""}},
    {"PodRestartPolicy",
     [](Pod& p) { p.spec.restart_policy = "Sometimes"; },
     {"spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
      "\"OnFailure\", "
      "\"Never\""}},
    {"InitRestartPolicy",
     [](Pod& p) {
       p.spec.init_containers.push_back(container("init"));
       p.spec.init_containers[0].restart_policy = "OnFailure";
     },
     {"spec.initContainers[0].restartPolicy: Unsupported value: \"OnFailure\": supported values: "
      "\"Always\""}},
    {"AppRestartPolicy",
     [](Pod& p) { app(p).restart_policy = "Always"; },
     {"spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"}},
    {"RegularInitProbesAndHooks",
     [](Pod& p) {
       Container init = container("init");
       init.liveness_probe = init.readiness_probe = init.startup_probe = tcp_probe({int64_t{80}});
       init.lifecycle = Lifecycle{.pre_stop = Handler{.exec = ExecAction{{"true"}}}};
       p.spec.init_containers.push_back(init);
     },
     {"spec.initContainers[0].lifecycle: " + kInitForbidden,
      "spec.initContainers[0].livenessProbe: " + kInitForbidden,
      "spec.initContainers[0].readinessProbe: " + kInitForbidden,
      "spec.initContainers[0].startupProbe: " + kInitForbidden}},
    {"SidecarProbesAndHooks",
     [](Pod& p) {
       Container side = container("side");
       side.restart_policy = "Always";
       side.ports.push_back(
           ContainerPort{.name = "metrics", .container_port = 9100, .protocol = "TCP"});
       side.readiness_probe = side.startup_probe = tcp_probe(port_name("metrics"));
       side.liveness_probe = tcp_probe(port_name("metrics"));
       side.lifecycle = Lifecycle{.pre_stop = Handler{.sleep = SleepAction{5}}};
       p.spec.init_containers.push_back(side);
     },
     {}},
    {"SidecarLivenessSuccessThreshold",
     [](Pod& p) {
       Container side = container("side");
       side.restart_policy = "Always";
       side.liveness_probe = tcp_probe({int64_t{80}});
       side.liveness_probe->success_threshold = 2;
       p.spec.init_containers.push_back(side);
     },
     {"spec.initContainers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"}},
    {"TerminationMessagePolicy",
     [](Pod& p) { app(p).termination_message_policy = "Log"; },
     {"spec.containers[0].terminationMessagePolicy: Unsupported value: \"Log\": supported values: "
      "\"File\", "
      "\"FallbackToLogsOnError\""}},
    {"UndefaultedFieldsAreRequired",
     [](Pod& p) {
       app(p).image_pull_policy.clear();
       app(p).termination_message_policy.clear();
       app(p).ports[0].protocol.clear();
       p.spec.restart_policy.clear();
       p.spec.dns_policy.clear();
     },
     {"spec.containers[0].imagePullPolicy: Required value",
      "spec.containers[0].terminationMessagePolicy: Required value: must be 'File' or "
      "'FallbackToLogsOnError'",
      "spec.containers[0].ports[0].protocol: Required value", "spec.restartPolicy: Required value",
      "spec.dnsPolicy: Required value"},
     false},
};
INSTANTIATE_TEST_SUITE_P(ValidationContainers, ValidationCaseTest,
                         testing::ValuesIn(kContainerCases),
                         [](const auto& info) { return std::string(info.param.name); });

const Case kProbeCases[] = {
    {"TwoHandlers",
     [](Pod& p) {
       app(p).liveness_probe = tcp_probe({int64_t{80}});
       app(p).liveness_probe->handler.exec = ExecAction{{"true"}};
     },
     {"spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler "
      "type"}},
    {"NoHandler",
     [](Pod& p) { app(p).readiness_probe = Probe{}; },
     {"spec.containers[0].readinessProbe: Required value: must specify a handler type"}},
    {"LivenessSuccessThreshold",
     [](Pod& p) {
       app(p).liveness_probe = tcp_probe({int64_t{80}});
       app(p).liveness_probe->success_threshold = 2;
     },
     {"spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"}},
    {"StartupSuccessThreshold",
     [](Pod& p) {
       app(p).startup_probe = tcp_probe({int64_t{80}});
       app(p).startup_probe->success_threshold = 3;
     },
     {"spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1"}},
    {"ReadinessSuccessThresholdIsFree",
     [](Pod& p) {
       app(p).readiness_probe = tcp_probe({int64_t{80}});
       app(p).readiness_probe->success_threshold = 3;
     },
     {}},
    {"NegativeTimings",
     [](Pod& p) {
       Probe probe = tcp_probe(port_name("http"));
       probe.initial_delay_seconds = -1;
       probe.period_seconds = -5;
       probe.failure_threshold = -1;
       app(p).readiness_probe = probe;
     },
     {"spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater "
      "than or equal to 0",
      "spec.containers[0].readinessProbe.periodSeconds: Invalid value: -5: must be greater than or "
      "equal to 0",
      "spec.containers[0].readinessProbe.failureThreshold: Invalid value: -1: must be greater than "
      "or equal to 0"}},
    {"UndefaultedZeroPeriod",
     [](Pod& p) {
       app(p).readiness_probe = tcp_probe({int64_t{80}});
       app(p).readiness_probe->period_seconds = 0;
     },
     {"spec.containers[0].readinessProbe.periodSeconds: Invalid value: 0: must be greater than or "
      "equal to 1"},
     false},
    {"ReadinessGracePeriod",
     [](Pod& p) {
       app(p).readiness_probe = tcp_probe({int64_t{80}});
       app(p).readiness_probe->termination_grace_period_seconds = 5;
     },
     {"spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not "
      "be set for "
      "readinessProbes"}},
    {"UnknownNamedPort",
     [](Pod& p) {
       app(p).liveness_probe =
           Probe{.handler = Handler{.http_get = HttpGetAction{.port = port_name("metrics")}}};
     },
     {"spec.containers[0].livenessProbe.httpGet.port: Not found: \"metrics\""}},
    {"ProbePortOutOfRange",
     [](Pod& p) {
       app(p).liveness_probe = tcp_probe({int64_t{0}});
       app(p).readiness_probe = Probe{.handler = Handler{.grpc = GrpcAction{.port = 70000}}};
     },
     {"spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: 0: must be between 1 and "
      "65535, inclusive",
      "spec.containers[0].readinessProbe.grpc.port: Invalid value: 70000: must be between 1 and "
      "65535, inclusive"}},
    {"BadPortName",
     [](Pod& p) { app(p).liveness_probe = tcp_probe(port_name("1234")); },
     {"spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: \"1234\": must contain at "
      "least one "
      "letter (a-z)"}},
    {"HttpScheme",
     [](Pod& p) {
       app(p).liveness_probe =
           Probe{.handler = Handler{.http_get = HttpGetAction{.port = port_name("http")}}};
       app(p).liveness_probe->handler.http_get->scheme = "FTP";  // defaulting keeps a set scheme
     },
     {"spec.containers[0].livenessProbe.httpGet.scheme: Unsupported value: \"FTP\": supported "
      "values: \"HTTP\", "
      "\"HTTPS\""}},
    {"SleepInProbeGrpcInHook",
     [](Pod& p) {
       app(p).liveness_probe = Probe{.handler = Handler{.sleep = SleepAction{1}}};
       app(p).lifecycle = Lifecycle{.post_start = Handler{.grpc = GrpcAction{.port = 80}}};
     },
     {"spec.containers[0].livenessProbe.sleep: Forbidden: may only be set in lifecycle hooks, not "
      "in probes",
      "spec.containers[0].livenessProbe: Required value: must specify a handler type",
      "spec.containers[0].lifecycle.postStart.grpc: Forbidden: may only be set in probes, not in "
      "lifecycle hooks",
      "spec.containers[0].lifecycle.postStart: Required value: must specify a handler type"}},
    {"SleepLongerThanGrace",
     [](Pod& p) { app(p).lifecycle = Lifecycle{.pre_stop = Handler{.sleep = SleepAction{40}}}; },
     {"spec.containers[0].lifecycle.preStop.sleep: Invalid value: 40: must be non-negative and "
      "less than "
      "terminationGracePeriodSeconds (30)"}},
    {"ExecWithoutCommand",
     [](Pod& p) { app(p).lifecycle = Lifecycle{.post_start = Handler{.exec = ExecAction{}}}; },
     {"spec.containers[0].lifecycle.postStart.exec.command: Required value"}},
};
INSTANTIATE_TEST_SUITE_P(ValidationProbes, ValidationCaseTest, testing::ValuesIn(kProbeCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace podagent::model
