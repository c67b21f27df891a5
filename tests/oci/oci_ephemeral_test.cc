// Ephemeral containers with the oci backend, as root with runc and conmon:
// one with a target container joins that container's PID namespace and
// sees its processes; one without a target does not.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/oci/oci_test_env.h"

namespace podagent::runtime::oci::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class OciEphemeralTest : public OciRuntimeTest {
 protected:
  base::Result<ContainerId> start(const SandboxId& sandbox, const ContainerConfig& config) {
    auto id = driver_.await(runtime_->create_container(sandbox, config));
    if (!id) return id.error();
    auto started = driver_.await(runtime_->start_container(*id));
    if (!started) return started.error();
    return *id;
  }
  ContainerConfig debugger(const std::string& name, const std::string& target,
                           const SandboxConfig& sb) {
    // Every process's command line the container can see.
    model::Container spec =
        sh_container(name, "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done");
    spec.target_container_name = target;
    ContainerConfig config = container_config_for(spec, sb);
    config.kind = ContainerKind::Ephemeral;
    return config;
  }
};

TEST_F(OciEphemeralTest, ATargetedEphemeralContainerSeesTheTargetsProcesses) {
  SandboxConfig sb = sandbox_config_for(make_pod("uid-eph", "eph"), dir_->logs_dir());
  auto sandbox = driver_.await(runtime_->run_sandbox(sb));
  ASSERT_TRUE(sandbox) << sandbox.error().to_string();
  auto app = start(*sandbox, container_config_for(sh_container("app", "exec sleep 31337"), sb));
  ASSERT_TRUE(app) << app.error().to_string();

  auto targeted = start(*sandbox, debugger("debugger", "app", sb));
  ASSERT_TRUE(targeted) << targeted.error().to_string();
  auto alone = start(*sandbox, debugger("alone", "", sb));
  ASSERT_TRUE(alone) << alone.error().to_string();
  ASSERT_TRUE(driver_.run_until([&] { return exited(*targeted) && exited(*alone); }));

  const std::string seen = read_file(sb.log_directory / "debugger" / "0.log");
  EXPECT_NE(seen.find("sleep 31337"), std::string::npos) << seen;
  const std::string alone_seen = read_file(sb.log_directory / "alone" / "0.log");
  EXPECT_EQ(alone_seen.find("sleep 31337"), std::string::npos) << alone_seen;
  EXPECT_NE(alone_seen.find("/proc/"), std::string::npos) << "it ran: " << alone_seen;
  auto status = driver_.await(runtime_->container_status(*targeted));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->kind, ContainerKind::Ephemeral);
  EXPECT_EQ(status->exit_code, 0);

  // A target that does not run is a clear error.
  auto missing = driver_.await(runtime_->create_container(*sandbox, debugger("late", "nope", sb)));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("target container nope is not running"), std::string::npos)
      << missing.error().message;

  ASSERT_TRUE(driver_.await(runtime_->remove_sandbox(*sandbox)));
  runtime_.reset();
  driver_.io().restart();
  driver_.io().poll();
  ids_.add(sandbox->str());
  EXPECT_EQ(find_leaks(dir_->state_dir(), ids_.ids), std::vector<std::string>{});
}

}  // namespace
}  // namespace podagent::runtime::oci::testing
