// Pod start latency and per-pod memory with the real oci backend, against
// `podman kube play`. Driven by bench/oci_start_bench.sh, which builds and
// starts `podagent run` (runc + podagent-monitor) with a temporary configuration,
// imports the busybox image into the agent and into a private podman
// storage, then runs this program twice:
//
//   agent_oci_start_bench start   --socket S --manifests D --staging T --node N
//                                 --runs R [--podman-root P --podman-runroot Q]
//   agent_oci_start_bench density --socket S --manifests D --staging T --node N
//                                 --pods K --agent-pid PID --state-dir S
//                                 [--podman-root P --podman-runroot Q]
//
// The pod: 1 init container (`true`) and 2 app containers (a shell that
// exits on SIGTERM) of the busybox image, as in issue 5.
//
// start: R rounds; in each, the agent's pod then podman's.
//   agent:  the time from just before rename(2) of the manifest into the
//           manifest directory until a watch on the agent's API (one long
//           watch, read on its own thread; each event timestamped when its
//           bytes arrive) shows the init container terminated and both app
//           containers running. Then the manifest is removed and the round
//           waits for the pod's DELETED event.
//   podman: the time from just before spawning `podman kube play --network
//           none FILE` until it returned with both app containers running
//           (checked after it returns with `podman inspect`, untimed; if
//           they were not running yet, polled and the later time taken).
//           Then `podman pod rm -f`.
// density: K pods of each kind at once; the PSS (/proc/<pid>/smaps_rollup)
//   of the agent plus every monitor and pause process of its pods, against
//   the PSS of every conmon and infra (catatonit) process of podman's pods.
//
// This program makes itself a child subreaper and reaps every orphan: on
// this machine PID 1 reaps nothing, conmon daemonises, and podman waits for
// the init container's conmon to be gone (kill(pid, 0)), which a zombie
// never is (20 s each). Under a reaping init podman does not wait.
// Prints figures; asserts nothing. Without arguments it prints how to run it.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/api_client.h"

extern char** environ;

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Args {
  std::string mode, socket, manifests, staging, node = "bench", podman_root, podman_runroot,
      state_dir, runtime = "runc";
  int runs = 30, pods = 100, agent_pid = 0, podman_full_runs = 1 << 30;
};

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least p of the values at or below it.
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---- children: spawned, and every orphan reaped -----------------------------

std::mutex reap_mu;
std::condition_variable reap_cv;
std::map<pid_t, int> reaped;  // our own children's statuses, until collected
std::set<pid_t> ours;

void reaper() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (;;) {
    int sig = 0;
    sigwait(&set, &sig);
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      std::lock_guard lock(reap_mu);
      if (ours.count(pid)) {
        reaped[pid] = status;
        reap_cv.notify_all();
      }
    }
  }
}

// Spawns argv (stdout to `out_file`, or /dev/null), returns its pid.
pid_t spawn(const std::vector<std::string>& argv, const std::string& out_file = "/dev/null",
            const std::string& err_file = "/dev/null") {
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  std::unique_lock lock(reap_mu);  // registered before the reaper can see it
  if (posix_spawnp(&pid, a[0], &fa, &attr, a.data(), environ) != 0) pid = -1;
  if (pid > 0) ours.insert(pid);
  lock.unlock();
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return pid;
}

