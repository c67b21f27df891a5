#include "tests/e2e/e2e_env.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "model/document.h"
#include "runtime/oci/oci_runtime.h"

extern char** environ;

namespace podagent::e2e {

namespace oci_testing = runtime::oci::testing;
using agent::testing::field;
using agent::testing::http;
using agent::testing::parse_json;

namespace {

using runtime::oci::testing::read_file;


// Spawns podagent with `args`, stdin from /dev/null, stdout and stderr to
// `out_fd`.
pid_t spawn_podagent(const std::vector<std::string>& args, int out_fd) {
  std::vector<std::string> argv_strings = args;
  argv_strings.insert(argv_strings.begin(), PODAGENT_BINARY);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 2);
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int decode_wait_status(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace

std::string sh_container(const std::string& name, const std::string& script,
                         const std::string& extra) {
  return "  - name: " + name + "\n    image: " + kImage +
         "\n    command:\n    - sh\n    - -c\n    - |\n      " + script + "\n" + extra;
}

std::string PodYaml::str() const {
  std::string y = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n";
  if (!annotations.empty()) y += "  annotations: {" + annotations + "}\n";
  y += "spec:\n  terminationGracePeriodSeconds: 1\n" + spec_extra;
  if (!init_containers.empty()) y += "  initContainers:\n" + init_containers;
  return y + "  containers:\n" + containers;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  return agent::testing::wait_for(done, limit);
}

const model::Node* container_status(const model::Node& pod, const std::string& name, bool init) {
  const model::Node* status = pod.find("status");
  const model::Node* list =
      status ? status->find(init ? "initContainerStatuses" : "containerStatuses") : nullptr;
  if (!list) return nullptr;
  for (const model::Node& item : list->items)
    if (field(item, {"name"}) == name) return &item;
  return nullptr;
}

std::string at(const model::Node* node, std::initializer_list<std::string_view> path) {
  return node ? field(*node, path) : "";
}

std::vector<std::string> runtime_ids(const fs::path& state_dir) {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const char* dir : {"oci/sandboxes", "oci/containers"})
    for (fs::directory_iterator it(state_dir / dir, ec), end; !ec && it != end; it.increment(ec))
      ids.push_back(it->path().filename().string());
  return ids;
}

std::vector<std::pair<std::string, std::string>> runc_list(const fs::path& state_dir) {
  const std::string cmd =
      "runc --root " + (state_dir / "oci/run/runc/runtime").string() + " list --format json";
  // runc list fails when an object it lists is removed meanwhile (the agent
  // may be collecting one): ask again then.
  std::string out;
  for (int attempt = 0; attempt < 20; ++attempt) {
    out.clear();
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) break;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) out.append(buffer, n);
    if (::pclose(p) == 0) break;
  }
  std::vector<std::pair<std::string, std::string>> objects;
  auto docs = model::parse_documents(out);
  if (!docs || docs->empty()) return objects;
  for (const model::Node& item : docs->front().items)
    objects.emplace_back(field(item, {"id"}), field(item, {"status"}));
  return objects;
}

std::vector<std::pair<std::string, std::string>> sandbox_records(const fs::path& state_dir) {
  std::vector<std::pair<std::string, std::string>> uids;
  std::error_code ec;
  for (fs::directory_iterator it(state_dir / "oci/sandboxes", ec), end; !ec && it != end;
       it.increment(ec)) {
    auto docs = model::parse_documents(read_file(it->path() / "record.json"));
    uids.emplace_back(it->path().filename().string(),
                      docs && docs->size() == 1 ? field(docs->front(), {"podUid"}) : "?");
  }
  return uids;
}

namespace {
// Every e2e test's pod cgroups go under a root of its own below this one.
constexpr const char* kCgroupTop = "podagent-e2e";
}  // namespace

std::string test_cgroup_root(const fs::path& test_dir) {
  return std::string(kCgroupTop) + "/" + test_dir.filename().string();
}

std::vector<std::string> pod_cgroups_left(const std::string& root) {
  std::vector<std::string> out;
  if (root.empty()) return out;  // no pod cgroups
  std::error_code ec;
  for (fs::directory_iterator h("/sys/fs/cgroup", ec), end; !ec && h != end; h.increment(ec)) {
    std::error_code walk_ec;
    for (fs::recursive_directory_iterator it(h->path() / root, walk_ec), e2; !walk_ec && it != e2;
         it.increment(walk_ec)) {
      if (it->is_directory() && it->path().filename().string().starts_with("pod"))
        out.push_back("cgroup " + it->path().string());
    }
  }
  return out;
}

