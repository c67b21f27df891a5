#include "agent/pod_events.h"

#include <gtest/gtest.h>

#include <map>

#include "model/document.h"

namespace podagent::agent {
namespace {

using namespace std::chrono_literals;

class PodEventsTest : public testing::Test {
 protected:
  PodEventsTest() {
    pods_[base::PodUid("u1")] = PodRef{"default", "web", "u1"};
    pods_[base::PodUid("u2")] = PodRef{"other", "db", "u2"};
  }
  PodEvents make(size_t max = 100) {
    PodEvents::Options o;
    o.max_per_pod = max;
    o.lookup = [this](const base::PodUid& uid) -> std::optional<PodRef> {
      auto it = pods_.find(uid);
      if (it == pods_.end()) return std::nullopt;
      return it->second;
    };
    o.wall_now = [this] { return now_; };
    return PodEvents(o);
  }

  std::map<base::PodUid, PodRef> pods_;
  model::WallTime now_ =
      model::WallTime(std::chrono::seconds(1'767'323'045));  // 2026-01-02T03:04:05Z
};

TEST_F(PodEventsTest, RepeatsMergeWithCountAndLastTimestamp) {
  PodEvents events = make();
  const base::PodUid u1("u1");
  events.record(u1, "Warning", "BackOff", "spec.containers{web}",
                "Back-off restarting failed container web");
  const auto first = now_;
  now_ += 10s;
  events.record(u1, "Normal", "Pulled", "spec.containers{web}", "pulled");
  now_ += 20s;
  events.record(u1, "Warning", "BackOff", "spec.containers{web}",
                "Back-off restarting failed container web");
  events.record(u1, "Warning", "BackOff", "spec.containers{other}",
                "Back-off restarting failed container web");
  auto list = events.of(u1);
  ASSERT_EQ(list.size(), 3u);
  // The repeat moved to the end (latest), merged.
  EXPECT_EQ(list[0].event.reason, "Pulled");
  EXPECT_EQ(list[1].event.reason, "BackOff");
  EXPECT_EQ(list[1].event.count, 2);
  EXPECT_EQ(list[1].event.first_timestamp, first);
  EXPECT_EQ(list[1].event.last_timestamp, now_);
  EXPECT_EQ(list[2].event.count, 1);  // another field path: another event
  EXPECT_EQ(list[0].pod.name, "web");
  EXPECT_NE(list[0].name, list[1].name);
  EXPECT_TRUE(list[0].name.starts_with("web."));
}

TEST_F(PodEventsTest, BoundedPerPodOldestDropped) {
  PodEvents events = make(3);
  for (int i = 0; i < 5; ++i)
    events.record(base::PodUid("u1"), "Normal", "Started", "", "m" + std::to_string(i));
  auto list = events.of(base::PodUid("u1"));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].event.message, "m2");
  EXPECT_EQ(list[2].event.message, "m4");
}

TEST_F(PodEventsTest, UnknownPodsAreDroppedAndForgetRemoves) {
  PodEvents events = make();
  events.record(base::PodUid("nope"), "Normal", "Started", "", "x");
  EXPECT_TRUE(events.list().empty());
  events.record(base::PodUid("u1"), "Normal", "Started", "", "x");
  events.record(base::PodUid("u2"), "Normal", "Started", "", "y");
  EXPECT_EQ(events.list().size(), 2u);
  EXPECT_EQ(events.list("other").size(), 1u);
  const uint64_t v = events.resource_version();
  events.forget(base::PodUid("u1"));
  EXPECT_GT(events.resource_version(), v);
  EXPECT_TRUE(events.of(base::PodUid("u1")).empty());
  EXPECT_EQ(events.list().size(), 1u);
}

TEST_F(PodEventsTest, FieldSelector) {
  PodEvents events = make();
  events.record(base::PodUid("u1"), "Warning", "BackOff", "spec.containers{web}", "x");
  events.record(base::PodUid("u2"), "Normal", "Started", "", "y");
  auto count = [&](std::string_view text) {
    auto s = EventFieldSelector::parse(text);
    EXPECT_TRUE(s.ok()) << text;
    size_t n = 0;
    for (const auto& e : events.list()) n += s->matches(e);
    return n;
  };
  EXPECT_EQ(count(""), 2u);
  EXPECT_EQ(count("involvedObject.name=web"), 1u);
  EXPECT_EQ(count("involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u1"),
            1u);
  EXPECT_EQ(count("involvedObject.name=web,involvedObject.uid=u9"), 0u);
  EXPECT_EQ(count("type!=Normal"), 1u);
  EXPECT_EQ(count("involvedObject.kind==Pod"), 2u);
  EXPECT_EQ(count("involvedObject.fieldPath=spec.containers{web}"), 1u);
  EXPECT_FALSE(EventFieldSelector::parse("spec.nodeName=x").ok());
  EXPECT_FALSE(EventFieldSelector::parse("reason").ok());
}

TEST_F(PodEventsTest, EncodedAsCoreV1Event) {
  PodEvents events = make();
  events.record(base::PodUid("u1"), "Normal", "Started", "spec.containers{web}",
                "Started container web");
  const model::Node n = encode_event(events.list().front(), "node-a");
  const std::string json = model::to_json(n);
  EXPECT_NE(
      json.find(R"("involvedObject":{"kind":"Pod","namespace":"default","name":"web","uid":"u1",)"
                R"("apiVersion":"v1","fieldPath":"spec.containers{web}"})"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("source":{"component":"podagent","host":"node-a"})"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("firstTimestamp":"2026-01-02T03:04:05Z")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("count":1)"), std::string::npos) << json;
}

TEST_F(PodEventsTest, DescribeEventsLikeKubectl) {
  PodEvents events = make();
  const auto t0 = now_;
  events.record(base::PodUid("u1"), "Normal", "Started", "", "Started container web");
  now_ += 30s;
  events.record(base::PodUid("u1"), "Warning", "BackOff", "", "Back-off");
  now_ += 10s;
  events.record(base::PodUid("u1"), "Warning", "BackOff", "", "Back-off");
  std::vector<model::PodEvent> list;
  for (const auto& e : events.of(base::PodUid("u1"))) list.push_back(e.event);
  EXPECT_EQ(describe_events(list, t0 + 60s),
            "Events:\n"
            "  Type     Reason   Age                From      Message\n"
            "  ----     ------   ----               ----      -------\n"
            "  Normal   Started  60s                podagent  Started container web\n"
            "  Warning  BackOff  20s (x2 over 30s)  podagent  Back-off\n");
  EXPECT_EQ(describe_events({}, t0), "Events:  <none>\n");
}

TEST_F(PodEventsTest, DecodeEventListRoundTrip) {
  PodEvents events = make();
  events.record(base::PodUid("u1"), "Warning", "FailedPostStartHook", "spec.containers{web}",
                "boom");
  events.record(base::PodUid("u1"), "Warning", "FailedPostStartHook", "spec.containers{web}",
                "boom");
  model::Node list = model::Node::map();
  model::Node& items = list.set("items", model::Node::sequence());
  for (const auto& e : events.list()) items.push(encode_event(e, "node-a"));
  auto decoded = decode_event_list(model::to_json(list));
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  ASSERT_EQ(decoded->size(), 1u);
  EXPECT_EQ((*decoded)[0], events.list().front().event);
}

TEST_F(PodEventsTest, DescribeProbesAndHooks) {
  model::Pod pod;
  model::Container c;
  c.name = "web";
  model::Probe live;
  live.handler.http_get = model::HttpGetAction{};
  live.handler.http_get->path = "/healthz";
  live.handler.http_get->port.value = int64_t{8080};
  live.period_seconds = 5;
  c.liveness_probe = live;
  c.lifecycle = model::Lifecycle{};
  c.lifecycle->pre_stop = model::Handler{};
  c.lifecycle->pre_stop->exec = model::ExecAction{{"/bin/sh", "-c", "drain"}};
  pod.spec.containers.push_back(c);
  EXPECT_EQ(describe_probes(pod),
            "Probes and Hooks:\n"
            "  web:\n"
            "    Liveness:  http-get http://:8080/healthz delay=0s timeout=1s period=5s #success=1 "
            "#failure=3\n"
            "    PreStop:   exec [/bin/sh -c drain]\n");
  EXPECT_EQ(describe_probes(model::Pod{}), "");
}

}  // namespace
}  // namespace podagent::agent
