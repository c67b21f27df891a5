// podagent soak: the restart-policy soak harness. Creates pods that crash in
// chosen patterns under Always, OnFailure and Never (agent/soak_plan.h),
// watches them for a while, deletes them, and checks every restart against
// the back-off schedule and the agent's resources against their baseline
// (agent/soak_report.h). Exits 0 when every check passed, 1 otherwise.

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "agent/cli/client_common.h"
#include "agent/cli/commands.h"
#include "agent/cli/soak_sampler.h"
#include "agent/soak_observer.h"
#include "agent/soak_plan.h"
#include "agent/soak_report.h"
#include "base/duration.h"
#include "model/document.h"
#include "model/pod_codec.h"

namespace podagent::cli {
namespace {

using Clock = std::chrono::steady_clock;
using agent::SoakTime;

constexpr std::string_view kUsage =
    "Usage: podagent soak [flags]\n\n"
    "Soak-tests restart policies on a running agent: creates pods that crash in chosen\n"
    "patterns (exit codes, crash or exit 0 after a while, OOM, liveness failures, hung\n"
    "on SIGTERM) under Always, OnFailure and Never with a compressed back-off, watches\n"
    "them, deletes them, and checks restart counts and delays, that no crash went\n"
    "unnoticed, and that the agent's memory, fds, threads, mounts, cgroups and child\n"
    "processes did not grow. Prints a report; exits 0 when every check passed.\n\n"
    "  --pods N                 pods to run (default 50)\n"
    "  --duration D             how long to watch them (default 2m)\n"
    "  -n, --namespace NS       their namespace; must hold no soak pods (default soak)\n"
    "  --image REF              the busybox image (default docker.io/library/busybox:latest)\n"
    "  --crashloop-initial D    the pods' first back-off (default 1s)\n"
    "  --crashloop-max D        the pods' longest back-off (default 8s)\n"
    "  --crashloop-reset D      the node's crashLoopBackOff reset (default 10m)\n"
    "  --tolerance D            how much later than the back-off a restart may come (default 1s)\n"
    "  --early D                how much earlier it may seem to come (default 500ms: the\n"
    "                           harness may see a termination later than the agent did)\n"
    "  --judge-start-burst      also judge the delays of restarts after a termination during\n"
    "                           the start burst (until every pod was seen started once)\n"
    "  --rss-growth KIB         allowed RSS growth from warm-up to end (default 16384)\n"
    "  --json FILE              also write the report as JSON\n"
    "  --agent-pid PID          the agent's pid (default: the API socket's peer)\n"
    "  --state-dir DIR          count only the container monitors and cgroups of the agent with\n"
    "                           this state dir (default: every monitor, every id-named cgroup)\n";

struct Flags {
  agent::SoakOptions plan;
  agent::SoakCheckOptions check;
  agent::SoakResourceLimits limits;
  std::string json_file;
  std::string state_dir;
  pid_t agent_pid = 0;
};

std::optional<std::string> read_duration(const ParsedArgs& args, std::string_view flag,
                                         base::Duration& out) {
  if (!args.has(flag)) return std::nullopt;
  auto d = base::parse_duration(args.value(flag));
  if (!d) return std::string(flag) + ": " + d.error().message;
  if (*d <= base::Duration::zero()) return std::string(flag) + " wants a positive duration";
  out = *d;
  return std::nullopt;
}

std::optional<std::string> read_int(const ParsedArgs& args, std::string_view flag, int64_t& out) {
  if (!args.has(flag)) return std::nullopt;
  const std::string text = args.value(flag);
  char* end = nullptr;
  const long long n = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || n < 0)
    return std::string(flag) + " wants a number (0 or more)";
  out = n;
  return std::nullopt;
}

// The flags as options, or what is wrong with them.
base::Result<Flags> read_flags(const ParsedArgs& args) {
  Flags f;
  f.check.duration = std::chrono::minutes(2);
  int64_t pods = f.plan.pods, rss = f.limits.rss_growth_kib, pid = 0;
  for (auto problem :
       {read_int(args, "--pods", pods), read_int(args, "--rss-growth", rss),
        read_int(args, "--agent-pid", pid), read_duration(args, "--duration", f.check.duration),
        read_duration(args, "--crashloop-initial", f.plan.crashloop_initial),
        read_duration(args, "--crashloop-max", f.plan.crashloop_max),
        read_duration(args, "--crashloop-reset", f.check.reset),
        read_duration(args, "--tolerance", f.check.tolerance),
        read_duration(args, "--early", f.check.early)}) {
    if (problem) return base::Error(*problem);
  }
  if (pods < 1 || pods > 10000) return base::Error("--pods wants 1 to 10000");
  f.plan.pods = static_cast<int>(pods);
  f.limits.rss_growth_kib = rss;
  f.agent_pid = static_cast<pid_t>(pid);
  f.plan.namespace_ = args.value("--namespace", f.plan.namespace_);
  f.plan.image = args.value("--image", f.plan.image);
  f.json_file = args.value("--json");
  // A monitor's command line names the state dir by its absolute path.
  if (args.has("--state-dir"))
    f.state_dir = std::filesystem::absolute(args.value("--state-dir")).string();
  f.check.judge_start_burst = args.has("--judge-start-burst");
  f.check.plan = f.plan;
  return f;
}

// Watches the soak pods on its own thread and feeds every version to an
// observer, with the time it arrived, until the observation ends. Each
// watch asks for a short timeout, so that stop() returns within seconds.
class SoakWatcher {
 public:
  SoakWatcher(const agent::ApiClient& client, std::string ns)
      : client_(client), ns_(std::move(ns)) {}
  ~SoakWatcher() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  // From now on versions are no longer observed (the harness kills the pods).
  void end_observation() {
    std::lock_guard lock(mu_);
    observing_ = false;
  }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // REQUIRES: stopped.
  const agent::SoakObserver& observer() const { return observer_; }
  std::string error() const {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  std::string selector() const {
    return "labelSelector=" + agent::url_escape(std::string(agent::kSoakLabel) + "=true");
  }

  void run() {
    std::string rv;
    while (!stopping_) {
      if (rv.empty() && !list(rv)) return;
      std::string buffer;
      bool gone = false;
      auto r = client_.send_streaming(
          agent::client_request("GET", pods_path(ns_) +
                                           "?watch=true&timeoutSeconds=2&resourceVersion=" + rv +
                                           "&" + selector()),
          [&](std::string_view piece) {
            buffer.append(piece);
            for (size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1))
              gone |= !on_line(std::string_view(buffer).substr(0, nl), rv);
          });
      if (!r || r->status != 200)
        return fail(r ? "watch: HTTP " + std::to_string(r->status) : "watch: " + r.error().message);
      if (gone) rv.clear();  // 410: list again
    }
  }

