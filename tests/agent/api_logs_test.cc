// The pod log route end to end: the whole agent in-process with the fake
// runtime writing its scripted output into CRI log files under a temporary
// podLogsDir, read back through the API on the agent's unix socket.

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "runtime/fake/fake_runtime.h"
#include "tests/agent/agent_test_util.h"

namespace podagent::agent {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using runtime::FakeRuntime;

constexpr const char* kPods = "/api/v1/namespaces/default/pods";

std::string pod_json(const std::string& name, const std::string& containers,
                     const std::string& init = "") {
  std::string spec = R"({"containers":[)" + containers + "]";
  if (!init.empty()) spec += R"(,"initContainers":[)" + init + "]";
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name + R"("},"spec":)" + spec +
         "}}";
}

std::string container(const std::string& name) {
  return R"({"name":")" + name + R"(","image":"busybox"})";
}

// A follow on a connection kept open; reads the de-chunked body as it comes.
class LogStreamReader {
 public:
  LogStreamReader(const std::string& socket, const std::string& target)
      : fd_(connect_unix(socket)) {
    send_all(fd_, "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  }
  ~LogStreamReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Reads until `done(body)` holds or the stream ends (then `ended()`), or
  // kDeadline passes. Returns done(body).
  bool read_until(const std::function<bool(const std::string&)>& done) {
    const auto give_up = std::chrono::steady_clock::now() + kDeadline;
    while (!done(body()) && !ended_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          give_up - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        ended_ = true;
        break;
      }
      raw_.append(chunk, static_cast<size_t>(n));
    }
    return done(body());
  }
  std::string body() const {
    const auto end = raw_.find("\r\n\r\n");
    return end == std::string::npos ? "" : dechunk(std::string_view(raw_).substr(end + 4));
  }
  bool ended() const { return ended_; }
  // The whole body arrived: its last chunk was sent.
  bool complete() const { return raw_.ends_with("0\r\n\r\n"); }
  std::string head() const { return raw_.substr(0, raw_.find("\r\n\r\n")); }

 private:
  int fd_;
  std::string raw_;
  bool ended_ = false;
};

class ApiLogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = test_config(dir_.path());
    config_.crash_loop_back_off.initial = 10ms;  // restarts come at once
    config_.crash_loop_back_off.max = 10ms;
  }

  // Starts the agent; `script` scripts its fake runtime before any pod runs.
  void start(const std::function<void(FakeRuntime&)>& script = {}) {
    AgentOptions options;
    options.config = config_;
    options.env = [](std::string_view) { return std::optional<std::string>(); };
    options.runtime_factory = [this, script](const config::AgentConfig&, base::Clock& clock,
                                             boost::asio::any_io_executor executor)
        -> base::Result<std::unique_ptr<runtime::Runtime>> {
      auto rt = std::make_unique<FakeRuntime>(clock, std::move(executor));
      runtime_ = rt.get();
      if (script) script(*rt);
      return std::unique_ptr<runtime::Runtime>(std::move(rt));
    };
    agent_ = std::make_unique<RunningAgent>(std::move(options));
    base::Status s = agent_->start();
    ASSERT_TRUE(s) << (s ? "" : s.error().to_string());
  }

  HttpReply get(const std::string& target) { return http(config_.api.socket, "GET", target); }
  std::string log_path(const std::string& pod, const std::string& query = "") {
    return std::string(kPods) + "/" + pod + "/log" + query;
  }

  void create(const std::string& body) {
    HttpReply r = http(config_.api.socket, "POST", kPods, body);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  // Waits until `ok` holds for the pod's JSON.
  bool wait_pod(const std::string& name, const std::function<bool(const model::Node&)>& ok) {
    return wait_for([&] {
      HttpReply r = get(std::string(kPods) + "/" + name);
      return r.status == 200 && ok(parse_json(r.body));
    });
  }
  static bool running(const model::Node& pod) {
    return field(pod, {"status", "phase"}) == "Running";
  }
  // The first container status's restartCount is `n` and it runs.
  static std::function<bool(const model::Node&)> running_after(int n) {
    return [n](const model::Node& pod) {
      const model::Node* statuses =
          pod.find("status") ? pod.find("status")->find("containerStatuses") : nullptr;
      if (!statuses || statuses->items.empty()) return false;
      const model::Node& s = statuses->items[0];
      return field(s, {"restartCount"}) == std::to_string(n) && s.find("state") &&
             s.find("state")->find("running");
    };
  }
  // The one running container of pod `name`, killed with exit code 1.
  void crash(const std::string& uid) {
    agent_->on_io([&] {
      for (const auto& c : runtime_->pod_state(base::PodUid(uid)).containers)
        if (c.state == runtime::ContainerState::Running) (void)runtime_->kill_container(c.id, 1);
      return 0;
    });
  }
  std::string uid_of(const std::string& name) {
    return field(parse_json(get(std::string(kPods) + "/" + name).body), {"metadata", "uid"});
  }
  std::string message(const HttpReply& r) { return field(parse_json(r.body), {"message"}); }

  TempDir dir_;
  config::AgentConfig config_;
  FakeRuntime* runtime_ = nullptr;
  std::unique_ptr<RunningAgent> agent_;
};

