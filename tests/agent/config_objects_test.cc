// ConfigMaps and Secrets: the store merging the manifest directory's and the
// API's objects, their API routes, their persistence, the whole agent
// restoring them, and the real kubectl creating, reading and deleting them.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "agent/api_protobuf.h"
#include "agent/api_routes.h"
#include "agent/config_object_persistence.h"
#include "agent/config_object_store.h"
#include "agent/http_server.h"
#include "model/document.h"
#include "tests/agent/agent_test_util.h"
#include "tests/agent/io_thread.h"

namespace podagent::agent {
namespace {

namespace fs = std::filesystem;
using model::ConfigMap;
using model::ConfigObjects;
using model::ConfigObjectsPtr;
using model::Node;
using model::Secret;

ConfigMap config_map(std::string name, std::map<std::string, std::string> data,
                     std::string ns = "default") {
  ConfigMap c;
  c.metadata.name = std::move(name);
  c.metadata.namespace_ = std::move(ns);
  c.data = std::move(data);
  return c;
}

Node json(const std::string& text) {
  auto docs = model::parse_documents(text);
  EXPECT_TRUE(docs.ok() && docs->size() == 1) << text;
  if (!docs.ok() || docs->empty()) return Node::map();
  return docs->front();
}

// The scalar at a dotted path ("metadata.name"), "" when absent.
std::string at(const Node& n, std::string_view path) {
  const Node* cur = &n;
  while (!path.empty() && cur) {
    const size_t dot = path.find('.');
    cur = cur->find(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  }
  return cur ? cur->text : "";
}

// ---- the store ----

class ConfigObjectStoreTest : public ::testing::Test {
 protected:
  ConfigObjectStoreTest() {
    store_.on_change([this](const ConfigObjectsPtr& view) { published_.push_back(view); });
  }
  ConfigObjectStore store_{100};
  std::vector<ConfigObjectsPtr> published_;
};

TEST_F(ConfigObjectStoreTest, PublishesTheMergedViewOnlyWhenItChanges) {
  ConfigObjects files;
  files.config_maps[{"default", "a"}] = config_map("a", {{"k", "1"}});
  store_.set_manifest_objects(files);
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(published_.back(), store_.current());
  ASSERT_NE(store_.current()->config_map("default", "a"), nullptr);
  EXPECT_EQ(store_.current()->config_map("default", "a")->metadata.resource_version, "100");

  store_.set_manifest_objects(files);  // the same set again
  EXPECT_EQ(published_.size(), 1u);
  EXPECT_EQ(store_.current()->config_map("default", "a")->metadata.resource_version, "100");

  const ConfigMap stored = store_.put(config_map("b", {{"x", "y"}}));
  EXPECT_EQ(stored.metadata.resource_version, "101");
  ASSERT_EQ(published_.size(), 2u);
  EXPECT_NE(published_[1]->config_map("default", "b"), nullptr);
  // An earlier snapshot is never changed afterwards.
  EXPECT_EQ(published_[0]->config_map("default", "b"), nullptr);

  EXPECT_FALSE(store_.erase<ConfigMap>({"default", "nope"}));
  EXPECT_EQ(published_.size(), 2u);
  EXPECT_TRUE(store_.erase<ConfigMap>({"default", "b"}));
  ASSERT_EQ(published_.size(), 3u);
  EXPECT_EQ(store_.current()->config_map("default", "b"), nullptr);
  EXPECT_GT(store_.resource_version(), 101u);
}

TEST_F(ConfigObjectStoreTest, AChangedManifestObjectGetsANewVersion) {
  ConfigObjects files;
  files.config_maps[{"default", "a"}] = config_map("a", {{"k", "1"}});
  files.config_maps[{"default", "b"}] = config_map("b", {{"k", "1"}});
  store_.set_manifest_objects(files);
  const std::string b_version =
      store_.current()->config_map("default", "b")->metadata.resource_version;
  files.config_maps[{"default", "a"}].data["k"] = "2";
  store_.set_manifest_objects(files);
  ASSERT_EQ(published_.size(), 2u);
  EXPECT_EQ(store_.current()->config_map("default", "a")->data.at("k"), "2");
  EXPECT_EQ(store_.current()->config_map("default", "a")->metadata.resource_version, "102");
  EXPECT_EQ(store_.current()->config_map("default", "b")->metadata.resource_version, b_version);
}

TEST_F(ConfigObjectStoreTest, TheManifestObjectWinsAndShadowsTheApiObject) {
  store_.put(config_map("shared", {{"from", "api"}}));
  EXPECT_EQ(store_.source<ConfigMap>({"default", "shared"}), ConfigObjectSource::Api);
  EXPECT_EQ(store_.source<Secret>({"default", "shared"}), std::nullopt);  // kinds are apart

  ConfigObjects files;
  files.config_maps[{"default", "shared"}] = config_map("shared", {{"from", "file"}});
  store_.set_manifest_objects(files);
  EXPECT_EQ(store_.source<ConfigMap>({"default", "shared"}), ConfigObjectSource::Manifest);
  EXPECT_EQ(store_.current()->config_map("default", "shared")->data.at("from"), "file");
  EXPECT_EQ(store_.shadowed(), std::vector<std::string>{"configmaps/default/shared"});
  EXPECT_EQ(store_.api_objects().config_maps.size(), 1u);

  store_.set_manifest_objects({});  // the file is gone: the API object is back
  EXPECT_EQ(store_.current()->config_map("default", "shared")->data.at("from"), "api");
  EXPECT_TRUE(store_.shadowed().empty());
  EXPECT_EQ(published_.size(), 3u);
}

TEST_F(ConfigObjectStoreTest, ASecretIsKeptApartFromAConfigMapOfTheSameName) {
  Secret s;
  s.metadata.name = "same";
  s.metadata.namespace_ = "default";
  s.data["password"] = "hunter2";
  store_.put(s);
  store_.put(config_map("same", {{"k", "v"}}));
  EXPECT_EQ(store_.current()->secret("default", "same")->data.at("password"), "hunter2");
  EXPECT_EQ(store_.current()->config_map("default", "same")->data.at("k"), "v");
  EXPECT_TRUE(store_.erase<Secret>({"default", "same"}));
  EXPECT_EQ(store_.current()->secret("default", "same"), nullptr);
  EXPECT_NE(store_.current()->config_map("default", "same"), nullptr);
}

// ---- the routes ----

struct NoPods : PodSink {
  void create(const model::Pod&) override {}
  void replace(const model::Pod&) override {}
  void remove(const base::PodUid&, int64_t) override {}
};

constexpr const char* kConfigMapJson =
    R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","labels":{"app":"web"}},
        "data":{"mode":"fast"}})";
constexpr const char* kSecretJson =
    R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds"},
        "stringData":{"password":"hunter2"}})";

