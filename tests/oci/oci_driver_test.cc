// The oci driver against the real runc/crun and its monitor (as root), and the
// process layer under it. Each test has its own directories and ids and
// removes every container and monitor it started, even when it fails.

#include "runtime/oci/oci_driver.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/oci/process.h"
#include "runtime/oci/runtime_command.h"
#include "tests/oci/oci_test_env.h"

namespace podagent::runtime::oci {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using testing::read_file;
using namespace std::chrono_literals;

// Blocks until `path` exists and holds `needle`, woken by inotify on its
// directory (no polling); false after `limit`.
bool wait_for_text(const fs::path& path, const std::string& needle,
                   std::chrono::milliseconds limit = 10s) {
  base::UniqueFd fd(::inotify_init1(IN_CLOEXEC));
  ::inotify_add_watch(fd.get(), path.parent_path().c_str(),
                      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (fs::exists(path) && read_file(path).find(needle) != std::string::npos) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
      char buf[4096];
      (void)!::read(fd.get(), buf, sizeof buf);
    }
  }
}

// A JSON string literal.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A config.json like `runc spec`'s, without rlimits (root here cannot raise
// RLIMIT_NOFILE that far) and without oomScoreAdj.
std::string config_json(const std::vector<std::string>& args, bool terminal = false) {
  std::string argv;
  for (const std::string& a : args) argv += (argv.empty() ? "" : ",") + quoted(a);
  const std::string caps = R"(["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"])";
  return R"({"ociVersion":"1.0.2-dev","process":{"terminal":)" +
         std::string(terminal ? "true" : "false") + R"(,"user":{"uid":0,"gid":0},"args":[)" + argv +
         R"(],"env":["PATH=/bin","TERM=xterm"],"cwd":"/","capabilities":{"bounding":)" + caps +
         R"(,"effective":)" + caps + R"(,"permitted":)" + caps + R"(,"ambient":)" + caps +
         R"(},"noNewPrivileges":true},"root":{"path":"rootfs","readonly":false},"hostname":"drv",)"
         R"("mounts":[{"destination":"/proc","type":"proc","source":"proc"},)"
         R"({"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},)"
         R"({"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},)"
         R"({"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]}],)"
         R"("linux":{"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}],)"
         R"("maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"]}})";
}

class OciDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "runs real containers: needs root";
    char tmpl[] = "/tmp/podagent-driver-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    static int serial = 0;
    prefix_ = "drvtest-" + std::to_string(::getpid()) + "-" + std::to_string(++serial) + "-";
  }

  void TearDown() override {
    driver_.reset();
    for (const auto& [id, runtime] : ids_) {
      if (auto pid = read_file(state_dir(runtime) / id / "conmon.pid"); !pid.empty())
        conmons_.insert(std::stoi(pid));
      auto command = runtime_command(runtime, PODAGENT_PRIVATE_MOUNTS_BINARY);
      std::string cmd;
      for (const std::string& word : command.ok() ? *command : std::vector<std::string>{runtime})
        cmd += word + " ";
      cmd += "--root=" + (root_ / runtime / "root").string() + " delete --force " + id +
                        " >/dev/null 2>&1";
      (void)!std::system(cmd.c_str());
    }
    for (int pid : conmons_) ::kill(pid, SIGKILL);
    if (!root_.empty()) {
      std::error_code ec;
      fs::remove_all(root_, ec);
    }
  }

  fs::path state_dir(const std::string& runtime) const { return root_ / runtime / "state"; }

  OciDriverOptions options(const std::string& runtime = "runc") const {
    OciDriverOptions o;
    o.runtime_binary = runtime;
    o.private_mounts_binary = PODAGENT_PRIVATE_MOUNTS_BINARY;
    o.monitor_binary = PODAGENT_MONITOR_BINARY;
    o.runtime_root = root_ / runtime / "root";
    o.exit_dir = root_ / runtime / "exits";
    o.state_dir = state_dir(runtime);
    o.command_timeout = 20s;
    return o;
  }

  OciDriver& driver(const std::string& runtime = "runc") { return driver(options(runtime), runtime); }

  // A driver of `options`, whose ids are cleaned up with `runtime`.
  OciDriver& driver(OciDriverOptions options, const std::string& runtime) {
    driver_ = std::make_unique<OciDriver>(io_.get_executor(), std::move(options));
    runtime_ = runtime;
    driver_->on_exit([this](const std::string& id) { exits_.push_back(id); });
    return *driver_;
  }

  // A new id, cleaned up at the end of the test.
  std::string new_id() {
    std::string id = prefix_ + std::to_string(ids_.size());
    ids_.emplace_back(id, runtime_);
    return id;
  }

  // A bundle whose rootfs holds busybox and its applets.
  fs::path bundle(const std::string& name, const std::vector<std::string>& args,
                  bool terminal = false) {
    fs::path b = root_ / "bundles" / name;
    fs::create_directories(b / "rootfs" / "bin");
    fs::copy_file("/bin/busybox", b / "rootfs" / "bin" / "busybox");
    for (const char* applet : {"sh", "echo", "sleep", "cat", "ps", "kill", "mkfifo"})
      fs::create_symlink("busybox", b / "rootfs" / "bin" / applet);
    std::ofstream(b / "config.json") << config_json(args, terminal);
    return b;
  }

  fs::path log_path(const std::string& id) const { return root_ / "logs" / (id + ".log"); }

  void remember_conmon(const std::string& id) {
    if (auto pid = read_file(state_dir(runtime_) / id / "conmon.pid"); !pid.empty())
      conmons_.insert(std::stoi(pid));
  }

  template <typename T>
  T await(Task<T> task) {
    auto out = std::make_shared<std::optional<T>>();
    asio::co_spawn(
        io_,
        [out, t = std::move(task)]() mutable -> Task<void> { out->emplace(co_await std::move(t)); },
        asio::detached);
    // Thrown, not aborted: gtest fails the test and TearDown still cleans up.
    if (!run_until([&] { return out->has_value(); }))
      throw std::runtime_error("a driver call did not complete");
    return std::move(**out);
  }

  // Runs the io_context until `done`; false when `limit` passed first (a
  // safety net: the loop wakes on events, never on a clock).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    io_.restart();
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      io_.run_one_until(deadline);
      io_.restart();
    }
    return true;
  }

  bool await_exit(const std::string& id) {
    return run_until([&] { return std::find(exits_.begin(), exits_.end(), id) != exits_.end(); });
  }

  // Creates and starts a container running `script` with sh -c.
  std::string run_sh(const std::string& script, bool start = true) {
    std::string id = new_id();
    fs::path b = bundle(id, {"sh", "-c", script});
    auto created = await(driver_->create(id, b, log_path(id), false, false));
    remember_conmon(id);
    EXPECT_TRUE(created.ok()) << created.error().message;
    if (start) {
      auto started = await(driver_->start(id));
      EXPECT_TRUE(started.ok()) << started.error().message;
    }
    return id;
  }

  asio::io_context io_;
  fs::path root_;
  std::string prefix_;
  std::string runtime_ = "runc";
  std::unique_ptr<OciDriver> driver_;
  std::vector<std::pair<std::string, std::string>> ids_;  // id, runtime
  std::set<int> conmons_;
  std::vector<std::string> exits_;
};

// The container's main process: waits, and exits 143 on SIGTERM.
constexpr const char* kWaitForTerm = "trap 'exit 143' TERM; sleep 1000 & wait";

TEST_F(OciDriverTest, CreateStartStateKillRemove) {
  OciDriver& d = driver();
  std::string id = run_sh(kWaitForTerm, /*start=*/false);
  auto created = await(d.state(id));
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->status, "created");
  EXPECT_EQ(created->id, id);
  EXPECT_EQ(created->bundle, root_ / "bundles" / id);

  ASSERT_TRUE(await(d.start(id)).ok());
  auto running = await(d.state(id));
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->status, "running");
  EXPECT_GT(running->pid, 0);
  EXPECT_EQ(d.exit_code(id), std::nullopt);

  auto killed = await(d.kill(id, SIGTERM));
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  ASSERT_TRUE(await_exit(id));
  EXPECT_EQ(d.exit_code(id), 143);
  auto stopped = await(d.state(id));
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->status, "stopped");
  EXPECT_EQ(stopped->pid, 0);

  ASSERT_TRUE(await(d.remove(id)).ok());
  EXPECT_FALSE(await(d.state(id)).ok());
  EXPECT_TRUE(await(d.remove(id)).ok()) << "removing what is gone succeeds";
  auto all = await(d.list());
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  d.forget(id);
  EXPECT_FALSE(fs::exists(state_dir("runc") / id));
  EXPECT_EQ(d.exit_code(id), std::nullopt);
}

