// subPath resolution against real temp directories: made when missing,
// symbolic links inside the volume followed, every way out refused; and
// subPathExpr expansion.

#include "runtime/oci/subpath.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;

class SubPathTest : public ::testing::Test {
 protected:
  SubPathTest() {
    std::string t = (fs::temp_directory_path() / "podagent-subpath-XXXXXX").string();
    if (!::mkdtemp(t.data())) std::abort();
    top_ = fs::canonical(t);
    vol_ = top_ / "vol";
    fs::create_directory(vol_);
    ::chmod(vol_.c_str(), 0777);
  }
  ~SubPathTest() override {
    std::error_code ec;
    fs::remove_all(top_, ec);
  }
  void link(const std::string& target, const std::string& at) {
    fs::create_directories((vol_ / at).parent_path());
    fs::create_symlink(target, vol_ / at);
  }
  static mode_t mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }
  // Fails the test unless `sub_path` is refused as leading outside.
  void expect_outside(const std::string& sub_path) {
    auto r = resolve_sub_path(vol_, sub_path);
    ASSERT_FALSE(r) << sub_path << " resolved to " << *r;
    EXPECT_NE(r.error().message.find("subPath \"" + sub_path + "\" is outside of the volume"),
              std::string::npos)
        << r.error().message;
  }

  fs::path top_;  // the test's directory; the volume is one directory down
  fs::path vol_;
};

TEST_F(SubPathTest, MissingSubPathIsMadeWithTheVolumesMode) {
  const mode_t old_umask = ::umask(022);  // the made mode must not depend on it
  auto r = resolve_sub_path(vol_, "data");
  ::umask(old_umask);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, vol_ / "data");
  EXPECT_TRUE(fs::is_directory(vol_ / "data"));
  EXPECT_EQ(mode_of(vol_ / "data"), 0777u);
}

TEST_F(SubPathTest, NestedSubPathMakesEveryMissingLevel) {
  fs::create_directory(vol_ / "a");
  auto r = resolve_sub_path(vol_, "a/b/./c/");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, vol_ / "a/b/c");
  EXPECT_TRUE(fs::is_directory(vol_ / "a/b/c"));
  EXPECT_EQ(mode_of(vol_ / "a/b"), 0777u);
}

TEST_F(SubPathTest, ExistingFileIsMountedAsIs) {
  std::ofstream(vol_ / "conf") << "x";
  auto r = resolve_sub_path(vol_, "conf");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, vol_ / "conf");
  EXPECT_TRUE(fs::is_regular_file(*r));
}

TEST_F(SubPathTest, FileInTheMiddleIsNotADirectory) {
  std::ofstream(vol_ / "conf") << "x";
  auto r = resolve_sub_path(vol_, "conf/x");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("\"conf\" is not a directory"), std::string::npos)
      << r.error().message;
}

TEST_F(SubPathTest, RelativeLinkInsideTheVolumeIsFollowed) {
  fs::create_directories(vol_ / "real/inner");
  link("../real/inner", "links/here");
  auto r = resolve_sub_path(vol_, "links/here");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, vol_ / "real/inner");
}

TEST_F(SubPathTest, LinkToAMissingPlaceInsideTheVolumeMakesIt) {
  link("made", "alias");
  auto r = resolve_sub_path(vol_, "alias/x");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, vol_ / "made/x");
  EXPECT_TRUE(fs::is_directory(vol_ / "made/x"));
}

TEST_F(SubPathTest, LinkToEtcIsRefused) {
  link("/etc", "escape");
  expect_outside("escape");
  expect_outside("escape/passwd");
}

TEST_F(SubPathTest, LinkToTheRootIsRefusedAndNothingIsMadeOutside) {
  link("/", "escape");
  expect_outside("escape/podagent-subpath-test-must-not-exist");
  EXPECT_FALSE(fs::exists("/podagent-subpath-test-must-not-exist"));
}

TEST_F(SubPathTest, RelativeLinkClimbingOutIsRefused) {
  fs::create_directory(top_ / "secret");
  link("../secret", "escape");
  expect_outside("escape");
  EXPECT_FALSE(fs::exists(top_ / "secret/x"));
}

TEST_F(SubPathTest, ChainOfLinksEscapingIsRefused) {
  // Each link alone stays inside: a -> d/c -> .. (the top); up -> a/.. does not.
  fs::create_directory(vol_ / "d");
  link("d/c", "a");
  link("..", "d/c");   // d/c -> the volume's top
  link("a/..", "up");  // up -> (top)/.. : outside
  expect_outside("up");
  auto inside = resolve_sub_path(vol_, "a/d");  // a -> top, then d
  ASSERT_TRUE(inside) << inside.error().message;
  EXPECT_EQ(*inside, vol_ / "d");
}

TEST_F(SubPathTest, LinkLoopIsAnError) {
  link("b", "a");
  link("a", "b");
  auto r = resolve_sub_path(vol_, "a");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("too many levels of symbolic links"), std::string::npos)
      << r.error().message;
}

TEST_F(SubPathTest, TheVolumesTopItselfResolves) {
  auto r = resolve_sub_path(vol_, "x/..");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, vol_);
}

TEST(SubPathExprTest, ExpandsTheContainersVariables) {
  auto r = expand_sub_path_expr("logs/$(POD_NAME)/$$x", {"POD_NAME=web-0", "OTHER=1"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "logs/web-0/$x");
}

TEST(SubPathExprTest, MissingOrEmptyVariablesAreNamed) {
  auto r = expand_sub_path_expr("$(B)/$(A)/$(SET)/$(EMPTY)", {"SET=1", "EMPTY="});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "missing value for A, B, EMPTY");
}

TEST(SubPathExprTest, AnExpansionLeavingTheVolumeIsRefused) {
  auto up = expand_sub_path_expr("$(DIR)/x", {"DIR=../.."});
  ASSERT_FALSE(up);
  EXPECT_NE(up.error().message.find("must not contain \"..\""), std::string::npos);
  auto abs = expand_sub_path_expr("$(DIR)", {"DIR=/etc"});
  ASSERT_FALSE(abs);
  EXPECT_NE(abs.error().message.find("absolute path \"/etc\""), std::string::npos);
}

}  // namespace
}  // namespace podagent::runtime::oci
