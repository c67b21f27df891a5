// imagePullPolicy against the node's image store, through PodWorkers with a
// FakeRuntime whose store is scripted, on a FakeClock: the kubelet's
// waiting reasons and image pull backoff, at their exact times.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "podworker/image_puller.h"
#include "podworker/pod_workers.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::podworker {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using runtime::ContainerState;
using runtime::FakeRuntime;
using runtime::Op;

constexpr const char* kImage = "app:1";

model::Container container(const std::string& name, const std::string& image,
                           const std::string& policy) {
  model::Container c;
  c.name = name;
  c.image = image;
  c.image_pull_policy = policy;
  return c;
}

model::Pod make_pod(const std::string& uid, std::vector<model::Container> apps,
                    std::vector<model::Container> inits = {}) {
  model::Pod pod;
  pod.metadata.name = "pod-" + uid;
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = uid;
  pod.spec.restart_policy = "Always";
  pod.spec.termination_grace_period_seconds = 30;
  pod.spec.containers = std::move(apps);
  pod.spec.init_containers = std::move(inits);
  return pod;
}

class ImagePullTest : public testing::Test {
 protected:
  void start(PodWorkers::Options options = {}) {
    options.on_status = [this](const base::PodUid& uid, const model::PodStatus& s) {
      statuses_[uid.str()].push_back(s);
    };
    workers_ = std::make_unique<PodWorkers>(rt_, clock_, io_.get_executor(), std::move(options));
    t0_ = clock_.now();
  }
  void TearDown() override {
    if (workers_) {
      workers_->stop();
      clock_.settle();
    }
  }
  void add(const model::Pod& pod) {
    workers_->update(pod);
    clock_.settle();
  }
  void at(base::Duration since_start) { clock_.advance_to(t0_ + since_start); }

  model::PodStatus status(const std::string& uid) const {
    auto s = workers_->status(base::PodUid(uid));
    return s ? *s : model::PodStatus{};
  }
  // The container's status in the pod's last status (a default one when
  // absent).
  model::ContainerStatus cstatus(const std::string& uid, const std::string& name) const {
    auto s = status(uid);
    for (const auto* list : {&s.init_container_statuses, &s.container_statuses})
      for (const auto& c : *list)
        if (c.name == name) return c;
    return {};
  }
  std::string waiting_reason(const std::string& uid, const std::string& name) const {
    auto c = cstatus(uid, name);
    return c.state.waiting ? c.state.waiting->reason : "";
  }
  std::string waiting_message(const std::string& uid, const std::string& name) const {
    auto c = cstatus(uid, name);
    return c.state.waiting ? c.state.waiting->message : "";
  }
  // The waiting reasons of `name` in every status published, in order,
  // without repeats.
  std::vector<std::string> reasons_seen(const std::string& uid, const std::string& name) const {
    std::vector<std::string> out;
    auto it = statuses_.find(uid);
    if (it == statuses_.end()) return out;
    for (const auto& s : it->second) {
      for (const auto& c : s.container_statuses) {
        if (c.name != name || !c.state.waiting) continue;
        if (out.empty() || out.back() != c.state.waiting->reason)
          out.push_back(c.state.waiting->reason);
      }
    }
    return out;
  }
  size_t running(const std::string& uid, const std::string& name) const {
    size_t n = 0;
    for (const auto& c : rt_.pod_state(base::PodUid(uid)).containers)
      n += c.name == name && c.state == ContainerState::Running;
    return n;
  }
  // Calls of `op`; failed ones only when `failed`.
  size_t calls(Op op, bool failed = false) const {
    size_t n = 0;
    for (const auto& c : rt_.calls()) n += c.op == op && (!failed || !c.ok);
    return n;
  }

  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor()};
  std::unique_ptr<PodWorkers> workers_;
  std::map<std::string, std::vector<model::PodStatus>> statuses_;
  base::SteadyTime t0_;
};

