#include "model/decode_helpers.h"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace podagent::model::decoding {

void Context::type_error(const Node& node, const std::string& path, std::string_view expected) {
  error(FieldError::type_invalid(path, describe(node), "expected " + std::string(expected)));
}

std::string child(const std::string& path, std::string_view field) {
  if (path.empty()) return std::string(field);
  std::string out;
  out.reserve(path.size() + 1 + field.size());
  out.append(path).append(".").append(field);
  return out;
}

std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string key(const std::string& path, std::string_view k) {
  std::string out = path;
  out.append("[").append(k).append("]");
  return out;
}

std::string describe(const Node& node) {
  switch (node.kind) {
    case Node::Kind::Null:
      return "null";
    case Node::Kind::String:
      return quote(node.text);
    case Node::Kind::Bool:
    case Node::Kind::Int:
    case Node::Kind::Float:
      return node.text;
    case Node::Kind::Sequence:
      return "list";
    case Node::Kind::Map:
      return "map";
  }
  return "?";
}

FieldReader::FieldReader(Context& ctx, const Node& node, const std::string& path) : ctx_(ctx), path_(path) {
  if (node.is_map()) {
    map_ = &node;
    consumed_.assign(node.entries.size(), false);
  } else if (!node.is_null()) {
    ctx_.type_error(node, path_, "map");
  }
}

const Node* FieldReader::take(std::string_view name) {
  if (map_ == nullptr) return nullptr;
  for (size_t i = 0; i < map_->entries.size(); ++i) {
    if (map_->entries[i].first == name) {
      consumed_[i] = true;
      return &map_->entries[i].second;
    }
  }
  return nullptr;
}

std::vector<std::string> FieldReader::unconsumed() const {
  std::vector<std::string> keys;
  if (map_ == nullptr) return keys;
  for (size_t i = 0; i < map_->entries.size(); ++i)
    if (!consumed_[i] && !map_->entries[i].second.is_null()) keys.push_back(map_->entries[i].first);
  return keys;
}

void FieldReader::done() {
  if (map_ == nullptr) return;
  std::unordered_set<std::string_view> seen;  // a hostile map may have 100k keys
  for (size_t i = 0; i < map_->entries.size(); ++i) {
    const std::string& name = map_->entries[i].first;
    const bool duplicate = !seen.insert(name).second;
    if (consumed_[i]) continue;
    if (duplicate)
      ctx_.warning(FieldError::duplicate(child(path_, name), quote(name)));
    else
      ctx_.warning(FieldError::unknown(child(path_, name)));
  }
}

namespace {

// Integer text as YAML writes it: [-+]digits, 0o/0x forms, and a leading-zero
// form read as octal as Kubernetes' YAML 1.1 parser does ("defaultMode: 0644").
std::optional<int64_t> parse_int_text(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
    base = 8;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0' && s.find_first_not_of("01234567") == std::string_view::npos) {
    base = 8;
  }
  if (s.empty()) return std::nullopt;
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!negative && magnitude > kMax) return std::nullopt;
  if (negative && magnitude > kMax + 1) return std::nullopt;
  if (negative) return magnitude == kMax + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(magnitude);
  return static_cast<int64_t>(magnitude);
}

// A Float node with an integral value within int64 ("30.0", "1e3").
std::optional<int64_t> parse_integral_float(const std::string& s) {
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(d) || d != std::floor(d)) return std::nullopt;
  // 2^63 is exactly representable; anything at or beyond it does not fit.
  if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) return std::nullopt;
  return static_cast<int64_t>(d);
}

}  // namespace

bool read(Context& c, const Node& n, const std::string& path, std::string& out) {
  if (n.is_null()) return false;
  if (n.kind != Node::Kind::String) {
    c.type_error(n, path, "string");
    return false;
  }
  out = n.text;
  return true;
}

bool read(Context& c, const Node& n, const std::string& path, int64_t& out) {
  if (n.is_null()) return false;
  std::optional<int64_t> v;
  if (n.kind == Node::Kind::Int) {
    v = parse_int_text(n.text);
    if (!v) {
      c.error(FieldError::invalid(path, n.text, "must fit in a 64-bit integer"));
      return false;
    }
  } else if (n.kind == Node::Kind::Float) {
    v = parse_integral_float(n.text);
  }
  if (!v) {
    c.type_error(n, path, "integer");
    return false;
  }
  out = *v;
  return true;
}

