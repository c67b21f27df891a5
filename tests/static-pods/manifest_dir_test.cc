#include "static-pods/manifest_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/static-pods/test_manifests.h"

namespace podagent::static_pods {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using testing_manifests::list_yaml;
using testing_manifests::pod_without_image;
using testing_manifests::pod_yaml;

FileRead good(std::string name, std::string text) {
  return FileRead{std::move(name), std::move(text)};
}
FileRead unreadable(std::string name) {
  return FileRead{std::move(name), base::Error("cannot open: Permission denied")};
}

struct IgnoredCase {
  const char* name;
  bool ignored;
};

TEST(IsIgnoredNameTest, DotfilesAndEditorLeftoversOnly) {
  const IgnoredCase cases[] = {
      {"web.yaml", false},    {"web.yml", false},     {"web.json", false},
      {"web", false},         {"web.conf", false},    {"4913x", false},
      {"a#b", false},         {".web.yaml", true},    {".web.yaml.swp", true},
      {"web.yaml.swp", true}, {"web.yaml.swx", true}, {"web.yaml.swo", true},
      {"web.yaml~", true},    {"web.yaml.tmp", true}, {"4913", true},
      {"#web.yaml#", true},   {".#web.yaml", true},   {"", true},
  };
  for (const IgnoredCase& c : cases) EXPECT_EQ(is_ignored_name(c.name), c.ignored) << c.name;
}

class ManifestDirTest : public ::testing::Test {
 protected:
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [uid, desired] : dir_.desired().pods) out.push_back(desired.pod->metadata.name);
    return out;
  }
  std::string uid_of(const std::string& pod_name) const {
    for (const auto& [uid, desired] : dir_.desired().pods) {
      if (desired.pod->metadata.name == pod_name) return uid.str();
    }
    return {};
  }

  ManifestDir dir_{ManifestDirOptions{"/manifests", "node1", {}}};
};

TEST_F(ManifestDirTest, AGoodFileYieldsItsNamedPod) {
  dir_.update(good("web.yaml", pod_yaml("web")));
  ASSERT_EQ(dir_.desired().pods.size(), 1u);
  const auto& [uid, desired] = *dir_.desired().pods.begin();
  EXPECT_EQ(desired.file, "web.yaml");
  EXPECT_EQ(desired.pod->metadata.name, "web-node1");
  EXPECT_EQ(desired.pod->metadata.uid, uid.str());
  EXPECT_THAT(dir_.errors(), IsEmpty());
}

TEST_F(ManifestDirTest, AnEditReplacesThePodAndAnIdenticalRewriteChangesNothing) {
  dir_.update(good("web.yaml", pod_yaml("web")));
  ManifestSnapshot first = dir_.desired();
  dir_.update(good("web.yaml", pod_yaml("web")));
  EXPECT_EQ(dir_.desired(), first);

  dir_.update(good("web.yaml", pod_yaml("web", "nginx:1.26")));
  ASSERT_EQ(dir_.desired().pods.size(), 1u);
  EXPECT_NE(dir_.desired().pods.begin()->first, first.pods.begin()->first);
  EXPECT_EQ(dir_.desired().pods.begin()->second.pod->spec.containers[0].image, "nginx:1.26");
}

// A snapshot shares the pods of the files that did not change: adding a
// file, or rewriting one with the same text, copies no pod.
TEST_F(ManifestDirTest, SnapshotsShareThePodsOfUnchangedFiles) {
  dir_.update(good("web.yaml", pod_yaml("web")));
  const ManifestSnapshot first = dir_.desired();
  dir_.update(good("db.yaml", pod_yaml("db")));
  dir_.update(good("web.yaml", pod_yaml("web")));
  const ManifestSnapshot& now = dir_.desired();
  ASSERT_EQ(now.pods.size(), 2u);
  const auto& [uid, web] = *first.pods.begin();
  ASSERT_TRUE(now.pods.contains(uid));
  EXPECT_EQ(now.pods.at(uid).pod.get(), web.pod.get());
}

TEST_F(ManifestDirTest, TheSamePodInAnotherFileHasAnotherUid) {
  dir_.update(good("a.yaml", pod_yaml("web")));
  std::string in_a = uid_of("web-node1");
  dir_.remove("a.yaml");
  dir_.update(good("b.yaml", pod_yaml("web")));
  EXPECT_NE(uid_of("web-node1"), in_a);
}

