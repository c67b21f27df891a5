// The Runtime contract, for every backend instantiated with
// RuntimeContractTest (see runtime_contract.h).

#include "tests/runtime/runtime_contract.h"

#include <algorithm>
#include <chrono>

namespace podagent::runtime::testing {
namespace {

using namespace std::chrono_literals;

bool has_sandbox(const std::vector<SandboxStatus>& list, const SandboxId& id) {
  return std::any_of(list.begin(), list.end(), [&](const SandboxStatus& s) { return s.id == id; });
}

const ContainerStatus* find(const std::vector<ContainerStatus>& list, const ContainerId& id) {
  auto it = std::find_if(list.begin(), list.end(), [&](const ContainerStatus& c) { return c.id == id; });
  return it == list.end() ? nullptr : &*it;
}

// The grace of the stops below. A container stopped right after it started
// may not have set up its SIGTERM handling yet (a shell running as PID 1
// ignores SIGTERM until its trap is set), and then waits out the grace
// before SIGKILL: keep it short.
constexpr auto kGrace = 2s;

TEST_P(RuntimeContractTest, RunSandboxIsReadyAndListedWithItsPod) {
  SandboxConfig config = sandbox_config("uid-1", "web");
  config.attempt = 2;
  SandboxId id = must_run_sandbox(config);
  auto list = await(runtime().list_sandboxes());
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  const SandboxStatus& s = list->front();
  EXPECT_EQ(s.id, id);
  EXPECT_EQ(s.pod_uid, PodUid("uid-1"));
  EXPECT_EQ(s.pod_name, "web");
  EXPECT_EQ(s.pod_namespace, "default");
  EXPECT_EQ(s.attempt, 2u);
  EXPECT_EQ(s.state, SandboxState::Ready);
  if (harness().gives_pod_ips()) {
    EXPECT_FALSE(s.ips.empty());
  }
}

TEST_P(RuntimeContractTest, StopSandboxMakesItNotReadyAndTwiceSucceeds) {
  SandboxId id = must_run_sandbox(sandbox_config());
  EXPECT_TRUE(await(runtime().stop_sandbox(id)));
  EXPECT_TRUE(await(runtime().stop_sandbox(id)));
  auto list = await(runtime().list_sandboxes());
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().state, SandboxState::NotReady);
  EXPECT_TRUE(harness().run_until([&] { return !sandbox_events_.empty(); }));
  EXPECT_EQ(sandbox_events_.front().sandbox_id, id);
}

TEST_P(RuntimeContractTest, RemoveSandboxRemovesIt) {
  SandboxId id = must_run_sandbox(sandbox_config());
  ASSERT_TRUE(await(runtime().stop_sandbox(id)));
  ASSERT_TRUE(await(runtime().remove_sandbox(id)));
  auto list = await(runtime().list_sandboxes());
  ASSERT_TRUE(list);
  EXPECT_FALSE(has_sandbox(*list, id));
  EXPECT_FALSE(await(runtime().remove_sandbox(id)));
}

TEST_P(RuntimeContractTest, ContainerGoesCreatedRunningExitedRemoved) {
  SandboxConfig sb = sandbox_config();
  SandboxId sandbox = must_run_sandbox(sb);
  ContainerConfig config = container_config(harness().runs_forever("app"), sb);
  config.attempt = 1;
  auto id = await(runtime().create_container(sandbox, config));
  ASSERT_TRUE(id);
  auto created = status_of(*id);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->state, ContainerState::Created);
  EXPECT_EQ(created->name, "app");
  EXPECT_EQ(created->sandbox_id, sandbox);
  EXPECT_EQ(created->pod_uid, sb.pod_uid);
  EXPECT_EQ(created->attempt, 1u);
  EXPECT_EQ(created->spec_hash, "hash-app");
  EXPECT_FALSE(created->started_at);