class ConfigObjectRoutesTest : public ::testing::Test {
 protected:
  ConfigObjectRoutesTest() {
    options_.wall_now = [] { return model::WallTime(std::chrono::seconds(1'767'323'045)); };
    options_.new_uid = [this] { return "uid-" + std::to_string(++uids_); };
    options_.config_objects = &objects_;
    options_.config_object_persistence = &persistence_;
    routes_ = std::make_unique<ApiRoutes>(pods_, sink_, pod_persistence_, options_);
  }

  ApiResponse call(std::string method, std::string target, std::string body = "") {
    ApiRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    if (!r.body.empty()) r.content_type = "application/json";
    r.read_only = read_only_;
    return routes_->handle(r);
  }

  PodStore pods_;
  NoPods sink_;
  MemoryPodPersistence pod_persistence_;
  ConfigObjectStore objects_;
  MemoryConfigObjectPersistence persistence_;
  ApiOptions options_;
  std::unique_ptr<ApiRoutes> routes_;
  int uids_ = 0;
  bool read_only_ = false;
};

constexpr const char* kConfigMaps = "/api/v1/namespaces/default/configmaps";
constexpr const char* kSecrets = "/api/v1/namespaces/default/secrets";

TEST_F(ConfigObjectRoutesTest, CreateSetsServerFieldsPersistsAndStores) {
  const ApiResponse r = call("POST", kConfigMaps, kConfigMapJson);
  ASSERT_EQ(r.status, 201) << r.body;
  const Node body = json(r.body);
  EXPECT_EQ(at(body, "kind"), "ConfigMap");
  EXPECT_EQ(at(body, "metadata.uid"), "uid-1");
  EXPECT_EQ(at(body, "metadata.namespace"), "default");
  EXPECT_EQ(at(body, "metadata.creationTimestamp"), "2026-01-02T03:04:05Z");
  EXPECT_EQ(at(body, "metadata.resourceVersion"), std::to_string(objects_.resource_version()));
  EXPECT_EQ(at(body, "data.mode"), "fast");
  ASSERT_EQ(persistence_.config_maps.count("uid-1"), 1u);
  EXPECT_EQ(persistence_.config_maps["uid-1"].data.at("mode"), "fast");
  ASSERT_NE(objects_.current()->config_map("default", "settings"), nullptr);

  const ApiResponse again = call("POST", kConfigMaps, kConfigMapJson);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(at(json(again.body), "reason"), "AlreadyExists");
}

TEST_F(ConfigObjectRoutesTest, GetAndListWithSelectors) {
  ASSERT_EQ(call("POST", kConfigMaps, kConfigMapJson).status, 201);
  ASSERT_EQ(call("POST", "/api/v1/namespaces/other/configmaps",
                 R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}})")
                .status,
            201);
  const ApiResponse got = call("GET", std::string(kConfigMaps) + "/settings");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(at(json(got.body), "data.mode"), "fast");
  EXPECT_EQ(call("GET", std::string(kConfigMaps) + "/nope").status, 404);

  auto names = [&](const std::string& target) {
    const ApiResponse r = call("GET", target);
    EXPECT_EQ(r.status, 200) << r.body;
    const Node list = json(r.body);
    EXPECT_EQ(at(list, "kind"), "ConfigMapList");
    std::vector<std::string> out;
    if (const Node* items = list.find("items"))
      for (const Node& item : items->items) out.push_back(at(item, "metadata.name"));
    return out;
  };
  EXPECT_EQ(names(kConfigMaps), std::vector<std::string>{"settings"});
  EXPECT_EQ(names("/api/v1/configmaps"), (std::vector<std::string>{"settings", "x"}));
  EXPECT_EQ(names("/api/v1/configmaps?labelSelector=app%3Dweb"),
            std::vector<std::string>{"settings"});
  EXPECT_EQ(names("/api/v1/configmaps?fieldSelector=metadata.name%3Dx"),
            std::vector<std::string>{"x"});
  EXPECT_EQ(call("GET", "/api/v1/configmaps?fieldSelector=status.phase%3DRunning").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/configmaps", kConfigMapJson).status, 405);
}

TEST_F(ConfigObjectRoutesTest, AnInvalidObjectNamesTheField) {
  const ApiResponse r =
      call("POST", kConfigMaps,
           R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}})");
  ASSERT_EQ(r.status, 422) << r.body;
  const Node status = json(r.body);
  EXPECT_EQ(at(status, "reason"), "Invalid");
  const Node* causes = status.find("details") ? status.find("details")->find("causes") : nullptr;
  ASSERT_NE(causes, nullptr) << r.body;
  ASSERT_FALSE(causes->items.empty());
  EXPECT_EQ(at(causes->items[0], "field"), "metadata.name");
  EXPECT_TRUE(persistence_.config_maps.empty());
  EXPECT_TRUE(objects_.current()->config_maps.empty());

