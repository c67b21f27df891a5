#include "model/qos.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace podagent::model {
namespace {

model::Quantity q(const char* text) { return *model::Quantity::parse(text); }

struct Res {
  std::vector<std::pair<std::string, std::string>> requests;
  std::vector<std::pair<std::string, std::string>> limits;
};

model::Container container(const std::string& name, const Res& r) {
  model::Container c;
  c.name = name;
  for (const auto& [k, v] : r.requests) c.resources.requests[k] = q(v.c_str());
  for (const auto& [k, v] : r.limits) c.resources.limits[k] = q(v.c_str());
  return c;
}

struct QosCase {
  const char* name;
  std::vector<Res> apps;
  std::vector<Res> inits;
  const char* want;
};

class QosTest : public ::testing::TestWithParam<QosCase> {};

TEST_P(QosTest, Classifies) {
  const QosCase& tc = GetParam();
  model::PodSpec spec;
  for (size_t i = 0; i < tc.apps.size(); ++i)
    spec.containers.push_back(container("a" + std::to_string(i), tc.apps[i]));
  for (size_t i = 0; i < tc.inits.size(); ++i)
    spec.init_containers.push_back(container("i" + std::to_string(i), tc.inits[i]));
  EXPECT_EQ(qos_class(spec), tc.want);
}

const Res kNone{};
const Res kGuaranteed{{{"cpu", "1"}, {"memory", "1Gi"}}, {{"cpu", "1"}, {"memory", "1Gi"}}};
const Res kLimitsOnly{{}, {{"cpu", "500m"}, {"memory", "128Mi"}}};

INSTANTIATE_TEST_SUITE_P(
    Qos, QosTest,
    ::testing::Values(
        QosCase{"NoResources", {kNone, kNone}, {kNone}, "BestEffort"},
        QosCase{"OnlyOtherResources", {Res{{{"ephemeral-storage", "1Gi"}}, {}}}, {}, "BestEffort"},
        QosCase{"ZeroRequestsAreNone", {Res{{{"cpu", "0"}}, {{"memory", "0"}}}}, {}, "BestEffort"},
        QosCase{"EqualRequestsAndLimits", {kGuaranteed, kGuaranteed}, {}, "Guaranteed"},
        QosCase{"LimitsOnlyDefaultRequests", {kLimitsOnly}, {kLimitsOnly}, "Guaranteed"},
        QosCase{"InitWithoutLimits", {kGuaranteed}, {kNone}, "Burstable"},
        QosCase{"RequestsOnly", {Res{{{"cpu", "100m"}}, {}}}, {}, "Burstable"},
        QosCase{"RequestBelowLimit",
                {Res{{{"cpu", "500m"}, {"memory", "1Gi"}}, {{"cpu", "1"}, {"memory", "1Gi"}}}},
                {},
                "Burstable"},
        QosCase{"OnlyCpuLimited", {Res{{}, {{"cpu", "1"}}}}, {}, "Burstable"},
        QosCase{"OneContainerBestEffort", {kGuaranteed, kNone}, {}, "Burstable"},
        // Sums are compared, not containers: 1+2 cpu requested, 2+1 limited.
        QosCase{"SumsEqualAcrossContainers",
                {Res{{{"cpu", "1"}, {"memory", "1Gi"}}, {{"cpu", "2"}, {"memory", "1Gi"}}},
                 Res{{{"cpu", "2"}, {"memory", "1Gi"}}, {{"cpu", "1"}, {"memory", "1Gi"}}}},
                {},
                "Guaranteed"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace podagent::model
