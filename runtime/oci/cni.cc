// CNI: network lists, plugin inputs and results (pure), and the plugin calls.

#include "runtime/oci/cni.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "runtime/oci/oci_state.h"
#include "runtime/oci/process.h"

namespace podagent::runtime::oci {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::optional<json::object> parse_object(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

std::string string_at(const json::object& o, std::string_view key) {
  if (auto it = o.find(key); it != o.end() && it->value().is_string())
    return std::string(it->value().as_string());
  return {};
}

bool is_conf_file(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".conflist" || ext == ".conf" || ext == ".json";
}

json::array port_mappings_json(const std::vector<CniPortMapping>& mappings) {
  json::array out;
  for (const auto& m : mappings) {
    json::object o{
        {"hostPort", m.host_port}, {"containerPort", m.container_port}, {"protocol", m.protocol}};
    if (!m.host_ip.empty()) o["hostIP"] = m.host_ip;
    out.push_back(std::move(o));
  }
  return out;
}

std::string strip_prefix(std::string_view address) {
  return std::string(address.substr(0, address.find('/')));
}

}  // namespace

base::Result<CniNetwork> parse_cni_network(std::string_view text, bool single_plugin) {
  auto o = parse_object(text);
  if (!o) return base::Error("not a JSON object");
  CniNetwork net;
  net.name = string_at(*o, "name");
  net.cni_version = string_at(*o, "cniVersion");
  if (net.name.empty()) return base::Error("no network name", "name");
  if (single_plugin) {
    if (string_at(*o, "type").empty()) return base::Error("no plugin type", "type");
    net.plugins.push_back(json::serialize(*o));
    return net;
  }
  auto plugins = o->find("plugins");
  if (plugins == o->end() || !plugins->value().is_array() || plugins->value().as_array().empty())
    return base::Error("no plugins", "plugins");
  const json::array& list = plugins->value().as_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = "plugins[" + std::to_string(i) + "]";
    if (!list[i].is_object()) return base::Error("not a JSON object", field);
    if (string_at(list[i].as_object(), "type").empty())
      return base::Error("no plugin type", field + ".type");
    net.plugins.push_back(json::serialize(list[i]));
  }
  return net;
}

base::Result<std::optional<CniNetwork>> load_cni_network(const fs::path& conf_dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(conf_dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && is_conf_file(it->path())) files.push_back(it->path());
  if (files.empty()) return std::optional<CniNetwork>();
  std::sort(files.begin(), files.end());
  const fs::path& file = files.front();
  auto text = read_file_head(file, 1 << 20);
  if (!text)
    return base::Error("reading the CNI network " + file.string() + ": " +
                       text.error().to_string());
  auto net = parse_cni_network(*text, file.extension() != ".conflist");
  if (!net) return base::Error("the CNI network " + file.string() + ": " + net.error().to_string());
  net->source = file.string();
  return std::optional<CniNetwork>(std::move(*net));
}

std::string cni_plugin_input(const CniNetwork& network, size_t index,
                             const CniAttachment& attachment,
                             const std::optional<std::string>& prev_result) {
  json::object o = parse_object(network.plugins.at(index)).value_or(json::object());
  o["name"] = network.name;
  o["cniVersion"] = network.cni_version;
  if (prev_result && !prev_result->empty()) {
    if (auto prev = parse_object(*prev_result)) o["prevResult"] = std::move(*prev);
  }
  // Only the capabilities the plugin declares reach it (CNI conventions).
  json::object runtime_config;
  if (auto caps = o.find("capabilities"); caps != o.end() && caps->value().is_object()) {
    const json::object& c = caps->value().as_object();
    if (auto pm = c.find("portMappings"); pm != c.end() && pm->value() == json::value(true))
      runtime_config["portMappings"] = port_mappings_json(attachment.port_mappings);
  }
  if (!runtime_config.empty()) o["runtimeConfig"] = std::move(runtime_config);
  return json::serialize(o);
}

std::vector<std::string> cni_plugin_env(std::string_view command, const CniAttachment& a,
                                        const std::vector<fs::path>& bin_dirs) {
  std::string path;
  for (const auto& dir : bin_dirs) path += (path.empty() ? "" : ":") + dir.string();
  // IgnoreUnknown: plugins that know none of the K8S_ arguments accept them.
  const std::string args =
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + a.pod_namespace + ";K8S_POD_NAME=" + a.pod_name +
      ";K8S_POD_INFRA_CONTAINER_ID=" + a.container_id + ";K8S_POD_UID=" + a.pod_uid;
  return {"CNI_COMMAND=" + std::string(command),
          "CNI_CONTAINERID=" + a.container_id,
          "CNI_NETNS=" + a.netns,
          "CNI_IFNAME=" + a.ifname,
          "CNI_PATH=" + path,
          "CNI_ARGS=" + args};
}

