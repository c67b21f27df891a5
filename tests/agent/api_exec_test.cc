// Non-interactive exec: the runtime side (RuntimePodExec on a FakeRuntime
// and a FakeClock), the route (ApiRoutes with a recording PodExec), the
// whole agent over its unix socket (the server's deferred answers), and
// `podagent exec`.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <string>
#include <vector>

#include "agent/api_pod_exec.h"
#include "agent/api_routes.h"
#include "base/clock.h"
#include "runtime/fake/fake_runtime.h"
#include "tests/agent/agent_test_util.h"
#include "tests/agent/run_podagent.h"

extern char** environ;

namespace podagent::agent {
namespace {

using namespace std::chrono_literals;
using testing::field;
using testing::parse_json;
using testing::podagent;
using testing::Ran;

runtime::ExecResult exec_result(int code, std::string out, std::string err) {
  runtime::ExecResult r;
  r.exit_code = code;
  r.stdout_text = std::move(out);
  r.stderr_text = std::move(err);
  return r;
}

// ---- the runtime side: RuntimePodExec ------------------------------------------

class RuntimePodExecTest : public ::testing::Test {
 protected:
  RuntimePodExecTest() : clock_(io_), runtime_(clock_, io_.get_executor()) {
    exec_ = make_runtime_pod_exec(runtime_, io_.get_executor());
  }

  template <typename T>
  T await(runtime::Task<T> task) {
    std::optional<T> out;
    boost::asio::co_spawn(
        io_,
        [&out, t = std::move(task)]() mutable -> runtime::Task<void> {
          out.emplace(co_await std::move(t));
        },
        boost::asio::detached);
    clock_.settle();
    EXPECT_TRUE(out.has_value());
    return std::move(*out);
  }

  // A sandbox of pod "uid-1" with a container "app", started unless told.
  runtime::ContainerId add_container(bool start = true) {
    auto pod = std::make_shared<model::Pod>();
    pod->metadata.name = "web";
    pod->metadata.namespace_ = "default";
    pod->metadata.uid = "uid-1";
    runtime::SandboxConfig sandbox;
    sandbox.pod_uid = base::PodUid("uid-1");
    sandbox.pod_name = "web";
    sandbox.pod_namespace = "default";
    sandbox.pod = pod;
    auto sandbox_id = await(runtime_.run_sandbox(sandbox));
    EXPECT_TRUE(sandbox_id.ok());
    runtime::ContainerConfig config;
    config.spec.name = "app";
    config.spec.image = "busybox";
    config.pod = pod;
    auto id = await(runtime_.create_container(*sandbox_id, config));
    EXPECT_TRUE(id.ok());
    if (start) {
      EXPECT_TRUE(await(runtime_.start_container(*id)).ok());
    }
    return *id;
  }

  static ExecCall call_of(std::vector<std::string> command, std::chrono::milliseconds timeout) {
    ExecCall call;
    call.pod_uid = base::PodUid("uid-1");
    call.pod_name = "web";
    call.container = "app";
    call.command = std::move(command);
    call.timeout = timeout;
    return call;
  }

  // Runs the call; its outcome once the io_context is idle.
  std::optional<ExecOutcome> run(std::vector<std::string> command) {
    std::optional<ExecOutcome> out;
    exec_->run(call_of(std::move(command), 5s), [&out](ExecOutcome o) { out = std::move(o); });
    EXPECT_FALSE(out.has_value()) << "done is never called from inside run()";
    clock_.settle();
    return out;
  }

  boost::asio::io_context io_;
  base::FakeClock clock_;
  runtime::FakeRuntime runtime_;
  std::shared_ptr<PodExec> exec_;
};

TEST_F(RuntimePodExecTest, RunsTheCommandInTheRunningContainer) {
  const auto id = add_container();
  runtime_.script("app").exec_result(exec_result(3, "out\n", "err\n"));
  auto outcome = run({"sh", "-c", "echo hi"});
  ASSERT_TRUE(outcome.has_value());
  EXPECT_FALSE(outcome->error.has_value());
  EXPECT_EQ(outcome->result.exit_code, 3);
  EXPECT_EQ(outcome->result.stdout_text, "out\n");
  EXPECT_EQ(outcome->result.stderr_text, "err\n");
  EXPECT_FALSE(outcome->result.timed_out);
  ASSERT_EQ(runtime_.execs().size(), 1u);
  EXPECT_EQ(runtime_.execs()[0].container_id, id);
  EXPECT_EQ(runtime_.execs()[0].command, (std::vector<std::string>{"sh", "-c", "echo hi"}));
}

TEST_F(RuntimePodExecTest, AContainerThatIsNotRunningIs400) {
  add_container(/*start=*/false);
  auto outcome = run({"true"});
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->error.has_value());
  EXPECT_EQ(outcome->error->code, 400);
  EXPECT_EQ(outcome->error->message, "container app is not running in pod web");
  EXPECT_TRUE(runtime_.execs().empty());
}

TEST_F(RuntimePodExecTest, AnUnknownPodHasNoRunningContainer) {
  auto outcome = run({"true"});
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->error.has_value());
  EXPECT_EQ(outcome->error->code, 400);
}

