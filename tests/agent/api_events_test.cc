// GET /api/v1/events and /api/v1/namespaces/{ns}/events over the pods'
// event store.

#include <gtest/gtest.h>

#include "agent/api_routes.h"
#include "agent/pod_events.h"
#include "model/document.h"

namespace podagent::agent {
namespace {

struct NoSink : PodSink {
  void create(const model::Pod&) override {}
  void replace(const model::Pod&) override {}
  void remove(const base::PodUid&, int64_t) override {}
};

class ApiEventsTest : public testing::Test {
 protected:
  ApiEventsTest() {
    PodEvents::Options eo;
    eo.lookup = [](const base::PodUid& uid) -> std::optional<PodRef> {
      if (uid.str() == "u1") return PodRef{"default", "web", "u1"};
      if (uid.str() == "u2") return PodRef{"default", "db", "u2"};
      if (uid.str() == "u3") return PodRef{"kube-system", "dns", "u3"};
      return std::nullopt;
    };
    eo.wall_now = [] { return model::WallTime(std::chrono::seconds(1'767'323'045)); };
    events_ = std::make_unique<PodEvents>(eo);
    ApiOptions options;
    options.node_name = "node-a";
    options.events = events_.get();
    routes_ = std::make_unique<ApiRoutes>(store_, sink_, persistence_, options);
    events_->record(base::PodUid("u1"), "Normal", "Started", "spec.containers{web}",
                    "Started container web");
    events_->record(base::PodUid("u2"), "Warning", "BackOff", "spec.containers{db}", "Back-off");
    events_->record(base::PodUid("u2"), "Warning", "BackOff", "spec.containers{db}", "Back-off");
    events_->record(base::PodUid("u3"), "Normal", "Killing", "spec.containers{dns}",
                    "Stopping container dns");
  }

  // The (name, reason, count) of each item of the list at `target`.
  std::vector<std::string> items(const std::string& target, int want_status = 200) {
    ApiRequest r;
    r.method = "GET";
    r.target = target;
    ApiResponse response = routes_->handle(r);
    EXPECT_EQ(response.status, want_status) << response.body;
    std::vector<std::string> out;
    auto docs = model::parse_documents(response.body);
    if (!docs.ok() || docs->empty()) return out;
    const model::Node& list = docs->front();
    if (want_status == 200) {
      EXPECT_EQ(list.find("kind")->text, "EventList");
    }
    const model::Node* its = list.find("items");
    if (!its) return out;
    for (const auto& item : its->items)
      out.push_back(item.find("involvedObject")->find("name")->text + " " +
                    item.find("reason")->text + " " + item.find("count")->text);
    return out;
  }

  PodStore store_;
  NoSink sink_;
  MemoryPodPersistence persistence_;
  std::unique_ptr<PodEvents> events_;
  std::unique_ptr<ApiRoutes> routes_;
};

TEST_F(ApiEventsTest, AllNamespaces) {
  EXPECT_EQ(items("/api/v1/events"),
            (std::vector<std::string>{"web Started 1", "db BackOff 2", "dns Killing 1"}));
}

TEST_F(ApiEventsTest, OneNamespace) {
  EXPECT_EQ(items("/api/v1/namespaces/default/events"),
            (std::vector<std::string>{"web Started 1", "db BackOff 2"}));
  EXPECT_TRUE(items("/api/v1/namespaces/empty/events").empty());
}

TEST_F(ApiEventsTest, FieldSelectorAsKubectlDescribeSendsIt) {
  EXPECT_EQ(items("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Ddb%2C"
                  "involvedObject.namespace%3Ddefault%2CinvolvedObject.uid%3Du2&limit=500"),
            (std::vector<std::string>{"db BackOff 2"}));
  EXPECT_EQ(items("/api/v1/events?fieldSelector=type%3DNormal"),
            (std::vector<std::string>{"web Started 1", "dns Killing 1"}));
}

TEST_F(ApiEventsTest, BadSelectorAndMethod) {
  items("/api/v1/events?fieldSelector=spec.nodeName%3Dx", 400);
  ApiRequest r;
  r.method = "POST";
  r.target = "/api/v1/namespaces/default/events";
  EXPECT_EQ(routes_->handle(r).status, 405);
}

TEST_F(ApiEventsTest, TheEventObject) {
  ApiRequest r;
  r.method = "GET";
  r.target = "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb";
  const std::string body = routes_->handle(r).body;
  EXPECT_NE(body.find(R"("source":{"component":"podagent","host":"node-a"})"), std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("metadata":{"name":"web.)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("lastTimestamp":"2026-01-02T03:04:05Z")"), std::string::npos) << body;
}

}  // namespace
}  // namespace podagent::agent
