#include "podworker/pod_actions.h"

#include <gtest/gtest.h>

#include <sstream>

namespace podagent::base {
// Readable ids in failure messages.
template <typename Tag>
void PrintTo(const StrongId<Tag>& id, std::ostream* os) {
  *os << id.str();
}
}  // namespace podagent::base

namespace podagent::podworker {
namespace {

using namespace std::chrono_literals;
using runtime::ContainerState;
using runtime::SandboxState;

const SteadyTime kNow = SteadyTime{} + 1000s;

// A pod spec in a line: init containers ("s:" marks a sidecar, "s+:" a
// sidecar with a startup probe) and app containers.
model::Pod make_pod(const std::string& policy, std::vector<std::string> inits, std::vector<std::string> apps) {
  model::Pod pod;
  pod.metadata.name = "p";
  pod.metadata.uid = "uid-1";
  pod.spec.restart_policy = policy;
  for (auto name : inits) {
    model::Container c;
    if (name.starts_with("s+:")) {
      c.restart_policy = "Always";
      c.startup_probe = model::Probe{};
      name = name.substr(3);
    } else if (name.starts_with("s:")) {
      c.restart_policy = "Always";
      name = name.substr(2);
    }
    c.name = name;
    c.image = "busybox";
    pod.spec.init_containers.push_back(c);
  }
  for (const auto& name : apps) {
    model::Container c;
    c.name = name;
    c.image = "busybox";
    pod.spec.containers.push_back(c);
  }
  return pod;
}

// One observed container: "name=R" running, "name=E0" exited with 0,
// "name=E1", "name=C" created, "name=U" unknown; "@sb2" sandbox (default
// sb1), "#3" attempt, "!" an outdated spec hash.
struct World {
  model::Pod pod;
  PodSpecHashes hashes;
  ObservedPod observed;
  ProbeStates probes;
  std::vector<ProbeFailure> liveness_failed;
  base::Backoff backoff;
  std::optional<SteadyTime> deadline;
  int next_id = 1;

  explicit World(model::Pod p) : pod(std::move(p)), hashes(hash_pod_containers(pod)) {}

  World& sandbox(const std::string& id, uint32_t attempt = 0, bool ready = true) {
    runtime::SandboxStatus s;
    s.id = base::SandboxId(id);
    s.pod_uid = base::PodUid(pod.metadata.uid);
    s.attempt = attempt;
    s.state = ready ? SandboxState::Ready : SandboxState::NotReady;
    observed.sandboxes.push_back(s);
    return *this;
  }

  std::string hash_of(const std::string& name) const {
    for (size_t i = 0; i < pod.spec.init_containers.size(); ++i)
      if (pod.spec.init_containers[i].name == name) return hashes.init[i];
    for (size_t i = 0; i < pod.spec.containers.size(); ++i)
      if (pod.spec.containers[i].name == name) return hashes.app[i];
    return "none";
  }

  World& c(const std::string& text) {
    runtime::ContainerStatus s;
    auto eq = text.find('=');
    s.name = text.substr(0, eq);
    s.id = base::ContainerId("c" + std::to_string(next_id++));
    s.pod_uid = base::PodUid(pod.metadata.uid);
    s.sandbox_id = base::SandboxId("sb1");
    s.spec_hash = hash_of(s.name);
    for (size_t i = eq + 1; i < text.size(); ++i) {
      char ch = text[i];
      if (ch == 'R') s.state = ContainerState::Running;
      if (ch == 'C') s.state = ContainerState::Created;
      if (ch == 'U') s.state = ContainerState::Unknown;
      if (ch == 'E') {
        s.state = ContainerState::Exited;
        s.exit_code = text[++i] - '0';
      }
      if (ch == '@') {
        s.sandbox_id = base::SandboxId(text.substr(i + 1, 3));
        i += 3;
      }
      if (ch == '#') s.attempt = static_cast<uint32_t>(text[++i] - '0');
      if (ch == '!') s.spec_hash = "old";
    }
    observed.containers.push_back(s);
    return *this;
  }

