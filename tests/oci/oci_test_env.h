#pragma once

// Shared by the oci backend's tests that run real containers (as root):
// a temp directory with a state dir holding the busybox test image, an
// io_context to drive an OciRuntime, and the leak check.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/clock.h"
#include "runtime/oci/oci_runtime.h"

namespace podagent::runtime::oci::testing {

// The image the tests' containers run, imported into each test's store.
inline constexpr const char* kTestImage = "localhost/busybox:test";

// The busybox image archive (an OCI archive naming kTestImage), built once
// per test process with scripts/build-busybox-image.sh.
const std::filesystem::path& busybox_archive();

// The whole of a file; empty when it cannot be read.
std::string read_file(const std::filesystem::path& p);

// Whether this process may run containers (root, runc and conmon present).
// When not, `why` says what is missing.
bool can_run_containers(std::string* why);

// A fresh directory tree for one test: <root>/state (stateDir, with the
// busybox image imported), <root>/logs (pod log dirs). Removed at
// destruction, after every runtime object left in it is deleted and
// anything mounted under it unmounted.
class OciTestDir {
 public:
  OciTestDir();
  ~OciTestDir();
  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path state_dir() const { return root_ / "state"; }
  std::filesystem::path logs_dir() const { return root_ / "logs"; }
  // Options for an OciRuntime on this tree (runc, the built pause program).
  OciRuntimeOptions options() const;

 private:
  std::filesystem::path root_;
};

// Everything a test's containers could leave behind under a state dir:
// mounts, OCI runtime objects, conmon, `runc init` or container processes,
// records, bundles, exit files, image holds, and the cgroups of the
// sandboxes and containers named in `ids`. Empty when clean; otherwise one
// line per leak.
std::vector<std::string> find_leaks(const std::filesystem::path& state_dir,
                                    const std::vector<std::string>& ids = {});

// Collects the ids of the sandboxes and containers a test made, for the
// cgroup part of find_leaks.
struct IdLog {
  std::vector<std::string> ids;
  void add(const std::string& id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
};

// Drives an io_context until a task completes or a predicate holds, with a
// limit of real time (a safety net, never a wait).
class Driver {
 public:
  boost::asio::io_context& io() { return io_; }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }
  // False when `limit` passed first.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::seconds limit = std::chrono::seconds(30));

  template <typename T>
  T await(Task<T> task) {
    auto out = std::make_shared<std::optional<T>>();
    boost::asio::co_spawn(
        io_,
        [out, t = std::move(task)]() mutable -> Task<void> { out->emplace(co_await std::move(t)); },
        boost::asio::detached);
    if (!run_until([&] { return out->has_value(); }))
      throw std::runtime_error("a runtime call did not complete");
    return std::move(**out);
  }

 private:
  boost::asio::io_context io_;
};

// A busybox container running `script` with sh -c.
model::Container sh_container(const std::string& name, const std::string& script);

// A pod (uid, name, namespace "default") and the sandbox config for it,
// logging under `logs_dir`.
SandboxConfig sandbox_config_for(std::shared_ptr<model::Pod> pod,
                                 const std::filesystem::path& logs_dir);
std::shared_ptr<model::Pod> make_pod(const std::string& uid, const std::string& name);
ContainerConfig container_config_for(const model::Container& spec, const SandboxConfig& sandbox,
                                     uint32_t attempt = 0);

// A test with an OciRuntime of its own over a fresh OciTestDir, skipped
// where containers cannot run. It records every event, and the ids of
// what it made for find_leaks.
class OciRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // A new runtime on the same directories (events_ cleared), as an agent
  // starting again would have; close_runtime destroys it.
  void open_runtime();
  void close_runtime();
  bool exited(const ContainerId& id) const;

  std::optional<OciTestDir> dir_;
  base::RealClock clock_;
  Driver driver_;
  std::unique_ptr<OciRuntime> runtime_;
  std::vector<ContainerEvent> events_;
  std::vector<SandboxEvent> sandbox_events_;
  IdLog ids_;
};

}  // namespace podagent::runtime::oci::testing
