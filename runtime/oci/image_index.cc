// The image store's index (images.json) and image configs, with Boost.JSON.

#include "runtime/oci/image_index.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include "runtime/oci/image_archive.h"
#include "runtime/oci/sha256.h"

namespace podagent::runtime::oci {
namespace json = boost::json;
namespace {

constexpr int64_t kIndexVersion = 1;

std::string string_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  const json::string* s = v != nullptr ? v->if_string() : nullptr;
  return s != nullptr ? std::string(*s) : std::string();
}

// A list of strings; null, absent or non-string items give nothing.
std::vector<std::string> strings_at(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (const json::array* a = v != nullptr ? v->if_array() : nullptr)
    for (const json::value& item : *a)
      if (const json::string* s = item.if_string()) out.emplace_back(*s);
  return out;
}

uint64_t uint_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0) return static_cast<uint64_t>(v->as_int64());
  return 0;
}

json::array to_array(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& s : items) out.emplace_back(s);
  return out;
}

// The keys of the image config's "config" object (Docker's capitalization).
ImageConfig config_from(const json::object& o) {
  ImageConfig c;
  c.entrypoint = strings_at(o, "Entrypoint");
  c.cmd = strings_at(o, "Cmd");
  c.env = strings_at(o, "Env");
  c.working_dir = string_at(o, "WorkingDir");
  c.user = string_at(o, "User");
  if (const json::value* labels = o.if_contains("Labels"))
    if (const json::object* l = labels->if_object())
      for (const auto& [key, value] : *l)
        if (const json::string* s = value.if_string()) c.labels[std::string(key)] = std::string(*s);
  return c;
}

json::object config_to(const ImageConfig& c) {
  json::object labels;
  for (const auto& [key, value] : c.labels) labels[key] = value;
  return {{"Entrypoint", to_array(c.entrypoint)},
          {"Cmd", to_array(c.cmd)},
          {"Env", to_array(c.env)},
          {"WorkingDir", c.working_dir},
          {"User", c.user},
          {"Labels", std::move(labels)}};
}

base::Result<StoredImage> image_from(const json::value& v) {
  const json::object* o = v.if_object();
  if (o == nullptr) return base::Error("an image is not an object");
  StoredImage image;
  image.id = string_at(*o, "id");
  if (!is_sha256_digest(image.id)) return base::Error("an image has no valid id");
  image.names = strings_at(*o, "names");
  image.manifest = string_at(*o, "manifest");
  if (const json::value* c = o->if_contains("config"))
    if (const json::object* co = c->if_object()) image.config = config_from(*co);
  const json::value* layers = o->if_contains("layers");
  if (layers == nullptr || !layers->is_array())
    return base::Error("image " + image.id + " has no layers");
  for (const json::value& l : layers->get_array()) {
    const json::object* lo = l.if_object();
    if (lo == nullptr) return base::Error("image " + image.id + ": a layer is not an object");
    StoredLayer layer{string_at(*lo, "diffId"), string_at(*lo, "blob"), uint_at(*lo, "size")};
    if (!is_sha256_digest(layer.diff_id) || !is_sha256_digest(layer.blob))
      return base::Error("image " + image.id + ": a layer has no valid digest");
    image.layers.push_back(std::move(layer));
  }
  return image;
}

json::object image_to(const StoredImage& image) {
  json::array layers;
  for (const StoredLayer& l : image.layers)
    layers.push_back(json::object{{"diffId", l.diff_id}, {"blob", l.blob}, {"size", l.size}});
  return {{"id", image.id},
          {"names", to_array(image.names)},
          {"manifest", image.manifest},
          {"layers", std::move(layers)},
          {"config", config_to(image.config)}};
}

base::Status write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::Error(std::string("write: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return base::Status::Ok();
}

}  // namespace

base::Result<std::vector<StoredImage>> read_index(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::vector<StoredImage>{};
  auto text = read_small_file(file, uint64_t{1} << 30);
  if (!text) return text.error();
  boost::system::error_code jec;
  json::value v = json::parse(*text, jec);
  const json::object* o = jec ? nullptr : v.if_object();
  if (o == nullptr) return base::Error(file.string() + ": not a valid image index");
  if (const json::value* version = o->if_contains("version");
      version == nullptr || !version->is_int64() || version->as_int64() != kIndexVersion)
    return base::Error(file.string() + ": unknown index version");
  std::vector<StoredImage> images;
  const json::value* list = o->if_contains("images");
  if (list == nullptr || !list->is_array()) return base::Error(file.string() + ": no images");
  for (const json::value& item : list->get_array()) {
    auto image = image_from(item);
    if (!image) return base::Error(file.string() + ": " + image.error().message);
    images.push_back(std::move(*image));
  }
  return images;
}

base::Status write_index(const std::filesystem::path& file,
                         const std::vector<StoredImage>& images) {
  json::array list;
  for (const StoredImage& image : images) list.push_back(image_to(image));
  const std::string text =
      json::serialize(json::object{{"version", kIndexVersion}, {"images", std::move(list)}}) + "\n";
  const std::filesystem::path temp = file.string() + ".tmp." + std::to_string(::getpid());
  base::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid())
    return base::Error("cannot create " + temp.string() + ": " + std::strerror(errno));
  auto written = write_all(fd.get(), text);
  if (written && ::fsync(fd.get()) != 0)
    written = base::Error(std::string("fsync: ") + std::strerror(errno));
  fd.reset();
  if (written && ::rename(temp.c_str(), file.c_str()) != 0)
    written = base::Error(std::string("rename: ") + std::strerror(errno));
  if (!written) {
    ::unlink(temp.c_str());
    return base::Error("cannot write " + file.string() + ": " + written.error().message);
  }
  return base::Status::Ok();
}

base::Result<ParsedConfig> parse_image_config(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) return base::Error("the image config is not a JSON object");
  ParsedConfig out;
  if (const json::value* c = o->if_contains("config"))
    if (const json::object* co = c->if_object()) out.config = config_from(*co);
  const json::value* rootfs = o->if_contains("rootfs");
  const json::object* ro = rootfs != nullptr ? rootfs->if_object() : nullptr;
  if (ro == nullptr || string_at(*ro, "type") != "layers")
    return base::Error("the image config has no rootfs of type layers");
  out.diff_ids = strings_at(*ro, "diff_ids");
  for (const std::string& d : out.diff_ids)
    if (!is_sha256_digest(d))
      return base::Error("the image config has a malformed diff_id \"" + d + "\"");
  return out;
}

base::Result<StoreLock> StoreLock::acquire(const std::filesystem::path& file) {
  base::UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return base::Error("cannot open " + file.string() + ": " + std::strerror(errno));
  while (::flock(fd.get(), LOCK_EX) != 0)
    if (errno != EINTR)
      return base::Error("cannot lock " + file.string() + ": " + std::strerror(errno));
  return StoreLock(std::move(fd));
}

}  // namespace podagent::runtime::oci
