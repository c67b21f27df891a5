// podagent-monitor: the monitor of one container. It has the OCI runtime
// create the container, holds the container's stdio for as long as it runs,
// writes its output to a CRI-format log and its exit code to a file, and
// outlives the agent. It takes the part of conmon's command line that
// podagent uses and speaks conmon's sync-pipe protocol, so the agent drives
// either; it is static and small, so that it starts in a fraction of
// conmon's time and costs a fraction of its memory.
//
//   podagent-monitor -c ID -r RUNTIME [--runtime-arg ARG]... -b BUNDLE
//       -p CONTAINER_PIDFILE -P MONITOR_PIDFILE --exit-dir DIR
//       [--persist-dir DIR] [--socket-dir-path DIR] [-l k8s-file:LOG|none]
//       [-t] [-i] [--api-version N] [-u X]   (the last two accepted, unused)
//
// With _OCI_SYNCPIPE=N in the environment, descriptor N receives one line
// once the runtime's create ended: {"data": PID} or {"data": -1,
// "message": "what the runtime said"}. The process that was started exits
// at once; the monitor itself lives on in its own session, a subreaper of
// the container's processes. When the container's process ends it writes
// <exit-dir>/<ID> (the exit status, 128 + signal when killed; written aside
// and renamed in), "oom" into the persist dir when the kernel's OOM killer
// acted in the container's memory cgroup, and exits. Writing "2 0 0\n" to
// <BUNDLE>/ctl reopens the log (after the agent renamed it to rotate).

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kMaxRuntimeArgs = 32, kChunk = 65536 };

static struct {
  const char *id, *runtime, *bundle, *container_pidfile, *monitor_pidfile, *exit_dir, *socket_dir,
      *persist_dir, *log_path;
  const char* runtime_args[kMaxRuntimeArgs];
  int runtime_argc;
  int terminal, stdin_open;
} opt;

static int sync_fd = -1;
static int log_fd = -1;
// The runtime's --console-socket (a terminal's container) until the
// terminal arrived through it, and the directory made for it if any:
// removed on every way out.
static char console_path[108], console_dir[64];

static void remove_console_socket(void) {
  if (console_path[0]) unlink(console_path);
  if (console_dir[0]) rmdir(console_dir);
  console_path[0] = console_dir[0] = '\0';
}

// ---- the sync pipe ---------------------------------------------------------

static void json_escaped(char* out, size_t cap, const char* text) {
  size_t n = 0;
  for (const unsigned char* p = (const unsigned char*)text; *p && n + 7 < cap; ++p) {
    if (*p == '"' || *p == '\\') {
      out[n++] = '\\';
      out[n++] = (char)*p;
    } else if (*p < 0x20) {
      n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *p);
    } else {
      out[n++] = (char)*p;
    }
  }
  out[n] = '\0';
}

static void report(long pid, const char* message) {
  if (sync_fd < 0) return;
  char escaped[8192], line[8400];
  int n;
  if (message) {
    json_escaped(escaped, sizeof escaped, message);
    n = snprintf(line, sizeof line, "{\"data\": %ld, \"message\": \"%s\"}\n", pid, escaped);
  } else {
    n = snprintf(line, sizeof line, "{\"data\": %ld}\n", pid);
  }
  if (n > 0) (void)!write(sync_fd, line, (size_t)n);
  close(sync_fd);
  sync_fd = -1;
}

// Reports the failure (formatted like printf, with errno's text appended
// when `with_errno`) and exits.
static void fail(int with_errno, const char* format, ...) {
  char text[4096];
  const int err = errno;
  va_list ap;
  va_start(ap, format);
  vsnprintf(text, sizeof text, format, ap);
  va_end(ap);
  if (with_errno) {
    size_t len = strlen(text);
    snprintf(text + len, sizeof text - len, ": %s", strerror(err));
  }
  remove_console_socket();
  if (sync_fd >= 0) {
    report(-1, text);
  } else {
    fprintf(stderr, "podagent-monitor: %s\n", text);
  }
  _exit(1);
}

// ---- the log ---------------------------------------------------------------