  EXPECT_EQ(call("POST", kConfigMaps, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}})")
                .status,
            400);
}

TEST_F(ConfigObjectRoutesTest, ReplaceKeepsIdentityAndChecksTheVersion) {
  const Node created = json(call("POST", kConfigMaps, kConfigMapJson).body);
  const std::string version = at(created, "metadata.resourceVersion");
  const std::string path = std::string(kConfigMaps) + "/settings";
  const ApiResponse r = call("PUT", path,
                             R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings",
                                 "resourceVersion":")" +
                                 version + R"("},"data":{"mode":"slow"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  const Node replaced = json(r.body);
  EXPECT_EQ(at(replaced, "metadata.uid"), "uid-1");
  EXPECT_EQ(at(replaced, "data.mode"), "slow");
  EXPECT_NE(at(replaced, "metadata.resourceVersion"), version);
  EXPECT_EQ(persistence_.config_maps["uid-1"].data.at("mode"), "slow");

  const ApiResponse stale =
      call("PUT", path,
           R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings",
                                     "resourceVersion":")" +
               version + R"("},"data":{"mode":"x"}})");
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(call("PUT", std::string(kConfigMaps) + "/nope",
                 R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"nope"}})")
                .status,
            404);
}

TEST_F(ConfigObjectRoutesTest, AnImmutableObjectRefusesChangesToItsData) {
  ASSERT_EQ(call("POST", kConfigMaps,
                 R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fixed"},
                     "immutable":true,"data":{"a":"1"}})")
                .status,
            201);
  const ApiResponse r = call("PUT", std::string(kConfigMaps) + "/fixed",
                             R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fixed"},
                                 "immutable":true,"data":{"a":"2"}})");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("field is immutable when `immutable` is set"), std::string::npos) << r.body;
  EXPECT_EQ(objects_.current()->config_map("default", "fixed")->data.at("a"), "1");
  // Labels may still change.
  EXPECT_EQ(
      call("PUT", std::string(kConfigMaps) + "/fixed",
           R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fixed","labels":{"l":"v"}},
                     "immutable":true,"data":{"a":"1"}})")
          .status,
      200);
}

