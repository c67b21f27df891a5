// Decoding and encoding of AgentConfig: the model::Node tree (from
// model::parse_documents) walked field by field against a fixed schema.
// Unknown fields are errors: a config is ours, and a typo must not pass
// silently as it would in a Pod manifest.

#include <charconv>
#include <functional>
#include <initializer_list>
#include <utility>

#include "config/agent_config.h"
#include "model/document.h"

namespace podagent::config {
namespace {

using model::Node;

std::string_view kind_name(Node::Kind kind) {
  switch (kind) {
    case Node::Kind::Null:
      return "null";
    case Node::Kind::Bool:
      return "boolean";
    case Node::Kind::Int:
      return "integer";
    case Node::Kind::Float:
      return "number";
    case Node::Kind::String:
      return "string";
    case Node::Kind::Sequence:
      return "list";
    case Node::Kind::Map:
      return "map";
  }
  return "value";
}

std::string quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// Reads one node into one typed field, recording what is wrong with it.
// A null node never reaches these: null means "keep the default".
class Walker {
 public:
  using Handler = std::function<void(const Node&, const std::string&)>;
  struct Field {
    std::string_view key;
    Handler handler;
  };

  explicit Walker(ConfigErrors& errors) : errors_(errors) {}

  void error(const std::string& path, std::string message) {
    errors_.emplace_back(std::move(message), path);
  }

  // Every key of the map `node` must be one of `fields`.
  void fields(const Node& node, const std::string& path, std::initializer_list<Field> fields) {
    if (!expect(node, path, Node::Kind::Map)) return;
    for (const auto& [key, value] : node.entries) {
      const Field* field = nullptr;
      for (const Field& f : fields)
        if (f.key == key) field = &f;
      if (field == nullptr) {
        error(join(path, key), "unknown field");
      } else if (!value.is_null()) {
        field->handler(value, join(path, key));
      }
    }
  }

  Handler string(std::string& out) {
    return [this, &out](const Node& n, const std::string& path) {
      // Any scalar is text: "socketGroup: 100" is the group named "100".
      if (!n.is_scalar()) return type_error(n, path, "string");
      out = n.text;
    };
  }

  Handler boolean(bool& out) {
    return [this, &out](const Node& n, const std::string& path) {
      if (n.kind != Node::Kind::Bool) return type_error(n, path, "boolean");
      out = n.text == "true";
    };
  }

  Handler integer(int64_t& out) {
    return [this, &out](const Node& n, const std::string& path) {
      if (n.kind != Node::Kind::Int) return type_error(n, path, "integer");
      int64_t value = 0;
      const char* end = n.text.data() + n.text.size();
      auto [ptr, ec] =
          std::from_chars(n.text.data() + (n.text.starts_with('+') ? 1 : 0), end, value);
      if (ec != std::errc() || ptr != end)
        return error(path, "Invalid value: " + n.text + ": not a decimal integer in range");
      out = value;
    };
  }

  Handler duration(Duration& out) {
    return [this, &out](const Node& n, const std::string& path) {
      if (!n.is_scalar()) return type_error(n, path, "duration string (\"10s\", \"1h30m\")");
      auto d = base::parse_duration(n.text);
      if (!d) return error(path, "Invalid value: " + quoted(n.text) + ": " + d.error().message);
      out = *d;
    };
  }

  Handler quantity(std::optional<model::Quantity>& out) {
    return [this, &out](const Node& n, const std::string& path) {
      if (!n.is_scalar() || n.kind == Node::Kind::Bool)
        return type_error(n, path, "quantity (\"500m\", \"2Gi\")");
      auto q = model::Quantity::parse(n.text);
      if (!q) return error(path, "Invalid value: " + quoted(n.text) + ": " + q.error().message);
      out = *q;
    };
  }

