#include "base/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace podagent::base {
namespace {

// Runs `write` with stderr redirected to a temporary file and returns what
// it wrote.
template <typename F>
std::string captured_stderr(F write) {
  std::FILE* file = std::tmpfile();
  EXPECT_NE(file, nullptr);
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(::fileno(file), STDERR_FILENO);
  write();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string out;
  std::rewind(file);
  for (int c; (c = std::fgetc(file)) != EOF;) out += static_cast<char>(c);
  std::fclose(file);
  return out;
}

TEST(LogTest, EachLineStartsWithTheSyslogPriorityTheJournalReads) {
  const std::string out = captured_stderr([] {
    log_line(LogLevel::Error, "it broke");
    log_line(LogLevel::Warning, "careful");
    log_line(LogLevel::Info, "fine");
  });
  EXPECT_EQ(out, "<3>error it broke\n<4>warning careful\n<6>info fine\n");
}

TEST(LogTest, EveryLineOfAMultiLineMessageKeepsItsPriority) {
  const std::string out = captured_stderr([] { log_line(LogLevel::Error, "two problems:\na\nb"); });
  EXPECT_EQ(out, "<3>error two problems:\n<3>a\n<3>b\n");
}

TEST(LogTest, LinesBelowTheLevelAreDropped) {
  const LogLevel before = log_level();
  set_log_level(LogLevel::Warning);
  const std::string out = captured_stderr([] {
    log_info("not shown {}", 1);
    log_warning("shown {}", 2);
  });
  set_log_level(before);
  EXPECT_EQ(out, "<4>warning shown 2\n");
}

}  // namespace
}  // namespace podagent::base
