#include "agent/label_selector.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace podagent::agent {

namespace {

using base::Error;

// ---- label selector lexer -------------------------------------------------

enum class Tok {
  Identifier,
  Not,
  NotEquals,
  Equals,
  DoubleEquals,
  Open,
  Close,
  Comma,
  In,
  NotIn,
  Greater,
  Less,
  End
};

struct Token {
  Tok kind = Tok::End;
  std::string text;
};

bool is_special(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::vector<Token> lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (is_special(c)) {
      const bool eq_next = i + 1 < s.size() && s[i + 1] == '=';
      switch (c) {
        case '=':
          out.push_back({eq_next ? Tok::DoubleEquals : Tok::Equals, eq_next ? "==" : "="});
          break;
        case '!':
          out.push_back({eq_next ? Tok::NotEquals : Tok::Not, eq_next ? "!=" : "!"});
          break;
        case '(':
          out.push_back({Tok::Open, "("});
          break;
        case ')':
          out.push_back({Tok::Close, ")"});
          break;
        case ',':
          out.push_back({Tok::Comma, ","});
          break;
        case '>':
          out.push_back({Tok::Greater, ">"});
          break;
        case '<':
          out.push_back({Tok::Less, "<"});
          break;
      }
      i += (eq_next && (c == '=' || c == '!')) ? 2 : 1;
      continue;
    }
    size_t j = i;
    while (j < s.size() && !is_space(s[j]) && !is_special(s[j])) ++j;
    std::string word(s.substr(i, j - i));
    const Tok kind = word == "in" ? Tok::In : word == "notin" ? Tok::NotIn : Tok::Identifier;
    out.push_back({kind, std::move(word)});
    i = j;
  }
  out.push_back({Tok::End, ""});
  return out;
}

// ---- label key and value rules (IsQualifiedName, IsValidLabelValue) ------

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 characters.
bool is_name_part(std::string_view s) {
  if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A lowercase RFC 1123 subdomain, at most 253 characters.
bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string_view label =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label)
      if (!(std::islower(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)) || c == '-'))
        return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

std::optional<std::string> check_key(std::string_view key) {
  const size_t slash = key.find('/');
  std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  if (slash != std::string_view::npos && !is_dns_subdomain(key.substr(0, slash)))
    return fmt::format(
        "invalid label key \"{}\": prefix part must be a lowercase RFC 1123 subdomain", key);
  if (!is_name_part(name))
    return fmt::format(
        "invalid label key \"{}\": name part must consist of alphanumeric characters, '-', '_' or "
        "'.', and must "
        "start and end with an alphanumeric character (at most 63 characters)",
        key);
  return std::nullopt;
}

