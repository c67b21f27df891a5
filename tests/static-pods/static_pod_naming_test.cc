#include "static-pods/static_pod_naming.h"

#include <gtest/gtest.h>

#include "model/pod_codec.h"
#include "tests/static-pods/test_manifests.h"

namespace podagent::static_pods {
namespace {

using testing_manifests::pod_without_image;
using testing_manifests::pod_yaml;

model::Pod decode_one(const std::string& text) {
  model::DecodeResult decoded = model::decode_pods(text);
  EXPECT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.pods.size(), 1u);
  return decoded.pods.empty() ? model::Pod{} : decoded.pods[0].pod;
}

const StaticPodContext kContext{"Node-1", "/etc/podagent/manifests/web.yaml"};

TEST(StaticPodNamingTest, NameIsNameDashLowerCaseNode) {
  EXPECT_EQ(static_pod_name("web", "Node-1"), "web-node-1");
  EXPECT_EQ(static_pod_name("etcd", "n"), "etcd-n");
}

TEST(StaticPodNamingTest, Fnv1a128MatchesReferenceVectors) {
  EXPECT_EQ(fnv1a_128_hex(""), "6c62272e07bb014262b821756295c58d");
  EXPECT_EQ(fnv1a_128_hex("a"), "d228cb696f1a8caf78912b704e4a8964");
  EXPECT_EQ(fnv1a_128_hex("foobar"), "343e1662793c64bf6f0d3597ba446f18");
}

TEST(StaticPodNamingTest, UidDependsOnEachInputAndOnlyOnThem) {
  std::string base = static_pod_uid("pod", "node", "/dir/a.yaml").str();
  EXPECT_EQ(base.size(), 32u);
  EXPECT_EQ(static_pod_uid("pod", "node", "/dir/a.yaml").str(), base);
  EXPECT_NE(static_pod_uid("pod2", "node", "/dir/a.yaml").str(), base);
  EXPECT_NE(static_pod_uid("pod", "node2", "/dir/a.yaml").str(), base);
  EXPECT_NE(static_pod_uid("pod", "node", "/dir/b.yaml").str(), base);
  // Fields are length-prefixed: moving a boundary changes the UID.
  EXPECT_NE(static_pod_uid("ab", "c", "p").str(), static_pod_uid("a", "bc", "p").str());
}

TEST(StaticPodNamingTest, MakesTheKubeletShapeOfAStaticPod) {
  model::Pod pod = decode_one(pod_yaml("web"));
  ASSERT_TRUE(make_static_pod(pod, kContext).empty());
  EXPECT_EQ(pod.metadata.name, "web-node-1");
  EXPECT_EQ(pod.metadata.namespace_, "default");
  EXPECT_EQ(pod.spec.node_name, "Node-1");
  EXPECT_EQ(pod.metadata.uid.size(), 32u);
  EXPECT_EQ(pod.metadata.annotations.at("kubernetes.io/config.source"), "file");
  EXPECT_EQ(pod.metadata.annotations.at("kubernetes.io/config.hash"), pod.metadata.uid);
  EXPECT_EQ(pod.spec.restart_policy, "Always");  // defaults applied
}

TEST(StaticPodNamingTest, KeepsANamespaceThatIsSet) {
  model::Pod pod = decode_one(pod_yaml("web"));
  pod.metadata.namespace_ = "kube-system";
  ASSERT_TRUE(make_static_pod(pod, kContext).empty());
  EXPECT_EQ(pod.metadata.namespace_, "kube-system");
}

TEST(StaticPodNamingTest, SamePodSameUidAnyEditNewUid) {
  auto uid_of = [](const std::string& text, const StaticPodContext& context) {
    model::Pod pod = decode_one(text);
    EXPECT_TRUE(make_static_pod(pod, context).empty());
    return pod.metadata.uid;
  };
  std::string uid = uid_of(pod_yaml("web"), kContext);
  EXPECT_EQ(uid_of(pod_yaml("web"), kContext), uid);
  // Comments and layout are not the pod: same UID.
  EXPECT_EQ(uid_of("# a comment\n" + pod_yaml("web"), kContext), uid);
  EXPECT_NE(uid_of(pod_yaml("web", "nginx:1.26"), kContext), uid);
  EXPECT_NE(uid_of(pod_yaml("web2"), kContext), uid);
  EXPECT_NE(uid_of(pod_yaml("web"), StaticPodContext{"node-2", kContext.path}), uid);
  EXPECT_NE(uid_of(pod_yaml("web"), StaticPodContext{kContext.node_name, "/other/web.yaml"}), uid);
}

TEST(StaticPodNamingTest, UidWrittenInTheManifestIsReplaced) {
  model::Pod pod = decode_one(pod_yaml("web"));
  pod.metadata.uid = "chosen-by-hand";
  ASSERT_TRUE(make_static_pod(pod, kContext).empty());
  EXPECT_NE(pod.metadata.uid, "chosen-by-hand");
  EXPECT_EQ(pod.metadata.uid.size(), 32u);
}

TEST(StaticPodNamingTest, ReportsMissingNameAndInvalidFieldsWithTheirPath) {
  model::Pod unnamed = decode_one(pod_yaml("web"));
  unnamed.metadata.name.clear();
  model::FieldErrors errors = make_static_pod(unnamed, kContext);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "metadata.name");

  model::Pod no_image = decode_one(pod_without_image("web"));
  errors = make_static_pod(no_image, kContext);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].field, "spec.containers[0].image");
}

}  // namespace
}  // namespace podagent::static_pods
