// A pod waiting for its image starts as soon as the image is imported: the
// runtime's images-changed hook makes the agent sync its pods at once. The
// agent runs on its own io_context thread with the fake runtime and a
// FakeClock that never moves, so that neither a relist nor the end of a
// pull backoff can start the pod: only the hook can.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "agent/agent.h"
#include "base/clock.h"
#include "runtime/fake/fake_runtime.h"
#include "tests/agent/agent_test_util.h"

namespace podagent::agent {
namespace {

using namespace testing;

constexpr const char* kApiPods = "/api/v1/namespaces/default/pods";

std::string pod_json(const std::string& name, const std::string& policy) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"("},"spec":{"containers":[{"name":"main","image":"app:1","imagePullPolicy":")" + policy +
         R"("}]}})";
}

class AgentImageImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test_config(dir_.path());
    config_.runtime.relist_period = std::chrono::hours(1);
    AgentOptions options;
    options.config = config_;
    options.env = [](std::string_view) { return std::optional<std::string>(); };
    options.clock = &clock_;
    options.runtime_factory = [this](const config::AgentConfig&, base::Clock& clock,
                                     boost::asio::any_io_executor executor)
        -> base::Result<std::unique_ptr<runtime::Runtime>> {
      runtime::FakeRuntime::Options o;
      o.images_present = false;  // the node's store is empty
      auto rt = std::make_unique<runtime::FakeRuntime>(clock, std::move(executor), o);
      runtime_ = rt.get();
      return std::unique_ptr<runtime::Runtime>(std::move(rt));
    };
    agent_ = std::make_unique<RunningAgent>(std::move(options));
    base::Status s = agent_->start();
    ASSERT_TRUE(s) << (s ? "" : s.error().to_string());
  }

  HttpReply get(const std::string& name) {
    return http(config_.api.socket, "GET", std::string(kApiPods) + "/" + name);
  }
  // Waits until the pod's JSON holds `text`.
  bool wait_for_text(const std::string& name, const std::string& text) {
    return wait_for([&] { return get(name).body.find(text) != std::string::npos; });
  }
  bool running(const std::string& name) {
    HttpReply r = get(name);
    return r.status == 200 && field(parse_json(r.body), {"status", "phase"}) == "Running";
  }
  void import_image(const std::string& ref) {
    agent_->on_io([&] { runtime_->add_image(ref); });
  }

  TempDir dir_;
  config::AgentConfig config_;
  // The clock's own io_context is never run: its time stays where it is.
  boost::asio::io_context clock_io_;
  base::FakeClock clock_{clock_io_};
  runtime::FakeRuntime* runtime_ = nullptr;  // owned by the agent
  std::unique_ptr<RunningAgent> agent_;
};

TEST_F(AgentImageImportTest, ANeverPodStartsRightAfterItsImageIsImported) {
  ASSERT_EQ(http(config_.api.socket, "POST", kApiPods, pod_json("p1", "Never")).status, 201);
  ASSERT_TRUE(wait_for_text("p1", "ErrImageNeverPull")) << get("p1").body;
  EXPECT_FALSE(running("p1"));

  import_image("busybox:other");  // another image: still waiting
  import_image("app:1");
  ASSERT_TRUE(wait_for([&] { return running("p1"); })) << get("p1").body;
  EXPECT_EQ(get("p1").body.find("ErrImageNeverPull"), std::string::npos);
  const size_t sandboxes = agent_->on_io([&] { return runtime_->sandbox_count(); });
  EXPECT_EQ(sandboxes, 1u);  // started in the sandbox it waited in
}

TEST_F(AgentImageImportTest, AnImportEndsThePullBackoffOfAnAlwaysPod) {
  ASSERT_EQ(http(config_.api.socket, "POST", kApiPods, pod_json("p1", "Always")).status, 201);
  // The failed pull (ErrImagePull, then ImagePullBackOff) is in its 10 s
  // backoff, which this clock never ends.
  ASSERT_TRUE(wait_for_text("p1", "ImagePull")) << get("p1").body;

  import_image("app:1");
  ASSERT_TRUE(wait_for([&] { return running("p1"); })) << get("p1").body;
  const size_t pulls = agent_->on_io([&] { return runtime_->count(runtime::Op::PullImage); });
  EXPECT_EQ(pulls, 2u);  // the failed one, then the one after the import
}

}  // namespace
}  // namespace podagent::agent
