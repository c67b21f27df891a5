// EvictionManager on a FakeClock with a real VolumeManager in a temp dir:
// a pod whose disk emptyDir holds more than its sizeLimit is evicted at the
// first check after it does, with the kubelet's message; pods under their
// limit, without one, or with a Memory emptyDir are left alone.

#include "agent/eviction_manager.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <map>
#include <string>

#include "tests/agent/agent_test_util.h"
#include "volumes/volume_manager.h"

namespace podagent::agent {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

model::Pod pod_with(const std::string& uid, const std::string& medium,
                    std::optional<std::string> limit) {
  model::Pod pod;
  pod.metadata.name = "pod-" + uid;
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = uid;
  model::Volume v;
  v.name = "scratch";
  v.empty_dir = model::EmptyDirVolumeSource{};
  v.empty_dir->medium = medium;
  if (limit) v.empty_dir->size_limit = *model::Quantity::parse(*limit);
  pod.spec.volumes.push_back(v);
  return pod;
}

class EvictionManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EvictionManagerOptions o;
    o.pods = [this] {
      std::vector<std::shared_ptr<const model::Pod>> out;
      for (const auto& [uid, pod] : pods_) out.push_back(pod);
      return out;
    };
    o.evict = [this](const base::PodUid& uid, const std::string& message) {
      evicted_[uid.str()] = message;
      return pods_.erase(uid.str()) > 0;  // no longer running
    };
    manager_ =
        std::make_unique<EvictionManager>(volumes_, clock_, io_.get_executor(), std::move(o));
  }
  void TearDown() override {
    manager_->stop();
    clock_.settle();
  }
  void add(const model::Pod& pod, int64_t bytes) {
    auto shared = std::make_shared<const model::Pod>(pod);
    ASSERT_TRUE(volumes_.prepare(*shared, {}, {}).ok());
    std::ofstream out(volumes_.volume_dir(base::PodUid(pod.metadata.uid), "scratch") / "data",
                      std::ios::binary);
    out << std::string(static_cast<size_t>(bytes), 'x');
    pods_[pod.metadata.uid] = std::move(shared);
  }
  // Lets a check in flight (on the manager's thread) deliver its verdicts;
  // its work guard keeps run_one waiting until it posts them.
  void finish_check() {
    io_.restart();
    while (manager_->checking()) io_.run_one();
  }

  boost::asio::io_context io_;
  base::FakeClock clock_{io_};
  TempDir dir_;
  volumes::VolumeManager volumes_{dir_.path() / "pods"};
  std::map<std::string, std::shared_ptr<const model::Pod>> pods_;
  std::map<std::string, std::string> evicted_;
  std::unique_ptr<EvictionManager> manager_;
};

TEST_F(EvictionManagerTest, APodOverItsLimitIsEvictedAtTheNextCheck) {
  add(pod_with("over", "", "1Mi"), 2 << 20);
  add(pod_with("under", "", "8Mi"), 2 << 20);
  add(pod_with("unlimited", "", std::nullopt), 2 << 20);
  manager_->start();
  clock_.advance(9900ms);
  EXPECT_FALSE(manager_->checking());
  EXPECT_EQ(manager_->checks(), 0u);
  clock_.advance(100ms);  // the check starts (and may end while the clock settles)
  finish_check();
  EXPECT_EQ(manager_->checks(), 1u);
  EXPECT_EQ(manager_->evictions(), 1u);
  EXPECT_EQ(evicted_,
            (std::map<std::string, std::string>{
                {"over", "Usage of EmptyDir volume \"scratch\" exceeds the limit \"1Mi\"."}}));

  // The next period: the pod under its limit grows past it.
  std::ofstream(volumes_.volume_dir(base::PodUid("under"), "scratch") / "more", std::ios::binary)
      << std::string(7 << 20, 'y');
  clock_.advance(10s);
  finish_check();
  EXPECT_EQ(manager_->checks(), 2u);
  EXPECT_EQ(evicted_.count("under"), 1u);
  EXPECT_EQ(evicted_.count("unlimited"), 0u);
}

TEST_F(EvictionManagerTest, PodsWithoutALimitedDiskEmptyDirCostNoWalk) {
  add(pod_with("unlimited", "", std::nullopt), 2 << 20);
  pods_["ram"] = std::make_shared<const model::Pod>(pod_with("ram", "Memory", "1Ki"));
  manager_->check();
  EXPECT_FALSE(manager_->checking());  // nothing handed to the thread
  EXPECT_EQ(manager_->checks(), 1u);
  EXPECT_TRUE(evicted_.empty());
}

TEST_F(EvictionManagerTest, StoppedChecksNothing) {
  add(pod_with("over", "", "1Mi"), 2 << 20);
  manager_->start();
  manager_->stop();
  clock_.advance(60s);
  manager_->check();
  EXPECT_EQ(manager_->checks(), 0u);
  EXPECT_TRUE(evicted_.empty());
}

}  // namespace
}  // namespace podagent::agent