TEST_F(RuntimePodExecTest, TheTimeoutKillsTheCommand) {
  add_container();
  runtime_.script("app").exec_result(exec_result(0, "late", ""), 10s);
  std::optional<ExecOutcome> out;
  exec_->run(call_of({"sleep", "10"}, 2s), [&out](ExecOutcome o) { out = std::move(o); });
  clock_.settle();
  clock_.advance(1999ms);
  EXPECT_FALSE(out.has_value()) << "answered before the timeout";
  clock_.advance(1ms);
  ASSERT_TRUE(out.has_value());
  EXPECT_FALSE(out->error.has_value());
  EXPECT_TRUE(out->result.timed_out);
  EXPECT_NE(out->result.exit_code, 0);
}

// ---- the route ---------------------------------------------------------------------

struct NoSink : PodSink {
  void create(const model::Pod&) override {}
  void replace(const model::Pod&) override {}
  void remove(const base::PodUid&, int64_t) override {}
};

// Records the calls; answers with `outcome`.
struct RecordingExec : PodExec {
  std::vector<ExecCall> calls;
  ExecOutcome outcome;
  void run(ExecCall call, std::function<void(ExecOutcome)> done) override {
    calls.push_back(std::move(call));
    done(outcome);
  }
};

model::Pod pod_with(std::string name, std::vector<std::string> containers) {
  model::Pod pod;
  pod.metadata.name = std::move(name);
  pod.metadata.namespace_ = "default";
  pod.metadata.uid = "uid-" + pod.metadata.name;
  for (auto& c : containers) {
    model::Container spec;
    spec.name = std::move(c);
    spec.image = "busybox";
    pod.spec.containers.push_back(std::move(spec));
  }
  return pod;
}

class ExecRouteTest : public ::testing::Test {
 protected:
  ExecRouteTest() {
    store_.put(pod_with("web", {"app"}));
    store_.put(pod_with("two", {"a", "b"}));
    exec_ = std::make_shared<RecordingExec>();
    exec_->outcome.result = exec_result(0, "hello \"x\"\n", "");
    ApiOptions options;
    options.exec = exec_;
    routes_ = std::make_unique<ApiRoutes>(store_, sink_, persistence_, options);
  }

  // The answer, the deferred one when the route defers.
  ApiResponse call(const std::string& method, const std::string& target,
                   const std::string& upgrade = "") {
    ApiRequest r;
    r.method = method;
    r.target = target;
    r.upgrade = upgrade;
    r.read_only = read_only_;
    ApiResponse response = routes_->handle(r);
    if (!response.deferred) return response;
    std::optional<ApiResponse> answer;
    response.deferred([&answer](ApiResponse a) { answer = std::move(a); });
    EXPECT_TRUE(answer.has_value());
    return answer ? std::move(*answer) : ApiResponse{};
  }

  std::string message(const ApiResponse& r) { return field(parse_json(r.body), {"message"}); }

  PodStore store_;
  NoSink sink_;
  MemoryPodPersistence persistence_;
  std::shared_ptr<RecordingExec> exec_;
  std::unique_ptr<ApiRoutes> routes_;
  bool read_only_ = false;
};

constexpr const char* kWebExec = "/api/v1/namespaces/default/pods/web/exec";