TEST_F(OciDriverTest, OutputLandsInTheCriLogAndTheExitCodeIsRecorded) {
  OciDriver& d = driver();
  std::string id = run_sh("echo hello; echo oops >&2; exit 3");
  ASSERT_TRUE(await_exit(id));
  EXPECT_EQ(d.exit_code(id), 3);
  std::string log = read_file(log_path(id));
  EXPECT_NE(log.find(" stdout F hello\n"), std::string::npos) << log;
  EXPECT_NE(log.find(" stderr F oops\n"), std::string::npos) << log;
  EXPECT_TRUE(await(d.remove(id)).ok());
}

// Output without its newline is a partial record; a signal's end is
// recorded as 128 + the signal, as the kubelet reports it.
TEST_F(OciDriverTest, AnUnfinishedLineIsAPartialRecordAndAKillIs128PlusTheSignal) {
  OciDriver& d = driver();
  std::string id = run_sh("printf 'no newline'; " + std::string(kWaitForTerm));
  ASSERT_TRUE(wait_for_text(log_path(id), " stdout P no newline\n")) << read_file(log_path(id));
  ASSERT_TRUE(await(d.kill(id, SIGKILL)).ok());
  ASSERT_TRUE(await_exit(id));
  EXPECT_EQ(d.exit_code(id), 137);
  EXPECT_TRUE(await(d.remove(id)).ok());
}

// conmon takes the same arguments and protocol as podagent-monitor, so a
// node may run it instead (runtime.monitorBinary).
TEST_F(OciDriverTest, ConmonServesAsTheMonitorToo) {
  if (!find_program("conmon").ok()) GTEST_SKIP() << "needs conmon";
  OciDriverOptions o = options("runc");
  o.monitor_binary = "conmon";
  OciDriver& d = driver(o, "runc");
  std::string id = run_sh("echo from-conmon; exit 5");
  ASSERT_TRUE(await_exit(id));
  EXPECT_EQ(d.exit_code(id), 5);
  EXPECT_NE(read_file(log_path(id)).find(" stdout F from-conmon\n"), std::string::npos)
      << read_file(log_path(id));
  std::string bad = new_id();
  auto failed =
      await(d.create(bad, bundle(bad, {"/no/such/program"}), log_path(bad), false, false));
  remember_conmon(bad);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("/no/such/program"), std::string::npos)
      << failed.error().message;
  EXPECT_TRUE(await(d.remove(id)).ok());
}

TEST_F(OciDriverTest, ARuntimeErrorFailsCreateWithItsTextAndLeavesNothing) {
  OciDriver& d = driver();
  std::string id = new_id();
  fs::path b = bundle(id, {"/no/such/program"});
  auto created = await(d.create(id, b, log_path(id), false, false));
  remember_conmon(id);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("/no/such/program"), std::string::npos)
      << created.error().message;
  EXPECT_NE(created.error().message.find("runc create " + id), std::string::npos)
      << created.error().message;
  EXPECT_FALSE(fs::exists(state_dir("runc") / id));
  auto all = await(d.list());
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(OciDriverTest, ExecCapturesOutputExitCodeAndTimesOut) {
  OciDriver& d = driver();
  std::string id = run_sh(kWaitForTerm);
  auto r = await(d.exec(id, {"sh", "-c", "echo out; echo err >&2; exit 7"}, 10s));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->stdout_text, "out\n");
  EXPECT_EQ(r->stderr_text, "err\n");
  EXPECT_FALSE(r->timed_out);

  auto slow = await(d.exec(id, {"sleep", "999"}, 200ms));
  ASSERT_TRUE(slow.ok()) << slow.error().message;
  EXPECT_TRUE(slow->timed_out);
  auto ps = await(d.exec(id, {"ps"}, 10s));
  ASSERT_TRUE(ps.ok());
  EXPECT_EQ(ps->stdout_text.find("sleep 999"), std::string::npos)
      << "the timed-out process was killed\n"
      << ps->stdout_text;
  auto missing = await(d.exec(id, {"/no/such/program"}, 10s));
  ASSERT_TRUE(missing.ok());
  EXPECT_NE(missing->exit_code, 0);
  EXPECT_NE(missing->stderr_text.find("/no/such/program"), std::string::npos)
      << missing->stderr_text;
  ASSERT_TRUE(await(d.kill(id, SIGKILL)).ok());
  ASSERT_TRUE(await_exit(id));
}

