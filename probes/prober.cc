#include "probes/prober.h"

namespace podagent::probes {

std::string_view probe_type_name(ProbeType type) {
  switch (type) {
    case ProbeType::Startup: return "startup";
    case ProbeType::Liveness: return "liveness";
    case ProbeType::Readiness: return "readiness";
  }
  return "unknown";
}

}  // namespace podagent::probes
