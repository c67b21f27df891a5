#include "runtime/oci/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

extern char** environ;

namespace podagent::runtime::oci {

namespace asio = boost::asio;
using asio::posix::stream_descriptor;

namespace {

#ifndef P_PIDFD
constexpr idtype_t P_PIDFD = static_cast<idtype_t>(3);
#endif

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

// What systemd hands the agent's own process: a child must not act on it
// (runc, given NOTIFY_SOCKET, makes `runc start` wait for the container to
// send READY=1) nor feed the agent's watchdog.
bool belongs_to_the_agent(std::string_view name) {
  return name == "NOTIFY_SOCKET" || name.starts_with("WATCHDOG_") || name.starts_with("LISTEN_");
}

// The agent's environment, without what systemd meant for the agent alone,
// with `extra` laid over it.
std::vector<std::string> environment(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (belongs_to_the_agent(name)) continue;
    bool replaced = std::any_of(extra.begin(), extra.end(), [&](const std::string& x) {
      return x.size() > name.size() && x.compare(0, name.size(), name) == 0 &&
             x[name.size()] == '=';
    });
    if (!replaced) out.emplace_back(entry);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

struct Spawned {
  base::UniqueFd pidfd;
  base::UniqueFd out;
  base::UniqueFd err;
};

// Frees posix_spawn's attribute objects on every path.
struct SpawnAttrs {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnAttrs() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

base::Status make_pipe(base::UniqueFd& read_end, base::UniqueFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return base::Error(errno_text("pipe", errno));
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return {};
}

void set_up(SpawnAttrs& a, int in, int out_w, int err_w, const std::vector<base::UniqueFd>& high) {
  if (in >= 0)
    posix_spawn_file_actions_adddup2(&a.actions, in, 0);
  else
    posix_spawn_file_actions_addopen(&a.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&a.actions, out_w, 1);
  posix_spawn_file_actions_adddup2(&a.actions, err_w, 2);
  // `high` holds copies numbered above every target, so no dup2 here has
  // equal source and target (which would leave FD_CLOEXEC set).
  for (size_t i = 0; i < high.size(); ++i)
    posix_spawn_file_actions_adddup2(&a.actions, high[i].get(), static_cast<int>(3 + i));
  posix_spawn_file_actions_addclosefrom_np(&a.actions, static_cast<int>(3 + high.size()));
  // Signals the agent ignores or blocks would stay so in the child.
  sigset_t mask, defaults;
  sigemptyset(&mask);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2})
    sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&a.attr, &mask);
  posix_spawnattr_setsigdefault(&a.attr, &defaults);
  posix_spawnattr_setflags(&a.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

base::Result<Spawned> spawn(ProcessSpec& spec) {
  Spawned s;
  base::UniqueFd out_w, err_w;
  if (auto st = make_pipe(s.out, out_w); !st) return st.error();
  if (auto st = make_pipe(s.err, err_w); !st) return st.error();
  const int floor = static_cast<int>(3 + spec.pass_fds.size() + 64);
  // Numbered above every target too, for the same reason as `high`.
  base::UniqueFd in;
  if (spec.stdin_fd.valid()) {
    in.reset(::fcntl(spec.stdin_fd.get(), F_DUPFD_CLOEXEC, floor));
    if (!in.valid()) return base::Error(errno_text("dup", errno));
  }
  std::vector<base::UniqueFd> high;
  for (const base::UniqueFd& fd : spec.pass_fds) {
    high.emplace_back(::fcntl(fd.get(), F_DUPFD_CLOEXEC, floor));
    if (!high.back().valid()) return base::Error(errno_text("dup", errno));
  }
  SpawnAttrs attrs;
  set_up(attrs, in.valid() ? in.get() : -1, out_w.get(), err_w.get(), high);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&attrs.actions, spec.cwd.c_str());
  std::vector<std::string> args = spec.argv, env = environment(spec.env);
  std::vector<char*> c_args = c_strings(args), c_env = c_strings(env);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0].c_str(), &attrs.actions, &attrs.attr, c_args.data(),
                          c_env.data());
  if (rc != 0) return base::Error(errno_text("cannot run " + spec.argv[0], rc));
  spec.pass_fds.clear();
  spec.stdin_fd = base::UniqueFd();
  // Nothing else in the agent reaps children by pid -1, so `pid` names this
  // child until it is reaped below.
  s.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!s.pidfd.valid()) {
    int err = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return base::Error(errno_text("pidfd_open", err));
  }
  return s;
}

Task<void> read_all(stream_descriptor& d, std::string& out, size_t max) {
  char buf[16384];
  for (;;) {
    auto [ec, n] =
        co_await d.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (out.size() < max) out.append(buf, std::min(n, max - out.size()));
    if (ec) co_return;  // EOF, or cancelled at the timeout
  }
}

Task<void> wait_exit(stream_descriptor& pidfd) {
  // A pidfd turns readable when its process exits.
  co_await pidfd.async_wait(stream_descriptor::wait_read, asio::as_tuple(asio::use_awaitable));
}

void reap(int pidfd, ProcessResult& r) {
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED) != 0 && errno == EINTR) {
  }
  if (info.si_code == CLD_EXITED) {
    r.exit_code = info.si_status;
  } else {
    r.signal = info.si_status;
    r.exit_code = 128 + info.si_status;
  }
}

}  // namespace

std::string trim(std::string text) {
  const char* ws = " \t\r\n";
  size_t b = text.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  size_t e = text.find_last_not_of(ws);
  return text.substr(b, e - b + 1);
}

Task<base::Result<ProcessResult>> run_process(asio::any_io_executor executor, ProcessSpec spec) {
  using namespace asio::experimental::awaitable_operators;
  auto spawned = spawn(spec);
  if (!spawned) co_return spawned.error();
  stream_descriptor out(executor, spawned->out.release());
  stream_descriptor err(executor, spawned->err.release());
  stream_descriptor pidfd(executor, spawned->pidfd.release());
  ProcessResult r;
  auto all = [&]() -> Task<void> {
    co_await (read_all(out, r.stdout_text, spec.max_output) &&
              read_all(err, r.stderr_text, spec.max_output) && wait_exit(pidfd));
  };
  if (spec.timeout.count() > 0) {
    asio::steady_timer timer(executor, spec.timeout);
    auto which = co_await (all() || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (which.index() == 1) {
      r.timed_out = true;
      if (spec.on_timeout) spec.on_timeout();
      ::syscall(SYS_pidfd_send_signal, pidfd.native_handle(), SIGKILL, nullptr, 0);
      co_await wait_exit(pidfd);
    }
  } else {
    co_await all();
  }
  reap(pidfd.native_handle(), r);
  co_return r;
}

base::Error process_error(const std::vector<std::string>& argv, const ProcessResult& result,
                          size_t words) {
  std::string text =
      argv.empty() ? std::string("?") : std::filesystem::path(argv[0]).filename().string();
  for (size_t i = 1; i < argv.size() && i <= words; ++i) text += " " + argv[i];
  if (result.timed_out) {
    text += ": timed out";
  } else if (result.signal != 0) {
    text += ": killed by signal " + std::to_string(result.signal);
  } else {
    text += ": exit status " + std::to_string(result.exit_code);
  }
  std::string said = trim(result.stderr_text.empty() ? result.stdout_text : result.stderr_text);
  if (!said.empty()) text += ": " + said;
  return base::Error(std::move(text));
}

}  // namespace podagent::runtime::oci
