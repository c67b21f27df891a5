#include "agent/api_protobuf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>

#include "base/base64.h"

namespace podagent::agent {

namespace {

using base::Error;
using model::Node;

constexpr std::string_view kMagic{"k8s\0", 4};

// One field of a protobuf message: its number and, for the wire types the
// agent reads, its value (a varint, or the bytes of a length-delimited one).
struct Field {
  uint32_t number = 0;
  uint32_t wire = 0;
  uint64_t varint = 0;
  std::string_view bytes;
};

// Reads the fields of one message in order. Fixed-width fields are skipped.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }

  base::Result<Field> next() {
    auto tag = varint();
    if (!tag) return Error("truncated field tag");
    Field f;
    f.number = static_cast<uint32_t>(*tag >> 3);
    f.wire = static_cast<uint32_t>(*tag & 7);
    switch (f.wire) {
      case 0: {
        auto v = varint();
        if (!v) return Error(fmt::format("truncated varint in field {}", f.number));
        f.varint = *v;
        return f;
      }
      case 1:
      case 5: {
        const size_t width = f.wire == 1 ? 8 : 4;
        if (data_.size() - pos_ < width) return Error(fmt::format("truncated field {}", f.number));
        pos_ += width;
        return f;
      }
      case 2: {
        auto n = varint();
        if (!n || *n > data_.size() - pos_)
          return Error(fmt::format("truncated field {}", f.number));
        f.bytes = data_.substr(pos_, static_cast<size_t>(*n));
        pos_ += static_cast<size_t>(*n);
        return f;
      }
      default:
        return Error(fmt::format("unsupported wire type {} in field {}", f.wire, f.number));
    }
  }

 private:
  std::optional<uint64_t> varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return std::nullopt;
  }

  std::string_view data_;
  size_t pos_ = 0;
};

// Calls `on(field)` for each field of `message`; stops at the first error.
template <typename On>
base::Status each_field(std::string_view message, On on) {
  Reader r(message);
  while (!r.done()) {
    auto f = r.next();
    if (!f) return f.error();
    if (auto s = on(*f); !s) return s;
  }
  return {};
}

base::Status expect_bytes(const Field& f, const char* what) {
  if (f.wire != 2)
    return Error(fmt::format("{} (field {}) is not length-delimited", what, f.number));
  return {};
}

// A map<string, string|bytes> entry: key = 1, value = 2. Bytes values are
// base64-encoded, as JSON carries them.
base::Status add_entry(Node& map, const Field& f, bool bytes, const char* what) {
  if (auto s = expect_bytes(f, what); !s) return s;
  std::string key, value;
  auto s = each_field(f.bytes, [&](const Field& e) -> base::Status {
    if (e.number == 1 && e.wire == 2) key = std::string(e.bytes);
    if (e.number == 2 && e.wire == 2) value = std::string(e.bytes);
    return {};
  });
  if (!s) return s;
  map.set(std::move(key), Node::string(bytes ? base::base64_encode(value) : std::move(value)));
  return {};
}

// k8s.io/apimachinery ObjectMeta: the fields the agent keeps.
base::Result<Node> object_meta(std::string_view message) {
  Node meta = Node::map();
  Node labels = Node::map(), annotations = Node::map();
  auto s = each_field(message, [&](const Field& f) -> base::Status {
    static constexpr const char* kStrings[] = {nullptr,    "name", "generateName",   "namespace",
                                               "selfLink", "uid",  "resourceVersion"};
    if (f.number >= 1 && f.number <= 6 && f.number != 4) {
      if (auto s = expect_bytes(f, kStrings[f.number]); !s) return s;
      if (!f.bytes.empty()) meta.set(kStrings[f.number], Node::string(std::string(f.bytes)));
    } else if (f.number == 11) {
      return add_entry(labels, f, false, "metadata.labels");
    } else if (f.number == 12) {
      return add_entry(annotations, f, false, "metadata.annotations");
    }
    return {};  // timestamps, generation, owners, finalizers, managedFields
  });
  if (!s) return s.error();
  if (!labels.entries.empty()) meta.set("labels", std::move(labels));
  if (!annotations.entries.empty()) meta.set("annotations", std::move(annotations));
  return meta;
}

// v1 ConfigMap: metadata 1, data 2, binaryData 3, immutable 4.
// v1 Secret: metadata 1, data 2 (bytes), type 3, stringData 4, immutable 5.
base::Status read_object(std::string_view raw, bool secret, Node& out) {
  Node data = Node::map(), binary = Node::map(), string_data = Node::map();
  auto s = each_field(raw, [&](const Field& f) -> base::Status {
    const uint32_t immutable = secret ? 5 : 4;
    if (f.number == 1) {
      if (auto s = expect_bytes(f, "metadata"); !s) return s;
      auto meta = object_meta(f.bytes);
      if (!meta) return meta.error();
      out.set("metadata", std::move(*meta));
    } else if (f.number == 2) {
      return add_entry(data, f, secret, "data");
    } else if (f.number == 3 && !secret) {
      return add_entry(binary, f, true, "binaryData");
    } else if (f.number == 3 && secret) {
      if (auto s = expect_bytes(f, "type"); !s) return s;
      if (!f.bytes.empty()) out.set("type", Node::string(std::string(f.bytes)));
    } else if (f.number == 4 && secret) {
      return add_entry(string_data, f, false, "stringData");
    } else if (f.number == immutable && f.wire == 0) {
      out.set("immutable", Node::boolean(f.varint != 0));
    }
    return {};
  });
  if (!s) return s;
  if (!data.entries.empty()) out.set("data", std::move(data));
  if (!binary.entries.empty()) out.set("binaryData", std::move(binary));
  if (!string_data.entries.empty()) out.set("stringData", std::move(string_data));
  return {};
}

}  // namespace

bool is_protobuf_media_type(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  t.erase(std::remove(t.begin(), t.end(), ' '), t.end());
  return t == "application/vnd.kubernetes.protobuf";
}

base::Result<Node> decode_protobuf_object(std::string_view body) {
  if (!body.starts_with(kMagic))
    return Error("the protobuf body does not start with the k8s magic");
  std::string api_version, kind;
  std::string_view raw;
  // runtime.Unknown: typeMeta 1 (apiVersion 1, kind 2), raw 2,
  // contentEncoding 3, contentType 4.
  auto s = each_field(body.substr(kMagic.size()), [&](const Field& f) -> base::Status {
    if (f.number == 1 && f.wire == 2)
      return each_field(f.bytes, [&](const Field& t) -> base::Status {
        if (t.number == 1 && t.wire == 2) api_version = std::string(t.bytes);
        if (t.number == 2 && t.wire == 2) kind = std::string(t.bytes);
        return {};
      });
    if (f.number == 2 && f.wire == 2) raw = f.bytes;
    if (f.number == 3 && f.wire == 2 && !f.bytes.empty())
      return Error("a protobuf body with a content encoding is not supported");
    return {};
  });
  if (!s) return s.error();
  if (api_version != "v1" || (kind != "ConfigMap" && kind != "Secret"))
    return Error(fmt::format("the protobuf encoding of {} {} is not supported; send JSON",
                             api_version.empty() ? "?" : api_version, kind.empty() ? "?" : kind));
  Node out = Node::map();
  out.set("apiVersion", Node::string(api_version));
  out.set("kind", Node::string(kind));
  if (auto r = read_object(raw, kind == "Secret", out); !r) return r.error();
  return out;
}

}  // namespace podagent::agent
