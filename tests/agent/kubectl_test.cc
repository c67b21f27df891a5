// The real kubectl against the API over TLS with a bearer token: the
// server's io_context runs on its own thread while the test runs kubectl as
// a child process and reads what it prints.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include "agent/api_routes.h"
#include "agent/auth.h"
#include "agent/http_server.h"
#include "agent/pod_events.h"
#include "runtime/container_log.h"
#include "tests/agent/io_thread.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::agent {
namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;

constexpr const char* kKubectl = "/usr/bin/kubectl";
constexpr const char* kAdminToken = "kubectl-admin-token-5f1c9a";
// A guard against a hang, not a wait: a child silent for this long is killed.
constexpr int kSafetyMillis = 60'000;

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// ---- Running kubectl ----

struct Output {
  int exit_code = -1;  // -1: killed or not exited normally
  std::string out;
  std::string err;
};

class Child {
 public:
  // Starts `argv` with exactly `env`; stdout and stderr are piped.
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return;
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    args.push_back(nullptr);
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    if (err_fd_ >= 0) ::close(err_fd_);
  }

  // Reads both pipes until `done(stdout so far)` holds or both reach EOF.
  // False when the child stayed silent for the safety period.
  bool read_until(const std::function<bool(const std::string&)>& done) {
    while ((out_fd_ >= 0 || err_fd_ >= 0) && !(done && done(output_.out))) {
      pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
      if (::poll(fds, 2, kSafetyMillis) <= 0) return false;
      drain(fds[0], out_fd_, output_.out);
      drain(fds[1], err_fd_, output_.err);
    }
    return true;
  }

  // Waits for the child to exit (killing it if it hangs).
  Output finish() {
    if (!read_until(nullptr)) ::kill(pid_, SIGKILL);
    wait();
    return output_;
  }

  // Ends a child that would run forever (kubectl get -w), by its PID.
  Output terminate() {
    ::kill(pid_, SIGTERM);
    return finish();
  }

  const Output& output() const { return output_; }

 private:
  void drain(const pollfd& p, int& fd, std::string& into) {
    if (fd < 0 || p.revents == 0) return;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
    } else {
      ::close(fd);
      fd = -1;
    }
  }
  void wait() {
    int status = 0;
    if (::waitpid(pid_, &status, 0) == pid_ && WIFEXITED(status))
      output_.exit_code = WEXITSTATUS(status);
    reaped_ = true;
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  int out_fd_ = -1;
  int err_fd_ = -1;
  Output output_;
};

// ---- The agent side ----

// Records what the API asked of the pod workers and answers as they would:
// a created or replaced pod is soon Running with every container ready; a
// removed pod is gone once "terminated". Runs on the io_context thread.
class RecordingSink : public PodSink {
 public:
  RecordingSink(net::io_context& io, PodStore& store) : io_(io), store_(store) {}

  void create(const model::Pod& pod) override {
    calls.push_back("create " + pod.metadata.name);
    publish_running(pod);
  }
  void replace(const model::Pod& pod) override {
    calls.push_back("replace " + pod.metadata.name);
    publish_running(pod);
  }
  void remove(const base::PodUid& uid, int64_t grace) override {
    calls.push_back("remove " + uid.str() + " grace=" + std::to_string(grace));
    net::post(io_, [this, uid] { store_.remove(uid); });
  }

  std::vector<std::string> calls;

 private:
  // After the API call returns, as a pod worker's report would come.
  void publish_running(const model::Pod& pod) {
    model::PodStatus status;
    status.phase = model::kPhaseRunning;
    status.pod_ip = "10.88.0.7";
    status.pod_ips = {{"10.88.0.7"}};
    status.host_ip = "192.0.2.1";
    status.start_time = std::chrono::system_clock::now();
    for (const char* type :
         {model::kConditionInitialized, model::kConditionContainersReady, model::kConditionReady})
      status.conditions.push_back({.type = type, .status = "True"});
    for (const auto& c : pod.spec.containers) {
      model::ContainerStatus cs;
      cs.name = c.name;
      cs.image = c.image;
      cs.ready = true;
      cs.started = true;
      cs.state.running = model::ContainerStateRunning{status.start_time};
      status.container_statuses.push_back(cs);
    }
    net::post(io_, [this, uid = base::PodUid(pod.metadata.uid), status] {
      store_.set_status(uid, status);
    });
  }

