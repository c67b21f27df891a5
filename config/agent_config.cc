#include "config/agent_config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "model/document.h"
#include "model/validation.h"

namespace podagent::config {
namespace {

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

void require_absolute(ConfigErrors& errors, const std::string& field, const std::string& path,
                      bool optional = false) {
  if (path.empty()) {
    if (!optional) errors.emplace_back("Required value", field);
  } else if (path.front() != '/') {
    errors.emplace_back("Invalid value: " + quoted(path) + ": must be an absolute path", field);
  }
}

void require_positive(ConfigErrors& errors, const std::string& field, Duration d) {
  if (d <= Duration::zero())
    errors.emplace_back(
        "Invalid value: " + quoted(base::format_duration_short(d)) + ": must be greater than zero",
        field);
}

void require_one_of(ConfigErrors& errors, const std::string& field, const std::string& value,
                    std::initializer_list<std::string_view> supported) {
  if (std::find(supported.begin(), supported.end(), value) != supported.end()) return;
  std::string list;
  for (std::string_view s : supported) list += (list.empty() ? "" : ", ") + quoted(s);
  errors.emplace_back("Unsupported value: " + quoted(value) + ": supported values: " + list, field);
}

void require_non_negative(ConfigErrors& errors, const std::string& field,
                          const std::optional<model::Quantity>& q) {
  if (q && q->milli() < 0)
    errors.emplace_back(
        "Invalid value: " + quoted(q->text()) + ": must be greater than or equal to 0", field);
}

// "host:port", "[v6]:port" or ":port" (every address); port 0 picks a free one.
bool valid_listen_address(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.starts_with('[') != host.ends_with(']')) return false;
  if (host.find(':') != std::string_view::npos && !host.starts_with('[')) return false;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return !port.empty() && ec == std::errc() && ptr == port.data() + port.size() && value <= 65535;
}

void validate_api(const ApiConfig& api, ConfigErrors& errors) {
  require_absolute(errors, "api.socket", api.socket);
  const TcpListenerConfig& tcp = api.tcp;
  if (tcp.enabled && !valid_listen_address(tcp.address))
    errors.emplace_back("Invalid value: " + quoted(tcp.address) +
                            ": must be host:port, [ipv6]:port or :port with a port from 0 to 65535",
                        "api.tcp.address");
  require_absolute(errors, "api.tcp.tlsCertFile", tcp.tls_cert_file, true);
  require_absolute(errors, "api.tcp.tlsKeyFile", tcp.tls_key_file, true);
  require_absolute(errors, "api.tcp.clientCAFile", tcp.client_ca_file, true);
  require_absolute(errors, "api.tcp.tokensFile", tcp.tokens_file, true);
  if (tcp.tls_cert_file.empty() != tcp.tls_key_file.empty())
    errors.emplace_back("Required value: tlsCertFile and tlsKeyFile are set together",
                        tcp.tls_cert_file.empty() ? "api.tcp.tlsCertFile" : "api.tcp.tlsKeyFile");
  if (!tcp.client_ca_file.empty() && tcp.tls_cert_file.empty())
    errors.emplace_back("Forbidden: client certificates need TLS (tlsCertFile and tlsKeyFile)",
                        "api.tcp.clientCAFile");
}

// The root is a cgroup path below each hierarchy's mount: relative, with
// no empty, "." or ".." component (which would leave the hierarchy).
void validate_cgroups(const CgroupsConfig& cg, ConfigErrors& errors) {
  const std::string& root = cg.root;
  bool bad = !root.empty() && root.front() == '/';
  for (size_t start = 0; !root.empty() && start <= root.size() && !bad;) {
    size_t end = std::min(root.find('/', start), root.size());
    const std::string part = root.substr(start, end - start);
    bad = part.empty() || part == "." || part == "..";
    start = end + 1;
  }
  if (bad)
    errors.emplace_back("Invalid value: " + quoted(root) +
                            ": must be a relative cgroup path without empty, \".\" or \"..\" parts",
                        "cgroups.root");
  if (cg.pod_pids_limit < 0)
    errors.emplace_back("Invalid value: " + std::to_string(cg.pod_pids_limit) +
                            ": must be greater than or equal to 0 (0: unlimited)",
                        "cgroups.podPidsLimit");
}

void validate_runtime(const RuntimeConfig& rt, ConfigErrors& errors) {
  require_one_of(errors, "runtime.backend", rt.backend, {"fake", "oci"});
  if (rt.runtime_handlers.count(rt.oci_runtime) == 0) {
    std::string names;
    for (const auto& [name, path] : rt.runtime_handlers)
      names += (names.empty() ? "" : ", ") + quoted(name);
    errors.emplace_back("Unsupported value: " + quoted(rt.oci_runtime) +
                            ": supported values (runtime.runtimeHandlers): " + names,
                        "runtime.ociRuntime");
  }
  for (const auto& [name, path] : rt.runtime_handlers) {
    const std::string field = "runtime.runtimeHandlers." + name;
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::islower(static_cast<unsigned char>(c)) ||
                 std::isdigit(static_cast<unsigned char>(c)) || c == '-';
        }))
      errors.emplace_back("Invalid value: " + quoted(name) +
                              ": a handler name has lowercase letters, digits and '-'",
                          field);
    require_absolute(errors, field, path);
  }
  require_positive(errors, "runtime.relistPeriod", rt.relist_period);
  if (!rt.container_log_max_size || rt.container_log_max_size->value() <= 0)
    errors.emplace_back("Invalid value: must be a size greater than zero", "runtime.containerLogMaxSize");
  if (rt.container_log_max_files < 2)
    errors.emplace_back("Invalid value: " + std::to_string(rt.container_log_max_files) + ": must be at least 2",
                        "runtime.containerLogMaxFiles");
  require_absolute(errors, "runtime.pauseBinary", rt.pause_binary, true);
  require_absolute(errors, "runtime.monitorBinary", rt.monitor_binary, true);
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The whole file, or why not. `missing` is set when it does not exist.
base::Result<std::string> read_file(const std::string& path, bool& missing) {
  missing = false;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    missing = errno == ENOENT;
    return base::Error("cannot read config file " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) return base::Error("cannot read config file " + path + ": read error");
  return text;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

}  // namespace