  bool list(std::string& rv) {
    auto r = client_.send(agent::client_request("GET", pods_path(ns_) + "?" + selector()));
    if (!r || r->status != 200) {
      fail(r ? "list: HTTP " + std::to_string(r->status) : "list: " + r.error().message);
      return false;
    }
    auto docs = model::parse_documents(r->body);
    const model::Node* meta = docs && !docs->empty() ? docs->front().find("metadata") : nullptr;
    const model::Node* version = meta ? meta->find("resourceVersion") : nullptr;
    rv = version ? version->text : "0";
    if (auto pods = decode_api_pods(r->body)) {
      for (const model::Pod& p : *pods) feed(p, Clock::now(), std::chrono::system_clock::now());
    }
    return true;
  }

  // One watch event; false when it says the version is too old (410).
  bool on_line(std::string_view line, std::string& rv) {
    const SoakTime at = Clock::now();
    const model::WallTime wall_at = std::chrono::system_clock::now();
    auto docs = model::parse_documents(line);
    if (!docs || docs->size() != 1) return true;
    const model::Node* type = docs->front().find("type");
    const model::Node* object = docs->front().find("object");
    if (!type || !object) return true;
    if (type->text == "ERROR") return false;
    model::DecodeResult decoded;
    model::decode_pod_document(*object, "", decoded);
    if (decoded.pods.size() != 1) return true;
    const model::Pod& pod = decoded.pods.front().pod;
    if (!pod.metadata.resource_version.empty()) rv = pod.metadata.resource_version;
    if (type->text != "DELETED") feed(pod, at, wall_at);
    return true;
  }