  PlanInput input(SteadyTime now = kNow) const {
    return PlanInput{pod, hashes, observed, probes, liveness_failed, backoff, now, deadline};
  }
};

const char* kind_name(ContainerKind k) {
  switch (k) {
    case ContainerKind::Init: return "init";
    case ContainerKind::Sidecar: return "sidecar";
    case ContainerKind::App: return "app";
    case ContainerKind::Ephemeral: return "ephemeral";
  }
  return "?";
}

// The plan as one line, so that a table row reads as what is expected.
std::string summary(const PodActions& a) {
  std::ostringstream out;
  if (a.create_sandbox) out << "create(" << a.sandbox_attempt << ") ";
  if (a.kill_pod) out << "kill_pod ";
  for (const auto& s : a.stop_sandboxes) out << "stop(" << s.str() << ") ";
  for (const auto& k : a.kill) out << "kill(" << k.name << ":" << k.reason << ") ";
  for (const auto& id : a.remove) out << "rm(" << id.str() << ") ";
  for (const auto& s : a.start)
    out << "start(" << s.name << ":" << kind_name(s.kind) << "#" << s.attempt << (s.prepared ? "*" : "") << ") ";
  for (const auto& s : a.prepare) out << "prepare(" << s.name << ":" << kind_name(s.kind) << "#" << s.attempt << ") ";
  for (const auto& h : a.held) out << "hold(" << h.name << ") ";
  switch (a.outcome) {
    case PodOutcome::Progressing: break;
    case PodOutcome::Completed: out << "COMPLETED "; break;
    case PodOutcome::Failed: out << "FAILED "; break;
    case PodOutcome::DeadlineExceeded: out << "DEADLINE "; break;
  }
  if (a.all_stopped) out << "all_stopped ";
  std::string s = out.str();
  if (!s.empty()) s.pop_back();
  return s;
}

struct Row {
  const char* what;
  std::string policy;
  std::vector<std::string> inits;
  std::vector<std::string> apps;
  std::vector<std::string> containers;  // in sandbox sb1 (Ready) unless noted
  std::string expected;
};

class PodActionsTable : public testing::TestWithParam<Row> {};

TEST_P(PodActionsTable, Plan) {
  const Row& r = GetParam();
  World w(make_pod(r.policy, r.inits, r.apps));
  w.sandbox("sb1");
  for (const auto& c : r.containers) w.c(c);
  EXPECT_EQ(summary(compute_pod_actions(w.input())), r.expected) << r.what;
}

INSTANTIATE_TEST_SUITE_P(
    PodActions, PodActionsTable,
    testing::Values(
        // Init progress, one at a time and in order.
        Row{"first init first, the rest prepared", "Always", {"i1", "i2"}, {"a", "b"}, {},
            "start(i1:init#0) prepare(i2:init#0) prepare(a:app#0) prepare(b:app#0)"},
        Row{"no init: all apps at once", "Always", {}, {"a", "b"}, {}, "start(a:app#0) start(b:app#0)"},
        Row{"init running: prepare the rest", "Always", {"i1", "i2"}, {"a"}, {"i1=R"}, "prepare(i2:init#0) prepare(a:app#0)"},
        Row{"init running, the rest prepared: wait", "Always", {"i1", "i2"}, {"a"}, {"i1=R", "i2=C", "a=C"}, ""},
        Row{"init done: next init", "Always", {"i1", "i2"}, {"a"}, {"i1=E0"}, "start(i2:init#0) prepare(a:app#0)"},
        Row{"init done: the prepared next init", "Always", {"i1", "i2"}, {"a"}, {"i1=E0", "i2=C", "a=C"},
            "start(i2:init#0*)"},
        Row{"inits done: apps", "OnFailure", {"i1", "i2"}, {"a", "b"}, {"i1=E0", "i2=E0"},
            "start(a:app#0) start(b:app#0)"},
        Row{"created leftover of the spec is started", "Always", {"i1"}, {"a"}, {"i1=C"}, "start(i1:init#0*) prepare(a:app#0)"},
        Row{"created leftover of an old spec is garbage", "Always", {"i1"}, {"a"}, {"i1=C!"},
            "rm(c1) start(i1:init#0) prepare(a:app#0)"},
        Row{"inits done: the prepared apps start", "Always", {"i1"}, {"a", "b"}, {"i1=E0", "a=C", "b=C#2"},
            "start(a:app#0*) start(b:app#2*)"},
        Row{"prepared app of an old spec is garbage", "Always", {"i1"}, {"a"}, {"i1=R", "a=C!"},
            "rm(c2) prepare(a:app#0)"},
        Row{"prepared app in an old sandbox is garbage", "Always", {"i1"}, {"a"}, {"i1=R", "a=C@sb0"},
            "rm(c2) prepare(a:app#0)"},
        Row{"prepared app older than an instance is garbage", "Always", {"i1"}, {"a"},
            {"i1=R", "a=C#0", "a=E1#1@sb0"}, "rm(c2) prepare(a:app#2)"},
        Row{"unknown init is killed", "Always", {"i1"}, {"a"}, {"i1=U"}, "kill(i1:Unknown)"},
        // A failed init container per restartPolicy.
        Row{"init failed, OnFailure: retry", "OnFailure", {"i1", "i2"}, {"a"}, {"i1=E1"},
            "start(i1:init#1) prepare(i2:init#0) prepare(a:app#0)"},
        Row{"init failed, Always: retry", "Always", {"i1", "i2"}, {"a"}, {"i1=E1#2"},
            "start(i1:init#3) prepare(i2:init#0) prepare(a:app#0)"},
        Row{"init failed, Never: pod fails", "Never", {"i1", "i2"}, {"a"}, {"i1=E1"}, "FAILED"},
        Row{"second init failed, Never", "Never", {"i1", "i2"}, {"a"}, {"i1=E0", "i2=E2"}, "FAILED"},
        Row{"init failed twice: newest counts", "OnFailure", {"i1"}, {"a"}, {"i1=E1#0", "i1=E0#1"},
            "rm(c1) start(a:app#0)"},
        // Sidecars.
        Row{"sidecar starts in order", "Always", {"s:s1", "i1"}, {"a"}, {}, "start(s1:sidecar#0)"},
        Row{"running sidecar is done", "Always", {"s:s1", "i1"}, {"a"}, {"s1=R"}, "start(i1:init#0) prepare(a:app#0)"},
        Row{"unstarted sidecar gates", "Always", {"s+:s1", "i1"}, {"a"}, {"s1=R"}, ""},
        Row{"sidecar exited during init: restart", "Never", {"s:s1", "i1"}, {"a"}, {"s1=E0"},
            "start(s1:sidecar#1)"},
        Row{"sidecars before apps", "Never", {"s:s1", "s:s2"}, {"a"}, {"s1=R", "s2=R"}, "start(a:app#0)"},
        Row{"sidecar restarts beside apps under Never", "Never", {"s:s1"}, {"a"}, {"s1=E1", "a=R"},
            "start(s1:sidecar#1)"},
        Row{"sidecar spec change restarts", "Always", {"s:s1"}, {"a"}, {"s1=R!", "a=R"},
            "kill(s1:SpecChanged) start(s1:sidecar#1)"},
        Row{"all apps done: sidecars not restarted", "Never", {"s:s1"}, {"a"}, {"s1=E1", "a=E0"}, "COMPLETED"},
        Row{"all apps done, sidecar running", "OnFailure", {"s:s1"}, {"a", "b"}, {"s1=R", "a=E0", "b=E0"},
            "COMPLETED"},
        // App restarts per restartPolicy.
        Row{"Always restarts exit 0", "Always", {}, {"a"}, {"a=E0"}, "start(a:app#1)"},
        Row{"Always restarts exit 1", "Always", {}, {"a"}, {"a=E1#4"}, "start(a:app#5)"},
        Row{"OnFailure keeps exit 0", "OnFailure", {}, {"a", "b"}, {"a=E0", "b=R"}, ""},
        Row{"OnFailure restarts exit 1", "OnFailure", {}, {"a", "b"}, {"a=E1", "b=R"}, "start(a:app#1)"},
        Row{"OnFailure all exit 0: done", "OnFailure", {}, {"a", "b"}, {"a=E0", "b=E0"}, "COMPLETED"},
        Row{"Never keeps exit 1", "Never", {}, {"a", "b"}, {"a=E1", "b=R"}, ""},
        Row{"Never all exited: done", "Never", {}, {"a", "b"}, {"a=E1", "b=E0"}, "COMPLETED"},
        Row{"previously initialized: inits not re-run", "Always", {"i1"}, {"a"}, {"a=R"}, ""},
        Row{"spec change kills and restarts", "Always", {}, {"a", "b"}, {"a=R!", "b=R"},
            "kill(a:SpecChanged) start(a:app#1)"},
        Row{"spec change of an exited Never container: nothing", "Never", {}, {"a", "b"}, {"a=E0!", "b=R"}, ""},
        Row{"unknown app is killed", "Always", {}, {"a"}, {"a=U"}, "kill(a:Unknown)"},
        Row{"container not in spec is killed", "Always", {}, {"a"}, {"a=R", "gone=R"}, "kill(gone:NotInSpec)"},
        Row{"container of an old sandbox is killed", "Always", {}, {"a"}, {"a=R@sb0", "a=R#1"},
            "kill(a:SandboxChanged)"}));

TEST(PodActionsSandbox, NoneYetCreatesAndStartsFirstInit) {
  World w(make_pod("Always", {"i1"}, {"a"}));
  auto a = compute_pod_actions(w.input());
  EXPECT_EQ(summary(a), "create(0) start(i1:init#0) prepare(a:app#0)");
  EXPECT_FALSE(a.sandbox);
}

TEST(PodActionsSandbox, DeadSandboxKillsEverythingAndReRunsInits) {
  World w(make_pod("Always", {"i1", "i2"}, {"a"}));
  w.sandbox("sb1", 0, false).c("i1=E0").c("i2=E0").c("a=R#2");
  auto a = compute_pod_actions(w.input());
  EXPECT_EQ(summary(a), "create(1) kill_pod kill(a:SandboxChanged) start(i1:init#1) prepare(i2:init#1) prepare(a:app#3)");
}

TEST(PodActionsSandbox, FoundMissingStartsOver) {
  // The sandbox vanished with its containers; only an old one is left.
  World w(make_pod("OnFailure", {"i1"}, {"a"}));
  w.sandbox("sb0", 0, false).sandbox("sb1", 1, false);
  EXPECT_EQ(summary(compute_pod_actions(w.input())), "create(2) start(i1:init#0) prepare(a:app#0)");
}

TEST(PodActionsSandbox, DeadSandboxUnderNeverEndsThePod) {
  World w(make_pod("Never", {}, {"a"}));
  w.sandbox("sb1", 0, false).c("a=R");
  auto a = compute_pod_actions(w.input());
  EXPECT_EQ(summary(a), "kill_pod kill(a:SandboxChanged) COMPLETED");
}

TEST(PodActionsSandbox, ExtraReadySandboxesAreStopped) {
  World w(make_pod("Always", {}, {"a"}));
  w.sandbox("sb1", 0).sandbox("sb2", 1).c("a=R@sb2");
  auto a = compute_pod_actions(w.input());
  EXPECT_EQ(summary(a), "stop(sb1)");
  EXPECT_EQ(a.sandbox, base::SandboxId("sb2"));
}

TEST(PodActionsSandbox, OldSandboxWithoutKeptContainersIsRemoved) {
  World w(make_pod("Always", {}, {"a"}));
  w.sandbox("sb0", 0, false).sandbox("sb1", 1).c("a=E1#0@sb0").c("a=E1#1").c("a=R#2");
  auto a = compute_pod_actions(w.input());
  // a#0 is older than the lastState a#1: garbage, and with it the sandbox
  // it belonged to.
  EXPECT_EQ(a.remove, std::vector<base::ContainerId>{base::ContainerId("c1")});
  EXPECT_EQ(a.remove_sandboxes, std::vector<base::SandboxId>{base::SandboxId("sb0")});
}

TEST(PodActionsGarbage, KeepsNewestExitedInstanceOfEach) {
  World w(make_pod("Always", {"i1"}, {"a"}));
  w.sandbox("sb1").c("i1=E1#0").c("i1=E0#1").c("a=E1#0").c("a=E1#1").c("a=R#2").c("old=E0");
  auto a = compute_pod_actions(w.input());
  // a#1 stays beside the running a#2: it is a's lastState.
  EXPECT_EQ(a.remove, (std::vector<base::ContainerId>{base::ContainerId("c1"), base::ContainerId("c3"),
                                                       base::ContainerId("c6")}));
  EXPECT_TRUE(a.remove_sandboxes.empty());
}

TEST(PodActionsBackoff, HeldUntilAllowedThenStarted) {
  World w(make_pod("OnFailure", {"i1"}, {"a"}));
  w.sandbox("sb1").c("i1=E1");
  const auto key = base::Backoff::make_key("uid-1", "i1", w.hashes.init[0]);
  w.backoff.record_failure(key, kNow);
  auto held = compute_pod_actions(w.input(kNow + 9900ms));
  EXPECT_EQ(summary(held), "hold(i1)");
  EXPECT_EQ(held.held[0].until, kNow + 10s);
  EXPECT_EQ(held.next_wakeup, kNow + 10s);
  EXPECT_EQ(summary(compute_pod_actions(w.input(kNow + 10s))), "start(i1:init#1) prepare(a:app#0)");
}

TEST(PodActionsBackoff, NewSpecHashIsAFreshKey) {
  World w(make_pod("Always", {}, {"a"}));
  w.sandbox("sb1").c("a=E1!");
  w.backoff.record_failure(base::Backoff::make_key("uid-1", "a", "old"), kNow);
  EXPECT_EQ(summary(compute_pod_actions(w.input())), "start(a:app#1)");
}

TEST(PodActionsBackoff, HeldAfterSandboxChangeToo) {
  World w(make_pod("Always", {}, {"a"}));
  w.sandbox("sb1", 0, false).c("a=E1");
  w.backoff.record_failure(base::Backoff::make_key("uid-1", "a", w.hashes.app[0]), kNow);
  EXPECT_EQ(summary(compute_pod_actions(w.input())), "create(1) hold(a)");
}

TEST(PodActionsProbes, StartedSidecarUngatesNextInit) {
  World w(make_pod("Always", {"s+:s1", "i1"}, {"a"}));
  w.sandbox("sb1").c("s1=R");
  w.probes["s1"] = ProbeState{false, false};
  EXPECT_EQ(summary(compute_pod_actions(w.input())), "");
  w.probes["s1"] = ProbeState{true, false};
  EXPECT_EQ(summary(compute_pod_actions(w.input())), "start(i1:init#0) prepare(a:app#0)");
}

TEST(PodActionsProbes, LivenessFailureKillsWithoutImmediateRestart) {
  World w(make_pod("Always", {}, {"a"}));
  w.sandbox("sb1").c("a=R");
  w.liveness_failed.push_back({base::ContainerId("c1")});
  EXPECT_EQ(summary(compute_pod_actions(w.input())), "kill(a:Unhealthy)");
}

TEST(PodActionsDeadline, ExceededEndsThePodOtherwiseWakes) {
  World w(make_pod("Always", {}, {"a"}));
  w.sandbox("sb1").c("a=R");
  w.deadline = kNow + 5s;
  auto before = compute_pod_actions(w.input());
  EXPECT_EQ(summary(before), "");
  EXPECT_EQ(before.next_wakeup, kNow + 5s);
  auto at = compute_pod_actions(w.input(kNow + 5s));
  EXPECT_EQ(summary(at), "DEADLINE");
  EXPECT_EQ(at.reason, "DeadlineExceeded");
}

struct TermRow {
  const char* what;
  std::vector<std::string> inits;
  std::vector<std::string> containers;
  bool sandbox_ready;
  std::string expected;
};

class PodActionsTermination : public testing::TestWithParam<TermRow> {};

TEST_P(PodActionsTermination, Step) {
  const TermRow& r = GetParam();
  World w(make_pod("Always", r.inits, {"a", "b"}));
  w.sandbox("sb1", 0, r.sandbox_ready);
  for (const auto& c : r.containers) w.c(c);
  EXPECT_EQ(summary(compute_termination_actions(w.input())), r.expected) << r.what;
}

INSTANTIATE_TEST_SUITE_P(
    PodActions, PodActionsTermination,
    testing::Values(
        TermRow{"apps first, sidecars stay", {"s:s1", "s:s2"}, {"s1=R", "s2=R", "a=R", "b=R"}, true,
                "kill(a:Killing) kill(b:Killing)"},
        TermRow{"a running init goes with the apps", {"s:s1", "i1"}, {"s1=R", "i1=R"}, true, "kill(i1:Killing)"},
        TermRow{"prepared apps are removed with the kills", {"i1"}, {"i1=R", "a=C", "b=C"}, true,
                "kill(i1:Killing) rm(c2) rm(c3)"},
        TermRow{"prepared apps are removed before the sandbox stops", {"i1"}, {"i1=E1", "a=C"}, true, "rm(c2)"},
        TermRow{"then the last sidecar", {"s:s1", "s:s2"}, {"s1=R", "s2=R", "a=E0", "b=E1"}, true,
                "kill(s2:Killing)"},
        TermRow{"then the first sidecar", {"s:s1", "s:s2"}, {"s1=R", "s2=E0", "a=E0", "b=E1"}, true,
                "kill(s1:Killing)"},
        TermRow{"then the sandbox", {"s:s1"}, {"s1=E0", "a=E0"}, true, "stop(sb1)"},
        TermRow{"then nothing", {"s:s1"}, {"s1=E0", "a=E0"}, false, "all_stopped"}));

TEST(PodActionsPrepare, OnlyContainersWhoseCreationNothingBeforeThemChanges) {
  model::Pod pod = make_pod("Always", {"i1"}, {"a"});
  const model::Container plain = pod.spec.containers[0];
  EXPECT_TRUE(may_prepare(pod, plain));
  model::Container c = plain;
  c.image_pull_policy = "Always";
  EXPECT_FALSE(may_prepare(pod, c)) << "pulled when it starts";
  c = plain;
  model::EnvVar from_map;
  from_map.name = "X";
  from_map.value_from.emplace().config_map_key_ref.emplace().name = "cm";
  c.env.push_back(from_map);
  EXPECT_FALSE(may_prepare(pod, c)) << "env read from a ConfigMap at creation";
  c = plain;
  c.env_from.emplace_back().secret_ref.emplace().name = "s";
  EXPECT_FALSE(may_prepare(pod, c)) << "env read from a Secret at creation";
  c = plain;
  model::VolumeMount& mount = c.volume_mounts.emplace_back();
  mount.name = "data";
  mount.mount_path = "/data";
  mount.sub_path = "conf";
  EXPECT_FALSE(may_prepare(pod, c)) << "a subPath an init container may make";
  c.volume_mounts[0].sub_path.clear();
  EXPECT_TRUE(may_prepare(pod, c));
  c.volume_mounts[0].sub_path_expr = "$(POD_NAME)";
  EXPECT_FALSE(may_prepare(pod, c));
  c.volume_mounts[0].sub_path_expr.clear();
  model::Volume host;
  host.name = "data";
  host.host_path.emplace().path = "/srv";
  pod.spec.volumes.push_back(host);
  EXPECT_TRUE(may_prepare(pod, c)) << "a hostPath without a type check";
  pod.spec.volumes[0].host_path->type = "File";
  EXPECT_FALSE(may_prepare(pod, c)) << "a hostPath whose type is checked at creation";
}

TEST(PodActionsPrepare, AContainerThatMayNotBePreparedIsCreatedWhenItStarts) {
  model::Pod pod = make_pod("Always", {"i1"}, {"a", "b"});
  pod.spec.containers[1].image_pull_policy = "Always";
  World w(pod);
  w.sandbox("sb1").c("i1=R");
  EXPECT_EQ(summary(compute_pod_actions(w.input())), "prepare(a:app#0)");
}

TEST(PodActionsPrepare, NothingIsPreparedDuringABackoff) {
  World w(make_pod("OnFailure", {"i1"}, {"a"}));
  w.sandbox("sb1").c("i1=R");
  w.backoff.record_failure(base::Backoff::make_key("uid-1", "a", w.hashes.app[0]), kNow);
  EXPECT_EQ(summary(compute_pod_actions(w.input())), "");
}

}  // namespace
}  // namespace podagent::podworker

