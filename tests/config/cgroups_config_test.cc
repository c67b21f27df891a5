// cgroups: the root of the pod cgroups and the pods' pids limit.

#include <gtest/gtest.h>

#include "config/agent_config.h"
#include "tests/config/config_test_util.h"

namespace podagent::config {
namespace {

using testing::errors_of;

TEST(CgroupsConfig, DecodesEncodesAndRoundTrips) {
  AgentConfig c;
  EXPECT_EQ(c.cgroups.root, "podagent");
  EXPECT_EQ(c.cgroups.pod_pids_limit, 0);
  ASSERT_TRUE(decode_config_text("cgroups: {root: kube/pods, podPidsLimit: 1024}\n", c).empty());
  EXPECT_EQ(c.cgroups.root, "kube/pods");
  EXPECT_EQ(c.cgroups.pod_pids_limit, 1024);
  resolve_defaults(c, "node");
  EXPECT_TRUE(validate_config(c).empty()) << errors_of(validate_config(c));
  AgentConfig again;
  ASSERT_TRUE(decode_config(encode_config(c), again).empty());
  EXPECT_EQ(again.cgroups, c.cgroups);
  // An empty root turns pod cgroups off, and is valid.
  c.cgroups.root = "";
  EXPECT_TRUE(validate_config(c).empty()) << errors_of(validate_config(c));
}

TEST(CgroupsConfig, ARootLeavingTheHierarchyOrANegativeLimitIsRefused) {
  for (const char* bad : {"/podagent", "a/../b", "..", "a//b", "a/", "./a"}) {
    AgentConfig c;
    resolve_defaults(c, "node");
    c.cgroups.root = bad;
    const ConfigErrors errors = validate_config(c);
    ASSERT_EQ(errors.size(), 1u) << bad << "\n" << errors_of(errors);
    EXPECT_EQ(errors[0].field, "cgroups.root");
  }
  AgentConfig c;
  resolve_defaults(c, "node");
  c.cgroups.pod_pids_limit = -1;
  const ConfigErrors errors = validate_config(c);
  ASSERT_EQ(errors.size(), 1u) << errors_of(errors);
  EXPECT_EQ(errors[0].field, "cgroups.podPidsLimit");

  AgentConfig typo;
  const ConfigErrors unknown = decode_config_text("cgroups: {rooot: x}\n", typo);
  ASSERT_FALSE(unknown.empty());
  EXPECT_EQ(unknown[0].field, "cgroups.rooot") << errors_of(unknown);
}

}  // namespace
}  // namespace podagent::config
