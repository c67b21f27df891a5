#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "agent/api_pod_persistence.h"
#include "model/defaults.h"

namespace podagent::agent {
namespace {

namespace fs = std::filesystem;

class ApiPersistenceTest : public testing::Test {
 protected:
  ApiPersistenceTest() {
    std::string tmpl = (fs::temp_directory_path() / "podagent-api-persistence-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
  }
  ~ApiPersistenceTest() override { fs::remove_all(dir_); }

  static model::Pod pod(std::string name, std::string uid) {
    model::Pod p;
    p.metadata.name = std::move(name);
    p.metadata.namespace_ = "default";
    p.metadata.uid = std::move(uid);
    p.metadata.creation_timestamp = "2026-01-02T03:04:05Z";
    p.metadata.labels["app"] = "web";
    model::Container c;
    c.name = "app";
    c.image = "nginx:1.25";
    p.spec.containers.push_back(c);
    model::apply_defaults(p);
    return p;
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / "api-pods" / name) << text;
  }

  fs::path dir_;
};

TEST_F(ApiPersistenceTest, SavedPodsComeBackWithoutStatus) {
  ApiPodPersistence store(dir_);
  model::Pod a = pod("a", "0b6f4f3c-0000-4000-8000-000000000001");
  a.status.phase = "Running";
  a.metadata.resource_version = "17";
  ASSERT_TRUE(store.save(a).ok());
  ASSERT_TRUE(store.save(pod("b", "0b6f4f3c-0000-4000-8000-000000000002")).ok());
  EXPECT_TRUE(fs::exists(dir_ / "api-pods" / "0b6f4f3c-0000-4000-8000-000000000001.json"));
  EXPECT_EQ(fs::status(dir_ / "api-pods").permissions() & fs::perms::all, fs::perms::owner_all);

  LoadedPods loaded = ApiPodPersistence(dir_).load_all();
  EXPECT_TRUE(loaded.problems.empty());
  ASSERT_EQ(loaded.pods.size(), 2u);
  model::Pod expected = a;
  expected.status = {};
  expected.metadata.resource_version.clear();
  EXPECT_EQ(loaded.pods[0], expected);
  EXPECT_EQ(loaded.pods[1].metadata.name, "b");
}

TEST_F(ApiPersistenceTest, SaveReplacesAndRemoveForgets) {
  ApiPodPersistence store(dir_);
  model::Pod a = pod("a", "uid-a");
  ASSERT_TRUE(store.save(a).ok());
  a.spec.containers[0].image = "nginx:1.27";
  ASSERT_TRUE(store.save(a).ok());
  LoadedPods loaded = store.load_all();
  ASSERT_EQ(loaded.pods.size(), 1u);
  EXPECT_EQ(loaded.pods[0].spec.containers[0].image, "nginx:1.27");

  ASSERT_TRUE(store.remove(base::PodUid("uid-a")).ok());
  EXPECT_TRUE(store.remove(base::PodUid("uid-a")).ok());  // already gone: fine
  EXPECT_TRUE(store.load_all().pods.empty());
  // Nothing but pod files is left behind.
  EXPECT_TRUE(fs::is_empty(dir_ / "api-pods"));
}

TEST_F(ApiPersistenceTest, MissingDirectoryIsEmpty) {
  LoadedPods loaded = ApiPodPersistence(dir_ / "nowhere").load_all();
  EXPECT_TRUE(loaded.pods.empty());
  EXPECT_TRUE(loaded.problems.empty());
}

TEST_F(ApiPersistenceTest, UnusableUidsAreRefused) {
  ApiPodPersistence store(dir_);
  EXPECT_FALSE(store.save(pod("a", "../escape")).ok());
  EXPECT_FALSE(store.save(pod("a", "")).ok());
  EXPECT_FALSE(store.remove(base::PodUid("a/b")).ok());
}

TEST_F(ApiPersistenceTest, CorruptFilesAreReportedAndSkipped) {
  ApiPodPersistence store(dir_);
  ASSERT_TRUE(store.save(pod("good", "uid-good")).ok());
  write("uid-torn.json", R"({"apiVersion":"v1","kind":"Pod","metadata":{"na)");
  write("uid-two.json",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, uid: uid-two}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: b, uid: uid-two}\n");
  write("uid-invalid.json",
        R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","uid":"uid-invalid"},
    "spec":{"containers":[{"name":"app"}]}})");
  write("uid-mismatch.json",
        R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","uid":"other"},
    "spec":{"containers":[{"name":"app","image":"busybox"}]}})");
  write("uid-types.json",
        R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","uid":"uid-types"},
    "spec":{"containers":"nope"}})");
  write(".uid-half.json.tmp", "{");
  write("README", "not a pod file");

  LoadedPods loaded = store.load_all();
  ASSERT_EQ(loaded.pods.size(), 1u);
  EXPECT_EQ(loaded.pods[0].metadata.name, "good");
  EXPECT_EQ(loaded.problems.size(), 5u);
  for (const auto& p : loaded.problems) EXPECT_NE(p.find("api-pods/uid-"), std::string::npos) << p;
  // The torn temporary file of an unfinished save is cleaned up; the
  // corrupt pod files stay for a person to look at.
  EXPECT_FALSE(fs::exists(dir_ / "api-pods" / ".uid-half.json.tmp"));
  EXPECT_TRUE(fs::exists(dir_ / "api-pods" / "uid-torn.json"));
}

TEST_F(ApiPersistenceTest, SaveFailsCleanlyWhenTheDirectoryCannotBeMade) {
  std::ofstream(dir_ / "blocker") << "a file where the state directory should be";
  ApiPodPersistence store(dir_ / "blocker");
  auto status = store.save(pod("a", "uid-a"));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("cannot create directory"), std::string::npos)
      << status.error().message;
}

}  // namespace
}  // namespace podagent::agent