  ASSERT_TRUE(await(runtime().start_container(*id)));
  auto running = status_of(*id);
  ASSERT_TRUE(running);
  EXPECT_EQ(running->state, ContainerState::Running);
  EXPECT_TRUE(running->started_at);

  ASSERT_TRUE(await(runtime().stop_container(*id, kGrace)));
  auto exited = status_of(*id);
  ASSERT_TRUE(exited);
  EXPECT_EQ(exited->state, ContainerState::Exited);
  EXPECT_NE(exited->exit_code, 0);
  EXPECT_TRUE(exited->finished_at);

  ASSERT_TRUE(await(runtime().remove_container(*id)));
  EXPECT_FALSE(status_of(*id));
  auto list = await(runtime().list_containers());
  ASSERT_TRUE(list);
  EXPECT_EQ(find(*list, *id), nullptr);
}

TEST_P(RuntimeContractTest, ExitCodesAndReasonsAreReported) {
  SandboxConfig sb = sandbox_config();
  SandboxId sandbox = must_run_sandbox(sb);
  ContainerId failing = must_start(sandbox, container_config(harness().exits_with("failing", 3), sb));
  ContainerId done = must_start(sandbox, container_config(harness().exits_with("done", 0), sb));
  ASSERT_TRUE(harness().run_until([&] {
    return saw_event(ContainerEvent::Type::Exited, failing) && saw_event(ContainerEvent::Type::Exited, done);
  }));
  auto list = await(runtime().list_containers());
  ASSERT_TRUE(list);
  const ContainerStatus* f = find(*list, failing);
  const ContainerStatus* d = find(*list, done);
  ASSERT_TRUE(f && d);
  EXPECT_EQ(f->state, ContainerState::Exited);
  EXPECT_EQ(f->exit_code, 3);
  EXPECT_TRUE(f->reason.empty() || f->reason == "Error") << f->reason;
  EXPECT_EQ(d->state, ContainerState::Exited);
  EXPECT_EQ(d->exit_code, 0);
  EXPECT_TRUE(d->reason.empty() || d->reason == "Completed") << d->reason;
}

TEST_P(RuntimeContractTest, EventsAreDeliveredForCreateStartAndExit) {
  SandboxConfig sb = sandbox_config();
  SandboxId sandbox = must_run_sandbox(sb);
  ContainerId id = must_start(sandbox, container_config(harness().runs_forever("app"), sb));
  ASSERT_TRUE(harness().run_until([&] { return saw_event(ContainerEvent::Type::Started, id); }));
  EXPECT_TRUE(saw_event(ContainerEvent::Type::Created, id));
  EXPECT_FALSE(saw_event(ContainerEvent::Type::Exited, id));
  ASSERT_TRUE(await(runtime().stop_container(id, kGrace)));
  ASSERT_TRUE(harness().run_until([&] { return saw_event(ContainerEvent::Type::Exited, id); }));
  for (const auto& e : container_events_) {
    EXPECT_EQ(e.sandbox_id, sandbox);
    EXPECT_EQ(e.pod_uid, sb.pod_uid);
  }
}

TEST_P(RuntimeContractTest, StoppingAStoppedContainerSucceeds) {
  SandboxConfig sb = sandbox_config();
  SandboxId sandbox = must_run_sandbox(sb);
  ContainerId id = must_start(sandbox, container_config(harness().runs_forever("app"), sb));
  ASSERT_TRUE(await(runtime().stop_container(id, kGrace)));
  auto first = status_of(id);
  EXPECT_TRUE(await(runtime().stop_container(id, kGrace)));
  EXPECT_EQ(status_of(id), first);  // unchanged
}

TEST_P(RuntimeContractTest, RemovingARunningContainerFails) {
  SandboxConfig sb = sandbox_config();
  SandboxId sandbox = must_run_sandbox(sb);
  ContainerId id = must_start(sandbox, container_config(harness().runs_forever("app"), sb));
  EXPECT_FALSE(await(runtime().remove_container(id)));
  auto s = status_of(id);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->state, ContainerState::Running);
}

