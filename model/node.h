#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace podagent::model {

// A neutral document tree: what YAML and JSON text both decode to, and what
// pods and configs encode to before being written as JSON or YAML. It keeps
// map keys in document order and each node's line for error messages.
//
// Scalars keep their source text. A plain (unquoted) scalar is resolved with
// the YAML 1.2 core schema: "null"/"~"/"" -> Null, "true"/"false" -> Bool,
// integers -> Int, decimals/exponents -> Float; quoted scalars are String.
struct Node {
  enum class Kind { Null, Bool, Int, Float, String, Sequence, Map };

  Kind kind = Kind::Null;
  std::string text;                               // scalars only
  std::vector<Node> items;                        // Sequence
  std::vector<std::pair<std::string, Node>> entries;  // Map, in order
  int line = 0;                                   // 1-based; 0 when built in code

  bool is_null() const { return kind == Kind::Null; }
  bool is_map() const { return kind == Kind::Map; }
  bool is_sequence() const { return kind == Kind::Sequence; }
  bool is_scalar() const {
    return kind == Kind::Bool || kind == Kind::Int || kind == Kind::Float || kind == Kind::String;
  }

  // Map lookup; nullptr when absent or when this is not a map.
  const Node* find(std::string_view key) const {
    if (kind != Kind::Map) return nullptr;
    for (const auto& [k, v] : entries)
      if (k == key) return &v;
    return nullptr;
  }

  // Builders, for encoders.
  static Node null() { return Node{}; }
  static Node string(std::string s) { Node n; n.kind = Kind::String; n.text = std::move(s); return n; }
  static Node boolean(bool b) { Node n; n.kind = Kind::Bool; n.text = b ? "true" : "false"; return n; }
  static Node integer(int64_t i) { Node n; n.kind = Kind::Int; n.text = std::to_string(i); return n; }
  static Node map() { Node n; n.kind = Kind::Map; return n; }
  static Node sequence() { Node n; n.kind = Kind::Sequence; return n; }
  Node& set(std::string key, Node value) {
    entries.emplace_back(std::move(key), std::move(value));
    return entries.back().second;
  }
  Node& push(Node value) {
    items.push_back(std::move(value));
    return items.back();
  }

  bool operator==(const Node&) const = default;
};

}  // namespace podagent::model
