// Image sources: archive extraction, OCI image layouts and docker save trees.

#include "runtime/oci/image_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "base/unique_fd.h"
#include "runtime/oci/layer_unpack.h"
#include "runtime/oci/sha256.h"

namespace podagent::runtime::oci {
namespace json = boost::json;
namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string join(const std::vector<std::string>& comps) {
  std::string out;
  for (const std::string& c : comps) out += (out.empty() ? "" : "/") + c;
  return out;
}

base::Status write_entry_data(archive* a, const std::filesystem::path& file) {
  base::UniqueFd fd(
      ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd.valid())
    return base::Error("cannot create " + file.string() + ": " + std::strerror(errno));
  const void* block;
  size_t size;
  la_int64_t offset;
  for (;;) {
    const int r = archive_read_data_block(a, &block, &size, &offset);
    if (r == ARCHIVE_EOF) return base::Status::Ok();
    if (r < ARCHIVE_WARN) return base::Error(archive_error_string(a));
    const char* p = static_cast<const char*>(block);
    while (size > 0) {
      const ssize_t n = ::pwrite(fd.get(), p, size, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return base::Error("cannot write " + file.string() + ": " + std::strerror(errno));
      p += n;
      size -= static_cast<size_t>(n);
      offset += n;
    }
  }
}

// A symlink's target as a path relative to the archive's root, or why it
// leads outside.
base::Result<std::string> resolve_symlink(const std::vector<std::string>& entry,
                                          std::string_view target) {
  if (target.starts_with('/')) return base::Error("absolute symlink target " + quote(target));
  std::vector<std::string> out(entry.begin(), entry.end() - 1);
  size_t start = 0;
  while (start <= target.size()) {
    size_t slash = target.find('/', start);
    if (slash == std::string_view::npos) slash = target.size();
    std::string_view c = target.substr(start, slash - start);
    if (c == "..") {
      if (out.empty()) return base::Error("symlink target " + quote(target) + " leads outside");
      out.pop_back();
    } else if (!c.empty() && c != ".") {
      out.emplace_back(c);
    }
    start = slash + 1;
  }
  return join(out);
}

// Hardlinks each link to its (possibly linked) target, once all files exist.
base::Status make_links(const std::filesystem::path& dest,
                        const std::map<std::string, std::string>& links) {
  for (const auto& [path, first_target] : links) {
    std::string target = first_target;
    for (int hops = 0; links.contains(target); ++hops) {
      if (hops > 40) return base::Error("archive entry " + quote(path) + ": link loop");
      target = links.at(target);
    }
    struct stat st;
    const std::filesystem::path from = dest / target;
    if (::lstat(from.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return base::Error("archive entry " + quote(path) + ": link target " + quote(target) +
                         " is not a file of the archive");
    std::error_code ec;
    std::filesystem::create_directories((dest / path).parent_path(), ec);
    if (::link(from.c_str(), (dest / path).c_str()) != 0)
      return base::Error("cannot link " + path + ": " + std::strerror(errno));
  }
  return base::Status::Ok();
}

// --- Reading the tree -------------------------------------------------------

base::Result<json::value> parse_json(const std::string& text, const std::string& what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return base::Error(what + ": invalid JSON: " + ec.message());
  return v;
}

std::string string_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  const json::string* s = v != nullptr ? v->if_string() : nullptr;
  return s != nullptr ? std::string(*s) : std::string();
}

const json::array* array_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? v->if_array() : nullptr;
}

// A relative path the tree names, kept inside `dir`.
base::Result<std::filesystem::path> inside(const std::filesystem::path& dir, std::string_view rel,
                                           const std::string& where) {
  auto comps = split_entry_path(rel);
  if (!comps || comps->empty())
    return base::Error(where + ": path " + quote(rel) + " is outside the image; refused");
  return dir / join(*comps);
}

struct Descriptor {
  std::string media_type;
  BlobRef blob;
  const json::object* annotations = nullptr;
  const json::object* platform = nullptr;
};

base::Result<Descriptor> descriptor(const std::filesystem::path& dir, const json::value& v,
                                    const std::string& where) {
  const json::object* o = v.if_object();
  if (o == nullptr) return base::Error(where + ": not a descriptor object");
  Descriptor d;
  d.media_type = string_at(*o, "mediaType");
  d.blob.digest = string_at(*o, "digest");
  if (!is_sha256_digest(d.blob.digest))
    return base::Error(where + ": unsupported or malformed digest " + quote(d.blob.digest));
  const json::value* size = o->if_contains("size");
  if (size == nullptr || !size->is_number()) return base::Error(where + ": no size");
  if (size->is_int64() && size->as_int64() >= 0)
    d.blob.size = static_cast<uint64_t>(size->as_int64());
  if (size->is_uint64()) d.blob.size = size->as_uint64();
  if (!d.blob.size) return base::Error(where + ": invalid size");
  d.blob.file = dir / "blobs" / "sha256" / digest_hex(d.blob.digest);
  if (const json::value* a = o->if_contains("annotations")) d.annotations = a->if_object();
  if (const json::value* p = o->if_contains("platform")) d.platform = p->if_object();
  return d;
}

// The content of a descriptor's blob, verified.
base::Result<std::string> read_verified(const Descriptor& d, const std::string& where) {
  auto text = read_small_file(d.blob.file);
  if (!text) return base::Error(where + ": " + text.error().message);
  if (text->size() != *d.blob.size)
    return base::Error(where + ": blob " + d.blob.digest + " has " + std::to_string(text->size()) +
                       " bytes, its descriptor says " + std::to_string(*d.blob.size));
  if (std::string actual = sha256_digest(*text); actual != d.blob.digest)
    return base::Error(where + ": digest mismatch: descriptor says " + d.blob.digest +
                       ", content is " + actual);
  return text;
}

std::string host_architecture() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#else
  return "unknown";
#endif
}

std::vector<std::string> names_from(const json::object* annotations) {
  if (annotations == nullptr) return {};
  if (std::string name = string_at(*annotations, "io.containerd.image.name"); !name.empty())
    return {name};
  // The OCI spec also allows a bare tag here ("latest", as docker save
  // writes beside the name above); it is read as a name like "busybox".
  std::string ref = string_at(*annotations, "org.opencontainers.image.ref.name");
  if (!ref.empty()) return {ref};
  return {};
}

base::Status collect_manifest(const std::filesystem::path& dir, const Descriptor& d,
                              const std::string& where, int depth, std::vector<SourceImage>& out);

base::Status collect_from_index(const std::filesystem::path& dir, const json::object& index,
                                const std::vector<std::string>& names, const std::string& where,
                                int depth, std::vector<SourceImage>& out) {
  const json::array* manifests = array_at(index, "manifests");
  if (manifests == nullptr) return base::Error(where + ": no manifests");
  for (size_t i = 0; i < manifests->size(); ++i) {
    const std::string at = where + " manifests[" + std::to_string(i) + "]";
    auto d = descriptor(dir, (*manifests)[i], at);
    if (!d) return d.error();
    if (d->platform != nullptr && (string_at(*d->platform, "os") != "linux" ||
                                   string_at(*d->platform, "architecture") != host_architecture()))
      continue;
    const size_t before = out.size();
    if (auto s = collect_manifest(dir, *d, at, depth + 1, out); !s) return s;
    for (size_t j = before; j < out.size(); ++j)
      if (out[j].names.empty()) out[j].names = names;
    return base::Status::Ok();  // one manifest for this platform
  }
  return base::Error(where + ": no manifest for linux/" + host_architecture());
}

base::Status collect_manifest(const std::filesystem::path& dir, const Descriptor& d,
                              const std::string& where, int depth, std::vector<SourceImage>& out) {
  if (depth > 8) return base::Error(where + ": indexes nested too deep");
  auto text = read_verified(d, where);
  if (!text) return text.error();
  auto v = parse_json(*text, where);
  if (!v) return v.error();
  const json::object* o = v->if_object();
  if (o == nullptr) return base::Error(where + ": not a JSON object");
  if (o->contains("manifests"))
    return collect_from_index(dir, *o, names_from(d.annotations), where, depth, out);
  SourceImage image;
  image.where = where;
  image.names = names_from(d.annotations);
  image.manifest = d.blob;
  const json::value* config = o->if_contains("config");
  if (config == nullptr) return base::Error(where + ": manifest has no config");
  auto c = descriptor(dir, *config, where + " config");
  if (!c) return c.error();
  image.config = c->blob;
  const json::array* layers = array_at(*o, "layers");
  if (layers == nullptr) return base::Error(where + ": manifest has no layers");
  for (size_t i = 0; i < layers->size(); ++i) {
    auto l = descriptor(dir, (*layers)[i], where + " layers[" + std::to_string(i) + "]");
    if (!l) return l.error();
    image.layers.push_back(l->blob);
  }
  out.push_back(std::move(image));
  return base::Status::Ok();
}

// "blobs/sha256/<hex>" or "<hex>.json" name their content's digest.
std::string digest_from_name(std::string_view rel) {
  std::string_view name = rel.substr(rel.rfind('/') + 1);
  if (name.ends_with(".json")) name.remove_suffix(5);
  std::string digest = "sha256:" + std::string(name);
  return is_sha256_digest(digest) ? digest : std::string();
}

base::Result<std::vector<SourceImage>> read_docker_manifest(const std::filesystem::path& dir) {
  auto text = read_small_file(dir / "manifest.json");
  if (!text) return text.error();
  auto v = parse_json(*text, "manifest.json");
  if (!v) return v.error();
  const json::array* entries = v->if_array();
  if (entries == nullptr) return base::Error("manifest.json: not an array");
  std::vector<SourceImage> out;
  for (size_t i = 0; i < entries->size(); ++i) {
    SourceImage image;
    image.where = "manifest.json[" + std::to_string(i) + "]";
    const json::object* o = (*entries)[i].if_object();
    if (o == nullptr) return base::Error(image.where + ": not an object");
    const std::string config = string_at(*o, "Config");
    auto config_file = inside(dir, config, image.where + " Config");
    if (!config_file) return config_file.error();
    image.config = {*config_file, digest_from_name(config), std::nullopt};
    if (const json::array* tags = array_at(*o, "RepoTags"))
      for (const json::value& t : *tags)
        if (const json::string* s = t.if_string()) image.names.emplace_back(*s);
    const json::array* layers = array_at(*o, "Layers");
    if (layers == nullptr) return base::Error(image.where + ": no Layers");
    for (size_t l = 0; l < layers->size(); ++l) {
      const json::string* s = (*layers)[l].if_string();
      const std::string at = image.where + " Layers[" + std::to_string(l) + "]";
      if (s == nullptr) return base::Error(at + ": not a path");
      auto file = inside(dir, *s, at);
      if (!file) return file.error();
      // Only the newer layout names layers by digest ("<id>/layer.tar" before).
      std::string digest = s->starts_with("blobs/") ? digest_from_name(*s) : std::string();
      image.layers.push_back({*file, digest, std::nullopt});
    }
    out.push_back(std::move(image));
  }
  return out;
}

base::Result<std::vector<SourceImage>> read_oci_layout(const std::filesystem::path& dir) {
  auto layout = read_small_file(dir / "oci-layout");
  if (!layout) return layout.error();
  auto text = read_small_file(dir / "index.json");
  if (!text) return text.error();
  auto v = parse_json(*text, "index.json");
  if (!v) return v.error();
  const json::object* index = v->if_object();
  if (index == nullptr) return base::Error("index.json: not an object");
  const json::array* manifests = array_at(*index, "manifests");
  if (manifests == nullptr) return base::Error("index.json: no manifests");
  std::vector<SourceImage> out;
  for (size_t i = 0; i < manifests->size(); ++i) {
    const std::string where = "index.json manifests[" + std::to_string(i) + "]";
    auto d = descriptor(dir, (*manifests)[i], where);
    if (!d) return d.error();
    if (auto s = collect_manifest(dir, *d, where, 0, out); !s) return s.error();
  }
  return out;
}

}  // namespace

