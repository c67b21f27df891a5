#include "model/qos.h"

#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace podagent::model {

namespace {

constexpr std::array<std::string_view, 2> kQosResources = {"cpu", "memory"};

// Pod-wide sums of positive quantities, in milli-units, per QoS resource.
struct Sums {
  std::map<std::string_view, int64_t> requests;
  std::map<std::string_view, int64_t> limits;
};

// Adds one container; returns whether it limits both cpu and memory.
bool add_container(const Container& c, Sums& sums) {
  bool limits_both = true;
  for (std::string_view name : kQosResources) {
    const std::string key(name);
    auto limit = c.resources.limits.find(key);
    bool has_limit = limit != c.resources.limits.end() && limit->second.milli() > 0;
    if (has_limit) {
      sums.limits[name] += limit->second.milli();
    } else {
      limits_both = false;
    }
    auto request = c.resources.requests.find(key);
    if (request != c.resources.requests.end()) {
      if (request->second.milli() > 0) sums.requests[name] += request->second.milli();
    } else if (has_limit) {
      sums.requests[name] += limit->second.milli();  // defaulted from the limit
    }
  }
  return limits_both;
}

}  // namespace

std::string_view qos_class(const PodSpec& spec) {
  Sums sums;
  bool guaranteed = true;
  for (const auto& c : spec.containers) guaranteed = add_container(c, sums) && guaranteed;
  for (const auto& c : spec.init_containers) guaranteed = add_container(c, sums) && guaranteed;
  if (sums.requests.empty() && sums.limits.empty()) return kQosBestEffort;
  if (guaranteed && sums.requests == sums.limits) return kQosGuaranteed;
  return kQosBurstable;
}

}  // namespace podagent::model
