// The agent's orphan cleanup across a restart: the runtime (a FakeRuntime
// owned by the test, so that it outlives the first agent, as containers do)
// keeps the pods of the first agent; a manifest deleted while no agent ran
// leaves a pod that no source wants, which the second agent removes, while
// the pods still desired are adopted untouched. Both agents run in-process,
// one after the other, on one io_context driven by a thread of the test;
// the test polls (bounded), never sleeps a fixed time.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <set>
#include <string>
#include <thread>

#include "agent/agent.h"
#include "runtime/fake/fake_runtime.h"
#include "tests/agent/agent_test_util.h"

namespace podagent::agent {
namespace {

using namespace testing;
namespace asio = boost::asio;

// Lends a runtime the test owns to an agent, which owns what its factory
// returns. On destruction, events stop going to the agent's workers.
class LentRuntime final : public runtime::Runtime {
 public:
  explicit LentRuntime(runtime::Runtime& to) : to_(to) {}
  ~LentRuntime() override { to_.set_event_handlers([](const auto&) {}, [](const auto&) {}); }

  runtime::Task<base::Result<base::SandboxId>> run_sandbox(const runtime::SandboxConfig& c) override {
    return to_.run_sandbox(c);
  }
  runtime::Task<base::Status> stop_sandbox(const base::SandboxId& id) override { return to_.stop_sandbox(id); }
  runtime::Task<base::Status> remove_sandbox(const base::SandboxId& id) override { return to_.remove_sandbox(id); }
  runtime::Task<base::Result<base::ContainerId>> create_container(const base::SandboxId& sandbox,
                                                                  const runtime::ContainerConfig& c) override {
    return to_.create_container(sandbox, c);
  }
  runtime::Task<base::Status> start_container(const base::ContainerId& id) override {
    return to_.start_container(id);
  }
  runtime::Task<base::Status> stop_container(const base::ContainerId& id, std::chrono::milliseconds grace) override {
    return to_.stop_container(id, grace);
  }
  runtime::Task<base::Status> remove_container(const base::ContainerId& id) override {
    return to_.remove_container(id);
  }
  runtime::Task<base::Result<std::vector<runtime::SandboxStatus>>> list_sandboxes() override {
    return to_.list_sandboxes();
  }
  runtime::Task<base::Result<std::vector<runtime::ContainerStatus>>> list_containers() override {
    return to_.list_containers();
  }
  runtime::Task<base::Result<runtime::ContainerStatus>> container_status(const base::ContainerId& id) override {
    return to_.container_status(id);
  }
  runtime::Task<base::Result<runtime::PodRuntimeState>> list_pod(const base::PodUid& pod) override {
    return to_.list_pod(pod);
  }
  runtime::Task<base::Status> list_pod_into(const base::PodUid& pod, runtime::PodRuntimeState& out) override {
    return to_.list_pod_into(pod, out);
  }
  runtime::Task<base::Result<std::optional<std::string>>> image_status(const std::string& ref) override {
    return to_.image_status(ref);
  }
  runtime::Task<base::Result<std::string>> pull_image(const std::string& ref) override {
    return to_.pull_image(ref);
  }
  runtime::Task<base::Result<runtime::ExecResult>> exec(const base::ContainerId& id, std::vector<std::string> command,
                                                        std::chrono::milliseconds timeout) override {
    return to_.exec(id, std::move(command), timeout);
  }
  void set_event_handlers(ContainerEventHandler on_container, SandboxEventHandler on_sandbox) override {
    to_.set_event_handlers(std::move(on_container), std::move(on_sandbox));
  }
  void shutdown() override {}  // the runtime lives on for the next agent

 private:
  runtime::Runtime& to_;
};

std::string manifest(const std::string& name) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name +
         "}\nspec:\n  containers:\n  - name: main\n    image: busybox:1\n  - name: side\n    image: busybox:1\n";
}

std::string pod_path(const std::string& name) { return "/api/v1/namespaces/default/pods/" + name + "-node1"; }

class AgentOrphansTest : public ::testing::Test {
 protected:
  void SetUp() override { config_ = test_config(dir_.path()); }
  void TearDown() override { stop_agent(); }