namespace podagent::podworker {
namespace {

TEST(PodActionsSpecHash, StableAndSensitiveToEveryChange) {
  model::Container c;
  c.name = "app";
  c.image = "busybox:1";
  c.command = {"sh", "-c"};
  const std::string h = container_spec_hash(c);
  EXPECT_EQ(h.size(), 16u);
  EXPECT_EQ(container_spec_hash(model::Container(c)), h);
  // A golden value: containers keep running across agent upgrades only if
  // the hash of an unchanged spec stays the same.
  model::Container golden;
  golden.name = "app";
  golden.image = "busybox:1";
  EXPECT_EQ(container_spec_hash(golden), "5c0d6bf40dacb61a");

  auto changed = [&](auto mutate) {
    model::Container d = c;
    mutate(d);
    return container_spec_hash(d) != h;
  };
  EXPECT_TRUE(changed([](model::Container& d) { d.image = "busybox:2"; }));
  EXPECT_TRUE(changed([](model::Container& d) { d.command = {"sh", "-c", ""}; }));
  EXPECT_TRUE(changed([](model::Container& d) { d.command = {"s", "h-c"}; }));  // same letters, other split
  EXPECT_TRUE(changed([](model::Container& d) { d.args = {"x"}; }));
  EXPECT_TRUE(changed([](model::Container& d) { d.env.push_back({"A", "1", std::nullopt}); }));
  EXPECT_TRUE(changed([](model::Container& d) { d.resources.limits["cpu"] = model::Quantity::from_milli(500); }));
  EXPECT_TRUE(changed([](model::Container& d) { d.liveness_probe = model::Probe{}; }));
  EXPECT_TRUE(changed([](model::Container& d) { d.security_context = model::SecurityContext{}; }));
  EXPECT_TRUE(changed([](model::Container& d) { d.tty = true; }));
  EXPECT_TRUE(changed([](model::Container& d) { d.restart_policy = "Always"; }));
}

TEST(PodActionsSpecHash, PodHashesFollowSpecOrder) {
  model::Pod pod;
  pod.spec.init_containers.resize(1);
  pod.spec.init_containers[0].name = "i";
  pod.spec.containers.resize(2);
  pod.spec.containers[0].name = "a";
  pod.spec.containers[1].name = "b";
  auto h = hash_pod_containers(pod);
  ASSERT_EQ(h.init.size(), 1u);
  ASSERT_EQ(h.app.size(), 2u);
  EXPECT_EQ(h.app[1], container_spec_hash(pod.spec.containers[1]));
  EXPECT_NE(h.app[0], h.app[1]);
}

}  // namespace
}  // namespace podagent::podworker
