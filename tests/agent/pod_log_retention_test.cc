// PodLogRetention on a FakeClock: a deleted pod's log directory stays for
// the retention and goes at its exact end; at start, what no source wants
// goes by its files' age; what a source wants never goes.

#include "agent/pod_log_retention.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <set>
#include <string>

#include "tests/agent/agent_test_util.h"

namespace podagent::agent {
namespace {

using namespace testing;
using namespace std::chrono_literals;

class PodLogRetentionTest : public ::testing::Test {
 protected:
  void make(base::Duration retention) {
    PodLogRetentionOptions o;
    o.pod_logs_dir = logs_;
    o.retention = retention;
    o.wanted = [this](std::string_view uid) { return wanted_.contains(std::string(uid)); };
    retention_ = std::make_unique<PodLogRetention>(clock_, io_.get_executor(), std::move(o));
  }
  // <logs>/<name>/main/0.log, every entry modified `age` before the clock's
  // wall time.
  fs::path pod_dir(const std::string& name, base::Duration age = 0s) {
    const fs::path dir = logs_ / name;
    fs::create_directories(dir / "main");
    write_file(dir / "main" / "0.log", "2026-01-01T00:00:00Z stdout F hello\n");
    for (const fs::path& p : {dir / "main" / "0.log", dir / "main", dir}) set_age(p, age);
    return dir;
  }
  void set_age(const fs::path& p, base::Duration age) {
    const auto t = std::chrono::duration_cast<std::chrono::nanoseconds>(
        (clock_.wall_now() - age).time_since_epoch());
    const timespec ts{static_cast<time_t>(t.count() / 1'000'000'000),
                      static_cast<long>(t.count() % 1'000'000'000)};
    const timespec times[2] = {ts, ts};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << p;
  }
  bool exists(const std::string& name) { return fs::exists(logs_ / name); }

  boost::asio::io_context io_;
  base::FakeClock clock_{io_};
  TempDir dir_;
  fs::path logs_ = dir_.path() / "logs";
  std::set<std::string> wanted_;
  std::unique_ptr<PodLogRetention> retention_;
};

TEST_F(PodLogRetentionTest, ADeletedPodsLogsStayForTheRetentionThenGo) {
  make(1h);
  pod_dir("default_p1_u1");
  pod_dir("default_p2_u2");
  retention_->pod_removed("default", "p1", "u1");
  clock_.advance(10min);
  retention_->pod_removed("default", "p2", "u2");
  EXPECT_EQ(retention_->pending(), 2u);

  clock_.advance(50min - 1ms);
  EXPECT_TRUE(exists("default_p1_u1"));
  clock_.advance(1ms);
  EXPECT_FALSE(exists("default_p1_u1"));
  EXPECT_TRUE(exists("default_p2_u2"));
  clock_.advance(10min - 1ms);
  EXPECT_TRUE(exists("default_p2_u2"));
  clock_.advance(1ms);
  EXPECT_FALSE(exists("default_p2_u2"));
  EXPECT_EQ(retention_->removed(), 2u);
  EXPECT_EQ(retention_->pending(), 0u);
  EXPECT_EQ(clock_.pending_waits(), 0u);  // the timer's loop has ended
  EXPECT_TRUE(fs::exists(logs_));         // only the pods' directories go
}

TEST_F(PodLogRetentionTest, ALaterRemovalOfThePodMovesItsTime) {
  make(1h);
  pod_dir("default_p1_u1");
  retention_->pod_removed("default", "p1", "u1");
  clock_.advance(30min);
  retention_->pod_removed("default", "p1", "u1");
  EXPECT_EQ(retention_->pending(), 1u);
  clock_.advance(1h - 1ms);
  EXPECT_TRUE(exists("default_p1_u1"));
  clock_.advance(1ms);
  EXPECT_FALSE(exists("default_p1_u1"));
}

TEST_F(PodLogRetentionTest, ZeroRetentionRemovesAtOnce) {
  make(0s);
  pod_dir("default_p1_u1");
  retention_->pod_removed("default", "p1", "u1");
  clock_.settle();
  EXPECT_FALSE(exists("default_p1_u1"));
}

TEST_F(PodLogRetentionTest, AWantedPodsDirectoryStaysUntilNothingWantsIt) {
  // A pod replaced under its name is DELETED while it still terminates.
  make(1h);
  pod_dir("default_p1_u1");
  wanted_ = {"u1"};
  retention_->pod_removed("default", "p1", "u1");
  clock_.advance(5h);
  EXPECT_TRUE(exists("default_p1_u1"));
  wanted_.clear();  // its worker finished: looked at again one retention later
  clock_.advance(1h);
  EXPECT_FALSE(exists("default_p1_u1"));
}

TEST_F(PodLogRetentionTest, AtStartWhatNoSourceWantsGoesByTheAgeOfItsNewestFile) {
  make(1h);
  pod_dir("default_old_u1", 2h);
  pod_dir("default_young_u2", 20min);
  pod_dir("default_wanted_u3", 5h);
  // An old directory whose container still wrote 10 minutes ago.
  const fs::path active = pod_dir("default_active_u4", 3h);
  set_age(active / "main" / "0.log", 10min);
  pod_dir("not-a-pod", 5h);
  write_file(logs_ / "kube_file_u5", "a file, not a pod's directory");
  wanted_ = {"u3"};

  retention_->sweep();
  EXPECT_FALSE(exists("default_old_u1"));  // at once
  EXPECT_TRUE(exists("default_young_u2"));
  EXPECT_TRUE(exists("default_active_u4"));
  EXPECT_EQ(retention_->pending(), 2u);
  EXPECT_EQ(retention_->next_due(), clock_.now() + 40min);

  clock_.advance(40min - 1ms);
  EXPECT_TRUE(exists("default_young_u2"));
  clock_.advance(1ms);
  EXPECT_FALSE(exists("default_young_u2"));
  EXPECT_TRUE(exists("default_active_u4"));
  clock_.advance(10min);
  EXPECT_FALSE(exists("default_active_u4"));

  clock_.advance(24h);
  EXPECT_TRUE(exists("default_wanted_u3"));  // never, while wanted
  EXPECT_TRUE(exists("not-a-pod"));          // not a pod's name: never touched
  EXPECT_TRUE(exists("kube_file_u5"));
  EXPECT_EQ(retention_->removed(), 3u);
}

TEST_F(PodLogRetentionTest, OnlyTheFirstSweepActs) {
  make(1h);
  retention_->sweep();
  pod_dir("default_old_u1", 2h);
  retention_->sweep();
  clock_.advance(2h);
  EXPECT_TRUE(exists("default_old_u1"));
}

TEST_F(PodLogRetentionTest, WithoutALogDirectoryNothingHappens) {
  PodLogRetentionOptions o;
  o.wanted = [](std::string_view) { return false; };
  retention_ = std::make_unique<PodLogRetention>(clock_, io_.get_executor(), std::move(o));
  pod_dir("default_p1_u1", 2h);
  retention_->sweep();
  retention_->pod_removed("default", "p1", "u1");
  clock_.advance(2h);
  EXPECT_TRUE(exists("default_p1_u1"));
  EXPECT_EQ(retention_->pending(), 0u);
}

TEST_F(PodLogRetentionTest, StopKeepsEverythingAndEndsTheTimer) {
  make(1h);
  pod_dir("default_p1_u1");
  retention_->pod_removed("default", "p1", "u1");
  clock_.settle();
  EXPECT_EQ(clock_.pending_waits(), 1u);
  retention_->stop();
  clock_.settle();
  EXPECT_EQ(clock_.pending_waits(), 0u);
  clock_.advance(2h);
  EXPECT_TRUE(exists("default_p1_u1"));
  retention_->pod_removed("default", "p1", "u1");  // ignored once stopped
  EXPECT_EQ(retention_->pending(), 0u);
}

TEST_F(PodLogRetentionTest, DestroyedWithItsTimerPendingItTouchesNothingAfter) {
  make(1h);
  pod_dir("default_p1_u1");
  retention_->pod_removed("default", "p1", "u1");
  clock_.settle();
  retention_.reset();
  clock_.advance(2h);
  EXPECT_TRUE(exists("default_p1_u1"));
}

}  // namespace
}  // namespace podagent::agent
