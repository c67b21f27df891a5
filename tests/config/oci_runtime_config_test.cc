// The oci backend's knobs in the agent config: containerLogMaxSize,
// containerLogMaxFiles, pauseBinary, monitorBinary.

#include <gtest/gtest.h>

#include "config/agent_config.h"

namespace podagent::config {
namespace {

bool has_field(const ConfigErrors& errors, std::string_view field) {
  for (const auto& e : errors)
    if (e.field == field) return true;
  return false;
}

TEST(OciRuntimeConfig, DefaultsAreTenMebibytesTimesFive) {
  AgentConfig c;
  ASSERT_TRUE(c.runtime.container_log_max_size);
  EXPECT_EQ(c.runtime.container_log_max_size->value(), 10 << 20);
  EXPECT_EQ(c.runtime.container_log_max_files, 5);
  EXPECT_EQ(c.runtime.pause_binary, "");
  EXPECT_EQ(c.runtime.monitor_binary, "") << "podagent-monitor beside the pause program";
}

// monitorBinary names the per-container monitor; conmonPath, its older
// name, still sets it; a relative path is refused.
TEST(OciRuntimeConfig, MonitorBinaryAndItsOlderNameConmonPath) {
  AgentConfig c;
  ASSERT_TRUE(decode_config_text("runtime:\n  monitorBinary: /usr/bin/conmon\n", c).empty());
  EXPECT_EQ(c.runtime.monitor_binary, "/usr/bin/conmon");
  AgentConfig old;
  ASSERT_TRUE(decode_config_text("runtime:\n  conmonPath: /opt/conmon\n", old).empty());
  EXPECT_EQ(old.runtime.monitor_binary, "/opt/conmon");

  AgentConfig bad;
  resolve_defaults(bad, "node");
  ASSERT_TRUE(decode_config_text("runtime:\n  monitorBinary: conmon\n", bad).empty());
  EXPECT_TRUE(has_field(validate_config(bad), "runtime.monitorBinary"));
}

TEST(OciRuntimeConfig, DecodesAndValidatesTheLogAndPauseFields) {
  AgentConfig c;
  auto errors = decode_config_text(
      "runtime:\n  containerLogMaxSize: 1Mi\n  containerLogMaxFiles: 3\n  pauseBinary: "
      "/opt/pause\n",
      c);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(c.runtime.container_log_max_size->value(), 1 << 20);
  EXPECT_EQ(c.runtime.container_log_max_files, 3);
  EXPECT_EQ(c.runtime.pause_binary, "/opt/pause");

  AgentConfig bad;
  resolve_defaults(bad, "node");
  ASSERT_TRUE(decode_config_text("runtime:\n  containerLogMaxSize: \"0\"\n  containerLogMaxFiles: "
                                 "1\n  pauseBinary: pause\n",
                                 bad)
                  .empty());
  const ConfigErrors invalid = validate_config(bad);
  EXPECT_TRUE(has_field(invalid, "runtime.containerLogMaxSize"));
  EXPECT_TRUE(has_field(invalid, "runtime.containerLogMaxFiles"));
  EXPECT_TRUE(has_field(invalid, "runtime.pauseBinary"));
}

}  // namespace
}  // namespace podagent::config
