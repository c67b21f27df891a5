#include "runtime/oci/oci_driver.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>
#include <utility>

#include "runtime/oci/inotify_events.h"
#include "runtime/oci/process.h"
#include "runtime/oci/runtime_command.h"

namespace podagent::runtime::oci {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace json = boost::json;
using asio::posix::stream_descriptor;

namespace {

// The monitor's control fifo takes "<type> <height> <width>\n"; type 2 asks it
// to reopen the log files.
constexpr const char* kReopenLogs = "2 0 0\n";

std::optional<std::string> read_small_file(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<int> read_int_file(const fs::path& p) {
  auto text = read_small_file(p);
  if (!text) return std::nullopt;
  std::string t = trim(*text);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  long v = std::strtol(t.c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return static_cast<int>(v);
}

bool make_pipe(base::UniqueFd& read_end, base::UniqueFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return true;
}

// An id becomes a file name under the exit and state directories.
base::Status check_id(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos || id[0] == '-')
    return base::Error("invalid container id \"" + id + "\"");
  return {};
}

base::Result<OciState> state_from_json(const json::value& v) {
  const json::object* o = v.if_object();
  if (o == nullptr) return base::Error("the runtime's state is not a JSON object");
  OciState s;
  if (auto* id = o->if_contains("id"); id != nullptr && id->is_string())
    s.id = std::string(id->get_string());
  if (auto* st = o->if_contains("status"); st != nullptr && st->is_string())
    s.status = std::string(st->get_string());
  if (auto* pid = o->if_contains("pid"); pid != nullptr && pid->is_int64())
    s.pid = static_cast<int>(pid->get_int64());
  if (auto* b = o->if_contains("bundle"); b != nullptr && b->is_string())
    s.bundle = std::string(b->get_string());
  if (s.status == "stopped") s.pid = 0;
  return s;
}

base::Result<json::value> parse_json(const std::string& text, const std::string& what) {
  std::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return base::Error(what + " printed no JSON: " + trim(text.substr(0, 200)));
  return v;
}

// What the monitor writes on its sync pipe once the runtime's create ended:
// {"data": <container pid>} or {"data": -1, "message": "<runtime's error>"}.
struct SyncReport {
  long long data = -1;
  std::string message;
};

std::optional<SyncReport> parse_sync(const std::string& line) {
  std::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  SyncReport r;
  auto* data = v.as_object().if_contains("data");
  if (data == nullptr) data = v.as_object().if_contains("pid");  // API version 0
  if (data == nullptr || !data->is_int64()) return std::nullopt;
  r.data = data->get_int64();
  if (auto* m = v.as_object().if_contains("message"); m != nullptr && m->is_string())
    r.message = trim(std::string(m->get_string()));
  return r;
}

// Reads the sync pipe up to the first newline (or EOF, or the timeout).
Task<std::string> read_sync_line(asio::any_io_executor ex, base::UniqueFd fd,
                                 std::chrono::milliseconds limit) {
  using namespace asio::experimental::awaitable_operators;
  stream_descriptor d(ex, fd.release());
  std::string line;
  auto read = [&]() -> Task<void> {
    char buf[4096];
    while (line.find('\n') == std::string::npos) {
      auto [ec, n] =
          co_await d.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      line.append(buf, n);
      if (ec) co_return;
    }
  };
  asio::steady_timer timer(ex, limit);
  co_await (read() || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  co_return line.substr(0, line.find('\n'));
}

// The inotify watch on the exit directory. Shared by the driver and the
// loop reading it, so that the driver can go while a read is pending.
struct ExitWatch {
  ExitWatch(asio::any_io_executor ex, int fd) : stream(ex, fd) {}
  stream_descriptor stream;
  fs::path dir;
  std::function<void(const std::string&)> handler;
  bool stopped = false;
};

std::vector<std::string> exit_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  return out;
}

// Names whose exit file is complete. The monitor writes <id> aside and renames it
// (IN_MOVED_TO); a file written in place is taken when closed if it holds a
// number (which skips a temporary name, already renamed by then).
std::vector<std::string> exited_names(const ExitWatch& w, const char* buf, size_t n) {
  std::vector<std::string> out;
  for (const InotifyEvent& ev : parse_inotify_events(buf, n)) {
    if (ev.mask & IN_Q_OVERFLOW) {
      auto all = exit_files(w.dir);
      out.insert(out.end(), all.begin(), all.end());
      continue;
    }
    if (ev.name.empty()) continue;
    std::string name(ev.name);
    if ((ev.mask & IN_MOVED_TO) || ((ev.mask & IN_CLOSE_WRITE) && read_int_file(w.dir / name)))
      out.push_back(std::move(name));
  }
  return out;
}

Task<void> watch_exits(std::shared_ptr<ExitWatch> w) {
  char buf[16384];
  for (;;) {
    auto [ec, n] =
        co_await w->stream.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (w->stopped || ec) co_return;
    for (const std::string& id : exited_names(*w, buf, n)) {
      if (w->stopped) co_return;  // the handler may destroy the driver
      w->handler(id);
    }
  }
}

}  // namespace

struct OciDriver::Impl {
  asio::any_io_executor executor;
  OciDriverOptions options;
  base::Result<std::vector<std::string>> runtime = base::Error("unset");  // runtime_command
  std::shared_ptr<ExitWatch> watch;
  unsigned exec_serial = 0;
  fs::path monitor;  // options.monitor_binary, or podagent-monitor beside this program
  // runc's state directory (its --root), where start_by_fifo finds a
  // created container's exec.fifo; empty for another runtime.
  fs::path runc_root;