TEST_F(ConfigObjectRoutesTest, DeleteForgetsThePersistedObject) {
  ASSERT_EQ(call("POST", kConfigMaps, kConfigMapJson).status, 201);
  const ApiResponse r = call("DELETE", std::string(kConfigMaps) + "/settings");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(at(json(r.body), "status"), "Success");
  EXPECT_TRUE(persistence_.config_maps.empty());
  EXPECT_EQ(objects_.current()->config_map("default", "settings"), nullptr);
  EXPECT_EQ(call("DELETE", std::string(kConfigMaps) + "/settings").status, 404);
}

TEST_F(ConfigObjectRoutesTest, AFailedSaveLeavesNoTrace) {
  persistence_.fail = true;
  EXPECT_EQ(call("POST", kConfigMaps, kConfigMapJson).status, 500);
  EXPECT_TRUE(objects_.current()->config_maps.empty());
}

TEST_F(ConfigObjectRoutesTest, ManifestObjectsAreReadOnlyAndHoldTheirNames) {
  ConfigObjects files;
  files.config_maps[{"default", "settings"}] = config_map("settings", {{"mode", "file"}});
  objects_.set_manifest_objects(files);
  EXPECT_EQ(at(json(call("GET", std::string(kConfigMaps) + "/settings").body), "data.mode"),
            "file");
  EXPECT_EQ(call("POST", kConfigMaps, kConfigMapJson).status, 409);
  EXPECT_EQ(call("PUT", std::string(kConfigMaps) + "/settings", kConfigMapJson).status, 403);
  EXPECT_EQ(call("DELETE", std::string(kConfigMaps) + "/settings").status, 403);
}

TEST_F(ConfigObjectRoutesTest, SecretsAreServedBase64AndTheirValuesNeverInErrors) {
  const ApiResponse r = call("POST", kSecrets, kSecretJson);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(at(json(r.body), "type"), "Opaque");
  EXPECT_EQ(at(json(r.body), "data.password"), "aHVudGVyMg==");  // base64 of hunter2
  EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(objects_.current()->secret("default", "creds")->data.at("password"), "hunter2");

  // Not base64: a 400 that names the key, never the value.
  const ApiResponse bad = call("POST", kSecrets,
                               R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"b"},
                                   "data":{"token":"s3cr3t-n0t-b@se64!"}})");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_NE(bad.body.find("token"), std::string::npos) << bad.body;
  EXPECT_EQ(bad.body.find("s3cr3t"), std::string::npos) << bad.body;

  const ApiResponse type_change =
      call("PUT", std::string(kSecrets) + "/creds",
           R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds"},
                                           "type":"kubernetes.io/basic-auth","stringData":{"password":"x"}})");
  EXPECT_EQ(type_change.status, 422) << type_change.body;

  read_only_ = true;  // a read-only caller may not read secrets at all
  EXPECT_EQ(call("GET", std::string(kSecrets) + "/creds").status, 403);
  EXPECT_EQ(call("GET", "/api/v1/secrets").status, 403);
  EXPECT_EQ(call("GET", kConfigMaps).status, 200);
  EXPECT_EQ(call("POST", kConfigMaps, kConfigMapJson).status, 403);
}

