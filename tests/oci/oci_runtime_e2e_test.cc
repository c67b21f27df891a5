// The oci backend end to end, as root with runc and conmon: a pod's
// containers share localhost, hostname and an emptyDir; logs, exit codes,
// termination messages; stop and remove leave nothing; a new OciRuntime
// adopts what an old one left running.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "runtime/oci/oci_state.h"
#include "tests/oci/oci_test_env.h"

namespace podagent::runtime::oci::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class OciRuntimeE2eTest : public OciRuntimeTest {
 protected:
  std::shared_ptr<model::Pod> pod_with_shared_dir(const std::string& uid, const std::string& name) {
    auto pod = make_pod(uid, name);
    model::Volume shared;
    shared.name = "shared";
    shared.empty_dir.emplace();
    pod->spec.volumes.push_back(shared);
    return pod;
  }
  static model::Container with_shared(model::Container c) {
    model::VolumeMount m;
    m.name = "shared";
    m.mount_path = "/shared";
    c.volume_mounts.push_back(m);
    return c;
  }

  ContainerId start(const SandboxId& sandbox, const ContainerConfig& config) {
    auto id = driver_.await(runtime_->create_container(sandbox, config));
    if (!id) throw std::runtime_error("create_container: " + id.error().to_string());
    auto started = driver_.await(runtime_->start_container(*id));
    if (!started) throw std::runtime_error("start_container: " + started.error().to_string());
    return *id;
  }
  ContainerStatus status(const ContainerId& id) {
    auto s = driver_.await(runtime_->container_status(id));
    if (!s) throw std::runtime_error("container_status: " + s.error().to_string());
    return *s;
  }
  void remove_everything_and_check_leaks() {
    auto sandboxes = driver_.await(runtime_->list_sandboxes());
    ASSERT_TRUE(sandboxes);
    for (const auto& s : *sandboxes) {
      ids_.add(s.id.str());
      auto removed = driver_.await(runtime_->remove_sandbox(s.id));
      ASSERT_TRUE(removed) << removed.error().to_string();
    }
    close_runtime();
    EXPECT_EQ(find_leaks(dir_->state_dir(), ids_.ids), std::vector<std::string>{});
  }
};

TEST_F(OciRuntimeE2eTest, PodContainersShareLocalhostHostnameAndEmptyDir) {
  SandboxConfig sb = sandbox_config_for(pod_with_shared_dir("uid-e2e", "e2e"), dir_->logs_dir());
  auto sandbox = driver_.await(runtime_->run_sandbox(sb));
  ASSERT_TRUE(sandbox) << sandbox.error().to_string();

  // The server listens on the pod's loopback only; the client reaches it
  // there, and reads what the server wrote into the emptyDir.
  ContainerId server = start(
      *sandbox,
      container_config_for(with_shared(sh_container(
                               "server",
                               "mkdir -p /www && hostname > /www/index.html && echo "
                               "shared-by-server > /shared/note && "
                               "trap 'exit 0' TERM; httpd -f -p 127.0.0.1:8080 -h /www & wait")),
                           sb));
  model::Container client_spec = with_shared(
      sh_container("client",
                   "until wget -q -O /tmp/page http://127.0.0.1:8080/; do sleep 0.05; done; "
                   "echo \"client=$(hostname) server=$(cat /tmp/page) note=$(cat /shared/note)\"; "
                   "echo bye > /dev/termination-log; exit 3"));
  ContainerId client = start(*sandbox, container_config_for(client_spec, sb));

  ASSERT_TRUE(driver_.run_until([&] { return exited(client); }));
  ContainerStatus c = status(client);
  EXPECT_EQ(c.state, ContainerState::Exited);
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_EQ(c.reason, "Error");
  EXPECT_EQ(c.message, "bye\n");
  EXPECT_TRUE(c.finished_at);
  const fs::path client_log = sb.log_directory / "client" / "0.log";
  EXPECT_NE(read_file(client_log).find(" stdout F client=e2e server=e2e note=shared-by-server"),
            std::string::npos)
      << read_file(client_log);

  EXPECT_EQ(status(server).state, ContainerState::Running);
  auto exec = driver_.await(runtime_->exec(server, {"sh", "-c", "cat /shared/note; exit 4"}, 5s));
  ASSERT_TRUE(exec) << exec.error().to_string();
  EXPECT_EQ(exec->exit_code, 4);
  EXPECT_EQ(exec->stdout_text, "shared-by-server\n");

  ASSERT_TRUE(driver_.await(runtime_->stop_container(server, 10s)));
  ContainerStatus s = status(server);
  EXPECT_EQ(s.state, ContainerState::Exited);
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.reason, "Completed");

  ASSERT_TRUE(driver_.await(runtime_->remove_container(server)));
  ASSERT_TRUE(driver_.await(runtime_->remove_container(client)));
  ASSERT_TRUE(driver_.await(runtime_->stop_sandbox(*sandbox)));
  ASSERT_TRUE(driver_.run_until([&] { return !sandbox_events_.empty(); }));
  ASSERT_TRUE(driver_.await(runtime_->remove_sandbox(*sandbox)));
  remove_everything_and_check_leaks();
  EXPECT_TRUE(fs::exists(client_log));  // logs stay for --previous
}

