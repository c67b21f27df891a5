#include "volumes/volume_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/volumes/volumes_test_util.h"

// Designated initializers name only what a case needs; GCC 12 warns about
// the fields left out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::volumes {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using volumes_testing::mode_of;
using volumes_testing::read_text;
using volumes_testing::TempDir;

model::ObjectVolumeSource object(std::string name, std::optional<bool> optional = std::nullopt) {
  return {.name = std::move(name), .items = {}, .default_mode = 0644, .optional = optional};
}

// A pod with one volume of every kind the manager writes, and one emptyDir.
class VolumeManagerTest : public ::testing::Test {
 protected:
  VolumeManagerTest() {
    pod_.metadata.name = "web";
    pod_.metadata.namespace_ = "default";
    pod_.metadata.uid = "uid-1";
    pod_.metadata.labels = {{"app", "web"}};
    pod_.spec.containers.push_back(model::Container{.name = "app"});
    model::DownwardApiVolumeSource downward{
        .items = {{.path = "labels",
                   .field_ref = model::ObjectFieldSelector{.api_version = "v1",
                                                           .field_path = "metadata.labels"}}},
        .default_mode = 0644};
    model::ProjectedVolumeSource projected{
        .sources = {{.config_map = object("cfg")}, {.secret = object("creds")}},
        .default_mode = 0640};
    pod_.spec.volumes = {
        {.name = "cfg", .config_map = object("cfg")},
        {.name = "creds", .secret = object("creds")},
        {.name = "info", .downward_api = downward},
        {.name = "all", .projected = projected},
        {.name = "scratch", .empty_dir = model::EmptyDirVolumeSource{}},
    };
    objects_.config_maps[{"default", "cfg"}].data = {{"a", "alpha"}};
    objects_.secrets[{"default", "creds"}].data = {{"password", "hunter2"}};
  }

  fs::path pods_dir() const { return tmp_.path() / "pods"; }
  fs::path vol(const std::string& name) const { return pods_dir() / "uid-1" / "volumes" / name; }

  TempDir tmp_;
  VolumeManager manager_{tmp_.path() / "pods"};
  model::Pod pod_;
  model::ConfigObjects objects_;
  model::NodeAllocatable node_{.cpu_millis = 2000, .memory_bytes = 1LL << 30};
};

TEST_F(VolumeManagerTest, WritesEveryVolumeUnderThePodsDirectory) {
  auto prepared = manager_.prepare(pod_, objects_, node_);
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_THAT(*prepared, UnorderedElementsAre(Pair("cfg", vol("cfg")), Pair("creds", vol("creds")),
                                              Pair("info", vol("info")), Pair("all", vol("all")),
                                              Pair("scratch", vol("scratch"))));
  EXPECT_EQ(read_text(vol("cfg") / "a"), "alpha");
  EXPECT_EQ(read_text(vol("creds") / "password"), "hunter2");
  EXPECT_EQ(read_text(vol("info") / "labels"), "app=\"web\"");
  EXPECT_EQ(read_text(vol("all") / "a"), "alpha");
  EXPECT_EQ(mode_of(vol("all") / "password"), 0640);
  EXPECT_EQ(mode_of(vol("scratch")), 0777);  // a disk emptyDir (tests/volumes/empty_dir_test.cc)
  EXPECT_EQ(mode_of(pods_dir()), 0700);
  EXPECT_EQ(mode_of(vol("cfg")), 0755);
  EXPECT_EQ(manager_.volume_dir(base::PodUid("uid-1"), "cfg"), vol("cfg"));
}

TEST_F(VolumeManagerTest, PreparingAgainRewritesOnlyWhatChanged) {
  ASSERT_TRUE(manager_.prepare(pod_, objects_, node_).ok());
  auto data_of = [&](const std::string& name) { return fs::read_symlink(vol(name) / "..data"); };
  const fs::path cfg = data_of("cfg"), creds = data_of("creds"), info = data_of("info");
  const fs::path all = data_of("all");
  objects_.config_maps[{"default", "cfg"}].data = {{"b", "beta"}};
  pod_.metadata.labels["tier"] = "front";
  ASSERT_TRUE(manager_.prepare(pod_, objects_, node_).ok());
  EXPECT_NE(data_of("cfg"), cfg);
  EXPECT_NE(data_of("info"), info);
  EXPECT_NE(data_of("all"), all);
  EXPECT_EQ(data_of("creds"), creds);
  EXPECT_FALSE(fs::exists(vol("cfg") / "a"));
  EXPECT_EQ(read_text(vol("cfg") / "b"), "beta");
  EXPECT_EQ(read_text(vol("info") / "labels"), "app=\"web\"\ntier=\"front\"");
}

TEST_F(VolumeManagerTest, ErrorsNameTheVolumeAndTheOthersAreStillWritten) {
  objects_.config_maps.clear();
  auto prepared = manager_.prepare(pod_, objects_, node_);
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().message,
            "MountVolume.SetUp failed for volume \"cfg\" : configmap \"cfg\" not found");
  EXPECT_EQ(read_text(vol("creds") / "password"), "hunter2");

  pod_.spec.volumes[0].config_map->optional = true;
  pod_.spec.volumes[3].projected->sources[0].config_map->optional = true;
  objects_.secrets.clear();
  prepared = manager_.prepare(pod_, objects_, node_);
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().message,
            "MountVolume.SetUp failed for volume \"creds\" : secret \"creds\" not found");
  EXPECT_THAT(prepared.error().message, Not(HasSubstr("hunter2")));
  // The optional, missing ConfigMap gives an empty volume.
  EXPECT_TRUE(fs::is_empty(vol("cfg") / "..data"));
}

TEST_F(VolumeManagerTest, RemoveAndPodsOnDisk) {
  EXPECT_THAT(*manager_.pods_on_disk(), ElementsAre());  // no pods dir yet
  ASSERT_TRUE(manager_.prepare(pod_, objects_, node_).ok());
  pod_.metadata.uid = "uid-2";
  ASSERT_TRUE(manager_.prepare(pod_, objects_, node_).ok());
  EXPECT_THAT(*manager_.pods_on_disk(), ElementsAre(base::PodUid("uid-1"), base::PodUid("uid-2")));
  ASSERT_TRUE(manager_.remove(base::PodUid("uid-1")).ok());
  EXPECT_FALSE(fs::exists(pods_dir() / "uid-1"));
  EXPECT_THAT(*manager_.pods_on_disk(), ElementsAre(base::PodUid("uid-2")));
  EXPECT_TRUE(manager_.remove(base::PodUid("uid-1")).ok());  // already gone
}

TEST_F(VolumeManagerTest, AUidThatIsNotOnePathElementIsRefused) {
  for (const char* uid : {"", "..", "../escape", "a/b"}) {
    pod_.metadata.uid = uid;
    EXPECT_FALSE(manager_.prepare(pod_, objects_, node_).ok()) << uid;
    EXPECT_FALSE(manager_.remove(base::PodUid(uid)).ok()) << uid;
  }
  EXPECT_FALSE(fs::exists(tmp_.path() / "escape"));
}

}  // namespace
}  // namespace podagent::volumes
