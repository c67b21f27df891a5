// Decoding of manifest documents: the envelope (Pod, ConfigMap, Secret, List,
// PodList), metadata and the pod-level part of the spec. Containers, volumes
// and status are decoded in container_decoder.cc, volume_decoder.cc and
// status_decoder.cc; ConfigMaps and Secrets in config_object_decoder.cc.

#include "model/decode_helpers.h"
#include "model/pod_codec.h"

namespace podagent::model {

bool DecodeResult::ok() const {
  if (!errors.empty()) return false;
  for (const auto& p : pods)
    if (!p.errors.empty()) return false;
  for (const auto& m : config_maps)
    if (!m.errors.empty()) return false;
  for (const auto& s : secrets)
    if (!s.errors.empty()) return false;
  return true;
}

namespace decoding {

// Struct readers stay out of the unnamed namespace so that the templates of
// decode_helpers.h find them (see container_decoder.cc).

bool read(Context& c, const Node& n, const std::string& path, ObjectMeta& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("generateName", out.generate_name);
  r.field("namespace", out.namespace_);
  r.field("uid", out.uid);
  r.field("resourceVersion", out.resource_version);
  r.field("generation", out.generation);
  r.field("creationTimestamp", out.creation_timestamp);
  r.field("deletionTimestamp", out.deletion_timestamp);
  r.field("deletionGracePeriodSeconds", out.deletion_grace_period_seconds);
  r.field("labels", out.labels);
  r.field("annotations", out.annotations);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, HostAlias& out) {
  FieldReader r(c, n, path);
  r.field("ip", out.ip);
  r.field("hostnames", out.hostnames);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, PodDnsConfigOption& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("value", out.value);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, PodDnsConfig& out) {
  FieldReader r(c, n, path);
  r.field("nameservers", out.nameservers);
  r.field("searches", out.searches);
  r.field("options", out.options);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, Sysctl& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.field("value", out.value);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, PodSecurityContext& out) {
  FieldReader r(c, n, path);
  r.field("runAsUser", out.run_as_user);
  r.field("runAsGroup", out.run_as_group);
  r.field("runAsNonRoot", out.run_as_non_root);
  r.field("supplementalGroups", out.supplemental_groups);
  r.field("fsGroup", out.fs_group);
  r.field("sysctls", out.sysctls);
  r.field("seccompProfile", out.seccomp_profile);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, Toleration& out) {
  FieldReader r(c, n, path);
  r.field("key", out.key);
  r.field("operator", out.operator_);
  r.field("value", out.value);
  r.field("effect", out.effect);
  r.field("tolerationSeconds", out.toleration_seconds);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, PodReadinessGate& out) {
  FieldReader r(c, n, path);
  r.field("conditionType", out.condition_type);
  r.done();
  return r.is_map();
}

bool read(Context& c, const Node& n, const std::string& path, LocalObjectReference& out) {
  FieldReader r(c, n, path);
  r.field("name", out.name);
  r.done();
  return r.is_map();
}

namespace {
// The fields of PodSpec that are not lists of containers or volumes.
void read_pod_options(FieldReader& r, PodSpec& out) {
  r.field("restartPolicy", out.restart_policy);
  r.field("terminationGracePeriodSeconds", out.termination_grace_period_seconds);
  r.field("activeDeadlineSeconds", out.active_deadline_seconds);
  r.field("dnsPolicy", out.dns_policy);
  r.field("dnsConfig", out.dns_config);
  r.field("nodeSelector", out.node_selector);
  r.field("serviceAccountName", out.service_account_name);
  r.field("automountServiceAccountToken", out.automount_service_account_token);
  r.field("nodeName", out.node_name);
  r.field("hostNetwork", out.host_network);
  r.field("hostPID", out.host_pid);
  r.field("hostIPC", out.host_ipc);
  r.field("shareProcessNamespace", out.share_process_namespace);
  r.field("securityContext", out.security_context);
  r.field("imagePullSecrets", out.image_pull_secrets);
  r.field("hostname", out.hostname);
  r.field("subdomain", out.subdomain);
  r.field("hostAliases", out.host_aliases);
  r.field("priority", out.priority);
  r.field("priorityClassName", out.priority_class_name);
  r.field("readinessGates", out.readiness_gates);
  r.field("runtimeClassName", out.runtime_class_name);
  r.field("enableServiceLinks", out.enable_service_links);
  r.field("schedulerName", out.scheduler_name);
  r.field("tolerations", out.tolerations);
}
}  // namespace

bool read(Context& c, const Node& n, const std::string& path, PodSpec& out) {
  FieldReader r(c, n, path);
  r.field("volumes", out.volumes);
  r.field("initContainers", out.init_containers);
  r.field("containers", out.containers);
  r.field("ephemeralContainers", out.ephemeral_containers);
  read_pod_options(r, out);
  // "serviceAccount" is the deprecated alias the API server still accepts.
  if (out.service_account_name.empty()) r.field("serviceAccount", out.service_account_name);
  else r.take("serviceAccount");
  Node affinity;
  if (const Node* v = r.take("affinity"); v && read_verbatim(c, *v, child(path, "affinity"), affinity))
    out.affinity = std::move(affinity);
  r.done();
  return r.is_map();
}

// apiVersion of every kind read here: "v1" only.
void check_api_version(Context& c, const Node& doc, const std::string& prefix) {
  const std::string path = child(prefix, "apiVersion");
  const Node* v = doc.find("apiVersion");
  std::string version;
  if (v == nullptr || v->is_null()) {
    c.error(FieldError::required(path));
  } else if (read(c, *v, path, version) && version != "v1") {
    c.error(FieldError::not_supported(path, quote(version), {"v1"}));
  }
}

std::string read_kind(Context& c, const Node& doc, const std::string& prefix) {
  const std::string path = child(prefix, "kind");
  const Node* v = doc.find("kind");
  std::string kind;
  if (v == nullptr || v->is_null()) c.error(FieldError::required(path));
  else read(c, *v, path, kind);
  return kind;
}

namespace {

const std::vector<std::string> kSupportedKinds = {"ConfigMap", "List", "Pod", "PodList", "Secret"};
const std::vector<std::string> kSupportedItemKinds = {"ConfigMap", "Pod", "Secret"};

// Decodes one Pod map (its envelope already checked) into `out`.
void read_pod(Context& c, const Node& doc, Pod& out) {
  FieldReader r(c, doc, "");
  r.take("apiVersion");  // checked by the caller
  r.take("kind");
  out.api_version = "v1";
  out.kind = "Pod";
  r.field("metadata", out.metadata);
  r.field("spec", out.spec);
  r.field("status", out.status);
  r.done();
}

std::string join_where(std::string_view where, const std::string& part) {
  if (where.empty()) return part;
  return std::string(where) + ", " + part;
}

// A ConfigMap or Secret map (document or List item) of kind `kind`.
void decode_config_object(const Node& doc, const std::string& kind, const std::string& prefix,
                          const std::string& where, DecodeResult& out) {
  auto decode = [&](auto& decoded, auto read_body) {
    decoded.where = where;
    Context c(decoded.errors, decoded.warnings);
    check_api_version(c, doc, prefix);
    read_body(c, doc, decoded.object);
  };
  if (kind == "ConfigMap") {
    decode(out.config_maps.emplace_back(), read_config_map);
  } else {
    decode(out.secrets.emplace_back(), read_secret);
  }
}

void decode_list(const Node& doc, std::string_view where, DecodeResult& out) {
  DecodedPod envelope;
  envelope.where = std::string(where);
  Context c(envelope.errors, envelope.warnings);
  check_api_version(c, doc, "");
  FieldReader r(c, doc, "");
  r.take("apiVersion");
  r.take("kind");
  r.take("metadata");  // a List's metadata (resourceVersion, continue) means nothing here
  const Node* items = r.take("items");
  r.done();
  if (items != nullptr && !items->is_null() && !items->is_sequence()) c.type_error(*items, "items", "list");
  const size_t first = out.pods.size();
  const size_t first_map = out.config_maps.size();
  const size_t first_secret = out.secrets.size();
  if (items != nullptr && items->is_sequence()) {
    for (size_t i = 0; i < items->items.size(); ++i) {
      const Node& item = items->items[i];
      const std::string prefix = index("items", i);
      DecodedPod decoded;
      decoded.where = join_where(where, prefix);
      Context ic(decoded.errors, decoded.warnings);
      if (!item.is_map()) {
        ic.type_error(item, prefix, "map");
      } else if (std::string kind = read_kind(ic, item, prefix);
                 kind == "ConfigMap" || kind == "Secret") {
        decode_config_object(item, kind, prefix, decoded.where, out);
        continue;
      } else if (!kind.empty() && kind != "Pod") {
        ic.error(
            FieldError::not_supported(child(prefix, "kind"), quote(kind), kSupportedItemKinds));
      } else if (!kind.empty()) {
        check_api_version(ic, item, prefix);
        read_pod(ic, item, decoded.pod);
      }
      out.pods.push_back(std::move(decoded));
    }
  }
  // Errors of the List itself are an entry of their own (with no usable
  // pod); its warnings travel with its first pod (else its first ConfigMap,
  // else its first Secret), and are dropped when it has none, rather than
  // make an entry that would look like an empty pod.
  if (!envelope.errors.empty()) {
    out.pods.push_back(std::move(envelope));
    return;
  }
  FieldErrors* w = nullptr;
  if (out.pods.size() > first)
    w = &out.pods[first].warnings;
  else if (out.config_maps.size() > first_map)
    w = &out.config_maps[first_map].warnings;
  else if (out.secrets.size() > first_secret)
    w = &out.secrets[first_secret].warnings;
  if (w != nullptr) w->insert(w->begin(), envelope.warnings.begin(), envelope.warnings.end());
}

}  // namespace
}  // namespace decoding

void decode_pod_document(const Node& document, std::string_view where, DecodeResult& out) {
  using namespace decoding;
  DecodedPod decoded;
  decoded.where = std::string(where);
  Context c(decoded.errors, decoded.warnings);
  if (!document.is_map()) {
    c.type_error(document, "", "map");
    out.pods.push_back(std::move(decoded));
    return;
  }
  const std::string kind = read_kind(c, document, "");
  if (kind == "List" || kind == "PodList") return decode_list(document, where, out);
  if (kind == "ConfigMap" || kind == "Secret")
    return decode_config_object(document, kind, "", std::string(where), out);
  if (kind == "Pod") {
    check_api_version(c, document, "");
    read_pod(c, document, decoded.pod);
  } else if (!kind.empty()) {
    c.error(FieldError::not_supported("kind", quote(kind), kSupportedKinds));
  }
  out.pods.push_back(std::move(decoded));
}

DecodeResult decode_pods(std::string_view text, const DocumentLimits& limits) {
  DecodeResult out;
  auto documents = parse_documents(text, limits);
  if (!documents) {
    const auto& e = documents.error();
    out.errors.push_back(FieldError::invalid(e.field, "", e.message));
    return out;
  }
  for (size_t i = 0; i < documents->size(); ++i) {
    std::string where = documents->size() > 1 ? "document " + std::to_string(i + 1) : "";
    decode_pod_document((*documents)[i], where, out);
  }
  return out;
}

}  // namespace podagent::model
