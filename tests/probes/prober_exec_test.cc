// exec through the FakeRuntime: verdicts, output, the timeout, runtime
// errors.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>

#include "tests/probes/http_test_fixture.h"

namespace podagent::probes::testing {
namespace {

using namespace std::chrono_literals;

class ExecProberTest : public ProberTest {
 protected:
  // A running container "app" in a pod of the fake.
  void SetUp() override {
    auto pod = std::make_shared<model::Pod>();
    pod->metadata.name = "p";
    pod->metadata.uid = "uid-1";
    runtime::SandboxConfig sandbox{base::PodUid("uid-1"), "p", "default", 0, pod, {}};
    auto sb = await(fake_.run_sandbox(sandbox));
    ASSERT_TRUE(sb);
    runtime::ContainerConfig config;
    config.spec.name = "app";
    config.pod = pod;
    auto id = await(fake_.create_container(*sb, config));
    ASSERT_TRUE(id);
    ASSERT_TRUE(await(fake_.start_container(*id)));
    target_.container_id = *id;
    target_.sandbox_id = *sb;
  }

  template <typename T>
  T await(runtime::Task<T> task) {
    std::optional<T> out;
    boost::asio::co_spawn(
        io_, [&out, t = std::move(task)]() mutable -> runtime::Task<void> { out.emplace(co_await std::move(t)); },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    clock_.settle();
    return std::move(out.value());
  }

  static model::Handler exec(std::vector<std::string> command) {
    model::Handler h;
    h.exec = model::ExecAction{std::move(command)};
    return h;
  }
};

TEST_F(ExecProberTest, ExitZeroSucceedsWithItsOutput) {
  fake_.script("app").exec_result({0, "fine\n", "", false});
  const ProbeOutcome out = run(exec({"cat", "/tmp/healthy"}));
  EXPECT_EQ(out.result, ProbeResult::Success);
  EXPECT_EQ(out.message, "fine\n");
  ASSERT_EQ(fake_.execs().size(), 1u);
  EXPECT_EQ(fake_.execs()[0].command, (std::vector<std::string>{"cat", "/tmp/healthy"}));
  EXPECT_EQ(fake_.execs()[0].container_id, target_.container_id);
}

TEST_F(ExecProberTest, ANonzeroExitFailsWithTheCombinedOutputCapped) {
  fake_.script("app").exec_result({1, "out\n", "err\n", false});
  ProbeOutcome out = run(exec({"false"}));
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, "out\nerr\n");

  fake_.script("app").exec_result({2, std::string(8 * 1024, 'o'), std::string(8 * 1024, 'e'), false});
  out = run(exec({"false"}));
  EXPECT_EQ(out.result, ProbeResult::Failure);
  ASSERT_EQ(out.message.size(), 10u * 1024);
  EXPECT_EQ(out.message.substr(0, 8 * 1024), std::string(8 * 1024, 'o'));
  EXPECT_EQ(out.message.substr(8 * 1024), std::string(2 * 1024, 'e'));
}

TEST_F(ExecProberTest, ACommandPastTheTimeoutFails) {
  fake_.script("app").exec_result({0, "late", "", false}, 5s);
  std::optional<ProbeOutcome> out;
  const model::Handler handler = exec({"sleep", "5"});  // outlives the probe, which refers to it
  boost::asio::co_spawn(io_, prober_->probe(target_, handler, 1000ms),
                        [&](std::exception_ptr e, ProbeOutcome o) {
                          if (e) std::rethrow_exception(e);
                          out = std::move(o);
                        });
  clock_.advance(999ms);
  EXPECT_FALSE(out) << "still running before the deadline";
  clock_.advance(1ms);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->result, ProbeResult::Failure);
  EXPECT_EQ(out->message, "command timed out");
}

TEST_F(ExecProberTest, ARuntimeErrorFailsWithItsMessage) {
  target_.container_id = base::ContainerId("container-404");
  const ProbeOutcome out = run(exec({"true"}));
  EXPECT_EQ(out.result, ProbeResult::Failure);
  EXPECT_EQ(out.message, "no such container: container-404");
}

}  // namespace
}  // namespace podagent::probes::testing