std::optional<std::string> check_value(std::string_view value) {
  if (value.empty() || is_name_part(value)) return std::nullopt;
  return fmt::format(
      "invalid label value: \"{}\": a valid label must be an empty string or consist of "
      "alphanumeric characters, "
      "'-', '_' or '.', and must start and end with an alphanumeric character (at most 63 "
      "characters)",
      value);
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// ---- label selector parser ------------------------------------------------

class Parser {
 public:
  explicit Parser(std::string_view text) : tokens_(lex(text)) {}

  base::Result<std::vector<LabelSelector::Requirement>> parse() {
    std::vector<LabelSelector::Requirement> out;
    if (peek().kind == Tok::End) return out;
    for (;;) {
      auto r = requirement();
      if (!r) return r.error();
      out.push_back(std::move(*r));
      const Token t = next();
      if (t.kind == Tok::End) return out;
      if (t.kind != Tok::Comma)
        return fail(fmt::format("found '{}', expected: ',' or 'end of string'", t.text));
      if (peek().kind == Tok::End) return fail("found '', expected: identifier after ','");
    }
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  Token next() { return pos_ + 1 < tokens_.size() ? tokens_[pos_++] : tokens_.back(); }
  static Error fail(std::string why) { return Error("unable to parse requirement: " + why); }

  base::Result<LabelSelector::Requirement> requirement() {
    using Op = LabelSelector::Op;
    LabelSelector::Requirement r;
    const bool negated = peek().kind == Tok::Not;
    if (negated) next();
    const Token key = next();
    if (key.kind != Tok::Identifier)
      return fail(fmt::format("found '{}', expected: identifier", key.text));
    if (auto e = check_key(key.text)) return fail(*e);
    r.key = key.text;
    const Tok after = peek().kind;
    if (after == Tok::End || after == Tok::Comma) {
      r.op = negated ? Op::DoesNotExist : Op::Exists;
      return r;
    }
    if (negated)
      return fail(fmt::format("found '{}', expected: ',' or 'end of string'", peek().text));
    const Token op = next();
    switch (op.kind) {
      case Tok::Equals:
      case Tok::DoubleEquals:
        r.op = Op::Equals;
        break;
      case Tok::NotEquals:
        r.op = Op::NotEquals;
        break;
      case Tok::In:
        r.op = Op::In;
        break;
      case Tok::NotIn:
        r.op = Op::NotIn;
        break;
      case Tok::Greater:
        r.op = Op::GreaterThan;
        break;
      case Tok::Less:
        r.op = Op::LessThan;
        break;
      default:
        return fail(fmt::format("found '{}', expected: '=', '!=', '==', 'in', 'notin'", op.text));
    }
    auto values = (r.op == Op::In || r.op == Op::NotIn) ? value_set() : single_value();
    if (!values) return values.error();
    r.values = std::move(*values);
    if ((r.op == Op::In || r.op == Op::NotIn) && r.values.empty())
      return fail("for 'in', 'notin' operators, values set can't be empty");
    if (r.op == Op::GreaterThan || r.op == Op::LessThan) {
      if (!parse_int(r.values[0]))
        return fail(fmt::format("for 'Gt', 'Lt' operators, the value must be an integer: \"{}\"",
                                r.values[0]));
      return r;
    }
    for (const auto& v : r.values)
      if (auto e = check_value(v)) return fail(*e);
    std::sort(r.values.begin(), r.values.end());
    r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
    return r;
  }

  // After =, ==, !=, >, <: one identifier, or nothing (the empty value).
  base::Result<std::vector<std::string>> single_value() {
    const Tok k = peek().kind;
    if (k == Tok::End || k == Tok::Comma) return std::vector<std::string>{""};
    const Token v = next();
    if (v.kind != Tok::Identifier)
      return fail(fmt::format("found '{}', expected: identifier", v.text));
    return std::vector<std::string>{v.text};
  }

  // "(a, b, c)"; an empty item between commas is the empty value.
  base::Result<std::vector<std::string>> value_set() {
    if (next().kind != Tok::Open) return fail("found '', expected: '('");
    std::vector<std::string> values;
    if (peek().kind == Tok::Close) {
      next();
      return values;
    }
    for (;;) {
      std::string value;
      const Tok k = peek().kind;
      if (k == Tok::Identifier) value = next().text;
      values.push_back(std::move(value));
      const Token t = next();
      if (t.kind == Tok::Close) return values;
      if (t.kind != Tok::Comma)
        return fail(fmt::format("found '{}', expected: ',', ')' or identifier", t.text));
    }
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

// ---- field selector -------------------------------------------------------

const char* const kPodFields[] = {
    "metadata.name",      "metadata.namespace", "spec.nodeName",
    "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
    "spec.hostNetwork",   "status.phase",       "status.podIP"};

std::string pod_field(const model::Pod& pod, std::string_view field) {
  if (field == "metadata.name") return pod.metadata.name;
  if (field == "metadata.namespace") return pod.metadata.namespace_;
  if (field == "spec.nodeName") return pod.spec.node_name;
  if (field == "spec.restartPolicy") return pod.spec.restart_policy;
  if (field == "spec.schedulerName") return pod.spec.scheduler_name;
  if (field == "spec.serviceAccountName") return pod.spec.service_account_name;
  if (field == "spec.hostNetwork") return pod.spec.host_network ? "true" : "false";
  if (field == "status.phase") return pod.status.phase;
  if (field == "status.podIP") return pod.status.pod_ip;
  return {};
}

// Splits on commas not escaped by a backslash; escapes are kept.
std::vector<std::string_view> split_terms(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == ',') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

base::Result<std::string> unescape(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      out += v[i];
      continue;
    }
    if (i + 1 >= v.size() ||
        (v[i + 1] != '\\' && v[i + 1] != ',' && v[i + 1] != '=' && v[i + 1] != '!'))
      return Error(
          fmt::format("invalid field selector value: invalid escape sequence in \"{}\"", v));
    out += v[++i];
  }
  return out;
}

}  // namespace

base::Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  auto requirements = Parser(text).parse();
  if (!requirements) return requirements.error();
  LabelSelector s;
  s.requirements_ = std::move(*requirements);
  // Kubernetes sorts requirements by key; matching does not depend on it.
  std::stable_sort(s.requirements_.begin(), s.requirements_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  return s;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& r : requirements_) {
    auto it = labels.find(r.key);
    const bool has = it != labels.end();
    auto in_values = [&] {
      return has && std::binary_search(r.values.begin(), r.values.end(), it->second);
    };
    bool ok = false;
    switch (r.op) {
      case Op::Equals:
      case Op::In:
        ok = in_values();
        break;
      case Op::NotEquals:
      case Op::NotIn:
        ok = !in_values();
        break;
      case Op::Exists:
        ok = has;
        break;
      case Op::DoesNotExist:
        ok = !has;
        break;
      case Op::GreaterThan:
      case Op::LessThan: {
        auto have = has ? parse_int(it->second) : std::nullopt;
        auto want = parse_int(r.values[0]);
        ok = have && want && (r.op == Op::GreaterThan ? *have > *want : *have < *want);
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

base::Result<FieldSelector> FieldSelector::parse(std::string_view text) {
  FieldSelector s;
  if (text.find_first_not_of(" \t") == std::string_view::npos) return s;
  for (std::string_view term : split_terms(text)) {
    // The first operator found wins; at one position "!=" and "==" before "=".
    size_t at = std::string_view::npos, len = 0;
    bool equals = true;
    for (size_t i = 0; i < term.size() && at == std::string_view::npos; ++i) {
      if (term[i] == '\\') {
        ++i;
      } else if (term.substr(i, 2) == "!=") {
        at = i, len = 2, equals = false;
      } else if (term.substr(i, 2) == "==") {
        at = i, len = 2;
      } else if (term[i] == '=') {
        at = i, len = 1;
      }
    }
    if (at == std::string_view::npos)
      return Error(fmt::format("invalid selector: '{}'; can't understand '{}'", text, term));
    const std::string field(term.substr(0, at));
    if (std::find(std::begin(kPodFields), std::end(kPodFields), field) == std::end(kPodFields))
      return Error(fmt::format("field label not supported: {}", field));
    auto value = unescape(term.substr(at + len));
    if (!value) return value.error();
    s.terms_.push_back({field, equals, std::move(*value)});
  }
  return s;
}

bool FieldSelector::matches(const model::Pod& pod) const {
  for (const auto& t : terms_)
    if ((pod_field(pod, t.field) == t.value) != t.equals) return false;
  return true;
}

}  // namespace podagent::agent
