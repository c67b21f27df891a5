#include "static-pods/dir_watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "base/clock.h"
#include "tests/static-pods/test_manifests.h"

namespace podagent::static_pods {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using testing_manifests::list_yaml;
using testing_manifests::pod_without_image;
using testing_manifests::pod_yaml;

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  ASSERT_TRUE(out) << path;
}

std::vector<std::string> pod_names(const ManifestSnapshot& snapshot) {
  std::vector<std::string> out;
  for (const auto& [uid, desired] : snapshot.pods) out.push_back(desired.pod->metadata.name);
  return out;
}

std::string image_of(const ManifestSnapshot& snapshot, const std::string& pod_name) {
  for (const auto& [uid, desired] : snapshot.pods) {
    if (desired.pod->metadata.name == pod_name) return desired.pod->spec.containers.at(0).image;
  }
  return {};
}

// Each test gets its own temporary root holding the manifest directory, so
// that the watcher's parent watch sees only this test's activity.
class DirWatcherTest : public ::testing::Test {
 protected:
  DirWatcherTest() {
    std::string tmpl = (fs::temp_directory_path() / "podagent-static-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    dir_ = root_ / "manifests";
    fs::create_directory(dir_);
  }
  ~DirWatcherTest() override {
    watcher_.reset();
    fs::remove_all(root_);
  }

  void start() {
    watcher_ = std::make_unique<DirWatcher>(io_, clock_,
                                            DirWatcherOptions{dir_.string(), "node1", 20s, {}});
    watcher_->start([this](const ManifestSnapshot& s) { snapshots_.push_back(s); });
    EXPECT_FALSE(watcher_->ready());  // the first read runs on the io_context
    ASSERT_TRUE(run_until([&] { return watcher_->ready(); }));
    ASSERT_EQ(snapshots_.size(), 1u);
  }

  // Runs the io_context one handler at a time until `done`; the bounds only
  // keep a broken watcher from hanging the test.
  bool run_until(const std::function<bool()>& done) {
    for (int i = 0; i < 100 && !done(); ++i) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(50ms);
    }
    return done();
  }
  // Waits until the watcher has handled the events queued so far (inotify
  // queues them before the file operation returns), then lets it finish.
  void await_events() {
    uint64_t before = watcher_->stats().event_batches;
    ASSERT_TRUE(run_until([&] { return watcher_->stats().event_batches > before; }));
    clock_.settle();
  }
  // Waits for the next snapshot and returns it.
  const ManifestSnapshot& next_snapshot() {
    size_t want = snapshots_.size() + 1;
    EXPECT_TRUE(run_until([&] { return snapshots_.size() >= want; }));
    clock_.settle();
    return snapshots_.back();
  }

  boost::asio::io_context io_;
  base::FakeClock clock_{io_};
  fs::path root_;
  fs::path dir_;
  std::unique_ptr<DirWatcher> watcher_;
  std::vector<ManifestSnapshot> snapshots_;
};

TEST_F(DirWatcherTest, FirstReadDeliversWhatIsThereAndMakesItReady) {
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  start();
  EXPECT_THAT(pod_names(snapshots_[0]), ElementsAre("web-node1"));
  EXPECT_EQ(watcher_->snapshot(), snapshots_[0]);
  EXPECT_EQ(watcher_->stats().full_scans, 1u);
}

TEST_F(DirWatcherTest, AnEmptyDirectoryIsDeliveredToo) {
  start();
  EXPECT_THAT(snapshots_[0].pods, IsEmpty());
  EXPECT_TRUE(watcher_->ready());
}

TEST_F(DirWatcherTest, AFileDroppedInAppearsAsAPod) {
  start();
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  const ManifestSnapshot& s = next_snapshot();
  ASSERT_THAT(pod_names(s), ElementsAre("web-node1"));
  EXPECT_EQ(s.pods.begin()->second.file, "web.yaml");
  EXPECT_EQ(snapshots_.size(), 2u);  // created then closed: read once, when closed
}

TEST_F(DirWatcherTest, AnEditReplacesThePodAndAnIdenticalRewriteChangesNothing) {
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  start();
  base::PodUid old_uid = snapshots_[0].pods.begin()->first;

  write_file(dir_ / "web.yaml", pod_yaml("web"));
  await_events();
  EXPECT_EQ(snapshots_.size(), 1u);

  write_file(dir_ / "web.yaml", pod_yaml("web", "nginx:1.26"));
  const ManifestSnapshot& s = next_snapshot();
  ASSERT_EQ(s.pods.size(), 1u);
  EXPECT_NE(s.pods.begin()->first, old_uid);
  EXPECT_EQ(image_of(s, "web-node1"), "nginx:1.26");
}

