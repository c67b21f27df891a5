#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "runtime/oci/image_store.h"

// Internal to the image store: its metadata index, image configs, its lock.
namespace podagent::runtime::oci {

struct StoredLayer {
  std::string diff_id;  // "sha256:<hex>" of the uncompressed tar: names layers/<hex>/
  std::string blob;     // "sha256:<hex>" of the blob as imported: names blobs/sha256/<hex>
  uint64_t size = 0;    // of the blob
  bool operator==(const StoredLayer&) const = default;
};

struct StoredImage {
  std::string id;  // the config blob's digest
  std::vector<std::string> names;
  std::string manifest;  // the manifest blob's digest; empty from docker save
  std::vector<StoredLayer> layers;
  ImageConfig config;
  bool operator==(const StoredImage&) const = default;
};

// Parses the index file; a missing file is an empty store.
base::Result<std::vector<StoredImage>> read_index(const std::filesystem::path& file);
// Replaces the index file atomically (a temporary file, fsync, rename).
base::Status write_index(const std::filesystem::path& file, const std::vector<StoredImage>& images);

// An image config blob: what a container is made from, and its layers'
// diff_ids (rootfs.diff_ids), bottom first.
struct ParsedConfig {
  ImageConfig config;
  std::vector<std::string> diff_ids;
};
base::Result<ParsedConfig> parse_image_config(const std::string& text);

// An exclusive flock(2) on a file, held until destruction. Serializes the
// store's writers across processes (and threads: each lock is its own open
// file description).
class StoreLock {
 public:
  static base::Result<StoreLock> acquire(const std::filesystem::path& file);

 private:
  explicit StoreLock(base::UniqueFd fd) : fd_(std::move(fd)) {}
  base::UniqueFd fd_;  // closing it releases the lock
};

}  // namespace podagent::runtime::oci
