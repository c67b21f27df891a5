#include "runtime/oci/oci_state.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/unique_fd.h"
#include "model/document.h"
#include "model/node.h"

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;
using model::Node;

constexpr const char* kRecordFile = "record.json";

int64_t to_nanos(WallTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
WallTime from_nanos(int64_t n) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(n)));
}

std::string_view kind_name(ContainerKind kind) {
  switch (kind) {
    case ContainerKind::Init:
      return "init";
    case ContainerKind::Sidecar:
      return "sidecar";
    case ContainerKind::App:
      return "app";
    case ContainerKind::Ephemeral:
      return "ephemeral";
  }
  return "app";
}

std::optional<ContainerKind> kind_from(std::string_view name) {
  for (auto k :
       {ContainerKind::Init, ContainerKind::Sidecar, ContainerKind::App, ContainerKind::Ephemeral})
    if (kind_name(k) == name) return k;
  return std::nullopt;
}

void set_time(Node& n, const char* key, const std::optional<WallTime>& t) {
  if (t) n.set(key, Node::integer(to_nanos(*t)));
}

// Reads the fields of a decoded record; the first problem is kept.
class Reader {
 public:
  explicit Reader(const Node& n) : n_(n) {}
  void str(const char* key, std::string& out) {
    const Node* v = n_.find(key);
    if (!v || v->is_null()) return;
    if (v->kind != Node::Kind::String) return fail(key, "not a string");
    out = v->text;
  }
  void int64(const char* key, std::optional<int64_t>& out) {
    const Node* v = n_.find(key);
    if (!v || v->is_null()) return;
    if (v->kind != Node::Kind::Int) return fail(key, "not an integer");
    errno = 0;
    char* end = nullptr;
    const long long i = std::strtoll(v->text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return fail(key, "integer out of range");
    out = i;
  }
  void time(const char* key, std::optional<WallTime>& out) {
    std::optional<int64_t> i;
    int64(key, i);
    if (i) out = from_nanos(*i);
  }
  void time(const char* key, WallTime& out) {
    std::optional<WallTime> t;
    time(key, t);
    if (t) out = *t;
  }
  void u32(const char* key, uint32_t& out) {
    std::optional<int64_t> i;
    int64(key, i);
    if (!i) return;
    if (*i < 0 || *i > UINT32_MAX) return fail(key, "out of range");
    out = static_cast<uint32_t>(*i);
  }
  void require(const char* key, const std::string& value) {
    if (value.empty()) fail(key, "missing");
  }
  void fail(const char* key, const char* what) {
    if (!error_) error_ = base::Error(what, key);
  }
  const std::optional<base::Error>& error() const { return error_; }

 private:
  const Node& n_;
  std::optional<base::Error> error_;
};

base::Result<Node> parse_record(std::string_view json) {
  auto docs = model::parse_documents(json);
  if (!docs) return docs.error();
  if (docs->size() != 1 || !docs->front().is_map())
    return base::Error("a record is one JSON object");
  return std::move(docs->front());
}

template <typename Record>
base::Status write_record(const fs::path& dir, const Record& record) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::Error("creating " + dir.string() + ": " + ec.message());
  return write_file_atomic(dir / kRecordFile, encode_record(record), false);
}

bool earlier(const WallTime& a, const std::string& a_id, const WallTime& b,
             const std::string& b_id) {
  return a != b ? a < b : a_id < b_id;
}

// Reads every <dir>/*/record.json with `decode`; directories without a
// readable record go to `orphans`.
template <typename Record, typename Decode>
std::vector<Record> load_kind(const fs::path& dir, Decode decode, std::vector<fs::path>& orphans) {
  std::vector<Record> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory()) continue;
    auto text = read_file_head(it->path() / kRecordFile, 1 << 20);
    base::Result<Record> record = text ? decode(*text) : base::Result<Record>(text.error());
    if (record && record->id == it->path().filename().string()) {
      out.push_back(std::move(*record));
    } else {
      orphans.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end(), [](const Record& a, const Record& b) {
    return earlier(a.created_at, a.id, b.created_at, b.id);
  });
  return out;
}

base::Status errno_error(const std::string& what) {
  return base::Error(what + ": " + std::strerror(errno));
}

}  // namespace

std::string encode_record(const SandboxRecord& r) {
  Node n = Node::map();
  n.set("id", Node::string(r.id));
  n.set("podUid", Node::string(r.pod_uid));
  n.set("podName", Node::string(r.pod_name));
  n.set("podNamespace", Node::string(r.pod_namespace));
  n.set("attempt", Node::integer(r.attempt));
  n.set("handler", Node::string(r.handler));
  n.set("hostname", Node::string(r.hostname));
  n.set("createdAt", Node::integer(to_nanos(r.created_at)));
  set_time(n, "finishedAt", r.finished_at);
  n.set("logDirectory", Node::string(r.log_directory));
  n.set("bundle", Node::string(r.bundle));
  return model::to_json(n, true) + "\n";
}

