#include "agent/api_routes.h"

#include <gtest/gtest.h>

#include "model/document.h"

namespace podagent::agent {
namespace {

using model::Node;

struct FakeSink : PodSink {
  std::vector<std::string> calls;
  void create(const model::Pod& pod) override { calls.push_back("create " + pod.metadata.name); }
  void replace(const model::Pod& pod) override { calls.push_back("replace " + pod.metadata.name); }
  void remove(const base::PodUid& uid, int64_t grace) override {
    calls.push_back("remove " + uid.str() + " " + std::to_string(grace));
  }
};

constexpr const char* kPodJson = R"({"apiVersion":"v1","kind":"Pod",
  "metadata":{"name":"web","labels":{"app":"web"}},
  "spec":{"containers":[{"name":"app","image":"nginx:1.25"}]}})";

constexpr const char* kPodYaml = R"(apiVersion: v1
kind: Pod
metadata:
  name: db
  labels: {app: db}
spec:
  containers:
  - name: db
    image: postgres:16
)";

Node json(const std::string& text) {
  auto docs = model::parse_documents(text);
  EXPECT_TRUE(docs.ok()) << text;
  if (!docs.ok() || docs->empty()) return Node{};
  return docs->front();
}

// The text of a scalar at a dotted path ("metadata.name"), "" when absent.
std::string at(const Node& n, std::string_view path) {
  const Node* cur = &n;
  while (!path.empty() && cur) {
    const size_t dot = path.find('.');
    cur = cur->find(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  }
  return cur ? cur->text : "";
}

class ApiRoutesTest : public testing::Test {
 protected:
  ApiRoutesTest() {
    options_.wall_now = [] {
      return model::WallTime(std::chrono::seconds(1'767'323'045));
    };  // 2026-01-02T03:04:05Z
    options_.new_uid = [this] { return "uid-" + std::to_string(++uids_); };
    options_.ready = [this] { return ready_; };
    options_.metrics = [] { return std::string("podagent_up 1\n"); };
    routes_ = std::make_unique<ApiRoutes>(store_, sink_, persistence_, options_);
  }

  ApiResponse call(std::string method, std::string target, std::string body = "",
                   std::string content_type = "application/json") {
    ApiRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    if (!r.body.empty()) r.content_type = std::move(content_type);
    r.read_only = read_only_;
    return routes_->handle(r);
  }

  ApiResponse create(const char* body = kPodJson) {
    return call("POST", "/api/v1/namespaces/default/pods", body);
  }

  PodStore store_;
  FakeSink sink_;
  MemoryPodPersistence persistence_;
  ApiOptions options_;
  std::unique_ptr<ApiRoutes> routes_;
  int uids_ = 0;
  bool ready_ = true;
  bool read_only_ = false;
};

TEST_F(ApiRoutesTest, HealthAndReadiness) {
  EXPECT_EQ(call("GET", "/healthz").body, "ok");
  EXPECT_EQ(call("GET", "/livez").status, 200);
  ready_ = false;
  EXPECT_EQ(call("GET", "/readyz").status, 500);
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  ready_ = true;
  EXPECT_EQ(call("GET", "/readyz").status, 200);
}

TEST_F(ApiRoutesTest, VersionAndDiscovery) {
  Node version = json(call("GET", "/version").body);
  EXPECT_EQ(at(version, "major"), "1");
  EXPECT_EQ(at(version, "minor"), "32");
  EXPECT_EQ(at(version, "gitVersion"), "v1.32.0-podagent.0.1.0");

  Node api = json(call("GET", "/api").body);
  EXPECT_EQ(at(api, "kind"), "APIVersions");
  ASSERT_TRUE(api.find("versions"));
  EXPECT_EQ(api.find("versions")->items.at(0).text, "v1");

  Node v1 = json(call("GET", "/api/v1").body);
  EXPECT_EQ(at(v1, "kind"), "APIResourceList");
  const Node& pods = v1.find("resources")->items.at(0);
  EXPECT_EQ(at(pods, "name"), "pods");
  EXPECT_EQ(at(pods, "kind"), "Pod");
  EXPECT_EQ(at(pods, "namespaced"), "true");
  std::vector<std::string> verbs;
  for (const auto& v : pods.find("verbs")->items) verbs.push_back(v.text);
  EXPECT_EQ(verbs,
            (std::vector<std::string>{"create", "delete", "get", "list", "update", "watch"}));
  EXPECT_EQ(pods.find("shortNames")->items.at(0).text, "po");
  std::vector<std::string> names;
  for (const auto& r : v1.find("resources")->items) names.push_back(at(r, "name"));
  EXPECT_EQ(names, (std::vector<std::string>{"pods", "pods/log", "pods/status", "events"}));

  Node apis = json(call("GET", "/apis").body);
  EXPECT_EQ(at(apis, "kind"), "APIGroupList");
  EXPECT_TRUE(apis.find("groups")->is_sequence());
  EXPECT_TRUE(apis.find("groups")->items.empty());
}

TEST_F(ApiRoutesTest, UnknownPathsAndWrongMethods) {
  ApiResponse missing = call("GET", "/api/v2/pods");
  EXPECT_EQ(missing.status, 404);
  Node status = json(missing.body);
  EXPECT_EQ(at(status, "kind"), "Status");
  EXPECT_EQ(at(status, "status"), "Failure");
  EXPECT_EQ(at(status, "reason"), "NotFound");
  EXPECT_EQ(at(status, "code"), "404");
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/services").status, 404);
  EXPECT_EQ(call("POST", "/healthz").status, 405);
  EXPECT_EQ(call("DELETE", "/api/v1/pods").status, 405);
  EXPECT_EQ(call("PATCH", "/api/v1/namespaces/default/pods/web", "{}").status, 405);
  EXPECT_EQ(at(json(call("PUT", "/api/v1/namespaces/default/pods").body), "reason"),
            "MethodNotAllowed");
}

TEST_F(ApiRoutesTest, MetricsHookAndLogStub) {
  ApiResponse metrics = call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body, "podagent_up 1\n");
  EXPECT_TRUE(metrics.content_type.starts_with("text/plain; version=0.0.4"));
  // The log route exists: a pod it does not know is 404.
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/pods/web/log").status, 404);
}

TEST_F(ApiRoutesTest, CreateAssignsServerFieldsPersistsAndTellsTheSink) {
  ApiResponse r = create();
  ASSERT_EQ(r.status, 201) << r.body;
  Node pod = json(r.body);
  EXPECT_EQ(at(pod, "metadata.name"), "web");
  EXPECT_EQ(at(pod, "metadata.namespace"), "default");
  EXPECT_EQ(at(pod, "metadata.uid"), "uid-1");
  EXPECT_EQ(at(pod, "metadata.creationTimestamp"), "2026-01-02T03:04:05Z");
  EXPECT_EQ(at(pod, "metadata.resourceVersion"), "1");
  EXPECT_EQ(at(pod, "status.phase"), "Pending");
  EXPECT_EQ(at(pod, "spec.restartPolicy"), "Always");  // defaulted
  EXPECT_EQ(pod.find("metadata")->find("annotations")->find("kubernetes.io/config.source")->text,
            "api");

  ASSERT_EQ(persistence_.pods.count("uid-1"), 1u);
  EXPECT_EQ(persistence_.pods["uid-1"].metadata.name, "web");
  EXPECT_EQ(sink_.calls, (std::vector<std::string>{"create web"}));
  EXPECT_TRUE(store_.get("default", "web"));
}

TEST_F(ApiRoutesTest, CreateAcceptsYamlAndRefusesOtherMediaTypes) {
  EXPECT_EQ(call("POST", "/api/v1/namespaces/default/pods", kPodYaml, "application/yaml").status,
            201);
  ApiResponse r = call("POST", "/api/v1/namespaces/default/pods", kPodJson, "text/plain");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(at(json(r.body), "reason"), "UnsupportedMediaType");
  EXPECT_EQ(
      call("POST", "/api/v1/namespaces/default/pods", kPodJson, "application/json; charset=utf-8")
          .status,
      201);
}

TEST_F(ApiRoutesTest, CreateRefusesANameThatExists) {
  ASSERT_EQ(create().status, 201);
  ApiResponse again = create();
  EXPECT_EQ(again.status, 409);
  Node status = json(again.body);
  EXPECT_EQ(at(status, "reason"), "AlreadyExists");
  EXPECT_EQ(at(status, "message"), "pods \"web\" already exists");
  EXPECT_EQ(sink_.calls.size(), 1u);
}

TEST_F(ApiRoutesTest, CreateReportsEveryValidationErrorAsACause) {
  ApiResponse r = create(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"Bad_Name"},
    "spec":{"restartPolicy":"Sometimes","containers":[{"name":"app"}]}})");
  ASSERT_EQ(r.status, 422) << r.body;
  Node status = json(r.body);
  EXPECT_EQ(at(status, "reason"), "Invalid");
  EXPECT_EQ(at(status, "details.kind"), "Pod");
  EXPECT_EQ(at(status, "details.name"), "Bad_Name");
  EXPECT_TRUE(at(status, "message").starts_with("Pod \"Bad_Name\" is invalid: ["))
      << at(status, "message");
  std::vector<std::string> fields;
  for (const auto& c : status.find("details")->find("causes")->items)
    fields.push_back(at(c, "field"));
  EXPECT_NE(std::find(fields.begin(), fields.end(), "metadata.name"), fields.end());
  EXPECT_NE(std::find(fields.begin(), fields.end(), "spec.restartPolicy"), fields.end());
  EXPECT_NE(std::find(fields.begin(), fields.end(), "spec.containers[0].image"), fields.end());
  const Node& first = status.find("details")->find("causes")->items.at(0);
  EXPECT_TRUE(at(first, "reason").starts_with("FieldValue"));
  EXPECT_TRUE(persistence_.pods.empty());
  EXPECT_TRUE(sink_.calls.empty());
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(ApiRoutesTest, CreateChecksNamespaceAndBodyShape) {
  ApiResponse mismatch =
      create(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","namespace":"prod"},
    "spec":{"containers":[{"name":"a","image":"busybox"}]}})");
  EXPECT_EQ(mismatch.status, 400);
  EXPECT_EQ(create("{not json").status, 400);
  EXPECT_EQ(create(R"({"apiVersion":"v1","kind":"List","items":[]})").status, 400);
  EXPECT_EQ(
      create(
          R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containers":"no"}})")
          .status,
      400);
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(ApiRoutesTest, CreateWarnsAboutUnknownFieldsAndGeneratesNames) {
  ApiResponse r = create(R"({"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"job-"},
    "spec":{"bogus":1,"containers":[{"name":"a","image":"busybox"}]}})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.warnings, (std::vector<std::string>{"unknown field \"spec.bogus\""}));
  const std::string name = at(json(r.body), "metadata.name");
  EXPECT_TRUE(name.starts_with("job-")) << name;
  EXPECT_EQ(name.size(), 9u);
}

