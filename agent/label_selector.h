#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/pod.h"

namespace podagent::agent {

// A label selector as Kubernetes parses it (k8s.io/apimachinery/pkg/labels):
//   a=b  a==b  a!=b  a in (x,y)  a notin (x)  a  !a  a>5  a<5
// joined by commas; all requirements must hold. The empty selector matches
// everything. Keys must be qualified names ("app", "example.com/tier") and
// values valid label values, as the API server checks.
class LabelSelector {
 public:
  enum class Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist, GreaterThan, LessThan };
  struct Requirement {
    std::string key;
    Op op = Op::Exists;
    std::vector<std::string> values;  // sorted, unique (one for =, !=, >, <)
    bool operator==(const Requirement&) const = default;
  };

  LabelSelector() = default;
  // Errors are worded for a 400 answer ("unable to parse requirement: ...").
  static base::Result<LabelSelector> parse(std::string_view text);

  bool matches(const std::map<std::string, std::string>& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

// A field selector on pods (k8s.io/apimachinery/pkg/fields): comma-separated
// `field=value`, `field==value` or `field!=value` terms; a backslash escapes
// `,`, `=`, `!` and `\` in values. Fields: metadata.name, metadata.namespace,
// spec.nodeName, spec.restartPolicy, spec.schedulerName,
// spec.serviceAccountName, spec.hostNetwork, status.phase, status.podIP;
// any other is refused, as the API server refuses it.
class FieldSelector {
 public:
  struct Term {
    std::string field;
    bool equals = true;  // false for !=
    std::string value;
    bool operator==(const Term&) const = default;
  };

  FieldSelector() = default;
  static base::Result<FieldSelector> parse(std::string_view text);

  bool matches(const model::Pod& pod) const;
  bool empty() const { return terms_.empty(); }
  const std::vector<Term>& terms() const { return terms_; }

 private:
  std::vector<Term> terms_;
};

}  // namespace podagent::agent
