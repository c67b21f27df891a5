// The ephemeralcontainers subresource: each kind of patch and PUT adds
// ephemeral containers and nothing else; existing ones cannot change or
// go; validation errors are 422 with field paths; what is added is
// persisted like the rest of the pod.

#include <gtest/gtest.h>

#include <filesystem>

#include "agent/api_routes.h"
#include "agent/object_patch.h"
#include "model/defaults.h"
#include "model/document.h"
#include "model/pod_codec.h"

namespace podagent::agent {
namespace {

namespace fs = std::filesystem;
using model::Node;

constexpr const char* kPath = "/api/v1/namespaces/default/pods/web/ephemeralcontainers";
constexpr const char* kStrategic = "application/strategic-merge-patch+json";
constexpr const char* kMerge = "application/merge-patch+json";
constexpr const char* kJsonPatch = "application/json-patch+json";

// What `kubectl debug web --image=busybox --target=app -- sh -c 'echo hi'`
// sends (kubectl 1.32, name "debugger-x7k2p").
constexpr const char* kKubectlPatch =
    R"({"spec":{"ephemeralContainers":[{"command":["sh","-c","echo hi"],
  "image":"busybox","imagePullPolicy":"Always","name":"debugger-x7k2p","resources":{},
  "targetContainerName":"app","terminationMessagePath":"/dev/termination-log",
  "terminationMessagePolicy":"File"}]}})";

struct FakeSink : PodSink {
  std::vector<std::string> calls;
  std::vector<model::Pod> replaced;
  void create(const model::Pod& pod) override { calls.push_back("create " + pod.metadata.name); }
  void replace(const model::Pod& pod) override {
    calls.push_back("replace " + pod.metadata.name);
    replaced.push_back(pod);
  }
  void remove(const base::PodUid& uid, int64_t) override { calls.push_back("remove " + uid.str()); }
};

Node parse(const std::string& text) {
  auto docs = model::parse_documents(text);
  EXPECT_TRUE(docs.ok() && docs->size() == 1) << text;
  return docs.ok() && !docs->empty() ? docs->front() : Node{};
}

class ApiEphemeralTest : public testing::Test {
 protected:
  ApiEphemeralTest() {
    std::string tmpl = (fs::temp_directory_path() / "podagent-api-ephemeral-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    persistence_ = std::make_unique<ApiPodPersistence>(dir_);
    options_.new_uid = [] { return std::string("uid-web"); };
    routes_ = std::make_unique<ApiRoutes>(store_, sink_, *persistence_, options_);
  }
  ~ApiEphemeralTest() override { fs::remove_all(dir_); }

  ApiResponse call(std::string method, std::string target, std::string body = "",
                   std::string content_type = "application/json") {
    ApiRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.content_type = std::move(content_type);
    r.read_only = read_only_;
    return routes_->handle(r);
  }
  void create_web() {
    ApiResponse r = call("POST", "/api/v1/namespaces/default/pods",
                         R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
                             "spec":{"containers":[{"name":"app","image":"nginx:1.25"}]}})");
    ASSERT_EQ(r.status, 201) << r.body;
    sink_.calls.clear();
  }
  std::vector<model::Container> stored_ephemeral() {
    PodPtr p = store_.get("default", "web");
    return p ? p->spec.ephemeral_containers : std::vector<model::Container>{};
  }
  // The causes of a 422 as "field: reason" lines.
  static std::vector<std::string> causes(const ApiResponse& r) {
    std::vector<std::string> out;
    const Node body = parse(r.body);
    if (const Node* details = body.find("details"))
      if (const Node* list = details->find("causes"))
        for (const Node& c : list->items)
          out.push_back(c.find("field")->text + ": " + c.find("reason")->text);
    return out;
  }

  fs::path dir_;
  PodStore store_;
  FakeSink sink_;
  std::unique_ptr<ApiPodPersistence> persistence_;
  ApiOptions options_;
  std::unique_ptr<ApiRoutes> routes_;
  bool read_only_ = false;
};