base::Result<std::string> read_small_file(const std::filesystem::path& file, uint64_t limit) {
  // One descriptor for the size and the bytes: a file replaced by rename
  // meanwhile (the store's index) is still read whole, old or new.
  base::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0)
    return base::Error("cannot read " + file.string() + ": " + std::strerror(errno));
  if (static_cast<uint64_t>(st.st_size) > limit)
    return base::Error(file.string() + " is too large (" + std::to_string(st.st_size) + " bytes)");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::read(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::Error("cannot read " + file.string() + ": " + std::strerror(errno));
    if (n == 0) return base::Error(file.string() + " shrank while being read");
    done += static_cast<size_t>(n);
  }
  return text;
}

base::Status extract_archive(const std::filesystem::path& file, const std::filesystem::path& dest) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 16) != ARCHIVE_OK)
    return base::Error("cannot read " + file.string() + ": " + archive_error_string(a.get()));
  if (::mkdir(dest.c_str(), 0700) != 0)
    return base::Error("cannot create " + dest.string() + ": " + std::strerror(errno));
  std::map<std::string, std::string> links;
  for (;;) {
    archive_entry* e = nullptr;
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      return base::Error(file.string() +
                         " is not a readable tar: " + archive_error_string(a.get()));
    const std::string path = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    auto comps = split_entry_path(path);
    if (!comps) return base::Error("archive entry " + quote(path) + ": " + comps.error().message);
    if (comps->empty()) continue;
    const std::string rel = join(*comps);
    std::error_code ec;
    if (const char* target = archive_entry_hardlink(e)) {
      auto t = split_entry_path(target);
      if (!t)
        return base::Error("archive entry " + quote(path) + ": link target " + t.error().message);
      links[rel] = join(*t);
    } else if (archive_entry_filetype(e) == AE_IFLNK) {
      auto t = resolve_symlink(*comps, archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
      if (!t)
        return base::Error("archive entry " + quote(path) + ": " + t.error().message + "; refused");
      links[rel] = *t;
    } else if (archive_entry_filetype(e) == AE_IFDIR) {
      std::filesystem::create_directories(dest / rel, ec);
    } else if (archive_entry_filetype(e) == AE_IFREG) {
      std::filesystem::create_directories((dest / rel).parent_path(), ec);
      if (auto s = write_entry_data(a.get(), dest / rel); !s)
        return base::Error("archive entry " + quote(path) + ": " + s.error().message);
    }
    if (ec) return base::Error("archive entry " + quote(path) + ": " + ec.message());
  }
  return make_links(dest, links);
}

base::Result<std::vector<SourceImage>> read_image_tree(const std::filesystem::path& dir) {
  std::error_code ec;
  const bool oci = std::filesystem::exists(dir / "index.json", ec) &&
                   std::filesystem::exists(dir / "oci-layout", ec);
  const bool docker = std::filesystem::exists(dir / "manifest.json", ec);
  if (!oci && !docker)
    return base::Error(
        "neither an OCI image layout (oci-layout, index.json) nor a docker save "
        "archive (manifest.json)");
  if (!oci) return read_docker_manifest(dir);
  auto images = read_oci_layout(dir);
  if (!images || !docker) return images;
  // Newer docker save writes both; the RepoTags of its manifest.json are
  // the names (index.json may hold a bare tag only).
  auto saved = read_docker_manifest(dir);
  if (!saved) return images;
  for (SourceImage& image : *images)
    for (const SourceImage& s : *saved)
      if (!s.names.empty() && s.config.digest == image.config.digest) image.names = s.names;
  return images;
}

}  // namespace podagent::runtime::oci
