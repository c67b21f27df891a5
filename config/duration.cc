#include "config/duration.h"

#include <cstdint>
#include <limits>

namespace podagent::config {
namespace {

constexpr int64_t kNs = 1;
constexpr int64_t kUs = 1000 * kNs;
constexpr int64_t kMs = 1000 * kUs;
constexpr int64_t kSecond = 1000 * kMs;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;

// The unit at the start of `rest`, in nanoseconds, and its length; 0 when
// there is none.
int64_t take_unit(std::string_view rest, size_t& length) {
  // Longest names first so that "ms" is not read as "m".
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"ns", kNs},
      {"us", kUs},
      {"\xC2\xB5s", kUs} /* U+00B5 micro sign */,
      {"\xCE\xBCs", kUs} /* U+03BC greek mu */,
      {"ms", kMs},
      {"s", kSecond},
      {"m", kMinute},
      {"h", kHour}};
  for (const auto& [name, ns] : kUnits) {
    if (rest.starts_with(name)) {
      length = name.size();
      return ns;
    }
  }
  length = 0;
  return 0;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

base::Error invalid(std::string_view text, std::string_view why) {
  return base::Error("invalid duration \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

base::Result<Duration> parse_duration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return invalid(text, "empty");

  // Accumulated in 128 bits so that overflow is detected, not wrapped.
  __int128 total = 0;
  constexpr __int128 kMax = std::numeric_limits<int64_t>::max();
  while (!s.empty()) {
    __int128 whole = 0;
    bool digits = false;
    while (!s.empty() && is_digit(s[0])) {
      whole = whole * 10 + (s[0] - '0');
      if (whole > kMax) return invalid(text, "out of range");
      digits = true;
      s.remove_prefix(1);
    }
    __int128 fraction = 0, scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      while (!s.empty() && is_digit(s[0])) {
        // Digits past nanosecond-of-an-hour precision cannot change the result.
        if (scale < static_cast<__int128>(1e18)) {
          fraction = fraction * 10 + (s[0] - '0');
          scale *= 10;
        }
        digits = true;
        s.remove_prefix(1);
      }
    }
    if (!digits) return invalid(text, "expected a number");
    size_t unit_length = 0;
    const int64_t unit = take_unit(s, unit_length);
    if (unit == 0) {
      return invalid(text, s.empty() ? "missing unit (one of ns, us, ms, s, m, h)"
                                     : "unknown unit (one of ns, us, ms, s, m, h)");
    }
    s.remove_prefix(unit_length);
    total += whole * unit + fraction * unit / scale;
    if (total > kMax) return invalid(text, "out of range");
  }
  const auto ns = static_cast<int64_t>(total);
  return Duration(negative ? -ns : ns);
}

std::string format_duration(Duration d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    // INT64_MIN has no positive counterpart; it is never a valid setting.
    ns = ns == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -ns;
  }
  if (ns < kSecond) {
    if (ns % kMs == 0) return out + std::to_string(ns / kMs) + "ms";
    if (ns % kUs == 0) return out + std::to_string(ns / kUs) + "us";
    return out + std::to_string(ns) + "ns";
  }
  if (ns >= kHour) out += std::to_string(ns / kHour) + "h";
  ns %= kHour;
  if (ns >= kMinute) out += std::to_string(ns / kMinute) + "m";
  ns %= kMinute;
  if (ns == 0) return out;
  out += std::to_string(ns / kSecond);
  if (int64_t sub = ns % kSecond; sub != 0) {
    std::string digits = std::to_string(sub);
    digits.insert(0, 9 - digits.size(), '0');
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out + "s";
}

}  // namespace podagent::config
