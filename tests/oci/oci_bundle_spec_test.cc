// config.json of sandboxes and containers, and the per-pod files.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

#include "runtime/oci/oci_spec.h"

// Designated initializers name only what a case needs; GCC 12 warns about
// the fields left out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::runtime::oci {
namespace {

namespace json = boost::json;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

model::Pod make_pod() {
  model::Pod pod;
  pod.metadata.name = "web";
  pod.metadata.namespace_ = "shop";
  pod.metadata.uid = "uid-1";
  pod.spec.containers.push_back(model::Container{.name = "app", .command = {"/bin/app"}});
  return pod;
}

json::object sandbox(const model::Pod& pod) {
  auto text = sandbox_spec_json(
      SandboxSpecInput{.pod = &pod, .rootfs = "/pods/uid-1/pause", .hostname = "web-host"});
  EXPECT_TRUE(text.ok());
  return text.ok() ? json::parse(*text).as_object() : json::object{};
}

struct ContainerCase {
  model::Pod pod = make_pod();
  ImageConfig image;
  ContainerSpecInput input;
  model::Container& container() { return pod.spec.containers[0]; }
  json::object spec() {
    input.pod = &pod;
    input.container = &pod.spec.containers[0];
    input.image = &image;
    input.rootfs = "/pods/uid-1/app/rootfs";
    auto text = container_spec_json(input);
    EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().to_string());
    return text.ok() ? json::parse(*text).as_object() : json::object{};
  }
};

std::vector<std::string> namespaces(const json::object& spec) {
  std::vector<std::string> out;
  for (const auto& ns : spec.at("linux").at("namespaces").as_array()) {
    std::string entry(ns.at("type").as_string());
    if (ns.as_object().contains("path")) entry += "=" + std::string(ns.at("path").as_string());
    out.push_back(entry);
  }
  return out;
}