TEST_F(ApiRoutesTest, StrictFieldValidationRefusesUnknownFields) {
  const char* body = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},
    "spec":{"bogus":1,"containers":[{"name":"a","image":"busybox"}]}})";
  ApiResponse r = call("POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", body);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(at(json(r.body), "message"), "strict decoding error: unknown field \"spec.bogus\"");
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_EQ(call("POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", kPodJson).status,
            201);
}

TEST_F(ApiRoutesTest, OpenApiTellsKubectlThatTheServerValidates) {
  Node root = json(call("GET", "/openapi/v3").body);
  EXPECT_EQ(at(*root.find("paths")->find("api/v1"), "serverRelativeURL"), "/openapi/v3/api/v1");
  Node v1 = json(call("GET", "/openapi/v3/api/v1").body);
  const Node* patch =
      v1.find("paths")->find("/api/v1/namespaces/{namespace}/pods/{name}")->find("patch");
  ASSERT_TRUE(patch);
  EXPECT_EQ(at(*patch, "x-kubernetes-group-version-kind.kind"), "Pod");
  bool field_validation = false;
  for (const auto& p : patch->find("parameters")->items)
    field_validation =
        field_validation || (at(p, "name") == "fieldValidation" && at(p, "in") == "query");
  EXPECT_TRUE(field_validation);
}

