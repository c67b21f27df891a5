// podLogsRetention: how long a deleted pod's log directory stays.

#include <gtest/gtest.h>

#include "config/agent_config.h"
#include "tests/config/config_test_util.h"

namespace podagent::config {
namespace {

using namespace std::chrono_literals;

using testing::errors_of;

TEST(PodLogsRetentionConfig, DefaultsToOneHourAndIsEncoded) {
  AgentConfig c;
  EXPECT_EQ(c.pod_logs_retention, Duration(1h));
  const model::Node encoded = encode_config(c);
  const model::Node* field = encoded.find("podLogsRetention");
  ASSERT_NE(field, nullptr);
  EXPECT_EQ(field->text, "1h");
}

TEST(PodLogsRetentionConfig, DecodesDurationsAndZero) {
  AgentConfig c;
  ASSERT_TRUE(decode_config_text("podLogsRetention: 90m\n", c).empty());
  EXPECT_EQ(c.pod_logs_retention, Duration(90min));
  ASSERT_TRUE(decode_config_text("podLogsRetention: 0s\n", c).empty());
  EXPECT_EQ(c.pod_logs_retention, Duration::zero());
  resolve_defaults(c, "node");
  EXPECT_TRUE(validate_config(c).empty()) << errors_of(validate_config(c));

  AgentConfig again;
  ASSERT_TRUE(decode_config(encode_config(c), again).empty());
  EXPECT_EQ(again.pod_logs_retention, Duration::zero());
}

TEST(PodLogsRetentionConfig, ANegativeRetentionOrAWrongTypeIsRefused) {
  AgentConfig c;
  resolve_defaults(c, "node");
  c.pod_logs_retention = -1s;
  const ConfigErrors invalid = validate_config(c);
  ASSERT_EQ(invalid.size(), 1u) << errors_of(invalid);
  EXPECT_EQ(invalid[0].field, "podLogsRetention");

  AgentConfig typo;
  const ConfigErrors errors = decode_config_text("podLogsRetention: forever\n", typo);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].field, "podLogsRetention") << errors_of(errors);
}

}  // namespace
}  // namespace podagent::config
