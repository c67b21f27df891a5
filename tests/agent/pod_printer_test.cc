// The client's pod printing, as exact text: kubectl's table, describe, and
// -o json/yaml.

#include "agent/pod_printer.h"

#include <gtest/gtest.h>

#include "model/document.h"

namespace podagent::agent {
namespace {

using std::chrono::seconds;

// 2024-01-01T00:00:00Z, a Monday.
const model::WallTime kT0 = std::chrono::system_clock::from_time_t(1704067200);

model::Container container(std::string name, std::string image) {
  model::Container c;
  c.name = std::move(name);
  c.image = std::move(image);
  return c;
}

model::PodCondition condition(std::string type, std::string status) {
  model::PodCondition c;
  c.type = std::move(type);
  c.status = std::move(status);
  return c;
}

// Running, one completed init container, an app container restarted twice
// (last at T0+60s after exiting 1).
model::Pod web() {
  model::Pod pod;
  pod.metadata.name = "web";
  pod.metadata.namespace_ = "default";
  pod.metadata.creation_timestamp = "2024-01-01T00:00:00Z";
  pod.metadata.labels = {{"app", "web"}, {"tier", "front"}};
  pod.metadata.annotations = {{"kubernetes.io/config.source", "api"}};
  pod.spec.node_name = "node1";
  model::Container setup = container("setup", "busybox:1.36");
  setup.command = {"sh", "-c", "true"};
  pod.spec.init_containers = {setup};
  model::Container main = container("main", "nginx:1.25");
  model::ContainerPort port;
  port.container_port = 80;
  port.protocol = "TCP";
  main.ports = {port};
  pod.spec.containers = {main};

  auto& st = pod.status;
  st.phase = "Running";
  st.pod_ip = "10.88.0.7";
  st.host_ip = "192.168.1.5";
  st.start_time = kT0;
  st.qos_class = "BestEffort";
  st.conditions = {condition("Initialized", "True"), condition("Ready", "True")};
  model::ContainerStatus init;
  init.name = "setup";
  init.state.terminated.emplace().reason = "Completed";
  st.init_container_statuses = {init};
  model::ContainerStatus app;
  app.name = "main";
  app.image = "nginx:1.25";
  app.container_id = "podagent://c-2";
  app.ready = true;
  app.restart_count = 2;
  app.state.running = model::ContainerStateRunning{kT0 + seconds(65)};
  auto& last = app.last_state.terminated.emplace();
  last.exit_code = 1;
  last.reason = "Error";
  last.started_at = kT0 + seconds(2);
  last.finished_at = kT0 + seconds(60);
  st.container_statuses = {app};
  return pod;
}

// Pending in another namespace, created an hour after web; no status yet.
model::Pod other() {
  model::Pod pod;
  pod.metadata.name = "other";
  pod.metadata.namespace_ = "tools";
  pod.metadata.creation_timestamp = "2024-01-01T01:00:00Z";
  pod.spec.containers = {container("c", "busybox:1.36")};
  pod.status.phase = "Pending";
  return pod;
}

TEST(PodPrinterTest, TableHasKubectlsColumnsPaddedByThreeSpaces) {
  const std::string text = format_pod_table({web(), other()}, {}, kT0 + seconds(7200));
  EXPECT_EQ(text,
            "NAME    READY   STATUS    RESTARTS       AGE\n"
            "web     1/1     Running   2 (119m ago)   120m\n"
            "other   0/1     Pending   0              60m\n");
}

TEST(PodPrinterTest, WideTableWithNamespacesAddsTheirColumns) {
  const std::string text = format_pod_table(
      {web(), other()}, {.wide = true, .with_namespace = true}, kT0 + seconds(7200));
  EXPECT_EQ(text,
            "NAMESPACE   NAME    READY   STATUS    RESTARTS       AGE    IP          NODE     "
            "NOMINATED NODE   READINESS GATES\n"
            "default     web     1/1     Running   2 (119m ago)   120m   10.88.0.7   node1    "
            "<none>           <none>\n"
            "tools       other   0/1     Pending   0              60m    <none>      <none>   "
            "<none>           <none>\n");
}

TEST(PodPrinterTest, NoPodsPrintNoTable) { EXPECT_EQ(format_pod_table({}, {}, kT0), ""); }

TEST(PodPrinterTest, DescribeShowsNodeStatusContainersAndConditions) {
  EXPECT_EQ(describe_pod(web(), kT0 + seconds(7200)),
            "Name:             web\n"
            "Namespace:        default\n"
            "Node:             node1/192.168.1.5\n"
            "Start Time:       Mon, 01 Jan 2024 00:00:00 +0000\n"
            "Labels:           app=web\n"
            "                  tier=front\n"
            "Annotations:      kubernetes.io/config.source: api\n"
            "Status:           Running\n"
            "IP:               10.88.0.7\n"
            "Init Containers:\n"
            "  setup:\n"
            "    Image:          busybox:1.36\n"
            "    Command:\n"
            "      sh\n"
            "      -c\n"
            "      true\n"
            "    State:          Terminated\n"
            "      Reason:       Completed\n"
            "      Exit Code:    0\n"
            "    Ready:          False\n"
            "    Restart Count:  0\n"
            "Containers:\n"
            "  main:\n"
            "    Container ID:   podagent://c-2\n"
            "    Image:          nginx:1.25\n"
            "    Port:           80/TCP\n"
            "    State:          Running\n"
            "      Started:      Mon, 01 Jan 2024 00:01:05 +0000\n"
            "    Last State:     Terminated\n"
            "      Reason:       Error\n"
            "      Exit Code:    1\n"
            "      Started:      Mon, 01 Jan 2024 00:00:02 +0000\n"
            "      Finished:     Mon, 01 Jan 2024 00:01:00 +0000\n"
            "    Ready:          True\n"
            "    Restart Count:  2\n"
            "Conditions:\n"
            "  Type          Status\n"
            "  Initialized   True\n"
            "  Ready         True\n"
            "QoS Class:        BestEffort\n");
}

TEST(PodPrinterTest, DescribeOfATerminatingPodWithoutStatus) {
  model::Pod pod;
  pod.metadata.name = "gone";
  pod.metadata.namespace_ = "default";
  pod.metadata.deletion_timestamp = "2024-01-01T00:00:00Z";
  pod.spec.containers = {container("a", "busybox:1"), container("b", "busybox:2")};
  model::ContainerStatus b;
  b.name = "b";
  b.restart_count = 4;
  b.state.waiting = model::ContainerStateWaiting{"CrashLoopBackOff", "back-off 40s"};
  pod.status.phase = "Running";
  pod.status.container_statuses = {b};
  EXPECT_EQ(describe_pod(pod, kT0 + seconds(30)),
            "Name:             gone\n"
            "Namespace:        default\n"
            "Node:             <none>\n"
            "Labels:           <none>\n"
            "Annotations:      <none>\n"
            "Status:           Terminating (lasts 30s)\n"
            "IP:\n"
            "Containers:\n"
            "  a:\n"
            "    Image:          busybox:1\n"
            "    Ready:          False\n"
            "    Restart Count:  0\n"
            "  b:\n"
            "    Image:          busybox:2\n"
            "    State:          Waiting\n"
            "      Reason:       CrashLoopBackOff\n"
            "      Message:      back-off 40s\n"
            "    Ready:          False\n"
            "    Restart Count:  4\n");
}

TEST(PodPrinterTest, DescribeTimeIsRfc1123InUtc) {
  EXPECT_EQ(describe_time(kT0 + seconds(86400 + 3661)), "Tue, 02 Jan 2024 01:01:01 +0000");
}

TEST(PodPrinterTest, OnePodAsJsonIsThePod) {
  const std::string text = format_pods_as({other()}, /*single=*/true, "json");
  auto docs = model::parse_documents(text);
  ASSERT_TRUE(docs) << text;
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ(docs->front().find("kind")->text, "Pod");
  EXPECT_EQ(docs->front().find("metadata")->find("name")->text, "other");
  EXPECT_EQ(text.back(), '\n');
}

TEST(PodPrinterTest, SeveralPodsAsYamlAreAList) {
  const std::string text = format_pods_as({web(), other()}, /*single=*/false, "yaml");
  EXPECT_TRUE(text.starts_with("apiVersion: v1\nkind: List\nitems:\n")) << text;
  auto docs = model::parse_documents(text);
  ASSERT_TRUE(docs) << text;
  const model::Node* items = docs->front().find("items");
  ASSERT_TRUE(items);
  ASSERT_EQ(items->items.size(), 2u);
  EXPECT_EQ(items->items[1].find("metadata")->find("name")->text, "other");
}

}  // namespace
}  // namespace podagent::agent
