// The pod workers write a pod's configMap (and secret, downwardAPI,
// projected) volumes before its containers start, keep them up to date when
// the objects change, and remove them with the pod.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <memory>

#include "podworker/pod_volumes.h"
#include "podworker/pod_workers.h"
#include "runtime/fake/fake_runtime.h"
#include "tests/volumes/volumes_test_util.h"

namespace podagent::podworker {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using runtime::ContainerState;
using runtime::FakeRuntime;
using runtime::Op;
using volumes::volumes_testing::read_text;
using volumes::volumes_testing::TempDir;

model::Pod config_pod() {
  model::Pod pod;
  pod.metadata.name = "web";
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "u1";
  pod.spec.restart_policy = "Always";
  pod.spec.termination_grace_period_seconds = 30;
  model::Volume v;
  v.name = "cfg";
  v.config_map = model::ObjectVolumeSource{"settings", {}, 0644, std::nullopt};
  pod.spec.volumes.push_back(v);
  model::Container c;
  c.name = "app";
  c.image = "busybox:latest";
  model::VolumeMount m;
  m.name = "cfg";
  m.mount_path = "/etc/cfg";
  c.volume_mounts.push_back(m);
  pod.spec.containers.push_back(c);
  return pod;
}

model::ConfigObjectsPtr settings(const std::string& value) {
  auto objects = std::make_shared<model::ConfigObjects>();
  model::ConfigMap cm;
  cm.metadata.name = "settings";
  cm.metadata.namespace_ = "default";
  cm.data["mode"] = value;
  objects->config_maps[{"default", "settings"}] = cm;
  return objects;
}

struct Recorded {
  std::string reason, message;
};

class ListRecorder final : public base::EventRecorder {
 public:
  void record(const base::PodUid&, std::string_view, std::string_view reason, std::string_view,
              std::string message) override {
    events.push_back({std::string(reason), std::move(message)});
  }
  size_t count(const std::string& reason) const {
    size_t n = 0;
    for (const auto& e : events) n += e.reason == reason;
    return n;
  }
  std::vector<Recorded> events;
};

class PodVolumesWorkersTest : public testing::Test {
 protected:
  PodVolumesWorkersTest() {
    PodWorkers::Options options;
    options.volumes = &manager_;
    options.events = &events_;
    workers_ = std::make_unique<PodWorkers>(rt_, clock_, io_.get_executor(), std::move(options));
    t0_ = clock_.now();
  }
  ~PodVolumesWorkersTest() override {
    workers_->stop();
    clock_.settle();
  }
  void at(base::Duration since_start) { clock_.advance_to(t0_ + since_start); }
  size_t calls(Op op) const {
    size_t n = 0;
    for (const auto& c : rt_.calls()) n += c.op == op && c.ok;
    return n;
  }
  fs::path file(const std::string& name) const {
    return manager_.volume_dir(base::PodUid("u1"), "cfg") / name;
  }

  TempDir dir_;
  volumes::VolumeManager manager_{dir_.path() / "pods"};
  ListRecorder events_;
  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor()};
  std::unique_ptr<PodWorkers> workers_;
  base::SteadyTime t0_;
};

TEST_F(PodVolumesWorkersTest, NothingStartsUntilTheConfigMapExists) {
  workers_->update(config_pod());
  at(5s);
  EXPECT_EQ(calls(Op::RunSandbox), 0u);
  EXPECT_EQ(calls(Op::CreateContainer), 0u);
  ASSERT_EQ(events_.count("FailedMount"), 1u) << "once per distinct message, not per retry";
  EXPECT_EQ(events_.events[0].message,
            "MountVolume.SetUp failed for volume \"cfg\" : configmap \"settings\" not found");
  EXPECT_EQ(workers_->status(base::PodUid("u1"))->phase, model::kPhasePending);

  workers_->set_config_objects(settings("fast"));
  clock_.settle();
  EXPECT_EQ(calls(Op::RunSandbox), 1u);
  EXPECT_EQ(calls(Op::StartContainer), 1u);
  EXPECT_EQ(read_text(file("mode")), "fast");
}