std::vector<std::string> strings(const json::value& v) {
  std::vector<std::string> out;
  for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

// "destination type options..." per mount.
std::vector<std::string> mounts(const json::object& spec) {
  std::vector<std::string> out;
  for (const auto& m : spec.at("mounts").as_array()) {
    std::string line =
        std::string(m.at("destination").as_string()) + " " + std::string(m.at("type").as_string());
    if (m.at("type") == "bind") line += " " + std::string(m.at("source").as_string());
    for (const auto& o : strings(m.at("options"))) line += " " + o;
    out.push_back(line);
  }
  return out;
}

// --- sandbox ----------------------------------------------------------------

TEST(SandboxSpec, RunsPauseReadOnlyWithTheHostname) {
  json::object s = sandbox(make_pod());
  EXPECT_EQ(s.at("ociVersion"), "1.0.2");
  EXPECT_THAT(strings(s.at("process").at("args")), ElementsAre("/pause"));
  EXPECT_EQ(s.at("root"), json::parse(R"({"path":"/pods/uid-1/pause","readonly":true})"));
  EXPECT_EQ(s.at("hostname"), "web-host");
  EXPECT_EQ(s.at("annotations").at("io.kubernetes.pod.uid"), "uid-1");
  EXPECT_FALSE(s.at("process").as_object().contains("rlimits"));
  EXPECT_FALSE(s.at("process").as_object().contains("oomScoreAdj"));
}

TEST(SandboxSpec, NamespacesFollowHostNetworkIpcAndPid) {
  model::Pod pod = make_pod();
  EXPECT_THAT(namespaces(sandbox(pod)), ElementsAre("mount", "network", "ipc", "uts", "pid"));
  pod.spec.share_process_namespace = true;  // the pid namespace is the one containers join
  EXPECT_THAT(namespaces(sandbox(pod)), ElementsAre("mount", "network", "ipc", "uts", "pid"));
  pod.spec.host_network = true;  // UTS goes with the network, as in the kubelet
  json::object s = sandbox(pod);
  EXPECT_THAT(namespaces(s), ElementsAre("mount", "ipc", "pid"));
  EXPECT_FALSE(s.contains("hostname"));
  pod.spec.host_network = false;
  pod.spec.host_ipc = true;
  EXPECT_THAT(namespaces(sandbox(pod)), ElementsAre("mount", "network", "uts", "pid"));
  pod.spec.host_ipc = false;
  pod.spec.host_pid = true;
  EXPECT_THAT(namespaces(sandbox(pod)), ElementsAre("mount", "network", "ipc", "uts"));
}

TEST(SandboxSpec, CarriesSysctlsAndCgroupsPath) {
  model::Pod pod = make_pod();
  pod.spec.security_context = model::PodSecurityContext{.sysctls = {{"net.ipv4.ip_forward", "1"}}};
  auto text = sandbox_spec_json(SandboxSpecInput{
      .pod = &pod, .rootfs = "/r", .hostname = "h", .cgroups_path = "/podagent/p1"});
  ASSERT_TRUE(text.ok());
  json::value s = json::parse(*text);
  EXPECT_EQ(s.at("linux").at("sysctl").at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(s.at("linux").at("cgroupsPath"), "/podagent/p1");
  EXPECT_FALSE(sandbox_spec_json(SandboxSpecInput{.pod = &pod, .rootfs = "relative"}).ok());
}

// --- container --------------------------------------------------------------

TEST(ContainerSpec, JoinsTheSandboxNamespacesByPath) {
  ContainerCase c;
  c.input.namespaces = {
      .network = "/proc/9/ns/net", .ipc = "/proc/9/ns/ipc", .uts = "/proc/9/ns/uts"};
  EXPECT_THAT(namespaces(c.spec()), ElementsAre("mount", "network=/proc/9/ns/net",
                                                "ipc=/proc/9/ns/ipc", "uts=/proc/9/ns/uts", "pid"));
  c.input.namespaces.pid = "/proc/9/ns/pid";  // shareProcessNamespace
  EXPECT_THAT(namespaces(c.spec()),
              ElementsAre("mount", "network=/proc/9/ns/net", "ipc=/proc/9/ns/ipc",
                          "uts=/proc/9/ns/uts", "pid=/proc/9/ns/pid"));
  c.input.namespaces = {.ipc = "/proc/9/ns/ipc"};  // hostNetwork: the node's net and uts
  c.pod.spec.host_pid = true;
  json::object s = c.spec();
  EXPECT_THAT(namespaces(s), ElementsAre("mount", "ipc=/proc/9/ns/ipc"));
  EXPECT_FALSE(s.contains("hostname"));
}

TEST(ContainerSpec, ProcessFromContainerAndImage) {
  ContainerCase c;
  c.image.working_dir = "/srv";
  c.container().tty = true;
  c.container().stdin = true;
  json::object s = c.spec();
  const json::object& p = s.at("process").as_object();
  EXPECT_THAT(strings(p.at("args")), ElementsAre("/bin/app"));
  EXPECT_EQ(p.at("terminal"), true);
  EXPECT_EQ(p.at("cwd"), "/srv");
  EXPECT_EQ(p.at("noNewPrivileges"), false);
  EXPECT_EQ(s.at("annotations").at("io.podagent.stdin"), "true");
  EXPECT_EQ(s.at("annotations").at("io.kubernetes.container.name"), "app");
  EXPECT_FALSE(p.contains("rlimits"));
  EXPECT_FALSE(p.contains("oomScoreAdj"));
  c.container().working_dir = "/work";
  EXPECT_EQ(c.spec().at("process").at("cwd"), "/work");
  c.container().working_dir.clear();
  c.image.working_dir.clear();
  EXPECT_EQ(c.spec().at("process").at("cwd"), "/");
  c.container().command.clear();
  EXPECT_FALSE(container_spec_json(c.input).ok());  // no command specified
}

TEST(ContainerSpec, DefaultMountsThenBindsInDepthOrder) {
  ContainerCase c;
  c.input.mounts = {{"/pods/uid-1/vol/data", "/data/deep", false, ""},
                    {"/pods/uid-1/hosts", "/etc/hosts", true, ""},
                    {"/pods/uid-1/shm", "/dev/shm", false, ""},
                    {"/pods/uid-1/vol/cache", "/cache", false, "rslave"}};
  EXPECT_THAT(
      mounts(c.spec()),
      ElementsAre(
          "/proc proc nosuid noexec nodev", "/dev tmpfs nosuid strictatime mode=755 size=65536k",
          "/dev/pts devpts nosuid noexec newinstance ptmxmode=0666 mode=0620 gid=5",
          "/dev/shm bind /pods/uid-1/shm rbind rprivate rw",  // replaces the default
          "/dev/mqueue mqueue nosuid noexec nodev", "/sys sysfs nosuid noexec nodev ro",
          "/sys/fs/cgroup cgroup nosuid noexec nodev relatime ro",
          "/cache bind /pods/uid-1/vol/cache rbind rslave rw",
          "/data/deep bind /pods/uid-1/vol/data rbind rprivate rw",  // equal depth: input order
          "/etc/hosts bind /pods/uid-1/hosts rbind rprivate ro"));
}

TEST(ContainerSpec, DefaultCapabilitiesMasksAndSecurityContext) {
  ContainerCase c;
  json::object s = c.spec();
  const std::vector<std::string> defaults = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  for (const char* set : {"bounding", "effective", "permitted"})
    EXPECT_EQ(strings(s.at("process").at("capabilities").at(set)), defaults) << set;
  EXPECT_THAT(strings(s.at("linux").at("maskedPaths")), Contains("/proc/kcore"));
  EXPECT_THAT(strings(s.at("linux").at("readonlyPaths")), Contains("/proc/sys"));
  EXPECT_EQ(s.at("root").at("readonly"), false);

  c.container().security_context = model::SecurityContext{
      .capabilities =
          model::Capabilities{.add = {"NET_ADMIN", "CAP_SYS_TIME"}, .drop = {"CHOWN", "kill"}},
      .read_only_root_filesystem = true,
      .allow_privilege_escalation = false};
  s = c.spec();
  std::vector<std::string> caps = strings(s.at("process").at("capabilities").at("effective"));
  EXPECT_THAT(caps, Contains("CAP_NET_ADMIN"));
  EXPECT_THAT(caps, Contains("CAP_SYS_TIME"));
  EXPECT_THAT(caps, Not(Contains("CAP_CHOWN")));
  EXPECT_THAT(caps, Not(Contains("CAP_KILL")));
  EXPECT_EQ(s.at("root").at("readonly"), true);
  EXPECT_EQ(s.at("process").at("noNewPrivileges"), true);

  c.container().security_context = model::SecurityContext{
      .capabilities = model::Capabilities{.add = {"NET_ADMIN"}, .drop = {"ALL"}}};
  EXPECT_THAT(strings(c.spec().at("process").at("capabilities").at("bounding")),
              ElementsAre("CAP_NET_ADMIN"));
}

TEST(ContainerSpec, PrivilegedGetsEverythingAndNoMasks) {
  ContainerCase c;
  c.container().security_context =
      model::SecurityContext{.privileged = true, .allow_privilege_escalation = false};
  json::object s = c.spec();
  EXPECT_EQ(s.at("process").at("capabilities").at("bounding").as_array().size(), 41u);
  EXPECT_FALSE(s.at("linux").as_object().contains("maskedPaths"));
  EXPECT_FALSE(s.at("linux").as_object().contains("readonlyPaths"));
  EXPECT_EQ(s.at("process").at("noNewPrivileges"), false);
  EXPECT_EQ(s.at("linux").at("resources").at("devices"),
            json::parse(R"([{"allow":true,"access":"rwm"}])"));
  c.input.privileged_capabilities = {"CAP_CHOWN", "CAP_KILL"};
  EXPECT_THAT(strings(c.spec().at("process").at("capabilities").at("permitted")),
              ElementsAre("CAP_CHOWN", "CAP_KILL"));
}

TEST(ContainerSpec, ResourcesByTheKubeletsFormulas) {
  ContainerCase c;
  c.input.cgroups_path = "/podagent/pod-uid-1/app";
  json::object s = c.spec();
  EXPECT_EQ(s.at("linux").at("resources"),
            json::parse(R"({"devices":[{"allow":false,"access":"rwm"}],"cpu":{"shares":2}})"));
  EXPECT_EQ(s.at("linux").at("cgroupsPath"), "/podagent/pod-uid-1/app");
  auto& r = c.container().resources;
  r.requests = {{"cpu", *model::Quantity::parse("250m")}};
  r.limits = {{"cpu", *model::Quantity::parse("500m")},
              {"memory", *model::Quantity::parse("64Mi")}};
  EXPECT_EQ(c.spec().at("linux").at("resources"),
            json::parse(R"({"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":67108864},
                            "cpu":{"shares":256,"quota":50000,"period":100000}})"));
  r.requests.clear();  // shares from the limit; a tiny limit gets the minimum quota
  r.limits = {{"cpu", *model::Quantity::parse("1m")}};
  EXPECT_EQ(c.spec().at("linux").at("resources").at("cpu"),
            json::parse(R"({"shares":2,"quota":1000,"period":100000})"));
}

// --- per-pod files ----------------------------------------------------------

TEST(PodFiles, HostsFileAsTheKubeletWritesIt) {
  model::Pod pod = make_pod();
  pod.spec.host_aliases = {{"10.0.0.9", {"db", "db.local"}}, {"10.0.0.10", {"cache"}}};
  EXPECT_EQ(hosts_file(pod, {"10.1.0.5"}),
            "# Kubernetes-managed hosts file.\n"
            "127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\n"
            "fe00::0\tip6-mcastprefix\n"
            "fe00::1\tip6-allnodes\n"
            "fe00::2\tip6-allrouters\n"
            "10.1.0.5\tweb\n"
            "\n# Entries added by HostAliases.\n"
            "10.0.0.9\tdb\tdb.local\n"
            "10.0.0.10\tcache\n");
  pod.spec.host_aliases.clear();
  pod.spec.hostname = "h1";
  pod.spec.subdomain = "sub";
  std::string text = hosts_file(pod, {"10.1.0.5", "fd00::5"});
  EXPECT_TRUE(
      text.ends_with("fe00::2\tip6-allrouters\n"
                     "10.1.0.5\th1.sub.shop.svc.cluster.local\th1\n"
                     "fd00::5\th1.sub.shop.svc.cluster.local\th1\n"))
      << text;
  EXPECT_EQ(host_network_hosts_file(pod, "127.0.0.1 localhost"), "127.0.0.1 localhost\n");
}

TEST(PodFiles, HostnameIsSpecHostnameElseNameCutTo63) {
  model::Pod pod = make_pod();
  EXPECT_EQ(pod_hostname(pod), "web");
  EXPECT_EQ(hostname_file(pod), "web\n");
  pod.spec.hostname = "custom";
  EXPECT_EQ(pod_hostname(pod), "custom");
  pod.spec.hostname.clear();
  pod.metadata.name = std::string(62, 'a') + "-b";
  EXPECT_EQ(pod_hostname(pod), std::string(62, 'a'));  // cut at 63, then the trailing '-' goes
}

constexpr const char* kNodeResolv =
    "# generated\n"
    "nameserver 192.168.1.1\n"
    "search old.example\n"
    "search home.example. corp.example\n"
    "nameserver 192.168.1.2 ; backup\n"
    "options ndots:2\n"
    "options timeout:1\n";

TEST(PodFiles, ResolvConfDefaultAndClusterFirstUseTheNodesFile) {
  model::Pod pod = make_pod();
  const std::string node_form =
      "search home.example corp.example\n"
      "nameserver 192.168.1.1\n"
      "nameserver 192.168.1.2\n"
      "options ndots:2 timeout:1\n";
  for (const char* policy : {"Default", "ClusterFirst", "ClusterFirstWithHostNet", ""}) {
    pod.spec.dns_policy = policy;
    EXPECT_EQ(*resolv_conf_file(pod, kNodeResolv), node_form) << policy;
  }
  pod.spec.host_network = true;
  pod.spec.dns_policy = "ClusterFirst";
  EXPECT_EQ(*resolv_conf_file(pod, kNodeResolv), node_form);
}

TEST(PodFiles, ResolvConfMergesDnsConfigAndNoneUsesOnlyIt) {
  model::Pod pod = make_pod();
  pod.spec.dns_policy = "Default";
  pod.spec.dns_config =
      model::PodDnsConfig{.nameservers = {"192.168.1.2", "10.0.0.53", "10.0.0.54"},
                          .searches = {"corp.example", "pod.example"},
                          .options = {{"ndots", "5"}, {"edns0", std::nullopt}}};
  EXPECT_EQ(*resolv_conf_file(pod, kNodeResolv),
            "search home.example corp.example pod.example\n"
            "nameserver 192.168.1.1\n"
            "nameserver 192.168.1.2\n"
            "nameserver 10.0.0.53\n"  // cut at three
            "options ndots:5 timeout:1 edns0\n");
  pod.spec.dns_policy = "None";
  EXPECT_EQ(*resolv_conf_file(pod, kNodeResolv),
            "search corp.example pod.example\n"
            "nameserver 192.168.1.2\n"
            "nameserver 10.0.0.53\n"
            "nameserver 10.0.0.54\n"
            "options ndots:5 edns0\n");
  pod.spec.dns_config.reset();
  EXPECT_FALSE(resolv_conf_file(pod, kNodeResolv).ok());
  pod.spec.dns_policy = "Bogus";
  EXPECT_FALSE(resolv_conf_file(pod, kNodeResolv).ok());
}

}  // namespace
}  // namespace podagent::runtime::oci