  fs::path dir_of(const std::string& id) const { return options.state_dir / id; }

  // The runtime's argv: the command, --root, then `args`.
  std::vector<std::string> runtime_argv(std::vector<std::string> args) const {
    std::vector<std::string> argv = *runtime;
    if (!options.runtime_root.empty()) argv.push_back("--root=" + options.runtime_root.string());
    argv.insert(argv.end(), std::make_move_iterator(args.begin()),
                std::make_move_iterator(args.end()));
    return argv;
  }

  // Runs the runtime; fails only when it cannot be started (a non-zero
  // exit or a timeout is in the result).
  Task<base::Result<ProcessResult>> run(std::vector<std::string> args) {
    if (!runtime) co_return runtime.error();
    ProcessSpec spec;
    spec.argv = runtime_argv(std::move(args));
    spec.timeout = options.command_timeout;
    co_return co_await run_process(executor, std::move(spec));
  }

  // An error naming the runtime by its binary's name, quoting what it printed.
  base::Error failure(const std::vector<std::string>& args, const ProcessResult& r) const {
    std::vector<std::string> named{options.runtime_binary.filename().string()};
    named.insert(named.end(), args.begin(), args.end());
    return process_error(named, r);
  }

  // Runs the runtime and fails unless it exited 0.
  Task<base::Result<ProcessResult>> run_ok(std::vector<std::string> args) {
    auto r = co_await run(args);
    if (!r) co_return r.error();
    if (!r->ok()) co_return failure(args, *r);
    co_return r;
  }

