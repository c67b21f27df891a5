#pragma once

#include "probes/probe_state.h"

namespace podagent::podworker {

using probes::ProbeState;

}  // namespace podagent::podworker
