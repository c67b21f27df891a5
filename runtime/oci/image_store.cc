// The local image store. On disk, under root():
//   images.json            the index (image_index.h), replaced atomically
//   lock                   flock(2)ed by every writer
//   blobs/sha256/<hex>     manifests, configs and layer blobs, by digest
//   layers/<hex>/          each layer unpacked once, named by its diff_id
//   holds/<id hex>/<who>   one empty file per hold
//   tmp/<pid>-<n>/         an import's staging area, or a layer being deleted
// Writers take the lock only to commit: an import verifies and unpacks
// everything in its staging area first, then renames into place and
// rewrites the index under the lock. Readers take no lock: the index is
// replaced by rename, and everything it names was renamed into place
// (complete) before it.

#include "runtime/oci/image_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "base/unique_fd.h"
#include "runtime/oci/image_archive.h"
#include "runtime/oci/image_index.h"
#include "runtime/oci/layer_unpack.h"
#include "runtime/oci/sha256.h"

namespace podagent::runtime::oci {
namespace fs = std::filesystem;
namespace {

constexpr const char* kIndexFile = "images.json";
constexpr const char* kLockFile = "lock";

fs::path blob_path(const fs::path& root, const std::string& digest) {
  return root / "blobs" / "sha256" / digest_hex(digest);
}
fs::path layer_path(const fs::path& root, const std::string& diff_id) {
  return root / "layers" / digest_hex(diff_id);
}
fs::path holds_path(const fs::path& root, const std::string& id) {
  return root / "holds" / digest_hex(id);
}

base::Error sys_error(const std::string& what, const fs::path& path) {
  return base::Error(what + " " + path.string() + ": " + std::strerror(errno));
}

// A fresh directory under tmp/, removed with this object.
class Staging {
 public:
  static base::Result<Staging> create(const fs::path& tmp) {
    static std::atomic<uint64_t> counter{0};
    fs::path dir = tmp / (std::to_string(::getpid()) + "-" + std::to_string(++counter));
    if (::mkdir(dir.c_str(), 0700) != 0) return sys_error("cannot create", dir);
    return Staging(std::move(dir));
  }
  Staging(Staging&& other) noexcept : dir_(std::exchange(other.dir_, {})) {}
  ~Staging() {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  const fs::path& dir() const { return dir_; }

 private:
  explicit Staging(fs::path dir) : dir_(std::move(dir)) {}
  fs::path dir_;
};

// Removes what crashed processes left under tmp/ (named after their pid).
void remove_stale_staging(const fs::path& tmp) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(tmp, ec)) {
    const std::string name = e.path().filename();
    const long pid = std::strtol(name.c_str(), nullptr, 10);
    if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      fs::remove_all(e.path(), ec);
  }
}

struct VerifiedBlob {
  std::string digest;
  uint64_t size = 0;
  fs::path file;  // in the staging area, to be renamed into blobs/
};

// Everything an import will commit: blobs and unpacked layers in the
// staging area, and the images' index entries.
struct Prepared {
  std::vector<StoredImage> images;
  std::vector<VerifiedBlob> blobs;
  std::map<std::string, fs::path> layer_dirs;  // by diff_id
};

Image to_image(const fs::path& root, const StoredImage& stored) {
  Image image{stored.id, stored.names, {}, stored.config, 0};
  for (const StoredLayer& l : stored.layers) {
    image.layer_dirs.push_back(layer_path(root, l.diff_id));
    image.size_bytes += l.size;
  }
  return image;
}

// The index of the image `ref` names, by the rules of ImageStore::find.
base::Result<size_t> resolve(const std::vector<StoredImage>& images, std::string_view ref) {
  if (is_sha256_digest(ref)) {
    for (size_t i = 0; i < images.size(); ++i)
      if (images[i].id == ref) return i;
    return base::Error("image " + std::string(ref) + " not found");
  }
  auto name = normalize_reference(ref);
  if (name)
    for (size_t i = 0; i < images.size(); ++i)
      if (std::find(images[i].names.begin(), images[i].names.end(), *name) != images[i].names.end())
        return i;
  std::string_view hex = ref.starts_with("sha256:") ? ref.substr(7) : ref;
  const bool is_hex = std::all_of(hex.begin(), hex.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (is_hex && hex.size() >= 12) {
    std::vector<size_t> matches;
    for (size_t i = 0; i < images.size(); ++i)
      if (digest_hex(images[i].id).starts_with(hex)) matches.push_back(i);
    if (matches.size() == 1) return matches.front();
    if (matches.size() > 1)
      return base::Error("image id prefix " + std::string(hex) + " is ambiguous (" +
                         std::to_string(matches.size()) + " images)");
  }
  if (!name && !is_hex) return name.error();
  return base::Error("image " + std::string(ref) + (name ? " (" + *name + ")" : "") + " not found");
}

// Verifies a blob of the source and puts it in the staging area: a blob of
// an extracted archive is already there; one of a layout directory is
// copied first, so that what is verified is what gets stored.
base::Result<VerifiedBlob> stage_blob(const BlobRef& ref, const std::string& what,
                                      const fs::path& staging, bool in_staging) {
  static std::atomic<uint64_t> counter{0};
  fs::path file = ref.file;
  if (!in_staging) {
    file = staging / ("blob-" + std::to_string(++counter));
    std::error_code ec;
    fs::copy_file(ref.file, file, ec);
    if (ec) return base::Error(what + ": cannot copy " + ref.file.string() + ": " + ec.message());
  }
  auto digest = sha256_file(file);
  if (!digest) return base::Error(what + ": " + digest.error().message);
  if (ref.size && digest->size != *ref.size)
    return base::Error(what + ": blob " + ref.digest + " has " + std::to_string(digest->size) +
                       " bytes, its descriptor says " + std::to_string(*ref.size));
  if (!ref.digest.empty() && digest->digest != ref.digest)
    return base::Error(what + ": digest mismatch: expected " + ref.digest + ", content is " +
                       digest->digest);
  return VerifiedBlob{digest->digest, digest->size, std::move(file)};
}

// Verifies one image of the source (config, each layer's blob and diff_id)
// and unpacks the layers the store lacks into the staging area.
base::Status prepare_image(const fs::path& root, const SourceImage& source, bool in_staging,
                           const fs::path& staging, Prepared& out) {
  StoredImage image;
  image.names = source.names;
  if (source.manifest) {
    auto m = stage_blob(*source.manifest, source.where + " manifest", staging, in_staging);
    if (!m) return m.error();
    image.manifest = m->digest;
    out.blobs.push_back(std::move(*m));
  }
  auto config = stage_blob(source.config, source.where + " config", staging, in_staging);
  if (!config) return config.error();
  image.id = config->digest;
  auto text = read_small_file(config->file);
  if (!text) return text.error();
  auto parsed = parse_image_config(*text);
  if (!parsed) return base::Error(source.where + ": " + parsed.error().message);
  image.config = parsed->config;
  out.blobs.push_back(std::move(*config));
  if (parsed->diff_ids.size() != source.layers.size())
    return base::Error(source.where + ": the config lists " +
                       std::to_string(parsed->diff_ids.size()) + " layers, the manifest " +
                       std::to_string(source.layers.size()));
  for (size_t i = 0; i < source.layers.size(); ++i) {
    const std::string what = source.where + " layer " + std::to_string(i);
    const std::string& diff_id = parsed->diff_ids[i];
    auto blob = stage_blob(source.layers[i], what, staging, in_staging);
    if (!blob) return blob.error();
    std::optional<fs::path> dest;
    std::error_code ec;
    if (!out.layer_dirs.contains(diff_id) && !fs::exists(layer_path(root, diff_id), ec)) {
      dest = staging / ("layer-" + digest_hex(diff_id));
      if (::mkdir(dest->c_str(), 0755) != 0) return sys_error("cannot create", *dest);
    }
    auto actual = read_layer(blob->file, dest);
    if (!actual) return base::Error(what + " (" + blob->digest + "): " + actual.error().message);
    if (*actual != diff_id)
      return base::Error(what + ": uncompressed digest mismatch: the config's diff_ids[" +
                         std::to_string(i) + "] is " + diff_id + ", the layer's content is " +
                         *actual);
    if (dest) out.layer_dirs[diff_id] = *dest;
    image.layers.push_back({diff_id, blob->digest, blob->size});
    out.blobs.push_back(std::move(*blob));
  }
  out.images.push_back(std::move(image));
  return base::Status::Ok();
}

// Moves `from` to `to` unless `to` exists. REQUIRES: the store's lock.
base::Status move_into_place(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (fs::exists(to, ec)) return base::Status::Ok();
  if (::rename(from.c_str(), to.c_str()) != 0) return sys_error("cannot rename into", to);
  return base::Status::Ok();
}

// Adds or merges `image` into `index`; its names leave any other image.
void merge(std::vector<StoredImage>& index, StoredImage image) {
  for (StoredImage& other : index)
    if (other.id != image.id)
      std::erase_if(other.names, [&](const std::string& n) {
        return std::find(image.names.begin(), image.names.end(), n) != image.names.end();
      });
  for (StoredImage& same : index) {
    if (same.id != image.id) continue;
    for (std::string& n : image.names)
      if (std::find(same.names.begin(), same.names.end(), n) == same.names.end())
        same.names.push_back(std::move(n));
    return;
  }
  index.push_back(std::move(image));
}

// Renames the verified blobs and layers into place and adds the images to
// the index, under the lock. A layer that was in the store when the import
// began may have been removed since; it is unpacked again here.
base::Result<std::vector<Image>> commit(const fs::path& root, const Prepared& prepared,
                                        const fs::path& staging) {
  auto lock = StoreLock::acquire(root / kLockFile);
  if (!lock) return lock.error();
  auto index = read_index(root / kIndexFile);
  if (!index) return index.error();
  for (const VerifiedBlob& blob : prepared.blobs)
    if (auto s = move_into_place(blob.file, blob_path(root, blob.digest)); !s) return s.error();
  for (const StoredImage& image : prepared.images) {
    for (const StoredLayer& layer : image.layers) {
      const fs::path dest = layer_path(root, layer.diff_id);
      std::error_code ec;
      if (fs::exists(dest, ec)) continue;
      fs::path dir = staging / ("relayer-" + digest_hex(layer.diff_id));
      if (auto it = prepared.layer_dirs.find(layer.diff_id); it != prepared.layer_dirs.end()) {
        dir = it->second;
      } else {
        if (::mkdir(dir.c_str(), 0755) != 0) return sys_error("cannot create", dir);
        auto digest = read_layer(blob_path(root, layer.blob), dir);
        if (!digest) return digest.error();
        if (*digest != layer.diff_id) return base::Error("layer " + layer.diff_id + " changed");
      }
      if (auto s = move_into_place(dir, dest); !s) return s.error();
    }
  }
  // Everything the index will name is on disk before the index names it.
  if (base::UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); fd.valid())
    ::syncfs(fd.get());
  for (const StoredImage& image : prepared.images) merge(*index, image);
  if (auto s = write_index(root / kIndexFile, *index); !s) return s.error();
  std::vector<Image> out;
  for (const StoredImage& image : prepared.images)
    for (const StoredImage& stored : *index)
      if (stored.id == image.id) out.push_back(to_image(root, stored));
  return out;
}

bool valid_holder(const std::string& holder) {
  return !holder.empty() && holder.size() <= 255 && holder != "." && holder != ".." &&
         holder.find('/') == std::string::npos && holder.find('\0') == std::string::npos;
}

}  // namespace

