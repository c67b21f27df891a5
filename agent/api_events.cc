// GET /api/v1/events and /api/v1/namespaces/{ns}/events: the pods' events
// (agent/pod_events.h) as a core/v1 EventList, so that `kubectl describe
// pod` and `kubectl get events` show them.

#include "agent/api_routes.h"
#include "agent/pod_events.h"

namespace podagent::agent {

ApiResponse ApiRoutes::list_events(const ApiRequest& request, const Target& target) {
  auto selector = EventFieldSelector::parse(target.query.get("fieldSelector").value_or(""));
  if (!selector) return error_response(bad_request(selector.error().message));
  model::Node items = model::Node::sequence();
  for (const StoredEvent& e : options_.events->list(target.namespace_))
    if (selector->matches(e)) items.push(encode_event(e, options_.node_name));
  model::Node list = model::Node::map();
  list.set("kind", model::Node::string("EventList"));
  list.set("apiVersion", model::Node::string("v1"));
  model::Node& meta = list.set("metadata", model::Node::map());
  meta.set("resourceVersion",
           model::Node::string(std::to_string(options_.events->resource_version())));
  list.set("items", std::move(items));
  return render(request, 200, list);
}

}  // namespace podagent::agent
