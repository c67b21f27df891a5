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
  std::string line = fmt::format("<{}>{} {}\n", static_cast<int>(level), level_name(level), message);
  // One write per line, so concurrent lines do not interleave.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace podagent::base