TEST_F(ConfigObjectRoutesTest, DiscoveryListsThem) {
  const ApiResponse r = call("GET", "/api/v1");
  EXPECT_NE(r.body.find(R"("name":"configmaps")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("name":"secrets")"), std::string::npos) << r.body;
}

TEST_F(ConfigObjectRoutesTest, KubectlGetAsksForATable) {
  ASSERT_EQ(call("POST", kSecrets, kSecretJson).status, 201);
  ApiRequest request;
  request.method = "GET";
  request.target = kSecrets;
  request.accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  const ApiResponse r = routes_->handle(request);
  ASSERT_EQ(r.status, 200);
  const Node table = json(r.body);
  EXPECT_EQ(at(table, "kind"), "Table");
  const Node& row = table.find("rows")->items.at(0);
  std::vector<std::string> cells;
  for (const Node& c : row.find("cells")->items) cells.push_back(c.text);
  EXPECT_EQ(cells, (std::vector<std::string>{"creds", "Opaque", "1", "0s"}));
}

// ---- persistence on disk ----

TEST(ConfigObjectPersistenceTest, SecretsAreWrittenOwnerOnlyAndReadBack) {
  testing::TempDir dir;
  ApiConfigObjectPersistence files(dir.path());
  Secret s;
  s.metadata.name = "creds";
  s.metadata.namespace_ = "default";
  s.metadata.uid = "uid-s";
  s.metadata.resource_version = "9";
  s.type = "Opaque";
  s.data["password"] = "hunter2";
  ASSERT_TRUE(files.save(s).ok());
  ConfigMap c = config_map("settings", {{"a", "b"}});
  c.metadata.uid = "uid-c";
  ASSERT_TRUE(files.save(c).ok());

  const fs::path secret_file = files.secret_directory() / "uid-s.json";
  struct stat st {};
  ASSERT_EQ(::stat(secret_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(files.secret_directory().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  LoadedConfigObjects loaded = ApiConfigObjectPersistence(dir.path()).load_all();
  EXPECT_TRUE(loaded.problems.empty());
  Secret expected = s;
  expected.metadata.resource_version.clear();
  ASSERT_NE(loaded.objects.secret("default", "creds"), nullptr);
  EXPECT_EQ(*loaded.objects.secret("default", "creds"), expected);
  EXPECT_NE(loaded.objects.config_map("default", "settings"), nullptr);

  ASSERT_TRUE(files.remove(s).ok());
  EXPECT_FALSE(fs::exists(secret_file));
  EXPECT_TRUE(files.remove(s).ok());  // already gone: fine
}

TEST(ConfigObjectPersistenceTest, ABadSecretFileIsReportedWithoutItsValue) {
  testing::TempDir dir;
  ApiConfigObjectPersistence files(dir.path());
  fs::create_directories(files.secret_directory());
  std::ofstream(files.secret_directory() / "uid-x.json")
      << R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"x","uid":"uid-x"},
            "data":{"k":"s3cr3t-n0t-b@se64!"}})";
  LoadedConfigObjects loaded = files.load_all();
  EXPECT_TRUE(loaded.objects.secrets.empty());
  ASSERT_EQ(loaded.problems.size(), 1u);
  EXPECT_NE(loaded.problems[0].find("uid-x.json"), std::string::npos) << loaded.problems[0];
  EXPECT_EQ(loaded.problems[0].find("s3cr3t"), std::string::npos) << loaded.problems[0];
}

// ---- the whole agent ----

