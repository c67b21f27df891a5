#include "runtime/container_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

#include "runtime/container_log_follower.h"
#include "runtime/fake/fake_script.h"
#include "tests/temp_dir.h"

namespace podagent::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// 2024-05-01T10:00:00Z
const WallTime kT0 = WallTime(std::chrono::seconds(1714557600));

using test_util::TempDir;

void append(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out << text;
}

std::string out_at(WallTime t, const std::string& text, LogStream s = LogStream::Stdout) {
  return format_cri_output(t, s, text);
}

TEST(CriFormatTest, RecordsCarryUtcTimeWithNineDigitsStreamAndTag) {
  EXPECT_EQ(format_log_time(kT0 + 5ns), "2024-05-01T10:00:00.000000005Z");
  EXPECT_EQ(format_cri_record({kT0 + 1500ms, LogStream::Stderr, false, "oops"}),
            "2024-05-01T10:00:01.500000000Z stderr F oops\n");
  EXPECT_EQ(
      out_at(kT0, "a\nb\n"),
      "2024-05-01T10:00:00.000000000Z stdout F a\n2024-05-01T10:00:00.000000000Z stdout F b\n");
  // A piece without its newline is partial.
  EXPECT_EQ(
      out_at(kT0, "x\nhalf"),
      "2024-05-01T10:00:00.000000000Z stdout F x\n2024-05-01T10:00:00.000000000Z stdout P half\n");
  EXPECT_EQ(out_at(kT0, "\n"), "2024-05-01T10:00:00.000000000Z stdout F \n");
}

TEST(CriFormatTest, ParsesWhatItWritesAndWhatConmonWrites) {
  CriRecord r{kT0 + 123456789ns, LogStream::Stderr, true, "text with  spaces "};
  std::string line = format_cri_record(r);
  line.pop_back();
  EXPECT_EQ(parse_cri_record(line), r);
  // An offset and fewer fraction digits, as conmon may write them.
  auto c = parse_cri_record("2024-05-01T12:00:00.5+02:00 stdout F hi");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->time, kT0 + 500ms);
  EXPECT_EQ(c->text, "hi");
  auto empty = parse_cri_record("2024-05-01T10:00:00Z stdout F");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->text, "");
  EXPECT_FALSE(parse_cri_record("garbage"));
  EXPECT_FALSE(parse_cri_record("2024-05-01T10:00:00Z stdin F x"));
  EXPECT_FALSE(parse_cri_record("2024-05-01T10:00:00Z stdout X x"));
  EXPECT_FALSE(parse_cri_record("yesterday stdout F x"));
}

TEST(CriFormatTest, NamesFollowTheKubelet) {
  EXPECT_EQ(pod_log_directory("/var/log/pods", "default", "web", "u-1"),
            fs::path("/var/log/pods/default_web_u-1"));
  EXPECT_EQ(container_log_path("app", 3), fs::path("app/3.log"));
}

class ContainerLogTest : public testing::Test {
 protected:
  fs::path dir() const { return tmp_.path(); }
  fs::path file(uint32_t attempt) const { return dir() / (std::to_string(attempt) + ".log"); }
  std::string read(uint32_t attempt, LogReadOptions o = {}, WallTime now = kT0 + 1h) {
    auto r = read_container_log(dir(), attempt, o, now);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->text : "";
  }
  TempDir tmp_;
};

TEST_F(ContainerLogTest, ReadsRotatedFilesFirstThenTheCurrentOne) {
  append(dir() / "0.log.20240501-100001", out_at(kT0 + 1s, "two\n"));
  append(dir() / "0.log.20240501-100000", out_at(kT0, "one\n"));
  append(file(0), out_at(kT0 + 2s, "three\n"));
  append(dir() / "0.log.20240501-100001.2", out_at(kT0 + 1s, "two and a half\n"));
  append(dir() / "0.log.20240501-100001.10", out_at(kT0 + 1s, "two and three quarters\n"));
  append(dir() / "0.log.tmp", out_at(kT0, "not ours\n"));
  append(dir() / "0.log.20240501-100001.gz", out_at(kT0, "not ours either\n"));
  append(file(1), out_at(kT0 + 3s, "next attempt\n"));
  EXPECT_EQ(attempt_log_files(dir(), 0).size(), 5u);
  EXPECT_EQ(read(0), "one\ntwo\ntwo and a half\ntwo and three quarters\nthree\n");
  EXPECT_EQ(read(1), "next attempt\n");
  EXPECT_EQ(read(7), "");  // no file: an empty log
  auto missing = read_container_log(dir() / "nope", 0, {}, kT0);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->text, "");
}

