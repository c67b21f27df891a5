// ConfigMaps and Secrets in the manifest directory: ManifestDir's rules for
// them, and one DirWatcher check that a change of objects alone is delivered.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <functional>

#include "base/clock.h"
#include "static-pods/dir_watcher.h"
#include "static-pods/manifest_dir.h"
#include "tests/static-pods/test_manifests.h"

namespace podagent::static_pods {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using testing_manifests::pod_without_image;
using testing_manifests::pod_yaml;

std::string config_map_yaml(const std::string& name, const std::string& value,
                            const std::string& namespace_ = "") {
  std::string meta =
      "{name: " + name + (namespace_.empty() ? "" : ", namespace: " + namespace_) + "}";
  return "apiVersion: v1\nkind: ConfigMap\nmetadata: " + meta + "\ndata: {key: \"" + value +
         "\"}\n";
}

// stringData, so that a test can look for the plain value in error texts.
std::string secret_yaml(const std::string& name, const std::string& value,
                        const std::string& type = "") {
  return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + "}\n" +
         (type.empty() ? "" : "type: " + type + "\n") + "stringData: {password: \"" + value +
         "\"}\n";
}

FileRead good(std::string name, std::string text) {
  return FileRead{std::move(name), std::move(text)};
}

std::string all_problems(const ManifestErrors& errors) {
  std::string out;
  for (const auto& [file, problems] : errors)
    for (const auto& p : problems) out += file + ": " + p + "\n";
  return out;
}

class ManifestDirObjectsTest : public ::testing::Test {
 protected:
  const model::ConfigObjects& objects() const { return dir_.desired().objects; }
  std::string map_value(const std::string& name, const std::string& ns = "default") const {
    const model::ConfigMap* m = objects().config_map(ns, name);
    return m == nullptr ? "<none>" : m->data.at("key");
  }
  std::string secret_value(const std::string& name) const {
    const model::Secret* s = objects().secret("default", name);
    return s == nullptr ? "<none>" : s->data.at("password");
  }

