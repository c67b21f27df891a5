// Eviction of a pod (the kubelet's local storage eviction): the lifecycle
// event, PodWorkers::evict with FakeRuntime and FakeClock, and the disk
// emptyDirs the pod worker makes.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "podworker/lifecycle.h"
#include "podworker/pod_volumes.h"
#include "podworker/pod_workers.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::podworker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using runtime::ContainerState;
using runtime::FakeRuntime;
using runtime::Op;

const std::string kMessage = "Usage of EmptyDir volume \"scratch\" exceeds the limit \"1Mi\".";

// ------------------------------------------------------------ lifecycle

TEST(EvictedLifecycleTest, RunningStopsAtOnceWithTheReasonAndMessage) {
  const base::SteadyTime t0 = base::SteadyTime{} + 100s;
  using namespace lifecycle;
  EXPECT_EQ(next(Running{t0}, Evicted{0s, kMessage}, t0 + 5s),
            State(Terminating{t0 + 5s, kReasonEvicted, kMessage, false}));
  // Already stopping: its own reason stays, the grace only shrinks.
  const Terminating deleting{t0 + 30s, kReasonDeleted, "", true};
  EXPECT_EQ(next(deleting, Evicted{0s, kMessage}, t0 + 1s),
            State(Terminating{t0 + 1s, kReasonDeleted, "", true}));
  EXPECT_EQ(next(deleting, Evicted{60s, kMessage}, t0), State(deleting));
  // Nothing runs: nothing to evict.
  EXPECT_EQ(next(Pending{}, Evicted{0s, kMessage}, t0), State(Pending{}));
  EXPECT_EQ(next(Terminated{"Completed", ""}, Evicted{0s, kMessage}, t0),
            State(Terminated{"Completed", ""}));
  EXPECT_EQ(next(Finished{}, Evicted{0s, kMessage}, t0), State(Finished{}));
}

// ---------------------------------------------------------- PodWorkers

struct Recorded {
  std::string uid, type, reason, message;
};

class ListRecorder final : public base::EventRecorder {
 public:
  // Keeps only the Evicted events (the workers also report Created,
  // Started, Killing, ...).
  void record(const base::PodUid& pod, std::string_view type, std::string_view reason,
              std::string_view, std::string message) override {
    if (reason == "Evicted")
      events.push_back({pod.str(), std::string(type), std::string(reason), std::move(message)});
  }
  std::vector<Recorded> events;
};

model::Pod make_pod(const std::string& uid, const std::string& policy) {
  model::Pod pod;
  pod.metadata.name = "pod-" + uid;
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = uid;
  pod.spec.restart_policy = policy;
  pod.spec.termination_grace_period_seconds = 30;
  model::Container c;
  c.name = "a";
  c.image = "busybox:latest";
  // A preStop hook would delay the kill: an eviction skips it.
  model::Handler hook;
  hook.exec = model::ExecAction{{"sleep", "20"}};
  c.lifecycle = model::Lifecycle{std::nullopt, hook};
  pod.spec.containers.push_back(c);
  return pod;
}

class EvictionTest : public testing::Test {
 protected:
  void SetUp() override {
    PodWorkers::Options options;
    options.events = &events_;
    workers_ = std::make_unique<PodWorkers>(rt_, clock_, io_.get_executor(), std::move(options));
    t0_ = clock_.now();
  }
  void TearDown() override {
    workers_->stop();
    clock_.settle();
  }
  size_t running(const std::string& uid) const {
    size_t n = 0;
    for (const auto& c : rt_.pod_state(base::PodUid(uid)).containers)
      n += c.state == ContainerState::Running;
    return n;
  }
  size_t calls(Op op) const {
    size_t n = 0;
    for (const auto& c : rt_.calls()) n += c.op == op && c.ok;
    return n;
  }

  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor()};
  ListRecorder events_;
  std::unique_ptr<PodWorkers> workers_;
  base::SteadyTime t0_;
};

TEST_F(EvictionTest, EvictKillsAtOnceFailsThePodAndNothingRestarts) {
  rt_.script("a").ignore_sigterm();
  workers_->update(make_pod("u1", "Always"));
  clock_.settle();
  ASSERT_EQ(running("u1"), 1u);
  ASSERT_EQ(calls(Op::CreateContainer), 1u);

  EXPECT_TRUE(workers_->evict(base::PodUid("u1"), kMessage));
  clock_.settle();  // no time passes: grace period 0, no preStop hook
  EXPECT_EQ(clock_.now(), t0_);
  EXPECT_EQ(running("u1"), 0u);
  EXPECT_EQ(calls(Op::Exec), 0u);
  EXPECT_TRUE(std::holds_alternative<lifecycle::Terminated>(*workers_->state(base::PodUid("u1"))));
  auto status = workers_->status(base::PodUid("u1"));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->phase, model::kPhaseFailed);
  EXPECT_EQ(status->reason, "Evicted");
  EXPECT_EQ(status->message, kMessage);
  ASSERT_EQ(events_.events.size(), 1u);
  EXPECT_EQ(events_.events[0].uid, "u1");
  EXPECT_EQ(events_.events[0].type, "Warning");
  EXPECT_EQ(events_.events[0].reason, "Evicted");
  EXPECT_EQ(events_.events[0].message, kMessage);

  // restartPolicy Always: still nothing restarts, and the pod is not
  // evicted twice.
  clock_.advance_to(t0_ + 10min);
  workers_->sync_all();
  clock_.settle();
  EXPECT_EQ(calls(Op::CreateContainer), 1u);
  EXPECT_EQ(running("u1"), 0u);
  EXPECT_FALSE(workers_->evict(base::PodUid("u1"), kMessage));
  EXPECT_EQ(events_.events.size(), 1u);
  EXPECT_EQ(workers_->status(base::PodUid("u1"))->reason, "Evicted");
}

TEST_F(EvictionTest, OnlyRunningPodsAreListedAndEvicted) {
  workers_->update(make_pod("u1", "Always"));
  workers_->update(make_pod("u2", "Never"));
  clock_.settle();
  auto uids = [&] {
    std::vector<std::string> out;
    for (const auto& p : workers_->running_pods()) out.push_back(p->metadata.uid);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(uids(), (std::vector<std::string>{"u1", "u2"}));
  EXPECT_FALSE(workers_->evict(base::PodUid("nobody"), kMessage));
  ASSERT_TRUE(workers_->evict(base::PodUid("u2"), kMessage));
  EXPECT_EQ(uids(), (std::vector<std::string>{"u1"}));
  clock_.settle();
  EXPECT_EQ(running("u1"), 1u);
  EXPECT_EQ(running("u2"), 0u);
  // A deleted pod is stopping, not evicted.
  workers_->remove(base::PodUid("u1"));
  EXPECT_FALSE(workers_->evict(base::PodUid("u1"), kMessage));
  EXPECT_TRUE(uids().empty());
}

// ------------------------------------------------------ written volumes

TEST(EvictionVolumesTest, DiskEmptyDirsAreWrittenByThePodWorkerMemoryOnesAreNot) {
  model::Pod pod;
  model::Volume v;
  v.name = "scratch";
  v.empty_dir = model::EmptyDirVolumeSource{};
  pod.spec.volumes = {v};
  EXPECT_TRUE(has_written_volumes(pod));
  pod.spec.volumes[0].empty_dir->medium = "Memory";
  EXPECT_FALSE(has_written_volumes(pod));
}

}  // namespace
}  // namespace podagent::podworker