static void open_log(void) {
  if (log_fd >= 0) close(log_fd);
  log_fd = -1;
  if (opt.log_path) log_fd = open(opt.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

// One CRI record per line of `buf` ("<time> <stream> F <line>"), and a
// partial one ("P") for a tail without its newline.
static void log_output(const char* stream, const char* buf, size_t n) {
  if (log_fd < 0 || n == 0) return;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct tm tm;
  gmtime_r(&now.tv_sec, &tm);
  char stamp[64];
  size_t len = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(stamp + len, sizeof stamp - len, ".%09ldZ %s ", now.tv_nsec, stream);
  const size_t stamp_len = strlen(stamp);
  while (n > 0) {
    const char* nl = memchr(buf, '\n', n);
    const size_t line = nl ? (size_t)(nl - buf) : n;
    struct iovec iov[4] = {
        {stamp, stamp_len}, {(void*)(nl ? "F " : "P "), 2}, {(void*)buf, line}, {(void*)"\n", 1}};
    (void)!writev(log_fd, iov, 4);
    const size_t used = nl ? line + 1 : line;
    buf += used;
    n -= used;
  }
}

// ---- the container's end ---------------------------------------------------

// The file whose "oom_kill N" counts the OOM kills in the memory cgroup of
// `pid`: memory.oom_control (cgroup v1) or memory.events (v2).
static void memory_events_file(pid_t pid, char* out, size_t cap) {
  out[0] = '\0';
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
  FILE* f = fopen(path, "re");
  if (!f) return;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char* controllers = strchr(line, ':');
    if (!controllers) continue;
    char* cgroup = strchr(++controllers, ':');
    if (!cgroup) continue;
    *cgroup++ = '\0';
    int v1_memory = 0;
    for (char *save = NULL, *c = strtok_r(controllers, ",", &save); c;
         c = strtok_r(NULL, ",", &save))
      v1_memory |= strcmp(c, "memory") == 0;
    if (v1_memory) {
      snprintf(out, cap, "/sys/fs/cgroup/memory%s/memory.oom_control", cgroup);
      break;
    }
    if (strncmp(line, "0:", 2) == 0 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
      snprintf(out, cap, "/sys/fs/cgroup%s/memory.events", cgroup);
  }
  fclose(f);
}

static int oom_killed(const char* events_file) {
  if (!events_file[0]) return 0;
  FILE* f = fopen(events_file, "re");
  if (!f) return 0;
  char line[256];
  long kills = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "oom_kill %ld", &kills) == 1) break;
  fclose(f);
  return kills > 0;
}

// `dir`/`name` holding `text`, written aside and renamed in.
static void write_file_in(const char* dir, const char* name, const char* text) {
  char path[PATH_MAX], temp[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(temp, sizeof temp, "%s/.%s.tmp", dir, name);
  int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)!write(fd, text, strlen(text));
  // Renamed before it is closed: a watcher of the directory never sees the
  // temporary name closed.
  rename(temp, path);
  close(fd);
}

// ---- starting --------------------------------------------------------------

static void parse(int argc, char** argv) {
  enum { kApi = 256, kRuntimeArg, kExitDir, kSocketDir, kPersistDir };
  static const struct option longs[] = {{"api-version", required_argument, 0, kApi},
                                        {"cid", required_argument, 0, 'c'},
                                        {"cuuid", required_argument, 0, 'u'},
                                        {"runtime", required_argument, 0, 'r'},
                                        {"runtime-arg", required_argument, 0, kRuntimeArg},
                                        {"bundle", required_argument, 0, 'b'},
                                        {"container-pidfile", required_argument, 0, 'p'},
                                        {"conmon-pidfile", required_argument, 0, 'P'},
                                        {"exit-dir", required_argument, 0, kExitDir},
                                        {"socket-dir-path", required_argument, 0, kSocketDir},
                                        {"persist-dir", required_argument, 0, kPersistDir},
                                        {"log-path", required_argument, 0, 'l'},
                                        {"terminal", no_argument, 0, 't'},
                                        {"stdin", no_argument, 0, 'i'},
                                        {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:u:r:b:p:P:l:ti", longs, NULL)) != -1) {
    switch (c) {
      case 'c':
        opt.id = optarg;
        break;
      case 'r':
        opt.runtime = optarg;
        break;
      case 'b':
        opt.bundle = optarg;
        break;
      case 'p':
        opt.container_pidfile = optarg;
        break;
      case 'P':
        opt.monitor_pidfile = optarg;
        break;
      case 't':
        opt.terminal = 1;
        break;
      case 'i':
        opt.stdin_open = 1;
        break;
      case kExitDir:
        opt.exit_dir = optarg;
        break;
      case kPersistDir:
        opt.persist_dir = optarg;
        break;
      case kRuntimeArg:
        if (opt.runtime_argc == kMaxRuntimeArgs) fail(0, "too many --runtime-arg");
        opt.runtime_args[opt.runtime_argc++] = optarg;
        break;
      case 'l':
        if (strncmp(optarg, "k8s-file:", 9) == 0) {
          opt.log_path = optarg + 9;
        } else if (strcmp(optarg, "none") != 0) {
          fail(0, "unsupported log driver in \"%s\" (k8s-file:PATH or none)", optarg);
        }
        break;
      case kSocketDir:
        opt.socket_dir = optarg;
        break;
      case 'u':
      case kApi:
        break;
      default:
        fail(0, "unknown option (see the head of runtime/monitor/monitor.c)");
    }
  }
  if (!opt.id || !opt.runtime || !opt.bundle || !opt.container_pidfile || !opt.exit_dir)
    fail(0, "-c, -r, -b, -p and --exit-dir are required");
}

static void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) fail(1, "pipe");
}

