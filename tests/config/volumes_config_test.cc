// volumes: the hostPath allow-list.

#include <gtest/gtest.h>

#include "config/agent_config.h"
#include "tests/config/config_test_util.h"

namespace podagent::config {
namespace {

using testing::errors_of;

TEST(VolumesConfig, DefaultRefusesEveryHostPathAndAListRoundTrips) {
  AgentConfig c;
  EXPECT_TRUE(c.volumes.host_path_allow_list.empty());
  ASSERT_TRUE(
      decode_config_text("volumes: {hostPathAllowList: [/data, /var/run/x.sock]}\n", c).empty());
  EXPECT_EQ(c.volumes.host_path_allow_list, (std::vector<std::string>{"/data", "/var/run/x.sock"}));
  resolve_defaults(c, "node");
  EXPECT_TRUE(validate_config(c).empty()) << errors_of(validate_config(c));
  AgentConfig again;
  ASSERT_TRUE(decode_config(encode_config(c), again).empty());
  EXPECT_EQ(again.volumes, c.volumes);
}

TEST(VolumesConfig, ARelativePrefixOrAnUnknownFieldIsRefused) {
  AgentConfig c;
  resolve_defaults(c, "node");
  c.volumes.host_path_allow_list = {"/ok", "data"};
  const ConfigErrors errors = validate_config(c);
  ASSERT_EQ(errors.size(), 1u) << errors_of(errors);
  EXPECT_EQ(errors[0].field, "volumes.hostPathAllowList[1]");

  AgentConfig typo;
  const ConfigErrors unknown = decode_config_text("volumes: {hostPathAllowlist: [/x]}\n", typo);
  ASSERT_FALSE(unknown.empty());
  EXPECT_EQ(unknown[0].field, "volumes.hostPathAllowlist") << errors_of(unknown);
}

}  // namespace
}  // namespace podagent::config