TEST_F(ContainerLogTest, JoinsPartialRecordsAndSkipsGarbage) {
  append(file(0), out_at(kT0, "he") + out_at(kT0 + 1s, "llo\n") + "not a record\n" +
                      out_at(kT0 + 2s, "bye\n", LogStream::Stderr));
  EXPECT_EQ(read(0), "hello\nbye\n");
  LogReadOptions ts;
  ts.timestamps = true;
  EXPECT_EQ(read(0, ts),
            "2024-05-01T10:00:00.000000000Z hello\n2024-05-01T10:00:02.000000000Z bye\n");
}

TEST_F(ContainerLogTest, AnUnfinishedLineIsShownOrHeldBack) {
  const std::string done = out_at(kT0, "done\n");
  append(file(0), done + out_at(kT0, "half") + "2024-05-01T10:00:00Z stdout F cut sh");
  auto shown = read_container_log(dir(), 0, {}, kT0);
  ASSERT_TRUE(shown);
  EXPECT_EQ(shown->text, "done\nhalf");
  LogReadOptions hold;
  hold.hold_unfinished = true;
  auto held = read_container_log(dir(), 0, hold, kT0);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->text, "done\n");
  EXPECT_EQ(held->end.offset, done.size());  // a follower re-reads the P record
}

TEST_F(ContainerLogTest, TailSinceAndLimit) {
  for (int i = 0; i < 5; ++i)
    append(file(0), out_at(kT0 + std::chrono::seconds(i), "l" + std::to_string(i) + "\n"));
  LogReadOptions o;
  o.tail_lines = 2;
  EXPECT_EQ(read(0, o), "l3\nl4\n");
  o.tail_lines = 0;
  EXPECT_EQ(read(0, o), "");
  o.tail_lines = 10;
  EXPECT_EQ(read(0, o), "l0\nl1\nl2\nl3\nl4\n");

  LogReadOptions since;
  since.since_seconds = 2;  // now = kT0 + 4s: lines at 2 s and later
  EXPECT_EQ(read(0, since, kT0 + 4s), "l2\nl3\nl4\n");
  LogReadOptions since_time;
  since_time.since_time = kT0 + 3s;
  EXPECT_EQ(read(0, since_time), "l3\nl4\n");
  since_time.tail_lines = 1;
  EXPECT_EQ(read(0, since_time), "l4\n");

  LogReadOptions limit;
  limit.limit_bytes = 7;
  auto r = read_container_log(dir(), 0, limit, kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "l0\nl1\nl");
  EXPECT_TRUE(r->limit_reached);
  limit.limit_bytes = 15;
  r = read_container_log(dir(), 0, limit, kT0);
  EXPECT_EQ(r->text, "l0\nl1\nl2\nl3\nl4\n");
  EXPECT_FALSE(r->limit_reached);
}

TEST_F(ContainerLogTest, TheFakeRuntimesWriterAppendsCriRecords) {
  const fs::path log = dir() / "pod" / "app" / "0.log";
  ASSERT_TRUE(write_fake_log(log, {}, kT0));
  EXPECT_TRUE(fs::exists(log));
  ASSERT_TRUE(
      write_fake_log(log, {{LogStream::Stdout, "Hello\n"}, {LogStream::Stderr, "warn\n"}}, kT0));
  auto r = read_container_log(dir() / "pod" / "app", 0, {}, kT0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "Hello\nwarn\n");
}

// ---- the follower ----

class FollowerTest : public ContainerLogTest {
 protected:
  // Calls next(); once it is waiting, runs `acts` in turn, letting the
  // follower see each one's effect; returns what next() gave ("<end>" for
  // nullopt, "<error: ...>" for an error), or "<early: ...>" when it gave
  // that before the last act.
  std::string next(LogFollower& f, std::vector<std::function<void()>> acts = {}) {
    std::optional<std::string> got;
    auto run = [&]() -> boost::asio::awaitable<void> {
      auto r = co_await f.next();
      if (!r) {
        got = "<error: " + r.error().to_string() + ">";
      } else {
        got = r->value_or("<end>");
      }
    };
    boost::asio::co_spawn(io_, run(), [&](std::exception_ptr e) {
      if (e) got = "<exception>";
    });
    io_.restart();
    io_.poll();  // runs next() until it waits (or is done)
    for (size_t i = 0; i < acts.size(); ++i) {
      if (got) return "<early: " + *got + ">";
      acts[i]();
      // inotify queues its events inside the writes: they are ready now.
      io_.restart();
      io_.poll();
    }
    // A guard against a hang, not a wait.
    for (int i = 0; !got && i < 50; ++i) io_.run_one_for(100ms);
    return got.value_or("<hang>");
  }
  boost::asio::io_context io_;
};

