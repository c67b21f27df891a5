#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

// What a configMap, secret, downwardAPI or projected volume holds: the
// kubelet's map of FileProjection by path.
namespace podagent::volumes {

// One file of a volume: its bytes and its permission bits (0644, 0400, ...).
struct FileProjection {
  std::string data;
  int32_t mode = 0644;
  bool operator==(const FileProjection&) const = default;
};

// Path relative to the volume's directory ("key", "dir/file") -> file.
// Paths are cleaned (clean_path) by the kinds that build them;
// AtomicWriter checks them again before writing.
using Payload = std::map<std::string, FileProjection>;

// Go's filepath.Clean of a relative path: no empty, "." or trailing
// elements, ".." folded where it can be ("a/../b" -> "b"); "" -> ".".
std::string clean_path(std::string_view path);

// Kubernetes' utilerrors.NewAggregate as text: one error as itself, more as
// "[first, second]". REQUIRES: !errors.empty().
base::Error aggregate_errors(const std::vector<base::Error>& errors);

}  // namespace podagent::volumes