TEST_F(ApiEphemeralTest, KubectlsStrategicMergePatchAddsTheContainer) {
  create_web();
  const std::string rv_before = store_.get("default", "web")->metadata.resource_version;
  ApiResponse r = call("PATCH", kPath, kKubectlPatch, kStrategic);
  ASSERT_EQ(r.status, 200) << r.body;
  auto eph = stored_ephemeral();
  ASSERT_EQ(eph.size(), 1u);
  EXPECT_EQ(eph[0].name, "debugger-x7k2p");
  EXPECT_EQ(eph[0].target_container_name, "app");
  EXPECT_EQ(eph[0].command, (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_EQ(sink_.calls, std::vector<std::string>{"replace web"});
  ASSERT_EQ(sink_.replaced.size(), 1u);
  EXPECT_EQ(sink_.replaced[0].spec.ephemeral_containers, eph);
  EXPECT_NE(store_.get("default", "web")->metadata.resource_version, rv_before);
  // The answer is the pod, with the container.
  const Node answer = parse(r.body);
  EXPECT_EQ(answer.find("kind")->text, "Pod");
  EXPECT_EQ(answer.find("spec")->find("ephemeralContainers")->items.size(), 1u);
  // GET of the subresource shows the same.
  ApiResponse got = call("GET", kPath);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(parse(got.body).find("spec")->find("ephemeralContainers")->items.size(), 1u);

  // A second debugger merges in beside the first, by name.
  r = call(
      "PATCH", kPath,
      R"({"spec":{"$setElementOrder/ephemeralContainers":[{"name":"debugger-x7k2p"},{"name":"two"}],
               "ephemeralContainers":[{"name":"two","image":"busybox"}]}})",
      kStrategic);
  ASSERT_EQ(r.status, 200) << r.body;
  eph = stored_ephemeral();
  ASSERT_EQ(eph.size(), 2u);
  EXPECT_EQ(eph[0].name, "debugger-x7k2p");
  EXPECT_EQ(eph[1].name, "two");
}

TEST_F(ApiEphemeralTest, MergePatchAndJsonPatchAndPut) {
  create_web();
  ApiResponse r =
      call("PATCH", kPath, R"({"spec":{"ephemeralContainers":[{"name":"m","image":"busybox"}]}})",
           kMerge);
  ASSERT_EQ(r.status, 200) << r.body;
  r = call(
      "PATCH", kPath,
      R"([{"op":"add","path":"/spec/ephemeralContainers/-","value":{"name":"j","image":"busybox"}}])",
      kJsonPatch);
  ASSERT_EQ(r.status, 200) << r.body;
  // PUT takes a whole pod; only its ephemeral containers count.
  Node put = parse(R"({"spec":{"containers":[{"name":"app","image":"other:2"}],
      "ephemeralContainers":[{"name":"m","image":"busybox"},{"name":"j","image":"busybox"},
                             {"name":"p","image":"busybox"}]}})");
  r = call("PATCH", kPath, model::to_json(put), kMerge);  // merge keeps metadata
  ASSERT_EQ(r.status, 200) << r.body;
  Node whole = parse(call("GET", kPath).body);
  Node* eph_list = nullptr;
  for (auto& [k, v] : whole.entries)
    if (k == "spec")
      for (auto& [k2, v2] : v.entries)
        if (k2 == "ephemeralContainers") eph_list = &v2;
  ASSERT_NE(eph_list, nullptr);
  eph_list->push(parse(R"({"name":"q","image":"busybox"})"));
  r = call("PUT", kPath, model::to_json(whole));
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<std::string> names;
  for (const auto& c : stored_ephemeral()) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"m", "j", "p", "q"}));
  EXPECT_EQ(store_.get("default", "web")->spec.containers[0].image, "nginx:1.25")
      << "the app containers are not the subresource's to change";
}

