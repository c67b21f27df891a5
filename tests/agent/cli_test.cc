// Runs the built podagent binary as a user would.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/agent_config.h"
#include "model/document.h"

extern char** environ;

namespace podagent {
namespace {

namespace fs = std::filesystem;

constexpr int kTimeoutMs = 60'000;  // a guard against a hang, not a wait

// A started podagent with its stdout and stderr on pipes.
class Process {
 public:
  explicit Process(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), PODAGENT_BINARY);
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
      abort();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) abort();
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    // Small inputs only: they fit in the pipe's buffer.
    (void)!::write(in[1], stdin_text.data(), stdin_text.size());
    ::close(in[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
    if (err_ >= 0) ::close(err_);
  }

  // Reads stdout and stderr until stderr holds `text` (true) or both close.
  bool read_until_stderr_has(const std::string& text) {
    while (out_ >= 0 || err_ >= 0) {
      if (stderr_.find(text) != std::string::npos) return true;
      std::array<pollfd, 2> fds = {pollfd{out_, POLLIN, 0}, pollfd{err_, POLLIN, 0}};
      int ready = ::poll(fds.data(), fds.size(), kTimeoutMs);
      if (ready <= 0) {
        ADD_FAILURE() << "podagent produced nothing for " << kTimeoutMs << " ms";
        return false;
      }
      drain(fds[0], out_, stdout_);
      drain(fds[1], err_, stderr_);
    }
    return stderr_.find(text) != std::string::npos;
  }

  // Reads everything, then reaps; returns the exit status (-signal if killed).
  int wait() {
    read_until_stderr_has("\x01never");
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  void signal(int sig) { ::kill(pid_, sig); }
  const std::string& out() const { return stdout_; }
  const std::string& err() const { return stderr_; }

 private:
  static void drain(const pollfd& p, int& fd, std::string& into) {
    if (fd < 0 || p.revents == 0) return;
    char buffer[4096];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      into.append(buffer, static_cast<size_t>(n));
    } else {
      ::close(fd);
      fd = -1;
    }
  }

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  std::string stdout_, stderr_;
};

struct Ran {
  int status;
  std::string out, err;
};

Ran podagent(std::vector<std::string> args, const std::string& stdin_text = "") {
  Process p(std::move(args), stdin_text);
  int status = p.wait();
  return {status, p.out(), p.err()};
}

const char* const kHello = R"(apiVersion: v1
kind: Pod
metadata:
  name: hello
spec:
  containers:
  - name: hello
    image: busybox
    command: ["sh", "-c", "echo Hello && sleep 3600"]
)";

// Four errors in four places, and one unknown field.
const char* const kBad = R"(apiVersion: v1
kind: Pod
metadata:
  name: Bad_Name