// Waits for the runtime's create; its output (the container's stdout and
// stderr pipes, which nothing else writes yet) explains a failure.
static void await_create(pid_t runtime, int out, int err) {
  int status;
  while (waitpid(runtime, &status, 0) < 0)
    if (errno != EINTR) fail(1, "waiting for the runtime");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  char said[4096];
  size_t n = 0;
  const int fds[2] = {err, out};
  for (int i = 0; i < 2; ++i) {
    const int fd = fds[i];
    fcntl(fd, F_SETFL, O_NONBLOCK);
    ssize_t got;
    while (n + 1 < sizeof said && (got = read(fd, said + n, sizeof said - 1 - n)) > 0)
      n += (size_t)got;
  }
  said[n] = '\0';
  if (n == 0) {
    snprintf(said, sizeof said, "the runtime %s %d",
             WIFEXITED(status) ? "exited" : "was killed by signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }
  fail(0, "%s", said);
}

static pid_t read_pid(const char* path) {
  FILE* f = fopen(path, "re");
  long pid = 0;
  if (f) {
    if (fscanf(f, "%ld", &pid) != 1) pid = 0;
    fclose(f);
  }
  return (pid_t)pid;
}

// A listening socket for the runtime's --console-socket: "console" in the
// socket directory, or in a directory of its own under /tmp when that path
// would be too long (a socket's path has at most 107 bytes).
static int console_socket(void) {
  if (opt.socket_dir && strlen(opt.socket_dir) + sizeof "/console" <= sizeof console_path) {
    snprintf(console_path, sizeof console_path, "%s/console", opt.socket_dir);
  } else {
    char dir[sizeof console_dir] = "/tmp/podagent-monitor-XXXXXX";
    if (!mkdtemp(dir)) fail(1, "mkdtemp");
    strcpy(console_dir, dir);
    snprintf(console_path, sizeof console_path, "%s/console", console_dir);
  }
  unlink(console_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, console_path);
  if (fd < 0 || bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(fd, 1) != 0)
    fail(1, "console socket %s", console_path);
  return fd;
}

// The terminal's master end that the runtime sent over the console socket
// (already queued: the runtime's create has ended).
static int receive_master(int listener) {
  struct pollfd p = {listener, POLLIN, 0};
  if (poll(&p, 1, 0) != 1) fail(0, "the runtime sent no terminal on the console socket");
  int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) fail(1, "accept on the console socket");
  char data[256];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {data, sizeof data};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  int master = -1;
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) >= 0) {
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy(&master, CMSG_DATA(c), sizeof master);
  }
  close(conn);
  if (master < 0) fail(0, "the runtime sent no terminal on the console socket");
  return master;
}

