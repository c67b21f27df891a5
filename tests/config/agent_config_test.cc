#include "config/agent_config.h"
#include "tests/config/config_test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "model/document.h"

namespace podagent::config {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kExample = std::string(PODAGENT_TEST_DATA) + "/../../config/podagent.yaml";

using testing::errors_of;

bool has_error(const ConfigErrors& errors, std::string_view field, std::string_view text = "") {
  for (const auto& e : errors)
    if (e.field == field && e.message.find(text) != std::string::npos) return true;
  return false;
}

ConfigErrors decode(std::string_view yaml, AgentConfig& config) {
  return decode_config_text(yaml, config);
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "podagent-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST(AgentConfigDefaults, AreTheDocumentedOnes) {
  AgentConfig c;
  EXPECT_EQ(c.node_name, "");
  EXPECT_EQ(c.manifest_dir, "/etc/podagent/manifests");
  EXPECT_EQ(c.state_dir, "/var/lib/podagent");
  EXPECT_EQ(c.pod_logs_dir, "/var/log/pods");
  EXPECT_EQ(c.api.socket, "/run/podagent/podagent.sock");
  EXPECT_EQ(c.api.socket_mode, 0660u);
  EXPECT_FALSE(c.api.tcp.enabled);
  EXPECT_EQ(c.runtime.backend, "oci");
  EXPECT_EQ(c.runtime.oci_runtime, "runc");
  EXPECT_EQ(c.runtime.runtime_handlers.at("crun"), "/usr/bin/crun");
  EXPECT_EQ(c.crash_loop_back_off.initial, 10s);
  EXPECT_EQ(c.crash_loop_back_off.max, 300s);
  EXPECT_EQ(c.crash_loop_back_off.reset, 10min);
  EXPECT_EQ(c.manifest_relist_period, 20s);
  EXPECT_EQ(c.max_pods, 110);
  EXPECT_EQ(c.log_level, "info");
}

TEST(AgentConfigDefaults, AreValidOnceResolved) {
  AgentConfig c;
  resolve_defaults(c, "Node-1.Example");
  EXPECT_EQ(c.node_name, "node-1.example");
  EXPECT_EQ(errors_of(validate_config(c)), "");
}

TEST(AgentConfigDefaults, EmptyHostNameIsReported) {
  AgentConfig c;
  resolve_defaults(c, "");
  EXPECT_TRUE(has_error(validate_config(c), "nodeName", "Required value"))
      << errors_of(validate_config(c));
}

// The documentation file cannot drift from the code: loading it gives exactly
// the embedded defaults, and it names every field the config has.
TEST(ExampleConfig, EqualsTheEmbeddedDefaults) {
  std::ifstream in(kExample);
  ASSERT_TRUE(in) << kExample;
  std::string text((std::istreambuf_iterator<char>(in)), {});
  AgentConfig c;
  EXPECT_EQ(errors_of(decode(text, c)), "");
  EXPECT_EQ(c, AgentConfig{});
}

void leaf_paths(const model::Node& n, const std::string& path, std::set<std::string>& out) {
  if (n.is_map() && !n.entries.empty()) {
    for (const auto& [k, v] : n.entries) leaf_paths(v, path.empty() ? k : path + "." + k, out);
  } else {
    out.insert(path);
  }
}

TEST(ExampleConfig, DocumentsEveryField) {
  std::ifstream in(kExample);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto docs = model::parse_documents(text);
  ASSERT_TRUE(docs.ok()) << docs.error().to_string();
  ASSERT_EQ(docs->size(), 1u);
  std::set<std::string> documented, fields;
  leaf_paths(docs->front(), "", documented);
  leaf_paths(encode_config(AgentConfig{}), "", fields);
  EXPECT_EQ(documented, fields);
}

TEST(DecodeConfig, ReadsEveryKindOfField) {
  AgentConfig c;
  auto errors = decode(R"(
nodeName: edge-7
api:
  socketMode: 0600
  socketGroup: 100
  tcp: {enabled: true, address: ":0"}
runtime:
  backend: fake
  runtimeHandlers: {kata: /opt/kata/bin/kata-runtime}
crashLoopBackOff: {initial: 1s, max: 1m30s, reset: 1h}
nodeAllocatable: {cpu: 1500m, memory: 2Gi}
systemReserved: {cpu: "1"}
maxPods: 12
cni: {binDirs: [/opt/cni/bin, /usr/lib/cni]}
logLevel: debug
)",
                       c);
  EXPECT_EQ(errors_of(errors), "");
  EXPECT_EQ(c.node_name, "edge-7");
  EXPECT_EQ(c.api.socket_mode, 0600u);
  EXPECT_EQ(c.api.socket_group, "100");
  EXPECT_TRUE(c.api.tcp.enabled);
  EXPECT_EQ(c.api.tcp.address, ":0");
  EXPECT_EQ(c.runtime.backend, "fake");
  // Handlers are merged into the defaults.
  EXPECT_EQ(c.runtime.runtime_handlers.size(), 3u);
  EXPECT_EQ(c.runtime.runtime_handlers.at("kata"), "/opt/kata/bin/kata-runtime");
  EXPECT_EQ(c.crash_loop_back_off.initial, 1s);
  EXPECT_EQ(c.crash_loop_back_off.max, 90s);
  EXPECT_EQ(c.crash_loop_back_off.reset, 1h);
  EXPECT_EQ(c.node_allocatable.cpu->milli(), 1500);
  EXPECT_EQ(c.node_allocatable.memory->value(), int64_t{2} << 30);
  EXPECT_EQ(c.system_reserved.cpu->milli(), 1000);
  EXPECT_FALSE(c.system_reserved.memory.has_value());
  EXPECT_EQ(c.max_pods, 12);
  EXPECT_EQ(c.cni.bin_dirs, (std::vector<std::string>{"/opt/cni/bin", "/usr/lib/cni"}));
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.manifest_dir, "/etc/podagent/manifests");  // absent: default kept
}