TEST_F(OciDriverTest, TheContainerOutlivesTheDriverAndANewDriverSeesItsExit) {
  std::string id;
  {
    driver();
    id = run_sh(kWaitForTerm);
  }
  driver_.reset();  // conmon holds the container now
  OciDriver& d = driver();
  auto all = await(d.list());
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, id);
  EXPECT_EQ((*all)[0].status, "running");
  auto st = await(d.state(id));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->status, "running");
  ASSERT_TRUE(await(d.kill(id, SIGKILL)).ok());
  ASSERT_TRUE(await_exit(id));
  EXPECT_EQ(d.exit_code(id), 137);
}

TEST_F(OciDriverTest, ReopenLogAfterRenamingTheLog) {
  OciDriver& d = driver();
  std::string id = new_id();
  fs::path b = bundle(id, {"sh", "-c", "echo before; read x < /go; echo after; exec sleep 1000"});
  ASSERT_EQ(::mkfifo((b / "rootfs" / "go").c_str(), 0600), 0);
  ASSERT_TRUE(await(d.create(id, b, log_path(id), false, false)).ok());
  remember_conmon(id);
  ASSERT_TRUE(await(d.start(id)).ok());
  ASSERT_TRUE(wait_for_text(log_path(id), "stdout F before"));
  fs::path rotated = log_path(id);
  rotated += ".1";
  fs::rename(log_path(id), rotated);
  auto reopened = d.reopen_log(id);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  ASSERT_TRUE(wait_for_text(log_path(id), ""));  // conmon created the new file
  std::ofstream(b / "rootfs" / "go") << "x\n";
  ASSERT_TRUE(wait_for_text(log_path(id), "stdout F after"));
  EXPECT_EQ(read_file(log_path(id)).find("before"), std::string::npos);
  EXPECT_EQ(read_file(rotated).find("after"), std::string::npos);
  ASSERT_TRUE(await(d.kill(id, SIGKILL)).ok());
  ASSERT_TRUE(await_exit(id));
  ASSERT_TRUE(await(d.remove(id)).ok());
  d.forget(id);
  EXPECT_FALSE(d.reopen_log(id).ok());
}

TEST_F(OciDriverTest, ATerminalContainerLogsThroughItsTtyAndStdinStaysOpen) {
  OciDriver& d = driver();
  std::string tty = new_id();
  fs::path b = bundle(tty, {"sh", "-c", "[ -t 1 ] && echo on-a-tty"}, /*terminal=*/true);
  auto created = await(d.create(tty, b, log_path(tty), /*terminal=*/true, false));
  remember_conmon(tty);
  ASSERT_TRUE(created.ok()) << created.error().message;
  ASSERT_TRUE(await(d.start(tty)).ok());
  ASSERT_TRUE(await_exit(tty));
  EXPECT_EQ(d.exit_code(tty), 0);
  EXPECT_NE(read_file(log_path(tty)).find("on-a-tty"), std::string::npos)
      << read_file(log_path(tty));

  // Without -i, cat reads /dev/null and ends at once; with it, conmon holds
  // the stdin pipe open and cat waits.
  std::string in = new_id();
  fs::path b2 = bundle(in, {"cat"});
  ASSERT_TRUE(await(d.create(in, b2, log_path(in), false, /*stdin_open=*/true)).ok());
  remember_conmon(in);
  ASSERT_TRUE(await(d.start(in)).ok());
  auto ps = await(d.exec(in, {"cat", "/proc/1/status"}, 10s));
  ASSERT_TRUE(ps.ok());
  EXPECT_NE(ps->stdout_text.find("Name:\tcat"), std::string::npos) << ps->stdout_text;
  EXPECT_EQ(d.exit_code(in), std::nullopt);
  ASSERT_TRUE(await(d.kill(in, SIGKILL)).ok());
  ASSERT_TRUE(await_exit(in));
}

