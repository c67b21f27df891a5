#include "agent/soak_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "base/backoff.h"
#include "base/duration.h"
#include "model/document.h"
#include "model/node.h"

namespace podagent::agent {

using model::Node;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

base::Backoff::Options backoff_options(const SoakCheckOptions& o) {
  return {o.plan.crashloop_initial, o.plan.crashloop_max, o.reset};
}

// "+1.234s" / "-0.250s".
std::string signed_seconds(SoakDuration d) {
  return fmt::format("{:+.3f}s", duration_cast<milliseconds>(d).count() / 1000.0);
}

// Runs `pattern` over `window` with every run lasting `run`, every delay
// shifted by `extra`; the restarts that begin inside the window.
int simulate(SoakPattern pattern, const std::string& policy, SoakDuration window, SoakDuration run,
             SoakDuration extra, const SoakCheckOptions& o) {
  base::Backoff backoff(backoff_options(o));
  const int32_t code = expected_exit_code(pattern, o.plan);
  SoakTime t{};
  int restarts = 0;
  for (;;) {
    t += run;
    if (t - SoakTime{} > window || !soak_should_restart(policy, code)) return restarts;
    const SoakDuration delay = backoff.record_failure("c", t) + extra;
    t += std::max(delay, SoakDuration::zero());
    if (t - SoakTime{} > window) return restarts;
    ++restarts;
  }
}

// When the container was first seen started or ended.
std::optional<SoakTime> first_event(const SoakContainerHistory& h) {
  std::optional<SoakTime> first;
  if (!h.starts.empty()) first = h.starts.front().seen_at;
  if (!h.terminations.empty())
    first = std::min(first.value_or(SoakTime::max()), h.terminations.front().seen_at);
  return first;
}

struct PodChecker {
  const SoakContainerHistory& h;
  const SoakCheckOptions& o;
  std::optional<SoakTime> settled;  // the end of the start burst, when judged apart
  SoakPodVerdict& v;
  std::vector<SoakDuration>& errors;

  void problem(std::string text) { v.problems.push_back(std::move(text)); }

  void check_delays() {
    base::Backoff backoff(backoff_options(o));
    for (const SoakRestart& r : h.restarts()) {
      if (!r.previous) continue;  // a gap, reported by check_instances
      if (!soak_should_restart(v.restart_policy, r.previous->exit_code)) {
        problem(fmt::format("run {} was started after an exit {} under {}", r.instance,
                            r.previous->exit_code, v.restart_policy));
        continue;
      }
      const SoakDuration expected = backoff.record_failure("c", r.previous->seen_at);
      if (!r.delay) continue;  // both seen in one version of the pod: nothing to measure
      const SoakDuration error = *r.delay - expected;
      if (settled && r.previous->seen_at < *settled) {
        ++v.delays_in_burst;
        v.delays.push_back(
            {r.instance, *r.delay, expected, error >= -o.early && error <= o.tolerance, true});
        continue;
      }
      ++v.delays_checked;
      errors.push_back(error);
      if (!v.worst_error || std::chrono::abs(error) > std::chrono::abs(*v.worst_error))
        v.worst_error = error;
      const bool ok = error >= -o.early && error <= o.tolerance;
      v.delays.push_back({r.instance, *r.delay, expected, ok});
      if (!ok) {
        problem(fmt::format("restart {} came {} after its termination; the back-off says {} ({})",
                            r.instance,
                            base::format_duration(duration_cast<milliseconds>(*r.delay)),
                            base::format_duration(expected), signed_seconds(error)));
      } else {
        ++v.delays_passed;
      }
    }
    const SoakTermination* pending = h.pending();
    if (!pending || !soak_should_restart(v.restart_policy, pending->exit_code)) return;
    const SoakDuration expected = backoff.record_failure("c", pending->seen_at);
    const SoakDuration waited = o.observe_end - pending->seen_at;
    if (waited > expected + o.tolerance) {
      problem(fmt::format("run {} ended and was not restarted within {} (the back-off says {})",
                          pending->run(),
                          base::format_duration(duration_cast<milliseconds>(waited)),
                          base::format_duration(expected)));
    }
  }

