#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.h"
#include "runtime/runtime.h"

// Container logs (CRI format, written by conmon) and termination messages,
// as the kubelet handles them.
namespace podagent::runtime::oci {

// The text of the last `max_lines` lines of a CRI-format log
// ("<RFC3339Nano> stdout|stderr F|P <text>"), partial lines joined, cut to
// its last `max_bytes`. Lines that are not CRI lines are taken whole.
std::string cri_log_tail(std::string_view cri_text, size_t max_lines, size_t max_bytes);

// "<log file name>.<YYYYMMDD-HHMMSS>" of `now` in UTC: a rotated log's name.
std::string rotated_log_name(const std::string& log_file_name, WallTime now);

// When `log` has reached `max_bytes`, renames it to its rotated name (with
// a numeric suffix if that exists) and returns true: the caller then makes
// the writer reopen the path. Absent or smaller: false.
base::Result<bool> rotate_log_if_full(const std::filesystem::path& log, uint64_t max_bytes,
                                      WallTime now);

// Removes the oldest rotated files of `log` so that, with `log` itself,
// at most `max_files` remain.
void prune_rotated_logs(const std::filesystem::path& log, uint32_t max_files);

// The message of an exited container: its termination-message file (at most
// 4096 bytes); with the FallbackToLogsOnError policy, a failed exit and an
// empty file, the last 80 lines (2048 bytes at most) of its log.
std::string termination_message(const std::filesystem::path& message_file, std::string_view policy,
                                int32_t exit_code, const std::filesystem::path& log);

}  // namespace podagent::runtime::oci
