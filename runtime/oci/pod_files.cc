// The per-pod files a container sees: /etc/hosts, /etc/hostname and
// /etc/resolv.conf, laid out as the kubelet (and containerd, which writes the
// resolv.conf the kubelet computes) lay them out.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/oci/oci_spec.h"

namespace podagent::runtime::oci {

namespace {

constexpr std::string_view kClusterDomain = "cluster.local";
// The kubelet's limits (validation.MaxDNSNameservers, MaxDNSSearchPaths,
// MaxDNSSearchListChars); it cuts what goes beyond them.
constexpr size_t kMaxNameservers = 3;
constexpr size_t kMaxSearches = 32;
constexpr size_t kMaxSearchChars = 2048;

std::string host_aliases(const model::Pod& pod) {
  if (pod.spec.host_aliases.empty()) return {};
  std::string out = "\n# Entries added by HostAliases.\n";
  for (const auto& alias : pod.spec.host_aliases) {
    out += alias.ip;
    for (const auto& name : alias.hostnames) out += "\t" + name;
    out += "\n";
  }
  return out;
}

struct DnsConfig {
  std::vector<std::string> nameservers;
  std::vector<std::string> searches;
  std::vector<std::string> options;  // "name" or "name:value"
};

std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.emplace_back(line.substr(start, i - start));
  }
  return out;
}

// The kubelet's parseResolvConf: comments (# and ;) dropped, the last
// "search" line wins (trailing dots trimmed, "." dropped), options accumulate.
DnsConfig parse_resolv_conf(std::string_view text) {
  DnsConfig dns;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (auto hash = line.find_first_of("#;"); hash != std::string_view::npos)
      line = line.substr(0, hash);
    std::vector<std::string> f = split_fields(line);
    if (f.empty()) continue;
    if (f[0] == "nameserver" && f.size() > 1) {
      dns.nameservers.push_back(f[1]);
    } else if (f[0] == "search") {
      dns.searches.clear();
      for (size_t i = 1; i < f.size(); ++i) {
        if (f[i] == ".") continue;
        if (f[i].ends_with('.')) f[i].pop_back();
        dns.searches.push_back(f[i]);
      }
    } else if (f[0] == "options") {
      dns.options.insert(dns.options.end(), f.begin() + 1, f.end());
    }
  }
  return dns;
}

void append_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const auto& s : from)
    if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
}

std::string_view option_name(std::string_view option) { return option.substr(0, option.find(':')); }

// The kubelet's appendDNSConfig: nameservers and searches appended without
// duplicates; an option of the pod replaces one of the same name. (The
// kubelet goes through a Go map, so its option order is random; here the
// first appearance keeps its place.)
void merge_pod_dns_config(DnsConfig& dns, const model::PodDnsConfig& pod) {
  append_unique(dns.nameservers, pod.nameservers);
  append_unique(dns.searches, pod.searches);
  for (const auto& opt : pod.options) {
    std::string text = opt.name;
    if (opt.value && !opt.value->empty()) text += ":" + *opt.value;
    auto same = std::find_if(dns.options.begin(), dns.options.end(),
                             [&](const std::string& o) { return option_name(o) == opt.name; });
    if (same != dns.options.end())
      *same = text;
    else
      dns.options.push_back(text);
  }
}

void fit_limits(DnsConfig& dns) {
  if (dns.nameservers.size() > kMaxNameservers) dns.nameservers.resize(kMaxNameservers);
  if (dns.searches.size() > kMaxSearches) dns.searches.resize(kMaxSearches);
  auto line_length = [&] {
    size_t n = 0;
    for (const auto& s : dns.searches) n += s.size() + 1;
    return n == 0 ? 0 : n - 1;
  };
  while (!dns.searches.empty() && line_length() > kMaxSearchChars) dns.searches.pop_back();
}

std::string format_resolv_conf(const DnsConfig& dns) {
  std::string out;
  if (!dns.searches.empty()) {
    out += "search";
    for (const auto& s : dns.searches) out += " " + s;
    out += "\n";
  }
  for (const auto& ns : dns.nameservers) out += "nameserver " + ns + "\n";
  if (!dns.options.empty()) {
    out += "options";
    for (const auto& o : dns.options) out += " " + o;
    out += "\n";
  }
  return out;
}

}  // namespace

std::string pod_hostname(const model::Pod& pod) {
  std::string name = pod.spec.hostname.empty() ? pod.metadata.name : pod.spec.hostname;
  // The kubelet's truncatePodHostnameIfNeeded: 63 characters, then no
  // trailing '-' or '.'.
  if (name.size() > 63) {
    name.resize(63);
    while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  }
  return name;
}

std::string hosts_file(const model::Pod& pod, const std::vector<std::string>& pod_ips) {
  std::string out =
      "# Kubernetes-managed hosts file.\n"
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  std::string hostname = pod_hostname(pod);
  for (const auto& ip : pod_ips) {
    if (pod.spec.subdomain.empty()) {
      out += ip + "\t" + hostname + "\n";
    } else {
      out += ip + "\t" + hostname + "." + pod.spec.subdomain + "." + pod.metadata.namespace_ +
             ".svc." + std::string(kClusterDomain) + "\t" + hostname + "\n";
    }
  }
  return out + host_aliases(pod);
}

std::string host_network_hosts_file(const model::Pod& pod, std::string_view node_hosts) {
  std::string out(node_hosts);
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out + host_aliases(pod);
}

std::string hostname_file(const model::Pod& pod) { return pod_hostname(pod) + "\n"; }

base::Result<std::string> resolv_conf_file(const model::Pod& pod,
                                           std::string_view node_resolv_conf) {
  const std::string& policy = pod.spec.dns_policy;
  DnsConfig dns;
  if (policy == "None") {
    if (!pod.spec.dns_config)
      return base::Error("dnsPolicy None requires dnsConfig", "spec.dnsConfig");
  } else if (policy.empty() || policy == "Default" || policy == "ClusterFirst" ||
             policy == "ClusterFirstWithHostNet") {
    // ClusterFirst (hostNetwork or not) and ClusterFirstWithHostNet would
    // point the pod at the cluster's DNS service. This node has no cluster
    // DNS, so, as the kubelet does when no --cluster-dns is configured, they
    // fall back to Default: the node's own resolv.conf.
    dns = parse_resolv_conf(node_resolv_conf);
  } else {
    return base::Error("unsupported dnsPolicy \"" + policy + "\"", "spec.dnsPolicy");
  }
  if (pod.spec.dns_config) merge_pod_dns_config(dns, *pod.spec.dns_config);
  fit_limits(dns);
  return format_resolv_conf(dns);
}

}  // namespace podagent::runtime::oci