TEST_F(ImagePullTest, NeverWithTheImageAbsentWaitsWithErrImageNeverPullThenStartsOnceImported) {
  start();
  rt_.remove_image(kImage);
  add(make_pod("u1", {container("a", kImage, "Never")}));
  EXPECT_EQ(rt_.sandbox_count(), 1u);  // the sandbox is made; the container waits in it
  EXPECT_EQ(calls(Op::CreateContainer), 0u);
  EXPECT_EQ(calls(Op::PullImage), 0u);  // Never never pulls
  EXPECT_EQ(waiting_reason("u1", "a"), kErrImageNeverPull);
  EXPECT_EQ(waiting_message("u1", "a"),
            "Container image \"app:1\" is not present with pull policy of Never");
  EXPECT_EQ(status("u1").phase, model::kPhasePending);

  at(5s);
  rt_.add_image(kImage);
  workers_->sync_all();  // the periodic resync finds the imported image
  clock_.settle();
  EXPECT_EQ(running("u1", "a"), 1u);
  EXPECT_EQ(rt_.sandbox_count(), 1u);
  EXPECT_EQ(calls(Op::RunSandbox), 1u);
  EXPECT_EQ(calls(Op::PullImage), 0u);
  auto a = cstatus("u1", "a");
  EXPECT_TRUE(a.state.running.has_value());
  EXPECT_EQ(a.image_id, "sha256:fake-app:1");
  EXPECT_EQ(status("u1").phase, model::kPhaseRunning);
}

TEST_F(ImagePullTest, IfNotPresentAbsentPullsBacksOffAndStartsInTheSameSandboxOnceImported) {
  start();
  rt_.remove_image(kImage);
  add(make_pod("u1", {container("a", kImage, "IfNotPresent")}));
  // The failed pull is reported, then ImagePullBackOff once the pod syncs
  // again (here at once: it has just created its sandbox).
  EXPECT_EQ(calls(Op::PullImage), 1u);
  EXPECT_EQ(calls(Op::PullImage, true), 1u);
  EXPECT_EQ(reasons_seen("u1", "a"), (std::vector<std::string>{kErrImagePull, kImagePullBackOff}));
  EXPECT_EQ(waiting_message("u1", "a"), "Back-off pulling image \"app:1\"");
  const auto sandbox = rt_.pod_state(base::PodUid("u1")).sandboxes.at(0).id;

  at(10s - 1ms);
  EXPECT_EQ(calls(Op::PullImage), 1u);
  EXPECT_EQ(waiting_reason("u1", "a"), kImagePullBackOff);
  at(10s);  // the backoff ends: pulled again, failing again
  EXPECT_EQ(calls(Op::PullImage), 2u);
  EXPECT_EQ(waiting_reason("u1", "a"), kErrImagePull);
  EXPECT_NE(waiting_message("u1", "a").find("import"), std::string::npos)
      << waiting_message("u1", "a");
  at(11s - 1ms);
  EXPECT_EQ(waiting_reason("u1", "a"), kErrImagePull);
  at(11s);  // retry_after later the next sync reports the backoff (now 20 s)
  EXPECT_EQ(waiting_reason("u1", "a"), kImagePullBackOff);
  EXPECT_EQ(calls(Op::PullImage), 2u);

  at(15s);
  rt_.add_image(kImage);  // imported during the backoff
  at(30s - 1ms);
  EXPECT_EQ(running("u1", "a"), 0u);
  at(30s);  // the worker wakes by itself when the backoff ends; IfNotPresent finds it
  EXPECT_EQ(running("u1", "a"), 1u);
  EXPECT_EQ(calls(Op::PullImage), 2u);
  EXPECT_EQ(calls(Op::RunSandbox), 1u);
  EXPECT_EQ(rt_.pod_state(base::PodUid("u1")).sandboxes.size(), 1u);
  EXPECT_EQ(rt_.pod_state(base::PodUid("u1")).containers.at(0).sandbox_id, sandbox);
  auto a = cstatus("u1", "a");
  EXPECT_TRUE(a.state.running.has_value());
  EXPECT_EQ(a.restart_count, 0);
  EXPECT_EQ(a.image_id, "sha256:fake-app:1");
  EXPECT_EQ(status("u1").phase, model::kPhaseRunning);
}

TEST_F(ImagePullTest, AnImportedImageIsFoundByTheNextResyncDuringTheBackoff) {
  start();
  rt_.remove_image(kImage);
  add(make_pod("u1", {container("a", kImage, "IfNotPresent")}));
  at(3s);
  rt_.add_image(kImage);
  workers_->sync_all();
  clock_.settle();
  EXPECT_EQ(running("u1", "a"), 1u);
  EXPECT_EQ(calls(Op::PullImage), 1u);  // present now: IfNotPresent does not pull
  EXPECT_EQ(calls(Op::RunSandbox), 1u);
}

