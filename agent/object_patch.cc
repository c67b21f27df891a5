#include "agent/object_patch.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

namespace podagent::agent {

namespace {

using model::Node;

base::Error failure(std::string message) { return base::Error(std::move(message)); }

Node* find_mut(Node& map, std::string_view key) {
  for (auto& [k, v] : map.entries)
    if (k == key) return &v;
  return nullptr;
}

void erase_key(Node& map, std::string_view key) {
  std::erase_if(map.entries, [&](const auto& e) { return e.first == key; });
}

void put_key(Node& map, const std::string& key, Node value) {
  if (Node* v = find_mut(map, key)) {
    *v = std::move(value);
  } else {
    map.set(key, std::move(value));
  }
}

// Equality of content: kind, text, items, entries; source lines ignored.
bool same(const Node& a, const Node& b) {
  if (a.kind != b.kind || a.text != b.text || a.items.size() != b.items.size() ||
      a.entries.size() != b.entries.size())
    return false;
  for (size_t i = 0; i < a.items.size(); ++i)
    if (!same(a.items[i], b.items[i])) return false;
  for (const auto& [k, v] : a.entries) {
    const Node* other = b.find(k);
    if (!other || !same(v, *other)) return false;
  }
  return true;
}

// RFC 7386's MergePatch: a null value in a map patch removes.
Node merge(Node target, const Node& patch) {
  if (!patch.is_map()) return patch;
  if (!target.is_map()) target = Node::map();
  for (const auto& [key, value] : patch.entries) {
    if (value.is_null()) {
      erase_key(target, key);
    } else if (Node* existing = find_mut(target, key)) {
      *existing = merge(std::move(*existing), value);
    } else {
      target.set(key, merge(Node::null(), value));
    }
  }
  return target;
}

// ---- strategic merge ---------------------------------------------------------

base::Result<Node> strategic(Node target, const Node& patch);

const Node* name_of(const Node& item) {
  const Node* n = item.find("name");
  return n && n->is_scalar() ? n : nullptr;
}

bool merges_by_name(const Node& patch_list) {
  return !patch_list.items.empty() &&
         std::all_of(patch_list.items.begin(), patch_list.items.end(),
                     [](const Node& item) { return item.is_map() && name_of(item); });
}

base::Result<Node> merge_list_by_name(Node target, const Node& patch) {
  if (!target.is_sequence()) target = Node::sequence();
  for (const Node& item : patch.items) {
    const std::string& name = name_of(item)->text;
    auto match = std::find_if(target.items.begin(), target.items.end(), [&](const Node& t) {
      const Node* n = name_of(t);
      return n && n->text == name;
    });
    const Node* directive = item.find("$patch");
    const std::string how = directive && directive->is_scalar() ? directive->text : "merge";
    if (how == "delete") {
      if (match != target.items.end()) target.items.erase(match);
      continue;
    }
    Node body = item;
    erase_key(body, "$patch");
    if (how == "replace") {
      if (match != target.items.end()) {
        *match = std::move(body);
      } else {
        target.push(std::move(body));
      }
      continue;
    }
    if (how != "merge") return failure("unknown patch directive \"" + how + "\"");
    if (match != target.items.end()) {
      base::Result<Node> merged = strategic(std::move(*match), body);
      if (!merged) return merged.error();
      *match = std::move(*merged);
    } else {
      base::Result<Node> fresh = strategic(Node::map(), body);
      if (!fresh) return fresh.error();
      target.push(std::move(*fresh));
    }
  }
  return target;
}

base::Result<Node> strategic(Node target, const Node& patch) {
  if (!patch.is_map()) return patch;
  if (!target.is_map()) target = Node::map();
  if (const Node* d = patch.find("$patch"); d && d->is_scalar() && d->text == "replace") {
    Node body = patch;
    erase_key(body, "$patch");
    return body;
  }
  for (const auto& [key, value] : patch.entries) {
    if (key.starts_with("$setElementOrder/") || key == "$retainKeys" || key == "$patch") continue;
    if (key.starts_with("$deleteFromPrimitiveList/"))
      return failure("the directive " + key + " is not supported");
    if (value.is_null()) {
      erase_key(target, key);
      continue;
    }
    Node* existing = find_mut(target, key);
    Node current = existing ? std::move(*existing) : Node::null();
    base::Result<Node> merged = value.is_sequence() && merges_by_name(value)
                                    ? merge_list_by_name(std::move(current), value)
                                    : strategic(std::move(current), value);
    if (!merged) return merged.error();
    put_key(target, key, std::move(*merged));
  }
  return target;
}

// ---- JSON patch ----------------------------------------------------------------

// RFC 6901: "/a/b~1c" -> {"a", "b/c"}.
base::Result<std::vector<std::string>> parse_pointer(const std::string& pointer) {
  std::vector<std::string> out;
  if (pointer.empty()) return out;
  if (pointer.front() != '/') return failure("the path \"" + pointer + "\" does not start with /");
  size_t start = 1;
  while (true) {
    size_t slash = pointer.find('/', start);
    std::string token =
        pointer.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    std::string decoded;
    for (size_t i = 0; i < token.size(); ++i) {
      if (token[i] != '~') {
        decoded += token[i];
      } else if (i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
        decoded += token[++i] == '0' ? '~' : '/';
      } else {
        return failure("the path \"" + pointer + "\" has a bad ~ escape");
      }
    }
    out.push_back(std::move(decoded));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

std::optional<size_t> array_index(const std::string& token, size_t size, bool end_allowed) {
  if (token == "-") return end_allowed ? std::optional<size_t>(size) : std::nullopt;
  if (token.empty() || (token.size() > 1 && token[0] == '0')) return std::nullopt;
  size_t v = 0;
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
  if (ec != std::errc() || ptr != token.data() + token.size()) return std::nullopt;
  if (v > size || (v == size && !end_allowed)) return std::nullopt;
  return v;
}

// The node at `path` (nullptr when absent).
Node* resolve(Node& root, const std::vector<std::string>& path, size_t depth) {
  Node* at = &root;
  for (size_t i = 0; i < depth; ++i) {
    if (at->is_map()) {
      at = find_mut(*at, path[i]);
    } else if (at->is_sequence()) {
      auto index = array_index(path[i], at->items.size(), false);
      at = index ? &at->items[*index] : nullptr;
    } else {
      at = nullptr;
    }
    if (!at) return nullptr;
  }
  return at;
}

std::string joined(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out += "/" + p;
  return out;
}

base::Status add_at(Node& root, const std::vector<std::string>& path, Node value) {
  if (path.empty()) {
    root = std::move(value);
    return {};
  }
  Node* parent = resolve(root, path, path.size() - 1);
  if (!parent) return failure("the parent of " + joined(path) + " does not exist");
  if (parent->is_map()) {
    put_key(*parent, path.back(), std::move(value));
    return {};
  }
  if (!parent->is_sequence())
    return failure("the parent of " + joined(path) + " is not a map or list");
  auto index = array_index(path.back(), parent->items.size(), true);
  if (!index) return failure("the index of " + joined(path) + " is out of range");
  parent->items.insert(parent->items.begin() + static_cast<ptrdiff_t>(*index), std::move(value));
  return {};
}

base::Result<Node> remove_at(Node& root, const std::vector<std::string>& path) {
  if (path.empty()) return failure("the whole object cannot be removed");
  Node* parent = resolve(root, path, path.size() - 1);
  if (parent && parent->is_map()) {
    if (Node* v = find_mut(*parent, path.back())) {
      Node out = std::move(*v);
      erase_key(*parent, path.back());
      return out;
    }
  } else if (parent && parent->is_sequence()) {
    if (auto index = array_index(path.back(), parent->items.size(), false)) {
      Node out = std::move(parent->items[*index]);
      parent->items.erase(parent->items.begin() + static_cast<ptrdiff_t>(*index));
      return out;
    }
  }
  return failure("the path " + joined(path) + " does not exist");
}

base::Status apply_operation(Node& doc, const Node& op) {
  const Node* name = op.find("op");
  const Node* path_text = op.find("path");
  if (!op.is_map() || !name || !name->is_scalar() || !path_text || !path_text->is_scalar())
    return failure("each operation needs \"op\" and \"path\"");
  auto path = parse_pointer(path_text->text);
  if (!path) return path.error();
  const Node* value = op.find("value");
  const std::string& kind = name->text;
  if (kind == "add" || kind == "replace" || kind == "test") {
    if (!value) return failure("the " + kind + " operation needs a \"value\"");
    if (kind == "add") return add_at(doc, *path, *value);
    Node* at = resolve(doc, *path, path->size());
    if (!at) return failure("the path " + path_text->text + " does not exist");
    if (kind == "replace") {
      *at = *value;
      return {};
    }
    if (!same(*at, *value)) return failure("the test of " + path_text->text + " failed");
    return {};
  }
  if (kind == "remove") {
    auto removed = remove_at(doc, *path);
    if (!removed) return removed.error();
    return {};
  }
  if (kind == "move" || kind == "copy") {
    const Node* from_text = op.find("from");
    if (!from_text || !from_text->is_scalar())
      return failure("the " + kind + " operation needs \"from\"");
    auto from = parse_pointer(from_text->text);
    if (!from) return from.error();
    Node moved;
    if (kind == "move") {
      auto removed = remove_at(doc, *from);
      if (!removed) return removed.error();
      moved = std::move(*removed);
    } else {
      Node* at = resolve(doc, *from, from->size());
      if (!at) return failure("the path " + from_text->text + " does not exist");
      moved = *at;
    }
    return add_at(doc, *path, std::move(moved));
  }
  return failure("unknown operation \"" + kind + "\"");
}

}  // namespace

base::Result<Node> apply_merge_patch(Node target, const Node& patch) {
  if (!patch.is_map()) return failure("a merge patch must be a JSON object");
  return merge(std::move(target), patch);
}

base::Result<Node> apply_strategic_merge_patch(Node target, const Node& patch) {
  if (!patch.is_map()) return failure("a strategic merge patch must be a JSON object");
  return strategic(std::move(target), patch);
}

base::Result<Node> apply_json_patch(Node target, const Node& operations) {
  if (!operations.is_sequence()) return failure("a JSON patch must be a JSON array of operations");
  for (size_t i = 0; i < operations.items.size(); ++i) {
    base::Status st = apply_operation(target, operations.items[i]);
    if (!st) return failure("operation " + std::to_string(i) + ": " + st.error().message);
  }
  return target;
}

}  // namespace podagent::agent
