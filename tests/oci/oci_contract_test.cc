// The Runtime contract (tests/runtime/runtime_contract_test.cc, built into
// this binary) against the oci backend with runc, as root. Each test's
// harness removes what the test left and then checks that nothing leaked.

#include <gtest/gtest.h>

#include "tests/oci/oci_test_env.h"
#include "tests/runtime/runtime_contract.h"

namespace podagent::runtime::oci::testing {
namespace {

using runtime::testing::RuntimeContractParam;
using runtime::testing::RuntimeContractParamName;
using runtime::testing::RuntimeContractTest;
using runtime::testing::RuntimeHarness;

class OciHarness final : public RuntimeHarness {
 public:
  OciHarness() {
    auto rt = OciRuntime::create(clock_, driver_.executor(), dir_.options());
    if (!rt) throw std::runtime_error("OciRuntime::create: " + rt.error().to_string());
    runtime_ = std::move(*rt);
  }
  ~OciHarness() override {
    // The test's event lists are gone by now (the fixture's members go
    // before its harness): no event may reach them any more.
    runtime_->set_event_handlers(nullptr, nullptr);
    // Removes every sandbox (and with it every container) the test left.
    IdLog ids;
    try {
      if (auto containers = driver_.await(runtime_->list_containers()))
        for (const auto& c : *containers) ids.add(c.id.str());
      auto sandboxes = driver_.await(runtime_->list_sandboxes());
      if (sandboxes) {
        for (const auto& s : *sandboxes) {
          ids.add(s.id.str());
          auto removed = driver_.await(runtime_->remove_sandbox(s.id));
          EXPECT_TRUE(removed) << removed.error().to_string();
        }
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cleaning up: " << e.what();
    }
    runtime_.reset();
    driver_.io().restart();
    driver_.io().poll();  // lets the runtime's cancelled timer loop end
    for (const std::string& leak : find_leaks(dir_.state_dir(), ids.ids))
      ADD_FAILURE() << "leak: " << leak;
  }
  Runtime& runtime() override { return *runtime_; }
  boost::asio::any_io_executor executor() override { return driver_.executor(); }
  bool run_until(const std::function<bool()>& done) override { return driver_.run_until(done); }
  model::Container runs_forever(const std::string& name) override {
    // `wait` returns on the trapped signal at once; sleep alone would
    // delay the trap until it ends.
    return sh_container(name, "trap 'exit 143' TERM; sleep 3600 & wait");
  }
  model::Container exits_with(const std::string& name, int exit_code) override {
    return sh_container(name, "exit " + std::to_string(exit_code));
  }
  bool gives_pod_ips() const override { return false; }  // loopback only, until CNI

 private:
  OciTestDir dir_;
  base::RealClock clock_;
  Driver driver_;
  std::unique_ptr<OciRuntime> runtime_;
};

std::vector<RuntimeContractParam> oci_params() {
  std::string why;
  if (!can_run_containers(&why)) return {};  // not instantiated: see OciContractPrerequisites
  return {RuntimeContractParam{"oci_runc", [] { return std::make_unique<OciHarness>(); }}};
}

INSTANTIATE_TEST_SUITE_P(Oci, RuntimeContractTest, ::testing::ValuesIn(oci_params()),
                         RuntimeContractParamName());
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RuntimeContractTest);

// Says, as a skip, why the contract did not run here.
TEST(OciContractPrerequisites, CanRunContainers) {
  std::string why;
  if (!can_run_containers(&why)) GTEST_SKIP() << "the oci contract tests " << why;
}

}  // namespace
}  // namespace podagent::runtime::oci::testing
