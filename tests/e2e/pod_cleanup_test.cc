// Deleting pods with real containers: mid-init, and everything at once,
// leaves no process, mount, cgroup or state behind.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::field;
using runtime::oci::testing::find_leaks;

class PodCleanupTest : public E2eTest {};

TEST_F(PodCleanupTest, APodDeletedWhileItsInitContainerRunsStopsCleanly) {
  PodYaml pod("mid-init");
  // A foreground sleep as the init container's main process: SIGTERM is
  // ignored, so the 1 s grace period has to end in SIGKILL.
  pod.init_containers = sh_container("wait", "exec sleep 3600");
  pod.containers = sh_container("app", kIdle);
  ASSERT_EQ(create(pod.str()), 201);
  auto seen = wait_pod("mid-init", [](const model::Node& p) {
    return at(container_status(p, "wait", true), {"state", "running", "startedAt"}) != "";
  });
  ASSERT_TRUE(seen);
  EXPECT_EQ(at(container_status(*seen, "app"), {"state", "waiting", "reason"}), "PodInitializing");
  const std::vector<std::string> ids = runtime_ids(state_dir());
  EXPECT_EQ(ids.size(), 3u);  // the sandbox, the init container and the app, prepared

  ASSERT_EQ(remove("mid-init"), 200);
  ASSERT_TRUE(wait_gone("mid-init", std::chrono::seconds(15)));
  EXPECT_EQ(runtime_ids(state_dir()), std::vector<std::string>{});
  EXPECT_EQ(runc_list(state_dir()), (std::vector<std::pair<std::string, std::string>>{}));
  EXPECT_EQ(find_leaks(state_dir(), ids), std::vector<std::string>{});
  ids_.insert(ids_.end(), ids.begin(), ids.end());
}

// Pods of every shape at once: init containers, emptyDirs on disk and in
// memory, several containers, one crash-looping; then every one deleted.
TEST_F(PodCleanupTest, AfterDeletingEveryPodNothingIsLeft) {
  const std::string volumes =
      "  volumes:\n  - name: disk\n    emptyDir: {}\n"
      "  - name: mem\n    emptyDir: {medium: Memory, sizeLimit: 1Mi}\n";
  const std::string mounts =
      "    volumeMounts:\n    - {name: disk, mountPath: /disk}\n"
      "    - {name: mem, mountPath: /mem}\n";
  PodYaml volumes_pod("volumes", volumes);
  volumes_pod.init_containers = sh_container("init", "echo x > /disk/x && echo y > /mem/y", mounts);
  volumes_pod.containers = sh_container("a", kIdle, mounts) + sh_container("b", kIdle, mounts);
  PodYaml plain("plain");
  plain.containers = sh_container("idle", kIdle);
  PodYaml crashing("crashing", "", "podagent.io/crashloop-initial: 100ms, "
                                  "podagent.io/crashloop-max: 200ms");
  crashing.containers = sh_container("idle", kIdle) + sh_container("crash", "exit 1");
  for (const PodYaml* p : {&volumes_pod, &plain, &crashing}) ASSERT_EQ(create(p->str()), 201);

  for (const char* name : {"volumes", "plain"})
    ASSERT_TRUE(wait_pod(name, [](const model::Node& p) {
      return field(p, {"status", "phase"}) == "Running";
    }));
  ASSERT_TRUE(wait_pod("crashing", [](const model::Node& p) {
    return std::atoi(at(container_status(p, "crash"), {"restartCount"}).c_str()) >= 1 &&
           at(container_status(p, "idle"), {"state", "running", "startedAt"}) != "";
  }));
  ASSERT_TRUE(wait_pod("volumes", [](const model::Node& p) {
    return at(container_status(p, "a"), {"ready"}) == "true" &&
           at(container_status(p, "b"), {"ready"}) == "true";
  }));
  const std::vector<std::string> ids = runtime_ids(state_dir());
  EXPECT_GE(ids.size(), 3u + 5u);  // 3 sandboxes, at least 5 containers

  for (const char* name : {"volumes", "plain", "crashing"}) ASSERT_EQ(remove(name), 200);
  for (const char* name : {"volumes", "plain", "crashing"})
    ASSERT_TRUE(wait_gone(name, std::chrono::seconds(15))) << name;
  stop_agent();
  EXPECT_EQ(find_leaks(state_dir(), ids), std::vector<std::string>{});
  // Volumes live under the state dir too: nothing of the pods is left there.
  std::error_code ec;
  for (fs::recursive_directory_iterator it(state_dir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string path = it->path().string();
    EXPECT_EQ(path.find("volumes/"), std::string::npos) << path;
  }
  ids_.insert(ids_.end(), ids.begin(), ids.end());
}

}  // namespace
}  // namespace podagent::e2e
