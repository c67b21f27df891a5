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

class OciEphemeralTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!can_run_containers(&why)) GTEST_SKIP() << why;
    dir_.emplace();
    auto rt = OciRuntime::create(clock_, driver_.executor(), dir_->options());
    ASSERT_TRUE(rt) << rt.error().to_string();
    runtime_ = std::move(*rt);
    runtime_->set_event_handlers(
        [this](const ContainerEvent& e) {
          events_.push_back(e);
          ids_.add(e.container_id.str());
          ids_.add(e.sandbox_id.str());
        },
        [](const SandboxEvent&) {});
  }
  void TearDown() override {
    if (!dir_) return;
    runtime_.reset();
    driver_.io().restart();
    driver_.io().poll();
  }

  base::Result<ContainerId> start(const SandboxId& sandbox, const ContainerConfig& config) {
    auto id = driver_.await(runtime_->create_container(sandbox, config));
    if (!id) return id.error();
    auto started = driver_.await(runtime_->start_container(*id));
    if (!started) return started.error();
    return *id;
  }
  bool exited(const ContainerId& id) {
    for (const auto& e : events_)
      if (e.type == ContainerEvent::Type::Exited && e.container_id == id) return true;
    return false;
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

  std::optional<OciTestDir> dir_;
  base::RealClock clock_;
  Driver driver_;
  std::unique_ptr<OciRuntime> runtime_;
  std::vector<ContainerEvent> events_;
  IdLog ids_;
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