TEST_F(ApiEphemeralTest, ValidationErrorsAre422WithFieldPaths) {
  create_web();
  ApiResponse r = call("PATCH", kPath, R"({"spec":{"ephemeralContainers":[
      {"name":"d","image":"busybox","ports":[{"containerPort":80}],
       "readinessProbe":{"exec":{"command":["true"]}},"resources":{"limits":{"cpu":"1"}},
       "targetContainerName":"nope"},
      {"name":"app","image":"busybox"}]}})",
                       kStrategic);
  ASSERT_EQ(r.status, 422) << r.body;
  const auto c = causes(r);
  auto has = [&](const std::string& s) { return std::find(c.begin(), c.end(), s) != c.end(); };
  EXPECT_TRUE(has("spec.ephemeralContainers[0].ports: FieldValueForbidden")) << r.body;
  EXPECT_TRUE(has("spec.ephemeralContainers[0].readinessProbe: FieldValueForbidden")) << r.body;
  EXPECT_TRUE(has("spec.ephemeralContainers[0].resources: FieldValueForbidden")) << r.body;
  EXPECT_TRUE(has("spec.ephemeralContainers[0].targetContainerName: FieldValueNotFound")) << r.body;
  EXPECT_TRUE(has("spec.ephemeralContainers[1].name: FieldValueDuplicate")) << r.body;
  EXPECT_TRUE(stored_ephemeral().empty());
  EXPECT_TRUE(sink_.calls.empty());
}

TEST_F(ApiEphemeralTest, ExistingOnesCanNeitherChangeNorGo) {
  create_web();
  ASSERT_EQ(call("PATCH", kPath, kKubectlPatch, kStrategic).status, 200);
  sink_.calls.clear();
  ApiResponse r =
      call("PATCH", kPath,
           R"({"spec":{"ephemeralContainers":[{"name":"debugger-x7k2p","image":"alpine"}]}})",
           kStrategic);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(causes(r),
            std::vector<std::string>{"spec.ephemeralContainers[0]: FieldValueForbidden"});
  EXPECT_NE(r.body.find("may not be changed"), std::string::npos) << r.body;

  r = call("PATCH", kPath, R"({"spec":{"ephemeralContainers":null}})", kMerge);
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("existing ephemeral containers \\\"debugger-x7k2p\\\" may not be removed"),
            std::string::npos)
      << r.body;
  r = call("PATCH", kPath,
           R"({"spec":{"ephemeralContainers":[{"name":"debugger-x7k2p","$patch":"delete"}]}})",
           kStrategic);
  EXPECT_EQ(r.status, 422) << r.body;
  r = call("PATCH", kPath, R"([{"op":"remove","path":"/spec/ephemeralContainers/0"}])", kJsonPatch);
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(stored_ephemeral().size(), 1u);
  EXPECT_EQ(stored_ephemeral()[0].image, "busybox");
  EXPECT_TRUE(sink_.calls.empty());
}

TEST_F(ApiEphemeralTest, ErrorsOfTheRequest) {
  EXPECT_EQ(call("PATCH", kPath, kKubectlPatch, kStrategic).status, 404);
  create_web();
  EXPECT_EQ(call("DELETE", kPath).status, 405);
  EXPECT_EQ(call("PATCH", kPath, kKubectlPatch, "application/apply-patch+yaml").status, 415);
  EXPECT_EQ(call("PATCH", kPath, "{not json", kStrategic).status, 400);
  EXPECT_EQ(
      call("PATCH", kPath, R"([{"op":"test","path":"/metadata/name","value":"other"}])", kJsonPatch)
          .status,
      400);
  EXPECT_EQ(call("PATCH", kPath, R"({"metadata":{"resourceVersion":"99999"}})", kMerge).status,
            409);
  read_only_ = true;
  EXPECT_EQ(call("PATCH", kPath, kKubectlPatch, kStrategic).status, 403);
  EXPECT_EQ(call("GET", kPath).status, 200);
  read_only_ = false;
  ASSERT_EQ(call("DELETE", "/api/v1/namespaces/default/pods/web").status, 200);
  EXPECT_EQ(call("PATCH", kPath, kKubectlPatch, kStrategic).status, 409);
}

