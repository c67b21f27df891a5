#pragma once

// The handlers' probers behind make_prober (prober.cc), one file each.
// Internal to probes/: no Asio type appears here.

#include <chrono>
#include <memory>

#include "model/probe.h"
#include "probes/prober.h"

namespace podagent::probes {

// exec: runtime.exec with `timeout` (the runtime kills the process at the
// deadline). Exit 0 succeeds; the message is the combined output (stdout,
// then stderr), capped at 10 KiB.
runtime::Task<ProbeOutcome> probe_exec(runtime::Runtime& runtime, const ProbeTarget& target,
                                       const model::ExecAction& action,
                                       std::chrono::milliseconds timeout);

// tcpSocket: a connection made within `timeout`, closed at once.
runtime::Task<ProbeOutcome> probe_tcp(runtime::Runtime& runtime, const ProbeTarget& target,
                                      const model::TcpSocketAction& action,
                                      std::chrono::milliseconds timeout);

// grpc: grpc.health.v1.Health/Check over plaintext HTTP/2 within `timeout`.
runtime::Task<ProbeOutcome> probe_grpc(runtime::Runtime& runtime, const ProbeTarget& target,
                                       const model::GrpcAction& action,
                                       std::chrono::milliseconds timeout);

// httpGet, HTTP and HTTPS. Holds the TLS client context, made once.
class HttpProber {
 public:
  explicit HttpProber(runtime::Runtime& runtime);
  ~HttpProber();
  HttpProber(const HttpProber&) = delete;
  HttpProber& operator=(const HttpProber&) = delete;

  // One GET (and the redirects the kubelet follows) within `timeout`.
  runtime::Task<ProbeOutcome> probe(const ProbeTarget& target, const model::HttpGetAction& action,
                                    std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podagent::probes