// The monitor's console socket goes into the container's state directory,
// or, when that path is too long for a socket, into a directory of its own
// under /tmp, which is gone after a create that worked and after one that
// failed.
TEST_F(OciDriverTest, ATerminalsConsoleSocketLeavesNothingBehind) {
  OciDriverOptions o = options("runc");
  o.state_dir = root_ / std::string(100, 's');
  OciDriver& d = driver(o, "runc");
  auto monitor_dirs = [] {
    std::set<std::string> found;
    for (const auto& e : fs::directory_iterator("/tmp"))
      if (e.path().filename().string().rfind("podagent-monitor-", 0) == 0)
        found.insert(e.path().string());
    return found;
  };
  const std::set<std::string> before = monitor_dirs();

  std::string tty = new_id();
  fs::path b = bundle(tty, {"sh", "-c", "echo on-a-tty"}, /*terminal=*/true);
  auto created = await(d.create(tty, b, log_path(tty), /*terminal=*/true, false));
  ASSERT_TRUE(created.ok()) << created.error().message;
  ASSERT_TRUE(await(d.start(tty)).ok());
  ASSERT_TRUE(await_exit(tty));
  EXPECT_NE(read_file(log_path(tty)).find("on-a-tty"), std::string::npos);

  std::string bad = new_id();
  fs::path b2 = bundle(bad, {"/no/such/program"}, /*terminal=*/true);
  auto failed = await(d.create(bad, b2, log_path(bad), /*terminal=*/true, false));
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(monitor_dirs(), before);
  EXPECT_TRUE(await(d.remove(tty)).ok());
}

// crun 1.8 refuses a hybrid cgroup node unless the unified mount is hidden
// from it; the driver runs it through podagent-private-mounts there.
// With runc, start follows runc's own start protocol (its exec.fifo)
// without running runc: the container runs, a process that ends at once
// still has its exit recorded, and a start that cannot be done (started
// already; the init process killed) fails as `runc start` would, at once.
TEST_F(OciDriverTest, StartFollowsRuncsExecFifoWithoutRunningRunc) {
  auto real_runc = find_program("runc");
  ASSERT_TRUE(real_runc.ok()) << real_runc.error().message;
  const fs::path wrapper = root_ / "bin" / "runc";
  const fs::path calls = root_ / "runc-calls";
  fs::create_directories(wrapper.parent_path());
  std::ofstream(wrapper) << "#!/bin/sh\necho \"$*\" >>" << calls << "\nexec " << *real_runc
                         << " \"$@\"\n";
  fs::permissions(wrapper, fs::perms::owner_all);
  OciDriverOptions o = options("runc");
  o.runtime_binary = wrapper;
  OciDriver& d = driver(o, "runc");

  std::string id = run_sh(kWaitForTerm);
  auto running = await(d.state(id));
  ASSERT_TRUE(running.ok()) << running.error().message;
  EXPECT_EQ(running->status, "running");
  std::string quick = run_sh("exit 3");
  ASSERT_TRUE(await_exit(quick));
  EXPECT_EQ(d.exit_code(quick), 3);
  EXPECT_EQ(read_file(calls).find(" start "), std::string::npos) << read_file(calls);
  EXPECT_NE(read_file(calls).find(" create "), std::string::npos) << "the monitor ran the wrapper";

  auto again = await(d.start(id));
  EXPECT_FALSE(again.ok()) << "a running container cannot be started";
  std::string dead = run_sh(kWaitForTerm, /*start=*/false);
  auto created = await(d.state(dead));
  ASSERT_TRUE(created.ok() && created->pid > 0);
  ASSERT_EQ(::kill(created->pid, SIGKILL), 0);
  ASSERT_TRUE(await_exit(dead));
  auto never = await(d.start(dead));
  EXPECT_FALSE(never.ok()) << "its init process is gone";
  ASSERT_TRUE(await(d.kill(id, SIGTERM)).ok());
  ASSERT_TRUE(await_exit(id));
}