bool read(Context& c, const Node& n, const std::string& path, int32_t& out) {
  int64_t v = 0;
  if (!read(c, n, path, v)) return false;
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
    c.error(FieldError::invalid(path, n.text, "must fit in a 32-bit integer"));
    return false;
  }
  out = static_cast<int32_t>(v);
  return true;
}

bool read(Context& c, const Node& n, const std::string& path, bool& out) {
  if (n.is_null()) return false;
  if (n.kind != Node::Kind::Bool) {
    c.type_error(n, path, "boolean");
    return false;
  }
  std::string lower;
  for (char ch : n.text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  out = lower == "true";
  return true;
}

bool read(Context& c, const Node& n, const std::string& path, Quantity& out) {
  if (n.is_null()) return false;
  if (n.kind != Node::Kind::Int && n.kind != Node::Kind::Float && n.kind != Node::Kind::String) {
    c.type_error(n, path, "quantity");
    return false;
  }
  auto q = Quantity::parse(n.text);
  if (!q) {
    c.error(FieldError::invalid(path, quote(n.text), q.error().message));
    return false;
  }
  out = std::move(*q);
  return true;
}

bool read(Context& c, const Node& n, const std::string& path, IntOrString& out) {
  if (n.is_null()) return false;
  if (n.kind == Node::Kind::String) {
    out.value = n.text;
    return true;
  }
  int64_t v = 0;
  if (n.kind != Node::Kind::Int) {
    c.type_error(n, path, "integer or string");
    return false;
  }
  if (!read(c, n, path, v)) return false;
  out.value = v;
  return true;
}

bool read(Context& c, const Node& n, const std::string& path, WallTime& out) {
  std::string text;
  if (!read(c, n, path, text)) return false;
  auto t = parse_rfc3339(text);
  if (!t) {
    c.error(FieldError::invalid(path, quote(text), "expected an RFC 3339 time"));
    return false;
  }
  out = *t;
  return true;
}

bool read(Context& c, const Node& n, const std::string& path, std::map<std::string, std::string>& out) {
  if (n.is_null()) return false;
  if (!n.is_map()) {
    c.type_error(n, path, "map");
    return false;
  }
  out.clear();
  for (const auto& [k, v] : n.entries) {
    std::string value;
    if (read(c, v, key(path, k), value) || v.is_null()) out[k] = std::move(value);
  }
  return true;
}

bool read(Context& c, const Node& n, const std::string& path, ResourceList& out) {
  if (n.is_null()) return false;
  if (!n.is_map()) {
    c.type_error(n, path, "map");
    return false;
  }
  out.clear();
  for (const auto& [k, v] : n.entries) {
    Quantity q;
    if (read(c, v, key(path, k), q)) out[k] = std::move(q);
  }
  return true;
}

namespace {
void strip_lines(Node& n) {
  n.line = 0;
  for (auto& item : n.items) strip_lines(item);
  for (auto& [k, v] : n.entries) strip_lines(v);
}
}  // namespace

bool read_verbatim(Context& c, const Node& n, const std::string& path, Node& out) {
  if (n.is_null()) return false;
  if (!n.is_map()) {
    c.type_error(n, path, "map");
    return false;
  }
  out = n;
  strip_lines(out);
  return true;
}

namespace {

// Reads exactly `count` digits at `pos`; -1 when they are not there.
int digits(std::string_view s, size_t pos, size_t count) {
  if (pos + count > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<WallTime> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return std::nullopt;
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                     std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  size_t pos = 19;
  nanoseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100'000'000;
    size_t start = pos;
    for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, scale /= 10)
      fraction += nanoseconds((s[pos] - '0') * scale);
    if (pos == start) return std::nullopt;
  }
  // The zone is required: "Z" or a numeric offset.
  seconds offset{0};
  if (pos + 1 == s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    // UTC
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return std::nullopt;
    offset = hours(oh) + minutes(om);
    if (s[pos] == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  auto t = sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second) - offset;
  return time_point_cast<WallTime::duration>(t + fraction);
}

}  // namespace podagent::model::decoding
