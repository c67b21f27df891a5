#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>
#include "tests/temp_dir.h"

// Builders of image archives for the image store's tests: layer tars,
// OCI image layouts and docker save trees, made with libarchive in memory.
namespace podagent::runtime::oci::image_testing {

struct TarEntry {
  enum class Type { File, Dir, Symlink, Hardlink, CharDevice };
  std::string path;
  Type type = Type::File;
  std::string data;  // a file's content, or a link's target
  mode_t mode = 0644;
  int uid = 0;
  int gid = 0;
};
TarEntry file(std::string path, std::string content, mode_t mode = 0644);
TarEntry dir(std::string path, mode_t mode = 0755);
TarEntry soft_link(std::string path, std::string target);
TarEntry hard_link(std::string path, std::string target);

// A tar (pax format) of `entries` in order, gzip-compressed if asked.
std::string make_tar(const std::vector<TarEntry>& entries, bool gzip = false);

struct TestLayer {
  std::string blob;     // as stored in the archive
  std::string diff_id;  // "sha256:" of the uncompressed tar
  std::string digest;   // "sha256:" of the blob
};
TestLayer make_layer(const std::vector<TarEntry>& entries, bool gzip = false);

struct TestImage {
  std::vector<TestLayer> layers;
  std::string config;  // the config blob
  std::string id;      // its digest
  std::string ref;     // the name the archive gives it, or empty
};
// An image of `layers` whose config runs `cmd`.
TestImage make_image(std::vector<TestLayer> layers, std::string ref,
                     std::vector<std::string> cmd = {"sh"});

// Relative path -> content.
using Files = std::map<std::string, std::string>;
// An OCI image layout, each image named by the ref.name annotation.
Files oci_layout(const std::vector<TestImage>& images);
// A docker save tree: the classic form (<id>.json, <n>/layer.tar) or the
// newer one (an OCI layout with blobs/ plus manifest.json).
Files docker_save(const std::vector<TestImage>& images, bool newer = false);

void write_files(const std::filesystem::path& dir, const Files& files);
std::string tar_files(const Files& files, bool gzip = false);
void write_string(const std::filesystem::path& file, const std::string& content);

using test_util::TempDir;

}  // namespace podagent::runtime::oci::image_testing
