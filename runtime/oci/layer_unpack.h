#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

// Internal to the image store: reading layer tars and image archives.
namespace podagent::runtime::oci {

// The components of a path inside an archive ("./a//b/" -> {"a", "b"}; "."
// -> {}). Refuses an absolute path or any ".." component: such an entry
// would escape the directory it is unpacked into.
base::Result<std::vector<std::string>> split_entry_path(std::string_view path);

// Reads the layer blob `blob` (a tar, plain or compressed in any way
// libarchive detects) and returns the sha256 digest of its uncompressed
// bytes: the layer's diff_id. With `dest` (an existing empty directory), it
// also unpacks the layer there, in the form overlayfs reads:
//   - `.wh.NAME` becomes a 0/0 character device NAME (a whiteout),
//   - `.wh..wh..opq` sets trusted.overlay.opaque=y on its directory,
//   - owners, modes, mtimes, xattrs (but no trusted.overlay.* of the
//     archive's own), symlinks, hardlinks and device nodes are kept.
// Entries that would escape `dest` (absolute, "..", or through a symlink
// unpacked earlier) fail the whole layer with an error naming the entry;
// nothing outside `dest` is ever written. On failure `dest` holds a partial
// tree for the caller to delete. REQUIRES: root (owners, devices, trusted.*).
base::Result<std::string> read_layer(const std::filesystem::path& blob,
                                     const std::optional<std::filesystem::path>& dest);

}  // namespace podagent::runtime::oci
