// The agent's pod log retention, wired: a deleted pod's log directory goes
// once podLogsRetention has passed after its containers were removed, and
// an agent starting removes the old directories of pods no source wants
// while keeping those of the pods it runs. The agent runs in-process on its
// own io_context thread with the fake runtime (which writes the CRI log
// files); the test polls (bounded), never sleeps a fixed time. The timing
// itself is tested on a FakeClock in pod_log_retention_test.cc.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "agent/agent.h"
#include "runtime/fake/fake_runtime.h"
#include "tests/agent/agent_test_util.h"

namespace podagent::agent {
namespace {

using namespace testing;

constexpr const char* kApiPods = "/api/v1/namespaces/default/pods";
constexpr const char* kManifest =
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
    "  - name: main\n    image: busybox:1\n";

// Sets the modification time of the directory and of everything under it
// to a day after the epoch: older than any retention.
void make_old(const fs::path& dir) {
  const timespec old[2] = {{86400, 0}, {86400, 0}};
  for (const auto& e : fs::recursive_directory_iterator(dir))
    ASSERT_EQ(::utimensat(AT_FDCWD, e.path().c_str(), old, AT_SYMLINK_NOFOLLOW), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, dir.c_str(), old, AT_SYMLINK_NOFOLLOW), 0);
}

class AgentPodLogsRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = test_config(dir_.path()); }

  void start(RuntimeFactory factory = nullptr) {
    AgentOptions options;
    options.config = config_;
    options.env = [](std::string_view) { return std::optional<std::string>(); };
    options.runtime_factory = std::move(factory);
    agent_ = std::make_unique<RunningAgent>(std::move(options));
    base::Status s = agent_->start();
    ASSERT_TRUE(s) << (s ? "" : s.error().to_string());
  }
  // The pod's UID once it runs; empty if it does not within the deadline.
  std::string running_uid(const std::string& name) {
    std::string uid;
    wait_for([&] {
      HttpReply r = http(config_.api.socket, "GET", std::string(kApiPods) + "/" + name);
      if (r.status != 200) return false;
      model::Node pod = parse_json(r.body);
      uid = field(pod, {"metadata", "uid"});
      return field(pod, {"status", "phase"}) == "Running";
    });
    return uid;
  }
  fs::path logs() const { return config_.pod_logs_dir; }

  TempDir dir_;
  config::AgentConfig config_;
  std::unique_ptr<RunningAgent> agent_;
};

TEST_F(AgentPodLogsRetentionTest, ADeletedPodsLogsGoOnceItsContainersAreRemoved) {
  config_.pod_logs_retention = base::Duration::zero();
  start();
  const std::string body =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"containers":[{"name":"main","image":"busybox:1"}]}})";
  ASSERT_EQ(http(config_.api.socket, "POST", kApiPods, body).status, 201);
  const std::string uid = running_uid("p1");
  ASSERT_FALSE(uid.empty());
  const fs::path pod_logs = logs() / ("default_p1_" + uid);
  ASSERT_TRUE(fs::exists(pod_logs / "main" / "0.log"));

  ASSERT_EQ(
      http(config_.api.socket, "DELETE", std::string(kApiPods) + "/p1?gracePeriodSeconds=0").status,
      200);
  EXPECT_TRUE(wait_for([&] { return !fs::exists(pod_logs); }));
  EXPECT_EQ(http(config_.api.socket, "GET", std::string(kApiPods) + "/p1").status, 404);
  EXPECT_TRUE(fs::exists(logs()));
}

TEST_F(AgentPodLogsRetentionTest, AtStartOldLogsOfPodsNoSourceWantsGoAndTheRunningPodsStay) {
  move_in(config_.manifest_dir, "web.yaml", kManifest);
  start();
  const std::string uid = running_uid("web-node1");
  ASSERT_FALSE(uid.empty());
  agent_.reset();  // stopped; its containers would run on

  const fs::path web = logs() / ("default_web-node1_" + uid);
  ASSERT_TRUE(fs::exists(web / "main" / "0.log"));
  make_old(web);
  const fs::path gone = logs() / "default_gone_0b5c7a4e";
  fs::create_directories(gone / "main");
  write_file(gone / "main" / "0.log", "old\n");
  make_old(gone);
  const fs::path young = logs() / "default_young_1c2d3e4f";
  fs::create_directories(young / "main");  // modified just now

  // The next agent's runtime creates no container, so that nothing of this
  // run writes into the old directory: only the sweep's rule keeps it.
  start(
      [](const config::AgentConfig&, base::Clock& clock,
         boost::asio::any_io_executor executor) -> base::Result<std::unique_ptr<runtime::Runtime>> {
        auto rt = std::make_unique<runtime::FakeRuntime>(clock, std::move(executor));
        rt->fail_when([](const runtime::FakeCall& call) -> std::optional<base::Error> {
          if (call.op == runtime::Op::CreateContainer) return base::Error("not in this test");
          return std::nullopt;
        });
        return std::unique_ptr<runtime::Runtime>(std::move(rt));
      });
  ASSERT_TRUE(wait_for([&] { return !fs::exists(gone); }));
  EXPECT_TRUE(fs::exists(web / "main" / "0.log"));  // the same sweep kept it
  EXPECT_TRUE(fs::exists(young));
}

}  // namespace
}  // namespace podagent::agent
