#include "agent/config_object_persistence.h"

#include <fmt/format.h>

#include <set>
#include <type_traits>

#include "model/config_object_codec.h"
#include "model/document.h"

namespace podagent::agent {

namespace {

namespace fs = std::filesystem;
using base::Error;

template <typename T>
std::string encode_for_disk(T object) {
  object.metadata.resource_version.clear();
  if constexpr (std::is_same_v<T, model::ConfigMap>)
    return model::to_json(model::encode_config_map(object), /*pretty=*/true) + "\n";
  else
    return model::to_json(model::encode_secret(object), /*pretty=*/true) + "\n";
}

base::Status unusable_uid(const model::ObjectMeta& meta) {
  return Error(fmt::format("unusable UID \"{}\" of {}/{}", meta.uid, meta.namespace_, meta.name));
}

// One kind's decoding, defaulting and validation.
template <typename T>
struct Codec;
template <>
struct Codec<model::ConfigMap> {
  static model::DecodedConfigMap decode(const model::Node& n) {
    return model::decode_config_map(n);
  }
  static model::FieldErrors validate(const model::ConfigMap& o) {
    return model::validate_config_map(o);
  }
  static model::FieldErrors shown(model::FieldErrors e) { return e; }
};
template <>
struct Codec<model::Secret> {
  static model::DecodedSecret decode(const model::Node& n) { return model::decode_secret(n); }
  static model::FieldErrors validate(const model::Secret& o) { return model::validate_secret(o); }
  static model::FieldErrors shown(model::FieldErrors e) {
    return redact_secret_errors(std::move(e));
  }
};

// Decodes, defaults and validates the text of one file.
template <typename T>
base::Result<T> read_object_file(const std::string& text, std::string_view uid) {
  auto docs = model::parse_documents(text);
  // A syntax error's message may quote the text: for a Secret, its bytes.
  if (!docs) return Error("cannot be parsed");
  if (docs->size() != 1)
    return Error(fmt::format("holds {} documents, expected one", docs->size()));
  auto decoded = Codec<T>::decode(docs->front());
  if (!decoded.errors.empty()) return Error(Codec<T>::shown(decoded.errors).front().to_string());
  T object = std::move(decoded.object);
  if (object.metadata.uid != uid)
    return Error(fmt::format("holds UID \"{}\", not its name's", object.metadata.uid));
  model::apply_defaults(object);
  if (auto errors = Codec<T>::validate(object); !errors.empty())
    return Error(Codec<T>::shown(std::move(errors)).front().to_string());
  object.metadata.resource_version.clear();
  return object;
}

template <typename T>
void load_kind(const DurableFileDir& files, std::map<model::ObjectKey, T>& into,
               std::vector<std::string>& problems) {
  DurableFileDir::Listing listing = files.read_all();
  for (auto& p : listing.problems) problems.push_back(std::move(p));
  for (const auto& file : listing.files) {
    auto object = read_object_file<T>(file.text, file.name);
    if (!object) {
      problems.push_back(fmt::format("{}: {}", file.path.string(), object.error().to_string()));
      continue;
    }
    model::ObjectKey key{object->metadata.namespace_, object->metadata.name};
    if (into.contains(key)) {
      problems.push_back(fmt::format("{}: {}/{} is held by another file", file.path.string(),
                                     key.first, key.second));
      continue;
    }
    into.emplace(std::move(key), std::move(*object));
  }
}

}  // namespace

model::FieldErrors redact_secret_errors(model::FieldErrors errors) {
  for (auto& e : errors) {
    if (e.field.starts_with("metadata.") || e.value.empty()) continue;
    std::string bare = e.value;
    if (bare.size() >= 2 && bare.front() == '"' && bare.back() == '"')
      bare = bare.substr(1, bare.size() - 2);
    if (e.field.ends_with("[" + bare + "]")) continue;  // the key the field names
    e.value.clear();
  }
  return errors;
}

ApiConfigObjectPersistence::ApiConfigObjectPersistence(const fs::path& state_dir)
    : config_maps_(state_dir / "api-configmaps"), secrets_(state_dir / "api-secrets") {}

base::Status ApiConfigObjectPersistence::save(const model::ConfigMap& object) {
  if (!DurableFileDir::usable_name(object.metadata.uid)) return unusable_uid(object.metadata);
  return config_maps_.write(object.metadata.uid, encode_for_disk(object));
}

base::Status ApiConfigObjectPersistence::save(const model::Secret& object) {
  if (!DurableFileDir::usable_name(object.metadata.uid)) return unusable_uid(object.metadata);
  return secrets_.write(object.metadata.uid, encode_for_disk(object));
}

base::Status ApiConfigObjectPersistence::remove(const model::ConfigMap& object) {
  if (!DurableFileDir::usable_name(object.metadata.uid)) return unusable_uid(object.metadata);
  return config_maps_.remove(object.metadata.uid);
}

base::Status ApiConfigObjectPersistence::remove(const model::Secret& object) {
  if (!DurableFileDir::usable_name(object.metadata.uid)) return unusable_uid(object.metadata);
  return secrets_.remove(object.metadata.uid);
}

LoadedConfigObjects ApiConfigObjectPersistence::load_all() const {
  LoadedConfigObjects out;
  load_kind(config_maps_, out.objects.config_maps, out.problems);
  load_kind(secrets_, out.objects.secrets, out.problems);
  return out;
}

base::Status MemoryConfigObjectPersistence::save(const model::ConfigMap& object) {
  if (fail) return Error("injected failure");
  config_maps[object.metadata.uid] = object;
  return {};
}

base::Status MemoryConfigObjectPersistence::save(const model::Secret& object) {
  if (fail) return Error("injected failure");
  secrets[object.metadata.uid] = object;
  return {};
}

base::Status MemoryConfigObjectPersistence::remove(const model::ConfigMap& object) {
  if (fail) return Error("injected failure");
  config_maps.erase(object.metadata.uid);
  return {};
}

base::Status MemoryConfigObjectPersistence::remove(const model::Secret& object) {
  if (fail) return Error("injected failure");
  secrets.erase(object.metadata.uid);
  return {};
}

}  // namespace podagent::agent