TEST_F(ApiLogsTest, ThePodsOnlyContainerIsTheDefault) {
  start([](FakeRuntime& rt) {
    rt.script("app").output("Hello\n").output("oops\n", runtime::LogStream::Stderr);
  });
  create(pod_json("hello", container("app")));
  ASSERT_TRUE(wait_pod("hello", running));
  HttpReply r = get(log_path("hello"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.head.find("text/plain"), std::string::npos) << r.head;
  EXPECT_EQ(r.body, "Hello\noops\n");
  EXPECT_EQ(get(log_path("hello", "?container=app")).body, "Hello\noops\n");
  // Where the kubelet keeps it.
  EXPECT_TRUE(fs::exists(fs::path(config_.pod_logs_dir) / ("default_hello_" + uid_of("hello")) /
                         "app" / "0.log"));
}

TEST_F(ApiLogsTest, SeveralContainersNeedAName) {
  start([](FakeRuntime& rt) {
    rt.script("a").output("from a\n");
    rt.script("b").output("from b\n");
    rt.script("init").exit_after(0ms, 0).output("from init\n");
  });
  create(pod_json("two", container("a") + "," + container("b"), container("init")));
  ASSERT_TRUE(wait_pod("two", running));
  HttpReply none = get(log_path("two"));
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(message(none),
            "a container name must be specified for pod two, choose one of: [a b] or one of the "
            "init containers: [init]");
  EXPECT_EQ(get(log_path("two", "?container=b")).body, "from b\n");
  EXPECT_EQ(get(log_path("two", "?container=a")).body, "from a\n");
  EXPECT_EQ(get(log_path("two", "?container=init")).body, "from init\n");
  HttpReply bad = get(log_path("two", "?container=zzz"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(message(bad), "container zzz is not valid for pod two");
}

TEST_F(ApiLogsTest, PreviousIsTheRunBeforeACrash) {
  start([](FakeRuntime& rt) {
    rt.script("app").run_forever().output("run 0\n").run_forever().output("run 1\n");
  });
  create(pod_json("crashy", container("app")));
  ASSERT_TRUE(wait_pod("crashy", running_after(0)));
  HttpReply none = get(log_path("crashy", "?previous=true"));
  EXPECT_EQ(none.status, 400);
  EXPECT_EQ(message(none), "previous terminated container \"app\" in pod \"crashy\" not found");
  crash(uid_of("crashy"));
  ASSERT_TRUE(wait_pod("crashy", running_after(1)));
  EXPECT_EQ(get(log_path("crashy")).body, "run 1\n");
  EXPECT_EQ(get(log_path("crashy", "?previous=true")).body, "run 0\n");
  EXPECT_EQ(get(log_path("crashy", "?previous=1&follow=true")).body, "run 0\n");
}

TEST_F(ApiLogsTest, TailTimestampsAndLimit) {
  start([](FakeRuntime& rt) { rt.script("app").output("l1\nl2\nl3\n"); });
  create(pod_json("lines", container("app")));
  ASSERT_TRUE(wait_pod("lines", running));
  EXPECT_EQ(get(log_path("lines", "?tailLines=2")).body, "l2\nl3\n");
  EXPECT_EQ(get(log_path("lines", "?tailLines=0")).body, "");
  EXPECT_EQ(get(log_path("lines", "?limitBytes=4")).body, "l1\nl");
  EXPECT_EQ(get(log_path("lines", "?sinceSeconds=3600")).body, "l1\nl2\nl3\n");
  EXPECT_EQ(get(log_path("lines", "?sinceTime=2200-01-01T00:00:00Z")).body, "");
  const std::string stamped = get(log_path("lines", "?timestamps=true&tailLines=1")).body;
  EXPECT_TRUE(
      std::regex_match(stamped, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z l3\n)")))
      << stamped;
}

TEST_F(ApiLogsTest, FollowGoesOnAcrossARestartAndEndsWhenThePodIsDeleted) {
  start([](FakeRuntime& rt) {
    rt.script("app").run_forever().output("first\n").run_forever().output("second\n");
  });
  create(pod_json("follow", container("app")));
  ASSERT_TRUE(wait_pod("follow", running_after(0)));
  LogStreamReader stream(config_.api.socket, log_path("follow", "?follow=true"));
  ASSERT_TRUE(stream.read_until([](const std::string& b) { return b == "first\n"; }))
      << stream.body();
  EXPECT_NE(stream.head().find("chunked"), std::string::npos);
  crash(uid_of("follow"));
  ASSERT_TRUE(stream.read_until([](const std::string& b) { return b == "first\nsecond\n"; }))
      << stream.body();
  EXPECT_FALSE(stream.ended());
  ASSERT_EQ(http(config_.api.socket, "DELETE", std::string(kPods) + "/follow").status, 200);
  stream.read_until([](const std::string&) { return false; });
  EXPECT_TRUE(stream.ended());
  EXPECT_TRUE(stream.complete()) << "the stream ends with its last chunk";
  EXPECT_EQ(stream.body(), "first\nsecond\n");
}

TEST_F(ApiLogsTest, FollowEndsWhenTheContainerIsDoneForGood) {
  start([](FakeRuntime& rt) { rt.script("job").run_forever().output("working\n"); });
  create(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"job"},"spec":{"restartPolicy":"Never","containers":[)" +
      container("job") + "]}}");
  ASSERT_TRUE(wait_pod("job", running));
  LogStreamReader stream(config_.api.socket, log_path("job", "?follow=true&timestamps=false"));
  ASSERT_TRUE(stream.read_until([](const std::string& b) { return b == "working\n"; }));
  crash(uid_of("job"));
  stream.read_until([](const std::string&) { return false; });
  EXPECT_TRUE(stream.complete());
  EXPECT_EQ(stream.body(), "working\n");
  // Done for good: a follow now answers at once.
  EXPECT_EQ(get(log_path("job", "?follow=true")).body, "working\n");
}

TEST_F(ApiLogsTest, Errors) {
  start([](FakeRuntime& rt) {
    rt.fail_when([](const runtime::FakeCall& call) -> std::optional<base::Error> {
      if (call.op == runtime::Op::CreateContainer && call.name == "stuck")
        return base::Error("no room");
      return std::nullopt;
    });
  });
  EXPECT_EQ(get(log_path("nope")).status, 404);
  create(pod_json("stuck", container("stuck")));
  ASSERT_TRUE(wait_pod("stuck", [](const model::Node& pod) {
    const model::Node* s = pod.find("status")->find("containerStatuses");
    return s && !s->items.empty() &&
           field(s->items[0], {"state", "waiting", "reason"}) == "CreateContainerError";
  }));
  HttpReply waiting = get(log_path("stuck"));
  EXPECT_EQ(waiting.status, 400);
  EXPECT_EQ(message(waiting),
            "container \"stuck\" in pod \"stuck\" is waiting to start: CreateContainerError");
  EXPECT_EQ(get(log_path("stuck", "?tailLines=-1")).status, 422);
  EXPECT_EQ(get(log_path("stuck", "?tailLines=x")).status, 400);
  EXPECT_EQ(get(log_path("stuck", "?follow=maybe")).status, 400);
  EXPECT_EQ(get(log_path("stuck", "?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z")).status, 422);
  EXPECT_EQ(http(config_.api.socket, "POST", log_path("stuck"), "{}").status, 405);
}

}  // namespace
}  // namespace podagent::agent