fs::path ImageStore::index_file() const { return root_ / kIndexFile; }

base::Result<ImageStore> ImageStore::open(fs::path root) {
  std::error_code ec;
  root = fs::absolute(root, ec);
  if (ec) return base::Error("invalid image store path: " + ec.message());
  for (const char* sub : {"blobs/sha256", "layers", "holds", "tmp"}) {
    fs::create_directories(root / sub, ec);
    if (ec) return base::Error("cannot create " + (root / sub).string() + ": " + ec.message());
  }
  auto index = read_index(root / kIndexFile);
  if (!index) return index.error();
  return ImageStore(std::move(root));
}

base::Result<std::vector<Image>> ImageStore::import(const fs::path& source,
                                                    std::optional<std::string> name) {
  if (name) {
    auto normalized = normalize_reference(*name);
    if (!normalized) return normalized.error();
    name = *normalized;
  }
  remove_stale_staging(root_ / "tmp");
  auto staging = Staging::create(root_ / "tmp");
  if (!staging) return staging.error();
  std::error_code ec;
  const bool is_dir = fs::is_directory(source, ec);
  fs::path tree = source;
  if (!is_dir) {
    if (!fs::exists(source, ec))
      return base::Error(source.string() + ": no such file or directory");
    tree = staging->dir() / "source";
    if (auto s = extract_archive(source, tree); !s)
      return base::Error(source.string() + ": " + s.error().message);
  }
  auto sources = read_image_tree(tree);
  if (!sources) return base::Error(source.string() + ": " + sources.error().message);
  if (sources->empty()) return base::Error(source.string() + ": holds no image");
  if (name && sources->size() != 1)
    return base::Error(source.string() + " holds " + std::to_string(sources->size()) +
                       " images; a name can only be given to one");
  Prepared prepared;
  for (SourceImage& s : *sources) {
    std::vector<std::string> names;
    if (name) names.push_back(*name);
    // A name in the source that is no valid reference (an odd annotation)
    // is left out rather than failing the import; --name can name it.
    for (const std::string& n : name ? std::vector<std::string>{} : s.names)
      if (auto normalized = normalize_reference(n); normalized) names.push_back(*normalized);
    s.names = std::move(names);
    if (auto st = prepare_image(root_, s, !is_dir, staging->dir(), prepared); !st)
      return base::Error(source.string() + " " + st.error().message);
  }
  return commit(root_, prepared, staging->dir());
}