TEST_P(RuntimeContractTest, StartingTwiceFails) {
  SandboxConfig sb = sandbox_config();
  SandboxId sandbox = must_run_sandbox(sb);
  ContainerId id = must_start(sandbox, container_config(harness().runs_forever("app"), sb));
  EXPECT_FALSE(await(runtime().start_container(id)));
}

TEST_P(RuntimeContractTest, StopSandboxStopsItsContainers) {
  SandboxConfig sb = sandbox_config();
  SandboxId sandbox = must_run_sandbox(sb);
  ContainerId a = must_start(sandbox, container_config(harness().runs_forever("a"), sb));
  ContainerId b = must_start(sandbox, container_config(harness().runs_forever("b"), sb));
  ASSERT_TRUE(await(runtime().stop_sandbox(sandbox)));
  for (const ContainerId& id : {a, b}) {
    auto s = status_of(id);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->state, ContainerState::Exited) << id.str();
  }
}

// As in CRI: removing a sandbox removes its containers, running or not.
TEST_P(RuntimeContractTest, RemoveSandboxRemovesItsContainers) {
  SandboxConfig sb = sandbox_config("uid-1");
  SandboxConfig other = sandbox_config("uid-2", "other");
  SandboxId sandbox = must_run_sandbox(sb);
  SandboxId other_sandbox = must_run_sandbox(other);
  ContainerId running = must_start(sandbox, container_config(harness().runs_forever("a"), sb));
  auto created = await(runtime().create_container(sandbox, container_config(harness().runs_forever("b"), sb)));
  ASSERT_TRUE(created);
  ContainerId kept = must_start(other_sandbox, container_config(harness().runs_forever("c"), other));
  ASSERT_TRUE(await(runtime().remove_sandbox(sandbox)));
  EXPECT_FALSE(status_of(running));
  EXPECT_FALSE(status_of(*created));
  auto list = await(runtime().list_containers());
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().id, kept);
  EXPECT_EQ(list->front().state, ContainerState::Running);
}

TEST_P(RuntimeContractTest, UnknownIdsGiveErrors) {
  SandboxId no_sandbox("no-such-sandbox");
  ContainerId no_container("no-such-container");
  SandboxConfig sb = sandbox_config();
  EXPECT_FALSE(await(runtime().stop_sandbox(no_sandbox)));
  EXPECT_FALSE(await(runtime().remove_sandbox(no_sandbox)));
  EXPECT_FALSE(await(runtime().create_container(no_sandbox, container_config(harness().runs_forever("a"), sb))));
  EXPECT_FALSE(await(runtime().start_container(no_container)));
  EXPECT_FALSE(await(runtime().stop_container(no_container, 1s)));
  EXPECT_FALSE(await(runtime().remove_container(no_container)));
  EXPECT_FALSE(await(runtime().container_status(no_container)));
  EXPECT_FALSE(await(runtime().exec(no_container, {"true"}, 1s)));
}

TEST_P(RuntimeContractTest, ExecInARunningContainerReturnsItsExitCode) {
  SandboxConfig sb = sandbox_config();
  SandboxId sandbox = must_run_sandbox(sb);
  ContainerId id = must_start(sandbox, container_config(harness().runs_forever("app"), sb));
  auto r = await(runtime().exec(id, {"true"}, 5s));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_FALSE(r->timed_out);
}

TEST_P(RuntimeContractTest, ListsReturnCopies) {
  SandboxConfig sb = sandbox_config();
  SandboxId sandbox = must_run_sandbox(sb);
  ContainerId id = must_start(sandbox, container_config(harness().runs_forever("app"), sb));
  auto before = await(runtime().list_containers());
  ASSERT_TRUE(before);
  ASSERT_TRUE(await(runtime().stop_container(id, kGrace)));
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ(before->front().state, ContainerState::Running);
}

}  // namespace
}  // namespace podagent::runtime::testing
