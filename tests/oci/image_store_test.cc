#include "runtime/oci/image_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <cstdlib>
#include <fstream>

#include "runtime/oci/sha256.h"
#include "tests/oci/image_test_util.h"

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;
using namespace image_testing;  // the image builders
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> dir_names(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

TestLayer base_layer(bool gzip = false) {
  return make_layer({dir("bin"), file("bin/sh", "#!shell", 0755), soft_link("bin/ls", "sh"),
                     hard_link("bin/sh2", "bin/sh"), dir("etc"), file("etc/base", "base"),
                     TarEntry{"home/u/own", TarEntry::Type::File, "mine", 0600, 1000, 1001}},
                    gzip);
}

class ImageStoreTest : public ::testing::Test {
 protected:
  fs::path root() const { return tmp_.path() / "store"; }
  fs::path path(const std::string& name) const { return tmp_.path() / name; }
  ImageStore open() {
    auto store = ImageStore::open(root());
    EXPECT_TRUE(store.ok()) << store.error().to_string();
    return std::move(*store);
  }
  fs::path write_archive(const std::string& name, const Files& files, bool gzip = false) {
    write_string(path(name), tar_files(files, gzip));
    return path(name);
  }
  Image import_ok(ImageStore& store, const fs::path& source, std::optional<std::string> name = {}) {
    auto images = store.import(source, std::move(name));
    EXPECT_TRUE(images.ok()) << images.error().to_string();
    EXPECT_THAT(*images, SizeIs(1));
    return images->front();
  }
  // What the store holds on disk, apart from its lock file.
  std::vector<std::string> store_contents() const {
    std::vector<std::string> out;
    for (const char* sub : {"blobs/sha256", "layers", "tmp", "holds"})
      for (const std::string& n : dir_names(root() / sub))
        out.push_back(std::string(sub) + "/" + n);
    return out;
  }

  TempDir tmp_;
};

TEST_F(ImageStoreTest, ImportsAnOciArchiveWithGzipLayers) {
  ImageStore store = open();
  const TestImage image = make_image({base_layer(/*gzip=*/true)}, "busybox");
  const Image got = import_ok(store, write_archive("a.tar", oci_layout({image}), /*gzip=*/true));
  EXPECT_EQ(got.id, image.id);
  EXPECT_THAT(got.names, ElementsAre("docker.io/library/busybox:latest"));
  EXPECT_EQ(got.size_bytes, image.layers[0].blob.size());
  EXPECT_EQ(got.config.cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(got.config.env, std::vector<std::string>{"PATH=/bin"});
  EXPECT_EQ(got.config.working_dir, "/w");
  EXPECT_EQ(got.config.user, "1000");
  EXPECT_EQ(got.config.labels.at("a"), "b");
  ASSERT_THAT(got.layer_dirs, SizeIs(1));
  const fs::path layer = got.layer_dirs[0];
  EXPECT_EQ(layer, root() / "layers" / image.layers[0].diff_id.substr(7));
  EXPECT_EQ(read(layer / "bin/sh"), "#!shell");
  EXPECT_EQ(lstat_of(layer / "bin/sh").st_mode & 07777, 0755u);
  EXPECT_EQ(fs::read_symlink(layer / "bin/ls"), "sh");
  EXPECT_EQ(lstat_of(layer / "bin/sh2").st_ino, lstat_of(layer / "bin/sh").st_ino);
  const struct stat own = lstat_of(layer / "home/u/own");
  EXPECT_EQ(own.st_uid, 1000u);
  EXPECT_EQ(own.st_gid, 1001u);
  EXPECT_EQ(own.st_mode & 07777, 0600u);
  EXPECT_EQ(own.st_mtime, 1000000);
  // Blobs by digest; nothing left in the staging area.
  EXPECT_TRUE(fs::exists(root() / "blobs/sha256" / image.id.substr(7)));
  EXPECT_TRUE(fs::exists(root() / "blobs/sha256" / image.layers[0].digest.substr(7)));
  EXPECT_THAT(dir_names(root() / "tmp"), IsEmpty());
}

TEST_F(ImageStoreTest, ImportsAnOciLayoutDirectoryWithPlainLayers) {
  ImageStore store = open();
  const TestImage image =
      make_image({base_layer(), make_layer({file("top", "t")})}, "localhost/app:v1");
  write_files(path("layout"), oci_layout({image}));
  const Image got = import_ok(store, path("layout"));
  EXPECT_THAT(got.names, ElementsAre("localhost/app:v1"));
  ASSERT_THAT(got.layer_dirs, SizeIs(2));
  EXPECT_EQ(read(got.layer_dirs[1] / "top"), "t");
  EXPECT_TRUE(fs::exists(path("layout/index.json")));  // the source is left alone
}

TEST_F(ImageStoreTest, ImportsClassicDockerSaveArchives) {
  ImageStore store = open();
  const TestImage a = make_image({base_layer()}, "busybox:1.36");
  const TestImage b = make_image({base_layer(), make_layer({file("b", "b")}, true)}, "", {"b"});
  auto images = store.import(write_archive("d.tar", docker_save({a, b})));
  ASSERT_TRUE(images.ok()) << images.error().to_string();
  ASSERT_THAT(*images, SizeIs(2));
  EXPECT_EQ((*images)[0].id, a.id);
  EXPECT_THAT((*images)[0].names, ElementsAre("docker.io/library/busybox:1.36"));
  EXPECT_EQ((*images)[1].id, b.id);
  EXPECT_THAT((*images)[1].names, IsEmpty());
  EXPECT_EQ(read((*images)[1].layer_dirs[1] / "b"), "b");
}

TEST_F(ImageStoreTest, ImportsNewerDockerSaveArchivesWithTheirRepoTags) {
  ImageStore store = open();
  const TestImage image = make_image({base_layer(true)}, "registry.example:5000/team/app:2");
  const Image got = import_ok(store, write_archive("d.tar", docker_save({image}, /*newer=*/true)));
  EXPECT_EQ(got.id, image.id);
  EXPECT_THAT(got.names, ElementsAre("registry.example:5000/team/app:2"));
}

TEST_F(ImageStoreTest, NameOptionTagsTheImageAndNeedsExactlyOne) {
  ImageStore store = open();
  const TestImage a = make_image({base_layer()}, "a");
  const TestImage b = make_image({base_layer()}, "b", {"b"});
  EXPECT_THAT(import_ok(store, write_archive("a.tar", oci_layout({a})), "mine:1").names,
              ElementsAre("docker.io/library/mine:1"));
  auto two = store.import(write_archive("ab.tar", oci_layout({a, b})), "x");
  ASSERT_FALSE(two.ok());
  EXPECT_THAT(two.error().message, HasSubstr("holds 2 images"));
  auto bad = store.import(path("a.tar"), "Bad/Name");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("lowercase"));
}

TEST_F(ImageStoreTest, ATamperedBlobIsRefusedAndLeavesTheStoreUnchanged) {
  ImageStore store = open();
  import_ok(store, write_archive("first.tar", oci_layout({make_image({base_layer()}, "first")})));
  const std::vector<std::string> before = store_contents();
  const TestImage image = make_image({make_layer({file("x", "original")})}, "tampered");
  Files files = oci_layout({image});
  files["blobs/sha256/" + image.layers[0].digest.substr(7)] =
      make_layer({file("x", "evil!!!!")}).blob;
  auto result = store.import(write_archive("bad.tar", files));
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("digest mismatch"));
  EXPECT_THAT(result.error().message, HasSubstr(image.layers[0].digest));
  EXPECT_EQ(store_contents(), before);
  EXPECT_THAT(*store.list(), SizeIs(1));
}

