// ConfigMaps and Secrets with real containers: a configMap volume's files
// change in the running container when the ConfigMap manifest changes; a
// secret is a read-only volume and an env variable; a pod whose ConfigMap
// does not exist yet waits in ContainerCreating and starts once it is
// dropped in; the written volumes go with the pod.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/agent/agent_test_util.h"
#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::move_in;

std::string config_map(const std::string& name, const std::string& mode) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name +
         "\n  namespace: default\ndata:\n  mode: " + mode + "\n";
}

// The pod's app container prints `file` every 100 ms, with a line between.
std::string reading_pod(const std::string& name, const std::string& volumes,
                        const std::string& file, const std::string& mounts,
                        const std::string& env = "") {
  PodYaml pod(name, "  volumes:\n" + volumes);
  pod.containers =
      sh_container("app", "while true; do cat " + file + "; echo; sleep 0.1; done",
                   env + "    volumeMounts:\n" + mounts);
  return pod.str();
}

class ConfigObjectsTest : public E2eTest {
 protected:
  fs::path manifests() const { return config_.manifest_dir; }
  bool log_has(const std::string& pod, const std::string& text) {
    return wait_until([&] { return logs(pod, "app").find(text) != std::string::npos; });
  }
  fs::path pods_dir() const { return state_dir() / "pods"; }
};

TEST_F(ConfigObjectsTest, AConfigMapVolumeChangesInTheRunningContainer) {
  move_in(manifests(), "settings.yaml", config_map("settings", "fast"));
  ASSERT_EQ(create(reading_pod("reader", "  - name: cfg\n    configMap: {name: settings}\n",
                               "/cfg/mode", "    - name: cfg\n      mountPath: /cfg\n")),
            201);
  ASSERT_TRUE(log_has("reader", "fast"));

  move_in(manifests(), "settings.yaml", config_map("settings", "slow"));
  EXPECT_TRUE(log_has("reader", "slow")) << logs("reader", "app");
  auto pod = wait_pod("reader", [](const model::Node&) { return true; });
  ASSERT_TRUE(pod);
  EXPECT_EQ(at(container_status(*pod, "app"), {"restartCount"}), "0");

  ASSERT_EQ(remove("reader"), 200);
  ASSERT_TRUE(wait_gone("reader"));
  EXPECT_TRUE(fs::is_empty(pods_dir())) << "the written volume goes with its pod";
}

TEST_F(ConfigObjectsTest, ASecretIsAReadOnlyVolumeAndAnEnvVariable) {
  move_in(manifests(), "token.yaml",
          "apiVersion: v1\nkind: Secret\nmetadata: {name: token, namespace: default}\n"
          "stringData: {key: s3cr3t}\n");
  PodYaml pod("holder", "  restartPolicy: Never\n  volumes:\n  - name: sec\n"
                        "    secret: {secretName: token, defaultMode: 0400}\n");
  pod.containers = sh_container(
      "app",
      "echo file=$(cat /sec/key) env=$TOKEN mode=$(stat -L -c %a /sec/key); "
      "if touch /sec/new 2>/dev/null; then echo WRITABLE; else echo READONLY; fi",
      "    env:\n    - name: TOKEN\n      valueFrom:\n        secretKeyRef: {name: token, key: key}\n"
      "    volumeMounts:\n    - name: sec\n      mountPath: /sec\n");
  ASSERT_EQ(create(pod.str()), 201);
  ASSERT_TRUE(log_has("holder", "file=s3cr3t env=s3cr3t mode=400")) << logs("holder", "app");
  EXPECT_TRUE(log_has("holder", "READONLY")) << logs("holder", "app");
}

TEST_F(ConfigObjectsTest, APodWaitsForItsConfigMapThenStarts) {
  ASSERT_EQ(create(reading_pod("waiter", "  - name: cfg\n    configMap: {name: late}\n",
                               "/cfg/mode", "    - name: cfg\n      mountPath: /cfg\n")),
            201);
  auto waiting = wait_pod("waiter", [](const model::Node& p) {
    return at(container_status(p, "app"), {"state", "waiting", "reason"}) == "ContainerCreating";
  });
  ASSERT_TRUE(waiting);
  EXPECT_EQ(at(&*waiting, {"status", "phase"}), "Pending");
  auto events = get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=waiter");
  EXPECT_NE(events.body.find("configmap \\\"late\\\" not found"), std::string::npos)
      << events.body;

  move_in(manifests(), "late.yaml", config_map("late", "ready"));
  EXPECT_TRUE(log_has("waiter", "ready"));
}

TEST_F(ConfigObjectsTest, ADownwardApiVolumeHoldsThePodsLabels) {
  PodYaml pod("labelled", "  volumes:\n  - name: info\n    downwardAPI:\n      items:\n"
                          "      - {path: labels, fieldRef: {fieldPath: metadata.labels}}\n"
                          "      - {path: name, fieldRef: {fieldPath: metadata.name}}\n");
  pod.containers = sh_container("app", "cat /info/name; echo; cat /info/labels; echo; sleep 3600",
                                "    volumeMounts:\n    - name: info\n      mountPath: /info\n");
  std::string yaml = pod.str();
  const std::string meta = "  name: labelled\n";
  ASSERT_NE(yaml.find(meta), std::string::npos);
  yaml.insert(yaml.find(meta) + meta.size(), "  labels: {tier: web}\n");
  ASSERT_EQ(create(yaml), 201);
  EXPECT_TRUE(log_has("labelled", "labelled\ntier=\"web\"")) << logs("labelled", "app");
}

}  // namespace
}  // namespace podagent::e2e
