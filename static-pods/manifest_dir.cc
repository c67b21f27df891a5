#include "static-pods/manifest_dir.h"

#include <set>
#include <utility>

#include "model/config_object_codec.h"
#include "model/pod_codec.h"
#include "static-pods/static_pod_naming.h"

namespace podagent::static_pods {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string at(const std::string& where, const std::string& text) {
  return where.empty() ? text : where + ": " + text;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Defaults and validates each decoded ConfigMap or Secret; the usable ones
// go to `good`, the problems of the others to `problems`.
template <typename Decoded, typename T>
void check_objects(std::vector<Decoded>& decoded, model::FieldErrors (*validate)(const T&),
                   std::vector<T>& good, std::vector<std::string>& problems) {
  for (Decoded& d : decoded) {
    model::FieldErrors errors = d.errors;
    if (errors.empty()) {
      model::apply_defaults(d.object);
      errors = validate(d.object);
    }
    for (const model::FieldError& e : errors) problems.push_back(at(d.where, e.to_string()));
    good.push_back(std::move(d.object));
  }
}

// "metadata.name: Duplicate value: "x": namespace "ns" already has <what>
// from file "f", which wins".
std::string duplicate_problem(const std::string& name, const std::string& namespace_,
                              const std::string& what, const std::string& winner) {
  model::FieldError dup = model::FieldError::duplicate("metadata.name", model::quote(name));
  dup.detail = "namespace " + model::quote(namespace_) + " already has " + what + " from file " +
               model::quote(winner) + ", which wins";
  return dup.to_string();
}

// Adds a file's objects of one kind to `into`, unless an earlier one holds
// the name; those are reported in `problems`.
template <typename T>
void add_objects(const std::vector<T>& objects, const std::string& file, const char* what,
                 std::map<model::ObjectKey, T>& into,
                 std::map<model::ObjectKey, std::string>& owner,
                 std::vector<std::string>& problems) {
  for (const T& object : objects) {
    model::ObjectKey key{object.metadata.namespace_, object.metadata.name};
    auto [it, inserted] = owner.emplace(key, file);
    if (!inserted) {
      problems.push_back(duplicate_problem(key.second, key.first, what, it->second));
      continue;
    }
    into.emplace(std::move(key), object);
  }
}

}  // namespace

bool is_ignored_name(std::string_view name) {
  if (name.empty() || name.front() == '.') return true;
  if (name == "4913") return true;
  if (name.size() >= 2 && name.front() == '#' && name.back() == '#') return true;
  for (std::string_view suffix : {"~", ".swp", ".swx", ".swo", ".tmp"}) {
    if (ends_with(name, suffix)) return true;
  }
  return false;
}

ManifestDir::ManifestDir(ManifestDirOptions options) : options_(std::move(options)) {}

void ManifestDir::replace_all(const std::vector<FileRead>& files) {
  std::set<std::string> present;
  for (const FileRead& file : files) {
    if (is_ignored_name(file.name)) continue;
    present.insert(file.name);
    read_into(files_[file.name], file);
  }
  std::erase_if(files_, [&](const auto& entry) { return !present.contains(entry.first); });
  rebuild();
}

void ManifestDir::update(const FileRead& file) {
  if (is_ignored_name(file.name)) return;
  read_into(files_[file.name], file);
  rebuild();
}

void ManifestDir::remove(const std::string& name) {
  if (files_.erase(name) > 0) rebuild();
}

void ManifestDir::read_into(FileState& state, const FileRead& file) const {
  if (!file.content.ok()) {
    // Read again when it comes back, even with the text parsed before.
    state.parsed.reset();
    state.problems = {file.content.error().to_string()};
    return;
  }
  const std::string& text = *file.content;
  if (state.parsed && *state.parsed == text) return;
  state.parsed = text;
  parse_into(state, file.name, text);
}

void ManifestDir::parse_into(FileState& state, const std::string& name,
                             const std::string& text) const {
  model::DecodeResult decoded = model::decode_pods(text, options_.limits);
  std::vector<std::string> problems;
  for (const model::FieldError& e : decoded.errors) problems.push_back(e.to_string());

  std::vector<std::shared_ptr<const model::Pod>> pods;
  StaticPodContext context{options_.node_name, join_path(options_.path, name)};
  for (model::DecodedPod& d : decoded.pods) {
    model::FieldErrors errors = d.errors;
    if (errors.empty()) errors = make_static_pod(d.pod, context);
    for (const model::FieldError& e : errors) problems.push_back(at(d.where, e.to_string()));
    pods.push_back(std::make_shared<const model::Pod>(std::move(d.pod)));
  }
  std::vector<model::ConfigMap> config_maps;
  std::vector<model::Secret> secrets;
  check_objects(decoded.config_maps, &model::validate_config_map, config_maps, problems);
  check_objects(decoded.secrets, &model::validate_secret, secrets, problems);
  if (problems.empty() && pods.empty() && config_maps.empty() && secrets.empty())
    problems.push_back("the file holds no pod, ConfigMap or Secret");

  state.problems = std::move(problems);
  if (!state.problems.empty()) return;
  state.good = std::move(pods);
  state.good_config_maps = std::move(config_maps);
  state.good_secrets = std::move(secrets);
}

void ManifestDir::rebuild() {
  ManifestSnapshot desired;
  ManifestErrors errors;
  std::map<std::pair<std::string, std::string>, std::string> owner;  // (ns, name) -> file
  std::map<model::ObjectKey, std::string> map_owner;
  std::map<model::ObjectKey, std::string> secret_owner;
  for (const auto& [name, state] : files_) {
    std::vector<std::string> problems = state.problems;
    for (const auto& shared : state.good) {
      const model::Pod& pod = *shared;
      auto key = std::make_pair(pod.metadata.namespace_, pod.metadata.name);
      auto [it, inserted] = owner.emplace(key, name);
      if (!inserted) {
        problems.push_back(
            duplicate_problem(pod.metadata.name, pod.metadata.namespace_, "it", it->second));
        continue;
      }
      desired.pods[base::PodUid(pod.metadata.uid)] = DesiredPod{shared, name};
    }
    add_objects(state.good_config_maps, name, "a ConfigMap of that name",
                desired.objects.config_maps, map_owner, problems);
    add_objects(state.good_secrets, name, "a Secret of that name", desired.objects.secrets,
                secret_owner, problems);
    if (problems.empty()) continue;
    auto before = errors_.find(name);
    if (before == errors_.end() || before->second != problems) ++error_total_;
    errors.emplace(name, std::move(problems));
  }
  desired_ = std::move(desired);
  errors_ = std::move(errors);
}

}  // namespace podagent::static_pods