TEST_F(ManifestDirTest, AnInvalidEditKeepsTheLastGoodPodAndReportsTheFieldUntilFixed) {
  dir_.update(good("web.yaml", pod_yaml("web")));
  ManifestSnapshot running = dir_.desired();

  dir_.update(good("web.yaml", pod_without_image("web")));
  EXPECT_EQ(dir_.desired(), running);
  ASSERT_EQ(dir_.errors().count("web.yaml"), 1u);
  EXPECT_THAT(dir_.errors().at("web.yaml"),
              ElementsAre(HasSubstr("spec.containers[0].image: Required value")));
  EXPECT_EQ(dir_.error_total(), 1u);

  // The same bad text again is not a new error.
  dir_.update(good("web.yaml", pod_without_image("web")));
  EXPECT_EQ(dir_.error_total(), 1u);
  // Another bad text is.
  dir_.update(good("web.yaml", "kind: [unclosed"));
  EXPECT_EQ(dir_.error_total(), 2u);
  EXPECT_EQ(dir_.desired(), running);

  dir_.update(good("web.yaml", pod_yaml("web", "nginx:1.26")));
  EXPECT_THAT(dir_.errors(), IsEmpty());
  EXPECT_EQ(dir_.desired().pods.begin()->second.pod->spec.containers[0].image, "nginx:1.26");
}

TEST_F(ManifestDirTest, GoingBackToTheLastGoodTextAfterAnErrorClearsIt) {
  dir_.update(good("web.yaml", pod_yaml("web")));
  ManifestSnapshot running = dir_.desired();
  dir_.update(good("web.yaml", pod_without_image("web")));
  dir_.update(good("web.yaml", pod_yaml("web")));
  EXPECT_THAT(dir_.errors(), IsEmpty());
  EXPECT_EQ(dir_.desired(), running);
}

TEST_F(ManifestDirTest, AnUnreadableFileKeepsItsPodsUntilReadableAgain) {
  dir_.update(good("web.yaml", pod_yaml("web")));
  ManifestSnapshot running = dir_.desired();
  dir_.update(unreadable("web.yaml"));
  EXPECT_EQ(dir_.desired(), running);
  EXPECT_THAT(dir_.errors().at("web.yaml"), ElementsAre("cannot open: Permission denied"));
  dir_.update(good("web.yaml", pod_yaml("web")));
  EXPECT_THAT(dir_.errors(), IsEmpty());
  EXPECT_EQ(dir_.desired(), running);
}

