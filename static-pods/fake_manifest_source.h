#pragma once

#include <cstdint>
#include <utility>

#include "static-pods/manifest_source.h"

namespace podagent::static_pods {

// A ManifestSource that a test drives: deliver() hands a snapshot to the
// handler at once, on the test's thread (which must be the io_context's).
class FakeManifestSource final : public ManifestSource {
 public:
  void start(Handler handler) override {
    handler_ = std::move(handler);
    started_ = true;
  }
  void stop() override { stopped_ = true; }

  // Makes `snapshot` the desired set and the source ready; calls the handler
  // when started and not stopped.
  void deliver(ManifestSnapshot snapshot) {
    snapshot_ = std::move(snapshot);
    ready_ = true;
    if (started_ && !stopped_ && handler_) handler_(snapshot_);
  }
  // Sets the reported errors; the counter grows by one per call with errors.
  void set_errors(ManifestErrors errors) {
    if (!errors.empty()) ++error_total_;
    errors_ = std::move(errors);
  }

  bool started() const { return started_; }
  bool stopped() const { return stopped_; }

  bool ready() const override { return ready_; }
  const ManifestSnapshot& snapshot() const override { return snapshot_; }
  const ManifestErrors& errors() const override { return errors_; }
  uint64_t error_total() const override { return error_total_; }

 private:
  Handler handler_;
  bool started_ = false;
  bool stopped_ = false;
  bool ready_ = false;
  ManifestSnapshot snapshot_;
  ManifestErrors errors_;
  uint64_t error_total_ = 0;
};

}  // namespace podagent::static_pods
