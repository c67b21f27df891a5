// PodStore::json, the cached encoding of stored pods, and the routes that
// serve it: the bytes must be those of encoding each pod afresh.

#include <gtest/gtest.h>

#include "agent/api_routes.h"
#include "agent/pod_store.h"
#include "model/document.h"
#include "model/pod_codec.h"

namespace podagent::agent {
namespace {

model::Pod pod_named(std::string name, std::string ns = "default") {
  model::Pod pod;
  pod.metadata.name = std::move(name);
  pod.metadata.namespace_ = std::move(ns);
  pod.metadata.uid = "uid-" + pod.metadata.namespace_ + "-" + pod.metadata.name;
  pod.metadata.labels["app"] = "web \"quoted\" \xc3\xa9";
  model::Container c;
  c.name = "app";
  c.image = "busybox";
  pod.spec.containers.push_back(c);
  return pod;
}

std::string fresh(const model::Pod& pod) { return model::to_json(model::encode_pod(pod)); }

TEST(PodStoreJson, IsTheEncodingOfThePodAndIsKeptPerVersion) {
  PodStore store;
  PodPtr stored = store.put(pod_named("web"));
  auto first = store.json(stored);
  EXPECT_EQ(*first, fresh(*stored));
  EXPECT_EQ(store.json(stored), first) << "the same version is encoded once";

  model::PodStatus status;
  status.phase = model::kPhaseRunning;
  ASSERT_TRUE(store.set_status(base::PodUid(stored->metadata.uid), status));
  PodPtr running = store.get("default", "web");
  auto second = store.json(running);
  EXPECT_NE(second, first);
  EXPECT_EQ(*second, fresh(*running));
  EXPECT_NE(second->find("Running"), std::string::npos);
  // The old snapshot (as a watch event holds it) is still encoded as it was.
  EXPECT_EQ(*store.json(stored), *first);

  PodPtr deleting =
      store.mark_deleting(base::PodUid(stored->metadata.uid), "2026-01-02T03:04:05Z", 30);
  EXPECT_EQ(*store.json(deleting), fresh(*deleting));
  EXPECT_NE(store.json(deleting)->find("deletionTimestamp"), std::string::npos);

  PodPtr removed = store.remove(base::PodUid(stored->metadata.uid));
  EXPECT_EQ(*store.json(removed), fresh(*removed));
}

TEST(PodStoreJson, ARecreatedPodIsEncodedAnew) {
  PodStore store;
  PodPtr old = store.put(pod_named("web"));
  auto old_json = store.json(old);
  model::Pod other = pod_named("web");
  other.metadata.uid = "uid-2";
  PodPtr now = store.put(other);
  EXPECT_EQ(*store.json(now), fresh(*now));
  EXPECT_NE(*store.json(now), *old_json);
}

TEST(PodStoreJson, ListJsonIsTheCachedEncodingsInListOrder) {
  PodStore store;
  store.put(pod_named("b"));
  store.put(pod_named("a"));
  store.put(pod_named("c", "kube-system"));
  auto all = store.list_json("", nullptr);
  ASSERT_EQ(all.size(), 3u);
  const auto pods = store.list();
  for (size_t i = 0; i < pods.size(); ++i) {
    EXPECT_EQ(*all[i], fresh(*pods[i]));
    EXPECT_EQ(all[i], store.json(pods[i]).get()) << "one cached encoding per version";
  }
  auto in_default =
      store.list_json("default", [](const model::Pod& p) { return p.metadata.name != "b"; });
  ASSERT_EQ(in_default.size(), 1u);
  EXPECT_EQ(*in_default[0], fresh(*store.get("default", "a")));
  EXPECT_TRUE(store.list_json("nowhere", nullptr).empty());
}

struct NoSink : PodSink {
  void create(const model::Pod&) override {}
  void replace(const model::Pod&) override {}
  void remove(const base::PodUid&, int64_t) override {}
};

class CachedRoutesTest : public ::testing::Test {
 protected:
  CachedRoutesTest() : routes_(store_, sink_, persistence_) {}

  ApiResponse get(std::string target, std::string accept = "application/json") {
    ApiRequest r;
    r.method = "GET";
    r.target = std::move(target);
    r.accept = std::move(accept);
    return routes_.handle(r);
  }

  // The list as encoding it whole would give.
  std::string expected_list(const std::vector<PodPtr>& pods) {
    std::string out = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":")" +
                      std::to_string(store_.resource_version()) + R"("},"items":[)";
    for (size_t i = 0; i < pods.size(); ++i) out += (i ? "," : "") + fresh(*pods[i]);
    return out + "]}";
  }

  PodStore store_;
  NoSink sink_;
  MemoryPodPersistence persistence_;
  ApiRoutes routes_;
};

TEST_F(CachedRoutesTest, GetAndListServeTheSameBytesAsAFreshEncoding) {
  EXPECT_EQ(get("/api/v1/pods").body, expected_list({}));
  store_.put(pod_named("b"));
  store_.put(pod_named("a"));
  store_.put(pod_named("c", "kube-system"));
  PodPtr a = store_.get("default", "a");
  EXPECT_EQ(get("/api/v1/namespaces/default/pods/a").body, fresh(*a));
  EXPECT_EQ(get("/api/v1/pods").body, expected_list(store_.list()));
  EXPECT_EQ(get("/api/v1/namespaces/default/pods").body, expected_list(store_.list("default")));
  EXPECT_EQ(get("/api/v1/pods?fieldSelector=metadata.name%3Dc").body,
            expected_list({store_.get("kube-system", "c")}));

  model::PodStatus status;
  status.phase = model::kPhaseRunning;
  store_.set_status(base::PodUid(a->metadata.uid), status);
  EXPECT_EQ(get("/api/v1/namespaces/default/pods/a").body, fresh(*store_.get("default", "a")));
  EXPECT_EQ(get("/api/v1/pods").body, expected_list(store_.list()));
  // YAML is still encoded from the pod.
  auto yaml = get("/api/v1/namespaces/default/pods/a", "application/yaml");
  EXPECT_EQ(yaml.content_type, "application/yaml");
  EXPECT_EQ(yaml.body, model::to_yaml(model::encode_pod(*store_.get("default", "a"))));
}

}  // namespace
}  // namespace podagent::agent
