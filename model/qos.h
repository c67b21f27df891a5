#pragma once

#include <string_view>

#include "model/pod.h"

namespace podagent::model {

inline constexpr std::string_view kQosGuaranteed = "Guaranteed";
inline constexpr std::string_view kQosBurstable = "Burstable";
inline constexpr std::string_view kQosBestEffort = "BestEffort";

// The pod's QoS class, as Kubernetes computes it (core/v1/helper/qos):
// only cpu and memory count, and only positive quantities. BestEffort when
// no container (app, init or sidecar) requests or limits either; Guaranteed
// when every container limits both, and the pod's summed requests equal its
// summed limits for each of them; Burstable otherwise.
//
// A resource limited but not requested counts as requested at its limit,
// which is what the API server's defaulting writes into the spec, so the
// answer is the same for a defaulted and an undefaulted spec.
//
// Here in model/ because both the pod worker (status) and the runtime
// backends (the pod's cgroup parent) need it.
std::string_view qos_class(const PodSpec& spec);

}  // namespace podagent::model
