// `podagent validate` and `podagent apply` on manifests that hold ConfigMaps
// and Secrets beside pods: the built binary, alone for validate, and against
// an Agent running in-process on a temporary socket (fake runtime) for apply.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "model/document.h"
#include "tests/agent/agent_test_util.h"
#include "tests/agent/run_podagent.h"

namespace podagent::agent {
namespace {

using namespace testing;

constexpr const char* kPod =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
    "spec:\n  containers:\n  - name: c\n    image: busybox\n";

std::string config_map(const std::string& name, const std::string& data) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + "}\ndata: " + data + "\n";
}

std::string secret(const std::string& name, const std::string& rest) {
  return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + "}\n" + rest + "\n";
}

std::string documents(const std::vector<std::string>& docs) {
  std::string out;
  for (const std::string& d : docs) out += (out.empty() ? "" : "---\n") + d;
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class CliObjectsValidateTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const fs::path path = dir_.path() / name;
    write_file(path, text);
    return path.string();
  }
  TempDir dir_;
};

TEST_F(CliObjectsValidateTest, CountsPodsConfigMapsAndSecrets) {
  const std::string all =
      write("all.yaml", documents({kPod, config_map("conf", "{a.txt: hello}"),
                                   secret("creds", "stringData: {password: pw}")}));
  const std::string objects =
      write("objects.yaml", documents({config_map("a", "{k: v}"), config_map("b", "{k: v}")}));
  Ran r = podagent({"validate", all, objects});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.out,
            all + ": ok (1 pod, 1 ConfigMap, 1 Secret)\n" + objects + ": ok (2 ConfigMaps)\n");
  // A file of objects without a pod is not "no pods".
  EXPECT_EQ(r.err, "");
}

TEST_F(CliObjectsValidateTest, AnEmptyFileStillWarns) {
  const std::string empty = write("empty.yaml", "");
  Ran r = podagent({"validate", empty});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.out, empty + ": ok (0 pods)\n");
  EXPECT_EQ(r.err, empty + ": warning: no pods, ConfigMaps or Secrets in file\n");
}

