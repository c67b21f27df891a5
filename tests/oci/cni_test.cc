// CNI: network lists, plugin inputs, results and errors, and the plugin
// calls against fake plugins (shell scripts) in a temp bin dir. No root.

#include "runtime/oci/cni.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <fstream>
#include <optional>
#include <sstream>
#include "tests/oci/image_test_util.h"

namespace podagent::runtime::oci {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace json = boost::json;

using image_testing::TempDir;

void write(const fs::path& p, const std::string& text, bool executable = false) {
  std::ofstream(p) << text;
  if (executable) ::chmod(p.c_str(), 0755);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json::object object_of(const std::string& text) { return json::parse(text).as_object(); }

constexpr const char* kList = R"({
  "cniVersion": "1.0.0", "name": "testnet",
  "plugins": [
    {"type": "bridge", "bridge": "br9", "ipam": {"type": "host-local"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]})";

// A 1.0 result: a host-side veth (no sandbox), the container's eth0, and
// one address on each.
constexpr const char* kResult = R"({"cniVersion":"1.0.0",
  "interfaces":[{"name":"br9"},{"name":"veth1"},{"name":"eth0","sandbox":"/run/netns/x"}],
  "ips":[{"address":"10.9.0.1/24","interface":0},{"address":"10.9.0.7/24","interface":2},
         {"address":"fd00::7/64","interface":2}]})";

CniAttachment attachment() {
  CniAttachment a;
  a.container_id = "abc123";
  a.netns = "/proc/42/ns/net";
  a.pod_namespace = "default";
  a.pod_name = "web";
  a.pod_uid = "uid-1";
  a.port_mappings = {{8080, 80, "tcp", ""}, {5353, 53, "udp", "127.0.0.1"}};
  return a;
}

TEST(CniNetwork, ParsesAListWithEveryPlugin) {
  auto net = parse_cni_network(kList, false);
  ASSERT_TRUE(net.ok()) << net.error().to_string();
  EXPECT_EQ(net->name, "testnet");
  EXPECT_EQ(net->cni_version, "1.0.0");
  ASSERT_EQ(net->plugins.size(), 2u);
  EXPECT_EQ(cni_plugin_type(net->plugins[0]), "bridge");
  EXPECT_EQ(cni_plugin_type(net->plugins[1]), "portmap");
  EXPECT_EQ(object_of(net->plugins[0]).at("bridge").as_string(), "br9");
}

TEST(CniNetwork, ASingleConfIsAListOfOne) {
  auto net = parse_cni_network(R"({"cniVersion":"0.4.0","name":"one","type":"ptp"})", true);
  ASSERT_TRUE(net.ok()) << net.error().to_string();
  EXPECT_EQ(net->name, "one");
  ASSERT_EQ(net->plugins.size(), 1u);
  EXPECT_EQ(cni_plugin_type(net->plugins[0]), "ptp");
}

TEST(CniNetwork, ErrorsNameTheField) {
  auto no_type = parse_cni_network(R"({"name":"n","plugins":[{"type":"a"},{"x":1}]})", false);
  ASSERT_FALSE(no_type.ok());
  EXPECT_EQ(no_type.error().field, "plugins[1].type");
  auto no_name = parse_cni_network(R"({"plugins":[{"type":"a"}]})", false);
  ASSERT_FALSE(no_name.ok());
  EXPECT_EQ(no_name.error().field, "name");
  auto no_plugins = parse_cni_network(R"({"name":"n","plugins":[]})", false);
  ASSERT_FALSE(no_plugins.ok());
  EXPECT_EQ(no_plugins.error().field, "plugins");
  EXPECT_FALSE(parse_cni_network("not json", false).ok());
}

TEST(CniNetwork, TheFirstFileInLexicalOrderIsTheNetwork) {
  TempDir dir;
  EXPECT_EQ(*load_cni_network(dir.path() / "missing"), std::nullopt);
  EXPECT_EQ(*load_cni_network(dir.path()), std::nullopt);
  write(dir.path() / "00-notes.txt", "not a network");
  EXPECT_EQ(*load_cni_network(dir.path()), std::nullopt);
  write(dir.path() / "20-b.conflist",
        R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"x"}]})");
  write(dir.path() / "10-a.conf", R"({"cniVersion":"1.0.0","name":"a","type":"y"})");
  auto net = load_cni_network(dir.path());
  ASSERT_TRUE(net.ok()) << net.error().to_string();
  ASSERT_TRUE(net->has_value());
  EXPECT_EQ((*net)->name, "a");
  EXPECT_EQ((*net)->source, (dir.path() / "10-a.conf").string());
  write(dir.path() / "05-broken.conflist", "{");
  auto broken = load_cni_network(dir.path());
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().to_string().find("05-broken.conflist"), std::string::npos);
}

