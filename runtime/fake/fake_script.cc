#include "runtime/fake/fake_script.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <utility>

namespace podagent::runtime {

namespace {

FakeBehaviour behaviour(FakeBehaviour::Kind kind, base::Duration after = {}, int32_t exit_code = 0,
                        std::string message = {}) {
  FakeBehaviour b;
  b.kind = kind;
  b.after = after;
  b.exit_code = exit_code;
  b.message = std::move(message);
  return b;
}

}  // namespace

FakeScript& FakeScript::exit_after(base::Duration d, int32_t exit_code) {
  queue_.push_back(behaviour(FakeBehaviour::Kind::ExitAfter, d, exit_code));
  return *this;
}

FakeScript& FakeScript::run_forever() {
  queue_.push_back(behaviour(FakeBehaviour::Kind::RunForever));
  return *this;
}

FakeScript& FakeScript::oom_after(base::Duration d) {
  queue_.push_back(behaviour(FakeBehaviour::Kind::OomAfter, d, 137));
  return *this;
}

FakeScript& FakeScript::fail_start(std::string message) {
  queue_.push_back(behaviour(FakeBehaviour::Kind::FailStart, {}, 128, std::move(message)));
  return *this;
}

FakeScript& FakeScript::repeat_last() {
  if (!queue_.empty()) {
    fallback_ = std::move(queue_.back());
    queue_.pop_back();
  }
  return *this;
}

FakeScript& FakeScript::ignore_sigterm(bool ignore) {
  ignore_sigterm_ = ignore;
  return *this;
}

FakeScript& FakeScript::exec_result(ExecResult result, base::Duration takes) {
  exec_result_ = std::move(result);
  exec_takes_ = takes;
  return *this;
}

FakeScript& FakeScript::output(std::string text, LogStream stream) {
  FakeBehaviour& b = queue_.empty() ? fallback_ : queue_.back();
  b.output.push_back(FakeOutput{stream, std::move(text)});
  return *this;
}

base::Status write_fake_log(const std::filesystem::path& path, const std::vector<FakeOutput>& output,
                            WallTime time) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return base::Error("cannot create " + path.parent_path().string() + ": " + ec.message());
  std::ofstream out(path, std::ios::binary | std::ios::app);
  for (const FakeOutput& o : output) out << format_cri_output(time, o.stream, o.text);
  out.flush();
  if (!out) return base::Error("cannot write " + path.string() + ": " + std::strerror(errno));
  return {};
}

FakeBehaviour FakeScript::next_run() {
  if (queue_.empty()) return fallback_;
  FakeBehaviour b = std::move(queue_.front());
  queue_.pop_front();
  return b;
}

}  // namespace podagent::runtime