TEST(DecodeConfig, EmptyFileAndNullsKeepDefaults) {
  AgentConfig c;
  EXPECT_EQ(errors_of(decode("", c)), "");
  EXPECT_EQ(errors_of(decode("# nothing\n", c)), "");
  EXPECT_EQ(errors_of(decode("manifestDir:\nruntime: ~\n", c)), "");
  EXPECT_EQ(c, AgentConfig{});
}

TEST(DecodeConfig, UnknownFieldsAreErrorsWithTheirPath) {
  AgentConfig c;
  auto errors =
      decode("runtime:\n  backnd: fake\nmanifestdir: /x\napi: {tcp: {enable: true}}\n", c);
  EXPECT_EQ(
      errors_of(errors),
      "runtime.backnd: unknown field\nmanifestdir: unknown field\napi.tcp.enable: unknown field\n");
}

TEST(DecodeConfig, ReportsEveryBadValueAtOnce) {
  AgentConfig c;
  auto errors = decode(R"(
nodeName: [a]
api: {socketMode: "0999", tcp: {enabled: "yes"}}
runtime: {relistPeriod: 10}
crashLoopBackOff: {initial: 1d, max: 5, reset: true}
manifestRelistPeriod: 1.5
nodeAllocatable: {cpu: 1.5.5, memory: 1Qi}
maxPods: many
cni: {binDirs: /usr/lib/cni}
kind: KubeletConfiguration
)",
                       c);
  EXPECT_EQ(errors.size(), 13u) << errors_of(errors);
  EXPECT_TRUE(has_error(errors, "nodeName", "expected string, got list"));
  EXPECT_TRUE(has_error(errors, "api.socketMode", "\"0999\""));
  EXPECT_TRUE(has_error(errors, "api.tcp.enabled", "expected boolean, got string"));
  EXPECT_TRUE(has_error(errors, "runtime.relistPeriod", "missing unit"));
  EXPECT_TRUE(has_error(errors, "crashLoopBackOff.initial", "unknown unit"));
  EXPECT_TRUE(has_error(errors, "crashLoopBackOff.max", "missing unit"));
  EXPECT_TRUE(has_error(errors, "crashLoopBackOff.reset"));
  EXPECT_TRUE(has_error(errors, "manifestRelistPeriod"));
  EXPECT_TRUE(has_error(errors, "nodeAllocatable.cpu", "\"1.5.5\""));
  EXPECT_TRUE(has_error(errors, "nodeAllocatable.memory", "\"1Qi\""));
  EXPECT_TRUE(has_error(errors, "maxPods", "expected integer"));
  EXPECT_TRUE(has_error(errors, "cni.binDirs", "expected list"));
  EXPECT_TRUE(has_error(errors, "kind", "Unsupported value: \"KubeletConfiguration\""));
}

TEST(DecodeConfig, RefusesSyntaxErrorsAndSeveralDocuments) {
  AgentConfig c;
  EXPECT_EQ(decode("a: [1,\n", c).size(), 1u);
  auto errors = decode("logLevel: info\n---\nlogLevel: debug\n", c);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("one YAML document"), std::string::npos);
  EXPECT_TRUE(has_error(decode("- a\n- b\n", c), "", "expected map"));
}

