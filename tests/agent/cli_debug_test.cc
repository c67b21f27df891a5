// `podagent debug` of the built binary against an Agent running in-process
// with the fake runtime: the ephemeral container is added through the API,
// started by the pod worker beside the running app container, and
// reported in ephemeralContainerStatuses.

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "tests/agent/agent_test_util.h"
#include "tests/agent/run_podagent.h"

namespace podagent::agent {
namespace {

using namespace testing;

class CliDebugTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test_config(dir_.path());
    AgentOptions options;
    options.config = config_;
    options.env = [](std::string_view) { return std::optional<std::string>(); };
    agent_ = std::make_unique<RunningAgent>(std::move(options));
    base::Status s = agent_->start();
    ASSERT_TRUE(s) << (s ? "" : s.error().to_string());
  }

  // `podagent WORD --socket SOCKET WORDS...`: before any "--".
  Ran client(std::vector<std::string> words) {
    words.insert(words.begin() + 1, {"--socket", config_.api.socket});
    return podagent(std::move(words));
  }

  model::Node pod(const std::string& name) {
    HttpReply r = http(config_.api.socket, "GET", "/api/v1/namespaces/default/pods/" + name);
    return r.status == 200 ? parse_json(r.body) : model::Node{};
  }

  // The state ("running", "terminated", "waiting") of ephemeral container
  // `name` in the pod's status; "" when it has none.
  std::string ephemeral_state(const std::string& pod_name, const std::string& name) {
    const model::Node p = pod(pod_name);
    const model::Node* status = p.find("status");
    const model::Node* list = status ? status->find("ephemeralContainerStatuses") : nullptr;
    if (!list) return "";
    for (const auto& s : list->items) {
      const model::Node* n = s.find("name");
      const model::Node* state = s.find("state");
      if (n && n->text == name && state && !state->entries.empty())
        return state->entries.front().first;
    }
    return "";
  }

  TempDir dir_;
  config::AgentConfig config_;
  std::unique_ptr<RunningAgent> agent_;
};

TEST_F(CliDebugTest, AddsARunningEphemeralContainerAndPrintsItsName) {
  Ran created = client({"apply", "-f", std::string(PODAGENT_TEST_DATA) + "/manifests/hello.yaml"});
  ASSERT_EQ(created.exit, 0) << created.err;
  ASSERT_TRUE(wait_for([&] { return field(pod("hello"), {"status", "phase"}) == "Running"; }));

  Ran debug = client({"debug", "hello", "--image", "busybox:1.36", "--target", "hello", "--", "sh",
                      "-c", "echo hi"});
  ASSERT_EQ(debug.exit, 0) << debug.err;
  EXPECT_TRUE(std::regex_match(debug.out, std::regex("debugger-[a-z0-9]{5}\n"))) << debug.out;
  const std::string name = debug.out.substr(0, debug.out.size() - 1);
  ASSERT_TRUE(wait_for([&] { return ephemeral_state("hello", name) == "running"; }))
      << http(config_.api.socket, "GET", "/api/v1/namespaces/default/pods/hello").body;
  const model::Node p = pod("hello");
  const model::Node& added = p.find("spec")->find("ephemeralContainers")->items.at(0);
  EXPECT_EQ(added.find("targetContainerName")->text, "hello");
  EXPECT_EQ(p.find("status")->find("containerStatuses")->items.at(0).find("restartCount")->text,
            "0")
      << "the app container was not restarted";

  Ran named = client({"debug", "hello", "--image", "busybox:1.36", "--name", "second"});
  ASSERT_EQ(named.exit, 0) << named.err;
  EXPECT_EQ(named.out, "second\n");
  ASSERT_TRUE(wait_for([&] { return ephemeral_state("hello", "second") == "running"; }));

  // The same name again is refused by the API's validation.
  Ran again = client({"debug", "hello", "--image", "alpine:3", "--name", "second"});
  EXPECT_EQ(again.exit, 1);
  EXPECT_NE(again.err.find("Invalid"), std::string::npos) << again.err;
}

// A static pod takes ephemeral containers too; a relist of its unchanged
// manifest (same UID) keeps them.
TEST_F(CliDebugTest, AStaticPodKeepsItsEphemeralContainerAcrossARelist) {
  const std::string web =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
      "  - name: main\n    image: busybox:1\n";
  move_in(config_.manifest_dir, "web.yaml", web);
  ASSERT_TRUE(wait_for([&] { return field(pod("web-node1"), {"status", "phase"}) == "Running"; }));
  const std::string uid = field(pod("web-node1"), {"metadata", "uid"});
  Ran debug =
      client({"debug", "web-node1", "--image", "busybox:1", "--target", "main", "--name", "dbg"});
  ASSERT_EQ(debug.exit, 0) << debug.err;
  ASSERT_TRUE(wait_for([&] { return ephemeral_state("web-node1", "dbg") == "running"; }));

  // The same file written again, then another pod: once that one runs, the
  // rewritten manifest was read too.
  move_in(config_.manifest_dir, "web.yaml", web);
  move_in(config_.manifest_dir, "other.yaml",
          "apiVersion: v1\nkind: Pod\nmetadata: {name: other}\n"
          "spec:\n  containers:\n  - name: main\n    image: busybox:1\n");
  ASSERT_TRUE(wait_for([&] {
    return field(pod("other-node1"), {"status", "phase"}) == "Running";
  }));
  const model::Node p = pod("web-node1");
  EXPECT_EQ(field(p, {"metadata", "uid"}), uid);
  ASSERT_NE(p.find("spec")->find("ephemeralContainers"), nullptr)
      << http(config_.api.socket, "GET", "/api/v1/namespaces/default/pods/web-node1").body;
  EXPECT_EQ(p.find("spec")->find("ephemeralContainers")->items.size(), 1u);
  EXPECT_EQ(ephemeral_state("web-node1", "dbg"), "running");
}

TEST_F(CliDebugTest, UsageAndMissingPods) {
  Ran no_image = client({"debug", "hello"});
  EXPECT_EQ(no_image.exit, 2) << no_image.err;
  Ran missing = client({"debug", "nope", "--image", "busybox:1.36"});
  EXPECT_EQ(missing.exit, 1);
  EXPECT_EQ(missing.err, "Error from server (NotFound): pods \"nope\" not found\n");
}

}  // namespace
}  // namespace podagent::agent
