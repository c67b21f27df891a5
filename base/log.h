#pragma once

#include <fmt/format.h>

#include <string_view>

namespace podagent::base {

// Log levels map to syslog priorities, which systemd's journal reads from a
// "<N>" prefix on each stderr line.
enum class LogLevel { Error = 3, Warning = 4, Info = 6, Debug = 7 };

// Lines below this level are dropped. Default: Info.
void set_log_level(LogLevel level);
LogLevel log_level();

// Writes one line to stderr: "<prio>level message". Thread-safe (one write(2)
// per line).
void log_line(LogLevel level, std::string_view message);

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (static_cast<int>(level) > static_cast<int>(log_level())) return;
  log_line(level, fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... a) { log(LogLevel::Error, f, std::forward<Args>(a)...); }
template <typename... Args>
void log_warning(fmt::format_string<Args...> f, Args&&... a) { log(LogLevel::Warning, f, std::forward<Args>(a)...); }
template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... a) { log(LogLevel::Info, f, std::forward<Args>(a)...); }
template <typename... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... a) { log(LogLevel::Debug, f, std::forward<Args>(a)...); }

}  // namespace podagent::base
