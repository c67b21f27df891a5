#include <cstdint>
#include <cstdio>
#include <string>

#include "podworker/pod_status_builder.h"

namespace podagent::podworker {

std::string format_go_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
  char buf[64];
  if (u < 1'000'000'000ULL) {  // below one second: the largest unit that keeps it >= 1
    const char* unit = u < 1000ULL ? "ns" : u < 1'000'000ULL ? "\xC2\xB5s" : "ms";
    uint64_t scale = u < 1000ULL ? 1 : u < 1'000'000ULL ? 1000 : 1'000'000;
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(u / scale));
    std::string out = sign + buf;
    if (uint64_t frac = u % scale) {
      std::snprintf(buf, sizeof buf, "%0*llu", scale == 1000 ? 3 : 6,
                    static_cast<unsigned long long>(frac));
      std::string f = buf;
      f.erase(f.find_last_not_of('0') + 1);
      out += "." + f;
    }
    return out + unit;
  }
  uint64_t secs = u / 1'000'000'000ULL, frac = u % 1'000'000'000ULL;
  uint64_t h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
  std::string out = sign;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  out += std::to_string(s);
  if (frac) {
    std::snprintf(buf, sizeof buf, "%09llu", static_cast<unsigned long long>(frac));
    std::string f = buf;
    f.erase(f.find_last_not_of('0') + 1);
    out += "." + f;
  }
  return out + "s";
}

}  // namespace podagent::podworker
