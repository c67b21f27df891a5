// `podagent describe pod` and the events API against an Agent running
// in-process with the fake runtime: the pod workers' events reach the API
// and the describe output.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/agent/agent_test_util.h"
#include "tests/agent/run_podagent.h"

namespace podagent::agent {
namespace {

using namespace testing;

constexpr const char* kHooked = R"(apiVersion: v1
kind: Pod
metadata: {name: hooked}
spec:
  containers:
  - name: web
    image: busybox:1.36
    lifecycle:
      postStart:
        exec: {command: [/bin/sh, -c, "touch /ready"]}
    readinessProbe:
      exec: {command: [cat, /ready]}
      periodSeconds: 5
)";

class CliDescribeTest : public ::testing::Test {
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

  Ran client(std::vector<std::string> words) {
    words.push_back("--socket");
    words.push_back(config_.api.socket);
    return podagent(std::move(words));
  }

  // The reasons of the events the API lists at `target`.
  std::vector<std::string> reasons(const std::string& target) {
    HttpReply r = http(config_.api.socket, "GET", target);
    std::vector<std::string> out;
    if (r.status != 200) return out;
    const model::Node list = parse_json(r.body);
    if (const model::Node* items = list.find("items"))
      for (const auto& item : items->items) out.push_back(field(item, {"reason"}));
    return out;
  }

  TempDir dir_;
  config::AgentConfig config_;
  std::unique_ptr<RunningAgent> agent_;
};

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST_F(CliDescribeTest, EventsOfThePodWorkersReachTheApiAndDescribe) {
  const fs::path manifest = dir_.path() / "hooked.yaml";
  write_file(manifest, kHooked);
  Ran created = client({"apply", "-f", manifest.string()});
  ASSERT_EQ(created.exit, 0) << created.err;
  const std::string selected =
      "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dhooked";
  ASSERT_TRUE(wait_for([&] { return has(reasons(selected), "Started"); }));
  const auto all = reasons(selected);
  EXPECT_TRUE(has(all, "Pulled"));
  EXPECT_TRUE(has(all, "Created"));
  EXPECT_TRUE(reasons("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dother")
                  .empty());
  EXPECT_TRUE(has(reasons("/api/v1/events"), "Started"));

  Ran described = client({"describe", "pod", "hooked"});
  ASSERT_EQ(described.exit, 0) << described.err;
  EXPECT_TRUE(described.out.starts_with("Name:             hooked\n")) << described.out;
  EXPECT_NE(
      described.out.find(
          "Probes and Hooks:\n  web:\n"
          "    Readiness: exec [cat /ready] delay=0s timeout=1s period=5s #success=1 #failure=3\n"
          "    PostStart: exec [/bin/sh -c touch /ready]\n"),
      std::string::npos)
      << described.out;
  EXPECT_NE(described.out.find("\nEvents:\n  Type "), std::string::npos) << described.out;
  EXPECT_NE(described.out.find("podagent  Started container web\n"), std::string::npos)
      << described.out;

  // Deleted: once the pod is gone, so are its events.
  Ran deleted = client({"delete", "pod", "hooked", "--grace-period", "0"});
  ASSERT_EQ(deleted.exit, 0) << deleted.err;
  ASSERT_TRUE(wait_for([&] {
    return http(config_.api.socket, "GET", "/api/v1/namespaces/default/pods/hooked").status == 404;
  }));
  EXPECT_TRUE(reasons(selected).empty());
}

}  // namespace
}  // namespace podagent::agent