void remove_test_cgroups(const std::string& root) {
  if (root.empty()) return;
  std::error_code ec;
  for (fs::directory_iterator h("/sys/fs/cgroup", ec), end; !ec && h != end; h.increment(ec)) {
    std::vector<fs::path> dirs;
    std::error_code walk_ec;
    for (fs::recursive_directory_iterator it(h->path() / root, walk_ec), e2; !walk_ec && it != e2;
         it.increment(walk_ec))
      if (it->is_directory()) dirs.push_back(it->path());
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
      return a.string().size() > b.string().size();
    });
    dirs.push_back(h->path() / root);
    for (fs::path p = fs::path(root).parent_path(); !p.empty(); p = p.parent_path()) {
      dirs.push_back(h->path() / p);
      if (p == kCgroupTop) break;
    }
    for (const fs::path& d : dirs) ::rmdir(d.c_str());
  }
}


std::vector<std::string> sweep(const fs::path& state_dir, const std::string& cgroup_root) {
  runtime::oci::OciRuntimeOptions o;
  o.state_dir = state_dir;
  o.cgroup_root = cgroup_root;
  o.pause_binary = PODAGENT_PAUSE_BINARY;
  base::RealClock clock;
  oci_testing::Driver driver;
  std::vector<std::string> seen;
  {
    auto rt = runtime::oci::OciRuntime::create(clock, driver.executor(), o);
    if (!rt) return {"cannot open the runtime: " + rt.error().to_string()};
    auto sandboxes = driver.await((*rt)->list_sandboxes());
    if (sandboxes) {
      for (const auto& s : *sandboxes) {
        seen.push_back(s.id.str());
        (void)driver.await((*rt)->remove_sandbox(s.id));
      }
    }
  }
  driver.io().restart();
  driver.io().poll();
  return seen;
}

int run_podagent(const std::vector<std::string>& args, std::string* output) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  const pid_t pid = spawn_podagent(args, fds[1]);
  ::close(fds[1]);
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;)
    out.append(buffer, static_cast<size_t>(n));
  ::close(fds[0]);
  if (output) *output = out;
  if (pid < 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return decode_wait_status(status);
}

AgentProcess::AgentProcess(const std::vector<std::string>& args, const fs::path& log_file) {
  const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  pid_ = spawn_podagent(args, fd);
  ::close(fd);
}

AgentProcess::~AgentProcess() {
  if (pid_ > 0) {
    kill(SIGKILL);
    wait();
  }
}

void AgentProcess::kill(int signo) {
  if (pid_ > 0) ::kill(pid_, signo);
}

int AgentProcess::wait() {
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return decode_wait_status(status);
}

void E2eTest::SetUp() {
  std::string why;
  if (!oci_testing::can_run_containers(&why)) GTEST_SKIP() << why;
  dir_.emplace();
  config_.node_name = "node1";
  config_.manifest_dir = (dir_->root() / "manifests").string();
  config_.state_dir = dir_->state_dir().string();
  config_.pod_logs_dir = dir_->logs_dir().string();
  config_.api.socket = (dir_->root() / "api.sock").string();
  config_.runtime.backend = "oci";
  config_.runtime.pause_binary = PODAGENT_PAUSE_BINARY;
  // No network list: loopback-only pods, whatever the node's /etc/podagent/cni
  // holds (tests/e2e/network_test.cc gives its pods networks of their own).
  config_.cni.conf_dir = (dir_->root() / "cni").string();
  config_.cgroups.root = test_cgroup_root(dir_->root());
  fs::create_directories(config_.cni.conf_dir);
  fs::create_directories(config_.manifest_dir);
  start_agent();
}

void E2eTest::start_agent() {
  agent::AgentOptions o;
  o.config = config_;
  o.env = [](std::string_view) { return std::optional<std::string>(); };
  agent_ = std::make_unique<agent::testing::RunningAgent>(std::move(o));
  base::Status s = agent_->start();
  ASSERT_TRUE(s) << s.error().to_string();
  ASSERT_TRUE(agent_->on_io([this] { return agent_->agent().has_runtime(); }));
  ASSERT_TRUE(wait_until([&] { return get("/readyz").status == 200; }));
}

void E2eTest::stop_agent() {
  if (agent_) agent_->stop();
  agent_.reset();
}