  void feed(const model::Pod& pod, SoakTime at, model::WallTime wall_at) {
    std::lock_guard lock(mu_);
    if (observing_) observer_.observe(pod, at, wall_at);
  }
  void fail(std::string message) {
    std::lock_guard lock(mu_);
    error_ = std::move(message);
  }

  const agent::ApiClient& client_;
  const std::string ns_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  bool observing_ = true;         // guarded by mu_
  std::string error_;             // guarded by mu_
  agent::SoakObserver observer_;  // written under mu_ while running; read once stopped
};

// Sleeps until `until`, noting the runtime's ids every second on the way.
void wait_collecting(AgentSampler& sampler, Clock::time_point until) {
  for (auto now = Clock::now(); now < until; now = Clock::now()) {
    sampler.collect_ids();
    std::this_thread::sleep_until(std::min(until, now + std::chrono::seconds(1)));
  }
}

// Polls `done` every 100 ms until it holds or `limit` passes.
bool poll_until(const std::function<bool()>& done, Clock::duration limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// The soak pods still listed in the namespace; nullopt on an API error.
std::optional<size_t> soak_pods_left(const agent::ApiClient& client, const std::string& ns) {
  auto r = client.send(agent::client_request(
      "GET", pods_path(ns) +
                 "?labelSelector=" + agent::url_escape(std::string(agent::kSoakLabel) + "=true")));
  if (!r || r->status != 200) return std::nullopt;
  auto pods = decode_api_pods(r->body);
  if (!pods) return std::nullopt;
  return pods->size();
}

int create_pods(const agent::ApiClient& client, const std::vector<agent::SoakPod>& plan,
                const std::string& ns) {
  for (const agent::SoakPod& p : plan) {
    auto r = call(client, agent::client_request("POST", pods_path(ns), p.manifest));
    if (!r) return kExitFailure;
    if (r->status != 201 && r->status != 200) return report_api_error(*r);
  }
  return kExitOk;
}

void delete_pods(const agent::ApiClient& client, const std::vector<agent::SoakPod>& plan,
                 const std::string& ns) {
  for (const agent::SoakPod& p : plan) {
    auto r = call(client, agent::client_request("DELETE", pods_path(ns, p.name)));
    if (r && r->status != 200 && r->status != 202 && r->status != 404) report_api_error(*r);
  }
}

// Samples the agent; a failed sample is reported and left out.
std::optional<agent::SoakResources> sample(AgentSampler& sampler,
                                           std::vector<std::string>& problems) {
  auto s = sampler.sample();
  if (!s) {
    problems.push_back(s.error().message);
    return std::nullopt;
  }
  return *s;
}

// The "after" sample once the leftovers have had time to go (runc and the monitors
// finish their cleanup a little after a pod leaves the API): the first
// sample that is back at the baseline, else the last one after 30 s.
std::optional<agent::SoakResources> settled_sample(const Flags& f, AgentSampler& sampler,
                                                   const agent::SoakResourceSamples& s,
                                                   std::vector<std::string>& problems) {
  std::optional<agent::SoakResources> last;
  poll_until(
      [&] {
        last = sample(sampler, problems);
        if (!last || !s.baseline) return true;
        const auto& b = *s.baseline;
        return last->mounts <= b.mounts && last->cgroups <= b.cgroups &&
               last->children <= b.children && last->fds <= b.fds + f.limits.fd_slack &&
               last->threads <= b.threads + f.limits.thread_slack;
      },
      std::chrono::seconds(30));
  return last;
}

// One soak run, from the baseline to the report.
struct SoakRun {
  SoakRun(const agent::ApiClient& c, Flags& flags)
      : client(c), f(flags), sampler(f.agent_pid, f.state_dir), watcher(c, f.plan.namespace_) {}

  // Creates the pods and watches them for the duration.
  void observe() {
    samples.baseline = sample(sampler, problems);
    plan = agent::plan_soak_pods(f.plan);
    watcher.start();
    std::fprintf(stderr, "podagent soak: creating %zu pods in %s\n", plan.size(), ns().c_str());
    if (create_pods(client, plan, ns()) != kExitOk)
      problems.push_back("could not create every pod");
    const auto begin = Clock::now();
    std::fprintf(stderr, "podagent soak: watching for %s\n",
                 base::format_duration(f.check.duration).c_str());
    wait_collecting(sampler, begin + f.check.duration / 4);  // the warm-up
    samples.warm = sample(sampler, problems);
    wait_collecting(sampler, begin + f.check.duration);
    watcher.end_observation();
    f.check.observe_end = Clock::now();
    samples.end = sample(sampler, problems);
  }

  // Deletes the pods and waits until they and what they held are gone.
  void remove() {
    std::fprintf(stderr, "podagent soak: deleting the pods\n");
    delete_pods(client, plan, ns());
    const auto limit = std::chrono::seconds(f.plan.grace_seconds) + std::chrono::seconds(120);
    if (!poll_until(
            [&] {
              sampler.collect_ids();
              return soak_pods_left(client, ns()) == size_t{0};
            },
            limit))
      problems.push_back("the pods were not gone 2 minutes after their deletion");
    watcher.stop();
    if (!watcher.error().empty()) problems.push_back("the watch failed: " + watcher.error());
    samples.after = settled_sample(f, sampler, samples, problems);
  }

  // Prints the report (and writes its JSON); the exit status.
  int report(Clock::time_point start) {
    agent::SoakReport r = agent::check_soak(plan, watcher.observer(), f.check, samples, f.limits);
    r.problems.insert(r.problems.end(), problems.begin(), problems.end());
    std::fputs(agent::format_soak_report(r).c_str(), stdout);
    const auto took = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start);
    std::printf("wall time %s\n", base::format_duration(took).c_str());
    if (!f.json_file.empty()) {
      std::ofstream out(f.json_file, std::ios::trunc);
      out << agent::soak_report_json(r);
      if (!out.flush()) {
        std::fprintf(stderr, "podagent soak: cannot write %s\n", f.json_file.c_str());
        return kExitFailure;
      }
    }
    return r.passed() ? kExitOk : kExitFailure;
  }

  const std::string& ns() const { return f.plan.namespace_; }

  const agent::ApiClient& client;
  Flags& f;
  AgentSampler sampler;
  SoakWatcher watcher;
  std::vector<agent::SoakPod> plan;
  agent::SoakResourceSamples samples;
  std::vector<std::string> problems;  // of the run as a whole
};

int run_soak(const agent::ApiClient& client, Flags& f) {
  const std::string& ns = f.plan.namespace_;
  auto left = soak_pods_left(client, ns);
  if (!left) {
    std::fprintf(stderr, "podagent soak: cannot list the pods of %s\n", ns.c_str());
    return kExitFailure;
  }
  if (*left) {
    std::fprintf(stderr, "podagent soak: namespace %s already holds %zu soak pods\n", ns.c_str(),
                 *left);
    return kExitFailure;
  }
  const auto start = Clock::now();
  SoakRun run(client, f);
  run.observe();
  run.remove();
  return run.report(start);
}

}  // namespace

