#include "probes/prober.h"

#include <utility>

#include "probes/probers.h"

namespace podagent::probes {

std::string_view probe_type_name(ProbeType type) {
  switch (type) {
    case ProbeType::Startup: return "startup";
    case ProbeType::Liveness: return "liveness";
    case ProbeType::Readiness: return "readiness";
  }
  return "unknown";
}

namespace {

// Dispatches on the handler's kind; each prober lives in its own file.
class RealProber final : public Prober {
 public:
  explicit RealProber(runtime::Runtime& runtime) : runtime_(runtime), http_(runtime) {}

  runtime::Task<ProbeOutcome> probe(const ProbeTarget& target, const model::Handler& handler,
                                    std::chrono::milliseconds timeout) override {
    if (handler.exec) co_return co_await probe_exec(runtime_, target, *handler.exec, timeout);
    if (handler.http_get) co_return co_await http_.probe(target, *handler.http_get, timeout);
    if (handler.tcp_socket) co_return co_await probe_tcp(runtime_, target, *handler.tcp_socket, timeout);
    if (handler.grpc) co_return co_await probe_grpc(runtime_, target, *handler.grpc, timeout);
    co_return ProbeOutcome{ProbeResult::Failure, "missing probe handler"};
  }

 private:
  runtime::Runtime& runtime_;
  HttpProber http_;
};

}  // namespace

std::unique_ptr<Prober> make_prober(runtime::Runtime& runtime) {
  return std::make_unique<RealProber>(runtime);
}

}  // namespace podagent::probes