  net::io_context& io_;
  PodStore& store_;
};

class KubectlTest : public ::testing::Test {
 protected:
  KubectlTest()
      : sink_(io_, store_),
        logs_dir_(make_temp_dir()),
        events_(events_options()),
        routes_(store_, sink_, persistence_,
                ApiOptions{.node_name = "node-a", .pod_logs_dir = logs_dir_, .events = &events_}),
        dir_(make_temp_dir()) {}

  PodEvents::Options events_options() {
    PodEvents::Options o;
    o.lookup = lookup_in(store_);
    o.wall_now = [] { return std::chrono::system_clock::now(); };
    return o;
  }

  static fs::path make_temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "podagent-kubectl-XXXXXX").string();
    return ::mkdtemp(tmpl.data());
  }

  ~KubectlTest() override {
    if (server_) io_thread_.run([&] { server_->stop(); });
    io_thread_.join();
    server_.reset();
    fs::remove_all(dir_);
    fs::remove_all(logs_dir_);
  }

  void SetUp() override {
    if (!fs::exists(kKubectl))
      GTEST_SKIP() << kKubectl << " is not installed; the kubectl tests need it";
    std::ofstream(dir_ / "tokens.csv") << kAdminToken << ",admin,1,\"podagent:admin\"\n";
    auto security = prepare_tcp_security({.tokens_file = (dir_ / "tokens.csv").string()},
                                         dir_ / "state", "node-a");
    ASSERT_TRUE(security.ok()) << security.error().to_string();
    server_ = std::make_unique<HttpServer>(
        io_, [this](const ApiRequest& r) { return routes_.handle(r); });
    io_thread_.start();
    uint16_t port = 0;
    io_thread_.run([&] {
      auto p =
          server_->listen_tcp({.authenticator = security->authenticator, .tls = security->tls});
      ASSERT_TRUE(p.ok()) << p.error().message;
      port = *p;
    });
    write_kubeconfig(dir_ / "kubeconfig", port, security->serving.cert, kAdminToken);
  }

  void write_kubeconfig(const fs::path& path, uint16_t port, const fs::path& ca,
                        const std::string& token) {
    std::ofstream(path) << "apiVersion: v1\nkind: Config\n"
                        << "clusters:\n- name: podagent\n  cluster:\n"
                        << "    server: https://127.0.0.1:" << port << "\n"
                        << "    certificate-authority: " << ca.string() << "\n"
                        << "users:\n- name: admin\n  user:\n    token: " << token << "\n"
                        << "contexts:\n- name: podagent\n  context:\n"
                        << "    cluster: podagent\n    user: admin\n    namespace: default\n"
                        << "current-context: podagent\n";
  }

  std::unique_ptr<Child> start_kubectl(std::vector<std::string> args,
                                       const std::string& kubeconfig = "kubeconfig") {
    std::vector<std::string> argv = {kKubectl, "--kubeconfig=" + (dir_ / kubeconfig).string(),
                                     "--request-timeout=10s"};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::vector<std::string> env = {"HOME=" + dir_.string(),
                                          "KUBECACHEDIR=" + (dir_ / "cache").string(),
                                          "PATH=/usr/bin:/bin", "LANG=C"};
    return std::make_unique<Child>(argv, env);
  }

  Output kubectl(std::vector<std::string> args, const std::string& kubeconfig = "kubeconfig") {
    return start_kubectl(std::move(args), kubeconfig)->finish();
  }

  // `kubectl create -f` of the test manifest, checked.
  void create_hello() {
    const Output o =
        kubectl({"create", "-f", std::string(PODAGENT_TEST_DATA) + "/manifests/hello.yaml"});
    ASSERT_EQ(o.exit_code, 0) << o.err;
    ASSERT_EQ(o.out, "pod/hello created\n") << o.err;
  }

  // Appends `text` to the CRI log of a container's attempt, as conmon would.
  void write_log(const std::string& pod, const std::string& container, uint32_t attempt,
                 const std::string& text) {
    const model::Pod stored_pod = stored(pod);
    const fs::path file = runtime::pod_log_directory(logs_dir_, "default", pod, stored_pod.metadata.uid) /
                          runtime::container_log_path(container, attempt);
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::app) << runtime::format_cri_output(
        std::chrono::system_clock::now(), runtime::LogStream::Stdout, text);
  }

  std::vector<std::string> sink_calls() {
    std::vector<std::string> calls;
    io_thread_.run([&] { calls = sink_.calls; });
    return calls;
  }

  model::Pod stored(const std::string& name) {
    model::Pod pod;
    io_thread_.run([&] {
      if (auto p = store_.get("default", name)) pod = *p;
    });
    return pod;
  }

  testing::IoThread io_thread_;
  net::io_context& io_ = io_thread_.io();
  PodStore store_;
  RecordingSink sink_;
  MemoryPodPersistence persistence_;
  fs::path logs_dir_;  // the API's podLogsDir, where the tests write CRI logs
  PodEvents events_;
  ApiRoutes routes_;
  std::unique_ptr<HttpServer> server_;
  fs::path dir_;
};

