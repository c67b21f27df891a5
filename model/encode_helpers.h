#pragma once

// Internal to the pod codec (pod_encoder.cc, container_encoder.cc,
// status_encoder.cc); not for other modules.
//
// The put_* helpers add one field to a map node with the API server's
// omitempty rule: empty strings, lists and maps, unset optionals, false and
// zero are left out. Fields the API always shows use put_required_*.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/node.h"
#include "model/pod.h"

namespace podagent::model::encoding {

// A string literal would otherwise convert to bool, not std::string.
void put(Node& m, const char* key, const char* v) = delete;
void put_required(Node& m, const char* key, const char* v) = delete;

inline void put(Node& m, const char* key, const std::string& v) {
  if (!v.empty()) m.set(key, Node::string(v));
}
inline void put(Node& m, const char* key, const std::optional<std::string>& v) {
  if (v) m.set(key, Node::string(*v));
}
inline void put(Node& m, const char* key, int64_t v) {
  if (v != 0) m.set(key, Node::integer(v));
}
inline void put(Node& m, const char* key, const std::optional<int64_t>& v) {
  if (v) m.set(key, Node::integer(*v));
}
inline void put(Node& m, const char* key, const std::optional<int32_t>& v) {
  if (v) m.set(key, Node::integer(*v));
}
inline void put(Node& m, const char* key, bool v) {
  if (v) m.set(key, Node::boolean(true));
}
inline void put(Node& m, const char* key, const std::optional<bool>& v) {
  if (v) m.set(key, Node::boolean(*v));
}
inline void put(Node& m, const char* key, const std::vector<std::string>& v) {
  if (v.empty()) return;
  Node& list = m.set(key, Node::sequence());
  for (const auto& s : v) list.push(Node::string(s));
}
inline void put(Node& m, const char* key, const std::vector<int64_t>& v) {
  if (v.empty()) return;
  Node& list = m.set(key, Node::sequence());
  for (int64_t i : v) list.push(Node::integer(i));
}
inline void put(Node& m, const char* key, const std::map<std::string, std::string>& v) {
  if (v.empty()) return;
  Node& map = m.set(key, Node::map());
  for (const auto& [k, s] : v) map.set(k, Node::string(s));
}
inline void put(Node& m, const char* key, const ResourceList& v) {
  if (v.empty()) return;
  Node& map = m.set(key, Node::map());
  for (const auto& [k, q] : v) map.set(k, Node::string(q.text()));
}
inline void put(Node& m, const char* key, const std::optional<Quantity>& v) {
  if (v) m.set(key, Node::string(v->text()));
}

inline void put_required(Node& m, const char* key, const std::string& v) { m.set(key, Node::string(v)); }
inline void put_required(Node& m, const char* key, int64_t v) { m.set(key, Node::integer(v)); }
inline void put_required(Node& m, const char* key, bool v) { m.set(key, Node::boolean(v)); }

// A list of structs, each encoded by `encode(item) -> Node`.
template <typename T, typename F>
void put_list(Node& m, const char* key, const std::vector<T>& v, F&& encode) {
  if (v.empty()) return;
  Node& list = m.set(key, Node::sequence());
  for (const auto& item : v) list.push(encode(item));
}

// An optional struct, encoded by `encode(value) -> Node`.
template <typename T, typename F>
void put_optional(Node& m, const char* key, const std::optional<T>& v, F&& encode) {
  if (v) m.set(key, encode(*v));
}

// Shared between the container and volume encoders.
Node encode_metadata(const ObjectMeta& m);  // the Pod's, ConfigMap's and Secret's
Node encode_field_selector(const ObjectFieldSelector& s);
Node encode_resource_field_selector(const ResourceFieldSelector& s);
Node encode_seccomp_profile(const SeccompProfile& p);
Node encode_container(const Container& c);
Node encode_volume(const Volume& v);

}  // namespace podagent::model::encoding