TEST_F(ImagePullTest, AlwaysPullsForEveryStartAndNeverAsksForStatus) {
  start();
  rt_.script("a").exit_after(1s, 0);
  add(make_pod("u1", {container("a", kImage, "Always")}));
  EXPECT_EQ(running("u1", "a"), 1u);
  EXPECT_EQ(calls(Op::PullImage), 1u);
  EXPECT_EQ(calls(Op::ImageStatus), 0u);
  at(1s);  // exits 0; restarted (restartPolicy Always) after its 10 s CrashLoopBackOff
  at(11s);
  EXPECT_EQ(running("u1", "a"), 1u);
  EXPECT_EQ(calls(Op::PullImage), 2u);
  EXPECT_EQ(calls(Op::ImageStatus), 0u);
}

TEST_F(ImagePullTest, AlwaysWithAFailingPullReportsTheRuntimesMessage) {
  start();
  rt_.fail_next(Op::PullImage, base::Error("store is locked"));
  add(make_pod("u1", {container("a", kImage, "Always")}));
  EXPECT_EQ(reasons_seen("u1", "a"), (std::vector<std::string>{kErrImagePull, kImagePullBackOff}));
  EXPECT_EQ(calls(Op::CreateContainer), 0u);
  at(1s - 1ms);
  EXPECT_EQ(waiting_reason("u1", "a"), kImagePullBackOff);
  at(10s);  // the next pull succeeds
  EXPECT_EQ(running("u1", "a"), 1u);
  EXPECT_EQ(calls(Op::PullImage), 2u);
  EXPECT_EQ(calls(Op::RunSandbox), 1u);
  bool saw_message = false;
  for (const auto& s : statuses_["u1"])
    for (const auto& c : s.container_statuses)
      saw_message = saw_message || (c.state.waiting && c.state.waiting->reason == kErrImagePull &&
                                    c.state.waiting->message == "store is locked");
  EXPECT_TRUE(saw_message);
}

TEST_F(ImagePullTest, TheBackoffDoublesFromTenSecondsToItsFiveMinuteCap) {
  start();
  rt_.remove_image(kImage);
  add(make_pod("u1", {container("a", kImage, "IfNotPresent")}));
  // Pulls at 0, then after 10, 20, 40, 80, 160, 300, 300 s.
  const std::vector<base::Duration> pulls = {10s, 30s, 70s, 150s, 310s, 610s, 910s};
  size_t n = 1;
  for (auto t : pulls) {
    at(t - 1ms);
    ASSERT_EQ(calls(Op::PullImage), n) << "before " << t.count();
    EXPECT_EQ(waiting_reason("u1", "a"), kImagePullBackOff);
    at(t);
    ASSERT_EQ(calls(Op::PullImage), ++n) << "at " << t.count();
  }
  const auto key = ImagePuller::key("u1", kImage);
  EXPECT_EQ(workers_->image_backoff().current_delay(key), base::Duration(300s));
  EXPECT_EQ(workers_->backoff().size(), 0u);  // no CrashLoopBackOff involved
}

TEST_F(ImagePullTest, TheBackoffIsPerPodAndImage) {
  start();
  rt_.remove_image(kImage);
  add(make_pod("u1",
               {container("a", kImage, "IfNotPresent"), container("b", kImage, "IfNotPresent")}));
  // One pull for the pod's image: the second container meets its backoff.
  EXPECT_EQ(calls(Op::PullImage), 1u);
  EXPECT_EQ(waiting_reason("u1", "a"), kImagePullBackOff);
  EXPECT_EQ(waiting_reason("u1", "b"), kImagePullBackOff);
  at(5s);
  add(make_pod("u2", {container("a", kImage, "IfNotPresent")}));
  EXPECT_EQ(calls(Op::PullImage), 2u);  // another pod: its own backoff
  at(10s);
  EXPECT_EQ(calls(Op::PullImage), 3u);  // u1's backoff ends
  at(15s);
  EXPECT_EQ(calls(Op::PullImage), 4u);  // u2's
}

