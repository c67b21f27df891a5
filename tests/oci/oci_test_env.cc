#include "tests/oci/oci_test_env.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "runtime/oci/image_store.h"
#include "runtime/oci/rootfs.h"

namespace podagent::runtime::oci::testing {

namespace fs = std::filesystem;

namespace {

bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin:/usr/sbin:/sbin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (::access((fs::path(dir) / name).c_str(), X_OK) == 0) return true;
  return false;
}

// Removes the archive's directory when the test process ends.
struct ArchiveDir {
  fs::path path;
  ~ArchiveDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

}  // namespace

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const fs::path& busybox_archive() {
  static ArchiveDir dir_holder;
  static fs::path archive;
  static std::once_flag once;
  std::call_once(once, [] {
    char dir_template[] = "/tmp/podagent-oci-image-XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    if (!dir) throw std::runtime_error("mkdtemp failed");
    dir_holder.path = dir;
    archive = fs::path(dir) / "busybox.tar";
    const std::string cmd = std::string("sh ") + PODAGENT_SOURCE_DIR +
                            "/scripts/build-busybox-image.sh " + archive.string() + " " +
                            kTestImage + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("build-busybox-image.sh failed");
  });
  return archive;
}

bool can_run_containers(std::string* why) {
  if (::geteuid() != 0) {
    *why = "needs root";
  } else if (!on_path("runc")) {
    *why = "needs runc";
  } else {
    return true;
  }
  return false;
}

OciTestDir::OciTestDir() {
  char dir_template[] = "/tmp/podagent-oci-XXXXXX";
  const char* dir = ::mkdtemp(dir_template);
  if (!dir) throw std::runtime_error("mkdtemp failed");
  root_ = dir;
  fs::create_directories(logs_dir());
  auto store = ImageStore::open(state_dir() / "images");
  if (!store) throw std::runtime_error("opening the image store: " + store.error().to_string());
  auto imported = store->import(busybox_archive(), std::string(kTestImage));
  if (!imported) throw std::runtime_error("importing busybox: " + imported.error().to_string());
}

OciTestDir::~OciTestDir() {
  // What a failed test left running: runc kills and deletes each object
  // (its monitor then exits), so that no container outlives the test.
  const std::string runc = "runc --root '" + (state_dir() / "oci/run/runc/runtime").string() + "'";
  const std::string delete_all = runc + " list -q 2>/dev/null | while read -r id; do " + runc +
                                 " delete --force \"$id\" >/dev/null 2>&1; done";
  (void)std::system(delete_all.c_str());
  (void)unmount_all_under(root_);
  std::error_code ec;
  if (mounts_under(root_).empty()) fs::remove_all(root_, ec);
}

OciRuntimeOptions OciTestDir::options() const {
  OciRuntimeOptions o;
  o.state_dir = state_dir();
  o.handlers = {{"runc", "runc"}};
  o.default_handler = "runc";
  o.pause_binary = PODAGENT_PAUSE_BINARY;
  o.node.node_name = "test-node";
  return o;
}

std::vector<std::string> find_leaks(const fs::path& state_dir,
                                    const std::vector<std::string>& ids) {
  std::vector<std::string> leaks;
  const std::string root = state_dir.string();
  for (const fs::path& m : mounts_under(state_dir)) leaks.push_back("mount " + m.string());
  std::error_code ec;
  // Processes: a monitor names our paths on its command line; a container's
  // processes have their root under our bundles.
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string pid = it->path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_file(it->path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    std::error_code link_ec;
    const std::string proc_root = fs::read_symlink(it->path() / "root", link_ec).string();
    // `runc init` (a created container's, or an exec's) names our runtime
    // root only in its environment.
    const std::string environ = read_file(it->path() / "environ");
    if (cmdline.find(root) != std::string::npos || proc_root.rfind(root, 0) == 0 ||
        environ.find(root) != std::string::npos)
      leaks.push_back("process " + pid + ": " + cmdline);
  }
  // Records, bundles, runtime state, the monitors' files, exit files.
  for (const char* dir : {"oci/sandboxes", "oci/containers"}) {
    for (fs::directory_iterator it(state_dir / dir, ec), end; !ec && it != end; it.increment(ec))
      leaks.push_back("file " + it->path().string());
  }
  for (fs::directory_iterator h(state_dir / "oci/run", ec), end; !ec && h != end; h.increment(ec)) {
    for (const char* sub : {"runtime", "conmon", "exits"}) {
      std::error_code sub_ec;
      for (fs::directory_iterator it(h->path() / sub, sub_ec), e2; !sub_ec && it != e2;
           it.increment(sub_ec)) {
        leaks.push_back("file " + it->path().string());
      }
    }
  }
  // Cgroups the OCI runtime made for the test's objects (named by their
  // ids, under each controller).
  for (const std::string& id : ids) {
    for (fs::directory_iterator c("/sys/fs/cgroup", ec), end; !ec && c != end; c.increment(ec)) {
      std::error_code exists_ec;
      if (fs::exists(c->path() / id, exists_ec))
        leaks.push_back("cgroup " + (c->path() / id).string());
    }
  }
  // Image holds.
  if (auto store = ImageStore::open(state_dir / "images")) {
    if (auto images = store->list()) {
      for (const Image& image : *images)
        for (const std::string& holder : store->holds(image.id))
          leaks.push_back("image hold " + holder);
    }
  }
  return leaks;
}

bool Driver::run_until(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io_.restart();
    io_.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

model::Container sh_container(const std::string& name, const std::string& script) {
  model::Container c;
  c.name = name;
  c.image = kTestImage;
  c.command = {"sh", "-c", script};
  c.termination_message_path = "/dev/termination-log";
  c.termination_message_policy = "File";
  return c;
}

std::shared_ptr<model::Pod> make_pod(const std::string& uid, const std::string& name) {
  auto pod = std::make_shared<model::Pod>();
  pod->metadata.name = name;
  pod->metadata.namespace_ = "default";
  pod->metadata.uid = uid;
  pod->spec.dns_policy = "Default";
  return pod;
}

SandboxConfig sandbox_config_for(std::shared_ptr<model::Pod> pod, const fs::path& logs_dir) {
  SandboxConfig c;
  c.pod_uid = PodUid(pod->metadata.uid);
  c.pod_name = pod->metadata.name;
  c.pod_namespace = pod->metadata.namespace_;
  c.log_directory = logs_dir.empty()
                        ? fs::path()
                        : logs_dir / (c.pod_namespace + "_" + c.pod_name + "_" + c.pod_uid.str());
  c.pod = std::move(pod);
  return c;
}

ContainerConfig container_config_for(const model::Container& spec, const SandboxConfig& sandbox,
                                     uint32_t attempt) {
  ContainerConfig c;
  c.spec = spec;
  c.attempt = attempt;
  c.spec_hash = "hash-" + spec.name;
  c.pod = sandbox.pod;
  c.log_path = fs::path(spec.name) / (std::to_string(attempt) + ".log");
  return c;
}

void OciRuntimeTest::SetUp() {
  std::string why;
  if (!can_run_containers(&why)) GTEST_SKIP() << why;
  dir_.emplace();
  open_runtime();
}

void OciRuntimeTest::TearDown() {
  if (dir_) close_runtime();
}

void OciRuntimeTest::open_runtime() {
  events_.clear();
  auto rt = OciRuntime::create(clock_, driver_.executor(), dir_->options());
  ASSERT_TRUE(rt) << rt.error().to_string();
  runtime_ = std::move(*rt);
  runtime_->set_event_handlers(
      [this](const ContainerEvent& e) {
        events_.push_back(e);
        ids_.add(e.container_id.str());
        ids_.add(e.sandbox_id.str());
      },
      [this](const SandboxEvent& e) { sandbox_events_.push_back(e); });
}

void OciRuntimeTest::close_runtime() {
  runtime_.reset();
  driver_.io().restart();
  driver_.io().poll();
}

bool OciRuntimeTest::exited(const ContainerId& id) const {
  for (const auto& e : events_)
    if (e.type == ContainerEvent::Type::Exited && e.container_id == id) return true;
  return false;
}

}  // namespace podagent::runtime::oci::testing