void E2eTest::TearDown() {
  if (!dir_) return;
  for (const std::string& id : runtime_ids(state_dir())) ids_.push_back(id);
  if (agent_) {
    const model::Node list = parse_json(get("/api/v1/pods").body);
    if (const model::Node* items = list.find("items"))
      for (const model::Node& pod : items->items) remove(field(pod, {"metadata", "name"}));
    EXPECT_TRUE(wait_until([&] {
      const model::Node now = parse_json(get("/api/v1/pods").body);
      const model::Node* items = now.find("items");
      return items && items->items.empty();
    })) << "pods still listed after their deletion";
    stop_agent();
  }
  EXPECT_EQ(sweep(state_dir(), config_.cgroups.root), std::vector<std::string>{})
      << "sandboxes left after deletion";
  EXPECT_EQ(oci_testing::find_leaks(state_dir(), ids_), std::vector<std::string>{});
  EXPECT_EQ(pod_cgroups_left(config_.cgroups.root), std::vector<std::string>{});
  remove_test_cgroups(config_.cgroups.root);
  dir_.reset();
}

HttpReply E2eTest::get(const std::string& target) {
  return http(config_.api.socket, "GET", target);
}

int E2eTest::create(const std::string& yaml) {
  errno = 0;
  HttpReply r = http(config_.api.socket, "POST", "/api/v1/namespaces/default/pods", yaml,
                     "application/yaml");
  if (r.status == 0)
    ADD_FAILURE() << "no answer to POST (errno " << errno << " " << std::strerror(errno)
                  << ", head: " << r.head << ")";
  return r.status;
}

int E2eTest::remove(const std::string& name) {
  return http(config_.api.socket, "DELETE", "/api/v1/namespaces/default/pods/" + name).status;
}

std::optional<model::Node> E2eTest::wait_pod(const std::string& name,
                                             const std::function<bool(const model::Node&)>& ok,
                                             std::chrono::milliseconds limit) {
  std::optional<model::Node> pod;
  const bool got = wait_until(
      [&] {
        HttpReply r = get("/api/v1/namespaces/default/pods/" + name);
        if (r.status != 200) return false;
        pod = parse_json(r.body);
        return ok(*pod);
      },
      limit);
  if (!got) {
    ADD_FAILURE() << "pod " << name << " did not get there; last seen:\n"
                  << (pod ? model::to_yaml(*pod) : std::string("nothing"));
    return std::nullopt;
  }
  return pod;
}

bool E2eTest::wait_gone(const std::string& name, std::chrono::milliseconds limit) {
  return wait_until([&] { return get("/api/v1/namespaces/default/pods/" + name).status == 404; },
                    limit);
}

std::string E2eTest::logs(const std::string& pod, const std::string& container) {
  return get("/api/v1/namespaces/default/pods/" + pod + "/log?container=" + container).body;
}

}  // namespace podagent::e2e

namespace podagent::e2e {

void ProgramTest::SetUp() {
  std::string why;
  if (!oci_testing::can_run_containers(&why)) GTEST_SKIP() << why;
  dir_.emplace();
  fs::create_directories(manifests());
  // The program's own state dir (the test dir's holds an image already).
  const std::string d = dir_->root().string();
  config_ = (dir_->root() / "config.yaml").string();
  std::ofstream(config_) << "nodeName: node1\nmanifestDir: " << d << "/manifests\nstateDir: "
                         << state_dir().string() << "\npodLogsDir: " << d
                         << "/logs\napi: {socket: " << socket() << "}\ncgroups: {root: "
                         << cgroup_root() << "}\n";
}

void ProgramTest::TearDown() {
  if (!dir_) return;
  if (agent_) {
    agent_->kill(SIGTERM);
    EXPECT_EQ(agent_->wait(), 0);
    agent_.reset();
  }
  if (HasFailure()) {
    const std::string log = oci_testing::read_file(dir_->root() / "agent.log");
    std::cerr << "agent log (tail):\n" << (log.size() > 20000 ? log.substr(log.size() - 20000) : log);
  }
  // Whatever the test left running (a pod not deleted through the agent).
  const std::vector<std::string> ids = sweep(state_dir(), cgroup_root());
  EXPECT_EQ(oci_testing::find_leaks(state_dir(), ids), std::vector<std::string>{});
  EXPECT_EQ(pod_cgroups_left(cgroup_root()), std::vector<std::string>{});
  remove_test_cgroups(cgroup_root());
  dir_.reset();
}

void ProgramTest::import_image(const std::string& name) {
  std::string out;
  ASSERT_EQ(run_podagent({"image", "import", oci_testing::busybox_archive().string(), "--name",
                          name, "--config", config_},
                         &out),
            0)
      << out;
}

void ProgramTest::start() {
  agent_ = std::make_unique<AgentProcess>(std::vector<std::string>{"run", "--config", config_},
                                          dir_->root() / "agent.log");
  ASSERT_TRUE(wait_until([&] { return http(socket(), "GET", "/readyz").status == 200; }));
}

}  // namespace podagent::e2e