std::string encode_record(const ContainerRecord& r) {
  Node n = Node::map();
  n.set("id", Node::string(r.id));
  n.set("sandboxId", Node::string(r.sandbox_id));
  n.set("podUid", Node::string(r.pod_uid));
  n.set("name", Node::string(r.name));
  n.set("kind", Node::string(std::string(kind_name(r.kind))));
  n.set("attempt", Node::integer(r.attempt));
  n.set("specHash", Node::string(r.spec_hash));
  n.set("image", Node::string(r.image));
  n.set("imageId", Node::string(r.image_id));
  n.set("handler", Node::string(r.handler));
  n.set("createdAt", Node::integer(to_nanos(r.created_at)));
  set_time(n, "startedAt", r.started_at);
  set_time(n, "finishedAt", r.finished_at);
  if (r.exit_code) n.set("exitCode", Node::integer(*r.exit_code));
  n.set("reason", Node::string(r.reason));
  n.set("message", Node::string(r.message));
  n.set("logPath", Node::string(r.log_path));
  n.set("terminationMessagePolicy", Node::string(r.termination_message_policy));
  n.set("bundle", Node::string(r.bundle));
  return model::to_json(n, true) + "\n";
}

base::Result<SandboxRecord> decode_sandbox_record(std::string_view json) {
  auto node = parse_record(json);
  if (!node) return node.error();
  SandboxRecord r;
  Reader in(*node);
  in.str("id", r.id);
  in.str("podUid", r.pod_uid);
  in.str("podName", r.pod_name);
  in.str("podNamespace", r.pod_namespace);
  in.u32("attempt", r.attempt);
  in.str("handler", r.handler);
  in.str("hostname", r.hostname);
  in.time("createdAt", r.created_at);
  in.time("finishedAt", r.finished_at);
  in.str("logDirectory", r.log_directory);
  in.str("bundle", r.bundle);
  in.require("id", r.id);
  in.require("podUid", r.pod_uid);
  in.require("handler", r.handler);
  if (in.error()) return *in.error();
  return r;
}

base::Result<ContainerRecord> decode_container_record(std::string_view json) {
  auto node = parse_record(json);
  if (!node) return node.error();
  ContainerRecord r;
  Reader in(*node);
  std::string kind;
  std::optional<int64_t> exit_code;
  in.str("id", r.id);
  in.str("sandboxId", r.sandbox_id);
  in.str("podUid", r.pod_uid);
  in.str("name", r.name);
  in.str("kind", kind);
  in.u32("attempt", r.attempt);
  in.str("specHash", r.spec_hash);
  in.str("image", r.image);
  in.str("imageId", r.image_id);
  in.str("handler", r.handler);
  in.time("createdAt", r.created_at);
  in.time("startedAt", r.started_at);
  in.time("finishedAt", r.finished_at);
  in.int64("exitCode", exit_code);
  in.str("reason", r.reason);
  in.str("message", r.message);
  in.str("logPath", r.log_path);
  in.str("terminationMessagePolicy", r.termination_message_policy);
  in.str("bundle", r.bundle);
  in.require("id", r.id);
  in.require("sandboxId", r.sandbox_id);
  in.require("handler", r.handler);
  if (auto k = kind_from(kind)) {
    r.kind = *k;
  } else {
    in.fail("kind", "unknown container kind");
  }
  if (exit_code) r.exit_code = static_cast<int32_t>(*exit_code);
  if (in.error()) return *in.error();
  return r;
}

base::Status StateDir::init() const {
  std::error_code ec;
  for (const char* sub : {"sandboxes", "containers"}) {
    fs::create_directories(root_ / sub, ec);
    if (ec) return base::Error("creating " + (root_ / sub).string() + ": " + ec.message());
  }
  return base::Status::Ok();
}

base::Status StateDir::write(const SandboxRecord& record) const {
  return write_record(sandbox_dir(record.id), record);
}

base::Status StateDir::write(const ContainerRecord& record) const {
  return write_record(container_dir(record.id), record);
}

LoadedState StateDir::load() const {
  LoadedState out;
  out.sandboxes = load_kind<SandboxRecord>(root_ / "sandboxes", decode_sandbox_record, out.orphans);
  out.containers =
      load_kind<ContainerRecord>(root_ / "containers", decode_container_record, out.orphans);
  return out;
}

std::string new_object_id() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) std::abort();  // the kernel's random source is always there
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

base::Status write_file_atomic(const fs::path& path, std::string_view text, bool durable) {
  const fs::path temp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  base::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return errno_error("creating " + temp.string());
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("writing " + temp.string());
    done += static_cast<size_t>(n);
  }
  if (durable && ::fsync(fd.get()) != 0) return errno_error("fsync " + temp.string());
  fd.reset();
  if (::rename(temp.c_str(), path.c_str()) != 0) return errno_error("renaming " + temp.string());
  if (durable) {
    base::UniqueFd dir(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid() || ::fsync(dir.get()) != 0)
      return errno_error("fsync " + path.parent_path().string());
  }
  return base::Status::Ok();
}

base::Result<std::string> read_file_head(const fs::path& path, size_t max_bytes) {
  base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno_error("opening " + path.string()).error();
  std::string out(max_bytes, '\0');
  size_t done = 0;
  while (done < max_bytes) {
    const ssize_t n = ::read(fd.get(), out.data() + done, max_bytes - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error("reading " + path.string()).error();
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace podagent::runtime::oci