base::Result<Image> ImageStore::find(std::string_view ref) const {
  auto index = read_index(root_ / kIndexFile);
  if (!index) return index.error();
  auto i = resolve(*index, ref);
  if (!i) return i.error();
  return to_image(root_, (*index)[*i]);
}

base::Result<std::vector<Image>> ImageStore::list() const {
  auto index = read_index(root_ / kIndexFile);
  if (!index) return index.error();
  std::vector<Image> out;
  for (const StoredImage& image : *index) out.push_back(to_image(root_, image));
  return out;
}

base::Status ImageStore::add_hold(const std::string& image_id, const std::string& holder) {
  if (!valid_holder(holder)) return base::Error("invalid holder \"" + holder + "\"");
  auto lock = StoreLock::acquire(root_ / kLockFile);
  if (!lock) return lock.error();
  auto index = read_index(root_ / kIndexFile);
  if (!index) return index.error();
  if (std::none_of(index->begin(), index->end(),
                   [&](const StoredImage& i) { return i.id == image_id; }))
    return base::Error("image " + image_id + " not found");
  const fs::path dir = holds_path(root_, image_id);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::Error("cannot create " + dir.string() + ": " + ec.message());
  base::UniqueFd fd(::open((dir / holder).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return sys_error("cannot create", dir / holder);
  return base::Status::Ok();
}

base::Status ImageStore::drop_hold(const std::string& image_id, const std::string& holder) {
  if (!valid_holder(holder)) return base::Error("invalid holder \"" + holder + "\"");
  if (!is_sha256_digest(image_id)) return base::Error("invalid image id \"" + image_id + "\"");
  auto lock = StoreLock::acquire(root_ / kLockFile);
  if (!lock) return lock.error();
  const fs::path dir = holds_path(root_, image_id);
  if (::unlink((dir / holder).c_str()) != 0 && errno != ENOENT)
    return sys_error("cannot remove", dir / holder);
  ::rmdir(dir.c_str());  // when it was the last hold
  return base::Status::Ok();
}

std::vector<std::string> ImageStore::holds(const std::string& image_id) const {
  std::vector<std::string> out;
  if (!is_sha256_digest(image_id)) return out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(holds_path(root_, image_id), ec))
    out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

base::Status ImageStore::remove(std::string_view ref) {
  auto lock = StoreLock::acquire(root_ / kLockFile);
  if (!lock) return lock.error();
  auto index = read_index(root_ / kIndexFile);
  if (!index) return index.error();
  auto i = resolve(*index, ref);
  if (!i) return i.error();
  const StoredImage image = (*index)[*i];
  if (std::vector<std::string> holders = holds(image.id); !holders.empty()) {
    std::string list;
    for (const std::string& h : holders) list += (list.empty() ? "" : ", ") + h;
    return base::Error("image " + std::string(ref) + " (" + image.id.substr(7, 12) +
                       ") is in use by container" + (holders.size() > 1 ? "s " : " ") + list +
                       "; not removed");
  }
  index->erase(index->begin() + static_cast<ptrdiff_t>(*i));
  // The index first: a crash after it leaves unused files, never an image
  // whose layers are gone.
  if (auto s = write_index(root_ / kIndexFile, *index); !s) return s;
  std::set<std::string> used_layers, used_blobs;
  for (const StoredImage& other : *index) {
    used_blobs.insert({other.id, other.manifest});
    for (const StoredLayer& l : other.layers) {
      used_layers.insert(l.diff_id);
      used_blobs.insert(l.blob);
    }
  }
  std::error_code ec;
  for (const StoredLayer& l : image.layers) {
    if (used_layers.contains(l.diff_id)) continue;
    // Out of its name first, so no reader ever sees a half-deleted layer.
    const fs::path doomed =
        root_ / "tmp" / (std::to_string(::getpid()) + "-gone-" + digest_hex(l.diff_id));
    if (::rename(layer_path(root_, l.diff_id).c_str(), doomed.c_str()) == 0)
      fs::remove_all(doomed, ec);
  }
  std::vector<std::string> blobs = {image.id, image.manifest};
  for (const StoredLayer& l : image.layers) blobs.push_back(l.blob);
  for (const std::string& b : blobs)
    if (!b.empty() && !used_blobs.contains(b)) fs::remove(blob_path(root_, b), ec);
  fs::remove_all(holds_path(root_, image.id), ec);
  return base::Status::Ok();
}

}  // namespace podagent::runtime::oci
