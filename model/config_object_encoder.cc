// Encoding of ConfigMaps and Secrets as the Kubernetes API shows them:
// fields in the order of the API's Go structs, omitempty as the API server
// applies it.

#include "base/base64.h"
#include "model/config_object_codec.h"
#include "model/encode_helpers.h"

namespace podagent::model {
namespace {

void put_base64(Node& m, const char* key, const std::map<std::string, std::string>& bytes) {
  if (bytes.empty()) return;
  Node& map = m.set(key, Node::map());
  for (const auto& [k, v] : bytes) map.set(k, Node::string(base::base64_encode(v)));
}

}  // namespace

Node encode_config_map(const ConfigMap& config_map) {
  using namespace encoding;
  Node n = Node::map();
  put_required(n, "apiVersion", std::string("v1"));
  put_required(n, "kind", std::string("ConfigMap"));
  n.set("metadata", encode_metadata(config_map.metadata));
  put(n, "immutable", config_map.immutable);
  put(n, "data", config_map.data);
  put_base64(n, "binaryData", config_map.binary_data);
  return n;
}

Node encode_secret(const Secret& secret) {
  using namespace encoding;
  Node n = Node::map();
  put_required(n, "apiVersion", std::string("v1"));
  put_required(n, "kind", std::string("Secret"));
  n.set("metadata", encode_metadata(secret.metadata));
  put(n, "immutable", secret.immutable);
  put_base64(n, "data", secret.data);
  put(n, "type", secret.type);
  return n;
}

}  // namespace podagent::model
