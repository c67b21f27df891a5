// Pod-level validation and the name rules every validator shares. Texts
// follow the Kubernetes API server (pkg/apis/core/validation/validation.go
// and k8s.io/apimachinery/pkg/util/validation) so that users see the errors
// kubectl would show them.

#include "model/validation.h"

#include <arpa/inet.h>

#include <string>

#include "base/duration.h"
#include "model/annotations.h"
#include "model/validation_helpers.h"

namespace podagent::model {

namespace validation_detail {

namespace {

constexpr size_t kLabelMaxLength = 63;
constexpr size_t kSubdomainMaxLength = 253;
constexpr size_t kQualifiedNameMaxLength = 63;
constexpr size_t kLabelValueMaxLength = 63;
constexpr size_t kPortNameMaxLength = 15;

constexpr const char* kLabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
constexpr const char* kSubdomainFmt =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr const char* kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr const char* kQualifiedNameMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// apimachinery's RegexError: the message, examples and the regex.
std::string regex_msg(std::string msg, const std::string& fmt,
                      const std::vector<std::string>& examples) {
  if (examples.empty()) return msg + " (regex used for validation is '" + fmt + "')";
  msg += " (e.g. ";
  for (size_t i = 0; i < examples.size(); ++i) {
    if (i > 0) msg += " or ";
    msg += "'" + examples[i] + "', ";
  }
  return msg + "regex used for validation is '" + fmt + "')";
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool matches_label(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  for (char c : s)
    if (!is_lower_alnum(c) && c != '-') return false;
  return true;
}

bool matches_subdomain(std::string_view s) {
  for (;;) {
    auto dot = s.find('.');
    if (!matches_label(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool matches_qualified_name(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

// "." and ".." would escape the directory a key or variable is written to.
void add_chdir_msgs(std::string_view value, std::vector<std::string>& msgs) {
  if (value == ".")
    msgs.push_back("must not be '.'");
  else if (value == "..")
    msgs.push_back("must not be '..'");
  else if (value.starts_with(".."))
    msgs.push_back("must not start with '..'");
}

}  // namespace

std::string range_msg(int64_t lo, int64_t hi) {
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", inclusive";
}

std::string max_len_msg(size_t n) {
  return "must be no more than " + std::to_string(n) + " characters";
}

std::vector<std::string> dns1123_label_msgs(std::string_view value) {
  std::vector<std::string> msgs;
  if (value.size() > kLabelMaxLength) msgs.push_back(max_len_msg(kLabelMaxLength));
  if (!matches_label(value))
    msgs.push_back(regex_msg(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
        "must start and end with an alphanumeric character",
        kLabelFmt, {"my-name", "123-abc"}));
  return msgs;
}

std::vector<std::string> dns1123_subdomain_msgs(std::string_view value) {
  std::vector<std::string> msgs;
  if (value.size() > kSubdomainMaxLength) msgs.push_back(max_len_msg(kSubdomainMaxLength));
  if (!matches_subdomain(value))
    msgs.push_back(regex_msg(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
        "'.', and must start and end with an alphanumeric character",
        kSubdomainFmt, {"example.com"}));
  return msgs;
}

std::vector<std::string> qualified_name_msgs(std::string_view value) {
  std::vector<std::string> msgs;
  std::string_view name = value;
  auto slash = value.find('/');
  if (slash != std::string_view::npos) {
    if (value.find('/', slash + 1) != std::string_view::npos) {
      msgs.push_back(
          "a qualified name " +
          regex_msg(kQualifiedNameMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
          " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
      return msgs;
    }
    std::string_view prefix = value.substr(0, slash);
    name = value.substr(slash + 1);
    if (prefix.empty())
      msgs.push_back("prefix part must be non-empty");
    else
      for (const auto& m : dns1123_subdomain_msgs(prefix)) msgs.push_back("prefix part " + m);
  }
  if (name.empty())
    msgs.push_back("name part must be non-empty");
  else if (name.size() > kQualifiedNameMaxLength)
    msgs.push_back("name part " + max_len_msg(kQualifiedNameMaxLength));
  if (!matches_qualified_name(name))
    msgs.push_back("name part " + regex_msg(kQualifiedNameMsg, kQualifiedNameFmt,
                                            {"MyName", "my.name", "123-abc"}));
  return msgs;
}

std::vector<std::string> label_value_msgs(std::string_view value) {
  std::vector<std::string> msgs;
  if (value.size() > kLabelValueMaxLength) msgs.push_back(max_len_msg(kLabelValueMaxLength));
  if (!value.empty() && !matches_qualified_name(value))
    msgs.push_back(regex_msg(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
        "'.', and must start and end with an alphanumeric character",
        std::string("(") + kQualifiedNameFmt + ")?", {"MyValue", "my_value", "12345"}));
  return msgs;
}

std::vector<std::string> port_name_msgs(std::string_view value) {
  std::vector<std::string> msgs;
  if (value.size() > kPortNameMaxLength) msgs.push_back(max_len_msg(kPortNameMaxLength));
  bool charset_ok = !value.empty();
  bool has_letter = false;
  for (char c : value) {
    if (!is_lower_alnum(c) && c != '-') charset_ok = false;
    if (c >= 'a' && c <= 'z') has_letter = true;
  }
  if (!charset_ok)
    msgs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!has_letter) msgs.push_back("must contain at least one letter (a-z)");
  if (value.find("--") != std::string_view::npos)
    msgs.push_back("must not contain consecutive hyphens (-)");
  if (!value.empty() && (value.front() == '-' || value.back() == '-'))
    msgs.push_back("must not begin or end with a hyphen (-)");
  return msgs;
}

std::vector<std::string> env_var_name_msgs(std::string_view value) {
  std::vector<std::string> msgs;
  // [-._a-zA-Z][-._a-zA-Z0-9]*
  bool ok = !value.empty() && !is_digit(value.front());
  for (char c : value)
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_') ok = false;
  if (!ok)
    msgs.push_back(
        regex_msg("a valid environment variable name must consist of alphabetic characters, "
                  "digits, '_', '-', or "
                  "'.', and must not start with a digit",
                  "[-._a-zA-Z][-._a-zA-Z0-9]*", {"my.env-name", "MY_ENV.NAME", "MyEnvName1"}));
  add_chdir_msgs(value, msgs);
  return msgs;
}

std::vector<std::string> config_map_key_msgs(std::string_view value) {
  std::vector<std::string> msgs;
  if (value.size() > kSubdomainMaxLength) msgs.push_back(max_len_msg(kSubdomainMaxLength));
  bool ok = !value.empty();
  for (char c : value)
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_') ok = false;
  if (!ok)
    msgs.push_back(
        regex_msg("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                  "[-._a-zA-Z0-9]+", {"key.name", "KEY_NAME", "key-name"}));
  add_chdir_msgs(value, msgs);
  return msgs;
}

bool is_valid_ip(std::string_view value) {
  std::string text(value);
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

void add_invalid_each(FieldErrors& out, const std::string& field, std::string_view value,
                      const std::vector<std::string>& msgs) {
  for (const auto& m : msgs) out.push_back(FieldError::invalid(field, quote(value), m));
}

std::string go_string_list(const std::vector<std::string>& values) {
  std::string out = "[]string{";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + quote(values[i]);
  return out + "}";
}

}  // namespace validation_detail

using namespace validation_detail;

namespace {

constexpr size_t kAnnotationsMaxBytes = 256 * 1024;
constexpr size_t kMaxDnsNameservers = 3;
constexpr size_t kMaxDnsSearchPaths = 32;
constexpr size_t kMaxDnsSearchListChars = 2048;
constexpr int64_t kMaxInt32 = 2147483647;
constexpr const char* kIpMsg = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

void validate_labels(const std::map<std::string, std::string>& labels, const std::string& path,
                     FieldErrors& out) {
  for (const auto& [k, v] : labels) {
    add_invalid_each(out, path, k, qualified_name_msgs(k));
    add_invalid_each(out, path, v, label_value_msgs(v));
  }
}

}  // namespace

void validation_detail::validate_object_meta(const ObjectMeta& meta, FieldErrors& out) {
  if (meta.name.empty())
    out.push_back(FieldError::required("metadata.name", "name or generateName is required"));
  else
    add_invalid_each(out, "metadata.name", meta.name, dns1123_subdomain_msgs(meta.name));
  if (meta.namespace_.empty())
    out.push_back(FieldError::required("metadata.namespace"));
  else
    add_invalid_each(out, "metadata.namespace", meta.namespace_,
                     dns1123_label_msgs(meta.namespace_));
  validate_labels(meta.labels, "metadata.labels", out);
  size_t annotation_bytes = 0;
  for (const auto& [k, v] : meta.annotations) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    add_invalid_each(out, "metadata.annotations", k, qualified_name_msgs(lower));
    annotation_bytes += k.size() + v.size();
  }
  if (annotation_bytes > kAnnotationsMaxBytes)
    out.push_back(FieldError::too_long("metadata.annotations", "", kAnnotationsMaxBytes));
}

namespace {

// The object rules, then the annotations only a pod reads.
void validate_metadata(const ObjectMeta& meta, FieldErrors& out) {
  validate_object_meta(meta, out);
  for (const char* key : {kAnnotationCrashloopInitial, kAnnotationCrashloopMax}) {
    auto it = meta.annotations.find(key);
    if (it == meta.annotations.end()) continue;
    std::string path = std::string("metadata.annotations[") + key + "]";
    auto d = base::parse_duration(it->second);
    if (!d)
      out.push_back(FieldError::invalid(path, quote(it->second), d.error().message));
    else if (d->count() <= 0)
      out.push_back(FieldError::invalid(path, quote(it->second), "must be a positive duration"));
  }
}

void validate_one_of(const std::string& value, const std::vector<std::string>& allowed,
                     const std::string& path, FieldErrors& out) {
  if (value.empty()) {
    out.push_back(FieldError::required(path));
    return;
  }
  for (const auto& a : allowed)
    if (a == value) return;
  out.push_back(FieldError::not_supported(path, quote(value), allowed));
}

void validate_dns(const PodSpec& spec, FieldErrors& out) {
  validate_one_of(spec.dns_policy, {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"},
                  "spec.dnsPolicy", out);
  if (spec.dns_policy == "None") {
    if (!spec.dns_config) {
      out.push_back(FieldError::required("spec.dnsConfig",
                                         "must provide `dnsConfig` when `dnsPolicy` is None"));
      return;
    }
    if (spec.dns_config->nameservers.empty()) {
      out.push_back(FieldError::required(
          "spec.dnsConfig.nameservers",
          "must provide at least one DNS nameserver when `dnsPolicy` is None"));
      return;
    }
  }
  if (!spec.dns_config) return;
  const auto& config = *spec.dns_config;
  const std::string path = "spec.dnsConfig";
  if (config.nameservers.size() > kMaxDnsNameservers)
    out.push_back(FieldError::invalid(path + ".nameservers", go_string_list(config.nameservers),
                                      "must not have more than 3 nameservers"));
  for (size_t i = 0; i < config.nameservers.size(); ++i)
    if (!is_valid_ip(config.nameservers[i]))
      out.push_back(FieldError::invalid(index(path + ".nameservers", i),
                                        quote(config.nameservers[i]), kIpMsg));
  if (config.searches.size() > kMaxDnsSearchPaths)
    out.push_back(FieldError::invalid(path + ".searches", go_string_list(config.searches),
                                      "must not have more than 32 search paths"));
  size_t chars = config.searches.empty() ? 0 : config.searches.size() - 1;
  for (const auto& s : config.searches) chars += s.size();
  if (chars > kMaxDnsSearchListChars)
    out.push_back(FieldError::invalid(
        path + ".searches", go_string_list(config.searches),
        "must not have more than 2048 characters (including spaces) in the search list"));
  for (size_t i = 0; i < config.searches.size(); ++i) {
    std::string_view search = config.searches[i];
    if (search.ends_with('.')) search.remove_suffix(1);  // a trailing dot is fine
    add_invalid_each(out, index(path + ".searches", i), search, dns1123_subdomain_msgs(search));
  }
  for (size_t i = 0; i < config.options.size(); ++i)
    if (config.options[i].name.empty())
      out.push_back(FieldError::required(index(path + ".options", i), "must not be empty"));
}

void validate_ids(const std::optional<int64_t>& id, const std::string& path, FieldErrors& out) {
  if (id && (*id < 0 || *id > kMaxInt32))
    out.push_back(FieldError::invalid(path, std::to_string(*id), range_msg(0, kMaxInt32)));
}

// [a-z0-9]([-_a-z0-9]*[a-z0-9])? segments joined by '.' or '/', at most 253.
bool is_valid_sysctl_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.' && name[i] != '/') continue;
    std::string_view seg = name.substr(start, i - start);
    auto ok_end = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (seg.empty() || !ok_end(seg.front()) || !ok_end(seg.back())) return false;
    for (char c : seg)
      if (!ok_end(c) && c != '-' && c != '_') return false;
    start = i + 1;
  }
  return true;
}

void validate_pod_security(const PodSpec& spec, FieldErrors& out) {
  if (spec.share_process_namespace.value_or(false) && spec.host_pid)
    out.push_back(FieldError::invalid("spec.shareProcessNamespace", "true",
                                      "ShareProcessNamespace and HostPID cannot both be enabled"));
  if (!spec.security_context) return;
  const auto& sc = *spec.security_context;
  const std::string path = "spec.securityContext";
  validate_ids(sc.run_as_user, path + ".runAsUser", out);
  validate_ids(sc.run_as_group, path + ".runAsGroup", out);
  validate_ids(sc.fs_group, path + ".fsGroup", out);
  for (size_t i = 0; i < sc.supplemental_groups.size(); ++i)
    validate_ids(sc.supplemental_groups[i], index(path + ".supplementalGroups", i), out);
  std::set<std::string> names;
  for (size_t i = 0; i < sc.sysctls.size(); ++i) {
    const std::string name_path = index(path + ".sysctls", i) + ".name";
    const auto& name = sc.sysctls[i].name;
    if (name.empty())
      out.push_back(FieldError::required(name_path));
    else if (!is_valid_sysctl_name(name))
      out.push_back(FieldError::invalid(
          name_path, quote(name),
          "must have at most 253 characters and match regex "
          "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"));
    else if (!names.insert(name).second)
      out.push_back(FieldError::duplicate(name_path, quote(name)));
  }
}

void validate_host_fields(const PodSpec& spec, FieldErrors& out) {
  if (!spec.hostname.empty())
    add_invalid_each(out, "spec.hostname", spec.hostname, dns1123_label_msgs(spec.hostname));
  if (!spec.subdomain.empty())
    add_invalid_each(out, "spec.subdomain", spec.subdomain, dns1123_label_msgs(spec.subdomain));
  for (size_t i = 0; i < spec.host_aliases.size(); ++i) {
    const auto& alias = spec.host_aliases[i];
    const std::string path = index("spec.hostAliases", i);
    if (!is_valid_ip(alias.ip))
      out.push_back(FieldError::invalid(path + ".ip", quote(alias.ip), kIpMsg));
    for (size_t j = 0; j < alias.hostnames.size(); ++j)
      add_invalid_each(out, index(path + ".hostnames", j), alias.hostnames[j],
                       dns1123_subdomain_msgs(alias.hostnames[j]));
  }
}

void validate_spec(const PodSpec& spec, FieldErrors& out) {
  validate_volumes(spec.volumes, "spec.volumes", out);
  PodFacts facts;
  for (const auto& v : spec.volumes) facts.volume_names.insert(v.name);
  facts.grace_period = spec.termination_grace_period_seconds.value_or(30);
  facts.host_network = spec.host_network;
  validate_all_containers(spec, facts, out);
  validate_one_of(spec.restart_policy, {"Always", "OnFailure", "Never"}, "spec.restartPolicy", out);
  validate_dns(spec, out);
  if (spec.termination_grace_period_seconds && *spec.termination_grace_period_seconds < 0)
    out.push_back(FieldError::invalid("spec.terminationGracePeriodSeconds",
                                      std::to_string(*spec.termination_grace_period_seconds),
                                      kNegativeMsg));
  if (spec.active_deadline_seconds &&
      (*spec.active_deadline_seconds < 1 || *spec.active_deadline_seconds > kMaxInt32))
    out.push_back(FieldError::invalid("spec.activeDeadlineSeconds",
                                      std::to_string(*spec.active_deadline_seconds),
                                      range_msg(1, kMaxInt32)));
  validate_labels(spec.node_selector, "spec.nodeSelector", out);
  if (!spec.service_account_name.empty())
    add_invalid_each(out, "spec.serviceAccountName", spec.service_account_name,
                     dns1123_subdomain_msgs(spec.service_account_name));
  validate_host_fields(spec, out);
  for (size_t i = 0; i < spec.readiness_gates.size(); ++i) {
    const auto& type = spec.readiness_gates[i].condition_type;
    add_invalid_each(out, index("spec.readinessGates", i) + ".conditionType", type,
                     qualified_name_msgs(type));
  }
  validate_pod_security(spec, out);
}

}  // namespace

FieldErrors validate_dns1123_subdomain(std::string_view value, const std::string& field) {
  FieldErrors out;
  add_invalid_each(out, field, value, dns1123_subdomain_msgs(value));
  return out;
}

FieldErrors validate_dns1123_label(std::string_view value, const std::string& field) {
  FieldErrors out;
  add_invalid_each(out, field, value, dns1123_label_msgs(value));
  return out;
}

FieldErrors validate_pod(const Pod& pod) {
  FieldErrors out;
  validate_metadata(pod.metadata, out);
  validate_spec(pod.spec, out);
  return out;
}

}  // namespace podagent::model
