// The volume kinds' pure parts and checks: the hostPath allow-list, the
// kubelet's hostPath type checks against real files, tmpfs options.

#include "runtime/oci/volumes.h"

#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "base/unique_fd.h"
#include "runtime/oci/rootfs.h"
#include "tests/oci/image_test_util.h"

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;

using image_testing::TempDir;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(HostPathAllowList, MatchesWholeComponentsAfterNormalisation) {
  const std::vector<fs::path> list = {"/data", "/var/run/app.sock", "/srv/"};
  EXPECT_TRUE(host_path_allowed("/data", list));
  EXPECT_TRUE(host_path_allowed("/data/", list));
  EXPECT_TRUE(host_path_allowed("/data/x/y", list));
  EXPECT_TRUE(host_path_allowed("/data/./x", list));
  EXPECT_TRUE(host_path_allowed("//data//x", list));
  EXPECT_TRUE(host_path_allowed("/srv", list));
  EXPECT_TRUE(host_path_allowed("/srv/www", list));
  EXPECT_TRUE(host_path_allowed("/var/run/app.sock", list));
  EXPECT_FALSE(host_path_allowed("/database", list));
  EXPECT_FALSE(host_path_allowed("/dat", list));
  EXPECT_FALSE(host_path_allowed("/data/../etc", list));
  EXPECT_FALSE(host_path_allowed("/data/x/../../etc/passwd", list));
  EXPECT_FALSE(host_path_allowed("/var/run/app.sock2", list));
  EXPECT_FALSE(host_path_allowed("/var/run", list));
  EXPECT_FALSE(host_path_allowed("/", list));
  EXPECT_FALSE(host_path_allowed("data/x", list));     // relative: never
  EXPECT_FALSE(host_path_allowed("/data", {}));        // empty list: nothing
  EXPECT_FALSE(host_path_allowed("/data", {"data"}));  // a relative prefix allows nothing
  EXPECT_TRUE(host_path_allowed("/etc/passwd", {"/"}));
  EXPECT_TRUE(host_path_allowed("/data/x", {"/data/../data"}));
}

TEST(HostPathType, EmptyChecksNothingAndUnknownIsInvalid) {
  TempDir t;
  EXPECT_TRUE(check_host_path_type(t.path() / "missing", ""));
  EXPECT_FALSE(fs::exists(t.path() / "missing"));
  auto bad = check_host_path_type(t.path(), "Folder");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "Folder is an invalid volume type");
}

TEST(HostPathType, DirectoryTypes) {
  TempDir t;
  const fs::path dir = t.path() / "a" / "b";
  auto missing = check_host_path_type(dir, "Directory");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "hostPath type check failed: " + dir.string() + " is not a directory");
  EXPECT_FALSE(fs::exists(dir));
  const mode_t old_umask = ::umask(077);
  const base::Status made = check_host_path_type(dir, "DirectoryOrCreate");
  ::umask(old_umask);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(mode_of(dir), 0755u);
  EXPECT_TRUE(check_host_path_type(dir, "Directory"));
  EXPECT_TRUE(check_host_path_type(dir, "DirectoryOrCreate"));  // exists: kept

  std::ofstream(t.path() / "f") << "x";
  for (const char* type : {"Directory", "DirectoryOrCreate"}) {
    auto on_file = check_host_path_type(t.path() / "f", type);
    ASSERT_FALSE(on_file) << type;
    EXPECT_EQ(on_file.error().message,
              "hostPath type check failed: " + (t.path() / "f").string() + " is not a directory");
  }
}

TEST(HostPathType, FileTypes) {
  TempDir t;
  const fs::path file = t.path() / "f";
  auto missing = check_host_path_type(file, "File");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "hostPath type check failed: " + file.string() + " is not a file");
  const mode_t old_umask = ::umask(077);
  const base::Status made = check_host_path_type(file, "FileOrCreate");
  ::umask(old_umask);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_TRUE(fs::is_regular_file(file));
  EXPECT_EQ(fs::file_size(file), 0u);
  EXPECT_EQ(mode_of(file), 0644u);
  std::ofstream(file) << "kept";
  EXPECT_TRUE(check_host_path_type(file, "FileOrCreate"));
  EXPECT_EQ(fs::file_size(file), 4u);
  EXPECT_TRUE(check_host_path_type(file, "File"));
  // The parent is not made.
  EXPECT_FALSE(check_host_path_type(t.path() / "no" / "f", "FileOrCreate"));
  EXPECT_FALSE(fs::exists(t.path() / "no"));
  for (const char* type : {"File", "FileOrCreate"}) {
    auto on_dir = check_host_path_type(t.path(), type);
    ASSERT_FALSE(on_dir) << type;
    EXPECT_EQ(on_dir.error().message,
              "hostPath type check failed: " + t.path().string() + " is not a file");
  }
  // A symbolic link is followed.
  fs::create_symlink(file, t.path() / "link");
  EXPECT_TRUE(check_host_path_type(t.path() / "link", "File"));
}

