// The oci backend's records, log helpers and overlay mounts.

#include "runtime/oci/oci_state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "runtime/oci/container_logs.h"
#include "runtime/oci/rootfs.h"

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    char t[] = "/tmp/podagent-oci-state-XXXXXX";
    path_ = ::mkdtemp(t);
  }
  ~TempDir() {
    (void)unmount_all_under(path_);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
  auto r = read_file_head(p, 1 << 20);
  return r ? *r : "<unreadable>";
}

const WallTime kT0 = WallTime(std::chrono::seconds(1'700'000'000)) + 123456789ns;

ContainerRecord sample_container() {
  ContainerRecord r;
  r.id = "c1";
  r.sandbox_id = "s1";
  r.pod_uid = "uid-1";
  r.name = "app \"quoted\"";
  r.kind = ContainerKind::Sidecar;
  r.attempt = 3;
  r.spec_hash = "abc";
  r.image = "busybox";
  r.image_id = "sha256:00";
  r.handler = "runc";
  r.created_at = kT0;
  r.started_at = kT0 + 1s;
  r.finished_at = kT0 + 2s;
  r.exit_code = -1;
  r.reason = "Error";
  r.message = "line1\nline2";
  r.log_path = "/var/log/pods/x/app/3.log";
  r.termination_message_policy = "FallbackToLogsOnError";
  r.bundle = "/b";
  return r;
}

TEST(OciRecords, ContainerRecordRoundTrips) {
  const ContainerRecord r = sample_container();
  auto back = decode_container_record(encode_record(r));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, r);
  ContainerRecord bare;
  bare.id = "c2";
  bare.sandbox_id = "s1";
  bare.handler = "crun";
  auto bare_back = decode_container_record(encode_record(bare));
  ASSERT_TRUE(bare_back);
  EXPECT_EQ(*bare_back, bare);
  EXPECT_FALSE(bare_back->started_at);
  EXPECT_FALSE(bare_back->exit_code);
}

TEST(OciRecords, SandboxRecordRoundTrips) {
  SandboxRecord r;
  r.id = "s1";
  r.pod_uid = "uid-1";
  r.pod_name = "web";
  r.pod_namespace = "default";
  r.attempt = 2;
  r.handler = "runc";
  r.hostname = "web";
  r.created_at = kT0;
  r.finished_at = kT0 + 5s;
  r.log_directory = "/var/log/pods/default_web_uid-1";
  r.bundle = "/x/bundle";
  auto back = decode_sandbox_record(encode_record(r));
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, r);
}

TEST(OciRecords, BadRecordsAreErrorsNamingTheField) {
  EXPECT_FALSE(decode_container_record("not json {"));
  auto no_id = decode_sandbox_record(R"({"podUid": "u", "handler": "runc"})");
  ASSERT_FALSE(no_id);
  EXPECT_EQ(no_id.error().field, "id");
  auto bad_kind =
      decode_container_record(R"({"id": "c", "sandboxId": "s", "handler": "runc", "kind": "x"})");
  ASSERT_FALSE(bad_kind);
  EXPECT_EQ(bad_kind.error().field, "kind");
  auto bad_attempt = decode_container_record(
      R"({"id": "c", "sandboxId": "s", "handler": "runc", "attempt": "1"})");
  ASSERT_FALSE(bad_attempt);
  EXPECT_EQ(bad_attempt.error().field, "attempt");
}

TEST(OciRecords, LoadFindsRecordsInCreationOrderAndOrphanDirectories) {
  TempDir tmp;
  StateDir state(tmp.path() / "oci");
  ASSERT_TRUE(state.init());
  ContainerRecord late = sample_container();
  late.id = "aaa";
  late.created_at = kT0 + 10s;
  ContainerRecord early = sample_container();
  early.id = "zzz";
  ASSERT_TRUE(state.write(late));
  ASSERT_TRUE(state.write(early));
  fs::create_directories(state.container_dir("cut-short"));  // no record
  write(state.sandbox_dir("garbled") / "record.json", "{");
  LoadedState loaded = state.load();
  ASSERT_EQ(loaded.containers.size(), 2u);
  EXPECT_EQ(loaded.containers[0].id, "zzz");
  EXPECT_EQ(loaded.containers[1].id, "aaa");
  EXPECT_TRUE(loaded.sandboxes.empty());
  ASSERT_EQ(loaded.orphans.size(), 2u);
  // No temp file is left beside a record.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(state.container_dir("aaa")))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
}