TEST_F(OciRuntimeE2eTest, UnsupportedVolumesAndMissingImagesAreClearErrors) {
  auto pod = make_pod("uid-vol", "vol");
  model::Volume host;
  host.name = "host";
  host.unsupported_sources = {"nfs"};  // validation refuses it; the runtime too
  pod->spec.volumes.push_back(host);
  SandboxConfig sb = sandbox_config_for(pod, dir_->logs_dir());
  auto sandbox = driver_.await(runtime_->run_sandbox(sb));
  ASSERT_TRUE(sandbox) << sandbox.error().to_string();
  model::Container c = sh_container("app", "true");
  c.volume_mounts.push_back({"host", "/host", false, "", "", ""});
  auto created = driver_.await(runtime_->create_container(*sandbox, container_config_for(c, sb)));
  ASSERT_FALSE(created);
  EXPECT_NE(created.error().message.find("nfs volumes are not supported yet"),
            std::string::npos);
  auto other = make_pod("uid-kata", "kata");
  other->spec.runtime_class_name = "kata";
  auto unknown = driver_.await(runtime_->run_sandbox(sandbox_config_for(other, dir_->logs_dir())));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().field, "spec.runtimeClassName");
  EXPECT_NE(unknown.error().message.find("\"kata\" is not configured"), std::string::npos)
      << unknown.error().message;
  auto pulled = driver_.await(runtime_->pull_image("example.com/none:1"));
  ASSERT_FALSE(pulled);
  EXPECT_NE(
      pulled.error().message.find("not found on this node: import it with `podagent image import`"),
      std::string::npos);
  auto present = driver_.await(runtime_->image_status(kTestImage));
  ASSERT_TRUE(present && *present);
  EXPECT_EQ(present->value().rfind("sha256:", 0), 0u);
  remove_everything_and_check_leaks();
}

TEST_F(OciRuntimeE2eTest, LogsRotateAtTheLimitAndTheWriterReopens) {
  close_runtime();
  OciRuntimeOptions options = dir_->options();
  options.log_max_bytes = 2000;
  options.log_max_files = 3;
  auto rt = OciRuntime::create(clock_, driver_.executor(), options);
  ASSERT_TRUE(rt) << rt.error().to_string();
  runtime_ = std::move(*rt);
  runtime_->set_event_handlers([this](const ContainerEvent& e) { ids_.add(e.container_id.str()); },
                               nullptr);
  SandboxConfig sb = sandbox_config_for(make_pod("uid-logs", "logs"), dir_->logs_dir());
  auto sandbox = driver_.await(runtime_->run_sandbox(sb));
  ASSERT_TRUE(sandbox) << sandbox.error().to_string();
  start(*sandbox, container_config_for(sh_container("chatty",
                                                    "trap 'exit 0' TERM; i=0; while true; do echo "
                                                    "line-$i; i=$((i+1)); sleep 0.005; done"),
                                       sb));
  const fs::path log = sb.log_directory / "chatty" / "0.log";
  auto size_of = [](const fs::path& p) {
    std::error_code ec;
    auto n = fs::file_size(p, ec);
    return ec ? uintmax_t{0} : n;
  };
  auto rotated = [&] {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(log.parent_path()))
      if (e.path() != log) out.push_back(e.path());
    return out;
  };
  for (int round = 1; round <= 3; ++round) {
    ASSERT_TRUE(driver_.run_until([&] { return size_of(log) >= 2000; }));
    runtime_->rotate_logs();
    ASSERT_FALSE(rotated().empty());
    // conmon reopened the path: new lines go to a new 0.log.
    ASSERT_TRUE(driver_.run_until([&] { return size_of(log) > 0; })) << "round " << round;
  }
  // At most log_max_files in all: the current file and two rotated ones.
  EXPECT_EQ(rotated().size(), 2u);
  EXPECT_NE(read_file(rotated().front()).find(" stdout F line-"), std::string::npos);
  remove_everything_and_check_leaks();
}

TEST_F(OciRuntimeE2eTest, ASandboxWhosePauseDiesIsNotReadyWithAnEvent) {
  SandboxConfig sb = sandbox_config_for(make_pod("uid-dies", "dies"), dir_->logs_dir());
  auto sandbox = driver_.await(runtime_->run_sandbox(sb));
  ASSERT_TRUE(sandbox) << sandbox.error().to_string();
  // Kill the pause process behind the runtime's back.
  const std::string cmd = "runc --root " + (dir_->state_dir() / "oci/run/runc/runtime").string() +
                          " kill " + sandbox->str() + " KILL";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_TRUE(driver_.run_until([&] { return !sandbox_events_.empty(); }));
  EXPECT_EQ(sandbox_events_.front().sandbox_id, *sandbox);
  auto pod = driver_.await(runtime_->list_pod(sb.pod_uid));
  ASSERT_TRUE(pod);
  ASSERT_EQ(pod->sandboxes.size(), 1u);
  EXPECT_EQ(pod->sandboxes[0].state, SandboxState::NotReady);
  auto created = driver_.await(
      runtime_->create_container(*sandbox, container_config_for(sh_container("late", "true"), sb)));
  EXPECT_FALSE(created);
  remove_everything_and_check_leaks();
}