TEST_F(ImageStoreTest, ATamperedConfigOrManifestIsRefused) {
  ImageStore store = open();
  const TestImage image = make_image({base_layer()}, "x");
  Files config = oci_layout({image});
  config["blobs/sha256/" + image.id.substr(7)] = make_image({base_layer()}, "x", {"evil"}).config;
  auto r = store.import(write_archive("c.tar", config));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("config"));
  // A manifest listing a layer whose blob is fine but whose diff_id is not the config's.
  TestImage wrong = image;
  wrong.layers[0].diff_id = sha256_digest("something else");
  wrong.config = make_image({wrong.layers[0]}, "x").config;
  wrong.id = sha256_digest(wrong.config);
  auto d = store.import(write_archive("d.tar", oci_layout({wrong})));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.error().message, HasSubstr("uncompressed digest mismatch"));
  EXPECT_THAT(store_contents(), IsEmpty());
}

TEST_F(ImageStoreTest, TwoImagesShareALayerUnpackedOnce) {
  ImageStore store = open();
  const TestLayer shared = base_layer(true);
  const Image a = import_ok(store, write_archive("a.tar", oci_layout({make_image({shared}, "a")})));
  const ino_t inode = lstat_of(a.layer_dirs[0] / "bin/sh").st_ino;
  const TestImage b_image = make_image({shared, make_layer({file("b", "b")})}, "b");
  const Image b = import_ok(store, write_archive("b.tar", oci_layout({b_image})));
  EXPECT_EQ(b.layer_dirs[0], a.layer_dirs[0]);
  EXPECT_EQ(lstat_of(b.layer_dirs[0] / "bin/sh").st_ino, inode);  // not unpacked again
  EXPECT_THAT(dir_names(root() / "layers"), SizeIs(2));
}

