#include "model/quantity.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace podagent::model {

namespace {

// Kubernetes' own texts (apimachinery resource.ErrFormatWrong, ErrSuffix).
constexpr const char kFormatWrong[] =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr const char kBadSuffix[] = "unable to parse quantity's suffix";
constexpr const char kTooLarge[] = "quantity too large";

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_suffix_char(char c) {
  switch (c) {
    case 'e':
    case 'E':
    case 'i':
    case 'n':
    case 'u':
    case 'm':
    case 'k':
    case 'K':
    case 'M':
    case 'G':
    case 'T':
    case 'P':
      return true;
    default:
      return false;
  }
}

// The pieces of "<sign><int>.<frac><suffix>".
struct Parts {
  bool negative = false;
  std::string_view int_digits;
  std::string_view frac_digits;
  std::string_view suffix;
};

// Splits the text as Kubernetes' parseQuantityString does, except that the
// number must hold at least one digit, as the documented grammar and the
// error's regular expression require ("Gi", "e3" and "." are refused, where
// Kubernetes' scanner lets them through as zero).
std::optional<Parts> split(std::string_view s) {
  Parts p;
  size_t pos = 0;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) p.negative = s[pos++] == '-';
  size_t start = pos;
  while (pos < s.size() && is_digit(s[pos])) ++pos;
  p.int_digits = s.substr(start, pos - start);
  if (pos < s.size() && s[pos] == '.') {
    start = ++pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    p.frac_digits = s.substr(start, pos - start);
  }
  if (p.int_digits.empty() && p.frac_digits.empty()) return std::nullopt;
  start = pos;
  while (pos < s.size() && is_suffix_char(s[pos])) ++pos;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) ++pos;
  while (pos < s.size() && is_digit(s[pos])) ++pos;
  if (pos != s.size()) return std::nullopt;
  p.suffix = s.substr(start);
  return p;
}

// A suffix as a multiplier 2^binary * 10^decimal.
struct Multiplier {
  int binary = 0;
  int64_t decimal = 0;
};

std::optional<Multiplier> interpret(std::string_view suffix) {
  static constexpr std::pair<std::string_view, int> kDecimal[] = {
      {"n", -9}, {"u", -6}, {"m", -3}, {"", 0},   {"k", 3},
      {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  static constexpr std::pair<std::string_view, int> kBinary[] = {
      {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  for (const auto& [text, exp] : kDecimal)
    if (suffix == text) return Multiplier{0, exp};
  for (const auto& [text, exp] : kBinary)
    if (suffix == text) return Multiplier{exp, 0};
  if (suffix.size() < 2 || (suffix[0] != 'e' && suffix[0] != 'E')) return std::nullopt;
  // A decimal exponent: "e" then a signed integer (Go's strconv.ParseInt).
  std::string_view rest = suffix.substr(1);
  bool negative = false;
  if (rest[0] == '+' || rest[0] == '-') {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest.empty()) return std::nullopt;
  int64_t exp = 0;
  for (char c : rest) {
    if (!is_digit(c)) return std::nullopt;
    // Saturate: any exponent this large already overflows or rounds to 1m.
    if (exp < 1'000'000'000'000) exp = exp * 10 + (c - '0');
  }
  return Multiplier{0, negative ? -exp : exp};
}

// Multiplies a decimal digit string in place by 2^bits (bits <= 60).
void shift_left(std::string& digits, int bits) {
  if (bits == 0) return;
  const unsigned __int128 factor = static_cast<unsigned __int128>(1) << bits;
  unsigned __int128 carry = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    unsigned __int128 cur = static_cast<unsigned __int128>(*it - '0') * factor + carry;
    *it = static_cast<char>('0' + static_cast<int>(cur % 10));
    carry = cur / 10;
  }
  std::string head;
  while (carry > 0) {
    head.insert(head.begin(), static_cast<char>('0' + static_cast<int>(carry % 10)));
    carry /= 10;
  }
  digits.insert(0, head);
}

// digits * 10^exp10 rounded up to an integer, or nullopt past int64.
// `digits` has no leading zeros and is not empty.
std::optional<int64_t> scale_round_up(const std::string& digits, int64_t exp10) {
  const int64_t len = static_cast<int64_t>(digits.size());
  int64_t int_len = len + exp10;  // digits before the decimal point
  if (int_len > 19) return std::nullopt;
  uint64_t value = 0;
  bool fraction = false;
  for (int64_t i = 0; i < len; ++i) {
    if (i < int_len) {
      value = value * 10 + static_cast<uint64_t>(digits[i] - '0');
    } else if (digits[i] != '0') {
      fraction = true;
      break;
    }
  }
  for (int64_t i = len; i < int_len; ++i) {
    if (value > static_cast<uint64_t>(kMax) / 10) return std::nullopt;
    value *= 10;
  }
  if (value > static_cast<uint64_t>(kMax)) return std::nullopt;
  if (fraction) {
    if (value == static_cast<uint64_t>(kMax)) return std::nullopt;
    ++value;
  }
  return static_cast<int64_t>(value);
}

}  // namespace

base::Result<Quantity> Quantity::parse(std::string_view text) {
  std::optional<Parts> parts = split(text);
  if (!parts) return base::Error(kFormatWrong);
  std::optional<Multiplier> mult = interpret(parts->suffix);
  if (!mult) return base::Error(kBadSuffix);

  std::string digits(parts->int_digits);
  digits += parts->frac_digits;
  size_t nonzero = digits.find_first_not_of('0');
  Quantity q;
  q.text_ = std::string(text);
  if (nonzero == std::string::npos) return q;  // zero, whatever its sign and suffix
  digits.erase(0, nonzero);

  shift_left(digits, mult->binary);
  // milli-units: one more factor of 10^3.
  int64_t exp10 = mult->decimal - static_cast<int64_t>(parts->frac_digits.size()) + 3;
  std::optional<int64_t> magnitude = scale_round_up(digits, exp10);
  if (!magnitude) return base::Error(kTooLarge);
  // Rounding is of the magnitude (away from zero), as Kubernetes rounds.
  q.milli_ = parts->negative ? -*magnitude : *magnitude;
  return q;
}

Quantity Quantity::from_milli(int64_t milli) {
  Quantity q;
  q.milli_ = milli;
  if (milli % 1000 != 0) {
    q.text_ = std::to_string(milli) + "m";
    return q;
  }
  // Canonical decimal SI form: the largest suffix that keeps an integer.
  static constexpr const char* kSuffixes[] = {"", "k", "M", "G", "T", "P", "E"};
  int64_t units = milli / 1000;
  size_t suffix = 0;
  while (units != 0 && units % 1000 == 0 && suffix + 1 < std::size(kSuffixes)) {
    units /= 1000;
    ++suffix;
  }
  q.text_ = std::to_string(units) + kSuffixes[suffix];
  return q;
}

int64_t Quantity::value() const {
  int64_t whole = milli_ / 1000;
  int64_t rest = milli_ % 1000;
  if (rest > 0) return whole + 1;
  if (rest < 0) return whole - 1;
  return whole;
}

}  // namespace podagent::model
