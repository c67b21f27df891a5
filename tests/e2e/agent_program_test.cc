// The built podagent program with the oci backend, as a user runs it: the
// busybox image imported with `podagent image import`, `podagent run` as a
// child process on a temp config, and the client commands.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using agent::testing::field;
using agent::testing::http;
using agent::testing::move_in;
using agent::testing::parse_json;
using runtime::oci::testing::find_leaks;
using runtime::oci::testing::read_file;

class AgentProgramTest : public ProgramTest {
 protected:
  std::vector<model::Node> pods() {
    const model::Node list = parse_json(http(socket(), "GET", "/api/v1/pods").body);
    const model::Node* items = list.find("items");
    return items ? items->items : std::vector<model::Node>{};
  }
};

struct Started {
  std::string id;
  std::string at;
};

// The running containers the API reports, by pod name.
std::map<std::string, Started> running_containers(const std::vector<model::Node>& pods) {
  std::map<std::string, Started> out;
  for (const model::Node& pod : pods) {
    const model::Node* s = container_status(pod, "idle");
    const std::string at_time = at(s, {"state", "running", "startedAt"});
    if (!at_time.empty())
      out[field(pod, {"metadata", "name"})] = {at(s, {"containerID"}), at_time};
  }
  return out;
}

TEST_F(AgentProgramTest, KilledWhileTwentyPodsStartARestartedAgentAdoptsThemAll) {
  import_image(kImage);
  start();
  std::string manifest;
  for (int i = 0; i < 20; ++i) {
    PodYaml pod("p" + std::to_string(100 + i).substr(1));
    pod.containers = sh_container("idle", kIdle);
    manifest += "---\n" + pod.str();
  }
  move_in(manifests(), "many.yaml", manifest);
  // SIGKILL once a few sandboxes exist: the rest are being created or not
  // begun.
  ASSERT_TRUE(wait_until([&] { return sandbox_records(state_dir()).size() >= 3; }));
  const std::map<std::string, Started> before = running_containers(pods());
  agent_->kill(SIGKILL);
  EXPECT_EQ(agent_->wait(), -SIGKILL);
  EXPECT_LT(before.size(), 20u) << "every pod ran before the kill: nothing was starting";

  start();
  std::vector<model::Node> after;
  ASSERT_TRUE(wait_until(
      [&] {
        after = pods();
        return after.size() == 20 && running_containers(after).size() == 20;
      },
      std::chrono::seconds(60)))
      << after.size() << " pods, " << running_containers(after).size() << " running";
  std::set<std::string> uids;
  for (const model::Node& pod : after) {
    const std::string name = field(pod, {"metadata", "name"});
    uids.insert(field(pod, {"metadata", "uid"}));
    EXPECT_EQ(field(pod, {"status", "phase"}), "Running") << name;
    EXPECT_EQ(at(container_status(pod, "idle"), {"restartCount"}), "0") << name;
  }
  const std::map<std::string, Started> now = running_containers(after);
  for (const auto& [name, started] : before) {
    EXPECT_EQ(now.at(name).id, started.id) << name << " was restarted";
    EXPECT_EQ(now.at(name).at, started.at) << name << " was restarted";
  }
  // Exactly one sandbox per pod: the OCI runtime runs 20 pause containers,
  // one for each pod, and 20 containers, all of them on record. (A sandbox
  // whose creation the SIGKILL cut short may keep a record, NotReady,
  // until the pod's next sync collects it; it runs nothing.)
  std::map<std::string, std::string> uid_of_sandbox;
  for (const auto& [id, uid] : sandbox_records(state_dir())) uid_of_sandbox[id] = uid;
  const std::vector<std::string> ids = runtime_ids(state_dir());
  const std::set<std::string> on_record(ids.begin(), ids.end());
  std::map<std::string, int> running_sandboxes;  // by pod uid
  size_t running = 0;
  for (const auto& [id, status] : runc_list(state_dir())) {
    EXPECT_EQ(status, "running") << id;
    EXPECT_TRUE(on_record.count(id)) << id << " runs without a record";
    ++running;
    if (uid_of_sandbox.count(id)) ++running_sandboxes[uid_of_sandbox[id]];
  }
  EXPECT_EQ(running, 40u);
  EXPECT_EQ(running_sandboxes.size(), 20u);
  for (const auto& [uid, count] : running_sandboxes) {
    EXPECT_TRUE(uids.count(uid)) << uid;
    EXPECT_EQ(count, 1) << "pod uid " << uid;
  }
  for (const auto& [id, uid] : uid_of_sandbox) EXPECT_TRUE(uids.count(uid)) << id;

  // Removing the manifest deletes them all, through the agent.
  fs::remove(manifests() / "many.yaml");
  EXPECT_TRUE(wait_until([&] { return pods().empty(); }, std::chrono::seconds(60)));
  agent_->kill(SIGTERM);
  EXPECT_EQ(agent_->wait(), 0);
  agent_.reset();
  EXPECT_EQ(find_leaks(state_dir(), ids), std::vector<std::string>{});
}

// The README's scenario: examples/hello.yaml dropped into the manifest
// directory, `image: busybox` imported under its full name.
TEST_F(AgentProgramTest, TheReadmeHelloPodRunsAndLogsHello) {
  import_image("docker.io/library/busybox:latest");
  start();
  move_in(manifests(), "hello.yaml",
          read_file(fs::path(PODAGENT_SOURCE_DIR) / "examples" / "hello.yaml"));
  std::string table;
  EXPECT_TRUE(wait_until([&] {
    run_podagent({"get", "pods", "--config", config_}, &table);
    std::istringstream lines(table);
    for (std::string line; std::getline(lines, line);)
      if (line.starts_with("hello-node1 ") && line.find(" Running ") != std::string::npos)
        return true;
    return false;
  })) << table;
  std::string logs;
  EXPECT_TRUE(wait_until([&] {
    return run_podagent({"logs", "hello-node1", "--config", config_}, &logs) == 0 &&
           logs == "Hello\n";
  })) << logs;
}

}  // namespace
}  // namespace podagent::e2e
