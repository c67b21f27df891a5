#include "runtime/oci/container_logs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <deque>
#include <vector>

#include "base/unique_fd.h"
#include "runtime/container_log.h"
#include "runtime/oci/oci_state.h"

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxMessageBytes = 4096;
constexpr size_t kFallbackLines = 80;
constexpr size_t kFallbackBytes = 2048;
// The tail read of a log for the fallback message: enough for 80 lines of
// the 2048 bytes kept, with the CRI prefixes.
constexpr size_t kLogTailRead = 64 * 1024;

// The last `max_bytes` of a file; empty when it cannot be read.
std::string read_file_tail(const fs::path& path, size_t max_bytes) {
  base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0) return {};
  const off_t start =
      st.st_size > static_cast<off_t>(max_bytes) ? st.st_size - static_cast<off_t>(max_bytes) : 0;
  std::string out(static_cast<size_t>(st.st_size - start), '\0');
  const ssize_t n = ::pread(fd.get(), out.data(), out.size(), start);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

}  // namespace

std::string cri_log_tail(std::string_view cri_text, size_t max_lines, size_t max_bytes) {
  std::deque<std::string> lines;
  std::string current;
  size_t pos = 0;
  while (pos < cri_text.size()) {
    size_t end = cri_text.find('\n', pos);
    if (end == std::string_view::npos) end = cri_text.size();
    const std::string_view line = cri_text.substr(pos, end - pos);
    const std::optional<CriRecord> record = parse_cri_record(line);
    current.append(record ? std::string_view(record->text) : line);  // not CRI: taken whole
    if (!record || !record->partial) {
      lines.push_back(std::move(current));
      current.clear();
      if (lines.size() > max_lines) lines.pop_front();
    }
    pos = end + 1;
  }
  if (!current.empty()) {
    lines.push_back(std::move(current));
    if (lines.size() > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  if (out.size() > max_bytes) out.erase(0, out.size() - max_bytes);
  return out;
}

std::string rotated_log_name(const std::string& log_file_name, WallTime now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  return log_file_name + "." + stamp;
}

base::Result<bool> rotate_log_if_full(const fs::path& log, uint64_t max_bytes, WallTime now) {
  struct stat st {};
  if (::stat(log.c_str(), &st) != 0) return false;
  if (static_cast<uint64_t>(st.st_size) < max_bytes) return false;
  fs::path target = log.parent_path() / rotated_log_name(log.filename().string(), now);
  // Two rotations within one second: the later one gets a ".N" suffix,
  // which attempt_log_files (runtime/container_log.h) orders after the first.
  for (int n = 1; fs::exists(target) && n < 100; ++n)
    target = log.parent_path() /
             (rotated_log_name(log.filename().string(), now) + "." + std::to_string(n));
  if (::rename(log.c_str(), target.c_str()) != 0)
    return base::Error("rotating " + log.string() + ": " + std::strerror(errno));
  return true;
}

void prune_rotated_logs(const fs::path& log, uint32_t max_files) {
  const std::string prefix = log.filename().string() + ".";
  std::vector<fs::path> rotated;
  std::error_code ec;
  for (fs::directory_iterator it(log.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
      rotated.push_back(it->path());
  }
  // Timestamps in the names sort as time does.
  std::sort(rotated.begin(), rotated.end());
  const size_t keep = max_files > 1 ? max_files - 1 : 0;
  for (size_t i = 0; i + keep < rotated.size(); ++i) fs::remove(rotated[i], ec);
}

std::string termination_message(const fs::path& message_file, std::string_view policy,
                                int32_t exit_code, const fs::path& log) {
  auto text = read_file_head(message_file, kMaxMessageBytes);
  if (text && !text->empty()) return *text;
  if (policy != "FallbackToLogsOnError" || exit_code == 0 || log.empty()) return {};
  std::string tail_text = read_file_tail(log, kLogTailRead);
  std::string_view tail(tail_text);
  if (tail_text.size() == kLogTailRead)
    tail.remove_prefix(std::min(tail.size(), tail.find('\n') + 1));  // a line start
  return cri_log_tail(tail, kFallbackLines, kFallbackBytes);
}

}  // namespace podagent::runtime::oci
