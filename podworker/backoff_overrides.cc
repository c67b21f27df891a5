#include "podworker/backoff_overrides.h"

#include <cmath>
#include <string>

namespace podagent::podworker {
namespace {

std::optional<double> unit_nanos(std::string_view u) {
  if (u == "ns") return 1.0;
  if (u == "us" || u == "\xC2\xB5s" || u == "\xCE\xBCs") return 1e3;
  if (u == "ms") return 1e6;
  if (u == "s") return 1e9;
  if (u == "m") return 60e9;
  if (u == "h") return 3600e9;
  return std::nullopt;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

base::Result<base::Duration> parse_go_duration(std::string_view text) {
  if (text == "0") return base::Duration::zero();
  if (text.empty()) return base::Error("empty duration");
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (is_digit(text[i]) || text[i] == '.')) ++i;
    std::string number(text.substr(start, i - start));
    if (number.empty() || number == "." || number.find('.') != number.rfind('.')) {
      return base::Error("invalid duration \"" + std::string(text) + "\"");
    }
    start = i;
    while (i < text.size() && !is_digit(text[i]) && text[i] != '.') ++i;
    auto nanos = unit_nanos(text.substr(start, i - start));
    if (!nanos) return base::Error("missing or unknown unit in duration \"" + std::string(text) + "\"");
    total += std::stod(number) * *nanos;
  }
  if (total > 9.2e18) return base::Error("duration \"" + std::string(text) + "\" is too large");
  return std::chrono::duration_cast<base::Duration>(std::chrono::nanoseconds(std::llround(total)));
}

base::Result<std::optional<base::Backoff::Options>> backoff_overrides(const model::Pod& pod,
                                                                      const base::Backoff::Options& node) {
  base::Backoff::Options options = node;
  bool any = false;
  for (auto [name, field] : {std::pair{kAnnotationCrashloopInitial, &options.initial},
                             std::pair{kAnnotationCrashloopMax, &options.max}}) {
    auto it = pod.metadata.annotations.find(name);
    if (it == pod.metadata.annotations.end()) continue;
    auto d = parse_go_duration(it->second);
    if (!d) return base::Error(d.error().message, std::string("metadata.annotations[") + name + "]");
    if (*d <= base::Duration::zero()) {
      return base::Error("must be a positive duration", std::string("metadata.annotations[") + name + "]");
    }
    *field = *d;
    any = true;
  }
  if (!any) return std::optional<base::Backoff::Options>();
  return std::optional<base::Backoff::Options>(options);
}

}  // namespace podagent::podworker
