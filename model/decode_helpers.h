#pragma once

// Internal to the pod codec (pod_decoder.cc, container_decoder.cc,
// volume_decoder.cc, status_decoder.cc); not for other modules.
//
// Every decoder here is an overload of `read(ctx, node, path, out)`:
//   - a null node means "absent": `out` is left alone and false is returned;
//   - a node of the wrong kind records a type error at `path`, leaves `out`
//     alone and returns false;
//   - otherwise the value is stored and true is returned (for structs: the
//     node was a map; errors inside it are recorded, never fatal).
// Problems are collected in the Context, never thrown, so that one pass
// reports every error of a manifest.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/config_object.h"
#include "model/field_error.h"
#include "model/node.h"
#include "model/pod.h"

namespace podagent::model::decoding {

// Where the problems of one pod go.
class Context {
 public:
  Context(FieldErrors& errors, FieldErrors& warnings) : errors_(errors), warnings_(warnings) {}

  void error(FieldError e) { errors_.push_back(std::move(e)); }
  void warning(FieldError e) { warnings_.push_back(std::move(e)); }
  // "path: Invalid value: <node>: expected <expected>".
  void type_error(const Node& node, const std::string& path, std::string_view expected);

 private:
  FieldErrors& errors_;
  FieldErrors& warnings_;
};

// Field paths as Kubernetes writes them: "spec.containers[0].resources.limits[memory]".
std::string child(const std::string& path, std::string_view field);  // path.field
std::string index(const std::string& path, size_t i);                // path[i]
std::string key(const std::string& path, std::string_view k);        // path[k]

// A node as a type error shows it: strings quoted, other scalars as written,
// "map" or "list" for collections.
std::string describe(const Node& node);

// Reads the fields of one map by name, then reports the fields nobody asked
// for as unknown-field warnings (done()). A node that is not a map records one
// type error and every field() call is then a no-op.
class FieldReader {
 public:
  FieldReader(Context& ctx, const Node& node, const std::string& path);
  FieldReader(const FieldReader&) = delete;
  FieldReader& operator=(const FieldReader&) = delete;

  bool is_map() const { return map_ != nullptr; }
  Context& context() { return ctx_; }
  const std::string& path() const { return path_; }

  // The value of `name`, marked as consumed; nullptr when absent.
  const Node* take(std::string_view name);

  template <typename T>
  bool field(std::string_view name, T& out) {
    const Node* v = take(name);
    return v != nullptr && read(ctx_, *v, child(path_, name), out);
  }

  // Keys not consumed yet (non-null values only), in document order.
  std::vector<std::string> unconsumed() const;
  // Warns about every unconsumed key (unknown field, or a duplicate key).
  void done();

 private:
  Context& ctx_;
  const Node* map_ = nullptr;
  std::string path_;
  std::vector<bool> consumed_;
};

// Scalars. Integers are Int nodes (YAML 1.1 style octal "0644" and 0o/0x
// forms included) or Float nodes with an integral value; booleans are Bool
// nodes only; strings are String nodes only, as in Kubernetes' strict JSON.
bool read(Context& c, const Node& n, const std::string& path, std::string& out);
bool read(Context& c, const Node& n, const std::string& path, int64_t& out);
bool read(Context& c, const Node& n, const std::string& path, int32_t& out);
bool read(Context& c, const Node& n, const std::string& path, bool& out);
// Int, Float or String scalars, parsed from their source text.
bool read(Context& c, const Node& n, const std::string& path, Quantity& out);
// Int -> number, String -> name.
bool read(Context& c, const Node& n, const std::string& path, IntOrString& out);
// An RFC 3339 string ("2026-01-02T03:04:05Z", fractions and offsets allowed).
bool read(Context& c, const Node& n, const std::string& path, WallTime& out);
// A map of strings (labels, annotations, nodeSelector).
bool read(Context& c, const Node& n, const std::string& path, std::map<std::string, std::string>& out);
// A map of quantities (requests, limits); errors at path[name].
bool read(Context& c, const Node& n, const std::string& path, ResourceList& out);
// Kept verbatim, without source lines, so that a round trip compares equal.
bool read_verbatim(Context& c, const Node& n, const std::string& path, Node& out);

// Structs, defined in the decoder files.
bool read(Context& c, const Node& n, const std::string& path, ObjectMeta& out);
bool read(Context& c, const Node& n, const std::string& path, Container& out);
bool read(Context& c, const Node& n, const std::string& path, Volume& out);
bool read(Context& c, const Node& n, const std::string& path, ObjectFieldSelector& out);
bool read(Context& c, const Node& n, const std::string& path, ResourceFieldSelector& out);
bool read(Context& c, const Node& n, const std::string& path, SeccompProfile& out);
bool read(Context& c, const Node& n, const std::string& path, PodStatus& out);

template <typename T>
bool read(Context& c, const Node& n, const std::string& path, std::optional<T>& out) {
  T value{};
  if (!read(c, n, path, value)) return false;
  out = std::move(value);
  return true;
}

// A list; a null item decodes as a default value.
template <typename T>
bool read(Context& c, const Node& n, const std::string& path, std::vector<T>& out) {
  if (n.is_null()) return false;
  if (!n.is_sequence()) {
    c.type_error(n, path, "list");
    return false;
  }
  out.clear();
  out.reserve(n.items.size());
  for (size_t i = 0; i < n.items.size(); ++i) {
    T item{};
    read(c, n.items[i], index(path, i), item);
    out.push_back(std::move(item));
  }
  return true;
}

// The envelope of one document (pod_decoder.cc); `prefix` is "" or "items[i]".
// apiVersion must be "v1" (else an error at prefix.apiVersion).
void check_api_version(Context& c, const Node& doc, const std::string& prefix);
// The kind of a document, or "" after recording why there is none.
std::string read_kind(Context& c, const Node& doc, const std::string& prefix);

// The body of a ConfigMap or Secret map whose envelope the caller checked
// (config_object_decoder.cc).
void read_config_map(Context& c, const Node& doc, ConfigMap& out);
void read_secret(Context& c, const Node& doc, Secret& out);

// Parses an RFC 3339 time; nullopt when malformed. Shared with tests.
std::optional<WallTime> parse_rfc3339(std::string_view text);

}  // namespace podagent::model::decoding
