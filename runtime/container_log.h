#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/pod_status.h"

// Container logs in the CRI format, as the kubelet and conmon keep them:
//
//   <podLogsDir>/<namespace>_<name>_<uid>/<container>/<attempt>.log
//
// one record per line, `<RFC3339Nano> stdout|stderr F|P <text>`, where P
// ("partial") says that the text continues in the next record and F ends a
// log line. A file is rotated by renaming it to
// `<attempt>.log.<YYYYMMDD-HHMMSS>` and starting a new `<attempt>.log`.
//
// Everything here is synchronous file access and pure formatting; the
// follower of a growing log is in runtime/container_log_follower.h.
namespace podagent::runtime {

using model::WallTime;

enum class LogStream { Stdout, Stderr };
// "stdout", "stderr".
std::string_view to_string(LogStream stream);

// One record of a CRI log file.
struct CriRecord {
  WallTime time{};
  LogStream stream = LogStream::Stdout;
  bool partial = false;  // P: the log line continues in the next record
  std::string text;      // without the newline
  bool operator==(const CriRecord&) const = default;
};

// `time` as RFC 3339 in UTC with exactly nine fraction digits
// ("2024-05-01T10:00:00.000000001Z"): the kubelet's RFC3339NanoFixed.
std::string format_log_time(WallTime time);

// One record with its newline.
std::string format_cri_record(const CriRecord& record);
// The records of output `text` written at `time`: one F record per
// newline-terminated line; a final piece without a newline is a P record.
std::string format_cri_output(WallTime time, LogStream stream, std::string_view text);
// One record (without its newline); nullopt when the line is not one.
// Accepts any RFC 3339 time (offsets, fewer fraction digits), as conmon's.
std::optional<CriRecord> parse_cri_record(std::string_view line);

// ---- naming ----

// <pod_logs_dir>/<namespace>_<name>_<uid>: the pod's log directory.
std::filesystem::path pod_log_directory(const std::filesystem::path& pod_logs_dir,
                                        std::string_view namespace_, std::string_view name,
                                        std::string_view uid);
// <container>/<attempt>.log, relative to the pod's log directory.
std::filesystem::path container_log_path(std::string_view container, uint32_t attempt);
// The files of one attempt in `container_dir`, oldest first: the rotated
// ones (<attempt>.log.<stamp>, by stamp), then <attempt>.log when it exists.
std::vector<std::filesystem::path> attempt_log_files(const std::filesystem::path& container_dir,
                                                     uint32_t attempt);

// ---- reading ----

// The pod log options of the Kubernetes API that shape what is read.
struct LogReadOptions {
  std::optional<int64_t> tail_lines;     // the last N log lines only; >= 0
  std::optional<int64_t> since_seconds;  // lines not older than now - N s
  std::optional<WallTime> since_time;    // lines not older than this
  bool timestamps = false;               // keep each line's time in front
  std::optional<int64_t> limit_bytes;    // cut the output after N bytes
  // Hold back a log line still being written (a P record not yet followed
  // by its F record), so that a follower picks it up whole.
  bool hold_unfinished = false;
};

// Where a read stopped in the current file, for a follower to go on from.
struct LogPosition {
  uint32_t attempt = 0;
  uint64_t offset = 0;  // bytes of <attempt>.log consumed
};

struct LogRead {
  std::string text;            // the log lines, each ending in '\n'
  bool limit_reached = false;  // limit_bytes cut the output
  LogPosition end;
};

// Reads one attempt of a container (`container_dir` holds its files):
// rotated files first, then the current one; partial records joined into
// one line (timed by its first record); then since, tail, timestamps and
// limit applied in that order. Records that do not parse are skipped. A
// missing directory or file reads as an empty log. Errors: a file that
// exists but cannot be read.
base::Result<LogRead> read_container_log(const std::filesystem::path& container_dir,
                                         uint32_t attempt, const LogReadOptions& options,
                                         WallTime now);

// One log line as shown: its text with '\n' (and, when asked, the time in
// front), and the time of its first record.
struct LogLine {
  WallTime time{};
  std::string text;
};

// Turns CRI records into log lines, one record at a time (what both the
// reader and the follower do with each record).
class LogLineJoiner {
 public:
  explicit LogLineJoiner(bool timestamps) : timestamps_(timestamps) {}
  // Adds a record; returns the finished log line once an F record ends it.
  std::optional<LogLine> add(const CriRecord& record);
  // The unfinished line (without '\n'), or nullopt when there is none; it
  // is then forgotten.
  std::optional<LogLine> flush();
  bool unfinished() const { return started_; }
  WallTime unfinished_time() const { return first_; }

 private:
  bool timestamps_;
  bool started_ = false;
  WallTime first_{};
  std::string text_;
};

}  // namespace podagent::runtime
