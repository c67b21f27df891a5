#pragma once

// The fixture of the probers' tests: a FakeRuntime (FakeClock) behind a
// wrapper that counts open_socket_in_sandbox, the real prober over it, and
// a way to run one probe to its end on the test's io_context.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "probes/prober.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::probes::testing {

using base::ContainerId;
using base::SandboxId;

// Delegates to a FakeRuntime; open_socket_in_sandbox counts its calls and,
// when `source` is set, binds the socket to that local address, so that a
// server can tell a connection made through it (127.0.0.2) from others.
class SandboxSocketRuntime final : public runtime::Runtime {
 public:
  explicit SandboxSocketRuntime(runtime::FakeRuntime& fake) : fake_(fake) {}

  base::Result<base::UniqueFd> open_socket_in_sandbox(const SandboxId& id, int domain, int type) override;
  std::vector<SandboxId> socket_calls;
  std::string source;

  runtime::Task<base::Result<SandboxId>> run_sandbox(const runtime::SandboxConfig& c) override {
    return fake_.run_sandbox(c);
  }
  runtime::Task<base::Status> stop_sandbox(const SandboxId& id) override { return fake_.stop_sandbox(id); }
  runtime::Task<base::Status> remove_sandbox(const SandboxId& id) override { return fake_.remove_sandbox(id); }
  runtime::Task<base::Result<ContainerId>> create_container(const SandboxId& s,
                                                            const runtime::ContainerConfig& c) override {
    return fake_.create_container(s, c);
  }
  runtime::Task<base::Status> start_container(const ContainerId& id) override {
    return fake_.start_container(id);
  }
  runtime::Task<base::Status> stop_container(const ContainerId& id, std::chrono::milliseconds g) override {
    return fake_.stop_container(id, g);
  }
  runtime::Task<base::Status> remove_container(const ContainerId& id) override {
    return fake_.remove_container(id);
  }
  runtime::Task<base::Result<std::vector<runtime::SandboxStatus>>> list_sandboxes() override {
    return fake_.list_sandboxes();
  }
  runtime::Task<base::Result<std::vector<runtime::ContainerStatus>>> list_containers() override {
    return fake_.list_containers();
  }
  runtime::Task<base::Result<runtime::ContainerStatus>> container_status(const ContainerId& id) override {
    return fake_.container_status(id);
  }
  runtime::Task<base::Result<std::optional<std::string>>> image_status(const std::string& ref) override {
    return fake_.image_status(ref);
  }
  runtime::Task<base::Result<std::string>> pull_image(const std::string& ref) override {
    return fake_.pull_image(ref);
  }
  runtime::Task<base::Result<runtime::ExecResult>> exec(const ContainerId& id, std::vector<std::string> command,
                                                        std::chrono::milliseconds timeout) override {
    return fake_.exec(id, std::move(command), timeout);
  }
  void set_event_handlers(ContainerEventHandler c, SandboxEventHandler s) override {
    fake_.set_event_handlers(std::move(c), std::move(s));
  }

 private:
  runtime::FakeRuntime& fake_;
};

class ProberTest : public ::testing::Test {
 protected:
  ProberTest() { target_.pod_ip = "127.0.0.1"; }

  // Runs one probe to its end (real network, real timeouts).
  ProbeOutcome run(const model::Handler& handler, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::optional<ProbeOutcome> out;
    io_.restart();  // after a FakeClock::settle() that ran it dry
    boost::asio::co_spawn(io_, prober_->probe(target_, handler, timeout),
                          [&](std::exception_ptr e, ProbeOutcome o) {
                            if (e) std::rethrow_exception(e);
                            out = std::move(o);
                          });
    while (!out && io_.run_one()) {
    }
    io_.restart();
    if (!out) throw std::runtime_error("the probe did not complete");
    return *out;
  }

  boost::asio::io_context io_;
  base::FakeClock clock_{io_};
  runtime::FakeRuntime fake_{clock_, io_.get_executor()};
  SandboxSocketRuntime runtime_{fake_};
  std::unique_ptr<Prober> prober_ = make_prober(runtime_);
  ProbeTarget target_;
};

model::Handler http_get(uint16_t port, std::string path = "/", std::string scheme = "HTTP");
model::Handler tcp_socket(uint16_t port);

}  // namespace podagent::probes::testing