TEST_F(PodVolumesWorkersTest, AChangedConfigMapIsWrittenWithoutARestart) {
  workers_->set_config_objects(settings("fast"));
  workers_->update(config_pod());
  at(1s);
  ASSERT_EQ(calls(Op::StartContainer), 1u);
  ASSERT_EQ(read_text(file("mode")), "fast");

  workers_->set_config_objects(settings("slow"));
  clock_.settle();
  EXPECT_EQ(read_text(file("mode")), "slow");
  EXPECT_EQ(calls(Op::CreateContainer), 1u) << "the running container is left alone";

  // Deleted: the last good files stay, and the container keeps running.
  workers_->set_config_objects(std::make_shared<model::ConfigObjects>());
  clock_.settle();
  EXPECT_EQ(read_text(file("mode")), "slow");
  EXPECT_EQ(events_.count("FailedMount"), 1u);
  EXPECT_EQ(calls(Op::StopContainer), 0u);
}

TEST_F(PodVolumesWorkersTest, RemovedWithThePod) {
  workers_->set_config_objects(settings("fast"));
  workers_->update(config_pod());
  at(1s);
  ASSERT_TRUE(fs::exists(file("mode")));
  workers_->remove(base::PodUid("u1"), 0s);
  at(10s);
  ASSERT_TRUE(workers_->is_finished(base::PodUid("u1")));
  EXPECT_FALSE(fs::exists(dir_.path() / "pods" / "u1"));
}

TEST_F(PodVolumesWorkersTest, LeftoversOfPodsGoneAreRemovedOnceSourcesAreReady) {
  auto written = manager_.prepare(
      [] {
        model::Pod p = config_pod();
        p.metadata.uid = "gone";
        return p;
      }(),
      *settings("x"), {});
  ASSERT_TRUE(written.ok());
  workers_->set_config_objects(settings("fast"));
  workers_->update(config_pod());
  at(1s);
  workers_->set_sources_ready();
  clock_.settle();
  EXPECT_FALSE(fs::exists(dir_.path() / "pods" / "gone"));
  EXPECT_TRUE(fs::exists(file("mode"))) << "a desired pod's volumes stay";
}

TEST_F(PodVolumesWorkersTest, ADownwardApiVolumeFollowsTheLabels) {
  model::Pod pod = config_pod();
  pod.metadata.labels["tier"] = "web";
  model::Volume info;
  info.name = "info";
  info.downward_api = model::DownwardApiVolumeSource{};
  model::DownwardApiVolumeFile labels;
  labels.path = "labels";
  labels.field_ref = model::ObjectFieldSelector{"v1", "metadata.labels"};
  info.downward_api->items.push_back(labels);
  info.downward_api->default_mode = 0644;
  pod.spec.volumes = {info};
  pod.spec.containers[0].volume_mounts[0].name = "info";
  workers_->update(pod);
  at(1s);
  const fs::path file = manager_.volume_dir(base::PodUid("u1"), "info") / "labels";
  ASSERT_EQ(read_text(file), "tier=\"web\"");

  pod.metadata.labels["tier"] = "api";
  workers_->update(pod);
  clock_.settle();
  EXPECT_EQ(read_text(file), "tier=\"api\"");
  EXPECT_EQ(calls(Op::CreateContainer), 1u) << "a label is not a reason to restart";
}

TEST(ReadsConfigObjectsTest, VolumesProjectionsAndEnv) {
  model::Pod pod;
  pod.spec.containers.emplace_back();
  EXPECT_FALSE(reads_config_objects(pod));
  model::Pod by_volume = config_pod();
  EXPECT_TRUE(reads_config_objects(by_volume));
  EXPECT_TRUE(has_written_volumes(by_volume));

  model::Pod by_env = pod;
  model::EnvVar var;
  var.name = "X";
  var.value_from = model::EnvVarSource{};
  var.value_from->secret_key_ref = model::KeySelector{"s", "k", std::nullopt};
  by_env.spec.containers[0].env.push_back(var);
  EXPECT_TRUE(reads_config_objects(by_env));
  EXPECT_FALSE(has_written_volumes(by_env));

  model::Pod by_downward = pod;
  model::Volume v;
  v.name = "info";
  v.downward_api = model::DownwardApiVolumeSource{};
  by_downward.spec.volumes.push_back(v);
  EXPECT_FALSE(reads_config_objects(by_downward));
  EXPECT_TRUE(has_written_volumes(by_downward));
}

}  // namespace
}  // namespace podagent::podworker