TEST_F(ImageStoreTest, WhiteoutsAndOpaqueDirectoriesBecomeOverlayForm) {
  ImageStore store = open();
  const TestLayer lower = make_layer({file("gone", "g"), dir("d"), file("d/old", "o")});
  const TestLayer upper = make_layer({file(".wh.gone", ""), dir("d"), file("d/.wh..wh..opq", ""),
                                      file("d/new", "n"), dir("e"), file("e/.wh.x", "")});
  const Image image =
      import_ok(store, write_archive("w.tar", oci_layout({make_image({lower, upper}, "w")})));
  const fs::path top = image.layer_dirs[1];
  const struct stat gone = lstat_of(top / "gone");
  EXPECT_TRUE(S_ISCHR(gone.st_mode));
  EXPECT_EQ(gone.st_rdev, makedev(0, 0));
  EXPECT_TRUE(S_ISCHR(lstat_of(top / "e/x").st_mode));
  EXPECT_FALSE(fs::exists(top / ".wh.gone"));
  EXPECT_FALSE(fs::exists(top / "d/.wh..wh..opq"));
  char value[8] = {};
  ASSERT_EQ(::getxattr((top / "d").c_str(), "trusted.overlay.opaque", value, sizeof value), 1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_EQ(::getxattr((top / "e").c_str(), "trusted.overlay.opaque", value, sizeof value), -1);
  EXPECT_EQ(read(top / "d/new"), "n");
  EXPECT_EQ(read(image.layer_dirs[0] / "d/old"), "o");  // the lower layer is its own
}

TEST_F(ImageStoreTest, EntriesEscapingTheLayerAreRefused) {
  const fs::path outside = path("outside");
  fs::create_directories(outside);
  struct Case {
    std::string name;
    std::vector<TarEntry> entries;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"dotdot", {file("a/../../escaped", "x")}, "\"..\""},
      {"absolute", {file(outside.string() + "/escaped", "x")}, "absolute"},
      {"through symlink",
       {soft_link("link", outside.string()), file("link/escaped", "x")},
       "symlink \"link\""},
      {"relative symlink",
       {soft_link("up", "../../.."), file("up/escaped", "x")},
       "symlink \"up\""},
      {"hardlink out", {hard_link("h", "../../etc/passwd")}, "outside the layer"},
      {"whiteout through symlink",
       {soft_link("s", outside.string()), file("s/.wh.f", "")},
       "symlink"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ImageStore store = open();
    auto r = store.import(
        write_archive("e.tar", oci_layout({make_image({make_layer(c.entries)}, "e")})));
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.error().message, HasSubstr(c.error));
    EXPECT_THAT(dir_names(outside), IsEmpty());
    EXPECT_THAT(store_contents(), IsEmpty());
  }
}

