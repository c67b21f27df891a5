#include "agent/pod_table.h"

#include <gtest/gtest.h>

#include "agent/api_routes.h"
#include "model/document.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::agent {
namespace {

using std::chrono::seconds;

TEST(ApiPodTableTest, HumanDurationAsKubernetes) {
  struct Case {
    int64_t seconds;
    const char* text;
  } cases[] = {
      {-5, "<invalid>"},
      {-1, "0s"},
      {0, "0s"},
      {119, "119s"},
      {120, "2m"},
      {125, "2m5s"},
      {600, "10m"},
      {179 * 60, "179m"},
      {3 * 3600, "3h"},
      {5 * 3600 + 180, "5h3m"},
      {47 * 3600, "47h"},
      {3 * 86400, "3d"},
      {3 * 86400 + 7200, "3d2h"},
      {30 * 86400, "30d"},
      {3 * 365 * 86400, "3y"},
      {(2 * 365 + 15) * 86400, "2y15d"},
      {10 * 365 * 86400, "10y"},
  };
  for (const auto& c : cases) EXPECT_EQ(human_duration(seconds(c.seconds)), c.text) << c.seconds;
}

TEST(ApiPodTableTest, KubectlsAcceptHeaderAsksForATable) {
  EXPECT_TRUE(wants_table(
      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
      "g=meta.k8s.io,application/json"));
  EXPECT_FALSE(wants_table("application/json"));
  EXPECT_FALSE(wants_table(""));
}

const model::WallTime kNow = model::WallTime(seconds(1'767'323'045));  // 2026-01-02T03:04:05Z

model::Pod pod_with(std::vector<model::ContainerStatus> statuses, std::string phase = "Running") {
  model::Pod p;
  p.metadata.name = "web";
  p.metadata.creation_timestamp = "2026-01-02T02:59:05Z";  // 5 minutes before kNow
  p.spec.node_name = "node-1";
  for (const auto& s : statuses) {
    model::Container c;
    c.name = s.name;
    p.spec.containers.push_back(c);
  }
  p.status.phase = std::move(phase);
  p.status.container_statuses = std::move(statuses);
  return p;
}

model::ContainerStatus running(std::string name, bool ready, int restarts = 0) {
  model::ContainerStatus s;
  s.name = std::move(name);
  s.ready = ready;
  s.restart_count = restarts;
  s.state.running = model::ContainerStateRunning{};
  return s;
}

model::ContainerStatus waiting(std::string name, std::string reason, int restarts = 0) {
  model::ContainerStatus s;
  s.name = std::move(name);
  s.restart_count = restarts;
  s.state.waiting = model::ContainerStateWaiting{std::move(reason), ""};
  return s;
}

TEST(ApiPodTableTest, RunningPod) {
  model::Pod p = pod_with({running("a", true), running("b", false)});
  p.status.pod_ip = "10.88.0.5";
  EXPECT_EQ(pod_row_cells(p, kNow),
            (std::vector<std::string>{"web", "1/2", "Running", "0", "5m", "10.88.0.5", "node-1",
                                      "<none>", "<none>"}));
}

TEST(ApiPodTableTest, StatusColumnFollowsKubectl) {
  auto status = [](const model::Pod& p) { return pod_row_cells(p, kNow)[2]; };
  EXPECT_EQ(status(pod_with({waiting("a", "ContainerCreating")}, "Pending")), "ContainerCreating");
  EXPECT_EQ(status(pod_with({waiting("a", "CrashLoopBackOff", 4)})), "CrashLoopBackOff");
  model::ContainerStatus done;
  done.name = "a";
  done.state.terminated = model::ContainerStateTerminated{.exit_code = 0, .reason = "Completed"};
  EXPECT_EQ(status(pod_with({done}, "Succeeded")), "Completed");
  model::ContainerStatus killed = done;
  killed.state.terminated = model::ContainerStateTerminated{.exit_code = 137, .signal = 9};
  EXPECT_EQ(status(pod_with({killed}, "Failed")), "Signal:9");

  model::Pod init = pod_with({waiting("a", "PodInitializing")}, "Pending");
  init.spec.init_containers.resize(2);
  init.spec.init_containers[0].name = "i0";
  init.spec.init_containers[1].name = "i1";
  model::ContainerStatus i0 = done;
  i0.name = "i0";
  model::ContainerStatus i1 = running("i1", false);
  init.status.init_container_statuses = {i0, i1};
  EXPECT_EQ(status(init), "Init:1/2");
  init.status.init_container_statuses[1] = waiting("i1", "CrashLoopBackOff");
  EXPECT_EQ(status(init), "Init:CrashLoopBackOff");

  model::Pod rejected = pod_with({}, "Failed");
  rejected.status.reason = "OutOfmemory";
  EXPECT_EQ(status(rejected), "OutOfmemory");
  model::Pod deleting = pod_with({running("a", true)});
  deleting.metadata.deletion_timestamp = "2026-01-02T03:04:00Z";
  EXPECT_EQ(status(deleting), "Terminating");
}

TEST(ApiPodTableTest, RestartsShowTheLastOne) {
  model::ContainerStatus s = running("a", true, 3);
  s.last_state.terminated = model::ContainerStateTerminated{
      .exit_code = 1, .finished_at = kNow - std::chrono::seconds(90)};
  EXPECT_EQ(pod_row_cells(pod_with({s}), kNow)[3], "3 (90s ago)");
}

struct NullSink : PodSink {
  void create(const model::Pod&) override {}
  void replace(const model::Pod&) override {}
  void remove(const base::PodUid&, int64_t) override {}
};

TEST(ApiPodTableTest, RoutesAnswerKubectlWithATable) {
  PodStore store;
  NullSink sink;
  MemoryPodPersistence persistence;
  ApiOptions options;
  options.wall_now = [] { return kNow; };
  ApiRoutes routes(store, sink, persistence, options);
  model::Pod p = pod_with({running("a", true)});
  p.metadata.namespace_ = "default";
  p.metadata.uid = "u1";
  p.metadata.labels["app"] = "web";
  store.put(p);

  ApiRequest list{.method = "GET",
                  .target = "/api/v1/namespaces/default/pods",
                  .accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"};
  auto docs = model::parse_documents(routes.handle(list).body);
  ASSERT_TRUE(docs.ok());
  const model::Node& table = docs->front();
  EXPECT_EQ(table.find("kind")->text, "Table");
  EXPECT_EQ(table.find("apiVersion")->text, "meta.k8s.io/v1");
  EXPECT_EQ(table.find("columnDefinitions")->items.size(), 9u);
  EXPECT_EQ(table.find("columnDefinitions")->items[2].find("name")->text, "Status");
  const model::Node& row = table.find("rows")->items.at(0);
  EXPECT_EQ(row.find("cells")->items.at(2).text, "Running");
  EXPECT_EQ(row.find("object")->find("kind")->text, "PartialObjectMetadata");
  EXPECT_EQ(row.find("object")->find("metadata")->find("labels")->find("app")->text, "web");

  ApiRequest watch = list;
  watch.target += "?watch=1";
  ApiResponse stream = routes.handle(watch);
  ASSERT_TRUE(stream.watch);
  ASSERT_TRUE(stream.encode_event);
  auto event = stream.watch->pop();
  ASSERT_TRUE(event);
  auto line = model::parse_documents(stream.encode_event(*event));
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->front().find("type")->text, "ADDED");
  EXPECT_EQ(line->front().find("object")->find("kind")->text, "Table");
}

}  // namespace
}  // namespace podagent::agent