int main(int argc, char** argv) {
  const char* sync = getenv("_OCI_SYNCPIPE");
  if (sync) sync_fd = atoi(sync);
  parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);

  // The caller's process ends now; the monitor goes on in its own session
  // with its stdio on /dev/null (so that the caller's pipes see EOF).
  pid_t daemon = fork();
  if (daemon < 0) fail(1, "fork");
  if (daemon > 0) _exit(0);
  setsid();
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) fail(1, "/dev/null");
  for (int fd = 0; fd <= 2; ++fd) dup2(null, fd);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (opt.monitor_pidfile) {
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    int fd = open(opt.monitor_pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail(1, "%s", opt.monitor_pidfile);
    (void)!write(fd, pid, strlen(pid));
    close(fd);
  }

  // SIGCHLD arrives through a signalfd: blocked from here on (the runtime
  // gets the mask unblocked).
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old);
  int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) fail(1, "signalfd");

  int out[2], err[2], in[2] = {-1, -1};
  make_pipe(out);
  make_pipe(err);
  if (opt.stdin_open) make_pipe(in);
  int listener = opt.terminal ? console_socket() : -1;

  const char* args[kMaxRuntimeArgs + 12];
  int n = 0;
  args[n++] = opt.runtime;
  for (int i = 0; i < opt.runtime_argc; ++i) args[n++] = opt.runtime_args[i];
  args[n++] = "create";
  args[n++] = "--bundle";
  args[n++] = opt.bundle;
  args[n++] = "--pid-file";
  args[n++] = opt.container_pidfile;
  if (opt.terminal) {
    args[n++] = "--console-socket";
    args[n++] = console_path;
  }
  args[n++] = opt.id;
  args[n] = NULL;

  pid_t runtime = fork();
  if (runtime < 0) fail(1, "fork");
  if (runtime == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    dup2(opt.stdin_open ? in[0] : null, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (sync_fd >= 0) close(sync_fd);
    execvp(args[0], (char* const*)args);
    dprintf(2, "exec %s: %s", args[0], strerror(errno));
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  if (in[0] >= 0) close(in[0]);
  await_create(runtime, out[0], err[0]);

  const pid_t container = read_pid(opt.container_pidfile);
  if (container <= 0) fail(0, "the runtime wrote no pid into %s", opt.container_pidfile);
  int master = -1;
  if (opt.terminal) {
    master = receive_master(listener);
    close(listener);
    remove_console_socket();
    // The pipes only carried the runtime's own output.
    close(out[0]);
    close(err[0]);
    out[0] = master;
    err[0] = -1;
  }
  char ctl_path[PATH_MAX];
  snprintf(ctl_path, sizeof ctl_path, "%s/ctl", opt.bundle);
  unlink(ctl_path);
  if (mkfifo(ctl_path, 0600) != 0) fail(1, "mkfifo %s", ctl_path);
  // Read and write: the fifo never reports a hangup when a writer goes.
  int ctl = open(ctl_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (ctl < 0) fail(1, "%s", ctl_path);
  char events_file[PATH_MAX];
  memory_events_file(container, events_file, sizeof events_file);
  open_log();
  report(container, NULL);

  // Until the container's process ends: its output into the log, the
  // control fifo's requests, and the children to reap.
  static char buf[kChunk];
  int status = 0, ended = 0;
  while (!ended) {
    struct pollfd fds[4] = {
        {sigfd, POLLIN, 0}, {ctl, POLLIN, 0}, {out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    if (poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 2; i < 4; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        log_output(i == 2 ? "stdout" : "stderr", buf, (size_t)got);
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);  // EOF (a terminal's master says EIO once the last slave closed)
        if (i == 2)
          out[0] = -1;
        else
          err[0] = -1;
      }
    }
    if (fds[1].revents & POLLIN) {
      char request[256];
      ssize_t got = read(ctl, request, sizeof request - 1);
      // Lines of "<type> <height> <width>"; type 2 reopens the log (the
      // others, terminal resizes, are not used by podagent).
      request[got > 0 ? got : 0] = '\0';
      for (char *save = NULL, *line = strtok_r(request, "\n", &save); line;
           line = strtok_r(NULL, "\n", &save))
        if (atoi(line) == 2) open_log();
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(sigfd, &info, sizeof info) > 0) {
      }
      int st;
      pid_t pid;
      while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        if (pid == container) {
          status = st;
          ended = 1;
        }
    }
  }

  // What the process wrote before it ended is in the pipes already.
  for (int i = 0; i < 2; ++i) {
    int fd = i == 0 ? out[0] : err[0];
    if (fd < 0) continue;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    ssize_t got;
    while ((got = read(fd, buf, sizeof buf)) > 0)
      log_output(i == 0 ? "stdout" : "stderr", buf, (size_t)got);
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (opt.persist_dir && oom_killed(events_file)) write_file_in(opt.persist_dir, "oom", "");
  char text[16];
  snprintf(text, sizeof text, "%d", code);
  write_file_in(opt.exit_dir, opt.id, text);
  unlink(ctl_path);
  return 0;
}
