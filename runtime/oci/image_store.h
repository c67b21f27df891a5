#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace podagent::runtime::oci {

// What a container is made from, as the image's config says.
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "NAME=value"
  std::string working_dir;
  std::string user;
  std::map<std::string, std::string> labels;
  bool operator==(const ImageConfig&) const = default;
};

struct Image {
  std::string id;                    // "sha256:<hex of the config blob>"
  std::vector<std::string> names;    // normalized references, see normalize_reference
  // The unpacked layers, bottom first: absolute directories, each shared by
  // every image that holds that layer. An overlay's lowerdir lists them top first.
  std::vector<std::filesystem::path> layer_dirs;
  ImageConfig config;
  uint64_t size_bytes = 0;  // of the compressed layers as imported
  bool operator==(const Image&) const = default;
};

// "busybox" -> "docker.io/library/busybox:latest", "localhost/x" ->
// "localhost/x:latest", "a/b@sha256:..." kept with its digest. Errors name
// what is wrong with the reference.
base::Result<std::string> normalize_reference(std::string_view ref);

// The node's local images under one directory (<stateDir>/images). Several
// processes may use one store at once (the agent and `podagent image`):
// every change takes a lock and is atomic on disk, and every lookup sees
// what another process committed.
class ImageStore {
 public:
  static base::Result<ImageStore> open(std::filesystem::path root);

  // Imports an OCI image archive (tar, optionally gzip), an OCI image layout
  // directory, or a `docker save` archive; verifies every digest; unpacks
  // each layer not yet in the store once (whiteouts and opaque directories
  // applied). `name` tags the image (alone, or the only one of several in
  // the archive); otherwise the archive's own names are used.
  base::Result<std::vector<Image>> import(const std::filesystem::path& source,
                                          std::optional<std::string> name = std::nullopt);

  // By name (normalized first), by id, or by a unique prefix of the id's hex
  // of at least 12 characters.
  base::Result<Image> find(std::string_view ref) const;
  base::Result<std::vector<Image>> list() const;

  // A hold marks an image used by a container (`holder` is its id); remove
  // refuses an image with holds. Holds are files, so they outlive a process.
  base::Status add_hold(const std::string& image_id, const std::string& holder);
  base::Status drop_hold(const std::string& image_id, const std::string& holder);
  std::vector<std::string> holds(const std::string& image_id) const;

  // Removes the image and every layer no other image uses.
  base::Status remove(std::string_view ref);

  const std::filesystem::path& root() const { return root_; }
  // The index file, directly under root(): every import and removal
  // replaces it by a rename, whoever makes the change (what a watch of the
  // store's images looks for).
  std::filesystem::path index_file() const;

 private:
  explicit ImageStore(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace podagent::runtime::oci