TEST_F(ImagePullTest, AnInitContainerWaitingForItsImageHoldsBackEverythingAfterIt) {
  start();
  rt_.remove_image("init:1");
  add(make_pod("u1", {container("a", kImage, "IfNotPresent")},
               {container("i", "init:1", "IfNotPresent")}));
  EXPECT_EQ(calls(Op::CreateContainer), 0u);
  auto i = cstatus("u1", "i");
  ASSERT_TRUE(i.state.waiting.has_value());
  EXPECT_EQ(i.state.waiting->reason, kImagePullBackOff);
  EXPECT_EQ(waiting_reason("u1", "a"), "PodInitializing");
  rt_.add_image("init:1");
  rt_.script("i").exit_after(1s, 0);
  at(10s);
  EXPECT_EQ(calls(Op::CreateContainer), 2u);  // i, and a prepared while i runs
  EXPECT_EQ(running("u1", "a"), 0u);
  at(11s);
  EXPECT_EQ(running("u1", "a"), 1u);
  EXPECT_EQ(calls(Op::RunSandbox), 1u);
}

TEST_F(ImagePullTest, AnAppContainerWaitingForItsImageDoesNotHoldBackTheOthers) {
  start();
  rt_.remove_image("missing:1");
  add(make_pod(
      "u1", {container("a", "missing:1", "IfNotPresent"), container("b", kImage, "IfNotPresent")}));
  EXPECT_EQ(running("u1", "b"), 1u);
  EXPECT_EQ(running("u1", "a"), 0u);
  EXPECT_EQ(waiting_reason("u1", "a"), kImagePullBackOff);
  EXPECT_EQ(status("u1").phase, model::kPhasePending);
}

TEST_F(ImagePullTest, DeletingAPodWaitingForItsImageStopsItsSandbox) {
  start();
  rt_.remove_image(kImage);
  add(make_pod("u1", {container("a", kImage, "IfNotPresent")}));
  workers_->remove(base::PodUid("u1"));
  clock_.settle();
  EXPECT_TRUE(workers_->is_finished(base::PodUid("u1")));
  EXPECT_EQ(rt_.sandbox_count(), 0u);
  at(10s);
  EXPECT_EQ(calls(Op::PullImage), 1u);
}

// A pod naming a runtime handler the node lacks fails as a whole at
// admission: nothing of it runs.
TEST_F(ImagePullTest, AnUnknownRuntimeClassFailsThePodAtAdmission) {
  NodeAllocatable node;
  node.cpu_milli = 1000;
  node.memory_bytes = int64_t{1} << 30;
  Admitter admitter(node);
  admitter.set_runtime_handlers({"runc", "crun"});
  PodWorkers::Options options;
  options.admitter = &admitter;
  start(options);
  auto pod = make_pod("u1", {container("a", kImage, "IfNotPresent")});
  pod.spec.runtime_class_name = "kata";
  add(pod);
  auto s = status("u1");
  EXPECT_EQ(s.phase, model::kPhaseFailed);
  EXPECT_EQ(s.reason, "RuntimeClassNotFound");
  EXPECT_EQ(s.message,
            "Pod was rejected: RuntimeClass \"kata\" not found: the node's runtime handlers are "
            "crun, runc");
  EXPECT_EQ(calls(Op::RunSandbox), 0u);
  EXPECT_EQ(calls(Op::PullImage) + calls(Op::ImageStatus), 0u);
  pod.metadata.uid = "u2";
  pod.spec.runtime_class_name = "crun";
  add(pod);
  EXPECT_EQ(running("u2", "a"), 1u);
}

// The sync-duration callback: one observation per sync, of its exact fake
// duration (the runtime's latencies).
TEST_F(ImagePullTest, EverySyncReportsItsDuration) {
  std::vector<base::Duration> seen;
  PodWorkers::Options options;
  options.on_sync_duration = [&](base::Duration d) { seen.push_back(d); };
  start(options);
  rt_.set_latency(Op::ListPod, 5ms);
  rt_.set_latency(Op::PullImage, 7ms);
  add(make_pod("u1", {container("a", kImage, "Always")}));
  at(1s);
  ASSERT_EQ(running("u1", "a"), 1u);
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.size(), workers_->sync_count());
  EXPECT_EQ(seen[0], base::Duration(12ms));  // listing, then the pull
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_EQ(seen[i], base::Duration(5ms)) << i;
  const size_t before = seen.size();
  workers_->sync_all();  // the resync pass settles the pod itself
  at(2s);
  ASSERT_EQ(seen.size(), before + 1);
  EXPECT_EQ(seen.back(), base::Duration(5ms));
  EXPECT_EQ(seen.size(), workers_->sync_count());
}

}  // namespace
}  // namespace podagent::podworker