spec:
  restartPolicy: Sometimes
  initContainers:
  - name: init
  containers:
  - name: app
    image: busybox
    imagePolicy: Always
    volumeMounts:
    - name: missing
      mountPath: /data
)";

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "podagent-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  // A config whose every path is inside the test's directory.
  std::string config(const std::string& extra = "") {
    const std::string d = dir_.string();
    return write("config.yaml", "nodeName: test-node\nmanifestDir: " + d +
                                    "/manifests\nstateDir: " + d + "/state\npodLogsDir: " + d +
                                    "/logs\napi: {socket: " + d + "/podagent.sock}\n" + extra);
  }
  fs::path dir_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_F(CliTest, ValidateAcceptsAValidManifest) {
  const std::string hello = write("hello.yaml", kHello);
  Ran r = podagent({"validate", hello});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, hello + ": ok (1 pod)\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(CliTest, ValidatePrintsEveryErrorWithItsFieldPath) {
  const std::string hello = write("hello.yaml", kHello);
  const std::string bad = write("bad.yaml", kBad);
  Ran r = podagent({"validate", hello, bad});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, hello + ": ok (1 pod)\n");
  EXPECT_TRUE(contains(r.err, bad + ": error: spec.initContainers[0].image: Required value\n"))
      << r.err;
  EXPECT_TRUE(contains(r.err, bad + ": error: metadata.name: Invalid value: \"Bad_Name\""))
      << r.err;
  EXPECT_TRUE(
      contains(r.err, bad + ": error: spec.restartPolicy: Unsupported value: \"Sometimes\""))
      << r.err;
  EXPECT_TRUE(contains(r.err, bad + ": error: spec.containers[0].volumeMounts[0].name: Not found"))
      << r.err;
  // Unknown fields warn, naming the field; they do not fail the pod.
  const size_t warning = r.err.find(bad + ": warning: ");
  ASSERT_NE(warning, std::string::npos) << r.err;
  EXPECT_NE(r.err.substr(warning, r.err.find('\n', warning) - warning)
                .find("spec.containers[0].imagePolicy"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(contains(r.err, hello)) << r.err;
}

TEST_F(CliTest, ValidateNamesTheDocument) {
  const std::string two = write("two.yaml", std::string(kHello) + "---\n" +
                                                "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n"
                                                "spec: {containers: [{name: c}]}\n");
  Ran r = podagent({"validate", two});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(
      contains(r.err, two + ": error: document 2: spec.containers[0].image: Required value"))
      << r.err;
}

TEST_F(CliTest, ValidateReportsSyntaxAndMissingFiles) {
  const std::string broken = write("broken.yaml", "kind: Pod\nspec: [\n");
  Ran r = podagent({"validate", broken, (dir_ / "absent.yaml").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.err, broken + ": error: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "absent.yaml: error: cannot read: No such file or directory"))
      << r.err;
}

TEST_F(CliTest, ValidateReportsADirectory) {
  Ran r = podagent({"validate", dir_.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, dir_.string() + ": error: cannot read: Is a directory\n");
}

TEST_F(CliTest, ValidatePrintsDefaultedPodsAsJson) {
  Ran r = podagent({"validate", "-o", "json", "-"}, kHello);
  ASSERT_EQ(r.status, 0) << r.err;
  auto docs = model::parse_documents(r.out);
  ASSERT_TRUE(docs.ok()) << r.out;
  ASSERT_EQ(docs->size(), 1u);
  const model::Node& pod = docs->front();
  ASSERT_NE(pod.find("spec"), nullptr) << r.out;
  EXPECT_EQ(pod.find("kind")->text, "Pod");
  EXPECT_EQ(pod.find("metadata")->find("namespace")->text, "default");
  EXPECT_EQ(pod.find("spec")->find("restartPolicy")->text, "Always");
  EXPECT_EQ(pod.find("spec")->find("terminationGracePeriodSeconds")->text, "30");
}

TEST_F(CliTest, ValidatePrintsAListForSeveralPodsAsYaml) {
  const std::string a = write("a.yaml", kHello);
  const std::string b = write("b.yaml", kHello);
  Ran r = podagent({"validate", "--output=yaml", a, b});
  ASSERT_EQ(r.status, 0) << r.err;
  auto docs = model::parse_documents(r.out);
  ASSERT_TRUE(docs.ok()) << r.out;
  EXPECT_EQ(docs->front().find("kind")->text, "List");
  EXPECT_EQ(docs->front().find("items")->items.size(), 2u);
}

TEST_F(CliTest, ValidatePrintsNoPodsWhenAnyFileIsInvalid) {
  const std::string hello = write("hello.yaml", kHello);
  const std::string bad = write("bad.yaml", kBad);
  Ran r = podagent({"validate", "-o", "json", hello, bad});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, ValidateChecksTheProjectsSampleManifests) {
  const fs::path data = fs::path(PODAGENT_TEST_DATA) / "manifests";
  if (!fs::exists(data / "hello.yaml") || !fs::exists(data / "invalid-many.yaml"))
    GTEST_SKIP() << "tests/data/manifests not there";
  EXPECT_EQ(podagent({"validate", (data / "hello.yaml").string()}).status, 0);
  const std::string bad = (data / "invalid-many.yaml").string();
  Ran r = podagent({"validate", bad});
  EXPECT_EQ(r.status, 1);
  // A decoding error (the bad quantity) does not hide the validation errors.
  EXPECT_TRUE(contains(r.err, bad + ": error: spec.containers[0].resources.limits[memory]: "))
      << r.err;
  EXPECT_TRUE(contains(r.err, bad + ": error: spec.initContainers[0].image: Required value\n"))
      << r.err;
  EXPECT_TRUE(contains(r.err, bad + ": error: spec.restartPolicy: Unsupported value")) << r.err;
  EXPECT_TRUE(contains(r.err, bad + ": error: spec.containers[1].name: Duplicate value")) << r.err;
}

TEST_F(CliTest, ValidateDoesNotRepeatAFieldThatFailedToDecode) {
  const std::string f =
      write("f.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: nope}\n");
  const std::string d =
      write("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n");
  Ran r = podagent({"validate", f, d});
  EXPECT_EQ(r.status, 1);
  // One line each: no "spec.containers: Required value" after the type
  // error, and a Deployment is not validated as a pod.
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
  EXPECT_TRUE(contains(r.err, f + ": error: spec.containers: ")) << r.err;
  EXPECT_TRUE(contains(r.err, d + ": error: kind: ")) << r.err;
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(podagent({}).status, 2);
  EXPECT_EQ(podagent({"frobnicate"}).status, 2);
  EXPECT_EQ(podagent({"validate"}).status, 2);
  EXPECT_EQ(podagent({"validate", "-o", "xml", "x.yaml"}).status, 2);
  EXPECT_EQ(podagent({"validate", "--bogus", "x.yaml"}).status, 2);
  EXPECT_EQ(podagent({"run", "extra"}).status, 2);
  EXPECT_EQ(podagent({"run", "--node-name"}).status, 2);
}

TEST_F(CliTest, VersionAndHelp) {
  Ran v = podagent({"version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_TRUE(v.out.starts_with("podagent ")) << v.out;
  Ran h = podagent({"help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_TRUE(contains(h.out, "podagent validate")) << h.out;
  Ran rh = podagent({"run", "--help"});
  EXPECT_EQ(rh.status, 0);
  EXPECT_TRUE(contains(rh.out, "--set PATH=VALUE")) << rh.out;
}

TEST_F(CliTest, RunRefusesAnInvalidConfigNamingEveryField) {
  Ran r = podagent({"run", "--config", config("runtime:\n  backnd: fake\n"), "--set",
                    "crashLoopBackOff.initial=0s"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.err, "runtime.backnd: unknown field")) << r.err;
  EXPECT_TRUE(contains(r.err, "crashLoopBackOff.initial: Invalid value: \"0s\"")) << r.err;
  EXPECT_FALSE(contains(r.err, "podagent started")) << r.err;
}

TEST_F(CliTest, RunRefusesAMissingExplicitConfig) {
  Ran r = podagent({"run", "--config", (dir_ / "absent.yaml").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.err, "absent.yaml")) << r.err;
}

TEST_F(CliTest, RunStartsAndStopsOnSigterm) {
  Process p({"run", "--config", config(), "--runtime", "fake", "--log-level", "debug", "--set",
             "maxPods=7"});
  ASSERT_TRUE(p.read_until_stderr_has("podagent started\n")) << p.err();
  EXPECT_TRUE(contains(p.err(), "node=test-node")) << p.err();
  EXPECT_TRUE(contains(p.err(), "pods=7")) << p.err();
  EXPECT_TRUE(contains(p.err(), "runtime backend=fake")) << p.err();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(), 0) << p.err();
  EXPECT_TRUE(contains(p.err(), "podagent stopping on SIGTERM")) << p.err();
}

TEST_F(CliTest, RunStopsOnSigint) {
  Process p({"run", "--config", config(), "--runtime", "oci", "--log-level", "warning"});
  ASSERT_TRUE(p.read_until_stderr_has("podagent started\n")) << p.err();
  EXPECT_FALSE(contains(p.err(), "runtime backend is not available")) << p.err();
  EXPECT_FALSE(contains(p.err(), "manifestDir="))
      << "info lines at --log-level warning: " << p.err();
  p.signal(SIGINT);
  EXPECT_EQ(p.wait(), 0) << p.err();
}

TEST_F(CliTest, ConfigPrintsTheEffectiveConfiguration) {
  Ran r = podagent({"config", "--config", config("runtime: {backend: fake}\n"), "--set",
                    "maxPods=7", "--node-name", "n1"});
  ASSERT_EQ(r.status, 0) << r.err;
  config::AgentConfig c;
  ASSERT_TRUE(config::decode_config_text(r.out, c).empty()) << r.out;
  EXPECT_EQ(c.max_pods, 7);
  EXPECT_EQ(c.node_name, "n1");
  EXPECT_EQ(c.runtime.backend, "fake");
  EXPECT_EQ(c.manifest_dir, (dir_ / "manifests").string());
}

}  // namespace
}  // namespace podagent