base::Result<Override> parse_set_flag(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return base::Error("--set wants path=value (e.g. crashLoopBackOff.initial=1s), got " +
                       quoted(text));
  return Override{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)), true};
}

ConfigErrors apply_override(const Override& override_, AgentConfig& config) {
  const std::string& path = override_.path;
  if (path.empty() || path.front() == '.' || path.back() == '.' ||
      path.find("..") != std::string::npos)
    return {base::Error("Invalid value: " + quoted(path) + ": not a field path", path)};

  model::Node value = model::Node::string(override_.value);
  if (override_.yaml && !override_.value.empty()) {
    auto documents = model::parse_documents(override_.value);
    if (!documents)
      return {base::Error(
          "Invalid value: " + quoted(override_.value) + ": " + documents.error().to_string(),
          path)};
    if (documents->size() == 1) value = std::move(documents->front());
  }
  // "a.b.c" = v becomes {a: {b: {c: v}}}, decoded like a file.
  std::string_view rest = path;
  std::vector<std::string> keys;
  for (size_t dot; (dot = rest.find('.')) != std::string_view::npos; rest.remove_prefix(dot + 1))
    keys.emplace_back(rest.substr(0, dot));
  keys.emplace_back(rest);
  for (auto key = keys.rbegin(); key != keys.rend(); ++key) {
    model::Node parent = model::Node::map();
    parent.set(*key, std::move(value));
    value = std::move(parent);
  }
  return decode_config(value, config);
}

void resolve_defaults(AgentConfig& config, std::string_view hostname) {
  if (config.node_name.empty()) config.node_name = lowercase(hostname);
}