TEST_F(ImageStoreTest, FindsByNameShortNameIdAndPrefix) {
  ImageStore store = open();
  const Image image =
      import_ok(store, write_archive("a.tar", oci_layout({make_image({base_layer()}, "busybox")})));
  const std::string hex = image.id.substr(7);
  for (const std::string& ref : {std::string("busybox"), std::string("busybox:latest"),
                                 std::string("docker.io/library/busybox:latest"), image.id, hex,
                                 hex.substr(0, 12), "sha256:" + hex.substr(0, 12)}) {
    auto found = store.find(ref);
    ASSERT_TRUE(found.ok()) << ref << ": " << found.error().to_string();
    EXPECT_EQ(*found, image) << ref;
  }
  for (const std::string& ref :
       {hex.substr(0, 11), std::string("busybox:1"), std::string("other")}) {
    auto found = store.find(ref);
    ASSERT_FALSE(found.ok()) << ref;
    EXPECT_THAT(found.error().message, HasSubstr("not found"));
  }
}

TEST_F(ImageStoreTest, ReimportingMergesNamesAndANameMovesToTheNewImage) {
  ImageStore store = open();
  const TestImage v1 = make_image({base_layer()}, "app", {"v1"});
  const TestImage v2 = make_image({base_layer()}, "app", {"v2"});
  import_ok(store, write_archive("1.tar", oci_layout({v1})));
  import_ok(store, write_archive("1.tar", oci_layout({v1})), "app:one");
  EXPECT_THAT(store.find("app:one")->names,
              ElementsAre("docker.io/library/app:latest", "docker.io/library/app:one"));
  import_ok(store, write_archive("2.tar", oci_layout({v2})));
  EXPECT_EQ(store.find("app")->id, v2.id);
  EXPECT_THAT(store.find(v1.id)->names, ElementsAre("docker.io/library/app:one"));
  EXPECT_THAT(*store.list(), SizeIs(2));
}

TEST_F(ImageStoreTest, HoldsBlockRemoval) {
  ImageStore store = open();
  const Image image =
      import_ok(store, write_archive("a.tar", oci_layout({make_image({base_layer()}, "a")})));
  ASSERT_TRUE(store.add_hold(image.id, "c1").ok());
  ASSERT_TRUE(store.add_hold(image.id, "c2").ok());
  EXPECT_THAT(store.holds(image.id), ElementsAre("c1", "c2"));
  EXPECT_FALSE(store.add_hold(image.id, "../x").ok());
  EXPECT_FALSE(store.add_hold("sha256:" + std::string(64, 'a'), "c1").ok());
  auto refused = store.remove("a");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("in use by containers c1, c2"));
  EXPECT_TRUE(store.find("a").ok());
  ASSERT_TRUE(store.drop_hold(image.id, "c1").ok());
  ASSERT_TRUE(store.drop_hold(image.id, "c2").ok());
  EXPECT_THAT(store.holds(image.id), IsEmpty());
  ASSERT_TRUE(store.remove("a").ok());
  EXPECT_FALSE(store.find("a").ok());
  EXPECT_THAT(store_contents(), IsEmpty());
}

TEST_F(ImageStoreTest, RemoveKeepsLayersAndBlobsOtherImagesUse) {
  ImageStore store = open();
  const TestLayer shared = base_layer(true);
  const TestLayer top = make_layer({file("b", "b")});
  import_ok(store, write_archive("a.tar", oci_layout({make_image({shared}, "a")})));
  const Image b =
      import_ok(store, write_archive("b.tar", oci_layout({make_image({shared, top}, "b")})));
  ASSERT_TRUE(store.remove("b").ok());
  EXPECT_TRUE(fs::exists(b.layer_dirs[0] / "bin/sh"));
  EXPECT_FALSE(fs::exists(b.layer_dirs[1]));
  EXPECT_TRUE(fs::exists(root() / "blobs/sha256" / shared.digest.substr(7)));
  EXPECT_FALSE(fs::exists(root() / "blobs/sha256" / top.digest.substr(7)));
  EXPECT_FALSE(fs::exists(root() / "blobs/sha256" / b.id.substr(7)));
  EXPECT_TRUE(store.find("a").ok());
  EXPECT_THAT(store.remove("b").error().message, HasSubstr("not found"));
}

TEST_F(ImageStoreTest, ASecondStoreObjectSeesAnImport) {
  ImageStore writer = open();
  ImageStore reader = open();
  EXPECT_FALSE(reader.find("busybox").ok());
  const Image image = import_ok(
      writer, write_archive("a.tar", oci_layout({make_image({base_layer()}, "busybox")})));
  auto found = reader.find("busybox");
  ASSERT_TRUE(found.ok()) << found.error().to_string();
  EXPECT_EQ(*found, image);
  ASSERT_TRUE(reader.add_hold(image.id, "c").ok());
  EXPECT_FALSE(writer.remove("busybox").ok());
}