TEST_F(ExecRouteTest, RunsTheCommandAndAnswersAnExecResult) {
  ApiResponse r =
      call("POST", std::string(kWebExec) + "?command=sh&command=-c&command=echo%20hi&stdout=true");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"kind":"ExecResult","exitCode":0,"stdout":"hello \"x\"\n","stderr":"",)"
                    R"("timedOut":false})");
  ASSERT_EQ(exec_->calls.size(), 1u);
  const ExecCall& c = exec_->calls[0];
  EXPECT_EQ(c.pod_uid, base::PodUid("uid-web"));
  EXPECT_EQ(c.container, "app");  // the only one
  EXPECT_EQ(c.command, (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_EQ(c.timeout, std::chrono::milliseconds(kDefaultExecTimeout));
}

TEST_F(ExecRouteTest, NamedContainerAndTimeout) {
  exec_->outcome.result = exec_result(137, "", "killed");
  exec_->outcome.result.timed_out = true;
  ApiResponse r = call("POST",
                       "/api/v1/namespaces/default/pods/two/exec?container=b&command=sleep&"
                       "command=9&timeoutSeconds=3");
  EXPECT_EQ(r.status, 200);
  auto body = parse_json(r.body);
  EXPECT_EQ(field(body, {"exitCode"}), "137");
  EXPECT_EQ(field(body, {"stderr"}), "killed");
  EXPECT_EQ(field(body, {"timedOut"}), "true");
  ASSERT_EQ(exec_->calls.size(), 1u);
  EXPECT_EQ(exec_->calls[0].container, "b");
  EXPECT_EQ(exec_->calls[0].timeout, std::chrono::milliseconds(3000));
}

TEST_F(ExecRouteTest, RuntimeErrorsAreStatuses) {
  exec_->outcome.error = bad_request("container app is not running in pod web");
  ApiResponse r = call("POST", std::string(kWebExec) + "?command=true");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(field(parse_json(r.body), {"kind"}), "Status");
  EXPECT_EQ(message(r), "container app is not running in pod web");
}

TEST_F(ExecRouteTest, RequestErrors) {
  auto r = call("POST", "/api/v1/namespaces/default/pods/nope/exec?command=true");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(message(r), "pods \"nope\" not found");
  r = call("POST", std::string(kWebExec));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(message(r), "you must specify at least 1 command");
  r = call("POST", "/api/v1/namespaces/default/pods/two/exec?command=true");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(message(r), "a container name must be specified for pod two, choose one of: [a b]");
  r = call("POST", std::string(kWebExec) + "?container=db&command=true");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(message(r), "container db is not valid for pod web");
  r = call("POST", std::string(kWebExec) + "?command=true&timeoutSeconds=soon");
  EXPECT_EQ(r.status, 400);
  r = call("POST", std::string(kWebExec) + "?command=sh&stdin=true");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(call("GET", std::string(kWebExec) + "?command=true").status, 405);
  EXPECT_TRUE(exec_->calls.empty());
}

TEST_F(ExecRouteTest, AnUpgradeIsRefusedWithAPointerToPodagentExec) {
  for (const char* upgrade : {"SPDY/3.1", "websocket"}) {
    auto r = call("POST", std::string(kWebExec) + "?command=sh&stdin=true&tty=true", upgrade);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(message(r).find("interactive exec"), std::string::npos) << message(r);
    EXPECT_NE(message(r).find("podagent exec web"), std::string::npos) << message(r);
  }
  EXPECT_EQ(call("GET", std::string(kWebExec) + "?command=sh", "websocket").status, 400);
  EXPECT_TRUE(exec_->calls.empty());
}

TEST_F(ExecRouteTest, ReadOnlyCallersMayNotExec) {
  read_only_ = true;
  auto r = call("POST", std::string(kWebExec) + "?command=true");
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(exec_->calls.empty());
}

TEST_F(ExecRouteTest, WithoutARuntimeExecIs503) {
  routes_ = std::make_unique<ApiRoutes>(store_, sink_, persistence_, ApiOptions{});
  EXPECT_EQ(call("POST", std::string(kWebExec) + "?command=true").status, 503);
}

// ---- the whole agent, and podagent exec --------------------------------------------


constexpr const char* kManifest = R"(apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - {name: app, image: busybox}
)";

class AgentExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = testing::test_config(dir_.path());
    AgentOptions options;
    options.config = config_;
    options.env = [](std::string_view) { return std::optional<std::string>(); };
    // Called by start() on this thread, before the agent's thread runs.
    options.runtime_factory = [this](const config::AgentConfig&, base::Clock& clock,
                                     boost::asio::any_io_executor executor)
        -> base::Result<std::unique_ptr<runtime::Runtime>> {
      auto rt = std::make_unique<runtime::FakeRuntime>(clock, std::move(executor));
      rt->script("app").exec_result(exec_result(3, "out\n", "err\n"));
      runtime_ = rt.get();  // the agent owns it
      return std::unique_ptr<runtime::Runtime>(std::move(rt));
    };
    agent_ = std::make_unique<testing::RunningAgent>(std::move(options));
    base::Status s = agent_->start();
    ASSERT_TRUE(s) << (s ? "" : s.error().to_string());
    testing::move_in(config_.manifest_dir, "web.yaml", kManifest);
    ASSERT_TRUE(testing::wait_for([&] {
      auto r =
          testing::http(config_.api.socket, "GET", "/api/v1/namespaces/default/pods/web-node1");
      return r.status == 200 && field(parse_json(r.body), {"status", "phase"}) == "Running";
    }));
  }

  testing::TempDir dir_;
  config::AgentConfig config_;
  std::unique_ptr<testing::RunningAgent> agent_;
  runtime::FakeRuntime* runtime_ = nullptr;
};

TEST_F(AgentExecTest, ExecOverTheSocket) {
  auto r = testing::http(config_.api.socket, "POST",
                         "/api/v1/namespaces/default/pods/web-node1/exec?command=ls&command=/");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      r.body,
      R"({"kind":"ExecResult","exitCode":3,"stdout":"out\n","stderr":"err\n","timedOut":false})");
  r = testing::http(config_.api.socket, "POST",
                    "/api/v1/namespaces/default/pods/web-node1/exec?container=db&command=ls");
  EXPECT_EQ(r.status, 400);
}

TEST_F(AgentExecTest, ARuntimeFailureIs500AndCountedWithItsCode) {
  agent_->on_io([this] {
    runtime_->fail_next(runtime::Op::Exec, base::Error("the runtime broke"));
    return 0;
  });
  auto r = testing::http(config_.api.socket, "POST",
                         "/api/v1/namespaces/default/pods/web-node1/exec?command=ls");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(field(parse_json(r.body), {"message"}).find("the runtime broke"), std::string::npos)
      << r.body;
  const std::string metrics = agent_->on_io([this] { return agent_->agent().metrics_text(); });
  EXPECT_NE(metrics.find(R"(podagent_api_requests_total{code="500",method="POST"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find(R"(code="200",method="POST")"), std::string::npos) << metrics;
}

TEST_F(AgentExecTest, KubectlExecsUpgradeIsRefused) {
  const int fd = testing::connect_unix(config_.api.socket);
  ASSERT_GE(fd, 0);
  testing::send_all(fd,
                    "POST /api/v1/namespaces/default/pods/web-node1/exec?command=sh&stdin=true"
                    "&tty=true HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n"
                    "Upgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n");
  std::string raw;
  char chunk[4096];
  while (raw.find("}") == std::string::npos) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    raw.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 400")) << raw;
  EXPECT_NE(raw.find("podagent exec"), std::string::npos) << raw;
}

TEST_F(AgentExecTest, PodagentExecPrintsTheOutputAndExitsWithTheCode) {
  Ran ran = podagent({"exec", "web-node1", "--socket", config_.api.socket, "--", "ls", "-l", "/"});
  EXPECT_EQ(ran.exit, 3);
  EXPECT_EQ(ran.out, "out\n");
  EXPECT_EQ(ran.err, "err\n");
  auto execs = agent_->on_io([this] { return runtime_->execs(); });
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0].container_name, "app");
  EXPECT_EQ(execs[0].command, (std::vector<std::string>{"ls", "-l", "/"}));
}

TEST_F(AgentExecTest, PodagentExecErrors) {
  Ran ran = podagent({"exec", "nope", "--socket", config_.api.socket, "--", "true"});
  EXPECT_EQ(ran.exit, 1);
  EXPECT_EQ(ran.err, "Error from server (NotFound): pods \"nope\" not found\n");
  ran = podagent({"exec", "web-node1", "--socket", config_.api.socket});
  EXPECT_EQ(ran.exit, 2);  // no command
  EXPECT_NE(ran.err.find("Usage: podagent exec"), std::string::npos) << ran.err;
}

}  // namespace
}  // namespace podagent::agent
