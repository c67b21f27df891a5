#include "tests/oci/image_test_util.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

#include <cstdlib>
#include <fstream>

#include "runtime/oci/sha256.h"

namespace podagent::runtime::oci::image_testing {
namespace {

la_ssize_t append(archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

void check(int r, archive* a) {
  if (r < ARCHIVE_WARN) {
    std::fprintf(stderr, "libarchive: %s\n", archive_error_string(a));
    std::abort();
  }
}

std::string json_strings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& s : items) out += (out.size() > 1 ? ",\"" : "\"") + s + "\"";
  return out + "]";
}

std::string descriptor(const std::string& media_type, const std::string& content,
                       const std::string& annotations = "") {
  return "{\"mediaType\":\"" + media_type + "\",\"digest\":\"" + sha256_digest(content) +
         "\",\"size\":" + std::to_string(content.size()) + annotations + "}";
}

std::string manifest_of(const TestImage& image) {
  std::string layers;
  for (const TestLayer& l : image.layers)
    layers +=
        (layers.empty() ? "" : ",") + descriptor("application/vnd.oci.image.layer.v1.tar", l.blob);
  return "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
         "\"config\":" +
         descriptor("application/vnd.oci.image.config.v1+json", image.config) + ",\"layers\":[" +
         layers + "]}";
}

std::string blob_path(const std::string& content) {
  return "blobs/sha256/" + sha256_digest(content).substr(7);
}

}  // namespace

TarEntry file(std::string path, std::string content, mode_t mode) {
  return {std::move(path), TarEntry::Type::File, std::move(content), mode};
}
TarEntry dir(std::string path, mode_t mode) {
  return {std::move(path), TarEntry::Type::Dir, "", mode};
}
TarEntry soft_link(std::string path, std::string target) {
  return {std::move(path), TarEntry::Type::Symlink, std::move(target), 0777};
}
TarEntry hard_link(std::string path, std::string target) {
  return {std::move(path), TarEntry::Type::Hardlink, std::move(target), 0644};
}

std::string make_tar(const std::vector<TarEntry>& entries, bool gzip) {
  std::string out;
  archive* a = archive_write_new();
  check(archive_write_set_format_pax_restricted(a), a);
  if (gzip) check(archive_write_add_filter_gzip(a), a);
  check(archive_write_set_bytes_in_last_block(a, 1), a);
  check(archive_write_open(a, &out, nullptr, append, nullptr), a);
  for (const TarEntry& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.path.c_str());
    archive_entry_set_uid(e, t.uid);
    archive_entry_set_gid(e, t.gid);
    archive_entry_set_mtime(e, 1000000, 0);
    archive_entry_set_perm(e, t.mode);
    switch (t.type) {
      case TarEntry::Type::File:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(t.data.size()));
        break;
      case TarEntry::Type::Dir:
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
      case TarEntry::Type::Symlink:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_symlink(e, t.data.c_str());
        break;
      case TarEntry::Type::Hardlink:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, t.data.c_str());
        break;
      case TarEntry::Type::CharDevice:
        archive_entry_set_filetype(e, AE_IFCHR);
        break;
    }
    check(archive_write_header(a, e), a);
    if (t.type == TarEntry::Type::File && !t.data.empty())
      archive_write_data(a, t.data.data(), t.data.size());
    archive_entry_free(e);
  }
  check(archive_write_close(a), a);
  archive_write_free(a);
  return out;
}

TestLayer make_layer(const std::vector<TarEntry>& entries, bool gzip) {
  const std::string plain = make_tar(entries, false);
  TestLayer layer;
  layer.diff_id = sha256_digest(plain);
  layer.blob = gzip ? make_tar(entries, true) : plain;
  layer.digest = sha256_digest(layer.blob);
  return layer;
}

TestImage make_image(std::vector<TestLayer> layers, std::string ref, std::vector<std::string> cmd) {
  TestImage image;
  std::vector<std::string> diff_ids;
  for (const TestLayer& l : layers) diff_ids.push_back(l.diff_id);
  image.config =
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"],"
      "\"Cmd\":" +
      json_strings(cmd) +
      ",\"WorkingDir\":\"/w\",\"User\":\"1000\","
      "\"Labels\":{\"a\":\"b\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":" +
      json_strings(diff_ids) + "}}";
  image.id = sha256_digest(image.config);
  image.layers = std::move(layers);
  image.ref = std::move(ref);
  return image;
}

Files oci_layout(const std::vector<TestImage>& images) {
  Files files{{"oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"}};
  std::string manifests;
  for (const TestImage& image : images) {
    const std::string manifest = manifest_of(image);
    files[blob_path(manifest)] = manifest;
    files[blob_path(image.config)] = image.config;
    for (const TestLayer& l : image.layers) files[blob_path(l.blob)] = l.blob;
    const std::string annotations =
        image.ref.empty()
            ? ""
            : ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + image.ref + "\"}";
    manifests += (manifests.empty() ? "" : ",") +
                 descriptor("application/vnd.oci.image.manifest.v1+json", manifest, annotations);
  }
  files["index.json"] = "{\"schemaVersion\":2,\"manifests\":[" + manifests + "]}";
  return files;
}

Files docker_save(const std::vector<TestImage>& images, bool newer) {
  Files files;
  if (newer) {
    // The index's ref.name is a bare tag, as docker writes; the name is in manifest.json.
    std::vector<TestImage> tagged = images;
    for (TestImage& t : tagged) t.ref = "latest";
    files = oci_layout(tagged);
  }
  std::string entries;
  for (size_t i = 0; i < images.size(); ++i) {
    const TestImage& image = images[i];
    std::string config_path = image.id.substr(7) + ".json";
    if (newer) config_path = blob_path(image.config);
    files[config_path] = image.config;
    std::vector<std::string> layers;
    for (size_t l = 0; l < image.layers.size(); ++l) {
      std::string path = std::to_string(i) + "-" + std::to_string(l) + "/layer.tar";
      if (newer) path = blob_path(image.layers[l].blob);
      files[path] = image.layers[l].blob;
      layers.push_back(path);
    }
    entries += (entries.empty() ? "" : ",") + std::string("{\"Config\":\"") + config_path +
               "\",\"RepoTags\":" + (image.ref.empty() ? "null" : json_strings({image.ref})) +
               ",\"Layers\":" + json_strings(layers) + "}";
  }
  files["manifest.json"] = "[" + entries + "]";
  return files;
}

void write_string(const std::filesystem::path& file, const std::string& content) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << content;
}

void write_files(const std::filesystem::path& dir, const Files& files) {
  for (const auto& [path, content] : files) write_string(dir / path, content);
}

std::string tar_files(const Files& files, bool gzip) {
  std::vector<TarEntry> entries;
  for (const auto& [path, content] : files) entries.push_back(file(path, content));
  return make_tar(entries, gzip);
}

}  // namespace podagent::runtime::oci::image_testing
