#include "base/duration.h"

#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>

namespace podagent::base {
namespace {

static_assert(std::is_same_v<Duration, std::chrono::nanoseconds>,
              "Go durations count nanoseconds; parse and format assume the same tick");

constexpr uint64_t kNs = 1;
constexpr uint64_t kUs = 1000 * kNs;
constexpr uint64_t kMs = 1000 * kUs;
constexpr uint64_t kSecond = 1000 * kMs;
constexpr uint64_t kMinute = 60 * kSecond;
constexpr uint64_t kHour = 60 * kMinute;

constexpr __int128 kInt64Max = std::numeric_limits<int64_t>::max();

// The unit at the start of `rest`, in nanoseconds, and its length; 0 when
// there is none.
uint64_t take_unit(std::string_view rest, size_t& length) {
  // "ms" before "m" so that "ms" is not read as minutes.
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
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

// Reads one "<number><unit>" term from the front of `s` and returns its
// nanoseconds, at most `limit`. `text` is the whole input, for messages.
// 128-bit arithmetic so that overflow is detected, not wrapped.
base::Result<__int128> take_term(std::string_view& s, std::string_view text, __int128 limit) {
  __int128 whole = 0;
  bool digits = false;
  while (!s.empty() && is_digit(s[0])) {
    whole = whole * 10 + (s[0] - '0');
    if (whole > limit) return invalid(text, "out of range");
    digits = true;
    s.remove_prefix(1);
  }
  __int128 fraction = 0, scale = 1;
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    while (!s.empty() && is_digit(s[0])) {
      // Digits past a nanosecond of an hour cannot change the result.
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
  const uint64_t unit = take_unit(s, unit_length);
  if (unit == 0) {
    return invalid(text, s.empty() ? "missing unit (one of ns, us, ms, s, m, h)"
                                   : "unknown unit (one of ns, us, ms, s, m, h)");
  }
  s.remove_prefix(unit_length);
  const __int128 ns = whole * unit + fraction * unit / scale;
  if (ns > limit) return invalid(text, "out of range");
  return ns;
}

// |ns| without overflow, also for INT64_MIN.
uint64_t magnitude(int64_t ns) {
  return ns < 0 ? uint64_t{0} - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
}

// `frac` / 10^digits as ".5", ".000001" (no trailing zeros); "" for 0.
// REQUIRES: frac < 10^digits.
std::string fraction(uint64_t frac, size_t digits) {
  if (frac == 0) return "";
  std::string out = std::to_string(frac);
  out.insert(0, digits - out.size(), '0');
  out.erase(out.find_last_not_of('0') + 1);
  return "." + out;
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
  // A negative duration reaches one further: INT64_MIN, as in Go.
  const __int128 limit = kInt64Max + (negative ? 1 : 0);
  __int128 total = 0;
  while (!s.empty()) {
    auto term = take_term(s, text, limit);
    if (!term) return term.error();
    total += *term;
    if (total > limit) return invalid(text, "out of range");
  }
  return Duration(static_cast<int64_t>(negative ? -total : total));
}

std::string format_duration(Duration d) {
  const int64_t ns = d.count();
  if (ns == 0) return "0s";
  const uint64_t u = magnitude(ns);
  std::string out = ns < 0 ? "-" : "";
  if (u < kSecond) {
    // The largest unit that keeps the integer part non-zero, as Go does.
    struct Unit {
      uint64_t ns;
      size_t digits;
      const char* name;
    };
    const Unit unit = u < kUs   ? Unit{kNs, 0, "ns"}
                      : u < kMs ? Unit{kUs, 3, "\xC2\xB5s"}  // U+00B5, Go's choice
                                : Unit{kMs, 6, "ms"};
    return out + std::to_string(u / unit.ns) + fraction(u % unit.ns, unit.digits) + unit.name;
  }
  const uint64_t seconds = u / kSecond;
  if (u >= kHour) out += std::to_string(u / kHour) + "h";
  if (u >= kMinute) out += std::to_string(seconds / 60 % 60) + "m";
  return out + std::to_string(seconds % 60) + fraction(u % kSecond, 9) + "s";
}

std::string format_duration_short(Duration d) {
  const int64_t ns = d.count();
  if (ns == 0) return "0s";
  const uint64_t u = magnitude(ns);
  std::string out = ns < 0 ? "-" : "";
  if (u < kSecond) {
    if (u % kMs == 0) return out + std::to_string(u / kMs) + "ms";
    if (u % kUs == 0) return out + std::to_string(u / kUs) + "us";
    return out + std::to_string(u) + "ns";
  }
  if (u >= kHour) out += std::to_string(u / kHour) + "h";
  if (u % kHour >= kMinute) out += std::to_string(u % kHour / kMinute) + "m";
  if (u % kMinute == 0) return out;
  return out + std::to_string(u % kMinute / kSecond) + fraction(u % kSecond, 9) + "s";
}

}  // namespace podagent::base