base::Result<std::vector<std::string>> cni_result_ips(std::string_view result) {
  auto o = parse_object(result);
  if (!o) return base::Error("the CNI result is not a JSON object");
  std::vector<std::string> out;
  // 0.2.0: ip4 and ip6 objects.
  for (const char* key : {"ip4", "ip6"}) {
    if (auto it = o->find(key); it != o->end() && it->value().is_object()) {
      std::string ip = string_at(it->value().as_object(), "ip");
      if (!ip.empty()) out.push_back(strip_prefix(ip));
    }
  }
  // 0.3.0 and later: ips, each maybe naming its interface by index; the
  // container's own interfaces are those with a "sandbox".
  std::set<int64_t> in_sandbox;
  bool interfaces_known = false;
  if (auto it = o->find("interfaces"); it != o->end() && it->value().is_array()) {
    const json::array& ifs = it->value().as_array();
    for (size_t i = 0; i < ifs.size(); ++i) {
      if (!ifs[i].is_object()) continue;
      interfaces_known = true;
      if (!string_at(ifs[i].as_object(), "sandbox").empty())
        in_sandbox.insert(static_cast<int64_t>(i));
    }
  }
  if (auto it = o->find("ips"); it != o->end() && it->value().is_array()) {
    for (const json::value& v : it->value().as_array()) {
      if (!v.is_object()) continue;
      const json::object& ip = v.as_object();
      const std::string address = string_at(ip, "address");
      if (address.empty()) continue;
      auto iface = ip.find("interface");
      if (interfaces_known && iface != ip.end() && iface->value().is_int64() &&
          in_sandbox.count(iface->value().as_int64()) == 0)
        continue;
      out.push_back(strip_prefix(address));
    }
  }
  return out;
}

base::Error cni_plugin_error(std::string_view type, std::string_view command, int exit_code,
                             bool timed_out, std::string_view stdout_text,
                             std::string_view stderr_text) {
  std::string what = "CNI plugin " + std::string(type) + " " + std::string(command) + ": ";
  if (timed_out) return base::Error(what + "timed out");
  if (auto o = parse_object(stdout_text)) {
    std::string msg = string_at(*o, "msg");
    const std::string details = string_at(*o, "details");
    if (!msg.empty() || !details.empty()) {
      if (!details.empty()) msg += (msg.empty() ? "" : ": ") + details;
      return base::Error(what + msg);
    }
  }
  std::string out = trim(std::string(stderr_text.empty() ? stdout_text : stderr_text));
  return base::Error(what + "exit status " + std::to_string(exit_code) +
                     (out.empty() ? "" : ": " + out));
}

std::string cni_plugin_type(std::string_view plugin_config) {
  auto o = parse_object(plugin_config);
  return o ? string_at(*o, "type") : std::string();
}

base::Result<fs::path> find_cni_plugin(std::string_view type,
                                       const std::vector<fs::path>& bin_dirs) {
  std::string where;
  if (type.empty() || type.find('/') != std::string_view::npos)
    return base::Error("invalid CNI plugin type \"" + std::string(type) + "\"");
  for (const auto& dir : bin_dirs) {
    const fs::path candidate = dir / std::string(type);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    where += (where.empty() ? "" : ", ") + dir.string();
  }
  return base::Error("CNI plugin " + std::string(type) + " not found in " +
                     (where.empty() ? std::string("no directory (cni.binDirs is empty)") : where));
}

std::string encode_cni_state(const CniState& s) {
  json::array plugins;
  for (const auto& p : s.network.plugins) plugins.push_back(json::string(p));
  json::array bin_dirs;
  for (const auto& d : s.bin_dirs) bin_dirs.push_back(json::string(d));
  const CniAttachment& a = s.attachment;
  json::object o{
      {"network", json::object{{"name", s.network.name},
                               {"cniVersion", s.network.cni_version},
                               {"plugins", std::move(plugins)},
                               {"source", s.network.source}}},
      {"attachment", json::object{{"containerId", a.container_id},
                                  {"netns", a.netns},
                                  {"ifname", a.ifname},
                                  {"podNamespace", a.pod_namespace},
                                  {"podName", a.pod_name},
                                  {"podUid", a.pod_uid},
                                  {"portMappings", port_mappings_json(a.port_mappings)}}},
      {"binDirs", std::move(bin_dirs)},
      {"result", s.result}};
  return json::serialize(o);
}

namespace {

base::Result<std::vector<CniPortMapping>> decode_port_mappings(const json::object& a) {
  std::vector<CniPortMapping> out;
  auto it = a.find("portMappings");
  if (it == a.end()) return out;
  if (!it->value().is_array()) return base::Error("not a list", "attachment.portMappings");
  for (const json::value& v : it->value().as_array()) {
    if (!v.is_object()) return base::Error("not an object", "attachment.portMappings");
    const json::object& m = v.as_object();
    CniPortMapping pm;
    if (auto h = m.find("hostPort"); h != m.end() && h->value().is_int64())
      pm.host_port = static_cast<int32_t>(h->value().as_int64());
    if (auto c = m.find("containerPort"); c != m.end() && c->value().is_int64())
      pm.container_port = static_cast<int32_t>(c->value().as_int64());
    pm.protocol = string_at(m, "protocol");
    pm.host_ip = string_at(m, "hostIP");
    out.push_back(std::move(pm));
  }
  return out;
}

}  // namespace