TEST(EncodeConfig, RoundTripsThroughYaml) {
  AgentConfig c;
  c.node_name = "n1";
  c.api.socket_mode = 0600;
  c.runtime.runtime_handlers["kata"] = "/opt/kata";
  c.crash_loop_back_off.initial = 1500ms;
  c.node_allocatable.memory = *model::Quantity::parse("512Mi");
  c.cni.bin_dirs = {"/a", "/b"};
  AgentConfig back;
  EXPECT_EQ(errors_of(decode(render_config_yaml(c), back)), "");
  EXPECT_EQ(back, c) << render_config_yaml(c);
}

TEST(ValidateConfig, ReportsEveryInvalidValueWithItsPath) {
  AgentConfig c;
  c.node_name = "Not_A_Name";
  c.manifest_dir = "manifests";
  c.api.tcp.enabled = true;
  c.api.tcp.address = "localhost";
  c.api.tcp.tls_cert_file = "/etc/cert.pem";
  c.runtime.backend = "docker";
  c.runtime.oci_runtime = "youki";
  c.runtime.runtime_handlers["kata"] = "kata-runtime";
  c.crash_loop_back_off.initial = 0s;
  c.crash_loop_back_off.max = -1s;
  c.manifest_relist_period = 0s;
  c.node_allocatable.cpu = *model::Quantity::parse("-1");
  c.max_pods = 0;
  c.cni.bin_dirs = {"/ok", "relative"};
  c.log_level = "verbose";
  auto errors = validate_config(c);
  EXPECT_TRUE(has_error(errors, "nodeName")) << errors_of(errors);
  EXPECT_TRUE(has_error(errors, "manifestDir", "must be an absolute path"));
  EXPECT_TRUE(has_error(errors, "api.tcp.address", "\"localhost\""));
  EXPECT_TRUE(has_error(errors, "api.tcp.tlsKeyFile", "set together"));
  EXPECT_TRUE(has_error(errors, "runtime.backend",
                        "Unsupported value: \"docker\": supported values: \"fake\", \"oci\""));
  EXPECT_TRUE(has_error(errors, "runtime.ociRuntime", "\"youki\""));
  EXPECT_TRUE(has_error(errors, "runtime.runtimeHandlers.kata", "absolute"));
  EXPECT_TRUE(has_error(errors, "crashLoopBackOff.initial", "greater than zero"));
  EXPECT_TRUE(has_error(errors, "crashLoopBackOff.max", "greater than zero"));
  EXPECT_TRUE(has_error(errors, "manifestRelistPeriod", "greater than zero"));
  EXPECT_TRUE(has_error(errors, "nodeAllocatable.cpu", "greater than or equal to 0"));
  EXPECT_TRUE(has_error(errors, "maxPods", "greater than zero"));
  EXPECT_TRUE(has_error(errors, "cni.binDirs[1]", "absolute"));
  EXPECT_TRUE(has_error(errors, "logLevel", "\"verbose\""));
  EXPECT_FALSE(has_error(errors, "cni.binDirs[0]"));
}

TEST(ValidateConfig, BackoffMaxBelowInitial) {
  AgentConfig c;
  resolve_defaults(c, "n");
  c.crash_loop_back_off.initial = 1min;
  c.crash_loop_back_off.max = 30s;
  auto errors = validate_config(c);
  ASSERT_EQ(errors.size(), 1u) << errors_of(errors);
  EXPECT_EQ(errors[0].to_string(),
            "crashLoopBackOff.max: Invalid value: \"30s\": must be greater than or equal to "
            "crashLoopBackOff.initial (1m)");
}

TEST(ValidateConfig, ListenAddresses) {
  for (const char* ok : {"127.0.0.1:6443", ":0", "[::1]:443", "node.example:65535"}) {
    AgentConfig c;
    resolve_defaults(c, "n");
    c.api.tcp.enabled = true;
    c.api.tcp.address = ok;
    EXPECT_EQ(errors_of(validate_config(c)), "") << ok;
  }
  for (const char* bad :
       {"", "6443", "127.0.0.1:", "127.0.0.1:65536", "::1:443", "[::1:443", "h:p"}) {
    AgentConfig c;
    resolve_defaults(c, "n");
    c.api.tcp.enabled = true;
    c.api.tcp.address = bad;
    EXPECT_TRUE(has_error(validate_config(c), "api.tcp.address")) << bad;
  }
}

TEST(Overrides, ParseSetFlag) {
  auto o = parse_set_flag("crashLoopBackOff.initial=1s");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, (Override{"crashLoopBackOff.initial", "1s", true}));
  EXPECT_EQ(parse_set_flag("nodeName=").value().value, "");
  EXPECT_EQ(parse_set_flag("a=b=c").value().value, "b=c");
  EXPECT_FALSE(parse_set_flag("nodeName").ok());
  EXPECT_FALSE(parse_set_flag("=x").ok());
}

