#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace podagent::model {

// A Kubernetes resource quantity ("100m", "0.5", "1Gi", "1G", "1e3").
//
// Parsed exactly as Kubernetes' resource.ParseQuantity: an optional sign, a
// decimal number, and one suffix — binary SI (Ki Mi Gi Ti Pi Ei), decimal SI
// (n u m "" k M G T P E) or a decimal exponent (e3, E-2). The value is kept as
// an exact count of thousandths ("milli-units"); precision below 1m is rounded
// up, as Kubernetes does for cpu. Values whose milli-count does not fit in
// int64 are refused. Negative quantities parse (Kubernetes allows them) but
// validation of requests and limits refuses them.
class Quantity {
 public:
  Quantity() = default;
  static base::Result<Quantity> parse(std::string_view text);
  static Quantity from_milli(int64_t milli);
  static Quantity from_value(int64_t value) { return from_milli(value * 1000); }

  int64_t milli() const { return milli_; }
  // Whole units, rounded up (bytes for memory, cores for cpu).
  int64_t value() const;
  // The text it was parsed from, or a canonical form for constructed values.
  const std::string& text() const { return text_; }
  bool is_zero() const { return milli_ == 0; }

  bool operator==(const Quantity& o) const { return milli_ == o.milli_; }
  auto operator<=>(const Quantity& o) const { return milli_ <=> o.milli_; }

 private:
  int64_t milli_ = 0;
  std::string text_ = "0";
};

// resources.requests / resources.limits: resource name -> quantity.
using ResourceList = std::map<std::string, Quantity>;

}  // namespace podagent::model