  // A file mode, always read as octal as chmod(1) reads it: "0660", 0660,
  // "660" and "0o660" are all rw-rw----. (YAML 1.2 would read a plain 0660
  // as decimal 660, which is never what is meant.)
  Handler file_mode(uint32_t& out) {
    return [this, &out](const Node& n, const std::string& path) {
      if (n.kind != Node::Kind::Int && n.kind != Node::Kind::String)
        return type_error(n, path, "octal file mode (\"0660\")");
      std::string_view text = n.text;
      if (text.starts_with("0o")) text.remove_prefix(2);
      uint32_t mode = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), mode, 8);
      if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || mode > 07777)
        return error(
            path, "Invalid value: " + quoted(n.text) + ": must be an octal mode from 0 to 07777");
      out = mode;
    };
  }

  Handler string_list(std::vector<std::string>& out) {
    return [this, &out](const Node& n, const std::string& path) {
      if (!expect(n, path, Node::Kind::Sequence)) return;
      std::vector<std::string> items;
      for (size_t i = 0; i < n.items.size(); ++i) {
        const Node& item = n.items[i];
        if (!item.is_scalar()) type_error(item, path + "[" + std::to_string(i) + "]", "string");
        items.push_back(item.text);
      }
      out = std::move(items);
    };
  }

  // Entries are merged into `out`: given keys are added or replaced.
  Handler string_map(std::map<std::string, std::string>& out) {
    return [this, &out](const Node& n, const std::string& path) {
      if (!expect(n, path, Node::Kind::Map)) return;
      for (const auto& [key, value] : n.entries) {
        if (!value.is_scalar()) type_error(value, join(path, key), "string");
        out[key] = value.text;
      }
    };
  }

 private:
  bool expect(const Node& n, const std::string& path, Node::Kind kind) {
    if (n.kind == kind) return true;
    type_error(n, path, kind_name(kind));
    return false;
  }

  void type_error(const Node& n, const std::string& path, std::string_view expected) {
    error(path, "Invalid type: expected " + std::string(expected) + ", got " +
                    std::string(kind_name(n.kind)));
  }

  ConfigErrors& errors_;
};

void decode_api(Walker& w, const Node& n, const std::string& path, ApiConfig& api) {
  TcpListenerConfig& tcp = api.tcp;
  w.fields(n, path,
           {{"socket", w.string(api.socket)},
            {"socketMode", w.file_mode(api.socket_mode)},
            {"socketGroup", w.string(api.socket_group)},
            {"tcp", [&](const Node& t, const std::string& p) {
               w.fields(t, p,
                        {{"enabled", w.boolean(tcp.enabled)},
                         {"address", w.string(tcp.address)},
                         {"tlsCertFile", w.string(tcp.tls_cert_file)},
                         {"tlsKeyFile", w.string(tcp.tls_key_file)},
                         {"clientCAFile", w.string(tcp.client_ca_file)},
                         {"tokensFile", w.string(tcp.tokens_file)}});
             }}});
}

void decode_runtime(Walker& w, const Node& n, const std::string& path, RuntimeConfig& rt) {
  w.fields(n, path,
           {{"backend", w.string(rt.backend)},
            {"ociRuntime", w.string(rt.oci_runtime)},
            {"runtimeHandlers", w.string_map(rt.runtime_handlers)},
            {"relistPeriod", w.duration(rt.relist_period)},
            {"containerLogMaxSize", w.quantity(rt.container_log_max_size)},
            {"containerLogMaxFiles", w.integer(rt.container_log_max_files)},
            {"pauseBinary", w.string(rt.pause_binary)},
            {"monitorBinary", w.string(rt.monitor_binary)},
            // The older name, from when conmon was the only monitor.
            {"conmonPath", w.string(rt.monitor_binary)}});
}

Walker::Handler resources(Walker& w, ResourceConfig& r) {
  return [&w, &r](const Node& n, const std::string& path) {
    w.fields(n, path, {{"cpu", w.quantity(r.cpu)}, {"memory", w.quantity(r.memory)}});
  };
}

