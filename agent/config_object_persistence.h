#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "agent/api_pod_persistence.h"
#include "base/result.h"
#include "model/config_object.h"
#include "model/field_error.h"

namespace podagent::agent {

// Where the ConfigMaps and Secrets created through the API are kept across
// agent restarts. REQUIRES of every call: metadata.uid is set.
class ConfigObjectPersistence {
 public:
  virtual ~ConfigObjectPersistence() = default;
  // Records the object durably before returning (the API answers only then).
  virtual base::Status save(const model::ConfigMap& object) = 0;
  virtual base::Status save(const model::Secret& object) = 0;
  // Forgets the object (by its UID) durably; an unknown one is not an error.
  virtual base::Status remove(const model::ConfigMap& object) = 0;
  virtual base::Status remove(const model::Secret& object) = 0;
};

struct LoadedConfigObjects {
  model::ConfigObjects objects;  // defaulted and valid, resourceVersion empty
  // One line per file that could not be used ("<file>: <why>", never a
  // secret's value); those files are left for a person to look at.
  std::vector<std::string> problems;
};

// The API's objects as files, one each, named by UID, in the JSON the API
// serves (a Secret's data base64-encoded, as the API shows it):
//   <state_dir>/api-configmaps/<uid>.json
//   <state_dir>/api-secrets/<uid>.json
// through a DurableFileDir: directories 0700, files 0600.
//
// Blocking file I/O on the caller's thread. Not thread-safe.
class ApiConfigObjectPersistence final : public ConfigObjectPersistence {
 public:
  explicit ApiConfigObjectPersistence(const std::filesystem::path& state_dir);

  const std::filesystem::path& config_map_directory() const { return config_maps_.path(); }
  const std::filesystem::path& secret_directory() const { return secrets_.path(); }

  base::Status save(const model::ConfigMap& object) override;
  base::Status save(const model::Secret& object) override;
  base::Status remove(const model::ConfigMap& object) override;
  base::Status remove(const model::Secret& object) override;

  // Reads every file back. A file that cannot be read, decoded or
  // validated, whose UID is not its name's, or whose namespace/name another
  // file already holds, is reported and skipped.
  LoadedConfigObjects load_all() const;

 private:
  DurableFileDir config_maps_;
  DurableFileDir secrets_;
};

// An in-memory ConfigObjectPersistence for tests, which can be told to fail.
class MemoryConfigObjectPersistence final : public ConfigObjectPersistence {
 public:
  base::Status save(const model::ConfigMap& object) override;
  base::Status save(const model::Secret& object) override;
  base::Status remove(const model::ConfigMap& object) override;
  base::Status remove(const model::Secret& object) override;

  std::map<std::string, model::ConfigMap> config_maps;  // by UID
  std::map<std::string, model::Secret> secrets;         // by UID
  bool fail = false;                                    // every call fails while set
};

// A Secret's field errors without the values they quote: a secret's bytes
// must not reach a log line or an error message. A value that is only the
// key named in the field ("data[a b]") is kept.
model::FieldErrors redact_secret_errors(model::FieldErrors errors);

}  // namespace podagent::agent