  // Each run wrote its number: the numbers the agent reports must be those
  // of the runs it counted, none missing and none twice.
  void check_instances() {
    std::set<int32_t> seen;
    const int32_t want_exit = expected_exit_code(v.pattern, o.plan);
    for (const SoakTermination& t : h.terminations) {
      const std::optional<int32_t> n = t.claimed;
      if (!n) {
        problem(fmt::format("a termination (exit {}) carries no run number: \"{}\"", t.exit_code,
                            t.message));
        continue;
      }
      if (t.instance >= 0 && *n != t.instance)
        problem(
            fmt::format("the agent reports run {} ending, but run {} ended: a run went uncounted",
                        t.instance, *n));
      if (!seen.insert(*n).second) problem(fmt::format("run {} was reported ending twice", *n));
      if (!soak_exit_fits(v.pattern, t.exit_code, o.plan))
        problem(fmt::format("run {} exited {}, the pattern exits {}", *n, t.exit_code, want_exit));
    }
    const int32_t newest = std::max(h.restart_count, seen.empty() ? 0 : *seen.rbegin());
    for (int32_t k = 0; k < newest; ++k) {
      if (!seen.count(k)) problem(fmt::format("the end of run {} was never reported", k));
    }
  }

  void check_count() {
    v.restarts_seen = h.restart_count;
    // A run that ends at once may be reported ended before it is reported
    // running.
    const std::optional<SoakTime> first = first_event(h);
    if (!first) {
      problem("never seen running or ended");
      return;
    }
    const SoakDuration window = o.observe_end - *first;
    std::tie(v.restarts_min, v.restarts_max) =
        expected_restarts(v.pattern, v.restart_policy, window, o);
    if (v.restarts_seen < v.restarts_min || v.restarts_seen > v.restarts_max)
      problem(fmt::format("{} restarts, the schedule allows {} to {}", v.restarts_seen,
                          v.restarts_min, v.restarts_max));
  }
};

SoakResourceVerdict resource_verdict(std::string name, const SoakResourceSamples& s,
                                     int64_t SoakResources::*field) {
  SoakResourceVerdict r;
  r.name = std::move(name);
  auto get = [&](const std::optional<SoakResources>& x) -> std::optional<int64_t> {
    if (!x) return std::nullopt;
    return (*x).*field;
  };
  r.baseline = get(s.baseline);
  r.warm = get(s.warm);
  r.end = get(s.end);
  r.after = get(s.after);
  return r;
}

void check_resources(const SoakResourceSamples& s, const SoakResourceLimits& limits,
                     std::vector<SoakResourceVerdict>& out) {
  // Fewer than at the baseline is no leak: the baseline may hold the
  // harness's own connections, not yet closed.
  auto back_to_baseline = [&](std::string name, int64_t SoakResources::*field, int64_t slack) {
    SoakResourceVerdict r = resource_verdict(std::move(name), s, field);
    r.rule = slack ? fmt::format("after <= baseline + {}", slack) : "after <= baseline";
    r.ok = r.baseline && r.after && *r.after <= *r.baseline + slack;
    out.push_back(std::move(r));
  };
  SoakResourceVerdict rss = resource_verdict("rss KiB", s, &SoakResources::rss_kib);
  rss.rule = fmt::format("end - warm <= {}", limits.rss_growth_kib);
  rss.ok = rss.warm && rss.end && *rss.end - *rss.warm <= limits.rss_growth_kib;
  out.push_back(std::move(rss));
  back_to_baseline("fds", &SoakResources::fds, limits.fd_slack);
  back_to_baseline("threads", &SoakResources::threads, limits.thread_slack);
  back_to_baseline("mounts", &SoakResources::mounts, 0);
  back_to_baseline("cgroups", &SoakResources::cgroups, 0);
  back_to_baseline("children", &SoakResources::children, 0);
}

}  // namespace

std::pair<int, int> expected_restarts(SoakPattern pattern, const std::string& policy,
                                      SoakDuration window, const SoakCheckOptions& o) {
  const SoakRunTime run = soak_run_time(pattern, o.plan);
  const int most = simulate(pattern, policy, window, run.min, -o.early, o);
  // One fewer at the least: a restart due at the window's very end may
  // come after it.
  const int least = simulate(pattern, policy, window, run.max, o.tolerance, o);
  return {std::max(0, least - 1), most};
}

bool SoakReport::passed() const {
  return problems.empty() &&
         std::all_of(pods.begin(), pods.end(), [](const auto& p) { return p.ok(); }) &&
         std::all_of(resources.begin(), resources.end(), [](const auto& r) { return r.ok; });
}

