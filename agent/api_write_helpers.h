#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/api_errors.h"
#include "agent/api_routes.h"
#include "model/pod.h"

// What the API's create, replace and delete routes share, for pods
// (api_pod_writes.cc) and for ConfigMaps and Secrets (api_config_objects.cc).
namespace podagent::agent {

// dryRun=All in the query.
bool is_dry_run(const Query& query);

// Fills the object's namespace from the URL's; a different one is refused.
std::optional<ApiError> settle_namespace(model::ObjectMeta& meta, const std::string& url_namespace);

// Five characters of Kubernetes' names.SimpleNameGenerator, for generateName.
std::string random_suffix();

ApiResponse with_warnings(ApiResponse response, std::vector<std::string> warnings);

}  // namespace podagent::agent