TEST_F(OciDriverTest, CrunRunsCreatesExecsAndRecordsExits) {
  OciDriver& d = driver("crun");
  std::string id = run_sh("echo from-crun; " + std::string(kWaitForTerm));
  auto st = await(d.state(id));
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->status, "running");
  auto r = await(d.exec(id, {"sh", "-c", "echo in; exit 4"}, 10s));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 4);
  EXPECT_EQ(r->stdout_text, "in\n");
  ASSERT_TRUE(await(d.kill(id, SIGTERM)).ok());
  ASSERT_TRUE(await_exit(id));
  EXPECT_EQ(d.exit_code(id), 143);
  EXPECT_NE(read_file(log_path(id)).find("stdout F from-crun"), std::string::npos);
  ASSERT_TRUE(await(d.remove(id)).ok());
  auto all = await(d.list());
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_TRUE(all->empty());
}

// Not a check: prints the time of create + start through each monitor
// (podagent-monitor, conmon) and the monitor's memory. Run with
// --gtest_also_run_disabled_tests.
TEST_F(OciDriverTest, DISABLED_MeasureCreateStartAndMonitorMemory) {
  for (const auto& [runtime, monitor] :
       std::vector<std::pair<std::string, std::string>>{{"runc", PODAGENT_MONITOR_BINARY},
                                                        {"runc", "conmon"},
                                                        {"crun", PODAGENT_MONITOR_BINARY},
                                                        {"crun", "conmon"}}) {
    OciDriverOptions o = options(runtime);
    o.monitor_binary = monitor;
    OciDriver& d = driver(o, runtime);
    std::vector<double> ms, create_ms;
    std::vector<long> rss_kib, pss_kib;
    std::vector<std::string> ids;
    for (int i = 0; i < 21; ++i) {
      std::string id = new_id();
      fs::path b = bundle(id, {"sleep", "1000"});
      auto t0 = std::chrono::steady_clock::now();
      auto created = await(d.create(id, b, log_path(id), false, false));
      remember_conmon(id);
      ASSERT_TRUE(created.ok()) << created.error().message;
      create_ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      ASSERT_TRUE(await(d.start(id)).ok());
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      ids.push_back(id);
    }
    for (const std::string& id : ids) {
      std::string pid = read_file(state_dir(runtime) / id / "conmon.pid");
      std::istringstream status(read_file("/proc/" + pid + "/status")),
          rollup(read_file("/proc/" + pid + "/smaps_rollup"));
      for (std::string line; std::getline(status, line);)
        if (line.rfind("VmRSS:", 0) == 0) rss_kib.push_back(std::stol(line.substr(6)));
      for (std::string line; std::getline(rollup, line);)
        if (line.rfind("Pss:", 0) == 0) pss_kib.push_back(std::stol(line.substr(4)));
    }
    std::sort(ms.begin(), ms.end());
    std::sort(create_ms.begin(), create_ms.end());
    std::sort(rss_kib.begin(), rss_kib.end());
    std::sort(pss_kib.begin(), pss_kib.end());
    std::printf(
        "%s through %s: create+start over %zu runs: median %.1f ms (create %.1f), min %.1f, "
        "max %.1f; monitor RSS median %ld KiB, PSS median %ld KiB\n",
        runtime.c_str(), fs::path(monitor).filename().c_str(), ms.size(), ms[ms.size() / 2],
        create_ms[create_ms.size() / 2], ms.front(), ms.back(),
        rss_kib.empty() ? -1 : rss_kib[rss_kib.size() / 2],
        pss_kib.empty() ? -1 : pss_kib[pss_kib.size() / 2]);
    for (const std::string& id : ids) ASSERT_TRUE(await(d.kill(id, SIGKILL)).ok());
    for (const std::string& id : ids) ASSERT_TRUE(await_exit(id));
    for (const std::string& id : ids) ASSERT_TRUE(await(d.remove(id)).ok());
  }
}

}  // namespace
}  // namespace podagent::runtime::oci
