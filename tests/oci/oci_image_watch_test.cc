// OciRuntime::on_images_changed against a real image store: an import or a
// removal made through another ImageStore (as `podagent image` does, from
// its own process) reaches the handler through the inotify watch on the
// store's directory. Needs neither root nor runc: no OCI runtime call is
// made. Events are read with io_context::poll(): inotify queues them inside
// the rename(2) that commits the change, so no waiting is needed.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <fstream>

#include "base/clock.h"
#include "runtime/oci/file_replace_watch.h"
#include "runtime/oci/image_store.h"
#include "runtime/oci/oci_runtime.h"
#include "tests/oci/image_test_util.h"

namespace podagent::runtime::oci {
namespace {

namespace fs = std::filesystem;
using namespace image_testing;

class OciImageWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OciRuntimeOptions o;
    o.state_dir = tmp_.path() / "state";
    auto rt = OciRuntime::create(clock_, io_.get_executor(), o);
    ASSERT_TRUE(rt.ok()) << rt.error().to_string();
    runtime_ = std::move(*rt);
    auto store = ImageStore::open(o.state_dir / "images");
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    other_ = std::make_unique<ImageStore>(std::move(*store));
  }
  void TearDown() override {
    if (runtime_) runtime_->shutdown();
    drain();
  }
  // Runs every handler that is ready, the watch's reads included.
  void drain() {
    while (io_.poll() > 0) {
    }
  }
  fs::path layout(const std::string& name, const std::string& content) {
    const fs::path dir = tmp_.path() / name;
    write_files(dir, oci_layout({make_image({make_layer({file("f", content)})}, name)}));
    return dir;
  }
  void import(const std::string& name, const std::string& content = "x") {
    auto images = other_->import(layout(name, content));
    ASSERT_TRUE(images.ok()) << images.error().to_string();
  }

  TempDir tmp_;
  boost::asio::io_context io_;
  base::FakeClock clock_{io_};
  std::unique_ptr<OciRuntime> runtime_;
  std::unique_ptr<ImageStore> other_;  // the `podagent image` process's view
  int changes_ = 0;
};

TEST_F(OciImageWatchTest, AnImportAndARemovalByAnotherStoreEachCallTheHandler) {
  runtime_->on_images_changed([this] { ++changes_; });
  drain();
  EXPECT_EQ(changes_, 0);
  import("localhost/app:1");
  drain();
  EXPECT_EQ(changes_, 1);
  ASSERT_TRUE(other_->remove("localhost/app:1").ok());
  drain();
  EXPECT_EQ(changes_, 2);
}

TEST_F(OciImageWatchTest, OtherFilesRenamedIntoTheStoreAreNotAChange) {
  runtime_->on_images_changed([this] { ++changes_; });
  const fs::path root = tmp_.path() / "state" / "images";
  { std::ofstream(root / "notes.tmp") << "n"; }
  fs::rename(root / "notes.tmp", root / "notes.json");
  { std::ofstream(root / "images.json.partial") << "{}"; }  // written in place, never renamed
  drain();
  EXPECT_EQ(changes_, 0);
}

TEST_F(OciImageWatchTest, AfterShutdownNoChangeIsReported) {
  runtime_->on_images_changed([this] { ++changes_; });
  runtime_->shutdown();
  import("localhost/app:1");
  drain();
  EXPECT_EQ(changes_, 0);
  runtime_->on_images_changed([this] { ++changes_; });  // refused once shut down
  import("localhost/app:2", "y");
  drain();
  EXPECT_EQ(changes_, 0);
}

TEST_F(OciImageWatchTest, ASecondHandlerReplacesTheFirst) {
  int first = 0;
  runtime_->on_images_changed([&first] { ++first; });
  runtime_->on_images_changed([this] { ++changes_; });
  import("localhost/app:1");
  drain();
  EXPECT_EQ(first, 0);
  EXPECT_EQ(changes_, 1);
}

TEST(FileReplaceWatchTest, AMissingDirectoryIsAnError) {
  boost::asio::io_context io;
  auto watch =
      FileReplaceWatch::start(io.get_executor(), "/nonexistent-podagent-dir/images.json", [] {});
  ASSERT_FALSE(watch.ok());
  EXPECT_NE(watch.error().message.find("/nonexistent-podagent-dir"), std::string::npos)
      << watch.error().message;
}

TEST(FileReplaceWatchTest, TheHandlerMayStopTheWatch) {
  TempDir tmp;
  boost::asio::io_context io;
  int calls = 0;
  std::unique_ptr<FileReplaceWatch> watch;
  auto made = FileReplaceWatch::start(io.get_executor(), tmp.path() / "index", [&] {
    ++calls;
    watch.reset();
  });
  ASSERT_TRUE(made.ok()) << made.error().to_string();
  watch = std::move(*made);
  for (int i = 0; i < 2; ++i) {
    { std::ofstream(tmp.path() / "index.tmp") << i; }
    fs::rename(tmp.path() / "index.tmp", tmp.path() / "index");
    while (io.poll() > 0) {
    }
  }
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(watch, nullptr);
}

}  // namespace
}  // namespace podagent::runtime::oci