Node quantity_node(const std::optional<model::Quantity>& q) {
  return q ? Node::string(q->text()) : Node::null();
}

Node resources_node(const ResourceConfig& r) {
  Node n = Node::map();
  n.set("cpu", quantity_node(r.cpu));
  n.set("memory", quantity_node(r.memory));
  return n;
}

Node duration_node(Duration d) { return Node::string(base::format_duration_short(d)); }

}  // namespace

ConfigErrors decode_config(const Node& document, AgentConfig& c) {
  ConfigErrors errors;
  if (document.is_null()) return errors;  // an empty file: all defaults
  Walker w(errors);
  std::string api_version(kConfigApiVersion), kind(kConfigKind);
  BackoffConfig& backoff = c.crash_loop_back_off;
  CniConfig& cni = c.cni;
  w.fields(document, "",
           {{"apiVersion", w.string(api_version)},
            {"kind", w.string(kind)},
            {"nodeName", w.string(c.node_name)},
            {"manifestDir", w.string(c.manifest_dir)},
            {"stateDir", w.string(c.state_dir)},
            {"podLogsDir", w.string(c.pod_logs_dir)},
            {"podLogsRetention", w.duration(c.pod_logs_retention)},
            {"api", [&](const Node& n, const std::string& p) { decode_api(w, n, p, c.api); }},
            {"runtime",
             [&](const Node& n, const std::string& p) { decode_runtime(w, n, p, c.runtime); }},
            {"crashLoopBackOff",
             [&](const Node& n, const std::string& p) {
               w.fields(n, p,
                        {{"initial", w.duration(backoff.initial)},
                         {"max", w.duration(backoff.max)},
                         {"reset", w.duration(backoff.reset)}});
             }},
            {"manifestRelistPeriod", w.duration(c.manifest_relist_period)},
            {"nodeAllocatable", resources(w, c.node_allocatable)},
            {"systemReserved", resources(w, c.system_reserved)},
            {"maxPods", w.integer(c.max_pods)},
            {"cni",
             [&](const Node& n, const std::string& p) {
               w.fields(n, p,
                        {{"confDir", w.string(cni.conf_dir)},
                         {"binDirs", w.string_list(cni.bin_dirs)},
                         {"cacheDir", w.string(cni.cache_dir)}});
             }},
            {"cgroups",
             [&](const Node& n, const std::string& p) {
               w.fields(n, p,
                        {{"root", w.string(c.cgroups.root)},
                         {"podPidsLimit", w.integer(c.cgroups.pod_pids_limit)}});
             }},
            {"volumes",
             [&](const Node& n, const std::string& p) {
               w.fields(n, p,
                        {{"hostPathAllowList", w.string_list(c.volumes.host_path_allow_list)}});
             }},
            {"logLevel", w.string(c.log_level)}});
  if (api_version != kConfigApiVersion)
    w.error("apiVersion", "Unsupported value: " + quoted(api_version) +
                              ": supported values: " + quoted(kConfigApiVersion));
  if (kind != kConfigKind)
    w.error("kind",
            "Unsupported value: " + quoted(kind) + ": supported values: " + quoted(kConfigKind));
  return errors;
}

ConfigErrors decode_config_text(std::string_view text, AgentConfig& config) {
  auto documents = model::parse_documents(text);
  if (!documents) return {base::Error(documents.error().to_string())};
  if (documents->size() > 1)
    return {base::Error("a config file holds one YAML document, found " +
                        std::to_string(documents->size()))};
  if (documents->empty()) return {};
  return decode_config(documents->front(), config);
}