TEST_F(ApiEphemeralTest, StaticPodsTakeThemWithoutPersistence) {
  model::Pod pod;
  pod.metadata.name = "web";
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "static-uid";
  pod.metadata.annotations[std::string(kConfigSourceAnnotation)] = "file";
  model::Container app;
  app.name = "app";
  app.image = "nginx:1.25";
  pod.spec.containers.push_back(app);
  model::apply_defaults(pod);
  store_.put(pod);
  ApiResponse r = call("PATCH", kPath, kKubectlPatch, kStrategic);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(stored_ephemeral().size(), 1u);
  EXPECT_EQ(sink_.calls, std::vector<std::string>{"replace web"});
  EXPECT_TRUE(ApiPodPersistence(dir_).load_all().pods.empty())
      << "a static pod is never saved as an API pod";
}

TEST_F(ApiEphemeralTest, AddedContainersSurviveARestart) {
  create_web();
  ASSERT_EQ(call("PATCH", kPath, kKubectlPatch, kStrategic).status, 200);
  LoadedPods loaded = ApiPodPersistence(dir_).load_all();
  ASSERT_TRUE(loaded.problems.empty());
  ASSERT_EQ(loaded.pods.size(), 1u);
  EXPECT_EQ(loaded.pods[0].spec.ephemeral_containers, stored_ephemeral());
  EXPECT_EQ(loaded.pods[0].spec.ephemeral_containers.size(), 1u);
}

TEST_F(ApiEphemeralTest, DryRunChangesNothing) {
  create_web();
  ApiResponse r = call("PATCH", std::string(kPath) + "?dryRun=All", kKubectlPatch, kStrategic);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse(r.body).find("spec")->find("ephemeralContainers")->items.size(), 1u);
  EXPECT_TRUE(stored_ephemeral().empty());
  EXPECT_TRUE(sink_.calls.empty());
}

// ---- The patch functions themselves ----

TEST(ObjectPatchTest, JsonPatchOperations) {
  Node doc = parse(R"({"a":{"b":[1,2]},"c~d":"x"})");
  auto out = apply_json_patch(doc, parse(R"([
      {"op":"add","path":"/a/b/1","value":9},
      {"op":"replace","path":"/c~0d","value":"y"},
      {"op":"copy","from":"/a/b","path":"/e"},
      {"op":"move","from":"/e","path":"/f"},
      {"op":"remove","path":"/a/b/0"},
      {"op":"test","path":"/f","value":[1,9,2]}])"));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(model::to_json(*out), R"({"a":{"b":[9,2]},"c~d":"y","f":[1,9,2]})");
  EXPECT_FALSE(apply_json_patch(doc, parse(R"([{"op":"remove","path":"/nope"}])")).ok());
  EXPECT_FALSE(apply_json_patch(doc, parse(R"([{"op":"add","path":"/a/b/7","value":1}])")).ok());
}

TEST(ObjectPatchTest, MergeAndStrategicMerge) {
  Node doc = parse(R"({"l":[{"name":"a","v":1},{"name":"b","v":2}],"k":1,"m":{"x":1}})");
  auto merged = apply_merge_patch(doc, parse(R"({"l":[{"name":"c"}],"k":null,"m":{"y":2}})"));
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(model::to_json(*merged), R"({"l":[{"name":"c"}],"m":{"x":1,"y":2}})");
  auto strategic = apply_strategic_merge_patch(
      doc,
      parse(
          R"({"l":[{"name":"b","v":3},{"name":"a","$patch":"delete"},{"name":"c"}],"m":{"y":2}})"));
  ASSERT_TRUE(strategic.ok());
  EXPECT_EQ(model::to_json(*strategic),
            R"({"l":[{"name":"b","v":3},{"name":"c"}],"k":1,"m":{"x":1,"y":2}})");
}

}  // namespace
}  // namespace podagent::agent
