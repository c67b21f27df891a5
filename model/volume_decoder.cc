// Decoding of pod volumes and their sources.

#include "model/decode_helpers.h"

namespace podagent::model::decoding {

// Struct readers stay out of the unnamed namespace so that the templates of
// decode_helpers.h find them (see container_decoder.cc).

bool read(Context& c, const Node& n, const std::string& path, EmptyDirVolumeSource& out) {
  FieldReader r(c, n, path);
  r.field("medium", out.medium);
  r.field("sizeLimit", out.size_limit);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, HostPathVolumeSource& out) {
  FieldReader r(c, n, path);
  r.field("path", out.path);
  r.field("type", out.type);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, KeyToPath& out) {
  FieldReader r(c, n, path);
  r.field("key", out.key);
  r.field("path", out.path);
  r.field("mode", out.mode);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, DownwardApiVolumeFile& out) {
  FieldReader r(c, n, path);
  r.field("path", out.path);
  r.field("fieldRef", out.field_ref);
  r.field("resourceFieldRef", out.resource_field_ref);
  r.field("mode", out.mode);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, DownwardApiVolumeSource& out) {
  FieldReader r(c, n, path);
  r.field("items", out.items);
  r.field("defaultMode", out.default_mode);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ServiceAccountTokenProjection& out) {
  FieldReader r(c, n, path);
  r.field("audience", out.audience);
  r.field("expirationSeconds", out.expiration_seconds);
  r.field("path", out.path);
  r.done();
  return r.is_map();
}

namespace {

// configMap and secret sources. `name_key` is "name" except for a secret
// volume, which calls it "secretName"; projections have no defaultMode.
struct ObjectSourceShape {
  const char* name_key = "name";
  bool has_default_mode = true;
};

bool read_object_source(Context& c, const Node& n, const std::string& path, ObjectSourceShape shape,
                        std::optional<ObjectVolumeSource>& out) {
  FieldReader r(c, n, path);
  ObjectVolumeSource source;
  r.field(shape.name_key, source.name);
  r.field("items", source.items);
  if (shape.has_default_mode) r.field("defaultMode", source.default_mode);
  r.field("optional", source.optional);
  r.done();
  if (r.is_map()) out = std::move(source);
  return r.is_map();
}

void read_source(FieldReader& r, std::string_view name, ObjectSourceShape shape,
                 std::optional<ObjectVolumeSource>& out) {
  if (const Node* v = r.take(name)) read_object_source(r.context(), *v, child(r.path(), name), shape, out);
}

}  // namespace

bool read(Context& c, const Node& n, const std::string& path, VolumeProjection& out) {
  FieldReader r(c, n, path);
  read_source(r, "configMap", {"name", false}, out.config_map);
  read_source(r, "secret", {"name", false}, out.secret);
  r.field("downwardAPI", out.downward_api);
  r.field("serviceAccountToken", out.service_account_token);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, ProjectedVolumeSource& out) {
  FieldReader r(c, n, path);
  r.field("sources", out.sources);
  r.field("defaultMode", out.default_mode);
  r.done();
  return r.is_map();
}

// Every key besides name and the supported sources is taken as a volume
// source this agent cannot serve (nfs, persistentVolumeClaim, ...), not as an
// unknown field: validation refuses the volume by naming it.
bool read(Context& c, const Node& n, const std::string& path, Volume& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("emptyDir", out.empty_dir);
  r.field("hostPath", out.host_path);
  r.field("downwardAPI", out.downward_api);
  read_source(r, "configMap", {"name", true}, out.config_map);
  read_source(r, "secret", {"secretName", true}, out.secret);
  r.field("projected", out.projected);
  out.unsupported_sources = r.unconsumed();
  return r.is_map();
}

}  // namespace podagent::model::decoding
