#pragma once

#include "model/pod.h"

namespace podagent::model {

// Fills the fields the Kubernetes API server defaults (pkg/apis/core/v1
// defaults.go): restartPolicy Always, terminationGracePeriodSeconds 30,
// namespace "default", dnsPolicy ClusterFirst, schedulerName, imagePullPolicy
// from the image tag, probe timings 1/10/1/3, port protocol TCP,
// terminationMessagePath/Policy, volume modes, httpGet path and scheme, and
// so on. Idempotent; never overwrites a value that is set.
void apply_defaults(Pod& pod);

}  // namespace podagent::model