TEST(OciRecords, NewIdsAreDistinctHex) {
  const std::string a = new_object_id();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, new_object_id());
}

TEST(OciLogs, TailJoinsPartialLinesAndKeepsTheLastOnes) {
  const std::string log =
      "2024-01-01T00:00:00.000000001Z stdout F first\n"
      "2024-01-01T00:00:00.000000002Z stderr P par\n"
      "2024-01-01T00:00:00.000000003Z stderr F tial\n"
      "2024-01-01T00:00:00.000000004Z stdout F last\n";
  EXPECT_EQ(cri_log_tail(log, 80, 2048), "first\npartial\nlast\n");
  EXPECT_EQ(cri_log_tail(log, 2, 2048), "partial\nlast\n");
  EXPECT_EQ(cri_log_tail(log, 80, 6), "\nlast\n");
  EXPECT_EQ(cri_log_tail("plain text\n", 80, 2048), "plain text\n");
}

TEST(OciLogs, RotatedNameIsUtcStamp) {
  const WallTime t = WallTime(std::chrono::seconds(1'700'000'000));  // 2023-11-14 22:13:20 UTC
  EXPECT_EQ(rotated_log_name("0.log", t), "0.log.20231114-221320");
}

TEST(OciLogs, RotationRenamesAFullLogAndPruneKeepsTheNewest) {
  TempDir tmp;
  const fs::path log = tmp.path() / "app" / "0.log";
  write(log, "small");
  auto r = rotate_log_if_full(log, 10, kT0);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  for (int i = 0; i < 6; ++i) {
    write(log, "more than ten bytes");
    auto rotated = rotate_log_if_full(log, 10, kT0 + std::chrono::seconds(i));
    ASSERT_TRUE(rotated && *rotated);
    EXPECT_FALSE(fs::exists(log));
  }
  write(log, "current");
  prune_rotated_logs(log, 3);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(log.parent_path()))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], "0.log");
  EXPECT_EQ(names[1], rotated_log_name("0.log", kT0 + 4s));
  EXPECT_EQ(names[2], rotated_log_name("0.log", kT0 + 5s));
}

TEST(OciLogs, TerminationMessageFromFileOrLogsOnError) {
  TempDir tmp;
  const fs::path file = tmp.path() / "termination-log";
  const fs::path log = tmp.path() / "0.log";
  write(log, "2024-01-01T00:00:00Z stderr F it broke\n");
  write(file, "");
  EXPECT_EQ(termination_message(file, "File", 1, log), "");
  EXPECT_EQ(termination_message(file, "FallbackToLogsOnError", 0, log), "");
  EXPECT_EQ(termination_message(file, "FallbackToLogsOnError", 1, log), "it broke\n");
  write(file, std::string(5000, 'x'));
  EXPECT_EQ(termination_message(file, "FallbackToLogsOnError", 1, log), std::string(4096, 'x'));
}

TEST(OciRootfs, OverlayMountsLayersTopFirstAndRemoveTreeUnmounts) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting needs root";
  TempDir tmp;
  const fs::path bottom = tmp.path() / "layers" / "1";
  const fs::path top = tmp.path() / "layers" / "2";
  write(bottom / "file", "bottom");
  write(bottom / "only-bottom", "b");
  write(top / "file", "top");
  const fs::path c = tmp.path() / "container";
  const fs::path rootfs = c / "bundle" / "rootfs";
  ASSERT_TRUE(mount_overlay({bottom, top}, c / "upper", c / "work", rootfs));
  EXPECT_EQ(read(rootfs / "file"), "top");
  EXPECT_EQ(read(rootfs / "only-bottom"), "b");
  write(rootfs / "new", "written");
  EXPECT_EQ(read(c / "upper" / "new"), "written");
  EXPECT_FALSE(fs::exists(top / "new"));
  EXPECT_EQ(mounts_under(c).size(), 1u);
  ASSERT_TRUE(remove_tree(c));
  EXPECT_FALSE(fs::exists(c));
  EXPECT_TRUE(mounts_under(tmp.path()).empty());
  // The layers are untouched.
  EXPECT_EQ(read(bottom / "file"), "bottom");
  EXPECT_EQ(read(top / "file"), "top");
}

}  // namespace
}  // namespace podagent::runtime::oci