int wait_child(pid_t pid) {
  std::unique_lock lock(reap_mu);
  reap_cv.wait(lock, [&] { return reaped.count(pid) > 0; });
  int status = reaped[pid];
  reaped.erase(pid);
  ours.erase(pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs argv to its end; its exit code, stdout in `out`.
int run(const std::vector<std::string>& argv, const Args& args, std::string* out = nullptr) {
  const std::string out_file = args.staging + "/cmd.out";
  pid_t pid = spawn(argv, out ? out_file : "/dev/null", args.staging + "/commands.err");
  if (pid < 0) return 127;
  int code = wait_child(pid);
  if (out) *out = read_file(out_file);
  return code;
}

// ---- the agent's pods, as its watch shows them ------------------------------

struct PodSeen {
  std::optional<Clock::time_point> all_running;  // first event with every container running
  bool deleted = false;
};

std::mutex watch_mu;
std::condition_variable watch_cv;
std::map<std::string, PodSeen> pods_seen;

const json::value* at(const json::value& v, std::initializer_list<const char*> path) {
  const json::value* cur = &v;
  for (const char* key : path) {
    const json::object* o = cur->if_object();
    if (!o) return nullptr;
    cur = o->if_contains(key);
    if (!cur) return nullptr;
  }
  return cur;
}

size_t array_size(const json::value* v) {
  return v && v->is_array() ? v->as_array().size() : 0;
}

// Every init container terminated with 0 and every app container running.
bool all_running(const json::value& pod) {
  const size_t inits = array_size(at(pod, {"spec", "initContainers"}));
  const size_t apps = array_size(at(pod, {"spec", "containers"}));
  size_t done = 0, running = 0;
  if (const json::value* s = at(pod, {"status", "initContainerStatuses"}); s && s->is_array())
    for (const auto& c : s->as_array())
      if (const json::value* code = at(c, {"state", "terminated", "exitCode"});
          code && code->is_int64() && code->as_int64() == 0)
        ++done;
  if (const json::value* s = at(pod, {"status", "containerStatuses"}); s && s->is_array())
    for (const auto& c : s->as_array())
      if (at(c, {"state", "running"})) ++running;
  return apps > 0 && done == inits && running == apps;
}

// One event line; returns its resourceVersion.
std::string on_event(std::string_view line, Clock::time_point arrived) {
  std::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec) return {};
  const json::value* type = at(v, {"type"});
  const json::value* obj = at(v, {"object"});
  const json::value* name = obj ? at(*obj, {"metadata", "name"}) : nullptr;
  if (!type || !type->is_string() || !name || !name->is_string()) return {};
  std::string rv;
  if (const json::value* r = at(*obj, {"metadata", "resourceVersion"}); r && r->is_string())
    rv = std::string(r->as_string());
  std::lock_guard lock(watch_mu);
  PodSeen& p = pods_seen[std::string(name->as_string())];
  if (type->as_string() == "DELETED") {
    p.deleted = true;
  } else if (!p.all_running && all_running(*obj)) {
    p.all_running = arrived;
  }
  watch_cv.notify_all();
  return rv;
}

void watch_loop(std::string socket) {
  podagent::agent::ApiClient client({socket});
  std::string rv, buffer;
  for (;;) {
    std::string target = "/api/v1/pods?watch=1&timeoutSeconds=600";
    if (!rv.empty()) target += "&resourceVersion=" + rv;
    buffer.clear();
    auto r = client.send_streaming(podagent::agent::client_request("GET", target),
                                   [&](std::string_view piece) {
                                     const auto arrived = Clock::now();
                                     buffer.append(piece);
                                     size_t nl;
                                     while ((nl = buffer.find('\n')) != std::string::npos) {
                                       std::string got = on_event(buffer.substr(0, nl), arrived);
                                       if (!got.empty()) rv = got;
                                       buffer.erase(0, nl + 1);
                                     }
                                   });
    if (!r) {
      fmt::print(stderr, "watch: {}\n", r.error().message);
      std::this_thread::sleep_for(100ms);
    } else if (r->body.find("\"ERROR\"") != std::string::npos) {
      rv.clear();  // 410 Gone: start over
    }
  }
}

template <class Pred>
bool wait_seen(Pred pred, std::chrono::seconds limit) {
  std::unique_lock lock(watch_mu);
  return watch_cv.wait_for(lock, limit, pred);
}

// ---- the pod -----------------------------------------------------------------

std::string pod_yaml(const std::string& name, bool with_init = true) {
  const char* image = "docker.io/library/busybox:latest";
  std::string app = "    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; sleep 3600 & wait\"]\n";
  std::string init = fmt::format(
      "  initContainers:\n  - name: init\n    image: {}\n    imagePullPolicy: Never\n"
      "    command: [\"sh\", \"-c\", \"true\"]\n",
      image);
  return fmt::format(
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {0}\n"
      "spec:\n  terminationGracePeriodSeconds: 5\n{3}"
      "  containers:\n  - name: app1\n    image: {1}\n    imagePullPolicy: Never\n{2}"
      "  - name: app2\n    image: {1}\n    imagePullPolicy: Never\n{2}",
      name, image, app, with_init ? init : "");
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

std::string static_name(const Args& a, const std::string& name) { return name + "-" + a.node; }

// A slow or failed round: what the agent said of the pod (its events), to
// tell a backoff from a slow runtime.
void print_events(const Args& a, const std::string& pod) {
  podagent::agent::ApiClient client({a.socket});
  auto r = client.send(podagent::agent::client_request(
      "GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=" + pod));
  if (!r) return;
  std::error_code ec;
  json::value v = json::parse(r->body, ec);
  const json::value* items = ec ? nullptr : at(v, {"items"});
  if (items == nullptr || !items->is_array()) return;
  for (const json::value& e : items->as_array()) {
    const json::value* reason = at(e, {"reason"});
    const json::value* message = at(e, {"message"});
    fmt::print(stderr, "  {} event {}: {}\n", pod,
               reason && reason->is_string() ? std::string(reason->as_string()) : "?",
               message && message->is_string() ? std::string(message->as_string()) : "");
  }
}

// One agent round; nullopt when the pod did not run within the limit.
std::optional<double> agent_round(const Args& a, int i) {
  const std::string name = fmt::format("sb{}", i);
  const fs::path staged = fs::path(a.staging) / (name + ".yaml");
  const fs::path placed = fs::path(a.manifests) / (name + ".yaml");
  write(staged, pod_yaml(name));
  const std::string full = static_name(a, name);
  const auto t0 = Clock::now();
  if (::rename(staged.c_str(), placed.c_str()) != 0) return std::nullopt;
  bool ok = wait_seen([&] { return pods_seen[full].all_running.has_value(); }, 60s);
  std::optional<double> out;
  if (ok) {
    std::lock_guard lock(watch_mu);
    out = ms_between(t0, *pods_seen[full].all_running);
  }
  if (!out || *out > 1000) print_events(a, full);
  fs::remove(placed);
  if (!wait_seen([&] { return pods_seen[full].deleted; }, 120s))
    fmt::print(stderr, "agent: {} not deleted within 120 s\n", full);
  return out;
}

std::vector<std::string> podman(const Args& a, std::vector<std::string> rest) {
  std::vector<std::string> argv{"podman", "--root", a.podman_root, "--runroot", a.podman_runroot};
  argv.insert(argv.end(), rest.begin(), rest.end());
  return argv;
}

bool podman_apps_running(const Args& a, const std::string& name) {
  std::string out;
  run(podman(a, {"inspect", "--format", "{{.State.Status}}", name + "-app1", name + "-app2"}), a,
      &out);
  return out == "running\nrunning\n";
}

// One podman round; `polled` is set when the apps were not running yet
// when `kube play` returned.
std::optional<double> podman_round(const Args& a, int i, bool with_init, bool& polled) {
  const std::string name = fmt::format("{}{}", with_init ? "pm" : "pn", i);
  const fs::path file = fs::path(a.staging) / (name + ".yaml");
  write(file, pod_yaml(name, with_init));
  const auto argv = podman(a, {"kube", "play", "--network", "none", file.string()});
  const auto t0 = Clock::now();
  pid_t pid = spawn(argv, "/dev/null", a.staging + "/commands.err");
  int code = wait_child(pid);
  auto t1 = Clock::now();
  std::optional<double> out;
  polled = false;
  if (code == 0) {
    for (int tries = 0; tries < 2000; ++tries) {
      if (podman_apps_running(a, name)) {
        out = ms_between(t0, t1);
        break;
      }
      polled = true;
      t1 = Clock::now();
    }
  } else {
    std::string err = read_file(a.staging + "/commands.err");
    fmt::print(stderr, "podman kube play exited {}: {}\n", code,
               err.substr(err.size() > 400 ? err.size() - 400 : 0));
  }
  run(podman(a, {"pod", "rm", "-f", name}), a);
  fs::remove(file);
  return out;
}

void print_row(const std::string& what, const std::vector<double>& ms) {
  if (ms.empty()) {
    fmt::print("{:<28} no round completed\n", what);
    return;
  }
  fmt::print("{:<28} median {:7.1f} ms  p90 {:7.1f} ms  p99 {:7.1f} ms  min {:7.1f}  max {:7.1f}  (n={})\n",
             what, median(ms), percentile(ms, 0.9), percentile(ms, 0.99),
             *std::min_element(ms.begin(), ms.end()), *std::max_element(ms.begin(), ms.end()),
             ms.size());
}

std::string loadavg() {
  std::string s = read_file("/proc/loadavg");
  return s.substr(0, s.find(' ', s.find(' ', s.find(' ') + 1) + 1));
}

int start_mode(const Args& a) {
  const bool with_podman = !a.podman_root.empty();
  std::vector<double> agent_ms, podman_ms, noinit_ms;
  int agent_failed = 0, podman_failed = 0, podman_polled = 0, noinit_failed = 0;
  fmt::print("load average before: {}\n", loadavg());
  for (int i = 0; i < a.runs; ++i) {
    auto ag = agent_round(a, i);
    if (ag) agent_ms.push_back(*ag); else ++agent_failed;
    std::string line = ag ? fmt::format("round {:3}: agent {:7.1f} ms", i, *ag)
                          : fmt::format("round {:3}: agent  failed   ", i);
    if (with_podman) {
      bool polled = false;
      auto pn = podman_round(a, i, false, polled);
      if (pn) noinit_ms.push_back(*pn); else ++noinit_failed;
      podman_polled += polled;
      line += pn ? fmt::format("   podman, no init {:7.1f} ms{}", *pn, polled ? " (polled)" : "")
                 : "   podman, no init failed";
    }
    if (with_podman && i < a.podman_full_runs) {
      bool polled = false;
      auto pm = podman_round(a, i, true, polled);
      if (pm) podman_ms.push_back(*pm); else ++podman_failed;
      podman_polled += polled;
      line += pm ? fmt::format("   podman {:7.1f} ms{}", *pm, polled ? " (polled)" : "")
                 : "   podman failed";
    }
    fmt::print("{}\n", line);
    std::fflush(stdout);
  }
  fmt::print("load average after: {}\n", loadavg());
  fmt::print("== manifest moved in -> all containers running (1 init + 2 app containers)\n");
  print_row(fmt::format("podagent (oci, {}+monitor)", a.runtime), agent_ms);
  if (agent_failed) fmt::print("  podagent rounds failed: {}\n", agent_failed);
  if (with_podman) {
    if (a.podman_full_runs > 0) print_row("podman kube play (runc)", podman_ms);
    print_row("podman, pod without the init", noinit_ms);
    if (noinit_failed) fmt::print("  podman rounds without init failed: {}\n", noinit_failed);
    if (podman_failed) fmt::print("  podman rounds failed: {}\n", podman_failed);
    if (podman_polled) fmt::print("  podman rounds still starting at return: {}\n", podman_polled);
    if (!agent_ms.empty() && !podman_ms.empty())
      fmt::print("ratio podman / podagent: median {:.1f}x, p99 {:.1f}x\n",
                 median(podman_ms) / median(agent_ms),
                 percentile(podman_ms, 0.99) / percentile(agent_ms, 0.99));
    if (!agent_ms.empty() && !noinit_ms.empty())
      fmt::print("ratio podman without the init / podagent with it: median {:.1f}x, p99 {:.1f}x\n",
                 median(noinit_ms) / median(agent_ms),
                 percentile(noinit_ms, 0.99) / percentile(agent_ms, 0.99));
  }
  fmt::print("targets: median < 100 ms, p99 < 200 ms, >= 5x faster than podman\n");
  return 0;
}

// ---- memory --------------------------------------------------------------------

struct Proc {
  pid_t pid, ppid;
  std::string comm, cmdline;
};

std::vector<Proc> processes() {
  std::vector<Proc> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string n = e.path().filename();
    if (n.find_first_not_of("0123456789") != std::string::npos) continue;
    Proc p{std::stoi(n), 0, {}, {}};
    std::string stat = read_file(e.path() / "stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    p.comm = stat.substr(stat.find('(') + 1, close - stat.find('(') - 1);
    std::istringstream rest(stat.substr(close + 2));
    std::string state;
    rest >> state >> p.ppid;
    if (state == "Z") continue;
    p.cmdline = read_file(e.path() / "cmdline");
    std::replace(p.cmdline.begin(), p.cmdline.end(), '\0', ' ');
    out.push_back(std::move(p));
  }
  return out;
}

long pss_kib(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/smaps_rollup", pid));
  std::string key;
  long v = 0;
  while (in >> key) {
    if (key == "Pss:") {
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

struct Memory {
  int monitors = 0, infra = 0;
  long monitors_kib = 0, infra_kib = 0;
};

// Container monitors (podagent-monitor, conmon) whose command line holds
// `marker`, and their children named `infra`.
Memory memory_of(const std::string& marker, const std::string& infra) {
  Memory m;
  auto all = processes();
  std::set<pid_t> monitors;
  for (const auto& p : all)
    // The kernel keeps 15 bytes of a program's name.
    if ((p.comm == "podagent-monito" || p.comm == "conmon") &&
        p.cmdline.find(marker) != std::string::npos) {
      monitors.insert(p.pid);
      ++m.monitors;
      m.monitors_kib += pss_kib(p.pid);
    }
  for (const auto& p : all)
    if (p.comm == infra && monitors.count(p.ppid)) {
      ++m.infra;
      m.infra_kib += pss_kib(p.pid);
    }
  return m;
}

int density_mode(const Args& a) {
  fmt::print("load average before: {}\n", loadavg());
  const long agent_idle = pss_kib(a.agent_pid);
  std::vector<std::string> names;
  for (int i = 0; i < a.pods; ++i) {
    names.push_back(fmt::format("dn{}", i));
    write(fs::path(a.staging) / (names.back() + ".yaml"), pod_yaml(names.back()));
  }
  const auto t0 = Clock::now();
  for (const auto& n : names)
    fs::rename(fs::path(a.staging) / (n + ".yaml"), fs::path(a.manifests) / (n + ".yaml"));
  bool ok = wait_seen(
      [&] {
        for (const auto& n : names)
          if (!pods_seen[static_name(a, n)].all_running) return false;
        return true;
      },
      600s);
  const double all_ms = ms_between(t0, Clock::now());
  std::this_thread::sleep_for(2s);  // let the agent settle (first resync, freed buffers)
  const long agent_kib = pss_kib(a.agent_pid);
  Memory m = memory_of(a.state_dir, "pause");
  fmt::print("== {} agent pods {} in {:.0f} ms\n", a.pods, ok ? "all running" : "NOT all running",
             all_ms);
  fmt::print("agent PSS: idle {} KiB, with the pods {} KiB\n", agent_idle, agent_kib);
  fmt::print("monitors: {} processes, {} KiB PSS; pause: {} processes, {} KiB PSS\n", m.monitors,
             m.monitors_kib, m.infra, m.infra_kib);
  const long agent_total = agent_kib + m.monitors_kib + m.infra_kib;
  fmt::print("podagent total {} KiB = {:.1f} MiB; per pod {:.0f} KiB (agent growth counted: {:.0f} KiB)\n",
             agent_total, agent_total / 1024.0, double(agent_total) / a.pods,
             double(agent_total - agent_idle) / a.pods);
  std::fflush(stdout);
  for (const auto& n : names) fs::remove(fs::path(a.manifests) / (n + ".yaml"));
  if (!wait_seen(
          [&] {
            for (const auto& n : names)
              if (!pods_seen[static_name(a, n)].deleted) return false;
            return true;
          },
          600s))
    fmt::print(stderr, "agent: not every pod deleted within 600 s\n");

  if (a.podman_root.empty()) return 0;
  int failed = 0;
  const auto p0 = Clock::now();
  for (int i = 0; i < a.pods; ++i) {
    // Without the init container (podman 4.3 stalls 20 s on it here, see
    // the README); once the init container has exited, the processes left
    // are the same: infra, 2 apps, their conmons.
    const std::string name = fmt::format("pd{}", i);
    const fs::path file = fs::path(a.staging) / (name + ".yaml");
    write(file, pod_yaml(name, false));
    if (run(podman(a, {"kube", "play", "--network", "none", file.string()}), a) != 0) ++failed;
  }
  const double podman_all_ms = ms_between(p0, Clock::now());
  std::this_thread::sleep_for(2s);
  Memory pm = memory_of(a.podman_root, "catatonit");
  fmt::print("== {} podman pods played in {:.0f} ms ({} failed)\n", a.pods, podman_all_ms, failed);
  fmt::print("conmon: {} processes, {} KiB PSS; infra (catatonit): {} processes, {} KiB PSS\n",
             pm.monitors, pm.monitors_kib, pm.infra, pm.infra_kib);
  const long podman_total = pm.monitors_kib + pm.infra_kib;
  fmt::print("podman total {} KiB = {:.1f} MiB; per pod {:.0f} KiB\n", podman_total,
             podman_total / 1024.0, double(podman_total) / a.pods);
  if (agent_total > 0)
    fmt::print("ratio podman / podagent (total, agent included): {:.2f}x\n",
               double(podman_total) / agent_total);
  fmt::print("load average after: {}\n", loadavg());
  run(podman(a, {"pod", "rm", "-f", "-a"}), a);
  return 0;
}

bool parse(int argc, char** argv, Args& a) {
  if (argc < 2) return false;
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--socket") a.socket = v;
    else if (k == "--manifests") a.manifests = v;
    else if (k == "--staging") a.staging = v;
    else if (k == "--node") a.node = v;
    else if (k == "--runs") a.runs = std::stoi(v);
    else if (k == "--pods") a.pods = std::stoi(v);
    else if (k == "--podman-full-runs") a.podman_full_runs = std::stoi(v);
    else if (k == "--agent-pid") a.agent_pid = std::stoi(v);
    else if (k == "--state-dir") a.state_dir = v;
    else if (k == "--runtime") a.runtime = v;
    else if (k == "--podman-root") a.podman_root = v;
    else if (k == "--podman-runroot") a.podman_runroot = v;
    else return false;
  }
  return (a.mode == "start" || a.mode == "density") && !a.socket.empty() &&
         !a.manifests.empty() && !a.staging.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, a)) {
    fmt::print("agent_oci_start_bench: needs root, runc, conmon and podman; run it through "
               "bench/oci_start_bench.sh\n");
    return 0;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // the reaper thread takes SIGCHLD
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  std::thread(reaper).detach();
  std::thread(watch_loop, a.socket).detach();
  int rc = a.mode == "start" ? start_mode(a) : density_mode(a);
  std::fflush(stdout);
  std::_Exit(rc);  // the watch and reaper threads are blocked in reads
}
