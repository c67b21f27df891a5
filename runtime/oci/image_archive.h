#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

// Internal to the image store: what an image source (an OCI image layout,
// or the tree of a `docker save` archive) holds.
namespace podagent::runtime::oci {

// One blob of a source tree, and what its descriptor promises.
struct BlobRef {
  std::filesystem::path file;
  std::string digest;            // "sha256:<hex>"; empty when the source names none
  std::optional<uint64_t> size;  // when a descriptor gives it
  bool operator==(const BlobRef&) const = default;
};

struct SourceImage {
  std::vector<std::string> names;   // references as the source gives them, not normalized
  std::optional<BlobRef> manifest;  // already verified (its content was read); none in docker save
  BlobRef config;                   // old docker save: digest from the file's name, or empty
  std::vector<BlobRef> layers;      // bottom first; not yet read
  std::string where;                // "index.json manifests[0]", for messages
};

// Extracts the archive `file` (a tar, optionally compressed) into `dest`,
// which it creates: directories and regular files only, with symlinks and
// hardlinks to files of the archive made hardlinks (docker save links
// shared layers so). Refuses entries and links that escape `dest`.
base::Status extract_archive(const std::filesystem::path& file, const std::filesystem::path& dest);

// The images of the tree at `dir`: an OCI image layout (oci-layout,
// index.json, blobs/; nested indexes are resolved to this machine's
// platform), else a `docker save` tree (manifest.json). Every index and
// manifest read is checked against its descriptor's digest and size; the
// config and layer blobs are only located (callers verify them). Paths the
// tree names never lead outside `dir`.
base::Result<std::vector<SourceImage>> read_image_tree(const std::filesystem::path& dir);

// The whole of a small file (JSON documents), refusing one over `limit` bytes.
base::Result<std::string> read_small_file(const std::filesystem::path& file,
                                          uint64_t limit = 16 << 20);

}  // namespace podagent::runtime::oci
