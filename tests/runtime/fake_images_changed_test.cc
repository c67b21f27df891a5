// FakeRuntime's images-changed hook: add_image and remove_image post it.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "base/clock.h"
#include "runtime/fake/fake_runtime.h"

namespace podagent::runtime {
namespace {

TEST(FakeImagesChanged, AddAndRemovePostTheHandler) {
  boost::asio::io_context io;
  base::FakeClock clock(io);
  FakeRuntime rt(clock, io.get_executor());
  int changes = 0;
  rt.add_image("before:1");  // no handler yet: nothing to call
  rt.on_images_changed([&changes] { ++changes; });
  clock.settle();
  EXPECT_EQ(changes, 0);

  rt.add_image("app:1");
  EXPECT_EQ(changes, 0);  // posted, not called from inside add_image
  clock.settle();
  EXPECT_EQ(changes, 1);
  rt.remove_image("app:1");
  clock.settle();
  EXPECT_EQ(changes, 2);
}

TEST(FakeImagesChanged, NothingReachesTheHandlerOnceTheRuntimeIsGone) {
  boost::asio::io_context io;
  base::FakeClock clock(io);
  int changes = 0;
  {
    FakeRuntime rt(clock, io.get_executor());
    rt.on_images_changed([&changes] { ++changes; });
    rt.add_image("app:1");
  }
  clock.settle();
  EXPECT_EQ(changes, 0);
}

}  // namespace
}  // namespace podagent::runtime