TEST_F(ApiRoutesTest, CreateFailsWholeWhenPersistenceFails) {
  persistence_.fail = true;
  EXPECT_EQ(create().status, 500);
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_TRUE(sink_.calls.empty());
}

TEST_F(ApiRoutesTest, DryRunChangesNothing) {
  EXPECT_EQ(call("POST", "/api/v1/namespaces/default/pods?dryRun=All", kPodJson).status, 201);
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_TRUE(persistence_.pods.empty());
}

TEST_F(ApiRoutesTest, GetAndList) {
  ASSERT_EQ(create().status, 201);
  ASSERT_EQ(call("POST", "/api/v1/namespaces/prod/pods", kPodYaml, "application/yaml").status, 201);
  EXPECT_EQ(at(json(call("GET", "/api/v1/namespaces/default/pods/web").body), "metadata.uid"),
            "uid-1");
  EXPECT_EQ(
      at(json(call("GET", "/api/v1/namespaces/default/pods/web/status").body), "status.phase"),
      "Pending");
  ApiResponse missing = call("GET", "/api/v1/namespaces/prod/pods/web");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(at(json(missing.body), "message"), "pods \"web\" not found");

  auto names = [&](const std::string& target) {
    ApiResponse r = call("GET", target);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    Node list = json(r.body);
    EXPECT_EQ(at(list, "kind"), "PodList");
    EXPECT_EQ(at(list, "metadata.resourceVersion"), std::to_string(store_.resource_version()));
    std::vector<std::string> out;
    if (const Node* items = list.find("items"))
      for (const auto& i : items->items) out.push_back(at(i, "metadata.name"));
    return out;
  };
  EXPECT_EQ(names("/api/v1/pods"), (std::vector<std::string>{"web", "db"}));
  EXPECT_EQ(names("/api/v1/namespaces/prod/pods"), (std::vector<std::string>{"db"}));
  EXPECT_EQ(names("/api/v1/pods?labelSelector=app%3Dweb"), (std::vector<std::string>{"web"}));
  EXPECT_EQ(names("/api/v1/pods?labelSelector=app+in+(web,db)"),
            (std::vector<std::string>{"web", "db"}));
  EXPECT_EQ(names("/api/v1/pods?fieldSelector=metadata.name%3Ddb,status.phase%3DPending"),
            (std::vector<std::string>{"db"}));
  EXPECT_EQ(names("/api/v1/pods?fieldSelector=metadata.namespace!%3Dprod"),
            (std::vector<std::string>{"web"}));
  EXPECT_EQ(call("GET", "/api/v1/pods?labelSelector=a+b").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/pods?fieldSelector=spec.image%3Dx").status, 400);
}

TEST_F(ApiRoutesTest, ReplaceKeepsIdentityAndBumpsGeneration) {
  ASSERT_EQ(create().status, 201);
  const std::string changed = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
    "spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}})";
  ApiResponse r = call("PUT", "/api/v1/namespaces/default/pods/web", changed);
  ASSERT_EQ(r.status, 200) << r.body;
  Node pod = json(r.body);
  EXPECT_EQ(at(pod, "metadata.uid"), "uid-1");
  EXPECT_EQ(at(pod, "metadata.generation"), "2");
  EXPECT_EQ(at(pod, "metadata.resourceVersion"), "2");
  EXPECT_EQ(persistence_.pods["uid-1"].spec.containers[0].image, "nginx:1.27");
  EXPECT_EQ(sink_.calls, (std::vector<std::string>{"create web", "replace web"}));

  EXPECT_EQ(call("PUT", "/api/v1/namespaces/default/pods/other", changed).status,
            400);  // name mismatch
  EXPECT_EQ(
      call("PUT", "/api/v1/namespaces/prod/pods/web",
           R"({"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a","image":"b"}]}})")
          .status,
      404);
  const std::string stale =
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","resourceVersion":"1"},
    "spec":{"containers":[{"name":"app","image":"nginx:1.27"}]}})";
  ApiResponse conflict = call("PUT", "/api/v1/namespaces/default/pods/web", stale);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(at(json(conflict.body), "reason"), "Conflict");
  const std::string invalid = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
    "spec":{"containers":[{"name":"app"}]}})";
  EXPECT_EQ(call("PUT", "/api/v1/namespaces/default/pods/web", invalid).status, 422);
  EXPECT_EQ(sink_.calls.size(), 2u);
}