  std::vector<std::string> monitor_argv(const std::string& id, const fs::path& bundle,
                                        const fs::path& log_path, bool terminal,
                                        bool stdin_open) const;
  void kill_monitor(const std::string& id) const;
  Task<std::optional<base::Status>> start_by_fifo(const std::string& id);
};

std::vector<std::string> OciDriver::Impl::monitor_argv(const std::string& id,
                                                       const fs::path& bundle,
                                                       const fs::path& log_path, bool terminal,
                                                       bool stdin_open) const {
  const fs::path dir = dir_of(id);
  std::vector<std::string> argv{
      monitor.string(), "--api-version", "1", "-c", id, "-u", id, "-r", runtime->front(), "-b",
      fs::absolute(bundle).string(), "-p", (dir / "pidfile").string(), "-P",
      (dir / "conmon.pid").string(), "--exit-dir", options.exit_dir.string(), "--socket-dir-path",
      dir.string(), "--persist-dir", dir.string(),
      // No --log-size-max: the agent rotates by renaming and reopen_log().
      "-l", log_path.empty() ? std::string("none") : "k8s-file:" + fs::absolute(log_path).string()};
  // The monitor puts runtime args right after the program, before "create".
  for (size_t i = 1; i < runtime->size(); ++i) {
    argv.push_back("--runtime-arg");
    argv.push_back((*runtime)[i]);
  }
  if (!options.runtime_root.empty()) {
    argv.push_back("--runtime-arg");
    argv.push_back("--root=" + options.runtime_root.string());
  }
  if (terminal) argv.push_back("-t");
  if (stdin_open) argv.push_back("-i");
  return argv;
}

void OciDriver::Impl::kill_monitor(const std::string& id) const {
  if (auto pid = read_int_file(dir_of(id) / "conmon.pid"); pid && *pid > 1) ::kill(*pid, SIGKILL);
}

// What `runc start` does, without starting runc (a Go program, started
// once more for every container). A created container's init process blocks opening
// <root>/<id>/exec.fifo for writing; the starter opens it for reading, gets
// the byte the init process writes, waits for EOF (the init process exec'd
// the container's program, or died) and removes the fifo, which is what
// makes runc report the container "running". nullopt when the protocol
// cannot be followed (no fifo, no init process, nothing written): `runc
// start` then does the start, or says why it cannot.
Task<std::optional<base::Status>> OciDriver::Impl::start_by_fifo(const std::string& id) {
  using namespace asio::experimental::awaitable_operators;
  if (runc_root.empty()) co_return std::nullopt;
  // The init process's pidfd tells when it dies before writing (it then
  // never opened its end, and the fifo would never turn readable). Taken
  // before the fifo is opened: that open starts the container, whose
  // program may be gone (and reaped) right after.
  auto pid = read_int_file(dir_of(id) / "pidfile");
  if (!pid || *pid <= 1) co_return std::nullopt;
  base::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
  if (!pidfd.valid()) co_return std::nullopt;
  const fs::path fifo = runc_root / id / "exec.fifo";
  // Non-blocking: the open must not wait for the writer on the executor.
  base::UniqueFd fifo_fd(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo_fd.valid()) co_return std::nullopt;
  stream_descriptor reader(executor, fifo_fd.release());
  stream_descriptor init(executor, pidfd.release());
  asio::steady_timer timer(executor, options.command_timeout);
  size_t got = 0;
  bool init_ended = false, timed_out = false;
  for (;;) {
    char buf[64];
    const ssize_t n = ::read(reader.native_handle(), buf, sizeof buf);
    if (n > 0) {
      got += static_cast<size_t>(n);
      continue;
    }
    // EOF once a writer came and went (a fifo reports no hangup before
    // its first writer); or the init process died, after which all it
    // wrote has been read.
    if (n == 0 && got > 0) break;
    if (init_ended || timed_out || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
    auto done = co_await (
        reader.async_wait(stream_descriptor::wait_read, asio::as_tuple(asio::use_awaitable)) ||
        init.async_wait(stream_descriptor::wait_read, asio::as_tuple(asio::use_awaitable)) ||
        timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    init_ended = done.index() == 1;
    timed_out = done.index() == 2;
  }
  if (timed_out && got == 0)
    co_return base::Error("starting " + id + ": its init process did not open " + fifo.string() +
                          " within " + std::to_string(options.command_timeout.count()) + " ms");
  if (got == 0) co_return std::nullopt;
  std::error_code ec;
  fs::remove(fifo, ec);
  if (ec)
    co_return base::Error("starting " + id + ": removing " + fifo.string() + ": " + ec.message());
  co_return base::Status::Ok();
}

OciDriver::OciDriver(asio::any_io_executor executor, OciDriverOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->executor = std::move(executor);
  impl_->options = std::move(options);
  // The monitor and the runtime are handed these paths; relative ones would
  // depend on the working directory of whoever runs later.
  for (fs::path* p :
       {&impl_->options.runtime_root, &impl_->options.exit_dir, &impl_->options.state_dir})
    if (!p->empty()) *p = fs::absolute(*p);
  // The helpers not named in the options: beside the running program.
  auto helper = [](const fs::path& named, const char* name) {
    return named.empty() ? beside_this_program(name) : named;
  };
  impl_->runtime =
      runtime_command(impl_->options.runtime_binary,
                      helper(impl_->options.private_mounts_binary, "podagent-private-mounts"));
  impl_->monitor = helper(impl_->options.monitor_binary, "podagent-monitor");
  if (impl_->options.runtime_binary.filename() == "runc")
    impl_->runc_root =
        impl_->options.runtime_root.empty() ? fs::path("/run/runc") : impl_->options.runtime_root;
}

OciDriver::~OciDriver() {
  if (impl_->watch) {
    impl_->watch->stopped = true;
    impl_->watch->handler = nullptr;
    boost::system::error_code ec;
    impl_->watch->stream.close(ec);  // the pending read completes with operation_aborted
  }
}

Task<base::Result<int>> OciDriver::create(const std::string& id, const fs::path& bundle,
                                          const fs::path& log_path, bool terminal, bool stdin_open) {
  using namespace asio::experimental::awaitable_operators;
  if (auto st = check_id(id); !st) co_return st.error();
  if (!impl_->runtime) co_return impl_->runtime.error();
  const fs::path dir = impl_->dir_of(id);
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::remove(impl_->options.exit_dir / id, ec);
  fs::create_directories(dir, ec);
  if (!ec) fs::create_directories(impl_->options.exit_dir, ec);
  if (!ec && !log_path.empty())
    fs::create_directories(log_path.parent_path(), ec);  // the monitor would not
  if (!ec) fs::create_directory_symlink(fs::absolute(bundle), dir / "bundle", ec);
  if (ec) co_return base::Error("preparing " + dir.string() + ": " + ec.message());

  base::UniqueFd sync_r, sync_w;
  if (!make_pipe(sync_r, sync_w))
    co_return base::Error(std::string("pipe: ") + std::strerror(errno));
  ProcessSpec spec;
  spec.argv = impl_->monitor_argv(id, bundle, log_path, terminal, stdin_open);
  // conmon writes its "oom" file into its working directory as well as its
  // persist dir (podagent-monitor into the persist dir only): both are the
  // container's own.
  spec.cwd = dir;
  spec.env = {"_OCI_SYNCPIPE=3"};
  spec.pass_fds.push_back(std::move(sync_w));
  spec.timeout = impl_->options.command_timeout;
  auto [proc, line] =
      co_await (run_process(impl_->executor, std::move(spec)) &&
                read_sync_line(impl_->executor, std::move(sync_r), impl_->options.command_timeout));
  if (!proc) co_return proc.error();
  auto report = parse_sync(line);
  if (report && report->data > 0 && report->data <= std::numeric_limits<int>::max())
    co_return static_cast<int>(report->data);

  // Nothing created, or the runtime failed: leave no monitor, object or file.
  impl_->kill_monitor(id);
  std::vector<std::string> delete_args{"delete", "--force", id};
  auto deleted = co_await impl_->run(std::move(delete_args));
  (void)deleted;  // best effort: usually there is nothing to delete
  forget(id);
  std::string runtime_name = impl_->options.runtime_binary.filename().string();
  if (report) co_return base::Error(runtime_name + " create " + id + ": " + report->message);
  const std::string monitor = impl_->monitor.filename().string();
  if (!proc->ok()) co_return process_error(std::vector<std::string>{monitor, "-c", id}, *proc, 2);
  co_return base::Error(monitor + " -c " + id + " reported nothing within " +
                        std::to_string(impl_->options.command_timeout.count()) + " ms" +
                        (line.empty() ? std::string() : ": " + line));
}

Task<base::Status> OciDriver::start(const std::string& id) {
  if (auto st = check_id(id); !st) co_return st.error();
  if (auto by_fifo = co_await impl_->start_by_fifo(id)) co_return std::move(*by_fifo);
  std::vector<std::string> args{"start",
                                id};  // named: GCC 12 miscompiles a braced list in co_await
  auto r = co_await impl_->run_ok(std::move(args));
  if (!r) co_return r.error();
  co_return base::Status::Ok();
}

Task<base::Status> OciDriver::kill(const std::string& id, int signal, bool all) {
  std::vector<std::string> args{"kill"};
  if (all) args.push_back("--all");
  args.push_back(id);
  args.push_back(std::to_string(signal));
  auto r = co_await impl_->run_ok(std::move(args));
  if (!r) co_return r.error();
  co_return base::Status::Ok();
}

Task<base::Status> OciDriver::remove(const std::string& id) {
  std::vector<std::string> args{"delete", "--force", id};
  auto r = co_await impl_->run(args);
  if (!r) co_return r.error();
  if (r->ok()) co_return base::Status::Ok();
  // runc: "container does not exist"; crun: "error opening file `…/status`: No such file or
  // directory".
  const std::string& said = r->stderr_text;
  if (said.find("does not exist") != std::string::npos ||
      said.find("No such file or directory") != std::string::npos)
    co_return base::Status::Ok();
  co_return impl_->failure(args, *r);
}

Task<base::Result<OciState>> OciDriver::state(const std::string& id) {
  std::vector<std::string> args{"state", id};
  auto r = co_await impl_->run_ok(std::move(args));
  if (!r) co_return r.error();
  auto v = parse_json(r->stdout_text, "state " + id);
  if (!v) co_return v.error();
  co_return state_from_json(*v);
}

Task<base::Result<std::vector<OciState>>> OciDriver::list() {
  std::vector<std::string> args{"list", "--format", "json"};
  auto r = co_await impl_->run_ok(std::move(args));
  if (!r) co_return r.error();
  auto v = parse_json(r->stdout_text, "list");
  if (!v) co_return v.error();
  std::vector<OciState> out;
  if (v->is_null()) co_return out;  // runc prints null when there are none
  if (!v->is_array()) co_return base::Error("list printed no JSON array");
  for (const json::value& e : v->as_array()) {
    auto s = state_from_json(e);
    if (!s) co_return s.error();
    out.push_back(std::move(*s));
  }
  co_return out;
}

Task<base::Result<ExecResult>> OciDriver::exec(const std::string& id,
                                               const std::vector<std::string>& argv,
                                               std::chrono::milliseconds timeout) {
  if (auto st = check_id(id); !st) co_return st.error();
  if (argv.empty()) co_return base::Error("exec in " + id + ": no command");
  if (!impl_->runtime) co_return impl_->runtime.error();
  // The process's pid, so that a timeout kills it and not only the runtime's
  // exec (which cannot forward SIGKILL).
  const fs::path pid_file = impl_->dir_of(id) / ("exec-" + std::to_string(::getpid()) + "-" +
                                                 std::to_string(++impl_->exec_serial) + ".pid");
  std::error_code ec;
  fs::create_directories(pid_file.parent_path(), ec);
  ProcessSpec spec;
  spec.argv = impl_->runtime_argv({"exec", "--pid-file", pid_file.string(), id});
  spec.argv.insert(spec.argv.end(), argv.begin(), argv.end());
  spec.timeout = timeout;
  spec.on_timeout = [pid_file] {
    if (auto pid = read_int_file(pid_file); pid && *pid > 1) ::kill(*pid, SIGKILL);
  };
  auto r = co_await run_process(impl_->executor, std::move(spec));
  fs::remove(pid_file, ec);
  if (!r) co_return r.error();
  ExecResult out;
  out.exit_code = r->exit_code;
  out.stdout_text = std::move(r->stdout_text);
  out.stderr_text = std::move(r->stderr_text);
  out.timed_out = r->timed_out;
  co_return out;
}

base::Status OciDriver::reopen_log(const std::string& id) {
  if (auto st = check_id(id); !st) return st;
  // The monitor keeps its control fifo in the bundle; <state_dir>/<id>/bundle
  // links there (written by create, so a new driver finds it too).
  const fs::path ctl = impl_->dir_of(id) / "bundle" / "ctl";
  base::UniqueFd fd(::open(ctl.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENXIO)
      return base::Error("the monitor of " + id + " is gone (nobody reads " + ctl.string() + ")");
    return base::Error("opening " + ctl.string() + ": " + std::strerror(errno));
  }
  const size_t len = std::strlen(kReopenLogs);
  if (::write(fd.get(), kReopenLogs, len) != static_cast<ssize_t>(len))
    return base::Error("writing " + ctl.string() + ": " + std::strerror(errno));
  return {};
}

std::optional<int> OciDriver::exit_code(const std::string& id) const {
  if (!check_id(id)) return std::nullopt;
  return read_int_file(impl_->options.exit_dir / id);
}

bool OciDriver::oom_killed(const std::string& id) const {
  if (!check_id(id)) return false;
  std::error_code ec;
  return fs::exists(impl_->dir_of(id) / "oom", ec);
}

void OciDriver::on_exit(std::function<void(const std::string& id)> handler) {
  if (impl_->watch || impl_->options.exit_dir.empty()) return;
  std::error_code ec;
  fs::create_directories(impl_->options.exit_dir, ec);
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return;
  if (::inotify_add_watch(fd, impl_->options.exit_dir.c_str(),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
    ::close(fd);
    return;
  }
  impl_->watch = std::make_shared<ExitWatch>(impl_->executor, fd);
  impl_->watch->dir = impl_->options.exit_dir;
  impl_->watch->handler = std::move(handler);
  asio::co_spawn(impl_->executor, watch_exits(impl_->watch), asio::detached);
}

void OciDriver::forget(const std::string& id) {
  if (!check_id(id)) return;
  std::error_code ec;
  fs::remove(impl_->options.exit_dir / id, ec);
  fs::remove_all(impl_->dir_of(id), ec);
}

}  // namespace podagent::runtime::oci
