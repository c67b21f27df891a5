#pragma once

#include <string_view>

#include "base/result.h"
#include "model/node.h"

namespace podagent::agent {

// The three PATCH bodies of the Kubernetes API, applied to a document tree
// (a pod as encode_pod gives it). Pure. An error's message says why the
// patch cannot apply, for a 422 (JSON patch) or 400 answer.

// RFC 7386 (application/merge-patch+json): maps merge key by key, null
// removes a key, anything else (lists included) replaces.
base::Result<model::Node> apply_merge_patch(model::Node target, const model::Node& patch);

// application/strategic-merge-patch+json, as far as Pod objects need it: a
// merge patch in which a list of maps whose patch items all carry a "name"
// (containers, ephemeralContainers, env, volumes, volumeMounts, ...) is
// merged item by item on that key, an item with "$patch": "delete" removing
// its match and "$patch": "replace" replacing it; "$setElementOrder/<list>"
// and "$retainKeys" directives are accepted and ignored; other lists are
// replaced.
base::Result<model::Node> apply_strategic_merge_patch(model::Node target, const model::Node& patch);

// RFC 6902 (application/json-patch+json): a list of operations add,
// remove, replace, move, copy and test on RFC 6901 pointers, applied in
// order; the first failing operation fails the whole patch.
base::Result<model::Node> apply_json_patch(model::Node target, const model::Node& operations);

}  // namespace podagent::agent
