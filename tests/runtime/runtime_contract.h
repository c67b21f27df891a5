#pragma once

// The contract every runtime::Runtime backend keeps, as a value-parameterized
// GoogleTest suite (the tests are in runtime_contract_test.cc). A backend
// joins it by providing a RuntimeHarness factory:
//
//   INSTANTIATE_TEST_SUITE_P(Fake, RuntimeContractTest,
//                            ::testing::Values(RuntimeContractParam{"fake", &make_fake_harness}),
//                            RuntimeContractParamName());
//
// (in the same test binary as runtime_contract_test.cc, or with that file
// added to the backend's test binary).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace podagent::runtime::testing {

// One backend under test, made fresh for each test.
class RuntimeHarness {
 public:
  virtual ~RuntimeHarness() = default;
  virtual Runtime& runtime() = 0;
  // The executor of the io_context the runtime runs on.
  virtual boost::asio::any_io_executor executor() = 0;
  // Drives the io_context (and, for a fake, the fake clock) until `done`
  // returns true; false when the backend's time limit passed first.
  virtual bool run_until(const std::function<bool()>& done) = 0;
  // A container spec that runs until stopped (handles SIGTERM).
  virtual model::Container runs_forever(const std::string& name) = 0;
  // A container spec that exits by itself with `exit_code` soon after start.
  virtual model::Container exits_with(const std::string& name, int exit_code) = 0;
  // Whether a sandbox gets an IP (false for a backend whose pods have no
  // network yet but loopback).
  virtual bool gives_pod_ips() const { return true; }
};

struct RuntimeContractParam {
  std::string name;
  std::function<std::unique_ptr<RuntimeHarness>()> make;
};

struct RuntimeContractParamName {
  std::string operator()(const ::testing::TestParamInfo<RuntimeContractParam>& info) const {
    return info.param.name;
  }
};

class RuntimeContractTest : public ::testing::TestWithParam<RuntimeContractParam> {
 protected:
  void SetUp() override {
    harness_ = GetParam().make();
    runtime().set_event_handlers([this](const ContainerEvent& e) { container_events_.push_back(e); },
                                 [this](const SandboxEvent& e) { sandbox_events_.push_back(e); });
  }

  Runtime& runtime() { return harness_->runtime(); }
  RuntimeHarness& harness() { return *harness_; }

  // Runs `task` to completion on the runtime's io_context and returns its
  // result; throws (a test failure) when it does not complete in time.
  template <typename T>
  T await(Task<T> task) {
    auto out = std::make_shared<std::optional<T>>();
    boost::asio::co_spawn(
        harness_->executor(),
        [out, t = std::move(task)]() mutable -> Task<void> { out->emplace(co_await std::move(t)); },
        boost::asio::detached);
    if (!harness_->run_until([&] { return out->has_value(); })) {
      throw std::runtime_error("runtime call did not complete in time");
    }
    return std::move(**out);
  }

  SandboxConfig sandbox_config(const std::string& uid = "uid-1", const std::string& name = "web") {
    auto pod = std::make_shared<model::Pod>();
    pod->metadata.name = name;
    pod->metadata.namespace_ = "default";
    pod->metadata.uid = uid;
    SandboxConfig c;
    c.pod_uid = PodUid(uid);
    c.pod_name = name;
    c.pod_namespace = "default";
    c.attempt = 0;
    c.pod = std::move(pod);
    return c;
  }

  ContainerConfig container_config(model::Container spec, const SandboxConfig& sandbox) {
    ContainerConfig c;
    c.spec = std::move(spec);
    c.kind = ContainerKind::App;
    c.spec_hash = "hash-" + c.spec.name;
    c.pod = sandbox.pod;
    return c;
  }

  SandboxId must_run_sandbox(const SandboxConfig& config) {
    auto id = await(runtime().run_sandbox(config));
    if (!id) throw std::runtime_error("run_sandbox: " + id.error().to_string());
    return *id;
  }

  // Creates and starts a container; returns its id.
  ContainerId must_start(const SandboxId& sandbox, const ContainerConfig& config) {
    auto id = await(runtime().create_container(sandbox, config));
    if (!id) throw std::runtime_error("create_container: " + id.error().to_string());
    auto started = await(runtime().start_container(*id));
    if (!started) throw std::runtime_error("start_container: " + started.error().to_string());
    return *id;
  }

  std::optional<ContainerStatus> status_of(const ContainerId& id) {
    auto s = await(runtime().container_status(id));
    if (!s) return std::nullopt;
    return *s;
  }

  bool saw_event(ContainerEvent::Type type, const ContainerId& id) const {
    for (const auto& e : container_events_) {
      if (e.type == type && e.container_id == id) return true;
    }
    return false;
  }

  std::unique_ptr<RuntimeHarness> harness_;
  std::vector<ContainerEvent> container_events_;
  std::vector<SandboxEvent> sandbox_events_;
};

}  // namespace podagent::runtime::testing