TEST_F(FollowerTest, YieldsLinesAsTheyAreWrittenAndJoinsHalfLines) {
  append(file(0), out_at(kT0, "old\n") + out_at(kT0, "begun "));
  LogReadOptions hold;
  hold.hold_unfinished = true;
  auto start = read_container_log(dir(), 0, hold, kT0);
  ASSERT_TRUE(start);
  EXPECT_EQ(start->text, "old\n");
  LogFollower f(dir(), start->end, true);
  // The held P record, then a record cut in two writes, then its end.
  EXPECT_EQ(next(f, {[&] { append(file(0), out_at(kT0 + 1s, "and ")); },
                     [&] { append(file(0), "2024-05-01T10:00:02Z stdout F do"); },
                     [&] { append(file(0), "ne\n"); }}),
            "2024-05-01T10:00:00.000000000Z begun and done\n");
  EXPECT_EQ(next(f, {[&] { append(file(0), out_at(kT0, "x\ny\n")); }}),
            "2024-05-01T10:00:00.000000000Z x\n2024-05-01T10:00:00.000000000Z y\n");
}

TEST_F(FollowerTest, FinishReturnsTheRestThenEnds) {
  append(file(0), out_at(kT0, "a\n"));
  LogFollower f(dir(), {0, 0}, true);
  EXPECT_EQ(next(f), "2024-05-01T10:00:00.000000000Z a\n");
  EXPECT_EQ(next(f, {[&] {
                   append(file(0), out_at(kT0 + 1s, "b\nunfinished"));
                   f.finish();
                 }}),
            "2024-05-01T10:00:01.000000000Z b\n");
  EXPECT_EQ(next(f), "2024-05-01T10:00:01.000000000Z unfinished");
  EXPECT_EQ(next(f), "<end>");
}

TEST_F(FollowerTest, FinishWakesAWaitingFollower) {
  append(file(0), "");
  LogFollower f(dir(), {0, 0}, false);
  EXPECT_EQ(next(f, {[&] { f.finish(); }}), "<end>");
}

TEST_F(FollowerTest, FollowsRotation) {
  append(file(0), out_at(kT0, "one\n"));
  LogFollower f(dir(), {0, 0}, false);
  EXPECT_EQ(next(f), "one\n");
  EXPECT_EQ(next(f, {[&] {
                   append(file(0), out_at(kT0, "two\n"));  // still in the old file
                   fs::rename(file(0), dir() / "0.log.20240501-100000");
                   append(file(0), out_at(kT0, "three\n"));
                 }}),
            "two\nthree\n");
  EXPECT_EQ(next(f, {[&] { append(file(0), out_at(kT0, "four\n")); }}), "four\n");
  EXPECT_EQ(f.attempt(), 0u);
}

TEST_F(FollowerTest, SwitchesToTheNextAttemptWhenItStarts) {
  append(file(0), out_at(kT0, "first run\n"));
  LogFollower f(dir(), {0, 0}, false);
  EXPECT_EQ(next(f), "first run\n");
  EXPECT_EQ(next(f, {[&] {
                   append(file(0), out_at(kT0, "last words\n"));
                   append(file(1), out_at(kT0, "second run\n"));
                 }}),
            "last words\nsecond run\n");
  EXPECT_EQ(f.attempt(), 1u);
  EXPECT_EQ(next(f, {[&] { append(file(1), out_at(kT0, "more\n")); }}), "more\n");
}

TEST_F(FollowerTest, WaitsForAFileNotYetCreated) {
  LogFollower f(dir(), {0, 0}, false);
  EXPECT_EQ(next(f, {[&] { append(file(0), out_at(kT0, "hello\n")); }}), "hello\n");
}

}  // namespace
}  // namespace podagent::runtime
