#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

// Internal to the image store: content digests of blobs and layers.
namespace podagent::runtime::oci {

// An incremental sha256 (libcrypto). Move-only.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(const void* data, size_t size);
  // "sha256:<64 lowercase hex>" of everything updated so far; call once.
  std::string finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string sha256_digest(std::string_view data);

// The digest of a file's bytes, and how many there were.
struct FileDigest {
  std::string digest;
  uint64_t size = 0;
};
base::Result<FileDigest> sha256_file(const std::filesystem::path& file);

// Whether `digest` is "sha256:" followed by 64 lowercase hex digits.
bool is_sha256_digest(std::string_view digest);
// The hex part of a digest that is_sha256_digest.
inline std::string digest_hex(std::string_view digest) {
  return std::string(digest.substr(digest.find(':') + 1));
}

}  // namespace podagent::runtime::oci