TEST_F(DirWatcherTest, AnInvalidEditKeepsThePodAndReportsTheErrorUntilFixed) {
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  start();
  write_file(dir_ / "web.yaml", pod_without_image("web"));
  await_events();
  EXPECT_EQ(snapshots_.size(), 1u);
  EXPECT_EQ(watcher_->snapshot(), snapshots_[0]);
  EXPECT_THAT(watcher_->errors().at("web.yaml"),
              ElementsAre(HasSubstr("spec.containers[0].image")));
  EXPECT_EQ(watcher_->error_total(), 1u);

  write_file(dir_ / "web.yaml", pod_yaml("web", "nginx:1.26"));
  const ManifestSnapshot& s = next_snapshot();
  EXPECT_EQ(image_of(s, "web-node1"), "nginx:1.26");
  EXPECT_THAT(watcher_->errors(), IsEmpty());
  EXPECT_EQ(watcher_->error_total(), 1u);
}

TEST_F(DirWatcherTest, AnUnreadableFileKeepsItsPod) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file whatever its mode";
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  start();
  fs::permissions(dir_ / "web.yaml", fs::perms::none);
  await_events();
  EXPECT_EQ(snapshots_.size(), 1u);
  EXPECT_THAT(watcher_->errors().at("web.yaml"), ElementsAre(HasSubstr("Permission denied")));
}

TEST_F(DirWatcherTest, DeletingTheFileDeletesThePod) {
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  write_file(dir_ / "bad.yaml", "kind: [");
  start();
  ASSERT_EQ(watcher_->errors().count("bad.yaml"), 1u);
  fs::remove(dir_ / "web.yaml");
  EXPECT_THAT(next_snapshot().pods, IsEmpty());
  fs::remove(dir_ / "bad.yaml");
  await_events();
  EXPECT_THAT(watcher_->errors(), IsEmpty());
}

TEST_F(DirWatcherTest, MovingAFileInAndOut) {
  fs::create_directory(root_ / "staging");
  write_file(root_ / "staging" / "web.yaml", pod_yaml("web"));
  start();
  fs::rename(root_ / "staging" / "web.yaml", dir_ / "web.yaml");
  EXPECT_THAT(pod_names(next_snapshot()), ElementsAre("web-node1"));
  fs::rename(dir_ / "web.yaml", root_ / "staging" / "web.yaml");
  EXPECT_THAT(next_snapshot().pods, IsEmpty());
}

TEST_F(DirWatcherTest, DotfilesAndEditorLeftoversAreIgnored) {
  start();
  for (const char* name : {".web.yaml", "web.yaml.swp", "web.yaml.swx", "web.yaml~", "web.yaml.tmp",
                           "4913", "#web.yaml#"}) {
    write_file(dir_ / name, pod_yaml("web"));
  }
  await_events();
  EXPECT_EQ(snapshots_.size(), 1u);
  EXPECT_THAT(watcher_->errors(), IsEmpty());

  // An editor's atomic save: write a temporary file, rename it into place.
  fs::rename(dir_ / "web.yaml.tmp", dir_ / "web.yaml");
  EXPECT_THAT(pod_names(next_snapshot()), ElementsAre("web-node1"));
}

TEST_F(DirWatcherTest, SymlinksToFilesAreReadAndSubdirectoriesAreNot) {
  write_file(root_ / "target.yaml", pod_yaml("linked"));
  fs::create_directory(dir_ / "sub");
  write_file(dir_ / "sub" / "web.yaml", pod_yaml("web"));
  start();
  EXPECT_THAT(snapshots_[0].pods, IsEmpty());
  fs::create_symlink(root_ / "target.yaml", dir_ / "linked.yaml");
  EXPECT_THAT(pod_names(next_snapshot()), ElementsAre("linked-node1"));
}

TEST_F(DirWatcherTest, ADirectoryCreatedAfterStartIsWatched) {
  fs::remove(dir_);
  start();
  EXPECT_THAT(snapshots_[0].pods, IsEmpty());
  fs::create_directory(dir_);
  await_events();
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  EXPECT_THAT(pod_names(next_snapshot()), ElementsAre("web-node1"));
}

TEST_F(DirWatcherTest, ADirectoryRemovedAndRecreated) {
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  start();
  fs::remove_all(dir_);
  EXPECT_THAT(next_snapshot().pods, IsEmpty());
  fs::create_directory(dir_);
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  EXPECT_THAT(pod_names(next_snapshot()), ElementsAre("web-node1"));
}

TEST_F(DirWatcherTest, ADirectoryReplacedByARenameIsFollowed) {
  write_file(dir_ / "old.yaml", pod_yaml("old"));
  fs::create_directory(root_ / "next");
  write_file(root_ / "next" / "new.yaml", pod_yaml("new"));
  start();
  fs::rename(dir_, root_ / "previous");
  fs::rename(root_ / "next", dir_);
  ASSERT_TRUE(run_until(
      [&] { return pod_names(watcher_->snapshot()) == std::vector<std::string>{"new-node1"}; }));
  // The new directory is the one watched now, the old one no more.
  write_file(root_ / "previous" / "stale.yaml", pod_yaml("stale"));
  write_file(dir_ / "more.yaml", pod_yaml("more"));
  EXPECT_THAT(pod_names(next_snapshot()), UnorderedElementsAre("new-node1", "more-node1"));
}

