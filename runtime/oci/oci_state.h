#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "runtime/runtime.h"

// The oci backend's own records, one small JSON file per sandbox and per
// container, from which a restarted agent rebuilds its index:
//
//   <root>/sandboxes/<id>/record.json   (+ hosts, hostname, resolv.conf,
//                                          volumes/, bundle/)
//   <root>/containers/<id>/record.json  (+ bundle/, upper/, work/,
//                                          termination-log)
//
// A record is written (durably) before the runtime object it describes is
// created, and its directory is removed only after that object is deleted,
// so after a SIGKILL at any moment every runtime object has a record; a
// directory without a record holds nothing the runtime knows of.
namespace podagent::runtime::oci {

struct SandboxRecord {
  std::string id;
  std::string pod_uid;
  std::string pod_name;
  std::string pod_namespace;
  uint32_t attempt = 0;
  std::string handler;  // the OCI runtime handler (runc, crun, ...)
  std::string hostname;
  WallTime created_at{};
  std::optional<WallTime> finished_at;  // when the pause process was seen gone
  std::string log_directory;            // the pod's log dir; empty: none
  std::string bundle;
  bool operator==(const SandboxRecord&) const = default;
};

struct ContainerRecord {
  std::string id;
  std::string sandbox_id;
  std::string pod_uid;
  std::string name;
  ContainerKind kind = ContainerKind::App;
  uint32_t attempt = 0;
  std::string spec_hash;
  std::string image;     // as the spec names it
  std::string image_id;  // "sha256:..."
  std::string handler;
  WallTime created_at{};
  std::optional<WallTime> started_at;
  std::optional<WallTime> finished_at;
  std::optional<int32_t> exit_code;  // set with finished_at
  std::string reason;
  std::string message;
  std::string log_path;                    // absolute; empty: no log
  std::string termination_message_policy;  // File | FallbackToLogsOnError
  std::string bundle;
  bool operator==(const ContainerRecord&) const = default;
};

// JSON text of a record and back; decoding errors name the field.
std::string encode_record(const SandboxRecord& record);
std::string encode_record(const ContainerRecord& record);
base::Result<SandboxRecord> decode_sandbox_record(std::string_view json);
base::Result<ContainerRecord> decode_container_record(std::string_view json);

// What load() found on disk.
struct LoadedState {
  std::vector<SandboxRecord> sandboxes;     // by created_at, then id
  std::vector<ContainerRecord> containers;  // by created_at, then id
  // Directories with no readable record: left by a creation cut short.
  std::vector<std::filesystem::path> orphans;
};

// The records' directory tree under `root` (<stateDir>/oci). Every method
// does plain file I/O on the calling thread.
class StateDir {
 public:
  explicit StateDir(std::filesystem::path root) : root_(std::move(root)) {}

  // Creates root/sandboxes and root/containers.
  base::Status init() const;
  std::filesystem::path sandbox_dir(const std::string& id) const {
    return root_ / "sandboxes" / id;
  }
  std::filesystem::path container_dir(const std::string& id) const {
    return root_ / "containers" / id;
  }
  const std::filesystem::path& root() const { return root_; }

  // Writes the record into its directory (created if needed) by temp file
  // and rename, without fsync: the page cache keeps it through the agent's
  // SIGKILL, the one crash it must outlive. What it records (runtime
  // objects, overlay mounts) does not outlive the machine: after a machine
  // crash nothing of it runs, and a directory whose record was lost is an
  // orphan that recovery removes.
  base::Status write(const SandboxRecord& record) const;
  base::Status write(const ContainerRecord& record) const;

  LoadedState load() const;

 private:
  std::filesystem::path root_;
};

// A new id for a sandbox or container: 32 random hex digits (what runc
// accepts and what never repeats).
std::string new_object_id();

// Writes `text` to `path` by a temp file in the same directory and rename;
// `durable`: fsyncs the file before the rename and the directory after.
base::Status write_file_atomic(const std::filesystem::path& path, std::string_view text,
                               bool durable);
// At most `max_bytes` of a file's start; an error when it cannot be opened.
base::Result<std::string> read_file_head(const std::filesystem::path& path, size_t max_bytes);

}  // namespace podagent::runtime::oci