Node encode_config(const AgentConfig& c) {
  // Built bottom-up: a reference returned by Node::set dangles after the next
  // set on the same map.
  Node tcp = Node::map();
  tcp.set("enabled", Node::boolean(c.api.tcp.enabled));
  tcp.set("address", Node::string(c.api.tcp.address));
  tcp.set("tlsCertFile", Node::string(c.api.tcp.tls_cert_file));
  tcp.set("tlsKeyFile", Node::string(c.api.tcp.tls_key_file));
  tcp.set("clientCAFile", Node::string(c.api.tcp.client_ca_file));
  tcp.set("tokensFile", Node::string(c.api.tcp.tokens_file));
  Node api = Node::map();
  api.set("socket", Node::string(c.api.socket));
  char mode[8] = {'0'};
  char* mode_end = std::to_chars(mode + 1, mode + sizeof mode, c.api.socket_mode, 8).ptr;
  api.set("socketMode", Node::string(std::string(mode, mode_end)));
  api.set("socketGroup", Node::string(c.api.socket_group));
  api.set("tcp", std::move(tcp));

  Node handlers = Node::map();
  for (const auto& [name, path] : c.runtime.runtime_handlers)
    handlers.set(name, Node::string(path));
  Node rt = Node::map();
  rt.set("backend", Node::string(c.runtime.backend));
  rt.set("ociRuntime", Node::string(c.runtime.oci_runtime));
  rt.set("runtimeHandlers", std::move(handlers));
  rt.set("relistPeriod", duration_node(c.runtime.relist_period));
  rt.set("containerLogMaxSize", quantity_node(c.runtime.container_log_max_size));
  rt.set("containerLogMaxFiles", Node::integer(c.runtime.container_log_max_files));
  rt.set("pauseBinary", Node::string(c.runtime.pause_binary));
  rt.set("monitorBinary", Node::string(c.runtime.monitor_binary));

  Node backoff = Node::map();
  backoff.set("initial", duration_node(c.crash_loop_back_off.initial));
  backoff.set("max", duration_node(c.crash_loop_back_off.max));
  backoff.set("reset", duration_node(c.crash_loop_back_off.reset));

  Node bin_dirs = Node::sequence();
  for (const auto& dir : c.cni.bin_dirs) bin_dirs.push(Node::string(dir));
  Node cni = Node::map();
  cni.set("confDir", Node::string(c.cni.conf_dir));
  cni.set("binDirs", std::move(bin_dirs));
  cni.set("cacheDir", Node::string(c.cni.cache_dir));

  Node cgroups = Node::map();
  cgroups.set("root", Node::string(c.cgroups.root));
  cgroups.set("podPidsLimit", Node::integer(c.cgroups.pod_pids_limit));

  Node allow = Node::sequence();
  for (const auto& prefix : c.volumes.host_path_allow_list) allow.push(Node::string(prefix));
  Node volumes = Node::map();
  volumes.set("hostPathAllowList", std::move(allow));

  Node root = Node::map();
  root.set("apiVersion", Node::string(std::string(kConfigApiVersion)));
  root.set("kind", Node::string(std::string(kConfigKind)));
  root.set("nodeName", Node::string(c.node_name));
  root.set("manifestDir", Node::string(c.manifest_dir));
  root.set("stateDir", Node::string(c.state_dir));
  root.set("podLogsDir", Node::string(c.pod_logs_dir));
  root.set("podLogsRetention", duration_node(c.pod_logs_retention));
  root.set("api", std::move(api));
  root.set("runtime", std::move(rt));
  root.set("crashLoopBackOff", std::move(backoff));
  root.set("manifestRelistPeriod", duration_node(c.manifest_relist_period));
  root.set("nodeAllocatable", resources_node(c.node_allocatable));
  root.set("systemReserved", resources_node(c.system_reserved));
  root.set("maxPods", Node::integer(c.max_pods));
  root.set("cni", std::move(cni));
  root.set("cgroups", std::move(cgroups));
  root.set("volumes", std::move(volumes));
  root.set("logLevel", Node::string(c.log_level));
  return root;
}

std::string render_config_yaml(const AgentConfig& config) {
  return model::to_yaml(encode_config(config));
}

}  // namespace podagent::config
