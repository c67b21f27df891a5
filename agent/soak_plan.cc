#include "agent/soak_plan.h"

#include <fmt/format.h>

#include "model/annotations.h"
#include "model/document.h"
#include "model/node.h"

namespace podagent::agent {

using model::Node;

namespace {

constexpr const char* kPolicies[] = {"Always", "OnFailure", "Never"};
constexpr const char* kAliveFile = "/tmp/alive";

// Counts the run in the emptyDir (it outlives the container) and names it in
// the termination message before anything else can end the run.
constexpr const char* kCountRun =
    "n=$(cat /soak/runs 2>/dev/null || echo 0); echo $((n+1)) > /soak/runs; "
    "printf '%s' \"$n\" > /dev/termination-log; ";

std::string pattern_script(SoakPattern pattern, const SoakOptions& o) {
  const int n = o.run_seconds;
  switch (pattern) {
    case SoakPattern::ExitCode:
      return fmt::format("exit {}", o.exit_code);
    case SoakPattern::CrashAfter:
      return fmt::format("sleep {}; exit 1", n);
    case SoakPattern::SucceedAfter:
      return fmt::format("sleep {}; exit 0", n);
    case SoakPattern::OomKill:
      // /dev/zero has no newline: tail keeps all of it in memory. exec, so
      // that the killed process is the container's first one.
      return "exec tail /dev/zero";
    case SoakPattern::LivenessFail:
      // `wait` is interrupted by SIGTERM where a foreground sleep is not. A
      // signal that comes just before a `wait` begins is handled when that
      // wait ends: hence one second at a time, well within the grace period.
      return fmt::format(
          "trap 'exit 143' TERM; touch {0}; sleep {1}; rm -f {0}; "
          "while true; do sleep 1 & wait; done",
          kAliveFile, n);
    case SoakPattern::HungOnTerm:
      // An ignored signal stays ignored across exec: sleep ignores it too.
      return fmt::format(
          "trap '' TERM; touch {0}; sleep {1}; rm -f {0}; while true; do sleep 1; done", kAliveFile,
          n);
  }
  return {};
}

Node string_list(std::initializer_list<std::string> words) {
  Node list = Node::sequence();
  for (const std::string& w : words) list.push(Node::string(w));
  return list;
}

Node container_node(const SoakOptions& o, SoakPattern pattern) {
  Node c = Node::map();
  c.set("name", Node::string(kSoakContainer));
  c.set("image", Node::string(o.image));
  c.set("command", string_list({"sh", "-c", std::string(kCountRun) + pattern_script(pattern, o)}));
  Node mount = Node::map();
  mount.set("name", Node::string("runs"));
  mount.set("mountPath", Node::string("/soak"));
  c.set("volumeMounts", Node::sequence()).push(std::move(mount));
  if (pattern == SoakPattern::OomKill) {
    Node limits = Node::map();
    limits.set("memory", Node::string(o.memory_limit));
    c.set("resources", Node::map()).set("limits", std::move(limits));
  }
  if (pattern == SoakPattern::LivenessFail || pattern == SoakPattern::HungOnTerm) {
    Node probe = Node::map();
    probe.set("exec", Node::map()).set("command", string_list({"cat", kAliveFile}));
    // The file is made within milliseconds of the start; the first probe
    // must not come before.
    probe.set("initialDelaySeconds", Node::integer(1));
    probe.set("periodSeconds", Node::integer(1));
    probe.set("failureThreshold", Node::integer(1));
    c.set("livenessProbe", std::move(probe));
  }
  return c;
}

}  // namespace

std::string_view to_string(SoakPattern pattern) {
  switch (pattern) {
    case SoakPattern::ExitCode:
      return "exit-code";
    case SoakPattern::CrashAfter:
      return "crash-after";
    case SoakPattern::SucceedAfter:
      return "succeed-after";
    case SoakPattern::OomKill:
      return "oom";
    case SoakPattern::LivenessFail:
      return "liveness";
    case SoakPattern::HungOnTerm:
      return "hung-on-term";
  }
  return "?";
}

std::string soak_manifest(const SoakOptions& o, const std::string& name, SoakPattern pattern,
                          const std::string& restart_policy) {
  Node pod = Node::map();
  pod.set("apiVersion", Node::string("v1"));
  pod.set("kind", Node::string("Pod"));
  Node& meta = pod.set("metadata", Node::map());
  meta.set("name", Node::string(name));
  meta.set("namespace", Node::string(o.namespace_));
  Node& labels = meta.set("labels", Node::map());
  labels.set(kSoakLabel, Node::string("true"));
  labels.set("podagent.io/soak-pattern", Node::string(std::string(to_string(pattern))));
  Node& notes = meta.set("annotations", Node::map());
  notes.set(model::kAnnotationCrashloopInitial,
            Node::string(base::format_duration_short(o.crashloop_initial)));
  notes.set(model::kAnnotationCrashloopMax,
            Node::string(base::format_duration_short(o.crashloop_max)));
  Node& spec = pod.set("spec", Node::map());
  spec.set("restartPolicy", Node::string(restart_policy));
  spec.set("terminationGracePeriodSeconds", Node::integer(o.grace_seconds));
  Node volume = Node::map();
  volume.set("name", Node::string("runs"));
  volume.set("emptyDir", Node::map());
  spec.set("volumes", Node::sequence()).push(std::move(volume));
  spec.set("containers", Node::sequence()).push(container_node(o, pattern));
  return model::to_json(pod);
}

std::vector<SoakPod> plan_soak_pods(const SoakOptions& options) {
  std::vector<SoakPod> pods;
  pods.reserve(static_cast<size_t>(options.pods));
  for (int i = 0; i < options.pods; ++i) {
    SoakPod p;
    p.name = fmt::format("soak-{:03}", i);
    p.pattern = static_cast<SoakPattern>(i % kSoakPatternCount);
    p.restart_policy = kPolicies[(i / kSoakPatternCount) % 3];
    p.manifest = soak_manifest(options, p.name, p.pattern, p.restart_policy);
    pods.push_back(std::move(p));
  }
  return pods;
}

int32_t expected_exit_code(SoakPattern pattern, const SoakOptions& options) {
  switch (pattern) {
    case SoakPattern::ExitCode:
      return options.exit_code;
    case SoakPattern::CrashAfter:
      return 1;
    case SoakPattern::SucceedAfter:
      return 0;
    case SoakPattern::OomKill:
      return 137;
    case SoakPattern::LivenessFail:
      return 143;
    case SoakPattern::HungOnTerm:
      return 137;
  }
  return -1;
}

bool soak_exit_fits(SoakPattern pattern, int32_t code, const SoakOptions& options) {
  return code == expected_exit_code(pattern, options) ||
         (pattern == SoakPattern::LivenessFail && code == 137);
}

SoakRunTime soak_run_time(SoakPattern pattern, const SoakOptions& o) {
  using std::chrono::seconds;
  const seconds n(o.run_seconds);
  const seconds grace(o.grace_seconds);
  switch (pattern) {
    case SoakPattern::ExitCode:
      return {seconds(0), seconds(0)};
    case SoakPattern::CrashAfter:
    case SoakPattern::SucceedAfter:
      return {n, n};
    case SoakPattern::OomKill:
      return {seconds(0), seconds(1)};
    case SoakPattern::LivenessFail:
      return {n, n + seconds(1)};
    case SoakPattern::HungOnTerm:
      return {n + grace, n + seconds(1) + grace};
  }
  return {};
}

bool soak_should_restart(std::string_view restart_policy, int32_t exit_code) {
  if (restart_policy == "Never") return false;
  if (restart_policy == "OnFailure") return exit_code != 0;
  return true;
}

}  // namespace podagent::agent