model::Pod static_pod() {
  model::Pod p;
  p.metadata.name = "etcd-node1";
  p.metadata.namespace_ = "default";
  p.metadata.uid = "static-uid";
  p.metadata.annotations["kubernetes.io/config.source"] = "file";
  return p;
}

TEST_F(ApiRoutesTest, StaticPodsAreReadOnly) {
  store_.put(static_pod());
  ApiResponse del = call("DELETE", "/api/v1/namespaces/default/pods/etcd-node1");
  EXPECT_EQ(del.status, 403);
  Node status = json(del.body);
  EXPECT_EQ(at(status, "reason"), "Forbidden");
  EXPECT_NE(at(status, "message").find("remove its manifest file"), std::string::npos);
  EXPECT_EQ(
      call("PUT", "/api/v1/namespaces/default/pods/etcd-node1",
           R"({"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"a","image":"b"}]}})")
          .status,
      403);
  EXPECT_TRUE(store_.get("default", "etcd-node1"));
  EXPECT_TRUE(sink_.calls.empty());
  // And the API does not let a client pass its pod off as a static one.
  ApiResponse spoof = create(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"x",
    "annotations":{"kubernetes.io/config.source":"file"}},"spec":{"containers":[{"name":"a","image":"b"}]}})");
  EXPECT_EQ(spoof.status, 422);
}