int soak_command(std::span<char* const> args) {
  const auto specs = client_flags({{"--pods", "", true},
                                   {"--duration", "", true},
                                   {"--namespace", "-n", true},
                                   {"--image", "", true},
                                   {"--crashloop-initial", "", true},
                                   {"--crashloop-max", "", true},
                                   {"--crashloop-reset", "", true},
                                   {"--tolerance", "", true},
                                   {"--early", "", true},
                                   {"--judge-start-burst", "", false},
                                   {"--rss-growth", "", true},
                                   {"--json", "", true},
                                   {"--agent-pid", "", true},
                                   {"--state-dir", "", true}});
  auto parsed = parse_flags(args, specs);
  if (!parsed) return usage_error("soak", parsed.error().to_string(), kUsage);
  if (parsed->has("--help")) {
    std::fprintf(stdout, "%s\n%s", kUsage.data(), kClientFlagsHelp.data());
    return kExitOk;
  }
  if (!parsed->positional.empty()) return usage_error("soak", "takes no arguments", kUsage);
  auto flags = read_flags(*parsed);
  if (!flags) return usage_error("soak", flags.error().message, kUsage);
  auto client = make_client(*parsed);
  if (!client) return kExitFailure;
  if (!flags->agent_pid) {
    auto pid = socket_peer_pid(client->socket_path());
    if (!pid) {
      std::fprintf(stderr, "podagent soak: %s\n", pid.error().message.c_str());
      return kExitFailure;
    }
    flags->agent_pid = *pid;
  }
  return run_soak(*client, *flags);
}

}  // namespace podagent::cli
