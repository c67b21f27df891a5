// Decoding of ConfigMap and Secret documents. The envelope (apiVersion,
// kind) and metadata are read by the same code as a Pod's (pod_decoder.cc).
//
// A Secret's values never appear in an error: where a pod's decoder would
// show the offending value, a Secret's shows kRedacted, as the API server
// does for the contents of a docker config.

#include "base/base64.h"
#include "model/config_object_codec.h"
#include "model/decode_helpers.h"

namespace podagent::model {
namespace decoding {
namespace {

constexpr const char* kRedacted = "<secret contents redacted>";

// A type error that shows the node only when it may be shown.
void type_error(Context& c, const Node& n, const std::string& path, std::string_view expected,
                bool secret) {
  if (!secret) return c.type_error(n, path, expected);
  c.error(FieldError::type_invalid(path, quote(kRedacted), "expected " + std::string(expected)));
}

// A map of strings; a null value is "" (as the pod's string maps). Each
// value goes through `store(key, path[key], text)`. Returns false when the
// node is absent or not a map.
template <typename Store>
bool read_strings(Context& c, const Node& n, const std::string& path, bool secret, Store store) {
  if (n.is_null()) return false;
  if (!n.is_map()) {
    type_error(c, n, path, "map", secret);
    return false;
  }
  for (const auto& [k, v] : n.entries) {
    if (v.kind == Node::Kind::String || v.is_null())
      store(k, key(path, k), v.text);
    else
      type_error(c, v, key(path, k), "string", secret);
  }
  return true;
}

void read_strings(Context& c, const Node& n, const std::string& path, bool secret,
                  std::map<std::string, std::string>& out) {
  out.clear();
  read_strings(
      c, n, path, secret,
      [&](const std::string& k, const std::string&, const std::string& text) { out[k] = text; });
}

// A map of base64 strings, stored decoded; a bad value is an error at
// path[key], naming the byte at fault.
void read_base64(Context& c, const Node& n, const std::string& path, bool secret,
                 std::map<std::string, std::string>& out) {
  out.clear();
  read_strings(
      c, n, path, secret,
      [&](const std::string& k, const std::string& at, const std::string& text) {
        base::Result<std::string> bytes = base::base64_decode(text);
        if (bytes.ok()) {
          out[k] = std::move(*bytes);
          return;
        }
        // A ConfigMap's binary value is not secret, but it may be
        // large and it is not text: the byte offset says enough.
        c.error(FieldError::invalid(at, secret ? quote(kRedacted) : "", bytes.error().message));
      });
}

// The envelope of a lone ConfigMap or Secret document.
bool check_envelope(Context& c, const Node& doc, const std::string& expected_kind) {
  if (!doc.is_map()) {
    c.type_error(doc, "", "map");
    return false;
  }
  const std::string kind = read_kind(c, doc, "");
  if (!kind.empty() && kind != expected_kind)
    c.error(FieldError::not_supported("kind", quote(kind), {expected_kind}));
  check_api_version(c, doc, "");
  return true;
}

}  // namespace

void read_config_map(Context& c, const Node& doc, ConfigMap& out) {
  FieldReader r(c, doc, "");
  r.take("apiVersion");  // checked by the caller
  r.take("kind");
  r.field("metadata", out.metadata);
  r.field("immutable", out.immutable);
  if (const Node* v = r.take("data")) read_strings(c, *v, "data", false, out.data);
  if (const Node* v = r.take("binaryData"))
    read_base64(c, *v, "binaryData", false, out.binary_data);
  r.done();
}

void read_secret(Context& c, const Node& doc, Secret& out) {
  FieldReader r(c, doc, "");
  r.take("apiVersion");
  r.take("kind");
  r.field("metadata", out.metadata);
  r.field("immutable", out.immutable);
  if (const Node* v = r.take("data")) read_base64(c, *v, "data", true, out.data);
  // stringData is write-only: merged over data, as the API server's
  // conversion does, and never stored or shown apart.
  std::map<std::string, std::string> string_data;
  if (const Node* v = r.take("stringData")) read_strings(c, *v, "stringData", true, string_data);
  for (auto& [k, value] : string_data) out.data[k] = std::move(value);
  r.field("type", out.type);
  r.done();
}

}  // namespace decoding

DecodedConfigMap decode_config_map(const Node& document) {
  using namespace decoding;
  DecodedConfigMap decoded;
  Context c(decoded.errors, decoded.warnings);
  if (check_envelope(c, document, "ConfigMap")) read_config_map(c, document, decoded.object);
  return decoded;
}

DecodedSecret decode_secret(const Node& document) {
  using namespace decoding;
  DecodedSecret decoded;
  Context c(decoded.errors, decoded.warnings);
  if (check_envelope(c, document, "Secret")) read_secret(c, document, decoded.object);
  return decoded;
}

}  // namespace podagent::model
