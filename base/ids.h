#pragma once

#include <compare>
#include <functional>
#include <string>
#include <utility>

namespace podagent::base {

// A string id that cannot be mixed up with another kind of id.
template <typename Tag>
class StrongId {
 public:
  StrongId() = default;
  explicit StrongId(std::string value) : value_(std::move(value)) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const StrongId&) const = default;
  bool operator==(const StrongId&) const = default;

 private:
  std::string value_;
};

using PodUid = StrongId<struct PodUidTag>;
using SandboxId = StrongId<struct SandboxIdTag>;
using ContainerId = StrongId<struct ContainerIdTag>;

}  // namespace podagent::base

template <typename Tag>
struct std::hash<podagent::base::StrongId<Tag>> {
  size_t operator()(const podagent::base::StrongId<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
