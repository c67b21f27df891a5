#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/ids.h"
#include "model/config_object.h"
#include "model/pod.h"

namespace podagent::static_pods {

// A pod that a manifest file asks for, already named, defaulted and
// validated (see static_pod_naming.h). The pod is shared and never changed:
// every snapshot holds the same one until its file changes, so that a
// snapshot is made and compared without copying or reading its pods.
struct DesiredPod {
  std::shared_ptr<const model::Pod> pod;
  std::string file;  // the manifest's file name inside the directory
  bool operator==(const DesiredPod& o) const {
    return file == o.file && (pod == o.pod || (pod && o.pod && *pod == *o.pod));
  }
};

// Everything a source wants running, by UID. A static pod's UID is a hash of
// its manifest, so an edited manifest shows up as one UID gone and another
// added, never as a changed pod under the same UID.
//
// With them, the ConfigMaps and Secrets the source holds, defaulted and
// validated, under the names and namespaces they were written with (no
// node suffix: pods refer to them by those names).
struct ManifestSnapshot {
  std::map<base::PodUid, DesiredPod> pods;
  model::ConfigObjects objects;
  bool operator==(const ManifestSnapshot&) const = default;
};

// Per file name, the problems of its latest read, each a line such as
// "document 2: spec.containers[0].image: Required value". A file is listed
// only while it has problems.
using ManifestErrors = std::map<std::string, std::vector<std::string>>;

// A source of desired pods (the manifest directory; a test double).
//
// Delivery is by snapshot, as the kubelet's SET operation: each call of the
// handler carries the complete desired set, and the consumer diffs it
// against the previous one. The handler is called once after the first full
// read (even when it found nothing, so that the consumer knows the source
// was read), then only when the set changed (its pods or its objects). It runs on the io_context
// thread the source was built on, never inside start() or stop().
class ManifestSource {
 public:
  using Handler = std::function<void(const ManifestSnapshot&)>;

  virtual ~ManifestSource() = default;

  // Begins reading; REQUIRES: called once.
  virtual void start(Handler handler) = 0;
  // Stops watching: the handler is not called again. Idempotent.
  virtual void stop() = 0;

  // True once the first full read is done and delivered (for /readyz).
  virtual bool ready() const = 0;
  // The last snapshot delivered (empty before the first).
  virtual const ManifestSnapshot& snapshot() const = 0;
  // Files whose latest read failed; their last good pods and objects stay in
  // snapshot().
  virtual const ManifestErrors& errors() const = 0;
  // How many times a file's problems appeared or changed, since start: a
  // monotonic counter for metrics (podagent_manifest_errors_total).
  virtual uint64_t error_total() const = 0;
};

}  // namespace podagent::static_pods