TEST(CniPluginInput, CarriesTheListsNameVersionAndPrevResult) {
  auto net = parse_cni_network(kList, false);
  ASSERT_TRUE(net.ok());
  json::object first = object_of(cni_plugin_input(*net, 0, attachment(), std::nullopt));
  EXPECT_EQ(first.at("name").as_string(), "testnet");
  EXPECT_EQ(first.at("cniVersion").as_string(), "1.0.0");
  EXPECT_EQ(first.at("bridge").as_string(), "br9");
  EXPECT_FALSE(first.contains("prevResult"));
  // bridge declares no capability: no runtimeConfig.
  EXPECT_FALSE(first.contains("runtimeConfig"));
  json::object second = object_of(cni_plugin_input(*net, 1, attachment(), std::string(kResult)));
  EXPECT_EQ(second.at("prevResult").as_object().at("ips").as_array().size(), 3u);
  const json::array& pm = second.at("runtimeConfig").at("portMappings").as_array();
  ASSERT_EQ(pm.size(), 2u);
  EXPECT_EQ(pm[0].as_object(),
            (json::object{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}}));
  EXPECT_EQ(pm[1].at("hostIP").as_string(), "127.0.0.1");
}

TEST(CniPluginEnv, HoldsTheContainerAndThePodsArgs) {
  auto env = cni_plugin_env("ADD", attachment(), {"/a", "/b"});
  const std::vector<std::string> want = {
      "CNI_COMMAND=ADD",
      "CNI_CONTAINERID=abc123",
      "CNI_NETNS=/proc/42/ns/net",
      "CNI_IFNAME=eth0",
      "CNI_PATH=/a:/b",
      "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;"
      "K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=uid-1"};
  EXPECT_EQ(env, want);
}

TEST(CniResult, TheContainersAddressesOnly) {
  auto ips = cni_result_ips(kResult);
  ASSERT_TRUE(ips.ok());
  EXPECT_EQ(*ips, (std::vector<std::string>{"10.9.0.7", "fd00::7"}));
  // Without interfaces, every address.
  auto bare = cni_result_ips(R"({"cniVersion":"1.0.0","ips":[{"address":"10.1.2.3/16"}]})");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(*bare, std::vector<std::string>{"10.1.2.3"});
  auto old = cni_result_ips(R"({"cniVersion":"0.2.0","ip4":{"ip":"10.4.0.2/24"}})");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(*old, std::vector<std::string>{"10.4.0.2"});
  EXPECT_FALSE(cni_result_ips("oops").ok());
}

TEST(CniPluginError, NamesThePluginAndCarriesItsMessage) {
  EXPECT_EQ(cni_plugin_error("host-local", "ADD", 1, false,
                             R"({"cniVersion":"1.0.0","code":11,"msg":"no IP addresses available",
                                 "details":"range 10.9.0.0/24 is full"})",
                             "")
                .message,
            "CNI plugin host-local ADD: no IP addresses available: range 10.9.0.0/24 is full");
  EXPECT_EQ(cni_plugin_error("bridge", "DEL", 2, false, "", "boom\n").message,
            "CNI plugin bridge DEL: exit status 2: boom");
  EXPECT_EQ(cni_plugin_error("bridge", "ADD", -1, true, "", "").message,
            "CNI plugin bridge ADD: timed out");
}

TEST(CniState, RoundTrips) {
  CniState s;
  s.network = *parse_cni_network(kList, false);
  s.network.source = "/etc/x/10.conflist";
  s.attachment = attachment();
  s.bin_dirs = {"/usr/lib/cni", "/opt/cni/bin"};
  s.result = kResult;
  auto back = decode_cni_state(encode_cni_state(s));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, s);
  s.result.clear();
  EXPECT_EQ(*decode_cni_state(encode_cni_state(s)), s);
  EXPECT_FALSE(decode_cni_state(R"({"network":{"plugins":[]},"attachment":{}})").ok());
}

TEST(CniPlugins, AMissingPluginSaysWhereItWasLookedFor) {
  TempDir dir;
  auto found = find_cni_plugin("bridge", {dir.path() / "a", dir.path() / "b"});
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().message, "CNI plugin bridge not found in " + (dir.path() / "a").string() +
                                       ", " + (dir.path() / "b").string());
  EXPECT_FALSE(find_cni_plugin("../sh", {"/bin"}).ok());
}

