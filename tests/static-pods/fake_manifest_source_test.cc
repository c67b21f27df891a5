#include "static-pods/fake_manifest_source.h"

#include <gtest/gtest.h>

namespace podagent::static_pods {
namespace {

TEST(FakeManifestSourceTest, DeliversToTheHandlerOnlyWhileStarted) {
  FakeManifestSource fake;
  ManifestSource& source = fake;
  int calls = 0;
  ManifestSnapshot one;
  one.pods[base::PodUid("u1")].file = "a.yaml";

  fake.deliver(one);  // before start: kept, not delivered
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(source.ready());
  source.start([&](const ManifestSnapshot& s) {
    ++calls;
    EXPECT_EQ(s, one);
  });
  fake.deliver(one);
  EXPECT_EQ(calls, 1);
  source.stop();
  fake.deliver({});
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(source.snapshot().pods.empty());

  fake.set_errors({{"b.yaml", {"kind: [: bad"}}});
  EXPECT_EQ(source.errors().size(), 1u);
  EXPECT_EQ(source.error_total(), 1u);
}

}  // namespace
}  // namespace podagent::static_pods