  void start_agent() {
    AgentOptions options;
    options.config = config_;
    options.env = [](std::string_view) { return std::optional<std::string>(); };
    options.clock = &clock_;
    options.runtime_factory = [this](const config::AgentConfig&, base::Clock&, asio::any_io_executor)
        -> base::Result<std::unique_ptr<runtime::Runtime>> {
      return std::unique_ptr<runtime::Runtime>(std::make_unique<LentRuntime>(runtime_));
    };
    io_.restart();
    agent_ = std::make_unique<Agent>(io_, std::move(options));
    base::Status s = agent_->start();
    ASSERT_TRUE(s) << (s ? "" : s.error().to_string());
    thread_ = std::thread([this] { io_.run(); });
  }
  // Returns once the io_context has run dry: nothing touches the runtime
  // from then on until the next agent starts.
  void stop_agent() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] { agent_->stop(); });
    thread_.join();
    agent_.reset();
  }
  // Runs `fn` on the io_context thread (the runtime's) and waits for it.
  template <typename Fn>
  auto on_io(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }
  // The uid of the static pod `name` once it runs ("" after kDeadline).
  std::string wait_running(const std::string& name) {
    std::string uid;
    wait_for([&] {
      HttpReply r = http(config_.api.socket, "GET", pod_path(name));
      if (r.status != 200) return false;
      model::Node pod = parse_json(r.body);
      uid = field(pod, {"metadata", "uid"});
      return field(pod, {"status", "phase"}) == "Running";
    });
    return uid;
  }
  // The ids of the pod's sandboxes and running containers.
  std::set<std::string> running_ids(const runtime::PodRuntimeState& state) {
    std::set<std::string> ids;
    for (const auto& s : state.sandboxes) ids.insert(s.id.str());
    for (const auto& c : state.containers)
      if (c.state == runtime::ContainerState::Running) ids.insert(c.id.str());
    return ids;
  }

  TempDir dir_;
  config::AgentConfig config_;
  asio::io_context io_;
  base::RealClock clock_;
  runtime::FakeRuntime runtime_{clock_, io_.get_executor()};
  std::unique_ptr<Agent> agent_;
  std::thread thread_;
};

TEST_F(AgentOrphansTest, APodWhoseManifestWentWhileTheAgentWasDownIsRemovedAfterRestart) {
  start_agent();
  move_in(config_.manifest_dir, "keep.yaml", manifest("keep"));
  move_in(config_.manifest_dir, "gone.yaml", manifest("gone"));
  const std::string keep_uid = wait_running("keep");
  const std::string gone_uid = wait_running("gone");
  ASSERT_FALSE(keep_uid.empty());
  ASSERT_FALSE(gone_uid.empty());
  stop_agent();

  // While no agent runs: both pods run on; one manifest is deleted.
  const runtime::PodRuntimeState keep_before = runtime_.pod_state(base::PodUid(keep_uid));
  const std::set<std::string> keep_ids = running_ids(keep_before);
  ASSERT_EQ(keep_ids.size(), 3u);  // a sandbox, two containers
  ASSERT_EQ(runtime_.running_containers(base::PodUid(gone_uid)), 2u);
  std::filesystem::remove(std::filesystem::path(config_.manifest_dir) / "gone.yaml");
  runtime_.clear_calls();

  start_agent();
  EXPECT_TRUE(wait_for([&] {
    return on_io([&] {
      runtime::PodRuntimeState gone = runtime_.pod_state(base::PodUid(gone_uid));
      return gone.sandboxes.empty() && gone.containers.empty();
    });
  })) << "the orphan was not removed";
  EXPECT_EQ(wait_running("keep"), keep_uid);
  EXPECT_EQ(http(config_.api.socket, "GET", pod_path("gone")).status, 404);
  stop_agent();

  // The desired pod was adopted as it was: the same objects, all running,
  // and not one stop or removal on them.
  EXPECT_EQ(runtime_.pod_state(base::PodUid(keep_uid)), keep_before);
  for (const auto& call : runtime_.calls()) {
    const bool touches = call.op == runtime::Op::StopContainer || call.op == runtime::Op::StopSandbox ||
                         call.op == runtime::Op::RemoveContainer || call.op == runtime::Op::RemoveSandbox;
    EXPECT_FALSE(touches && keep_ids.contains(call.id)) << runtime::to_string(call.op) << " " << call.id;
  }
  EXPECT_GE(runtime_.count(runtime::Op::RemoveSandbox), 1u);
}

}  // namespace
}  // namespace podagent::agent
