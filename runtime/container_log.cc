#include "runtime/container_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <system_error>

#include "model/decode_helpers.h"

namespace podagent::runtime {

namespace fs = std::filesystem;

std::string_view to_string(LogStream stream) {
  return stream == LogStream::Stdout ? "stdout" : "stderr";
}

std::string format_log_time(WallTime time) {
  using namespace std::chrono;
  const auto ns = duration_cast<nanoseconds>(time.time_since_epoch());
  auto secs = floor<seconds>(ns);
  const auto frac = ns - secs;
  const auto days = floor<std::chrono::days>(secs);
  const year_month_day ymd{sys_days(days)};
  const hh_mm_ss hms{secs - days};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     frac.count());
}

std::string format_cri_record(const CriRecord& record) {
  std::string out = format_log_time(record.time);
  out += ' ';
  out += to_string(record.stream);
  out += record.partial ? " P " : " F ";
  out += record.text;
  out += '\n';
  return out;
}

std::string format_cri_output(WallTime time, LogStream stream, std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    CriRecord r{time, stream, eol == std::string_view::npos,
                std::string(text.substr(0, eol == std::string_view::npos ? text.size() : eol))};
    out += format_cri_record(r);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  }
  return out;
}

std::optional<CriRecord> parse_cri_record(std::string_view line) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  auto time = model::decoding::parse_rfc3339(line.substr(0, sp1));
  if (!time) return std::nullopt;
  std::string_view rest = line.substr(sp1 + 1);
  CriRecord r;
  r.time = *time;
  if (rest.starts_with("stdout ")) {
    r.stream = LogStream::Stdout;
  } else if (rest.starts_with("stderr ")) {
    r.stream = LogStream::Stderr;
  } else {
    return std::nullopt;
  }
  rest.remove_prefix(7);
  // The tag: F or P, possibly with more ':'-separated tags after it (CRI
  // allows them); the text follows one space (absent for an empty F line).
  const size_t sp = rest.find(' ');
  const std::string_view tag = rest.substr(0, sp);
  if (tag.empty() || (tag[0] != 'F' && tag[0] != 'P') || (tag.size() > 1 && tag[1] != ':'))
    return std::nullopt;
  r.partial = tag[0] == 'P';
  if (sp != std::string_view::npos) r.text = std::string(rest.substr(sp + 1));
  return r;
}

// ---- naming ----

fs::path pod_log_directory(const fs::path& pod_logs_dir, std::string_view namespace_,
                           std::string_view name, std::string_view uid) {
  return pod_logs_dir / fmt::format("{}_{}_{}", namespace_, name, uid);
}

fs::path container_log_path(std::string_view container, uint32_t attempt) {
  return fs::path(container) / fmt::format("{}.log", attempt);
}

namespace {

// The order of a rotated file of `prefix` (<n>.log.): its stamp
// YYYYMMDD-HHMMSS and the numeric suffix a second rotation within the same
// second adds (".1", ".2", ...); nullopt for a name that is no such file.
std::optional<std::pair<std::string, uint64_t>> rotation_key(std::string_view name,
                                                             std::string_view prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  name.remove_prefix(prefix.size());
  if (name.size() < 15 || name[8] != '-') return std::nullopt;
  const std::string_view stamp = name.substr(0, 15);
  if (stamp.find_first_not_of("0123456789-") != std::string_view::npos) return std::nullopt;
  name.remove_prefix(15);
  uint64_t suffix = 0;
  if (!name.empty()) {
    if (name[0] != '.' || name.size() == 1 || name.size() > 10 ||
        name.find_first_not_of("0123456789", 1) != std::string_view::npos)
      return std::nullopt;  // .tmp, .gz and the like are not ours
    suffix = std::stoull(std::string(name.substr(1)));
  }
  return std::pair{std::string(stamp), suffix};
}

}  // namespace

