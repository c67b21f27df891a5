// Runtime::list_pod_into: FakeRuntime's override (which reuses the caller's
// buffer) and the interface's default, against list_pod.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "base/clock.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::runtime {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class ListPodIntoTest : public ::testing::Test {
 protected:
  // Runs `task` until the io_context is idle; nullopt if it did not finish.
  template <typename T>
  std::optional<T> run(Task<T> task) {
    std::optional<T> out;
    asio::co_spawn(
        io_, [&out, t = std::move(task)]() mutable -> Task<void> { out.emplace(co_await std::move(t)); },
        asio::detached);
    clock_.settle();
    return out;
  }
  SandboxId sandbox(const std::string& uid) {
    auto pod = std::make_shared<model::Pod>();
    pod->metadata.uid = uid;
    SandboxConfig config{PodUid(uid), "pod-" + uid, "default", 0, pod, {}};
    return **run(rt_.run_sandbox(config));
  }
  ContainerId started(const SandboxId& sb, const std::string& uid, const std::string& name) {
    ContainerConfig config;
    config.spec.name = name;
    config.spec.image = "registry.example/some/long/image/name:" + name;
    config.spec_hash = "hash-" + name;
    auto pod = std::make_shared<model::Pod>();
    pod->metadata.uid = uid;
    config.pod = pod;
    ContainerId id = **run(rt_.create_container(sb, config));
    EXPECT_TRUE(run(rt_.start_container(id))->ok());
    return id;
  }
  PodRuntimeState listed(const std::string& uid) { return **run(rt_.list_pod(PodUid(uid))); }

  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor()};
};

TEST_F(ListPodIntoTest, ReplacesTheBufferWithWhatListPodReturns) {
  SandboxId a = sandbox("uid-a");
  started(a, "uid-a", "one");
  started(a, "uid-a", "two");
  SandboxId b = sandbox("uid-b");
  started(b, "uid-b", "three");
  PodRuntimeState buffer;
  ASSERT_TRUE(run(rt_.list_pod_into(PodUid("uid-a"), buffer))->ok());
  EXPECT_EQ(buffer, listed("uid-a"));
  EXPECT_EQ(buffer.containers.size(), 2u);
  ASSERT_TRUE(run(rt_.list_pod_into(PodUid("uid-b"), buffer))->ok());  // a smaller pod: nothing stale left
  EXPECT_EQ(buffer, listed("uid-b"));
  ASSERT_TRUE(run(rt_.list_pod_into(PodUid("nobody"), buffer))->ok());
  EXPECT_EQ(buffer, PodRuntimeState{});
  EXPECT_EQ(rt_.count(Op::ListPod), 5u);  // 3 here, 2 by listed()
  ASSERT_FALSE(rt_.calls().empty());
  EXPECT_EQ(rt_.calls().back(), (FakeCall{Op::ListPod, "nobody", "", true}));
}

TEST_F(ListPodIntoTest, ListingTheSamePodAgainKeepsTheBuffersStorage) {
  SandboxId a = sandbox("uid-a");
  started(a, "uid-a", "one");
  PodRuntimeState buffer;
  ASSERT_TRUE(run(rt_.list_pod_into(PodUid("uid-a"), buffer))->ok());
  const ContainerStatus* element = buffer.containers.data();
  const char* image = buffer.containers[0].image.data();
  ASSERT_TRUE(run(rt_.list_pod_into(PodUid("uid-a"), buffer))->ok());
  EXPECT_EQ(buffer.containers.data(), element);
  EXPECT_EQ(buffer.containers[0].image.data(), image);
  EXPECT_EQ(buffer, listed("uid-a"));
}

TEST_F(ListPodIntoTest, InjectedErrorsAndLatencyApply) {
  sandbox("uid-a");
  PodRuntimeState buffer;
  rt_.fail_next(Op::ListPod, base::Error("boom"));
  auto failed = run(rt_.list_pod_into(PodUid("uid-a"), buffer));
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->ok());
  EXPECT_FALSE(rt_.calls().back().ok);
  EXPECT_EQ(rt_.calls().back().id, "uid-a");

  rt_.set_latency(Op::ListPod, 1s);
  std::optional<base::Status> late;
  asio::co_spawn(
      io_, [&]() -> Task<void> { late.emplace(co_await rt_.list_pod_into(PodUid("uid-a"), buffer)); },
      asio::detached);
  clock_.settle();
  EXPECT_FALSE(late);
  clock_.advance(1s);
  ASSERT_TRUE(late);
  EXPECT_TRUE(late->ok());
  EXPECT_EQ(buffer.sandboxes.size(), 1u);
}

// The interface's default (for backends without an override) moves
// list_pod's result in, replacing what the buffer held.
TEST_F(ListPodIntoTest, DefaultMovesListPodsResultIn) {
  SandboxId a = sandbox("uid-a");
  started(a, "uid-a", "one");
  SandboxId b = sandbox("uid-b");
  started(b, "uid-b", "two");
  PodRuntimeState buffer = listed("uid-b");
  ASSERT_TRUE(run(rt_.Runtime::list_pod_into(PodUid("uid-a"), buffer))->ok());
  EXPECT_EQ(buffer, listed("uid-a"));
  rt_.fail_next(Op::ListPod, base::Error("boom"));
  auto failed = run(rt_.Runtime::list_pod_into(PodUid("uid-a"), buffer));
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->ok());
}

}  // namespace
}  // namespace podagent::runtime