SoakReport check_soak(const std::vector<SoakPod>& plan, const SoakObserver& observer,
                      const SoakCheckOptions& options, const SoakResourceSamples& samples,
                      const SoakResourceLimits& limits) {
  SoakReport report;
  report.options = options;
  report.limits = limits;
  std::optional<SoakTime> earliest, settled;
  bool all_seen = true;
  for (const SoakPod& p : plan) {
    const SoakContainerHistory* h =
        observer.find(options.plan.namespace_ + "/" + p.name, kSoakContainer);
    const std::optional<SoakTime> first = h ? first_event(*h) : std::nullopt;
    all_seen = all_seen && first;
    if (!first) continue;
    earliest = std::min(earliest.value_or(SoakTime::max()), *first);
    settled = std::max(settled.value_or(SoakTime::min()), *first);
  }
  if (all_seen && settled) report.start_burst = *settled - *earliest;
  if (!all_seen || options.judge_start_burst) settled.reset();
  for (const SoakPod& p : plan) {
    SoakPodVerdict v;
    v.pod = p.name;
    v.restart_policy = p.restart_policy;
    v.pattern = p.pattern;
    const SoakContainerHistory* h =
        observer.find(options.plan.namespace_ + "/" + p.name, kSoakContainer);
    if (!h) {
      v.problems.push_back("never seen");
    } else {
      PodChecker c{*h, options, settled, v, report.delay_errors};
      c.check_count();
      c.check_delays();
      c.check_instances();
    }
    report.pods.push_back(std::move(v));
  }
  std::sort(report.delay_errors.begin(), report.delay_errors.end());
  check_resources(samples, limits, report.resources);
  if (plan.empty()) report.problems.push_back("no pods were planned");
  return report;
}