  ManifestDir dir_{ManifestDirOptions{"/manifests", "node1", {}}};
};

TEST_F(ManifestDirObjectsTest, AFileOfObjectsOnlyIsGoodAndYieldsThemDefaulted) {
  dir_.update(
      good("objects.yaml", config_map_yaml("cfg", "v1") + "---\n" + secret_yaml("s", "pw")));
  EXPECT_THAT(dir_.errors(), IsEmpty());
  EXPECT_THAT(dir_.desired().pods, IsEmpty());
  ASSERT_EQ(objects().config_maps.size(), 1u);
  ASSERT_EQ(objects().secrets.size(), 1u);
  // Named as written, without the node suffix of static pods.
  const model::ConfigMap* m = objects().config_map("default", "cfg");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->metadata.namespace_, "default");
  EXPECT_THAT(m->data, ElementsAre(Pair("key", "v1")));
  const model::Secret* s = objects().secret("default", "s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type, "Opaque");
  EXPECT_THAT(s->data, ElementsAre(Pair("password", "pw")));
}

TEST_F(ManifestDirObjectsTest, AMixedFileYieldsItsPodAndItsObjects) {
  dir_.update(good("app.yaml", pod_yaml("web") + "---\n" + config_map_yaml("web-config", "x")));
  EXPECT_THAT(dir_.errors(), IsEmpty());
  ASSERT_EQ(dir_.desired().pods.size(), 1u);
  EXPECT_EQ(dir_.desired().pods.begin()->second.pod->metadata.name, "web-node1");
  EXPECT_EQ(map_value("web-config"), "x");
}

TEST_F(ManifestDirObjectsTest, ObjectsInAListAndOtherNamespaces) {
  dir_.update(good("list.yaml",
                   "apiVersion: v1\nkind: List\nitems:\n"
                   "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: web}}\n"
                   "- {apiVersion: v1, kind: Secret, metadata: {name: a}, type: example.com/x}\n"));
  EXPECT_THAT(dir_.errors(), IsEmpty());
  EXPECT_NE(objects().config_map("web", "a"), nullptr);
  EXPECT_EQ(objects().config_map("default", "a"), nullptr);
  ASSERT_NE(objects().secret("default", "a"), nullptr);
  EXPECT_EQ(objects().secret("default", "a")->type, "example.com/x");
}

TEST_F(ManifestDirObjectsTest, ABadObjectKeepsTheLastGoodFile) {
  dir_.update(good("app.yaml", pod_yaml("web") + "---\n" + config_map_yaml("cfg", "old")));
  ManifestSnapshot running = dir_.desired();

  // An invalid key: the whole file keeps its last good content, pod included.
  dir_.update(good("app.yaml", pod_yaml("web", "nginx:2") + "---\n" +
                                   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n"
                                   "data: {\"a b\": new}\n"));
  EXPECT_EQ(dir_.desired(), running);
  ASSERT_EQ(dir_.errors().count("app.yaml"), 1u);
  EXPECT_THAT(dir_.errors().at("app.yaml"),
              ElementsAre(HasSubstr("document 2: data[a b]: Invalid value: \"a b\": a valid config "
                                    "key must consist of alphanumeric characters")));

  // A decoding error (bad base64) likewise.
  dir_.update(
      good("app.yaml", config_map_yaml("cfg", "new") + "binaryData: {b: \"not base64\"}\n"));
  EXPECT_EQ(dir_.desired(), running);
  EXPECT_THAT(dir_.errors().at("app.yaml"),
              ElementsAre("binaryData[b]: Invalid value: illegal base64 data at input byte 3"));

  // Good again: the new content, and no error.
  dir_.update(good("app.yaml", config_map_yaml("cfg", "new")));
  EXPECT_THAT(dir_.errors(), IsEmpty());
  EXPECT_EQ(map_value("cfg"), "new");
  EXPECT_THAT(dir_.desired().pods, IsEmpty());
}

TEST_F(ManifestDirObjectsTest, ABadPodInAMixedFileKeepsItsObjectsToo) {
  dir_.update(good("app.yaml", pod_yaml("web") + "---\n" + secret_yaml("s", "old")));
  dir_.update(good("app.yaml", pod_without_image("web") + "---\n" + secret_yaml("s", "new")));
  EXPECT_EQ(secret_value("s"), "old");
  EXPECT_EQ(dir_.desired().pods.size(), 1u);
  EXPECT_THAT(dir_.errors().at("app.yaml"),
              ElementsAre("document 1: spec.containers[0].image: Required value"));
}

TEST_F(ManifestDirObjectsTest, AnObjectNeverGoodYieldsNothing) {
  dir_.update(good("tls.yaml", secret_yaml("cert", "hunter2", "kubernetes.io/tls")));
  EXPECT_THAT(objects().secrets, IsEmpty());
  EXPECT_THAT(dir_.errors().at("tls.yaml"),
              ElementsAre("data[tls.crt]: Required value", "data[tls.key]: Required value"));
}

TEST_F(ManifestDirObjectsTest, NoProblemShowsASecretsValue) {
  dir_.update(good("s.yaml",
                   "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
                   "data: {a: \"hunter2\", b: 4242424242}\nstringData: {c: [hunter2]}\n"));
  dir_.update(good("t.yaml",
                   "apiVersion: v1\nkind: Secret\nmetadata: {name: t}\n"
                   "type: kubernetes.io/dockerconfigjson\n"
                   "stringData: {.dockerconfigjson: \"hunter2 [\"}\n"));
  const std::string all = all_problems(dir_.errors());
  EXPECT_THAT(all, HasSubstr("s.yaml: data[a]"));
  EXPECT_THAT(all, HasSubstr("t.yaml: data[.dockerconfigjson]"));
  EXPECT_THAT(all, Not(HasSubstr("hunter2")));
  EXPECT_THAT(all, Not(HasSubstr("4242424242")));
}

TEST_F(ManifestDirObjectsTest, DuplicatesAcrossFilesTheFirstFileByNameWins) {
  dir_.update(good("b.yaml", config_map_yaml("cfg", "from-b") + "---\n" + secret_yaml("s", "b")));
  dir_.update(good("a.yaml", config_map_yaml("cfg", "from-a") + "---\n" + secret_yaml("s", "a")));
  EXPECT_EQ(map_value("cfg"), "from-a");
  EXPECT_EQ(secret_value("s"), "a");
  EXPECT_THAT(dir_.errors().count("a.yaml"), 0u);
  EXPECT_THAT(dir_.errors().at("b.yaml"),
              ElementsAre("metadata.name: Duplicate value: \"cfg\": namespace \"default\" already "
                          "has a ConfigMap of that name from file \"a.yaml\", which wins",
                          "metadata.name: Duplicate value: \"s\": namespace \"default\" already "
                          "has a Secret of that name from file \"a.yaml\", which wins"));

  // The loser takes over when the winner goes.
  dir_.remove("a.yaml");
  EXPECT_EQ(map_value("cfg"), "from-b");
  EXPECT_EQ(secret_value("s"), "b");
  EXPECT_THAT(dir_.errors(), IsEmpty());
}

TEST_F(ManifestDirObjectsTest, OnlyTheSameKindNamespaceAndNameAreDuplicates) {
  dir_.update(good("a.yaml", config_map_yaml("x", "1") + "---\n" + config_map_yaml("x", "2") +
                                 "---\n" + config_map_yaml("x", "3", "other") + "---\n" +
                                 secret_yaml("x", "4") + "---\n" + pod_yaml("x")));
  EXPECT_EQ(map_value("x"), "1");  // first in its file
  EXPECT_EQ(map_value("x", "other"), "3");
  EXPECT_EQ(secret_value("x"), "4");
  EXPECT_EQ(dir_.desired().pods.size(), 1u);
  EXPECT_THAT(dir_.errors().at("a.yaml"),
              ElementsAre(HasSubstr("Duplicate value: \"x\": namespace \"default\" already has a "
                                    "ConfigMap of that name from file \"a.yaml\"")));
}

TEST_F(ManifestDirObjectsTest, RemovingAFileRemovesItsObjects) {
  dir_.update(good("a.yaml", config_map_yaml("cfg", "v")));
  dir_.update(good("b.yaml", secret_yaml("s", "v")));
  dir_.remove("a.yaml");
  EXPECT_THAT(objects().config_maps, IsEmpty());
  EXPECT_EQ(secret_value("s"), "v");
  dir_.replace_all({});
  EXPECT_EQ(dir_.desired(), ManifestSnapshot{});
}

TEST_F(ManifestDirObjectsTest, AChangeOfObjectsAloneChangesTheSnapshot) {
  dir_.update(good("app.yaml", pod_yaml("web") + "---\n" + config_map_yaml("cfg", "1")));
  ManifestSnapshot before = dir_.desired();
  dir_.update(good("app.yaml", pod_yaml("web") + "---\n" + config_map_yaml("cfg", "2")));
  EXPECT_NE(dir_.desired(), before);
  EXPECT_EQ(dir_.desired().pods, before.pods);  // the pod's UID did not change
}

TEST_F(ManifestDirObjectsTest, AFileWithNothingInItIsStillBad) {
  dir_.update(good("empty.yaml", "apiVersion: v1\nkind: List\nitems: []\n"));
  EXPECT_THAT(dir_.errors().at("empty.yaml"),
              ElementsAre("the file holds no pod, ConfigMap or Secret"));
}

// The watcher delivers a snapshot whose only change is an object's data.
class ObjectsDirWatcherTest : public ::testing::Test {
 protected:
  ObjectsDirWatcherTest() {
    std::string tmpl = (fs::temp_directory_path() / "podagent-objects-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    dir_ = root_ / "manifests";
    fs::create_directory(dir_);
  }
  ~ObjectsDirWatcherTest() override {
    watcher_.reset();
    fs::remove_all(root_);
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream out(dir_ / name, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    ASSERT_TRUE(out);
  }
  // Runs the io_context until `done`; the bound only keeps a broken watcher
  // from hanging the test.
  bool run_until(const std::function<bool()>& done) {
    for (int i = 0; i < 100 && !done(); ++i) {
      if (io_.stopped()) io_.restart();
      io_.run_one_for(50ms);
    }
    return done();
  }

  boost::asio::io_context io_;
  base::FakeClock clock_{io_};
  fs::path root_;
  fs::path dir_;
  std::unique_ptr<DirWatcher> watcher_;
  std::vector<ManifestSnapshot> snapshots_;
};

TEST_F(ObjectsDirWatcherTest, AnEditOfAConfigMapAloneIsDelivered) {
  write("app.yaml", pod_yaml("web") + "---\n" + config_map_yaml("cfg", "1"));
  watcher_ =
      std::make_unique<DirWatcher>(io_, clock_, DirWatcherOptions{dir_.string(), "node1", 20s, {}});
  watcher_->start([this](const ManifestSnapshot& s) { snapshots_.push_back(s); });
  ASSERT_TRUE(run_until([&] { return snapshots_.size() == 1; }));
  ASSERT_NE(snapshots_[0].objects.config_map("default", "cfg"), nullptr);

  write("app.yaml", pod_yaml("web") + "---\n" + config_map_yaml("cfg", "2"));
  ASSERT_TRUE(run_until([&] { return snapshots_.size() == 2; }));
  EXPECT_EQ(snapshots_[1].pods, snapshots_[0].pods);
  const model::ConfigMap* m = snapshots_[1].objects.config_map("default", "cfg");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->data.at("key"), "2");
  EXPECT_EQ(watcher_->snapshot(), snapshots_[1]);
}

}  // namespace
}  // namespace podagent::static_pods
