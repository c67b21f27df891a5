#include "agent/api_write_helpers.h"

#include <random>
#include <string_view>
#include <utility>

namespace podagent::agent {

bool is_dry_run(const Query& query) { return query.get("dryRun").value_or("") == "All"; }

std::optional<ApiError> settle_namespace(model::ObjectMeta& meta, const std::string& url_namespace) {
  if (meta.namespace_.empty()) meta.namespace_ = url_namespace;
  if (meta.namespace_ != url_namespace)
    return bad_request(
        "the namespace of the provided object does not match the namespace sent on the request");
  return std::nullopt;
}

std::string random_suffix() {
  // Kubernetes' alphabet: no vowels, no 0, 1 or 3.
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::random_device random;
  std::string out;
  for (int i = 0; i < 5; ++i) out += kAlphabet[random() % kAlphabet.size()];
  return out;
}

ApiResponse with_warnings(ApiResponse response, std::vector<std::string> warnings) {
  response.warnings = std::move(warnings);
  return response;
}

}  // namespace podagent::agent
