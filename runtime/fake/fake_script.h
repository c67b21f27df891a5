#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "runtime/container_log.h"
#include "runtime/runtime.h"

namespace podagent::runtime {

// Output a fake container writes when it starts.
struct FakeOutput {
  LogStream stream = LogStream::Stdout;
  std::string text;
  bool operator==(const FakeOutput&) const = default;
};

// What one run of a fake container does, from the moment it is started.
struct FakeBehaviour {
  enum class Kind {
    RunForever,  // runs until stopped or killed
    ExitAfter,   // exits with `exit_code` after `after` of fake time
    OomAfter,    // is OOM-killed (137, "OOMKilled") after `after`
    FailStart,   // start_container fails: Exited, 128, "StartError", `message`
  };
  Kind kind = Kind::RunForever;
  base::Duration after{};
  int32_t exit_code = 0;
  std::string message;
  // Written to the container's log (CRI format) as it starts, unless the
  // start fails.
  std::vector<FakeOutput> output;
  bool operator==(const FakeBehaviour&) const = default;
};

// The scripted life of the containers with one name (see FakeRuntime::script).
// Each start of such a container takes the next queued behaviour; once the
// queue is empty it uses the fallback (run forever unless repeat_last() set
// it). All durations are fake-clock time. Setters return *this to chain:
//
//   rt.script("app").exit_after(5s, 1).exit_after(5s, 1).run_forever();
//   rt.script("crasher").exit_after(1s, 2).repeat_last();   // crashes forever
//   rt.script("stubborn").ignore_sigterm();                 // 137 after grace
class FakeScript {
 public:
  FakeScript& exit_after(base::Duration d, int32_t exit_code);
  FakeScript& run_forever();
  FakeScript& oom_after(base::Duration d);
  FakeScript& fail_start(std::string message);
  // The last queued behaviour becomes the fallback for every later run
  // (and is removed from the queue, so it is used from then on).
  FakeScript& repeat_last();
  // Every run of this container ignores SIGTERM: stop_container(grace)
  // kills it with SIGKILL (137) when `grace` has passed.
  FakeScript& ignore_sigterm(bool ignore = true);
  // Output the run writes as it starts, appended to the behaviour queued
  // last; with none queued, to the fallback (every run that has no queued
  // behaviour left):
  //   rt.script("app").output("Hello\n");                          // every run
  //   rt.script("app").exit_after(1s, 1).output("one\n").run_forever().output("two\n");
  FakeScript& output(std::string text, LogStream stream = LogStream::Stdout);
  // What exec in this container returns, and how much fake time it takes
  // (past the exec's timeout, the exec returns timed_out = true).
  FakeScript& exec_result(ExecResult result, base::Duration takes = {});

  // Takes the behaviour of the next run.
  FakeBehaviour next_run();
  bool ignores_sigterm() const { return ignore_sigterm_; }
  const ExecResult& exec() const { return exec_result_; }
  base::Duration exec_duration() const { return exec_takes_; }
  size_t queued() const { return queue_.size(); }

 private:
  std::deque<FakeBehaviour> queue_;
  FakeBehaviour fallback_;
  bool ignore_sigterm_ = false;
  ExecResult exec_result_;
  base::Duration exec_takes_{};
};

// Appends `output` to the CRI log file `path` as written at `time` (the
// directories are made when missing), as conmon does when a container
// starts; an empty `output` still creates the file.
base::Status write_fake_log(const std::filesystem::path& path, const std::vector<FakeOutput>& output,
                            WallTime time);

}  // namespace podagent::runtime