ConfigErrors validate_config(const AgentConfig& c) {
  ConfigErrors errors;
  if (c.node_name.empty()) {
    errors.emplace_back("Required value: the host name is empty; set nodeName", "nodeName");
  } else {
    for (const model::FieldError& e : model::validate_dns1123_subdomain(c.node_name, "nodeName")) {
      std::string text = e.to_string();
      if (text.starts_with(e.field + ": ")) text.erase(0, e.field.size() + 2);
      errors.emplace_back(std::move(text), "nodeName");
    }
  }
  require_absolute(errors, "manifestDir", c.manifest_dir);
  require_absolute(errors, "stateDir", c.state_dir);
  require_absolute(errors, "podLogsDir", c.pod_logs_dir);
  if (c.pod_logs_retention < Duration::zero())
    errors.emplace_back(
        "Invalid value: " + quoted(base::format_duration_short(c.pod_logs_retention)) +
            ": must be greater than or equal to 0",
        "podLogsRetention");
  validate_api(c.api, errors);
  validate_runtime(c.runtime, errors);

  const BackoffConfig& b = c.crash_loop_back_off;
  require_positive(errors, "crashLoopBackOff.initial", b.initial);
  require_positive(errors, "crashLoopBackOff.max", b.max);
  require_positive(errors, "crashLoopBackOff.reset", b.reset);
  if (b.max < b.initial)
    errors.emplace_back("Invalid value: " + quoted(base::format_duration_short(b.max)) +
                            ": must be greater than or equal to crashLoopBackOff.initial (" +
                            base::format_duration_short(b.initial) + ")",
                        "crashLoopBackOff.max");
  require_positive(errors, "manifestRelistPeriod", c.manifest_relist_period);

  require_non_negative(errors, "nodeAllocatable.cpu", c.node_allocatable.cpu);
  require_non_negative(errors, "nodeAllocatable.memory", c.node_allocatable.memory);
  require_non_negative(errors, "systemReserved.cpu", c.system_reserved.cpu);
  require_non_negative(errors, "systemReserved.memory", c.system_reserved.memory);
  if (c.max_pods <= 0)
    errors.emplace_back(
        "Invalid value: " + std::to_string(c.max_pods) + ": must be greater than zero", "maxPods");

  require_absolute(errors, "cni.confDir", c.cni.conf_dir);
  if (c.cni.bin_dirs.empty()) errors.emplace_back("Required value", "cni.binDirs");
  for (size_t i = 0; i < c.cni.bin_dirs.size(); ++i)
    require_absolute(errors, "cni.binDirs[" + std::to_string(i) + "]", c.cni.bin_dirs[i]);
  require_absolute(errors, "cni.cacheDir", c.cni.cache_dir);

  validate_cgroups(c.cgroups, errors);
  for (size_t i = 0; i < c.volumes.host_path_allow_list.size(); ++i)
    require_absolute(errors, "volumes.hostPathAllowList[" + std::to_string(i) + "]",
                     c.volumes.host_path_allow_list[i]);
  require_one_of(errors, "logLevel", c.log_level, {"error", "warning", "info", "debug"});
  return errors;
}

LoadedConfig load_config(const LoadOptions& options) {
  LoadedConfig out;
  AgentConfig config;
  const std::string path = options.path.value_or(options.default_path);
  bool missing = false;
  auto text = read_file(path, missing);
  if (text) {
    out.source = path;
    for (base::Error& e : decode_config_text(*text, config)) {
      // Whole-file problems (syntax) name the file.
      if (e.field.empty()) e.message = path + ": " + e.message;
      out.errors.push_back(std::move(e));
    }
  } else if (missing && !options.path) {
    out.source = "embedded defaults";
  } else {
    out.source = path;
    out.errors.push_back(text.error());
  }
  for (const Override& o : options.overrides)
    for (base::Error& e : apply_override(o, config)) out.errors.push_back(std::move(e));
  resolve_defaults(config, host_name());
  for (base::Error& e : validate_config(config)) out.errors.push_back(std::move(e));
  if (out.errors.empty()) out.config = std::move(config);
  return out;
}

}  // namespace podagent::config
