#include "volumes/atomic_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>
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
using volumes_testing::mode_of;
using volumes_testing::read_text;
using volumes_testing::TempDir;

// Every entry directly in `dir`, by name.
std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// The hidden timestamped version directories.
std::set<std::string> versions(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& name : entries(dir))
    if (name.starts_with("..") && name != "..data" && name != "..data_tmp") out.insert(name);
  return out;
}

std::string link_of(const fs::path& path) { return fs::read_symlink(path).string(); }

class AtomicWriterTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  fs::path dir_ = tmp_.path() / "vol";
  AtomicWriter writer_{dir_};
};

TEST_F(AtomicWriterTest, LaysOutVersionDataLinkAndTopLevelLinks) {
  auto written = writer_.write({{"a", {"alpha", 0644}}, {"conf/b.conf", {"beta", 0600}}});
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_TRUE(*written);
  auto v = versions(dir_);
  ASSERT_EQ(v.size(), 1u);
  const std::string version = *v.begin();
  EXPECT_THAT(version, ::testing::MatchesRegex(
                           R"(\.\.[0-9]{4}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}_[0-9]{2}\..+)"));
  EXPECT_EQ(entries(dir_), (std::set<std::string>{"..data", version, "a", "conf"}));
  EXPECT_EQ(link_of(dir_ / "..data"), version);
  EXPECT_EQ(link_of(dir_ / "a"), "..data/a");
  EXPECT_EQ(link_of(dir_ / "conf"), "..data/conf");
  EXPECT_EQ(read_text(dir_ / "a"), "alpha");
  EXPECT_EQ(read_text(dir_ / "conf/b.conf"), "beta");
  // Modes as given whatever the umask; directories readable by anyone.
  EXPECT_EQ(mode_of(dir_ / version / "a"), 0644);
  EXPECT_EQ(mode_of(dir_ / version / "conf/b.conf"), 0600);
  EXPECT_EQ(mode_of(dir_ / version / "conf"), 0755);
  EXPECT_EQ(mode_of(dir_ / version), 0755);
  EXPECT_EQ(mode_of(dir_), 0755);
}

TEST_F(AtomicWriterTest, ModesAreNotNarrowedByTheUmask) {
  mode_t old = ::umask(077);
  auto written = writer_.write({{"x", {"1", 0666}}, {"d/y", {"2", 0444}}});
  ::umask(old);
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(mode_of(dir_ / "x"), 0666);
  EXPECT_EQ(mode_of(dir_ / "d/y"), 0444);
  EXPECT_EQ(mode_of(dir_ / "d"), 0755);
}

TEST_F(AtomicWriterTest, SamePayloadAgainChangesNothing) {
  const Payload payload{{"a", {"alpha", 0644}}, {"d/b", {"beta", 0644}}};
  ASSERT_TRUE(*writer_.write(payload));
  auto before = versions(dir_);
  auto written = writer_.write(payload);
  ASSERT_TRUE(written.ok());
  EXPECT_FALSE(*written);
  EXPECT_EQ(versions(dir_), before);
}

TEST_F(AtomicWriterTest, UpdateReplacesAFileAndRemovesADroppedKey) {
  ASSERT_TRUE(
      *writer_.write({{"a", {"alpha", 0644}}, {"gone", {"x", 0644}}, {"d/e", {"1", 0644}}}));
  const std::string old_version = *versions(dir_).begin();
  auto written = writer_.write({{"a", {"alpha-2", 0644}}, {"d/f", {"2", 0644}}});
  ASSERT_TRUE(written.ok());
  EXPECT_TRUE(*written);
  auto v = versions(dir_);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(*v.begin(), old_version);  // the old version is removed
  EXPECT_EQ(entries(dir_), (std::set<std::string>{"..data", *v.begin(), "a", "d"}));
  EXPECT_EQ(read_text(dir_ / "a"), "alpha-2");
  EXPECT_FALSE(fs::exists(dir_ / "d/e"));
  EXPECT_EQ(read_text(dir_ / "d/f"), "2");
}

TEST_F(AtomicWriterTest, AModeChangeAloneWritesANewVersion) {
  ASSERT_TRUE(*writer_.write({{"a", {"alpha", 0644}}}));
  EXPECT_TRUE(*writer_.write({{"a", {"alpha", 0400}}}));
  EXPECT_EQ(mode_of(dir_ / "a"), 0400);
}