TEST(Overrides, SetFieldsLikeTheFileDoes) {
  AgentConfig c;
  for (const Override& o :
       {Override{"crashLoopBackOff.initial", "1s"}, Override{"maxPods", "7"},
        Override{"cni.binDirs", "[/a, /b]"}, Override{"api.socketMode", "0600"},
        Override{"runtime.runtimeHandlers.kata", "/opt/kata"}, Override{"nodeName", "123", false},
        Override{"api.tcp.enabled", "true"}})
    EXPECT_EQ(errors_of(apply_override(o, c)), "") << o.path;
  EXPECT_EQ(c.crash_loop_back_off.initial, 1s);
  EXPECT_EQ(c.max_pods, 7);
  EXPECT_EQ(c.cni.bin_dirs, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(c.api.socket_mode, 0600u);
  EXPECT_EQ(c.runtime.runtime_handlers.at("kata"), "/opt/kata");
  EXPECT_EQ(c.runtime.runtime_handlers.count("runc"), 1u);
  EXPECT_EQ(c.node_name, "123");
  EXPECT_TRUE(c.api.tcp.enabled);
}

TEST(Overrides, ReportUnknownPathsAndBadValues) {
  AgentConfig c;
  EXPECT_EQ(errors_of(apply_override({"runtime.backnd", "fake"}, c)), "runtime.backnd: unknown field\n");
  EXPECT_TRUE(has_error(apply_override({"crashLoopBackOff.initial", "soon"}, c),
                        "crashLoopBackOff.initial", "\"soon\""));
  EXPECT_TRUE(has_error(apply_override({"maxPods", "[1"}, c), "maxPods"));
  EXPECT_TRUE(has_error(apply_override({"a..b", "1"}, c), "a..b", "not a field path"));
  EXPECT_EQ(c, AgentConfig{});
}

class LoadConfig : public TempDir {};

TEST_F(LoadConfig, MissingDefaultFileMeansEmbeddedDefaults) {
  LoadOptions options;
  options.default_path = (dir_ / "absent.yaml").string();
  LoadedConfig loaded = load_config(options);
  ASSERT_TRUE(loaded.ok()) << errors_of(loaded.errors);
  EXPECT_EQ(loaded.source, "embedded defaults");
  EXPECT_FALSE(loaded.config->node_name.empty());  // the host name
  AgentConfig want;
  want.node_name = loaded.config->node_name;
  EXPECT_EQ(*loaded.config, want);
}

TEST_F(LoadConfig, MissingExplicitFileIsAnError) {
  LoadOptions options;
  options.path = (dir_ / "absent.yaml").string();
  LoadedConfig loaded = load_config(options);
  EXPECT_FALSE(loaded.ok());
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_NE(loaded.errors[0].message.find("No such file"), std::string::npos)
      << errors_of(loaded.errors);
}

TEST_F(LoadConfig, FlagsOverrideTheFile) {
  LoadOptions options;
  options.path = write("c.yaml", "nodeName: from-file\nmaxPods: 5\nlogLevel: debug\n");
  options.overrides = {{"nodeName", "from-flag", false}, {"maxPods", "9"}};
  LoadedConfig loaded = load_config(options);
  ASSERT_TRUE(loaded.ok()) << errors_of(loaded.errors);
  EXPECT_EQ(loaded.source, options.path);
  EXPECT_EQ(loaded.config->node_name, "from-flag");
  EXPECT_EQ(loaded.config->max_pods, 9);
  EXPECT_EQ(loaded.config->log_level, "debug");
}

TEST_F(LoadConfig, AnInvalidConfigIsRefusedWholeWithEveryError) {
  LoadOptions options;
  options.path =
      write("c.yaml", "runtime:\n  backnd: fake\nmaxPods: 0\ncrashLoopBackOff: {initial: 2s}\n");
  options.overrides = {{"crashLoopBackOff.max", "1s"}, {"logLevel", "loud", false}};
  LoadedConfig loaded = load_config(options);
  EXPECT_FALSE(loaded.config.has_value());
  EXPECT_EQ(
      errors_of(loaded.errors),
      "runtime.backnd: unknown field\n"
      "crashLoopBackOff.max: Invalid value: \"1s\": must be greater than or equal to "
      "crashLoopBackOff.initial (2s)\n"
      "maxPods: Invalid value: 0: must be greater than zero\n"
      "logLevel: Unsupported value: \"loud\": supported values: \"error\", \"warning\", \"info\", "
      "\"debug\"\n");
}

TEST_F(LoadConfig, SyntaxErrorsNameTheFile) {
  LoadOptions options;
  options.path = write("c.yaml", "maxPods: [1,\n");
  LoadedConfig loaded = load_config(options);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.errors[0].message.find(*options.path), std::string::npos) << errors_of(loaded.errors);
}

}  // namespace
}  // namespace podagent::config
