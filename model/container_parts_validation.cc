// Validation of a container's resources, volume mounts and security context.
// Texts follow the Kubernetes API server.

#include <set>
#include <string>

#include "model/validation_helpers.h"

namespace podagent::model::validation_detail {

namespace {

// Linux capability names without the CAP_ prefix, and "ALL".
// clang-format off
const std::set<std::string> kCapabilities = {
    "ALL", "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF",
    "CHECKPOINT_RESTORE", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
    "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE",
    "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP",
    "SETGID", "SETPCAP", "SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE",
    "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME",
    "SYS_TTY_CONFIG", "WAKE_ALARM"};
// clang-format on

// Resource names without a domain that Kubernetes knows (IsStandardResourceName).
const std::set<std::string> kStandardResources = {"cpu",
                                                  "memory",
                                                  "ephemeral-storage",
                                                  "requests.cpu",
                                                  "requests.memory",
                                                  "requests.ephemeral-storage",
                                                  "limits.cpu",
                                                  "limits.memory",
                                                  "limits.ephemeral-storage",
                                                  "pods",
                                                  "services",
                                                  "replicationcontrollers",
                                                  "resourcequotas",
                                                  "secrets",
                                                  "configmaps",
                                                  "persistentvolumeclaims",
                                                  "storage",
                                                  "requests.storage",
                                                  "services.nodeports",
                                                  "services.loadbalancers"};

bool is_hugepages(std::string_view name) { return name.starts_with("hugepages-"); }

bool is_standard_container_resource(std::string_view name) {
  return name == "cpu" || name == "memory" || name == "ephemeral-storage" || is_hugepages(name);
}

// Native: no domain, or a kubernetes.io domain.
bool is_native(std::string_view name) {
  return name.find('/') == std::string_view::npos ||
         name.find("kubernetes.io/") != std::string_view::npos;
}

// Requests may be below limits only for native resources other than hugepages.
bool overcommit_allowed(std::string_view name) { return is_native(name) && !is_hugepages(name); }

void validate_resource_name(const std::string& name, const std::string& path, FieldErrors& out) {
  add_invalid_each(out, path, name, qualified_name_msgs(name));
  if (name.find('/') == std::string::npos) {
    if (!kStandardResources.contains(name) && !is_hugepages(name) &&
        !name.starts_with("requests.hugepages-"))
      out.push_back(FieldError::invalid(path, quote(name),
                                        "must be a standard resource type or fully qualified"));
    if (!is_standard_container_resource(name))
      out.push_back(
          FieldError::invalid(path, quote(name), "must be a standard resource for containers"));
  } else if (!is_native(name)) {
    if (name.starts_with("requests.") || !qualified_name_msgs("requests." + name).empty())
      out.push_back(
          FieldError::invalid(path, quote(name), "doesn't follow extended resource name standard"));
  }
}

void validate_quantity(const std::string& name, const Quantity& q, const std::string& path,
                       FieldErrors& out) {
  if (q.milli() < 0) out.push_back(FieldError::invalid(path, quote(q.text()), kNegativeMsg));
  // Extended resources are counted in whole units.
  if (!is_native(name) && q.milli() % 1000 != 0)
    out.push_back(FieldError::invalid(path, quote(q.text()), "must be an integer"));
}

bool is_absolute(std::string_view path) { return path.starts_with('/'); }

}  // namespace

void validate_resources(const ResourceRequirements& r, const std::string& path, FieldErrors& out) {
  const std::string lim_path = path + ".limits";
  const std::string req_path = path + ".requests";
  bool cpu_or_memory = false;
  bool hugepages = false;
  for (const auto& [name, q] : r.limits) {
    validate_resource_name(name, key(lim_path, name), out);
    validate_quantity(name, q, key(lim_path, name), out);
    cpu_or_memory = cpu_or_memory || name == "cpu" || name == "memory";
    hugepages = hugepages || is_hugepages(name);
  }
  for (const auto& [name, q] : r.requests) {
    validate_resource_name(name, key(req_path, name), out);
    validate_quantity(name, q, key(req_path, name), out);
    cpu_or_memory = cpu_or_memory || name == "cpu" || name == "memory";
    hugepages = hugepages || is_hugepages(name);
    auto limit = r.limits.find(name);
    if (limit != r.limits.end()) {
      if (q != limit->second && !overcommit_allowed(name))
        out.push_back(
            FieldError::invalid(req_path, quote(q.text()),
                                "must be equal to " + name + " limit of " + limit->second.text()));
      else if (q > limit->second)
        out.push_back(FieldError::invalid(
            req_path, quote(q.text()),
            "must be less than or equal to " + name + " limit of " + limit->second.text()));
    } else if (!overcommit_allowed(name)) {
      out.push_back(
          FieldError::required(lim_path, "Limit must be set for non overcommitable resources"));
    }
  }
  if (hugepages && !cpu_or_memory)
    out.push_back(FieldError::forbidden(path, "HugePages require cpu or memory"));
}

void validate_volume_mounts(const Container& c, const PodFacts& facts, bool ephemeral,
                            const std::string& path, FieldErrors& out) {
  std::set<std::string> mount_points;
  const bool privileged = c.security_context && c.security_context->privileged.value_or(false);
  for (size_t i = 0; i < c.volume_mounts.size(); ++i) {
    const auto& m = c.volume_mounts[i];
    const std::string p = index(path, i);
    if (m.name.empty()) out.push_back(FieldError::required(p + ".name"));
    if (!facts.volume_names.contains(m.name))
      out.push_back(FieldError::not_found(p + ".name", quote(m.name)));
    if (m.mount_path.empty()) {
      out.push_back(FieldError::required(p + ".mountPath"));
    } else if (!is_absolute(m.mount_path)) {
      // podagent's rule: an OCI mount destination must be absolute.
      out.push_back(
          FieldError::invalid(p + ".mountPath", quote(m.mount_path), "must be an absolute path"));
    }
    if (!mount_points.insert(m.mount_path).second)
      out.push_back(FieldError::invalid(p + ".mountPath", quote(m.mount_path), "must be unique"));
    if (!m.sub_path.empty()) {
      if (ephemeral)
        out.push_back(
            FieldError::forbidden(p + ".subPath", "cannot be set for an Ephemeral Container"));
      validate_local_descending_path(m.sub_path, p + ".subPath", out);
    }
    if (!m.sub_path_expr.empty()) {
      if (!m.sub_path.empty())
        out.push_back(FieldError::invalid(p + ".subPathExpr", quote(m.sub_path_expr),
                                          "subPathExpr and subPath are mutually exclusive"));
      validate_local_descending_path(m.sub_path_expr, p + ".subPathExpr", out);
    }
    if (!m.mount_propagation.empty()) {
      const std::string prop_path = p + ".mountPropagation";
      if (m.mount_propagation != "Bidirectional" && m.mount_propagation != "HostToContainer" &&
          m.mount_propagation != "None")
        out.push_back(FieldError::not_supported(prop_path, quote(m.mount_propagation),
                                                {"Bidirectional", "HostToContainer", "None"}));
      else if (m.mount_propagation == "Bidirectional" && !privileged)
        out.push_back(FieldError::forbidden(
            prop_path,
            "Bidirectional mount propagation is available only to privileged containers"));
    }
  }
}

void validate_container_security(const SecurityContext& sc, const std::string& path,
                                 FieldErrors& out) {
  constexpr int64_t kMaxId = 2147483647;
  for (auto [id, name] :
       {std::pair{&sc.run_as_user, "runAsUser"}, std::pair{&sc.run_as_group, "runAsGroup"}})
    if (*id && (**id < 0 || **id > kMaxId))
      out.push_back(
          FieldError::invalid(path + "." + name, std::to_string(**id), range_msg(0, kMaxId)));
  if (sc.privileged.value_or(false) && sc.allow_privilege_escalation &&
      !*sc.allow_privilege_escalation)
    out.push_back(FieldError::invalid(
        path, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
  if (!sc.proc_mount.empty() && sc.proc_mount != "Default" && sc.proc_mount != "Unmasked")
    out.push_back(FieldError::not_supported(path + ".procMount", quote(sc.proc_mount),
                                            {"Default", "Unmasked"}));
  if (!sc.capabilities) return;
  // podagent's rule: the OCI runtime refuses unknown capabilities, so they are
  // refused here, where the user learns which field is wrong.
  for (auto [list, name] :
       {std::pair{&sc.capabilities->add, "add"}, std::pair{&sc.capabilities->drop, "drop"}}) {
    for (size_t i = 0; i < list->size(); ++i) {
      std::string cap = (*list)[i];
      for (char& ch : cap) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
      if (cap.starts_with("CAP_")) cap.erase(0, 4);
      if (!kCapabilities.contains(cap))
        out.push_back(FieldError::invalid(
            index(path + ".capabilities." + name, i), quote((*list)[i]),
            "must be a Linux capability name such as NET_ADMIN or CAP_NET_ADMIN, or ALL"));
    }
  }
}

}  // namespace podagent::model::validation_detail