TEST(ConfigObjectsAgentTest, ApiObjectsSurviveARestart) {
  testing::TempDir dir;
  const config::AgentConfig config = testing::test_config(dir.path());
  {
    AgentOptions options;
    options.config = config;
    testing::RunningAgent agent(std::move(options));
    ASSERT_TRUE(agent.start().ok());
    const auto r = testing::http(config.api.socket, "POST", kSecrets, kSecretJson);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  // On disk: owner-only, and no plain value.
  const fs::path secrets = fs::path(config.state_dir) / "api-secrets";
  ASSERT_TRUE(fs::exists(secrets));
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(secrets)) {
    ++files;
    EXPECT_EQ(entry.status().permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
  }
  EXPECT_EQ(files, 1u);

  AgentOptions options;
  options.config = config;
  testing::RunningAgent again(std::move(options));
  ASSERT_TRUE(again.start().ok());
  const auto got = testing::http(config.api.socket, "GET", std::string(kSecrets) + "/creds");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(at(json(got.body), "data.password"), "aHVudGVyMg==");
  const std::string password = again.on_io([&] {
    return again.agent()
        .config_objects()
        .current()
        ->secret("default", "creds")
        ->data.at("password");
  });
  EXPECT_EQ(password, "hunter2");
}

TEST(ConfigObjectsAgentTest, AManifestFileObjectIsServedReadOnlyAndPublished) {
  testing::TempDir dir;
  const config::AgentConfig config = testing::test_config(dir.path());
  testing::write_file(fs::path(config.manifest_dir) / "settings.yaml",
                      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                      "data:\n  mode: file\n");
  AgentOptions options;
  options.config = config;
  testing::RunningAgent agent(std::move(options));
  std::vector<ConfigObjectsPtr> published;
  // Before start(): the io_context thread does not run yet.
  agent.agent().config_objects().on_change(
      [&](const ConfigObjectsPtr& view) { published.push_back(view); });
  ASSERT_TRUE(agent.start().ok());
  ASSERT_TRUE(testing::wait_for([&] { return agent.on_io([&] { return agent.agent().ready(); }); }));

  const std::string path = std::string(kConfigMaps) + "/settings";
  const auto got = testing::http(config.api.socket, "GET", path);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(at(json(got.body), "data.mode"), "file");
  EXPECT_EQ(testing::http(config.api.socket, "POST", kConfigMaps, kConfigMapJson).status, 409);
  EXPECT_EQ(testing::http(config.api.socket, "DELETE", path).status, 403);
  const size_t seen = agent.on_io([&] { return published.size(); });
  EXPECT_EQ(seen, 1u);
}

// ---- protobuf bodies ----

// What `kubectl create secret generic s --from-literal=password=hunter2
// --from-literal=x=y` (v1.32) sent.
TEST(ApiProtobufTest, DecodesASecretAsKubectlSendsIt) {
  const std::string body(
      "k8s\000\012\014\012\002v1\022\006Secret\0222\012\021\012\001"
      "s\022\000\032\000\042\000*"
      "\0002\0008\000B\000\022\023\012\010password\022\007hunter2\022\006\012\001x\022\001y\032\000"
      "\032\000\042\000",
      74);
  auto node = decode_protobuf_object(body);
  ASSERT_TRUE(node.ok()) << node.error().message;
  EXPECT_EQ(model::to_json(*node), R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},)"
                                   R"("data":{"password":"aHVudGVyMg==","x":"eQ=="}})");
  EXPECT_TRUE(is_protobuf_media_type("application/vnd.kubernetes.protobuf"));

  EXPECT_FALSE(decode_protobuf_object(body.substr(0, 40)).ok());  // truncated
  EXPECT_FALSE(decode_protobuf_object("{}").ok());                // no magic
}

// ---- the real kubectl ----

constexpr const char* kKubectl = "/usr/bin/kubectl";

struct KubectlRun {
  int exit_code = -1;  // -1: killed (by its alarm: it hung) or did not run
  std::string out;
  std::string err;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// kubectl against a plain-HTTP API server on loopback, served by the routes
// on an io thread, as `kubectl --server http://127.0.0.1:PORT ...`.
class KubectlConfigObjectsTest : public ::testing::Test {
 protected:
  KubectlConfigObjectsTest() {
    options_.config_objects = &objects_;
    options_.config_object_persistence = &persistence_;
    routes_ = std::make_unique<ApiRoutes>(pods_, sink_, pod_persistence_, options_);
  }
  ~KubectlConfigObjectsTest() override {
    if (server_) io_thread_.run([&] { server_->stop(); });
    io_thread_.join();
  }

  void SetUp() override {
    if (!fs::exists(kKubectl)) GTEST_SKIP() << kKubectl << " is not installed";
    server_ = std::make_unique<HttpServer>(
        io_thread_.io(), [this](const ApiRequest& r) { return routes_->handle(r); });
    io_thread_.start();
    io_thread_.run([&] {
      auto port = server_->listen_tcp({});
      ASSERT_TRUE(port.ok()) << port.error().message;
      port_ = *port;
    });
  }