SoakDuration soak_percentile(const std::vector<SoakDuration>& sorted, double p) {
  if (sorted.empty()) return {};
  const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

namespace {

int count_in_burst(const SoakReport& r) {
  int n = 0;
  for (const SoakPodVerdict& p : r.pods) n += p.delays_in_burst;
  return n;
}

std::string cell(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

void format_pods(const SoakReport& r, std::string& out) {
  out += fmt::format("{:<10} {:<10} {:<14} {:>8} {:>9} {:>7} {:>5} {:>10}  {}\n", "POD", "POLICY",
                     "PATTERN", "RESTARTS", "EXPECTED", "DELAYS", "BURST", "WORST-ERR", "VERDICT");
  for (const SoakPodVerdict& p : r.pods) {
    out += fmt::format(
        "{:<10} {:<10} {:<14} {:>8} {:>9} {:>7} {:>5} {:>10}  {}\n", p.pod, p.restart_policy,
        to_string(p.pattern), p.restarts_seen, fmt::format("{}-{}", p.restarts_min, p.restarts_max),
        fmt::format("{}/{}", p.delays_passed, p.delays_checked), p.delays_in_burst,
        p.worst_error ? signed_seconds(*p.worst_error) : "-", p.ok() ? "ok" : "FAIL");
    for (const std::string& problem : p.problems) out += "    " + problem + "\n";
  }
}

void format_resources(const SoakReport& r, std::string& out) {
  out += fmt::format("\n{:<9} {:>9} {:>9} {:>9} {:>9}  {:<26} {}\n", "RESOURCE", "BASELINE", "WARM",
                     "END", "AFTER", "RULE", "VERDICT");
  for (const SoakResourceVerdict& v : r.resources) {
    out += fmt::format("{:<9} {:>9} {:>9} {:>9} {:>9}  {:<26} {}\n", v.name, cell(v.baseline),
                       cell(v.warm), cell(v.end), cell(v.after), v.rule, v.ok ? "ok" : "FAIL");
  }
}

}  // namespace

std::string format_soak_report(const SoakReport& r) {
  const SoakCheckOptions& o = r.options;
  std::string out = fmt::format(
      "podagent soak: {} pods for {}; back-off {} doubling to {} (reset {}); a delay passes within "
      "[expected - {}, expected + {}]\n\n",
      r.pods.size(), base::format_duration(o.duration),
      base::format_duration(o.plan.crashloop_initial), base::format_duration(o.plan.crashloop_max),
      base::format_duration(o.reset), base::format_duration(o.early),
      base::format_duration(o.tolerance));
  if (r.start_burst && !o.judge_start_burst)
    out += fmt::format(
        "start burst: {} until every pod was seen started; the {} restart delays after a "
        "termination "
        "in it (BURST) are listed in the JSON, not judged\n\n",
        base::format_duration(duration_cast<milliseconds>(*r.start_burst)), count_in_burst(r));
  format_pods(r, out);
  format_resources(r, out);
  const auto& e = r.delay_errors;
  out += fmt::format(
      "\ndelay error (seen - expected) over {} restarts: p50 {}  p90 {}  p99 {}  max {}\n",
      e.size(), signed_seconds(soak_percentile(e, 50)), signed_seconds(soak_percentile(e, 90)),
      signed_seconds(soak_percentile(e, 99)),
      signed_seconds(e.empty() ? SoakDuration{} : e.back()));
  for (const std::string& p : r.problems) out += "problem: " + p + "\n";
  const auto pods_ok =
      std::count_if(r.pods.begin(), r.pods.end(), [](const auto& p) { return p.ok(); });
  const auto res_ok =
      std::count_if(r.resources.begin(), r.resources.end(), [](const auto& v) { return v.ok; });
  out += fmt::format("{}: {}/{} pods, {}/{} resources\n", r.passed() ? "PASS" : "FAIL", pods_ok,
                     r.pods.size(), res_ok, r.resources.size());
  return out;
}

namespace {

Node seconds_node(SoakDuration d) {
  Node n;
  n.kind = Node::Kind::Float;
  n.text = fmt::format("{:.3f}", duration_cast<milliseconds>(d).count() / 1000.0);
  return n;
}

Node optional_int(const std::optional<int64_t>& v) { return v ? Node::integer(*v) : Node::null(); }

Node pod_json(const SoakPodVerdict& p) {
  Node n = Node::map();
  n.set("pod", Node::string(p.pod));
  n.set("restartPolicy", Node::string(p.restart_policy));
  n.set("pattern", Node::string(std::string(to_string(p.pattern))));
  n.set("restarts", Node::integer(p.restarts_seen));
  n.set("restartsMin", Node::integer(p.restarts_min));
  n.set("restartsMax", Node::integer(p.restarts_max));
  n.set("delaysChecked", Node::integer(p.delays_checked));
  n.set("delaysPassed", Node::integer(p.delays_passed));
  n.set("delaysInStartBurst", Node::integer(p.delays_in_burst));
  n.set("worstDelayErrorSeconds", p.worst_error ? seconds_node(*p.worst_error) : Node::null());
  Node& delays = n.set("delays", Node::sequence());
  for (const SoakDelay& d : p.delays) {
    Node x = Node::map();
    x.set("run", Node::integer(d.instance));
    x.set("seenSeconds", seconds_node(d.seen));
    x.set("expectedSeconds", seconds_node(d.expected));
    x.set("withinTolerance", Node::boolean(d.ok));
    x.set("inStartBurst", Node::boolean(d.in_burst));
    delays.push(std::move(x));
  }
  Node& problems = n.set("problems", Node::sequence());
  for (const std::string& s : p.problems) problems.push(Node::string(s));
  n.set("passed", Node::boolean(p.ok()));
  return n;
}

}  // namespace

std::string soak_report_json(const SoakReport& r) {
  const SoakCheckOptions& o = r.options;
  Node root = Node::map();
  root.set("passed", Node::boolean(r.passed()));
  Node& run = root.set("run", Node::map());
  run.set("pods", Node::integer(static_cast<int64_t>(r.pods.size())));
  run.set("durationSeconds", seconds_node(o.duration));
  run.set("crashloopInitialSeconds", seconds_node(o.plan.crashloop_initial));
  run.set("crashloopMaxSeconds", seconds_node(o.plan.crashloop_max));
  run.set("crashloopResetSeconds", seconds_node(o.reset));
  run.set("toleranceSeconds", seconds_node(o.tolerance));
  run.set("earlySeconds", seconds_node(o.early));
  run.set("judgeStartBurst", Node::boolean(o.judge_start_burst));
  run.set("startBurstSeconds", r.start_burst ? seconds_node(*r.start_burst) : Node::null());
  Node& pods = root.set("pods", Node::sequence());
  for (const SoakPodVerdict& p : r.pods) pods.push(pod_json(p));
  Node& resources = root.set("resources", Node::sequence());
  for (const SoakResourceVerdict& v : r.resources) {
    Node n = Node::map();
    n.set("name", Node::string(v.name));
    n.set("baseline", optional_int(v.baseline));
    n.set("warm", optional_int(v.warm));
    n.set("end", optional_int(v.end));
    n.set("after", optional_int(v.after));
    n.set("rule", Node::string(v.rule));
    n.set("passed", Node::boolean(v.ok));
    resources.push(std::move(n));
  }
  const auto& e = r.delay_errors;
  Node& errors = root.set("delayErrorSeconds", Node::map());
  errors.set("count", Node::integer(static_cast<int64_t>(e.size())));
  errors.set("p50", seconds_node(soak_percentile(e, 50)));
  errors.set("p90", seconds_node(soak_percentile(e, 90)));
  errors.set("p99", seconds_node(soak_percentile(e, 99)));
  errors.set("max", seconds_node(e.empty() ? SoakDuration{} : e.back()));
  Node& problems = root.set("problems", Node::sequence());
  for (const std::string& s : r.problems) problems.push(Node::string(s));
  return model::to_json(root, true) + "\n";
}

}  // namespace podagent::agent