TEST_F(DirWatcherTest, ListAndMultiDocumentFilesYieldAllTheirPods) {
  start();
  write_file(dir_ / "list.yaml", list_yaml("one", "two"));
  write_file(dir_ / "multi.yaml", pod_yaml("three") + "---\n" + pod_yaml("four"));
  run_until([&] { return watcher_->snapshot().pods.size() == 4; });
  EXPECT_THAT(pod_names(watcher_->snapshot()),
              UnorderedElementsAre("one-node1", "two-node1", "three-node1", "four-node1"));
}

TEST_F(DirWatcherTest, DuplicateNamesAcrossFilesKeepTheFirstFile) {
  write_file(dir_ / "a.yaml", pod_yaml("web", "from-a"));
  start();
  write_file(dir_ / "b.yaml", pod_yaml("web", "from-b"));
  await_events();
  EXPECT_EQ(snapshots_.size(), 1u);
  EXPECT_EQ(image_of(watcher_->snapshot(), "web-node1"), "from-a");
  EXPECT_THAT(watcher_->errors().at("b.yaml"), ElementsAre(HasSubstr("Duplicate value")));
}

TEST_F(DirWatcherTest, ABurstOfEventsIsHandledAsOne) {
  start();
  for (int i = 0; i < 20; ++i)
    write_file(dir_ / ("p" + std::to_string(i) + ".yaml"), pod_yaml("p" + std::to_string(i)));
  await_events();
  EXPECT_EQ(watcher_->stats().event_batches, 1u);
  ASSERT_EQ(snapshots_.size(), 2u);
  EXPECT_EQ(snapshots_[1].pods.size(), 20u);
}

TEST_F(DirWatcherTest, TheRelistCatchesAChangeInotifyMissed) {
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  fs::create_directory(root_ / "elsewhere");
  fs::create_hard_link(dir_ / "web.yaml", root_ / "elsewhere" / "web.yaml");
  start();
  // Written through a hard link outside the directory: the directory's
  // watch hears nothing of it.
  write_file(root_ / "elsewhere" / "web.yaml", pod_yaml("web", "nginx:1.26"));
  clock_.settle();
  EXPECT_EQ(snapshots_.size(), 1u);

  clock_.advance(19s);
  EXPECT_EQ(snapshots_.size(), 1u);
  clock_.advance(1s);
  ASSERT_EQ(snapshots_.size(), 2u);
  EXPECT_EQ(image_of(snapshots_[1], "web-node1"), "nginx:1.26");
  EXPECT_EQ(watcher_->stats().full_scans, 2u);

  // And again every period; with nothing new, nothing is delivered.
  clock_.advance(20s);
  EXPECT_EQ(watcher_->stats().full_scans, 3u);
  EXPECT_EQ(snapshots_.size(), 2u);
}

TEST_F(DirWatcherTest, TheRelistRetriesAWatchOnADirectoryWhoseParentCameLate) {
  fs::path deep = root_ / "parent" / "manifests";
  watcher_ =
      std::make_unique<DirWatcher>(io_, clock_, DirWatcherOptions{deep.string(), "node1", 20s, {}});
  watcher_->start([this](const ManifestSnapshot& s) { snapshots_.push_back(s); });
  ASSERT_TRUE(run_until([&] { return watcher_->ready(); }));
  fs::create_directories(deep);
  write_file(deep / "web.yaml", pod_yaml("web"));
  clock_.settle();
  EXPECT_EQ(snapshots_.size(), 1u);  // nothing watched the new parent
  clock_.advance(20s);               // the relist finds the file and watches the directory
  ASSERT_EQ(snapshots_.size(), 2u);
  fs::remove(deep / "web.yaml");
  EXPECT_THAT(next_snapshot().pods, IsEmpty());  // heard through the new watch
}

TEST_F(DirWatcherTest, StopEndsDeliveryAndLeavesNoWork) {
  start();
  watcher_->stop();
  write_file(dir_ / "web.yaml", pod_yaml("web"));
  io_.restart();
  io_.run_for(5s);  // returns at once when the watcher left no work behind
  EXPECT_TRUE(io_.stopped());
  EXPECT_EQ(clock_.pending_waits(), 0u);  // the relist timer is cancelled too
  clock_.advance(60s);
  EXPECT_EQ(snapshots_.size(), 1u);
}

TEST_F(DirWatcherTest, StoppingFromTheFirstDeliveryLeavesNoWork) {
  watcher_ =
      std::make_unique<DirWatcher>(io_, clock_, DirWatcherOptions{dir_.string(), "node1", 20s, {}});
  watcher_->start([this](const ManifestSnapshot& s) {
    snapshots_.push_back(s);
    watcher_->stop();
  });
  io_.run_for(5s);  // returns at once when the watcher left no work behind
  EXPECT_TRUE(io_.stopped());
  EXPECT_EQ(clock_.pending_waits(), 0u);
  EXPECT_EQ(snapshots_.size(), 1u);
  EXPECT_TRUE(watcher_->ready());
}

}  // namespace
}  // namespace podagent::static_pods