base::Result<CniState> decode_cni_state(std::string_view text) {
  auto o = parse_object(text);
  if (!o) return base::Error("the CNI state is not a JSON object");
  auto net = o->find("network");
  auto att = o->find("attachment");
  if (net == o->end() || !net->value().is_object()) return base::Error("missing", "network");
  if (att == o->end() || !att->value().is_object()) return base::Error("missing", "attachment");
  CniState s;
  const json::object& n = net->value().as_object();
  s.network.name = string_at(n, "name");
  s.network.cni_version = string_at(n, "cniVersion");
  s.network.source = string_at(n, "source");
  if (auto p = n.find("plugins"); p != n.end() && p->value().is_array()) {
    for (const json::value& v : p->value().as_array())
      if (v.is_string()) s.network.plugins.emplace_back(v.as_string());
  }
  if (s.network.plugins.empty()) return base::Error("no plugins", "network.plugins");
  const json::object& a = att->value().as_object();
  s.attachment.container_id = string_at(a, "containerId");
  s.attachment.netns = string_at(a, "netns");
  s.attachment.ifname = string_at(a, "ifname");
  s.attachment.pod_namespace = string_at(a, "podNamespace");
  s.attachment.pod_name = string_at(a, "podName");
  s.attachment.pod_uid = string_at(a, "podUid");
  auto mappings = decode_port_mappings(a);
  if (!mappings) return mappings.error();
  s.attachment.port_mappings = std::move(*mappings);
  if (auto d = o->find("binDirs"); d != o->end() && d->value().is_array()) {
    for (const json::value& v : d->value().as_array())
      if (v.is_string()) s.bin_dirs.emplace_back(v.as_string());
  }
  s.result = string_at(*o, "result");
  return s;
}

namespace {

Task<base::Result<std::string>> call_plugin(boost::asio::any_io_executor executor,
                                            const CniOptions& options, std::string command,
                                            const CniNetwork& network, size_t index,
                                            const CniAttachment& attachment,
                                            std::optional<std::string> prev_result) {
  const std::string type = cni_plugin_type(network.plugins[index]);
  auto binary = find_cni_plugin(type, options.bin_dirs);
  if (!binary) co_return binary.error();
  // The configuration goes in on stdin, through a pipe.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) co_return base::Error("pipe for CNI plugin " + type);
  base::UniqueFd read_end(fds[0]);
  base::UniqueFd write_end(fds[1]);
  const std::string input = cni_plugin_input(network, index, attachment, prev_result);
  // Plugin configurations are small (well under the pipe's 64 KiB), so the
  // whole text fits before the child reads it.
  if (input.size() >= 60 * 1024) co_return base::Error("CNI plugin " + type + ": config too large");
  if (::write(write_end.get(), input.data(), input.size()) != static_cast<ssize_t>(input.size()))
    co_return base::Error("writing the config of CNI plugin " + type);
  write_end = base::UniqueFd();
  ProcessSpec spec;
  spec.argv = {binary->string()};
  spec.env = cni_plugin_env(command, attachment, options.bin_dirs);
  spec.stdin_fd = std::move(read_end);
  spec.timeout = options.timeout;
  base::Result<ProcessResult> r = co_await run_process(executor, std::move(spec));
  if (!r)
    co_return base::Error("CNI plugin " + type + " " + command + ": " + r.error().to_string());
  if (!r->ok())
    co_return cni_plugin_error(type, command, r->exit_code, r->timed_out, r->stdout_text,
                               r->stderr_text);
  co_return std::move(r->stdout_text);
}

}  // namespace

Task<base::Result<std::string>> cni_add(boost::asio::any_io_executor executor,
                                        const CniOptions& options, const CniNetwork& network,
                                        const CniAttachment& attachment) {
  std::optional<std::string> prev;
  for (size_t i = 0; i < network.plugins.size(); ++i) {
    base::Result<std::string> out =
        co_await call_plugin(executor, options, "ADD", network, i, attachment, prev);
    if (!out) co_return out.error();
    prev = std::move(*out);
  }
  co_return prev.value_or(std::string());
}

Task<base::Status> cni_del(boost::asio::any_io_executor executor, const CniOptions& options,
                           const CniNetwork& network, const CniAttachment& attachment,
                           const std::string& prev_result) {
  std::optional<base::Error> first;
  std::optional<std::string> prev;
  if (!prev_result.empty()) prev = prev_result;
  for (size_t i = network.plugins.size(); i-- > 0;) {
    base::Result<std::string> out =
        co_await call_plugin(executor, options, "DEL", network, i, attachment, prev);
    if (!out && !first) first = out.error();
  }
  if (first) co_return *first;
  co_return base::Status::Ok();
}

}  // namespace podagent::runtime::oci