TEST_F(ImageStoreTest, NotAnImageIsRefusedWithTheReason) {
  ImageStore store = open();
  write_string(path("junk"), "not a tar at all");
  EXPECT_FALSE(store.import(path("junk")).ok());
  EXPECT_THAT(store.import(write_archive("empty.tar", {{"x", "y"}})).error().message,
              HasSubstr("neither an OCI image layout"));
  EXPECT_THAT(store.import(path("missing.tar")).error().message, HasSubstr("no such file"));
  EXPECT_THAT(store_contents(), IsEmpty());
}

TEST_F(ImageStoreTest, ImportsTheBusyboxImageTheScriptBuilds) {
  if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "busybox-static is not installed";
  const std::string script =
      std::string(PODAGENT_TEST_DATA) + "/../../scripts/build-busybox-image.sh";
  const std::string command = "sh '" + script + "' '" + path("bb.tar").string() + "' >/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  ImageStore store = open();
  const Image image = import_ok(store, path("bb.tar"));
  EXPECT_THAT(image.names, ElementsAre("docker.io/library/busybox:latest"));
  EXPECT_EQ(image.config.cmd, std::vector<std::string>{"sh"});
  ASSERT_THAT(image.layer_dirs, SizeIs(1));
  EXPECT_TRUE(fs::is_regular_file(image.layer_dirs[0] / "bin/busybox"));
  EXPECT_EQ(fs::read_symlink(image.layer_dirs[0] / "bin/sh"), "busybox");
  EXPECT_THAT(read(image.layer_dirs[0] / "etc/passwd"), HasSubstr("nobody:x:65534"));
  EXPECT_EQ(lstat_of(image.layer_dirs[0] / "tmp").st_mode & 07777, 01777u);
  // Deterministic: a second build has the same digests.
  ASSERT_EQ(
      std::system(("sh '" + script + "' '" + path("bb2.tar").string() + "' >/dev/null").c_str()),
      0);
  EXPECT_EQ(read(path("bb.tar")), read(path("bb2.tar")));
}

struct RefCase {
  std::string in, out;
};
class NormalizeReferenceTest : public ::testing::TestWithParam<RefCase> {};

TEST_P(NormalizeReferenceTest, Normalizes) {
  auto got = normalize_reference(GetParam().in);
  if (GetParam().out.empty()) {
    EXPECT_FALSE(got.ok()) << *got;
  } else {
    ASSERT_TRUE(got.ok()) << got.error().to_string();
    EXPECT_EQ(*got, GetParam().out);
  }
}

const std::string kDigest = "sha256:" + std::string(64, 'a');
INSTANTIATE_TEST_SUITE_P(
    All, NormalizeReferenceTest,
    ::testing::Values(RefCase{"busybox", "docker.io/library/busybox:latest"},
                      RefCase{"busybox:1.36", "docker.io/library/busybox:1.36"},
                      RefCase{"user/app", "docker.io/user/app:latest"},
                      RefCase{"docker.io/busybox", "docker.io/library/busybox:latest"},
                      RefCase{"index.docker.io/busybox", "docker.io/library/busybox:latest"},
                      RefCase{"localhost/x", "localhost/x:latest"},
                      RefCase{"localhost:5000/a/b:c", "localhost:5000/a/b:c"},
                      RefCase{"quay.io/a/b-c__d.e", "quay.io/a/b-c__d.e:latest"},
                      RefCase{"a/b@" + kDigest, "docker.io/a/b@" + kDigest},
                      RefCase{"a:t@" + kDigest, "docker.io/library/a:t@" + kDigest},
                      RefCase{"", ""}, RefCase{"Busybox", ""}, RefCase{"a//b", ""},
                      RefCase{"a:", ""}, RefCase{"a:-x", ""}, RefCase{"a@sha256:abc", ""},
                      RefCase{"-a", ""}, RefCase{"a/b_", ""}, RefCase{"bad_host.-x/a", ""}));

}  // namespace
}  // namespace podagent::runtime::oci