TEST_F(OciRuntimeE2eTest, ANewRuntimeAdoptsRunningContainersAndSeesExitsWhileDown) {
  SandboxConfig sb = sandbox_config_for(pod_with_shared_dir("uid-rec", "rec"), dir_->logs_dir());
  auto sandbox = driver_.await(runtime_->run_sandbox(sb));
  ASSERT_TRUE(sandbox) << sandbox.error().to_string();
  ContainerId forever = start(
      *sandbox,
      container_config_for(sh_container("forever", "trap 'exit 143' TERM; sleep 3600 & wait"), sb));
  ContainerId later = start(
      *sandbox,
      container_config_for(with_shared(sh_container(
                               "later", "while [ ! -f /shared/go ]; do sleep 0.05; done; exit 5")),
                           sb));
  auto created = driver_.await(
      runtime_->create_container(*sandbox, container_config_for(sh_container("idle", "true"), sb)));
  ASSERT_TRUE(created);
  const ContainerStatus forever_before = status(forever);
  const PodRuntimeState before = *driver_.await(runtime_->list_pod(sb.pod_uid));

  close_runtime();  // the agent goes away; conmon keeps the containers
  const fs::path oci = dir_->state_dir() / "oci";
  std::ofstream(oci / "sandboxes" / sandbox->str() / "volumes" / "shared" / "go") << "go";
  const fs::path exit_file = oci / "run" / "runc" / "exits" / later.str();
  ASSERT_TRUE(driver_.run_until([&] { return fs::exists(exit_file); }));
  const WallTime reopened_at = clock_.wall_now();

  open_runtime();
  auto after = driver_.await(runtime_->list_pod(sb.pod_uid));
  ASSERT_TRUE(after) << after.error().to_string();
  ASSERT_EQ(after->sandboxes.size(), 1u);
  EXPECT_EQ(after->sandboxes[0], before.sandboxes[0]);  // same id, still Ready
  // The one never started was a creation cut short: removed, so that the
  // pod makes it again as the same attempt.
  ASSERT_EQ(after->containers.size(), 2u);
  EXPECT_FALSE(driver_.await(runtime_->container_status(*created)));
  EXPECT_EQ(status(forever), forever_before);  // adopted untouched
  ContainerStatus l = status(later);
  EXPECT_EQ(l.state, ContainerState::Exited);
  EXPECT_EQ(l.exit_code, 5);
  EXPECT_EQ(l.reason, "Error");
  ASSERT_TRUE(l.finished_at);
  EXPECT_LE(*l.finished_at, reopened_at);  // when it exited, not when it was found

  // The adopted ones are fully managed: exec, exit events, stop, remove.
  auto exec = driver_.await(runtime_->exec(forever, {"true"}, 5s));
  ASSERT_TRUE(exec) << exec.error().to_string();
  EXPECT_EQ(exec->exit_code, 0);
  ASSERT_TRUE(driver_.await(runtime_->stop_container(forever, 10s)));
  EXPECT_EQ(status(forever).exit_code, 143);
  EXPECT_TRUE(exited(forever));
  remove_everything_and_check_leaks();
}

TEST_F(OciRuntimeE2eTest, RecoveryCleansRecordsWithoutRuntimeObjectsAndCutShortDirectories) {
  SandboxConfig sb = sandbox_config_for(make_pod("uid-clean", "clean"), dir_->logs_dir());
  auto sandbox = driver_.await(runtime_->run_sandbox(sb));
  ASSERT_TRUE(sandbox) << sandbox.error().to_string();
  close_runtime();
  StateDir state(dir_->state_dir() / "oci");
  ContainerRecord ghost;  // recorded, killed before `runc create`
  ghost.id = "ghost";
  ghost.sandbox_id = sandbox->str();
  ghost.pod_uid = "uid-clean";
  ghost.name = "ghost";
  ghost.handler = "runc";
  ASSERT_TRUE(state.write(ghost));
  fs::create_directories(state.container_dir("cut-short") / "bundle");

  open_runtime();
  auto pod = driver_.await(runtime_->list_pod(sb.pod_uid));
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->sandboxes.size(), 1u);
  EXPECT_TRUE(pod->containers.empty());
  EXPECT_FALSE(fs::exists(state.container_dir("ghost")));
  EXPECT_FALSE(fs::exists(state.container_dir("cut-short")));
  remove_everything_and_check_leaks();
}

}  // namespace
}  // namespace podagent::runtime::oci::testing