TEST_F(ApiRoutesTest, DeleteMarksTheTerminationAndForgetsThePersistedPod) {
  ASSERT_EQ(create().status, 201);
  ApiResponse r = call("DELETE", "/api/v1/namespaces/default/pods/web");
  ASSERT_EQ(r.status, 200) << r.body;
  Node pod = json(r.body);
  EXPECT_EQ(at(pod, "metadata.deletionTimestamp"), "2026-01-02T03:04:05Z");
  EXPECT_EQ(at(pod, "metadata.deletionGracePeriodSeconds"), "30");  // the pod's default
  EXPECT_TRUE(persistence_.pods.empty());
  EXPECT_EQ(sink_.calls.back(), "remove uid-1 30");
  EXPECT_EQ(call("DELETE", "/api/v1/namespaces/default/pods/nope").status, 404);
}

TEST_F(ApiRoutesTest, DeleteTakesTheGracePeriodFromQueryOrBody) {
  ASSERT_EQ(create().status, 201);
  EXPECT_EQ(call("DELETE", "/api/v1/namespaces/default/pods/web?gracePeriodSeconds=5").status, 200);
  EXPECT_EQ(sink_.calls.back(), "remove uid-1 5");
  EXPECT_EQ(call("DELETE", "/api/v1/namespaces/default/pods/web",
                 R"({"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":0})")
                .status,
            200);
  EXPECT_EQ(sink_.calls.back(), "remove uid-1 0");
  EXPECT_EQ(call("DELETE", "/api/v1/namespaces/default/pods/web?gracePeriodSeconds=-1").status,
            400);
  EXPECT_EQ(call("DELETE", "/api/v1/namespaces/default/pods/web",
                 R"({"kind":"DeleteOptions","preconditions":{"uid":"other"}})")
                .status,
            409);
}

