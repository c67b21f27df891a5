#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/config_object.h"
#include "model/document.h"
#include "model/pod.h"
#include "static-pods/manifest_source.h"

namespace podagent::static_pods {

// True for names the source never reads: dotfiles (".web.yaml.swp",
// ".#web.yaml") and editor leftovers: "*~", "*.swp", "*.swx", "*.swo",
// "*.tmp", "#*#" (emacs auto-save) and "4913" (the file vim creates to
// probe whether it may write the directory). Any other name is read, whatever
// its extension, as the kubelet does.
bool is_ignored_name(std::string_view name);

// One directory entry as the watcher read it: its text, or why it could not
// be read (the message ends up in errors()).
struct FileRead {
  std::string name;  // inside the directory, no slash
  base::Result<std::string> content;
};

struct ManifestDirOptions {
  std::string path;  // the directory as configured; part of each pod's UID
  std::string node_name;
  model::DocumentLimits limits;
};

// The pure model of a manifest directory: which files it holds, what each
// last said when it was good, and what is wrong with each now. It decides the
// desired pods; it does no I/O (the DirWatcher feeds it).
//
// Rules, after the kubelet's file source:
//   - a file is good when every pod, ConfigMap and Secret in it decodes and
//     validates; then its pods are its desired pods (all of them, for a List
//     or "---" documents) and its objects are in desired().objects. A file
//     may hold objects and no pod; a file holding nothing at all is bad;
//   - a file whose new text is bad, or that cannot be read, keeps the pods
//     and objects of its last good text, and its problems are listed in
//     errors() until it is good again or removed; a file that was never good
//     yields nothing;
//   - removing a file removes its pods and objects;
//   - two pods with the same namespace and name, or two objects of the same
//     kind, namespace and name: the one from the first file by name (or
//     first in its file) wins, the other is dropped and reported as an error
//     of the file that holds it.
// No problem text holds a Secret's values.
// Not thread-safe; owned by one thread.
class ManifestDir {
 public:
  explicit ManifestDir(ManifestDirOptions options);

  // A full listing: `files` are all the entries worth reading (ignored names
  // are skipped here too); files known before and absent now are removed.
  void replace_all(const std::vector<FileRead>& files);
  // One file read again (created, written, moved in, attributes changed).
  void update(const FileRead& file);
  // One file gone (deleted, moved out, no longer a regular file).
  void remove(const std::string& name);

  // The desired pods and objects of all files.
  const ManifestSnapshot& desired() const { return desired_; }
  const ManifestErrors& errors() const { return errors_; }
  // Incremented each time a file's problem list becomes non-empty or changes.
  uint64_t error_total() const { return error_total_; }

 private:
  struct FileState {
    std::optional<std::string> parsed;  // the text last parsed, to skip identical re-reads
    std::vector<std::shared_ptr<const model::Pod>> good;  // the pods of the last good text
    std::vector<model::ConfigMap> good_config_maps;  // its objects, in text order
    std::vector<model::Secret> good_secrets;
    std::vector<std::string> problems;  // of the latest read
  };

  void read_into(FileState& state, const FileRead& file) const;
  void parse_into(FileState& state, const std::string& name, const std::string& text) const;
  void rebuild();

  ManifestDirOptions options_;
  std::map<std::string, FileState> files_;  // by name: the kubelet's order
  ManifestSnapshot desired_;
  ManifestErrors errors_;
  uint64_t error_total_ = 0;
};

}  // namespace podagent::static_pods