TEST(HostPathType, SocketAndDevices) {
  TempDir t;
  const fs::path sock = t.path() / "s.sock";
  base::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(fd.valid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.string().size(), sizeof(addr.sun_path));
  std::strcpy(addr.sun_path, sock.c_str());
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_TRUE(check_host_path_type(sock, "Socket"));
  auto not_sock = check_host_path_type(t.path(), "Socket");
  ASSERT_FALSE(not_sock);
  EXPECT_EQ(not_sock.error().message,
            "hostPath type check failed: " + t.path().string() + " is not a socket file");
  EXPECT_TRUE(check_host_path_type("/dev/null", "CharDevice"));
  auto not_char = check_host_path_type(sock, "CharDevice");
  ASSERT_FALSE(not_char);
  EXPECT_EQ(not_char.error().message,
            "hostPath type check failed: " + sock.string() + " is not a character device");
  auto not_block = check_host_path_type("/dev/null", "BlockDevice");
  ASSERT_FALSE(not_block);
  EXPECT_EQ(not_block.error().message,
            "hostPath type check failed: /dev/null is not a block device");
  EXPECT_FALSE(check_host_path_type("/dev/null", "Socket"));
  EXPECT_FALSE(check_host_path_type("/dev/null", "File"));
}

TEST(HostPathPrepare, RefusesUnlistedPathsAndLinksLeadingOut) {
  TempDir t;
  const fs::path allowed = t.path() / "allowed";
  const fs::path outside = t.path() / "outside";
  fs::create_directories(allowed);
  fs::create_directories(outside);
  const std::vector<fs::path> list = {allowed};

  auto refused = prepare_host_path("v", {outside.string(), "Directory"}, list);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "hostPath volume \"v\": host path " + outside.string() +
                " is not allowed on this node (volumes.hostPathAllowList: [" + allowed.string() +
                "])");
  // Refused before anything is made.
  auto not_made = prepare_host_path("v", {(outside / "new").string(), "DirectoryOrCreate"}, list);
  ASSERT_FALSE(not_made);
  EXPECT_FALSE(fs::exists(outside / "new"));

  fs::create_directory_symlink(outside, allowed / "out");
  auto via_link = prepare_host_path("v", {(allowed / "out").string(), "Directory"}, list);
  ASSERT_FALSE(via_link);
  EXPECT_NE(via_link.error().message.find("host path " + outside.string() + " is not allowed"),
            std::string::npos)
      << via_link.error().message;

  auto made = prepare_host_path("v", {(allowed / "d").string(), "DirectoryOrCreate"}, list);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(*made, fs::canonical(allowed / "d"));
  auto mismatch = prepare_host_path("w", {(allowed / "d").string(), "File"}, list);
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().message, "hostPath volume \"w\": hostPath type check failed: " +
                                          (allowed / "d").string() + " is not a file");
  // Type "": a missing path becomes a directory, as containerd makes it.
  auto plain = prepare_host_path("v", {(allowed / "e").string(), ""}, list);
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_TRUE(fs::is_directory(allowed / "e"));
}

TEST(EmptyDir, TmpfsOptions) {
  model::EmptyDirVolumeSource memory{"Memory", std::nullopt};
  EXPECT_EQ(tmpfs_options(memory), "mode=0777");
  memory.size_limit = model::Quantity::parse("8Mi").value();
  EXPECT_EQ(tmpfs_options(memory), "mode=0777,size=8388608");
  memory.size_limit = model::Quantity::parse("1G").value();
  EXPECT_EQ(tmpfs_options(memory), "mode=0777,size=1000000000");
}

TEST(EmptyDir, DiskMediumIsAPlainWritableDirectory) {
  TempDir t;
  const fs::path dir = t.path() / "volumes" / "cache";
  ASSERT_TRUE(prepare_empty_dir(dir, {"", std::nullopt}));
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(mode_of(dir), 0777u);
}

TEST(EmptyDir, MemoryMediumIsATmpfsOfTheSizeLimitThatRemoveTreeUnmounts) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir t;
  const fs::path sandbox = t.path() / "sandbox";
  const fs::path dir = sandbox / "volumes" / "mem";
  model::EmptyDirVolumeSource memory{"Memory", model::Quantity::parse("8Mi").value()};
  const base::Status made = prepare_empty_dir(dir, memory);
  ASSERT_TRUE(made) << made.error().message;
  struct statfs st {};
  ASSERT_EQ(::statfs(dir.c_str(), &st), 0);
  EXPECT_EQ(st.f_type, static_cast<decltype(st.f_type)>(TMPFS_MAGIC));
  EXPECT_EQ(static_cast<uint64_t>(st.f_blocks) * st.f_bsize, 8u << 20);
  EXPECT_EQ(mode_of(dir), 0777u);
  EXPECT_EQ(mounts_under(sandbox), std::vector<fs::path>{dir});
  // What deleting a sandbox (or recovery's removal of one) does.
  ASSERT_TRUE(remove_tree(sandbox));
  EXPECT_TRUE(mounts_under(sandbox).empty());
  EXPECT_FALSE(fs::exists(sandbox));
}

}  // namespace
}  // namespace podagent::runtime::oci