TEST_F(ApiRoutesTest, ReadOnlyCallersMayOnlyRead) {
  ASSERT_EQ(create().status, 201);
  read_only_ = true;
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/pods/web").status, 200);
  EXPECT_EQ(create().status, 403);
  EXPECT_EQ(call("DELETE", "/api/v1/namespaces/default/pods/web").status, 403);
  EXPECT_EQ(call("PUT", "/api/v1/namespaces/default/pods/web", kPodJson).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/pods/web/log").status, 403);
  EXPECT_EQ(sink_.calls.size(), 1u);
}

std::vector<std::string> drain_lines(PodWatch& w) {
  std::vector<std::string> out;
  while (auto e = w.pop()) out.push_back(watch_event_line(*e));
  return out;
}

TEST_F(ApiRoutesTest, WatchStreamsChangesOfTheSelection) {
  ASSERT_EQ(create().status, 201);
  ApiResponse r = call("GET", "/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dweb");
  ASSERT_TRUE(r.watch);
  EXPECT_EQ(r.watch_timeout, std::chrono::seconds(1800));
  auto lines = drain_lines(*r.watch);
  ASSERT_EQ(lines.size(), 1u);
  Node first = json(lines[0]);
  EXPECT_EQ(at(first, "type"), "ADDED");
  EXPECT_EQ(at(first, "object.metadata.name"), "web");
  EXPECT_EQ(lines[0].back(), '\n');

  ASSERT_EQ(call("POST", "/api/v1/namespaces/default/pods", kPodYaml, "application/yaml").status,
            201);  // app=db
  model::PodStatus running;
  running.phase = "Running";
  store_.set_status(base::PodUid("uid-1"), running);
  ASSERT_EQ(call("DELETE", "/api/v1/namespaces/default/pods/web").status, 200);
  store_.remove(base::PodUid("uid-1"));
  std::vector<std::string> seen;
  for (const auto& line : drain_lines(*r.watch)) {
    Node e = json(line);
    seen.push_back(at(e, "type") + " " + at(e, "object.status.phase") + " " +
                   at(e, "object.metadata.resourceVersion"));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"MODIFIED Running 3", "MODIFIED Running 4",
                                            "DELETED Running 5"}));
}

TEST_F(ApiRoutesTest, WatchResumesAndReportsExpiredVersions) {
  ASSERT_EQ(create().status, 201);
  ASSERT_EQ(call("POST", "/api/v1/namespaces/default/pods", kPodYaml, "application/yaml").status,
            201);
  ApiResponse resumed = call("GET", "/api/v1/pods?watch=1&resourceVersion=1&timeoutSeconds=7");
  ASSERT_TRUE(resumed.watch);
  EXPECT_EQ(resumed.watch_timeout, std::chrono::seconds(7));
  auto lines = drain_lines(*resumed.watch);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(at(json(lines[0]), "object.metadata.name"), "db");

  ApiResponse too_new = call("GET", "/api/v1/pods?watch=true&resourceVersion=99");
  EXPECT_FALSE(too_new.watch);
  EXPECT_EQ(too_new.status, 200);
  Node error = json(too_new.body);
  EXPECT_EQ(at(error, "type"), "ERROR");
  EXPECT_EQ(at(error, "object.code"), "410");
  EXPECT_EQ(at(error, "object.reason"), "Expired");
  EXPECT_EQ(call("GET", "/api/v1/pods?watch=true&resourceVersion=abc").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/pods?watch=true&timeoutSeconds=-3").status, 400);
  EXPECT_EQ(call("GET", "/api/v1/pods?watch=true&timeoutSeconds=99999").watch_timeout,
            std::chrono::seconds(1800));
}

TEST(ApiQueryTest, DecodesPercentAndPlus) {
  Query q = Query::parse("a=1&b=x%3Dy+z&c&a=2&bad=%zz");
  EXPECT_EQ(q.get("a"), "1");
  EXPECT_EQ(q.get("b"), "x=y z");
  EXPECT_EQ(q.get("c"), "");
  EXPECT_FALSE(q.get("bad"));
  EXPECT_FALSE(q.get("d"));
  EXPECT_EQ(percent_decode("%2Fa%2f", false), "/a/");
  EXPECT_FALSE(percent_decode("%2", false));
}

}  // namespace
}  // namespace podagent::agent