TEST_F(ManifestDirTest, AFileNeverValidYieldsNoPodsAndAnError) {
  struct Case {
    const char* name;
    std::string text;
    const char* problem;
  };
  const Case cases[] = {
      {"no-image", pod_without_image("web"), "spec.containers[0].image: Required value"},
      {"syntax", "metadata: {name: [", "line 1"},
      {"empty", "", "the file holds no pod"},
      {"comments", "# nothing here\n", "the file holds no pod"},
      {"wrong kind", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n", ""},
      {"no name", "apiVersion: v1\nkind: Pod\nspec: {containers: [{name: c, image: i}]}\n",
       "metadata.name"},
  };
  for (const Case& c : cases) {
    ManifestDir dir{ManifestDirOptions{"/manifests", "node1", {}}};
    dir.update(good("f.yaml", c.text));
    EXPECT_THAT(dir.desired().pods, IsEmpty()) << c.name;
    ASSERT_EQ(dir.errors().count("f.yaml"), 1u) << c.name;
    EXPECT_THAT(dir.errors().at("f.yaml"), ::testing::Contains(HasSubstr(c.problem))) << c.name;
    for (const std::string& problem : dir.errors().at("f.yaml"))
      EXPECT_FALSE(problem.starts_with(":")) << problem;
  }
}

TEST_F(ManifestDirTest, TooLargeAFileIsAnError) {
  ManifestDir dir{ManifestDirOptions{"/manifests", "node1", {.max_bytes = 64}}};
  dir.update(good("big.yaml", pod_yaml("web")));
  EXPECT_THAT(dir.desired().pods, IsEmpty());
  EXPECT_THAT(dir.errors().at("big.yaml"), ElementsAre(HasSubstr("limit")));
}

TEST_F(ManifestDirTest, RemovingAFileRemovesItsPodsAndErrors) {
  dir_.update(good("web.yaml", pod_yaml("web")));
  dir_.update(good("bad.yaml", "kind: ["));
  dir_.remove("web.yaml");
  dir_.remove("bad.yaml");
  EXPECT_THAT(dir_.desired().pods, IsEmpty());
  EXPECT_THAT(dir_.errors(), IsEmpty());
}

TEST_F(ManifestDirTest, AFullListingReplacesEverythingAndSkipsIgnoredNames) {
  dir_.update(good("old.yaml", pod_yaml("old")));
  dir_.replace_all({good("a.yaml", pod_yaml("a")), good(".hidden.yaml", pod_yaml("hidden")),
                    good("b.yaml.swp", pod_yaml("swap")), good("c", pod_yaml("c"))});
  EXPECT_THAT(names(), UnorderedElementsAre("a-node1", "c-node1"));
}

TEST_F(ManifestDirTest, ListAndMultiDocumentFilesYieldEveryPod) {
  dir_.update(good("list.yaml", list_yaml("one", "two")));
  dir_.update(good("multi.yaml", pod_yaml("three") + "---\n" + pod_yaml("four")));
  EXPECT_THAT(names(), UnorderedElementsAre("one-node1", "two-node1", "three-node1", "four-node1"));
  EXPECT_EQ(dir_.desired().pods.size(), 4u);  // four distinct UIDs
  EXPECT_THAT(dir_.errors(), IsEmpty());
}

TEST_F(ManifestDirTest, OneBadPodInAMultiPodFileKeepsTheWholeLastGoodFile) {
  dir_.update(good("multi.yaml", pod_yaml("three") + "---\n" + pod_yaml("four")));
  ManifestSnapshot running = dir_.desired();
  dir_.update(
      good("multi.yaml", pod_yaml("three", "busybox") + "---\n" + pod_without_image("four")));
  EXPECT_EQ(dir_.desired(), running);
  EXPECT_THAT(dir_.errors().at("multi.yaml"),
              ElementsAre("document 2: spec.containers[0].image: Required value"));
}

TEST_F(ManifestDirTest, EditingOnePodOfAFileKeepsTheOthersUid) {
  dir_.update(good("multi.yaml", pod_yaml("three") + "---\n" + pod_yaml("four")));
  std::string three = uid_of("three-node1");
  std::string four = uid_of("four-node1");
  dir_.update(good("multi.yaml", pod_yaml("three") + "---\n" + pod_yaml("four", "busybox")));
  EXPECT_EQ(uid_of("three-node1"), three);
  EXPECT_NE(uid_of("four-node1"), four);
}

TEST_F(ManifestDirTest, DuplicateNamesFirstFileByNameWinsAndTheOtherIsReported) {
  dir_.update(good("b.yaml", pod_yaml("web", "from-b")));
  dir_.update(good("a.yaml", pod_yaml("web", "from-a")));
  ASSERT_EQ(dir_.desired().pods.size(), 1u);
  EXPECT_EQ(dir_.desired().pods.begin()->second.file, "a.yaml");
  ASSERT_EQ(dir_.errors().count("b.yaml"), 1u);
  EXPECT_THAT(dir_.errors().at("b.yaml"),
              ElementsAre(HasSubstr("metadata.name: Duplicate value: \"web-node1\"")));
  EXPECT_THAT(dir_.errors().at("b.yaml")[0], HasSubstr("\"a.yaml\""));

  // The hidden duplicate takes over when the winner goes.
  dir_.remove("a.yaml");
  ASSERT_EQ(dir_.desired().pods.size(), 1u);
  EXPECT_EQ(dir_.desired().pods.begin()->second.file, "b.yaml");
  EXPECT_THAT(dir_.errors(), IsEmpty());
}

TEST_F(ManifestDirTest, DuplicateNamesInOneFileKeepTheFirst) {
  dir_.update(good("multi.yaml", pod_yaml("web", "first") + "---\n" + pod_yaml("web", "second")));
  ASSERT_EQ(dir_.desired().pods.size(), 1u);
  EXPECT_EQ(dir_.desired().pods.begin()->second.pod->spec.containers[0].image, "first");
  EXPECT_THAT(dir_.errors().at("multi.yaml"), ElementsAre(HasSubstr("Duplicate value")));
}

TEST_F(ManifestDirTest, SameNameInOtherNamespacesIsNoDuplicate) {
  dir_.update(good("a.yaml", pod_yaml("web")));
  std::string other = pod_yaml("web");
  other.replace(other.find("  name: web"), 11, "  name: web\n  namespace: tools");
  dir_.update(good("b.yaml", other));
  EXPECT_EQ(dir_.desired().pods.size(), 2u);
  EXPECT_THAT(dir_.errors(), IsEmpty());
}

}  // namespace
}  // namespace podagent::static_pods