  KubectlRun kubectl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kKubectl, "--server=http://127.0.0.1:" + std::to_string(port_),
                                     "--request-timeout=10s"};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::vector<std::string> env = {"HOME=" + dir_.path().string(),
                                          "KUBECACHEDIR=" + (dir_.path() / "cache").string(),
                                          "PATH=/usr/bin:/bin", "LANG=C"};
    const fs::path out = dir_.path() / "out", err = dir_.path() / "err";
    std::vector<char*> args_c, env_c;
    for (const auto& a : argv) args_c.push_back(const_cast<char*>(a.c_str()));
    for (const auto& e : env) env_c.push_back(const_cast<char*>(e.c_str()));
    args_c.push_back(nullptr);
    env_c.push_back(nullptr);
    KubectlRun run;
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::alarm(60);  // a guard against a hang, not a wait: kills a stuck kubectl
      ::execve(args_c[0], args_c.data(), env_c.data());
      ::_exit(127);
    }
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status))
      run.exit_code = WEXITSTATUS(status);
    run.out = read_text(out);
    run.err = read_text(err);
    return run;
  }

  ConfigObjectsPtr view() {
    ConfigObjectsPtr v;
    io_thread_.run([&] { v = objects_.current(); });
    return v;
  }

  static bool matches(const std::string& text, const std::string& pattern) {
    return std::regex_search(text, std::regex(pattern));
  }

  testing::TempDir dir_;
  testing::IoThread io_thread_;
  PodStore pods_;
  NoPods sink_;
  MemoryPodPersistence pod_persistence_;
  ConfigObjectStore objects_;
  MemoryConfigObjectPersistence persistence_;
  ApiOptions options_;
  std::unique_ptr<ApiRoutes> routes_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(KubectlConfigObjectsTest, CreateGetAndDeleteAConfigMap) {
  KubectlRun r = kubectl({"create", "configmap", "x", "--from-literal=a=b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "configmap/x created\n");
  ASSERT_NE(view()->config_map("default", "x"), nullptr);
  EXPECT_EQ(view()->config_map("default", "x")->data.at("a"), "b");

  r = kubectl({"get", "configmap", "x", "-o", "yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(matches(r.out, R"(\nkind: ConfigMap\n)")) << r.out;
  EXPECT_TRUE(matches(r.out, R"((^|\n)data:\n  a: b\n)")) << r.out;
  EXPECT_TRUE(matches(r.out, R"(\n  name: x\n)")) << r.out;
  EXPECT_TRUE(matches(r.out, R"(\n  uid: \S+\n)")) << r.out;

  r = kubectl({"get", "configmaps"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(matches(r.out, R"(^NAME +DATA +AGE\nx +1 +\S+\n$)")) << r.out;

  r = kubectl({"delete", "configmap", "x"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "configmap \"x\" deleted\n");
  EXPECT_EQ(view()->config_map("default", "x"), nullptr);
  r = kubectl({"get", "configmap", "x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(matches(r.err, R"(configmaps "x" not found)")) << r.err;
}

TEST_F(KubectlConfigObjectsTest, CreateGetAndDeleteAGenericSecret) {
  KubectlRun r = kubectl({"create", "secret", "generic", "s", "--from-literal=password=hunter2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "secret/s created\n");
  ASSERT_NE(view()->secret("default", "s"), nullptr);
  EXPECT_EQ(view()->secret("default", "s")->data.at("password"), "hunter2");

  r = kubectl({"get", "secret", "s", "-o", "yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(matches(r.out, R"(\n  password: aHVudGVyMg==\n)")) << r.out;
  EXPECT_TRUE(matches(r.out, R"(\ntype: Opaque\n)")) << r.out;

  r = kubectl({"get", "secrets"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(matches(r.out, R"(^NAME +TYPE +DATA +AGE\ns +Opaque +1 +\S+\n$)")) << r.out;

  r = kubectl({"delete", "secret", "s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "secret \"s\" deleted\n");
  EXPECT_EQ(view()->secret("default", "s"), nullptr);
}

}  // namespace
}  // namespace podagent::agent
