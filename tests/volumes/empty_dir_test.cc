#include "volumes/empty_dir.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/volumes/volumes_test_util.h"
#include "volumes/volume_manager.h"

// Designated initializers name only what a case needs; GCC 12 warns about
// the fields left out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::volumes {
namespace {

namespace fs = std::filesystem;
using volumes_testing::mode_of;
using volumes_testing::TempDir;

constexpr int64_t kMiB = 1 << 20;

// Writes `bytes` of real (non-zero, so not sparse) data.
void write_bytes(const fs::path& file, int64_t bytes) {
  std::ofstream out(file, std::ios::binary);
  const std::string chunk(64 * 1024, 'x');
  for (int64_t done = 0; done < bytes; done += static_cast<int64_t>(chunk.size()))
    out.write(chunk.data(),
              static_cast<std::streamsize>(std::min<int64_t>(chunk.size(), bytes - done)));
  out.flush();
  ASSERT_TRUE(out.good());
}

model::Volume empty_dir(std::string name, std::string medium = "",
                        std::optional<std::string> limit = std::nullopt) {
  model::EmptyDirVolumeSource source{.medium = std::move(medium)};
  if (limit) source.size_limit = *model::Quantity::parse(*limit);
  return {.name = std::move(name), .empty_dir = source};
}

class EmptyDirTest : public ::testing::Test {
 protected:
  EmptyDirTest() {
    pod_.metadata.name = "web";
    pod_.metadata.namespace_ = "default";
    pod_.metadata.uid = "uid-1";
    pod_.spec.containers.push_back(model::Container{.name = "app"});
  }
  fs::path vol(const std::string& name) const {
    return tmp_.path() / "pods" / "uid-1" / "volumes" / name;
  }
  base::Result<std::map<std::string, fs::path>> prepare() {
    return manager_.prepare(pod_, model::ConfigObjects{}, model::NodeAllocatable{});
  }

  TempDir tmp_;
  VolumeManager manager_{tmp_.path() / "pods"};
  model::Pod pod_;
  const base::PodUid uid_{"uid-1"};
};

TEST_F(EmptyDirTest, DiskEmptyDirIsMadeOnceAndKeptMemoryIsTheRuntimes) {
  pod_.spec.volumes = {empty_dir("scratch"), empty_dir("ram", "Memory", "1Mi")};
  auto prepared = prepare();
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  ASSERT_EQ(prepared->size(), 1u);
  EXPECT_EQ(prepared->at("scratch"), vol("scratch"));
  EXPECT_EQ(mode_of(vol("scratch")), 0777);
  EXPECT_FALSE(fs::exists(vol("ram")));
  write_bytes(vol("scratch") / "data", 10);
  ASSERT_TRUE(prepare().ok());  // again (a new spec, new objects): content kept
  EXPECT_TRUE(fs::exists(vol("scratch") / "data"));
  ASSERT_TRUE(manager_.remove(uid_).ok());
  EXPECT_FALSE(fs::exists(vol("scratch")));
}

TEST_F(EmptyDirTest, IsDiskEmptyDir) {
  EXPECT_TRUE(is_disk_empty_dir(empty_dir("a")));
  EXPECT_FALSE(is_disk_empty_dir(empty_dir("a", "Memory")));
  EXPECT_FALSE(
      is_disk_empty_dir(model::Volume{.name = "h", .host_path = model::HostPathVolumeSource{}}));
}

TEST_F(EmptyDirTest, UsageCountsAllocatedBlocksOnce) {
  pod_.spec.volumes = {empty_dir("scratch")};
  ASSERT_TRUE(prepare().ok());
  auto empty = manager_.usage(uid_, "scratch");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_LT(*empty, 64 * 1024);  // the directory's own blocks

  fs::create_directories(vol("scratch") / "a" / "b");
  write_bytes(vol("scratch") / "a" / "b" / "f", 2 * kMiB);
  auto two = manager_.usage(uid_, "scratch");
  ASSERT_TRUE(two.ok());
  EXPECT_GE(*two, 2 * kMiB);
  EXPECT_LT(*two, 2 * kMiB + 256 * 1024);

  // A second link to the same file is not counted again; a sparse file
  // counts what it holds, not its length; a link to a big file outside the
  // volume is not followed.
  fs::create_hard_link(vol("scratch") / "a" / "b" / "f", vol("scratch") / "g");
  { std::ofstream(vol("scratch") / "sparse").close(); }
  fs::resize_file(vol("scratch") / "sparse", 100 * kMiB);
  write_bytes(tmp_.path() / "outside", 3 * kMiB);
  fs::create_symlink(tmp_.path() / "outside", vol("scratch") / "link");
  fs::create_directory_symlink(tmp_.path(), vol("scratch") / "dirlink");
  auto same = manager_.usage(uid_, "scratch");
  ASSERT_TRUE(same.ok());
  EXPECT_LT(*same, *two + 64 * 1024);
}

TEST_F(EmptyDirTest, UsageOfAMissingVolumeIsAnError) {
  auto used = manager_.usage(uid_, "nothing");
  ASSERT_FALSE(used.ok());
  EXPECT_NE(used.error().message.find("nothing"), std::string::npos);
  EXPECT_FALSE(manager_.usage(base::PodUid(".."), "x").ok());
}

// A filesystem mounted inside the volume is not the volume's (du -x); only
// root can mount one.
TEST_F(EmptyDirTest, UsageDoesNotCrossIntoAnotherMount) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  pod_.spec.volumes = {empty_dir("scratch")};
  ASSERT_TRUE(prepare().ok());
  const fs::path inner = vol("scratch") / "inner";
  fs::create_directory(inner);
  ASSERT_EQ(::mount("tmpfs", inner.c_str(), "tmpfs", 0, "size=8m"), 0);
  write_bytes(inner / "big", 4 * kMiB);
  auto used = manager_.usage(uid_, "scratch");
  ::umount2(inner.c_str(), MNT_DETACH);
  ASSERT_TRUE(used.ok());
  EXPECT_LT(*used, kMiB);
}

TEST_F(EmptyDirTest, OverLimitNamesTheFirstVolumeAndItsLimitAsWritten) {
  pod_.spec.volumes = {empty_dir("small", "", "1Mi"), empty_dir("free"), empty_dir("big", "", "1G"),
                       empty_dir("ram", "Memory", "1Ki"), empty_dir("zero", "", "0")};
  ASSERT_TRUE(prepare().ok());
  EXPECT_EQ(manager_.empty_dir_over_limit(pod_), std::nullopt);
  write_bytes(vol("free") / "f", 2 * kMiB);  // no limit
  write_bytes(vol("big") / "f", 2 * kMiB);   // under its limit
  write_bytes(vol("zero") / "f", 2 * kMiB);  // 0: no limit
  EXPECT_EQ(manager_.empty_dir_over_limit(pod_), std::nullopt);
  write_bytes(vol("small") / "f", kMiB / 2);
  EXPECT_EQ(manager_.empty_dir_over_limit(pod_), std::nullopt);
  write_bytes(vol("small") / "g", kMiB);
  EXPECT_EQ(
      manager_.empty_dir_over_limit(pod_),
      std::optional<std::string>("Usage of EmptyDir volume \"small\" exceeds the limit \"1Mi\"."));
}

TEST_F(EmptyDirTest, AVolumeThatCannotBeMeasuredIsNotOverItsLimit) {
  pod_.spec.volumes = {empty_dir("small", "", "1Ki")};
  EXPECT_EQ(manager_.empty_dir_over_limit(pod_), std::nullopt);  // never prepared
}

}  // namespace
}  // namespace podagent::volumes
