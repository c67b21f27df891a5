// The process layer: spawn, await the exit on a pidfd, read output, time out.

#include "runtime/oci/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>

namespace podagent::runtime::oci {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

base::Result<ProcessResult> run(ProcessSpec spec) {
  asio::io_context io;
  std::optional<base::Result<ProcessResult>> out;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        out.emplace(co_await run_process(io.get_executor(), std::move(spec)));
      },
      asio::detached);
  io.run();
  return std::move(*out);
}

TEST(Process, CapturesStdoutStderrAndTheExitStatus) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo out; echo err >&2; exit 5"};
  auto r = run(std::move(spec));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 5);
  EXPECT_EQ(r->stdout_text, "out\n");
  EXPECT_EQ(r->stderr_text, "err\n");
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(process_error({"sh", "-c", "x"}, *r).message, "sh -c x: exit status 5: err");
}

TEST(Process, ChildrenDoNotSeeWhatSystemdGaveTheAgent) {
  ::setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  ::setenv("LISTEN_FDS", "1", 1);
  ::setenv("PODAGENT_PROCESS_TEST", "kept", 1);
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "env | sort"};
  spec.env = {"EXTRA=1"};
  auto r = run(std::move(spec));
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("PODAGENT_PROCESS_TEST");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->stdout_text.find("NOTIFY_SOCKET="), std::string::npos);
  EXPECT_EQ(r->stdout_text.find("WATCHDOG_USEC="), std::string::npos);
  EXPECT_EQ(r->stdout_text.find("LISTEN_FDS="), std::string::npos);
  EXPECT_NE(r->stdout_text.find("PODAGENT_PROCESS_TEST=kept\n"), std::string::npos);
  EXPECT_NE(r->stdout_text.find("EXTRA=1\n"), std::string::npos);
}

TEST(Process, StdinIsTheGivenDescriptorOrDevNull) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], "input\n", 6), 6);
  ::close(fds[1]);
  ProcessSpec spec;
  spec.argv = {"cat"};
  spec.stdin_fd = base::UniqueFd(fds[0]);
  auto r = run(std::move(spec));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->stdout_text, "input\n");

  ProcessSpec none;
  none.argv = {"cat"};
  auto empty = run(std::move(none));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->stdout_text, "");
  EXPECT_EQ(empty->exit_code, 0);
}

TEST(Process, RunsInTheGivenWorkingDirectory) {
  ProcessSpec spec;
  spec.argv = {"pwd"};
  spec.cwd = "/";
  auto r = run(std::move(spec));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->stdout_text, "/\n");
}

TEST(Process, ReportsTheSignalThatKilledIt) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "kill -TERM $$"};
  auto r = run(std::move(spec));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signal, 15);
  EXPECT_EQ(r->exit_code, 143);
}

TEST(Process, TheTimeoutKillsTheChildAndRunsTheHook) {
  ProcessSpec spec;
  spec.argv = {"sleep", "1000"};
  spec.timeout = 50ms;
  bool hook = false;
  spec.on_timeout = [&] { hook = true; };
  auto r = run(std::move(spec));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_TRUE(hook);
  EXPECT_EQ(r->signal, 9);
}

TEST(Process, PassesOnlyTheGivenDescriptorsAndTheEnvironment) {
  int leaked = ::open("/dev/null", O_RDONLY);  // not close-on-exec: must still not reach the child
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo $PODAGENT_X >&3"};
  spec.env = {"PODAGENT_X=hello"};
  spec.pass_fds.emplace_back(fds[1]);
  auto r = run(std::move(spec));
  ::close(leaked);
  ASSERT_TRUE(r.ok());
  // 0-2, 3 (the pipe) and the one ls opened to list the directory.
  EXPECT_EQ(r->stdout_text, "0 1 2 3 4 ");
  char buf[64] = {};
  ASSERT_GT(::read(fds[0], buf, sizeof buf - 1), 0);
  EXPECT_STREQ(buf, "hello\n");
  char more;
  EXPECT_EQ(::read(fds[0], &more, 1), 0) << "the parent's copy of the write end is closed";
  ::close(fds[0]);
}

TEST(Process, AMissingProgramIsAnErrorNamingIt) {
  ProcessSpec spec;
  spec.argv = {"no-such-program-podagent"};
  auto r = run(std::move(spec));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no-such-program-podagent"), std::string::npos);
}

}  // namespace
}  // namespace podagent::runtime::oci