std::vector<fs::path> attempt_log_files(const fs::path& container_dir, uint32_t attempt) {
  const std::string current = fmt::format("{}.log", attempt);
  const std::string prefix = current + ".";
  std::vector<std::pair<std::pair<std::string, uint64_t>, fs::path>> rotated;
  bool has_current = false;
  std::error_code ec;
  for (fs::directory_iterator it(container_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == current) has_current = true;
    if (auto key = rotation_key(name, prefix)) rotated.emplace_back(std::move(*key), it->path());
  }
  std::sort(rotated.begin(), rotated.end());
  std::vector<fs::path> out;
  for (auto& [key, path] : rotated) out.push_back(std::move(path));
  if (has_current) out.push_back(container_dir / current);
  return out;
}

// ---- joining ----

std::optional<LogLine> LogLineJoiner::add(const CriRecord& record) {
  if (!started_) {
    started_ = true;
    first_ = record.time;
    text_.clear();
  }
  text_ += record.text;
  if (record.partial) return std::nullopt;
  LogLine line = *flush();
  line.text += '\n';
  return line;
}

std::optional<LogLine> LogLineJoiner::flush() {
  if (!started_) return std::nullopt;
  started_ = false;
  LogLine line;
  line.time = first_;
  if (timestamps_) {
    line.text = format_log_time(first_);
    line.text += ' ';
  }
  line.text += text_;
  text_.clear();
  return line;
}

// ---- reading ----

namespace {

base::Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::string();  // rotated away meanwhile
    return base::Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Collects the lines that pass the options' since bound, keeping only the
// last tail_lines of them when that is set.
class Collector {
 public:
  Collector(const LogReadOptions& options, WallTime now) : options_(options) {
    if (options.since_time) since_ = *options.since_time;
    if (options.since_seconds) since_ = now - std::chrono::seconds(*options.since_seconds);
  }
  void add(LogLine line) {
    if (since_ && line.time < *since_) return;
    if (options_.tail_lines && static_cast<int64_t>(lines_.size()) >= *options_.tail_lines) {
      if (lines_.empty()) return;  // tail 0
      lines_.pop_front();
    }
    lines_.push_back(std::move(line.text));
  }
  void finish(LogRead& out) const {
    for (const auto& line : lines_) {
      if (options_.limit_bytes) {
        const size_t left = static_cast<size_t>(*options_.limit_bytes) - out.text.size();
        if (line.size() > left) {
          out.text.append(line, 0, left);
          out.limit_reached = true;
          return;
        }
      }
      out.text += line;
    }
  }

 private:
  const LogReadOptions& options_;
  std::optional<WallTime> since_;
  std::deque<std::string> lines_;
};

}  // namespace

base::Result<LogRead> read_container_log(const fs::path& container_dir, uint32_t attempt,
                                         const LogReadOptions& options, WallTime now) {
  LogRead out;
  out.end.attempt = attempt;
  Collector collector(options, now);
  LogLineJoiner joiner(options.timestamps);
  const std::vector<fs::path> files = attempt_log_files(container_dir, attempt);
  const fs::path current = container_dir / fmt::format("{}.log", attempt);
  // Where the unfinished line began, and whether in the current file.
  uint64_t unfinished_from = 0;
  bool unfinished_in_current = false;
  for (const fs::path& file : files) {
    auto text = read_file(file);
    if (!text) return text.error();
    const bool is_current = file == current;
    size_t pos = 0;
    while (pos < text->size()) {
      const size_t eol = text->find('\n', pos);
      // The current file's last record may still be being written.
      if (eol == std::string::npos && is_current) break;
      const size_t end = eol == std::string::npos ? text->size() : eol;
      const auto record = parse_cri_record(std::string_view(*text).substr(pos, end - pos));
      if (record) {
        if (!joiner.unfinished()) {
          unfinished_from = pos;
          unfinished_in_current = is_current;
        }
        if (auto line = joiner.add(*record)) collector.add(std::move(*line));
      }
      pos = end + 1;
    }
    if (is_current) out.end.offset = std::min(pos, text->size());
  }
  if (joiner.unfinished()) {
    if (options.hold_unfinished && unfinished_in_current) {
      out.end.offset = unfinished_from;
    } else if (auto line = joiner.flush()) {
      collector.add(std::move(*line));
    }
  }
  collector.finish(out);
  return out;
}

}  // namespace podagent::runtime