// Fake plugins: each logs "<type> <command> <id> <netns> <ifname>" to
// calls.log, keeps its stdin as <type>-<command>.json and prints `result`.
class CniCallsTest : public ::testing::Test {
 protected:
  void plugin(const std::string& type, const std::string& result, int exit_code = 0) {
    write(bin_.path() / type,
          "#!/bin/sh\n"
          "echo \"" +
              type + " $CNI_COMMAND $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME\" >> " +
              (bin_.path() / "calls.log").string() + "\n" + "cat > " +
              (bin_.path() / type).string() + "-$CNI_COMMAND.json\n" + "echo '" + result + "'\n" +
              "exit " + std::to_string(exit_code) + "\n",
          true);
  }
  // Runs the task made by `make` (given the loop's executor) to completion.
  template <typename Make>
  auto run(Make make) {
    using T = typename decltype(make(io_.get_executor()))::value_type;
    std::optional<T> out;
    asio::co_spawn(
        io_, [&]() -> Task<void> { out.emplace(co_await make(io_.get_executor())); },
        asio::detached);
    io_.run();
    io_.restart();
    return std::move(*out);
  }
  CniNetwork network(std::vector<std::string> types) {
    CniNetwork n;
    n.name = "fakenet";
    n.cni_version = "1.0.0";
    for (const auto& t : types) n.plugins.push_back(R"({"type":")" + t + R"("})");
    return n;
  }
  CniOptions options() {
    CniOptions o;
    o.bin_dirs = {bin_.path() / "empty", bin_.path()};
    return o;
  }
  std::string log() { return slurp(bin_.path() / "calls.log"); }
  json::object input(const std::string& type, const std::string& command) {
    return object_of(slurp(bin_.path() / (type + "-" + command + ".json")));
  }
  TempDir bin_;
  asio::io_context io_;
};

TEST_F(CniCallsTest, AddRunsInOrderChainingResultsAndDelInReverse) {
  plugin("first", R"({"cniVersion":"1.0.0","ips":[{"address":"10.9.0.5/24"}]})");
  plugin("second", R"({"cniVersion":"1.0.0","ips":[{"address":"10.9.0.6/24"}]})");
  const CniNetwork net = network({"first", "second"});
  const CniOptions opts = options();
  const CniAttachment att = attachment();
  auto added = run([&](auto ex) { return cni_add(ex, opts, net, att); });
  ASSERT_TRUE(added.ok()) << added.error().to_string();
  EXPECT_EQ(*cni_result_ips(*added), std::vector<std::string>{"10.9.0.6"});
  EXPECT_FALSE(input("first", "ADD").contains("prevResult"));
  EXPECT_EQ(input("second", "ADD").at("prevResult").at("ips").at(0).at("address").as_string(),
            "10.9.0.5/24");
  EXPECT_EQ(input("second", "ADD").at("name").as_string(), "fakenet");

  auto deleted = run([&](auto ex) { return cni_del(ex, opts, net, att, *added); });
  ASSERT_TRUE(deleted.ok()) << deleted.error().to_string();
  EXPECT_EQ(log(),
            "first ADD abc123 /proc/42/ns/net eth0\n"
            "second ADD abc123 /proc/42/ns/net eth0\n"
            "second DEL abc123 /proc/42/ns/net eth0\n"
            "first DEL abc123 /proc/42/ns/net eth0\n");
  // DEL hands every plugin ADD's final result.
  EXPECT_EQ(input("first", "DEL").at("prevResult").at("ips").at(0).at("address").as_string(),
            "10.9.0.6/24");
}

TEST_F(CniCallsTest, AFailedAddStopsAtThePluginAndCarriesItsMessage) {
  plugin("first", R"({"cniVersion":"1.0.0"})");
  plugin("bad", R"({"cniVersion":"1.0.0","code":7,"msg":"invalid config","details":"no bridge"})",
         1);
  plugin("third", R"({"cniVersion":"1.0.0"})");
  const CniNetwork net = network({"first", "bad", "third"});
  const CniOptions opts = options();
  const CniAttachment att = attachment();
  auto added = run([&](auto ex) { return cni_add(ex, opts, net, att); });
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error().message, "CNI plugin bad ADD: invalid config: no bridge");
  EXPECT_EQ(log(),
            "first ADD abc123 /proc/42/ns/net eth0\n"
            "bad ADD abc123 /proc/42/ns/net eth0\n");
}

TEST_F(CniCallsTest, DelCallsEveryPluginEvenAfterAFailureAndWithoutANetns) {
  plugin("first", "{}");
  plugin("bad", R"({"code":11,"msg":"busy"})", 1);
  CniAttachment gone = attachment();
  gone.netns.clear();  // the namespace is gone: DEL still releases what it can
  const CniNetwork net = network({"first", "bad"});
  const CniOptions opts = options();
  const std::string no_result;
  auto deleted = run([&](auto ex) { return cni_del(ex, opts, net, gone, no_result); });
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().message, "CNI plugin bad DEL: busy");
  EXPECT_EQ(log(), "bad DEL abc123  eth0\nfirst DEL abc123  eth0\n");
  EXPECT_FALSE(input("first", "DEL").contains("prevResult"));
}

TEST_F(CniCallsTest, AMissingPluginFailsTheAdd) {
  const CniNetwork net = network({"nowhere"});
  const CniOptions opts = options();
  const CniAttachment att = attachment();
  auto added = run([&](auto ex) { return cni_add(ex, opts, net, att); });
  ASSERT_FALSE(added.ok());
  EXPECT_NE(added.error().message.find("CNI plugin nowhere not found"), std::string::npos);
}

}  // namespace
}  // namespace podagent::runtime::oci