bool matches(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern));
}

TEST_F(KubectlTest, CreateThenGetPodsShowsTheTable) {
  create_hello();
  EXPECT_EQ(sink_calls(), std::vector<std::string>{"create hello"});
  EXPECT_EQ(persistence_.pods.size(), 1u);
  const Output o = kubectl({"get", "pods"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(matches(o.out, R"(^NAME +READY +STATUS +RESTARTS +AGE\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\nhello +1/1 +Running +0 +\S+\n$)")) << o.out;
}

TEST_F(KubectlTest, GetPodsWideShowsIpAndNode) {
  create_hello();
  const Output o = kubectl({"get", "pods", "-o", "wide"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(matches(o.out, R"(^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\nhello +1/1 +Running +0 +\S+ +10\.88\.0\.7 +node-a)")) << o.out;
}

TEST_F(KubectlTest, GetPodsAsJsonAndYaml) {
  create_hello();
  const Output json = kubectl({"get", "pods", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_TRUE(matches(json.out, R"("kind": "List")")) << json.out;
  EXPECT_TRUE(matches(json.out, R"("kind": "Pod")")) << json.out;
  EXPECT_TRUE(matches(json.out, R"("name": "hello")")) << json.out;
  EXPECT_TRUE(matches(json.out, R"("phase": "Running")")) << json.out;
  EXPECT_TRUE(matches(json.out, R"("image": "busybox:1.36")")) << json.out;

  const Output yaml = kubectl({"get", "pod", "hello", "-o", "yaml"});
  ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
  EXPECT_TRUE(matches(yaml.out, R"(^apiVersion: v1\nkind: Pod\n)")) << yaml.out;
  EXPECT_TRUE(matches(yaml.out, R"(\n  name: hello\n)")) << yaml.out;
  EXPECT_TRUE(matches(yaml.out, R"(\n  phase: Running\n)")) << yaml.out;
  EXPECT_TRUE(matches(yaml.out, R"(\n  nodeName: node-a\n)")) << yaml.out;
}

TEST_F(KubectlTest, WatchPrintsThePodsThenTheirChanges) {
  create_hello();
  auto watch = start_kubectl({"get", "pods", "-w"});
  ASSERT_TRUE(watch->read_until([](const std::string& out) {
    return matches(out, R"(\nhello +1/1 +Running +0 +\S+\n)");
  })) << watch->output().out
      << watch->output().err;
  // A change made while kubectl watches arrives as a new line.
  const Output created = kubectl({"run", "second", "--image=busybox:1.36", "--restart=Never"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  ASSERT_TRUE(watch->read_until([](const std::string& out) {
    return matches(out, R"(\nsecond +\S+ +(Pending|Running) )");
  })) << watch->output().out
      << watch->output().err;
  const Output o = watch->terminate();
  EXPECT_TRUE(matches(o.out, R"(^NAME +READY +STATUS +RESTARTS +AGE\n)")) << o.out;
}

TEST_F(KubectlTest, DescribePod) {
  create_hello();
  const Output o = kubectl({"describe", "pod", "hello"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(matches(o.out, R"(^Name: +hello\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\nNamespace: +default\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\nNode: +node-a)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\nLabels: +app=hello\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\nStatus: +Running\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\nIP: +10\.88\.0\.7\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\n  hello:\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\n +Image: +busybox:1\.36\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\n +State: +Running\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\nEvents: +<none>)")) << o.out;
}

// kubectl describe asks for the pod's events by field selector and prints
// them, a repeat once with its count.
TEST_F(KubectlTest, DescribePodShowsItsEvents) {
  create_hello();
  const std::string uid = stored("hello").metadata.uid;
  io_thread_.run([&] {
    events_.record(base::PodUid(uid), "Normal", "Started", "spec.containers{hello}",
                   "Started container hello");
    for (int i = 0; i < 3; ++i)
      events_.record(base::PodUid(uid), "Warning", "Unhealthy", "spec.containers{hello}",
                     "Readiness probe failed: HTTP probe failed with statuscode: 503");
  });
  const Output o = kubectl({"describe", "pod", "hello"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(matches(o.out, R"(\nEvents:\n +Type +Reason +Age +From +Message\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\n +Normal +Started +\S+ +podagent +Started container hello\n)")) << o.out;
  EXPECT_TRUE(matches(o.out, R"(\n +Warning +Unhealthy +\S+ \(x3 over \S+\) +podagent +Readiness probe failed: HTTP probe failed with statuscode: 503\n)"))
      << o.out;
}

TEST_F(KubectlTest, ReplaceChangesTheSpec) {
  create_hello();
  const fs::path manifest = dir_ / "hello-v2.yaml";
  std::string text = read_text(std::string(PODAGENT_TEST_DATA) + "/manifests/hello.yaml");
  const size_t at = text.find("busybox:1.36");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 12, "busybox:1.37");
  std::ofstream(manifest) << text;
  const Output o = kubectl({"replace", "-f", manifest.string()});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "pod/hello replaced\n");
  EXPECT_EQ(sink_calls(), (std::vector<std::string>{"create hello", "replace hello"}));
  const model::Pod pod = stored("hello");
  ASSERT_EQ(pod.spec.containers.size(), 1u);
  EXPECT_EQ(pod.spec.containers[0].image, "busybox:1.37");
  const Output get = kubectl({"get", "pod", "hello", "-o", "jsonpath={.spec.containers[0].image}"});
  EXPECT_EQ(get.out, "busybox:1.37") << get.err;
}

TEST_F(KubectlTest, DeletePodWaitsUntilItIsGone) {
  create_hello();
  const std::string uid = stored("hello").metadata.uid;
  ASSERT_FALSE(uid.empty());
  const Output o = kubectl({"delete", "pod", "hello"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "pod \"hello\" deleted\n");
  const auto calls = sink_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].rfind("remove " + uid, 0), 0u) << calls[1];
  EXPECT_TRUE(stored("hello").metadata.name.empty());
  EXPECT_TRUE(persistence_.pods.empty());
  const Output get = kubectl({"get", "pods"});
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out, "");
  EXPECT_TRUE(matches(get.err, "No resources found in default namespace")) << get.err;
}

TEST_F(KubectlTest, LogsPrintsTheContainersLog) {
  create_hello();
  write_log("hello", "hello", 0, "Hello\n");
  const Output o = kubectl({"logs", "hello"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "Hello\n");
  const Output tail = kubectl({"logs", "hello", "--tail=1", "--timestamps"});
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_TRUE(matches(tail.out, R"(^\d{4}-\d\d-\d\dT[\d:.]+Z Hello\n$)")) << tail.out;
}

TEST_F(KubectlTest, LogsOfOneContainerAndOfItsPreviousRun) {
  std::ofstream(dir_ / "duo.yaml") << "apiVersion: v1\nkind: Pod\nmetadata: {name: duo}\nspec:\n"
                                      "  containers:\n  - {name: a, image: busybox}\n"
                                      "  - {name: b, image: busybox}\n";
  const Output created = kubectl({"create", "-f", (dir_ / "duo.yaml").string()});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  write_log("duo", "a", 0, "from a\n");
  write_log("duo", "b", 0, "from b\n");
  const Output b = kubectl({"logs", "duo", "-c", "b"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(b.out, "from b\n");
  const Output none = kubectl({"logs", "duo", "-c", "b", "--previous"});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_TRUE(matches(none.err, R"(previous terminated container "b" in pod "duo" not found)"))
      << none.err;

  // b crashed once and runs again.
  write_log("duo", "b", 1, "b again\n");
  io_thread_.run([&] {
    PodPtr pod = store_.get("default", "duo");
    model::PodStatus status = pod->status;
    model::ContainerStatus& cs = status.container_statuses.at(1);
    cs.restart_count = 1;
    cs.last_state.terminated = model::ContainerStateTerminated{.exit_code = 1, .reason = "Error"};
    store_.set_status(base::PodUid(pod->metadata.uid), status);
  });
  EXPECT_EQ(kubectl({"logs", "duo", "-c", "b"}).out, "b again\n");
  const Output previous = kubectl({"logs", "duo", "-c", "b", "--previous"});
  ASSERT_EQ(previous.exit_code, 0) << previous.err;
  EXPECT_EQ(previous.out, "from b\n");
}

TEST_F(KubectlTest, LogsFollowStreamsUntilThePodIsDeleted) {
  create_hello();
  write_log("hello", "hello", 0, "Hello\n");
  auto follow = start_kubectl({"logs", "-f", "hello"});
  ASSERT_TRUE(follow->read_until([](const std::string& out) { return out == "Hello\n"; }))
      << follow->output().err;
  write_log("hello", "hello", 0, "still here\n");
  ASSERT_TRUE(follow->read_until([](const std::string& out) { return out == "Hello\nstill here\n"; }))
      << follow->output().err;
  ASSERT_EQ(kubectl({"delete", "pod", "hello"}).exit_code, 0);
  const Output o = follow->finish();  // the stream ends: kubectl exits by itself
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.out, "Hello\nstill here\n");
}

TEST_F(KubectlTest, WrongTokenIsUnauthorized) {
  // The good kubeconfig with another token.
  std::string good = read_text(dir_ / "kubeconfig");
  const size_t at = good.find(kAdminToken);
  ASSERT_NE(at, std::string::npos);
  good.replace(at, std::string_view(kAdminToken).size(), "wrong-token");
  std::ofstream(dir_ / "bad-kubeconfig") << good;
  const Output o = kubectl({"get", "pods"}, "bad-kubeconfig");
  EXPECT_NE(o.exit_code, 0);
  EXPECT_EQ(o.out, "");
  EXPECT_TRUE(matches(o.err, "You must be logged in to the server|Unauthorized")) << o.err;
}

// kubectl debug adds an ephemeral container through a strategic merge patch
// of the pod's ephemeralcontainers subresource.
TEST_F(KubectlTest, DebugAddsAnEphemeralContainer) {
  create_hello();
  const model::Pod before = stored("hello");
  ASSERT_FALSE(before.spec.containers.empty());
  const std::string target = before.spec.containers[0].name;
  const Output o = kubectl({"debug", "hello", "--image=busybox", "--target=" + target, "--", "sh",
                            "-c", "echo hi"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const model::Pod after = stored("hello");
  ASSERT_EQ(after.spec.ephemeral_containers.size(), 1u);
  const model::Container& debugger = after.spec.ephemeral_containers[0];
  EXPECT_TRUE(matches(debugger.name, "^debugger-[a-z0-9]{5}$")) << debugger.name;
  EXPECT_EQ(debugger.image, "busybox");
  EXPECT_EQ(debugger.target_container_name, target);
  EXPECT_EQ(debugger.command, (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_EQ(after.spec.containers, before.spec.containers);
  EXPECT_EQ(sink_calls(), (std::vector<std::string>{"create hello", "replace hello"}));
  EXPECT_EQ(persistence_.pods.at(after.metadata.uid).spec.ephemeral_containers.size(), 1u);
}

}  // namespace
}  // namespace podagent::agent
