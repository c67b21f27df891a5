// Writes Node trees as JSON or block-style YAML.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/document.h"
#include "base/utf8.h"

namespace podagent::model {

using base::utf8_sequence;
using base::append_hex;

namespace {

// Writes s as a double-quoted string. JSON and YAML share the escapes used
// here (\" \\ \b \f \n \r \t \uXXXX); bytes that are not UTF-8 become U+FFFD,
// as neither format can carry them. `yaml` also escapes what YAML does not
// allow printed raw (DEL, C1 controls, U+2028/U+2029, U+FEFF).
void append_quoted(std::string& out, std::string_view s, bool yaml) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || (yaml && c == 0x7f))
            append_hex(out, "\\u", c, 4);
          else
            out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = utf8_sequence(s, i, cp);
    if (len == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    bool escape =
        yaml && ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff);
    if (escape)
      append_hex(out, "\\u", cp, 4);
    else
      out.append(s.substr(i, len));
    i += len;
  }
  out += '"';
}

// ---------------------------------------------------------------------------
// JSON

// A YAML number's text as a JSON number, or nullopt when JSON has no way to
// write it (.inf, .nan, a hexadecimal beyond 64 bits).
std::optional<std::string> json_number(const Node& node) {
  std::string_view t = node.text;
  std::string out;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    if (t[0] == '-') out += '-';
    t.remove_prefix(1);
  }
  if (t.starts_with("0x") || t.starts_with("0o")) {
    const unsigned base = t[1] == 'x' ? 16 : 8;
    uint64_t v = 0;
    for (char c : t.substr(2)) {
      unsigned d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
      if (d >= base || v > (UINT64_MAX - d) / base) return std::nullopt;
      v = v * base + d;
    }
    return out + std::to_string(v);
  }
  size_t int_len = 0;
  while (int_len < t.size() && t[int_len] >= '0' && t[int_len] <= '9') ++int_len;
  std::string_view int_part = t.substr(0, int_len);
  std::string_view rest = t.substr(int_len);
  if (rest.starts_with(".inf") || rest.starts_with(".Inf") || rest.starts_with(".INF") ||
      rest.starts_with(".nan") || rest.starts_with(".NaN") || rest.starts_with(".NAN"))
    return std::nullopt;
  while (int_part.size() > 1 && int_part[0] == '0') int_part.remove_prefix(1);
  out += int_part.empty() ? std::string_view("0") : int_part;
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    size_t frac_len = 0;
    while (frac_len < rest.size() && rest[frac_len] >= '0' && rest[frac_len] <= '9') ++frac_len;
    if (frac_len > 0) out += '.';
    out += rest.substr(0, frac_len);
    rest.remove_prefix(frac_len);
  }
  if (!rest.empty() && rest[0] != 'e' && rest[0] != 'E') return std::nullopt;  // not a number
  if (rest.size() == 1) return std::nullopt;
  out += rest;
  return out;
}

