// ImagePuller's rule for an import during a pull backoff (image_puller.h):
// it ends the wait for an Always pull that failed because the image was
// absent, and only for that one. Time never moves in these tests: nothing
// but the import can end the backoff.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>

#include "podworker/image_puller.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::podworker {
namespace {

namespace asio = boost::asio;
using runtime::FakeRuntime;
using runtime::Op;

constexpr const char* kImage = "app:1";

class ImageImportBackoffTest : public testing::Test {
 protected:
  ImageImportBackoffTest() {
    pod_.metadata.name = "p";
    pod_.metadata.namespace_ = "default";
    pod_.metadata.uid = "u1";
  }
  ImageCheck ensure(const std::string& policy) {
    model::Container c;
    c.name = "a";
    c.image = kImage;
    c.image_pull_policy = policy;
    std::optional<ImageCheck> out;
    asio::co_spawn(io_, puller_.ensure(rt_, clock_, pod_, c),
                   [&out](std::exception_ptr e, ImageCheck check) {
                     if (!e) out = std::move(check);
                   });
    clock_.settle();
    EXPECT_TRUE(out.has_value());
    return out.value_or(ImageCheck{});
  }
  static std::string reason(const ImageCheck& c) { return c.waiting ? c.waiting->reason : ""; }

  asio::io_context io_;
  base::FakeClock clock_{io_};
  FakeRuntime rt_{clock_, io_.get_executor(), FakeRuntime::Options{.images_present = false}};
  ImagePuller puller_;
  model::Pod pod_;
};

TEST_F(ImageImportBackoffTest, AnAlwaysPullInItsBackoffGoesAheadOnceTheImageIsImported) {
  EXPECT_EQ(reason(ensure("Always")), kErrImagePull);
  EXPECT_EQ(reason(ensure("Always")), kImagePullBackOff);
  EXPECT_EQ(rt_.count(Op::PullImage), 1u);

  rt_.add_image(kImage);
  const ImageCheck check = ensure("Always");
  EXPECT_EQ(check.image_id, "sha256:fake-" + std::string(kImage));
  EXPECT_EQ(rt_.count(Op::PullImage), 2u);
}

TEST_F(ImageImportBackoffTest, APullThatFailedWithTheImagePresentKeepsItsBackoff) {
  rt_.add_image(kImage);
  rt_.fail_next(Op::PullImage, base::Error("the store is locked"));
  EXPECT_EQ(reason(ensure("Always")), kErrImagePull);
  EXPECT_EQ(reason(ensure("Always")), kImagePullBackOff);
  EXPECT_EQ(rt_.count(Op::PullImage), 1u);
}

TEST_F(ImageImportBackoffTest, IfNotPresentLooksInTheStoreBeforeItsBackoff) {
  EXPECT_EQ(reason(ensure("IfNotPresent")), kErrImagePull);
  EXPECT_EQ(reason(ensure("IfNotPresent")), kImagePullBackOff);
  rt_.add_image(kImage);
  EXPECT_TRUE(ensure("IfNotPresent").image_id.has_value());
  EXPECT_EQ(rt_.count(Op::PullImage), 1u);  // found, not pulled
}

TEST_F(ImageImportBackoffTest, WhileTheImageIsStillAbsentTheBackoffHolds) {
  EXPECT_EQ(reason(ensure("Always")), kErrImagePull);
  rt_.add_image("other:1");
  EXPECT_EQ(reason(ensure("Always")), kImagePullBackOff);
  EXPECT_EQ(rt_.count(Op::PullImage), 1u);
}

}  // namespace
}  // namespace podagent::podworker
