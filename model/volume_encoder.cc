// Encoding of pod volumes, in the API's field order.

#include "model/encode_helpers.h"

namespace podagent::model::encoding {
namespace {

Node encode_key_to_path(const KeyToPath& k) {
  Node n = Node::map();
  put_required(n, "key", k.key);
  put_required(n, "path", k.path);
  put(n, "mode", k.mode);
  return n;
}

// configMap / secret volumes and projections; `name_key` is "secretName" for
// a secret volume and "name" otherwise.
Node encode_object_source(const ObjectVolumeSource& s, const char* name_key) {
  Node n = Node::map();
  put(n, name_key, s.name);
  put_list(n, "items", s.items, encode_key_to_path);
  put(n, "defaultMode", s.default_mode);
  put(n, "optional", s.optional);
  return n;
}

Node encode_downward_api(const DownwardApiVolumeSource& d) {
  Node n = Node::map();
  put_list(n, "items", d.items, [](const DownwardApiVolumeFile& f) {
    Node m = Node::map();
    put_required(m, "path", f.path);
    put_optional(m, "fieldRef", f.field_ref, encode_field_selector);
    put_optional(m, "resourceFieldRef", f.resource_field_ref, encode_resource_field_selector);
    put(m, "mode", f.mode);
    return m;
  });
  put(n, "defaultMode", d.default_mode);
  return n;
}

Node encode_projection(const VolumeProjection& p) {
  Node n = Node::map();
  auto named = [](const ObjectVolumeSource& s) { return encode_object_source(s, "name"); };
  put_optional(n, "secret", p.secret, named);
  put_optional(n, "downwardAPI", p.downward_api, encode_downward_api);
  put_optional(n, "configMap", p.config_map, named);
  put_optional(n, "serviceAccountToken", p.service_account_token, [](const ServiceAccountTokenProjection& t) {
    Node m = Node::map();
    put(m, "audience", t.audience);
    put(m, "expirationSeconds", t.expiration_seconds);
    put_required(m, "path", t.path);
    return m;
  });
  return n;
}

}  // namespace

Node encode_field_selector(const ObjectFieldSelector& s) {
  Node n = Node::map();
  put(n, "apiVersion", s.api_version);
  put_required(n, "fieldPath", s.field_path);
  return n;
}

Node encode_resource_field_selector(const ResourceFieldSelector& s) {
  Node n = Node::map();
  put(n, "containerName", s.container_name);
  put_required(n, "resource", s.resource);
  put(n, "divisor", s.divisor);
  return n;
}

Node encode_volume(const Volume& v) {
  Node n = Node::map();
  put_required(n, "name", v.name);
  put_optional(n, "hostPath", v.host_path, [](const HostPathVolumeSource& h) {
    Node m = Node::map();
    put_required(m, "path", h.path);
    put(m, "type", h.type);
    return m;
  });
  put_optional(n, "emptyDir", v.empty_dir, [](const EmptyDirVolumeSource& e) {
    Node m = Node::map();
    put(m, "medium", e.medium);
    put(m, "sizeLimit", e.size_limit);
    return m;
  });
  put_optional(n, "secret", v.secret, [](const ObjectVolumeSource& s) { return encode_object_source(s, "secretName"); });
  put_optional(n, "downwardAPI", v.downward_api, encode_downward_api);
  put_optional(n, "configMap", v.config_map, [](const ObjectVolumeSource& s) { return encode_object_source(s, "name"); });
  put_optional(n, "projected", v.projected, [](const ProjectedVolumeSource& p) {
    Node m = Node::map();
    // sources is not omitempty in the API.
    Node& sources = m.set("sources", Node::sequence());
    for (const auto& s : p.sources) sources.push(encode_projection(s));
    put(m, "defaultMode", p.default_mode);
    return m;
  });
  // Sources this agent cannot serve: their contents were not kept, only
  // their names, so that a re-read pod is refused by validation just the same.
  for (const auto& name : v.unsupported_sources) n.set(name, Node::map());
  return n;
}

}  // namespace podagent::model::encoding
