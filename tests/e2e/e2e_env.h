// The end-to-end tests' environment: the whole agent with the oci backend
// (runc, conmon, the busybox test image) as root, everything under one temp
// directory. The agent runs in-process (E2eTest) or as the built podagent
// program (AgentProcess). Waits poll the API (or the runtime's state) until
// a condition holds or a deadline passes; none sleeps a fixed time.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/agent_config.h"
#include "model/node.h"
#include "tests/agent/agent_test_util.h"
#include "tests/oci/oci_test_env.h"

namespace podagent::e2e {

namespace fs = std::filesystem;
using agent::testing::HttpReply;

// The image every test pod runs (imported into each test's state dir).
inline constexpr const char* kImage = runtime::oci::testing::kTestImage;
// A shell fragment that idles until SIGTERM, then exits 0 at once (busybox
// sh as PID 1 ignores SIGTERM without a trap; `wait` is interrupted by it
// where a foreground sleep would not be).
inline constexpr const char* kIdle = "trap 'exit 0' TERM; sleep 3600 & wait";

// YAML of a busybox container (a list item under a spec's containers or
// initContainers) running `script` with sh -c; `extra` holds more fields,
// each line indented by 4 spaces ("    volumeMounts: [...]\n").
std::string sh_container(const std::string& name, const std::string& script,
                         const std::string& extra = "");
// YAML of a pod with terminationGracePeriodSeconds 1. `spec_extra`: more
// spec fields, each line indented by 2; `annotations`: a flow map's
// content ("a: b, c: d").
struct PodYaml {
  explicit PodYaml(std::string pod_name, std::string extra = "", std::string notes = "")
      : name(std::move(pod_name)), spec_extra(std::move(extra)), annotations(std::move(notes)) {}
  std::string name;
  std::string spec_extra;
  std::string init_containers;  // sh_container items
  std::string containers;
  std::string annotations;
  std::string str() const;
};

// Polls `done` until it holds (true) or `limit` passes (false).
bool wait_until(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(30));

// The container status named `name` in the pod's status (init containers
// when `init`), or nullptr.
const model::Node* container_status(const model::Node& pod, const std::string& name,
                                    bool init = false);
// The scalar at a path of map keys below `node` ("" when absent).
std::string at(const model::Node* node, std::initializer_list<std::string_view> path);

// The ids of the sandboxes and containers the oci backend holds records of
// under `state_dir` (what a leak check's cgroup part needs).
std::vector<std::string> runtime_ids(const fs::path& state_dir);
// The ids `runc --root <state_dir>/oci/run/runc/runtime list` shows, with
// their status ("running", ...).
std::vector<std::pair<std::string, std::string>> runc_list(const fs::path& state_dir);
// (sandbox id, pod uid) of each sandbox record under `state_dir`.
std::vector<std::pair<std::string, std::string>> sandbox_records(const fs::path& state_dir);
// Removes every sandbox (and its containers) an oci backend left under
// `state_dir` with a fresh OciRuntime: the safety net after a failed test.
// `cgroup_root`: the agent's cgroups.root, whose pod cgroups go with their
// sandboxes. Returns the ids it saw.
std::vector<std::string> sweep(const fs::path& state_dir, const std::string& cgroup_root = "");

// A test's own cgroups.root, "podagent-e2e/<test dir name>", so that its
// leak check sees only its pods.
std::string test_cgroup_root(const fs::path& test_dir);
// The pod cgroups (pod<uid> directories) under `root` in every hierarchy
// mounted below /sys/fs/cgroup, one line each: leaks once the pods are gone.
std::vector<std::string> pod_cgroups_left(const std::string& root);
// rmdir of the test's cgroup tree, deepest first, up to podagent-e2e; what
// is still in use stays.
void remove_test_cgroups(const std::string& root);

// Runs the podagent program with `args` to completion; its stdout and
// stderr together in `output`. Returns the exit status (-signal if killed).
int run_podagent(const std::vector<std::string>& args, std::string* output);

// `podagent run` as a child process, its output going to `log_file`.
class AgentProcess {
 public:
  AgentProcess(const std::vector<std::string>& args, const fs::path& log_file);
  ~AgentProcess();  // SIGKILL if still running
  void kill(int signo);
  // Waits for the exit; returns the status (-signal if killed).
  int wait();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A test with the in-process agent on the oci backend. Skipped when the
// machine cannot run containers. TearDown deletes what is left, stops the
// agent and checks that nothing leaked.
class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  void start_agent();
  void stop_agent();

  HttpReply get(const std::string& target);
  // POSTs a YAML pod to the default namespace; the HTTP status.
  int create(const std::string& yaml);
  int remove(const std::string& name);
  // The pod once `ok` holds for it, nullopt after `limit`.
  std::optional<model::Node> wait_pod(const std::string& name,
                                      const std::function<bool(const model::Node&)>& ok,
                                      std::chrono::milliseconds limit = std::chrono::seconds(30));
  // True once GET answers 404.
  bool wait_gone(const std::string& name,
                 std::chrono::milliseconds limit = std::chrono::seconds(30));
  std::string logs(const std::string& pod, const std::string& container);
  fs::path state_dir() const { return dir_->state_dir(); }

  std::optional<runtime::oci::testing::OciTestDir> dir_;
  config::AgentConfig config_;
  std::unique_ptr<agent::testing::RunningAgent> agent_;
  std::vector<std::string> ids_;  // seen while pods ran, for find_leaks
};

// A test of the built podagent program run as a user runs it: a temp dir
// with a config file (its own state, manifest and log directories, API
// socket and cgroup root), `podagent image import`, `podagent run` as a
// child process. Skipped when the machine cannot run containers. TearDown
// stops the agent with SIGTERM, removes what it left and checks that
// nothing leaked (processes, mounts, records, pod cgroups).
class ProgramTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  fs::path state_dir() const { return dir_->root() / "agent-state"; }
  fs::path manifests() const { return dir_->root() / "manifests"; }
  std::string socket() const { return (dir_->root() / "api.sock").string(); }
  std::string cgroup_root() const { return test_cgroup_root(dir_->root()); }

  // `podagent image import` of the busybox test image as `name`.
  void import_image(const std::string& name);
  // `podagent run` on the config, once /readyz answers 200.
  void start();

  std::optional<runtime::oci::testing::OciTestDir> dir_;
  std::string config_;
  std::unique_ptr<AgentProcess> agent_;
};

}  // namespace podagent::e2e
