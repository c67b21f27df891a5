#include "podworker/admission.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace podagent::podworker {
namespace {

model::Quantity q(const char* text) { return *model::Quantity::parse(text); }

model::Container container(const std::string& name, const char* cpu, const char* memory,
                           bool sidecar = false) {
  model::Container c;
  c.name = name;
  if (cpu) c.resources.requests["cpu"] = q(cpu);
  if (memory) c.resources.requests["memory"] = q(memory);
  if (sidecar) c.restart_policy = "Always";
  return c;
}

model::Pod pod(const std::string& uid, std::vector<model::Container> apps,
               std::vector<model::Container> inits = {}) {
  model::Pod p;
  p.metadata.name = "p-" + uid;
  p.metadata.namespace_ = "default";
  p.metadata.uid = uid;
  p.spec.containers = std::move(apps);
  p.spec.init_containers = std::move(inits);
  return p;
}

int64_t milli(const model::ResourceList& l, const std::string& name) {
  auto it = l.find(name);
  return it == l.end() ? -1 : it->second.milli();
}

TEST(AdmissionEffectiveRequests, SumOfAppContainers) {
  auto r = effective_requests(
      pod("u", {container("a", "100m", "64Mi"), container("b", "200m", "32Mi")}).spec);
  EXPECT_EQ(milli(r, "cpu"), 300);
  EXPECT_EQ(r.at("memory").value(), 96 * 1024 * 1024);
}

TEST(AdmissionEffectiveRequests, LargestInitContainerWins) {
  auto r = effective_requests(
      pod("u", {container("a", "100m", "64Mi")}, {container("i", "2", nullptr)}).spec);
  EXPECT_EQ(milli(r, "cpu"), 2000);
  EXPECT_EQ(r.at("memory").value(), 64 * 1024 * 1024);
}

TEST(AdmissionEffectiveRequests, SidecarsCountWithAppsAndWithLaterInits) {
  // sidecar s1 (300m), init i1 (500m) after it, sidecar s2 (100m), app a (200m).
  // Apps + sidecars = 600m; i1 while initializing = 500m + s1 300m = 800m.
  auto r = effective_requests(
      pod("u", {container("a", "200m", nullptr)},
          {container("s1", "300m", nullptr, true), container("i1", "500m", nullptr),
           container("s2", "100m", nullptr, true)})
          .spec);
  EXPECT_EQ(milli(r, "cpu"), 800);
}

TEST(AdmissionEffectiveRequests, SidecarsBeforeInitDoNotCountForEarlierInit) {
  // i1 (700m) runs alone; s1 (300m) starts after it; apps 100m.
  auto r = effective_requests(
      pod("u", {container("a", "100m", nullptr)},
          {container("i1", "700m", nullptr), container("s1", "300m", nullptr, true)})
          .spec);
  EXPECT_EQ(milli(r, "cpu"), 700);
}

TEST(AdmissionEffectiveRequests, LimitDefaultsTheRequest) {
  model::Container c = container("a", nullptr, nullptr);
  c.resources.limits["cpu"] = q("250m");
  auto r = effective_requests(pod("u", {c}).spec);
  EXPECT_EQ(milli(r, "cpu"), 250);
  EXPECT_EQ(r.count("memory"), 0u);
}

NodeAllocatable node(int64_t cpu_milli, int64_t memory, int64_t pods) {
  NodeAllocatable n;
  n.cpu_milli = cpu_milli;
  n.memory_bytes = memory;
  n.pods = pods;
  return n;
}

struct AdmitCase {
  const char* name;
  std::vector<model::Pod> admitted_before;
  model::Pod candidate;
  AdmitResult want;
};

// gtest prints the case by its name, not as raw bytes.
void PrintTo(const AdmitCase& c, std::ostream* os) { *os << c.name; }

class AdmissionTest : public ::testing::TestWithParam<AdmitCase> {};

TEST_P(AdmissionTest, Decides) {
  const AdmitCase& tc = GetParam();
  Admitter a(node(3000, 1000, 3));
  for (const auto& p : tc.admitted_before) ASSERT_TRUE(a.admit(p).admitted) << p.metadata.uid;
  auto used_before = a.used();
  size_t count_before = a.admitted_count();
  AdmitResult got = a.admit(tc.candidate);
  EXPECT_EQ(got, tc.want);
  if (!got.admitted) {  // refusal changes nothing
    EXPECT_EQ(a.used(), used_before);
    EXPECT_EQ(a.admitted_count(), count_before);
    EXPECT_FALSE(a.is_admitted(base::PodUid(tc.candidate.metadata.uid)));
  }
}

const AdmitResult kOk{true, "", ""};

INSTANTIATE_TEST_SUITE_P(
    Admission, AdmissionTest,
    ::testing::Values(
        AdmitCase{"Fits",
                  {pod("a", {container("c", "1500m", "500")})},
                  pod("b", {container("c", "1500m", "500")}),
                  kOk},
        AdmitCase{"OutOfcpu",
                  {pod("a", {container("c", "1500m", nullptr)})},
                  pod("b", {container("c", "2", nullptr)}),
                  {false, "OutOfcpu",
                   "Node didn't have enough resource: cpu, requested: 2000, used: 1500, "
                   "capacity: 3000"}},
        AdmitCase{"OutOfmemory",
                  {pod("a", {container("c", nullptr, "600")})},
                  pod("b", {container("c", nullptr, "401")}),
                  {false, "OutOfmemory",
                   "Node didn't have enough resource: memory, requested: 401, used: 600, "
                   "capacity: 1000"}},
        AdmitCase{"CpuIsReportedBeforeMemory",
                  {},
                  pod("b", {container("c", "4", "2000")}),
                  {false, "OutOfcpu",
                   "Node didn't have enough resource: cpu, requested: 4000, used: 0, "
                   "capacity: 3000"}},
        AdmitCase{"OutOfpods",
                  {pod("a", {}), pod("b", {}), pod("c", {})},
                  pod("d", {container("c", nullptr, nullptr)}),
                  {false, "OutOfpods",
                   "Node didn't have enough resource: pods, requested: 1, used: 3, "
                   "capacity: 3"}},
        AdmitCase{"InitContainerPeakCounts",
                  {},
                  pod("b", {container("c", "100m", nullptr)}, {container("i", "3100m", nullptr)}),
                  {false, "OutOfcpu",
                   "Node didn't have enough resource: cpu, requested: 3100, used: 0, "
                   "capacity: 3000"}},
        AdmitCase{"NothingRequestedFitsAFullNode",
                  {pod("a", {container("c", "3", "1000")})},
                  pod("b", {container("c", nullptr, nullptr)}),
                  kOk}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(AdmissionAdmitter, SameUidTwiceIsIdempotent) {
  Admitter a(node(1000, 1000, 10));
  auto p = pod("u", {container("c", "600m", nullptr)});
  EXPECT_TRUE(a.admit(p).admitted);
  EXPECT_TRUE(a.admit(p).admitted);
  EXPECT_EQ(a.admitted_count(), 1u);
  EXPECT_EQ(a.used().at("cpu"), 600);
}

TEST(AdmissionAdmitter, ReleaseGivesResourcesBack) {
  Admitter a(node(1000, 1000, 1));
  EXPECT_TRUE(a.admit(pod("u1", {container("c", "600m", "600")})).admitted);
  EXPECT_EQ(a.admit(pod("u2", {container("c", "600m", nullptr)})).reason, "OutOfpods");
  a.release(base::PodUid("u1"));
  EXPECT_FALSE(a.is_admitted(base::PodUid("u1")));
  EXPECT_TRUE(a.used().empty());
  EXPECT_TRUE(a.admit(pod("u2", {container("c", "1", "1000")})).admitted);
  a.release(base::PodUid("unknown"));  // no effect
  EXPECT_EQ(a.admitted_count(), 1u);
}

model::Pod with_host_port(const std::string& uid, int64_t port, const std::string& ip = "",
                          const std::string& protocol = "TCP") {
  model::Container c = container("c", nullptr, nullptr);
  model::ContainerPort p;
  p.container_port = 80;
  p.host_port = port;
  p.host_ip = ip;
  p.protocol = protocol;
  c.ports.push_back(p);
  return pod(uid, {c});
}

TEST(AdmissionAdmitter, HostPortConflicts) {
  Admitter a(node(1000, 1000, 10));
  EXPECT_TRUE(a.admit(with_host_port("a", 8080, "10.0.0.1")).admitted);
  AdmitResult clash = a.admit(with_host_port("b", 8080));  // 0.0.0.0 covers 10.0.0.1
  EXPECT_EQ(clash, (AdmitResult{false, "NodePorts",
                                "Predicate NodePorts failed: node(s) didn't have free ports for "
                                "the requested pod ports"}));
  EXPECT_TRUE(a.admit(with_host_port("c", 8080, "10.0.0.2")).admitted);  // other IP
  EXPECT_TRUE(a.admit(with_host_port("d", 8080, "", "UDP")).admitted);   // other protocol
  a.release(base::PodUid("a"));
  a.release(base::PodUid("c"));
  EXPECT_TRUE(a.admit(with_host_port("b", 8080)).admitted);
}

TEST(AdmissionAdmitter, ExtendedAndEphemeralStorage) {
  NodeAllocatable n = node(1000, 1000, 10);
  n.ephemeral_storage_bytes = 100;
  n.extended["example.com/gpu"] = 1;
  Admitter a(n);
  model::Container c = container("c", nullptr, nullptr);
  c.resources.requests["example.com/gpu"] = q("2");
  EXPECT_EQ(a.admit(pod("g", {c})).reason, "OutOfexample.com/gpu");
  c.resources.requests.erase("example.com/gpu");
  c.resources.requests["ephemeral-storage"] = q("101");
  EXPECT_EQ(a.admit(pod("e", {c})).reason, "OutOfephemeral-storage");
  c.resources.requests.erase("ephemeral-storage");
  c.resources.requests["example.com/unknown"] = q("5");  // not on the node: ignored
  EXPECT_TRUE(a.admit(pod("x", {c})).admitted);
}

TEST(AdmissionRuntimeClass, AnUnknownHandlerIsRefusedWithTheKnownOnesListed) {
  NodeAllocatable node;
  node.cpu_milli = 1000;
  node.memory_bytes = int64_t{1} << 30;
  Admitter a(node);
  a.set_runtime_handlers({"runc", "crun"});
  auto p = pod("u1", {container("a", nullptr, nullptr)});
  p.spec.runtime_class_name = "gvisor";
  AdmitResult r = a.admit(p);
  EXPECT_FALSE(r.admitted);
  EXPECT_EQ(r.reason, kReasonRuntimeClassNotFound);
  EXPECT_EQ(r.message, "RuntimeClass \"gvisor\" not found: the node's runtime handlers are crun, runc");
  EXPECT_FALSE(a.is_admitted(base::PodUid("u1")));
  EXPECT_EQ(a.admitted_count(), 0u);
  // Before the resource checks: a pod that fits nowhere else is refused
  // for its runtime class first.
  p.spec.containers[0].resources.requests["cpu"] = q("4");
  EXPECT_EQ(a.admit(p).reason, kReasonRuntimeClassNotFound);
}

TEST(AdmissionRuntimeClass, AKnownHandlerOrNoneIsAdmitted) {
  NodeAllocatable node;
  node.cpu_milli = 1000;
  node.memory_bytes = int64_t{1} << 30;
  Admitter a(node);
  a.set_runtime_handlers({"runc", "crun"});
  auto known = pod("u1", {container("a", nullptr, nullptr)});
  known.spec.runtime_class_name = "crun";
  EXPECT_TRUE(a.admit(known).admitted);
  EXPECT_TRUE(a.admit(pod("u2", {container("a", nullptr, nullptr)})).admitted);  // the default handler
}

TEST(AdmissionRuntimeClass, WithoutHandlersEveryClassIsAdmittedUntilTheyAreSet) {
  NodeAllocatable node;
  Admitter a(node);
  auto p = pod("u1", {container("a", nullptr, nullptr)});
  p.spec.runtime_class_name = "anything";
  EXPECT_TRUE(a.admit(p).admitted);
  a.set_runtime_handlers({});
  p.metadata.uid = "u2";
  AdmitResult r = a.admit(p);
  EXPECT_EQ(r.reason, kReasonRuntimeClassNotFound);
  EXPECT_EQ(r.message, "RuntimeClass \"anything\" not found: the node has no runtime handlers");
}

}  // namespace
}  // namespace podagent::podworker
