// Reads YAML and JSON text into Node trees. The only file that includes
// yaml-cpp: its exceptions are caught here and become base::Error values.
//
// yaml-cpp's event Parser is used rather than YAML::Load, so that nothing is
// built beyond what the limits allow: the tree is assembled from events here,
// and the limits are checked as each event arrives. yaml-cpp descends
// recursively, one C++ frame per nesting level; since it reports the start of
// every collection before descending into it, refusing that event bounds the
// recursion at max_depth.

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cstdint>
#include <istream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "model/document.h"
#include "model/field_error.h"
#include "base/utf8.h"

namespace podagent::model {

using base::valid_utf8;

namespace {

// Thrown from inside the event handler to stop yaml-cpp; caught in
// parse_documents. Never leaves this file.
struct Abort {
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string message;
};

std::string format_error(int line, int column, const std::string& message) {
  if (line <= 0) return message;
  std::string out = "line " + std::to_string(line);
  if (column > 0) out += ", column " + std::to_string(column);
  return out + ": " + message;
}

// A key as error messages show it: quoted, and cut short when long.
std::string shown(std::string_view key) {
  constexpr size_t kMax = 64;
  if (key.size() <= kMax) return quote(key);
  return quote(key.substr(0, kMax)) + "...";
}

std::string too_deep(size_t max_depth) {
  return "nesting deeper than " + std::to_string(max_depth) + " levels";
}

// ---------------------------------------------------------------------------
// Scalar resolution, YAML 1.2 core schema.

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}
bool dec(char c) { return c >= '0' && c <= '9'; }
bool oct(char c) { return c >= '0' && c <= '7'; }
bool hex(char c) { return dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool is_core_int(std::string_view s) {
  if (s.starts_with("0o")) return all_of(s.substr(2), oct);
  if (s.starts_with("0x")) return all_of(s.substr(2), hex);
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  return all_of(s, dec);
}

bool is_core_float(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s == ".inf" || s == ".Inf" || s == ".INF") return true;
  // (\.[0-9]+ | [0-9]+(\.[0-9]*)?) ([eE][-+]?[0-9]+)?
  size_t i = 0;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && dec(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && dec(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    return all_of(s.substr(std::min(i, s.size())), dec);
  }
  return i == s.size();
}

Node::Kind resolve_plain(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return Node::Kind::Null;
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
    return Node::Kind::Bool;
  if (is_core_int(s)) return Node::Kind::Int;
  if (is_core_float(s)) return Node::Kind::Float;
  return Node::Kind::String;
}

// `tag` is yaml-cpp's: "?" for a plain scalar, "!" for a quoted or block one,
// otherwise an explicit tag. Explicit core tags other than !!str are resolved
// like plain scalars; every other tag reads as a string.
Node::Kind resolve(const std::string& tag, const std::string& value) {
  static const std::string kCore = "tag:yaml.org,2002:";
  if (tag == "?") return resolve_plain(value);
  if (tag == kCore + "null" || tag == kCore + "bool" || tag == kCore + "int" ||
      tag == kCore + "float")
    return resolve_plain(value);
  return Node::Kind::String;
}


// ---------------------------------------------------------------------------
// Builds Node trees from yaml-cpp's events, enforcing the limits.

class TreeBuilder : public YAML::EventHandler {
 public:
  explicit TreeBuilder(const DocumentLimits& limits) : limits_(limits) {}

  std::vector<Node>& documents() { return documents_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++started_ > limits_.max_documents)
      fail(mark, "more than " + std::to_string(limits_.max_documents) + " documents");
    anchors_.clear();
    stack_.clear();
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node n;
    n.line = mark.line + 1;
    count(mark, 1);
    add(mark, std::move(n), Shape{1, 0}, anchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    // As Kubernetes' reader does; every Node's text is then UTF-8.
    if (!valid_utf8(value)) fail(mark, "invalid UTF-8");
    Node n;
    n.kind = resolve(tag, value);
    if (n.kind != Node::Kind::Null) n.text = value;
    n.line = mark.line + 1;
    count(mark, 1);
    add(mark, std::move(n), Shape{1, 0}, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    // yaml-cpp knows the anchor name, so the only way to miss is an alias
    // inside the very node that carries its anchor.
    if (it == anchors_.end()) fail(mark, "alias refers to a node that contains it");
    const Anchored& target = it->second;
    if (stack_.size() + target.shape.height > limits_.max_depth)
      fail(mark, too_deep(limits_.max_depth));
    count(mark, target.shape.nodes);  // before copying: an alias bomb stops here
    Node copy = target.node;
    copy.line = mark.line + 1;
    add(mark, std::move(copy), target.shape, YAML::NullAnchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, Node::sequence(), anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, Node::map(), anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  // How much a subtree costs: its nodes, and its height in collections.
  struct Shape {
    size_t nodes = 0;
    size_t height = 0;
  };
  struct Frame {
    Node node;
    YAML::anchor_t anchor = YAML::NullAnchor;
    YAML::Mark mark;
    Shape shape{1, 1};
    std::optional<std::string> key;        // maps: the key awaiting its value
    std::unordered_set<std::string> keys;  // maps: for duplicate detection
  };
  struct Anchored {
    Node node;
    Shape shape;
  };

  [[noreturn]] static void fail(const YAML::Mark& mark, std::string message) {
    throw Abort{mark.line + 1, mark.column + 1, std::move(message)};
  }

  void count(const YAML::Mark& mark, size_t nodes) {
    nodes_ += nodes;
    if (nodes_ > limits_.max_nodes)
      fail(mark, "more than " + std::to_string(limits_.max_nodes) + " nodes");
  }

  void open(const YAML::Mark& mark, Node node, YAML::anchor_t anchor) {
    if (!stack_.empty() && stack_.back().node.is_map() && !stack_.back().key)
      fail(mark, "a map key must be a scalar");
    if (stack_.size() + 1 > limits_.max_depth) fail(mark, too_deep(limits_.max_depth));
    count(mark, 1);
    node.line = mark.line + 1;
    stack_.push_back(Frame{std::move(node), anchor, mark, Shape{1, 1}, std::nullopt, {}});
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    add(frame.mark, std::move(frame.node), frame.shape, frame.anchor);
  }

  // Places a finished node in its parent (or as the document's root).
  void add(const YAML::Mark& mark, Node node, Shape shape, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = Anchored{node, shape};
    if (stack_.empty()) {
      if (!node.is_null()) documents_.push_back(std::move(node));  // empty documents are skipped
      return;
    }
    Frame& parent = stack_.back();
    parent.shape.nodes += shape.nodes;
    parent.shape.height = std::max(parent.shape.height, shape.height + 1);
    if (parent.node.is_sequence()) {
      parent.node.items.push_back(std::move(node));
      return;
    }
    if (!parent.key) {
      if (!node.is_scalar() && !node.is_null()) fail(mark, "a map key must be a scalar");
      std::string key = node.is_null() ? "null" : std::move(node.text);
      if (!parent.keys.insert(key).second) fail(mark, "duplicate map key " + shown(key));
      parent.key = std::move(key);
      return;
    }
    parent.node.entries.emplace_back(std::move(*parent.key), std::move(node));
    parent.key.reset();
  }

  const DocumentLimits& limits_;
  std::vector<Node> documents_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchored> anchors_;
  size_t nodes_ = 0;
  size_t started_ = 0;
};

// ---------------------------------------------------------------------------
// A cheap look at the nesting before yaml-cpp sees the text.
//
// It follows flow brackets (outside quoted scalars, plain scalars, block
// scalars and comments) and the block levels: a line opens a level at its
// indentation when it holds a block indicator ("- ", "key: ", "? "), and each
// further indicator on the same line ("- - x", "- a: b") opens one more. The
// figure is never more than the real depth, so nothing valid is refused; the
// exact limit is the TreeBuilder's, which sees every collection.
class NestingScan {
 public:
  explicit NestingScan(size_t max_depth) : max_depth_(max_depth) {}

  std::optional<Abort> run(std::string_view text) {
    int line_no = 0;
    while (!text.empty() && !abort_) {
      size_t eol = text.find('\n');
      std::string_view line = text.substr(0, eol);
      text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
      line_ = ++line_no;
      scan_line(line);
    }
    return abort_;
  }

 private:
  enum class Quote { None, Single, Double };

  void scan_line(std::string_view line) {
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos) return;  // blank
    if (block_scalar_indent_ && indent > *block_scalar_indent_) return;
    block_scalar_indent_.reset();
    extra_ = 0;
    size_t i = indent;
    if (quote_ == Quote::None && flow_ == 0) {
      if (line[i] == '#') return;
      pending_.reset();
      if (indent == 0 && (line.starts_with("---") || line.starts_with("..."))) {
        levels_.clear();
        i = 3;
      } else {
        while (!levels_.empty() && levels_.back() >= indent) levels_.pop_back();
        pending_ = indent;
      }
      at_value_ = true;
    }
    scan(line, i, indent);
  }

  void scan(std::string_view line, size_t i, size_t indent) {
    for (; i < line.size() && !abort_; ++i) {
      char c = line[i];
      if (quote_ != Quote::None) {
        i = skip_quoted(line, i);
        continue;
      }
      if (c == ' ' || c == '\t') continue;
      if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) return;
      if (flow_ > 0) {
        scan_flow(c, i);
        continue;
      }
      bool indicator_alone = i + 1 == line.size() || line[i + 1] == ' ';
      if (!at_value_) {  // inside a plain scalar, or after a quoted key
        if (c == ':' && indicator_alone) {
          block_indicator(i);
          at_value_ = true;
        }
        continue;
      }
      if ((c == '-' || c == '?' || c == ':') && indicator_alone) {
        block_indicator(i);
      } else if (c == '[' || c == '{') {
        base_ = levels_.size() + extra_;
        open_flow(i);
      } else if (c == '"' || c == '\'') {
        quote_ = c == '"' ? Quote::Double : Quote::Single;
      } else if (c == '|' || c == '>') {
        block_scalar_indent_ = indent;
        return;
      } else if (c == '&' || c == '!' || c == '*') {
        while (i + 1 < line.size() && line[i + 1] != ' ') ++i;  // anchor, tag or alias
      } else {
        at_value_ = false;  // a plain scalar starts
      }
    }
  }

  // Inside a quoted scalar at line[i]; returns the index of the last
  // character consumed.
  size_t skip_quoted(std::string_view line, size_t i) {
    char c = line[i];
    if (quote_ == Quote::Double && c == '\\') return i + 1;
    if (quote_ == Quote::Single && c == '\'' && i + 1 < line.size() && line[i + 1] == '\'')
      return i + 1;  // '' inside a single-quoted scalar
    if ((quote_ == Quote::Double && c == '"') || (quote_ == Quote::Single && c == '\'')) {
      quote_ = Quote::None;
      at_value_ = false;
      token_start_ = false;
    }
    return i;
  }

  void scan_flow(char c, size_t column) {
    if (c == '[' || c == '{') {
      open_flow(column);
    } else if (c == ']' || c == '}') {
      if (--flow_ == 0) at_value_ = false;
      token_start_ = false;
    } else if ((c == '"' || c == '\'') && token_start_) {
      quote_ = c == '"' ? Quote::Double : Quote::Single;
    } else {
      token_start_ = c == ',' || c == ':' || c == '?';
    }
  }

  void block_indicator(size_t column) {
    if (pending_) {
      levels_.push_back(*pending_);
      pending_.reset();
    } else {
      ++extra_;
    }
    check(levels_.size() + extra_, column);
  }

  void open_flow(size_t column) {
    ++flow_;
    token_start_ = true;
    check(base_ + flow_, column);
  }

  void check(size_t depth, size_t column) {
    if (depth > max_depth_ && !abort_)
      abort_ = Abort{line_, static_cast<int>(column) + 1, too_deep(max_depth_)};
  }

  size_t max_depth_;
  std::vector<size_t> levels_;     // indentation of the open block levels
  std::optional<size_t> pending_;  // this line's indentation, until an indicator confirms it
  size_t extra_ = 0;               // further levels opened on this line
  std::optional<size_t> block_scalar_indent_;
  Quote quote_ = Quote::None;
  size_t flow_ = 0;
  size_t base_ = 0;  // block depth where the outermost flow collection began
  bool at_value_ = true;
  bool token_start_ = true;
  int line_ = 0;
  std::optional<Abort> abort_;
};

}  // namespace

base::Result<std::vector<Node>> parse_documents(std::string_view text,
                                                const DocumentLimits& limits) {
  if (text.size() > limits.max_bytes)
    return base::Error("document of " + std::to_string(text.size()) +
                       " bytes is larger than the limit of " + std::to_string(limits.max_bytes));
  if (std::optional<Abort> deep = NestingScan(limits.max_depth).run(text))
    return base::Error(format_error(deep->line, deep->column, deep->message));

  TreeBuilder builder(limits);
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const Abort& a) {
    return base::Error(format_error(a.line, a.column, a.message));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    const int column = e.mark.is_null() ? 0 : e.mark.column + 1;
    return base::Error(format_error(line, column, e.msg));
  } catch (const std::exception& e) {  // e.g. std::bad_alloc from yaml-cpp
    return base::Error(std::string("cannot read document: ") + e.what());
  }
  return std::move(builder.documents());
}

}  // namespace podagent::model