TEST_F(AtomicWriterTest, AFileChangedOnDiskIsRewritten) {
  ASSERT_TRUE(*writer_.write({{"a", {"alpha", 0644}}}));
  fs::permissions(dir_ / "..data/a", fs::perms::owner_write, fs::perm_options::add);
  {
    std::ofstream out(dir_ / "..data/a", std::ios::trunc);
    out << "tampered";
  }
  EXPECT_TRUE(*writer_.write({{"a", {"alpha", 0644}}}));
  EXPECT_EQ(read_text(dir_ / "a"), "alpha");
}

TEST_F(AtomicWriterTest, EmptyPayloadLeavesAnEmptyVersion) {
  ASSERT_TRUE(*writer_.write({{"a", {"alpha", 0644}}}));
  ASSERT_TRUE(*writer_.write({}));
  auto v = versions(dir_);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(entries(dir_), (std::set<std::string>{"..data", *v.begin()}));
  EXPECT_TRUE(fs::is_empty(dir_ / "..data"));
  EXPECT_FALSE(*writer_.write({}));
}

TEST_F(AtomicWriterTest, CrashLeftoversAreRepairedByTheNextWrite) {
  const Payload payload{{"a", {"alpha", 0644}}, {"b", {"beta", 0644}}};
  ASSERT_TRUE(*writer_.write(payload));
  const std::string version = *versions(dir_).begin();
  // A crash while writing a new version, one before its rename, one after
  // the swap before the links were made and the old version removed.
  fs::create_directory(dir_ / "..2020_01_01_00_00_00.half");
  { std::ofstream(dir_ / "..2020_01_01_00_00_00.half/a") << "al"; }
  fs::create_symlink("..2020_01_01_00_00_00.half", dir_ / "..data_tmp");
  fs::remove(dir_ / "b");
  fs::create_symlink("..data/stale", dir_ / "stale");
  fs::remove(dir_ / "a");
  fs::create_directory(dir_ / "a");  // something else where a link belongs
  auto written = writer_.write(payload);
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_FALSE(*written);  // the current version was complete
  EXPECT_EQ(entries(dir_), (std::set<std::string>{"..data", version, "a", "b"}));
  EXPECT_EQ(link_of(dir_ / "a"), "..data/a");
  EXPECT_EQ(read_text(dir_ / "b"), "beta");
}

TEST_F(AtomicWriterTest, ADataLinkToAMissingVersionIsReplaced) {
  ASSERT_TRUE(*writer_.write({{"a", {"alpha", 0644}}}));
  fs::remove_all(dir_ / *versions(dir_).begin());
  auto written = writer_.write({{"a", {"alpha", 0644}}});
  ASSERT_TRUE(written.ok());
  EXPECT_TRUE(*written);
  EXPECT_EQ(read_text(dir_ / "a"), "alpha");
}

TEST_F(AtomicWriterTest, InvalidPathsAreRefusedAndNothingChanges) {
  ASSERT_TRUE(*writer_.write({{"a", {"alpha", 0644}}}));
  auto before = entries(dir_);
  const std::pair<const char*, const char*> cases[] = {
      {"/etc/passwd", "invalid path: must be relative path: /etc/passwd"},
      {"a/../../x", "invalid path: must not contain '..': a/../../x"},
      {"..data", "invalid path: must not start with '..': ..data"},
      {"", "invalid path: must not be empty: \"\""},
  };
  for (const auto& [path, message] : cases) {
    auto written = writer_.write({{path, {"x", 0644}}});
    ASSERT_FALSE(written.ok()) << path;
    EXPECT_EQ(written.error().message, message);
  }
  EXPECT_THAT(writer_.write({{std::string(256, 'n'), {"x", 0644}}}).error().message,
              HasSubstr("255"));
  EXPECT_EQ(entries(dir_), before);
  EXPECT_EQ(read_text(dir_ / "a"), "alpha");
}

TEST_F(AtomicWriterTest, AFileAndADirectoryAtOnePathFailWithoutSwapping) {
  ASSERT_TRUE(*writer_.write({{"a", {"alpha", 0644}}}));
  const std::string version = *versions(dir_).begin();
  auto written = writer_.write({{"x", {"1", 0644}}, {"x/y", {"2", 0644}}});
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(link_of(dir_ / "..data"), version);
  EXPECT_THAT(versions(dir_), ElementsAre(version));
}

}  // namespace
}  // namespace podagent::volumes