TEST_F(CliObjectsValidateTest, NamesABadConfigMapKey) {
  const std::string bad =
      write("bad.yaml", documents({kPod, config_map("conf", "{\"bad key!\": x, good: y}")}));
  Ran r = podagent({"validate", bad});
  EXPECT_EQ(r.exit, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(
      contains(r.err, bad + ": error: document 2: data[bad key!]: Invalid value: \"bad key!\": "))
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(CliObjectsValidateTest, NeverEchoesASecretsValue) {
  const std::string bad = write(
      "bad.yaml",
      documents({secret("b64", "data: {password: \"SeCrEt-one!\"}"),
                 secret("typed", "stringData: {token: [SeCrEt-two]}"),
                 secret("docker",
                        "type: kubernetes.io/dockerconfigjson\n"
                        "stringData: {.dockerconfigjson: \"SeCrEt-three\"}"),
                 secret("tls", "type: kubernetes.io/tls\nstringData: {tls.crt: SeCrEt-four}")}));
  for (const char* output : {"", "json"}) {
    std::vector<std::string> args = {"validate", bad};
    if (*output) args.insert(args.begin() + 1, {"-o", output});
    Ran r = podagent(args);
    EXPECT_EQ(r.exit, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_TRUE(contains(r.err, bad + ": error: document 1: data[password]: ")) << r.err;
    EXPECT_TRUE(contains(r.err, bad + ": error: document 2: stringData[token]: ")) << r.err;
    EXPECT_TRUE(contains(r.err, bad + ": error: document 3: data[.dockerconfigjson]: ")) << r.err;
    EXPECT_TRUE(contains(r.err, bad + ": error: document 4: data[tls.key]: Required value\n"))
        << r.err;
    EXPECT_FALSE(contains(r.err, "SeCrEt")) << r.err;
  }
}

TEST_F(CliObjectsValidateTest, PrintsEveryValidObjectDefaulted) {
  const std::string all =
      write("all.yaml", documents({kPod, secret("creds", "stringData: {password: pw}"),
                                   config_map("conf", "{a.txt: hello}")}));
  Ran r = podagent({"validate", "-o", "json", all});
  ASSERT_EQ(r.exit, 0) << r.err;
  const model::Node list = parse_json(r.out);
  EXPECT_EQ(field(list, {"kind"}), "List");
  const model::Node* items = list.find("items");
  ASSERT_NE(items, nullptr) << r.out;
  ASSERT_EQ(items->items.size(), 3u) << r.out;
  // ConfigMaps, Secrets, then pods: the order apply sends them in.
  EXPECT_EQ(field(items->items[0], {"kind"}), "ConfigMap");
  EXPECT_EQ(field(items->items[0], {"metadata", "namespace"}), "default");
  EXPECT_EQ(field(items->items[0], {"data", "a.txt"}), "hello");
  EXPECT_EQ(field(items->items[1], {"kind"}), "Secret");
  EXPECT_EQ(field(items->items[1], {"type"}), "Opaque");
  EXPECT_EQ(field(items->items[1], {"data", "password"}), "cHc=");  // base64 of "pw"
  EXPECT_EQ(field(items->items[2], {"kind"}), "Pod");
  EXPECT_EQ(field(items->items[2], {"spec", "restartPolicy"}), "Always");

  Ran one = podagent({"validate", "-o", "yaml", write("one.yaml", config_map("c", "{k: v}"))});
  ASSERT_EQ(one.exit, 0) << one.err;
  EXPECT_TRUE(one.out.starts_with("apiVersion: v1\nkind: ConfigMap\n")) << one.out;
}

// apply against a running agent.
class CliObjectsApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test_config(dir_.path());
    AgentOptions options;
    options.config = config_;
    options.env = [](std::string_view) { return std::optional<std::string>(); };
    agent_ = std::make_unique<RunningAgent>(std::move(options));
    base::Status s = agent_->start();
    ASSERT_TRUE(s) << (s ? "" : s.error().to_string());
  }

  Ran apply(const std::string& name, const std::string& text) {
    const fs::path path = dir_.path() / name;
    write_file(path, text);
    return podagent({"apply", "-f", path.string(), "--socket", config_.api.socket});
  }

  // The object at /api/v1/namespaces/default/RESOURCE/NAME; a null Node
  // when it cannot be read.
  model::Node get(const std::string& resource, const std::string& name) {
    HttpReply r =
        http(config_.api.socket, "GET", "/api/v1/namespaces/default/" + resource + "/" + name);
    EXPECT_EQ(r.status, 200) << resource << "/" << name << ": " << r.body;
    return r.status == 200 ? parse_json(r.body) : model::Node();
  }

  TempDir dir_;
  config::AgentConfig config_;
  std::unique_ptr<RunningAgent> agent_;
};

TEST_F(CliObjectsApplyTest, CreatesThenReplacesConfigMapsSecretsAndPods) {
  Ran created = apply("v1.yaml", documents({kPod, config_map("conf", "{a.txt: one}"),
                                            secret("creds", "stringData: {password: pw1}")}));
  EXPECT_EQ(created.exit, 0) << created.err;
  EXPECT_EQ(created.out, "configmap/conf created\nsecret/creds created\npod/web created\n");
  EXPECT_EQ(created.err, "");
  const model::Node conf = get("configmaps", "conf");
  EXPECT_EQ(field(conf, {"data", "a.txt"}), "one");
  const model::Node creds = get("secrets", "creds");
  EXPECT_EQ(field(creds, {"data", "password"}), "cHcx");  // base64 of "pw1"
  EXPECT_EQ(field(get("pods", "web"), {"metadata", "name"}), "web");

  Ran replaced = apply("v2.yaml", documents({kPod, config_map("conf", "{a.txt: two}"),
                                             secret("creds", "stringData: {password: pw2}")}));
  EXPECT_EQ(replaced.exit, 0) << replaced.err;
  EXPECT_EQ(replaced.out, "configmap/conf replaced\nsecret/creds replaced\npod/web replaced\n");
  EXPECT_EQ(replaced.err, "");
  const model::Node conf2 = get("configmaps", "conf");
  EXPECT_EQ(field(conf2, {"data", "a.txt"}), "two");
  EXPECT_EQ(field(conf2, {"metadata", "uid"}), field(conf, {"metadata", "uid"}));
  EXPECT_NE(field(conf2, {"metadata", "resourceVersion"}),
            field(conf, {"metadata", "resourceVersion"}));
  const model::Node creds2 = get("secrets", "creds");
  EXPECT_EQ(field(creds2, {"data", "password"}), "cHcy");  // base64 of "pw2"
  EXPECT_EQ(field(creds2, {"metadata", "uid"}), field(creds, {"metadata", "uid"}));
}

TEST_F(CliObjectsApplyTest, ObjectsGoIntoTheNamespaceFlag) {
  const fs::path path = dir_.path() / "ns.yaml";
  write_file(path, config_map("conf", "{k: v}"));
  Ran r = podagent({"apply", "-f", path.string(), "-n", "team", "--socket", config_.api.socket});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.out, "configmap/conf created\n");
  EXPECT_EQ(http(config_.api.socket, "GET", "/api/v1/namespaces/team/configmaps/conf").status, 200);
}

TEST_F(CliObjectsApplyTest, ARefusedSecretIsReportedWithoutItsValue) {
  Ran r = apply("refused.yaml", documents({config_map("conf", "{k: v}"),
                                           secret("tls",
                                                  "type: kubernetes.io/tls\n"
                                                  "stringData: {tls.crt: SeCrEt-cert}")}));
  EXPECT_EQ(r.exit, 1);
  // The file's other objects are applied all the same.
  EXPECT_EQ(r.out, "configmap/conf created\n");
  EXPECT_TRUE(r.err.starts_with("Error from server (Invalid): Secret \"tls\" is invalid: "))
      << r.err;
  EXPECT_TRUE(contains(r.err, "data[tls.key]: Required value")) << r.err;
  EXPECT_FALSE(contains(r.err, "SeCrEt")) << r.err;
}

TEST_F(CliObjectsApplyTest, ASecretThatDoesNotDecodeIsNotSentNorEchoed) {
  Ran r = apply("undecodable.yaml", documents({config_map("conf", "{k: v}"),
                                               secret("b64", "data: {password: \"SeCrEt!\"}")}));
  EXPECT_EQ(r.exit, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "error: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "document 2: data[password]: ")) << r.err;
  EXPECT_FALSE(contains(r.err, "SeCrEt")) << r.err;
  EXPECT_EQ(http(config_.api.socket, "GET", "/api/v1/namespaces/default/configmaps/conf").status,
            404);
}

}  // namespace
}  // namespace podagent::agent
