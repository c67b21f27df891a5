#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

namespace podagent::base {
namespace {

std::atomic<LogLevel> g_level{LogLevel::Info};

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Error: return "error";
    case LogLevel::Warning: return "warning";
    case LogLevel::Info: return "info";
    case LogLevel::Debug: return "debug";
  }
  return "info";
}

}  // namespace

void set_log_level(LogLevel level) { g_level.store(level); }
LogLevel log_level() { return g_level.load(); }

void log_line(LogLevel level, std::string_view message) {
  // Each line of a multi-line message carries the prefix too: the journal
  // gives a line without one the default priority.
  const std::string prefix = fmt::format("<{}>", static_cast<int>(level));
  std::string line = fmt::format("{}{} ", prefix, level_name(level));
  for (char c : message) {
    line += c;
    if (c == '\n') line += prefix;
  }
  line += '\n';
  // One write per line, so concurrent lines do not interleave.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace podagent::base