void write_json(const Node& node, bool pretty, int indent, std::string& out) {
  auto newline = [&](int level) {
    if (!pretty) return;
    out += '\n';
    out.append(static_cast<size_t>(level) * 2, ' ');
  };
  switch (node.kind) {
    case Node::Kind::Null:
      out += "null";
      return;
    case Node::Kind::Bool:
      out += node.text.starts_with('t') || node.text.starts_with('T') ? "true" : "false";
      return;
    case Node::Kind::Int:
    case Node::Kind::Float:
      if (auto number = json_number(node)) {
        out += *number;
        return;
      }
      append_quoted(out, node.text, false);
      return;
    case Node::Kind::String:
      append_quoted(out, node.text, false);
      return;
    case Node::Kind::Sequence:
      if (node.items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < node.items.size(); ++i) {
        if (i > 0) out += ',';
        newline(indent + 1);
        write_json(node.items[i], pretty, indent + 1, out);
      }
      newline(indent);
      out += ']';
      return;
    case Node::Kind::Map:
      if (node.entries.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (size_t i = 0; i < node.entries.size(); ++i) {
        if (i > 0) out += ',';
        newline(indent + 1);
        append_quoted(out, node.entries[i].first, false);
        out += pretty ? ": " : ":";
        write_json(node.entries[i].second, pretty, indent + 1, out);
      }
      newline(indent);
      out += '}';
      return;
  }
}

// ---------------------------------------------------------------------------
// YAML

bool plain_yaml11_special(std::string_view s) {
  // Words YAML 1.1 readers (go-yaml v2, behind kubectl) take for booleans.
  static constexpr std::string_view kWords[] = {"y",  "Y",   "yes", "Yes", "YES", "n",
                                                "N",  "no",  "No",  "NO",  "on",  "On",
                                                "ON", "off", "Off", "OFF"};
  for (auto w : kWords)
    if (s == w) return true;
  // Base-60 numbers ("1:30") and "_" separators are numbers there too.
  if (s.find_first_not_of("0123456789:_.+-") == std::string_view::npos) return true;
  return s == "<<" || s == "=";
}

// Whether a string must be quoted to read back as the same string.
bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  // What the core schema would resolve as another type.
  if (s == "~" || s == "null" || s == "Null" || s == "NULL" || s == "true" || s == "True" ||
      s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
    return true;
  if (plain_yaml11_special(s)) return true;
  if (s.starts_with(".") && s.size() <= 4) return true;  // .inf .nan .5 and friends
  if (s.starts_with("0x") || s.starts_with("0o")) return true;
  // Indicators that may not start a plain scalar, and edge whitespace.
  if (std::string_view("-?:,[]{}#&*!|>'\"%@` \t").find(s[0]) != std::string_view::npos) return true;
  if (s.back() == ' ' || s.back() == ':') return true;
  if (s.starts_with("...")) return true;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c >= 0x80) return true;  // keep the writer simple: escape
    if (c == ':' && i + 1 < s.size() && s[i + 1] == ' ') return true;
    if (c == '#' && i > 0 && s[i - 1] == ' ') return true;
  }
  // Numbers in their other spellings (1e3, 1.5, 0.5) are caught here.
  if ((s[0] >= '0' && s[0] <= '9') || s[0] == '+' || s[0] == '.') {
    bool numeric = s.find_first_not_of("0123456789.eE+-") == std::string_view::npos;
    if (numeric) return true;
  }
  return false;
}

void append_yaml_string(std::string& out, std::string_view s) {
  if (needs_quotes(s))
    append_quoted(out, s, true);
  else
    out += s;
}

void append_yaml_scalar(std::string& out, const Node& node) {
  switch (node.kind) {
    case Node::Kind::Null:
      out += "null";
      return;
    case Node::Kind::Bool:
    case Node::Kind::Int:
    case Node::Kind::Float:
      out += node.text;
      return;
    case Node::Kind::String:
      append_yaml_string(out, node.text);
      return;
    case Node::Kind::Sequence:
      out += "[]";
      return;  // only ever empty here
    case Node::Kind::Map:
      out += "{}";
      return;
  }
}

bool is_block(const Node& node) {
  return (node.is_map() && !node.entries.empty()) || (node.is_sequence() && !node.items.empty());
}

// YAML allows an implicit ("key: value") key of at most 1024 characters;
// longer keys are written as explicit "? key" entries.
constexpr size_t kMaxImplicitKey = 1000;

void write_block(const Node& node, size_t indent, bool first_inline, std::string& out);

// Writes a map or sequence entry's value after "key:" or "-".
void write_entry_value(const Node& value, size_t indent, bool after_dash, std::string& out) {
  if (!is_block(value)) {
    out += ' ';
    append_yaml_scalar(out, value);
    out += '\n';
  } else if (after_dash) {
    out += ' ';  // "- a: 1" and "- - x": the first line stays on the dash's line
    write_block(value, indent + 2, true, out);
  } else {
    out += '\n';
    write_block(value, indent + 2, false, out);
  }
}

// Writes a non-empty map or sequence at `indent`; its first line's
// indentation is already written when `first_inline`.
void write_block(const Node& node, size_t indent, bool first_inline, std::string& out) {
  bool first = true;
  auto start_line = [&] {
    if (!(first && first_inline)) out.append(indent, ' ');
    first = false;
  };
  if (node.is_map()) {
    for (const auto& [key, value] : node.entries) {
      start_line();
      std::string key_text;
      append_yaml_string(key_text, key);
      if (key_text.size() > kMaxImplicitKey) {  // "? key" on a line, then ": value"
        out += "? " + key_text + "\n";
        out.append(indent, ' ');
      } else {
        out += key_text;
      }
      out += ':';
      write_entry_value(value, indent, false, out);
    }
    return;
  }
  for (const auto& item : node.items) {
    start_line();
    out += '-';
    write_entry_value(item, indent, true, out);
  }
}

}  // namespace

std::string to_json(const Node& node, bool pretty) {
  std::string out;
  write_json(node, pretty, 0, out);
  return out;
}

std::string to_yaml(const Node& node) {
  std::string out;
  if (is_block(node)) {
    write_block(node, 0, false, out);
  } else {
    append_yaml_scalar(out, node);
    out += '\n';
  }
  return out;
}

}  // namespace podagent::model
