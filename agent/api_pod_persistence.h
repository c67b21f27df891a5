#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/ids.h"
#include "base/result.h"
#include "model/pod.h"

namespace podagent::agent {

// A directory of small files written atomically and durably: the
// mechanism under the API's persisted pods and config objects. A write goes
// to a temporary file, is fsynced, renamed over `<name>.json` and the
// directory fsynced, so that a crash leaves either the old or the new file,
// never a torn one. The directory is created mode 0700 and every file 0600:
// they may hold secrets.
//
// Blocking file I/O on the caller's thread. Not thread-safe.
class DurableFileDir {
 public:
  explicit DurableFileDir(std::filesystem::path dir) : dir_(std::move(dir)) {}

  const std::filesystem::path& path() const { return dir_; }
  // A name usable as a file name here: letters, digits and '-' (UUIDs), at
  // most 128 characters.
  static bool usable_name(std::string_view name);

  // REQUIRES: usable_name(name) (else an error).
  base::Status write(std::string_view name, std::string_view text);
  // Removing a missing file is not an error.
  base::Status remove(std::string_view name);

  struct File {
    std::string name;  // without ".json"
    std::filesystem::path path;
    std::string text;
  };
  struct Listing {
    std::vector<File> files;
    std::vector<std::string> problems;  // "<path>: <why>"
  };
  // Reads every `<name>.json`; other files are ignored, leftover temporary
  // files of interrupted writes deleted. A missing directory is empty.
  Listing read_all() const;

 private:
  std::filesystem::path dir_;
};

// Where the pods created through the API are kept across agent restarts.
// Only a pod's metadata and spec are kept; its status is the pod workers'
// and is rebuilt after a restart.
class PodPersistence {
 public:
  virtual ~PodPersistence() = default;
  // Records the pod durably before returning (the API answers only then).
  // REQUIRES: metadata.uid is set.
  virtual base::Status save(const model::Pod& pod) = 0;
  // Forgets the pod durably; forgetting an unknown UID is not an error.
  virtual base::Status remove(const base::PodUid& uid) = 0;
};

struct LoadedPods {
  std::vector<model::Pod> pods;  // defaulted and valid, sorted by UID
  // One line per file that could not be used ("<file>: <why>"); those files
  // are left in place for a person to look at.
  std::vector<std::string> problems;
};

// The API pods as files: <state_dir>/api-pods/<uid>.json, one pod each, in
// the JSON the API serves, written through a DurableFileDir.
//
// Blocking file I/O on the caller's thread (small files; one fsync pair per
// API write). Not thread-safe.
class ApiPodPersistence final : public PodPersistence {
 public:
  explicit ApiPodPersistence(const std::filesystem::path& state_dir);

  const std::filesystem::path& directory() const { return files_.path(); }

  base::Status save(const model::Pod& pod) override;
  base::Status remove(const base::PodUid& uid) override;

  // Reads every pod file. A file that cannot be read, parsed, defaulted and
  // validated, or whose UID does not match its name, is reported in
  // `problems` and skipped; leftover temporary files of interrupted saves
  // are deleted. A missing directory is an empty result.
  LoadedPods load_all() const;

 private:
  DurableFileDir files_;
};

// An in-memory PodPersistence for tests, which can be told to fail.
class MemoryPodPersistence final : public PodPersistence {
 public:
  base::Status save(const model::Pod& pod) override;
  base::Status remove(const base::PodUid& uid) override;

  std::map<std::string, model::Pod> pods;  // by UID
  bool fail = false;                       // every call fails while set
};

}  // namespace podagent::agent
