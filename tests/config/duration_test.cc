#include "config/duration.h"

#include <gtest/gtest.h>

namespace podagent::config {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsGoDurations) {
  struct Case {
    const char* text;
    Duration want;
  } cases[] = {
      {"0", 0s},
      {"0s", 0s},
      {"10s", 10s},
      {"5m", 5min},
      {"1h30m", 90min},
      {"300ms", 300ms},
      {"1.5s", 1500ms},
      {".5s", 500ms},
      {"1.s", 1s},
      {"2h45m30.5s", 2h + 45min + 30500ms},
      {"100us", 100us},
      {"100\xC2\xB5s", 100us},
      {"100\xCE\xBCs", 100us},
      {"7ns", 7ns},
      {"-2m", -2min},
      {"+3s", 3s},
      {"1m1m", 2min},
      {"0.000000001s", 1ns},
  };
  for (const auto& c : cases) {
    auto d = parse_duration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.error().message;
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(ParseDuration, RefusesEverythingElse) {
  for (const char* text : {"", "10", "1d", "s", ".s", "1.5", "1s 2m", " 1s", "1s ", "1S", "1sec",
                           "--1s", "1e3s", "abc", "9999999999h", "3000000h"}) {
    auto d = parse_duration(text);
    EXPECT_FALSE(d.ok()) << "\"" << text << "\" parsed as " << (d ? d->count() : 0);
  }
}

TEST(ParseDuration, SaysWhy) {
  EXPECT_EQ(parse_duration("10").error().message,
            "invalid duration \"10\": missing unit (one of ns, us, ms, s, m, h)");
  EXPECT_EQ(parse_duration("1d").error().message,
            "invalid duration \"1d\": unknown unit (one of ns, us, ms, s, m, h)");
}

TEST(FormatDuration, WritesTheShortestForm) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(10s), "10s");
  EXPECT_EQ(format_duration(60s), "1m");
  EXPECT_EQ(format_duration(300s), "5m");
  EXPECT_EQ(format_duration(90min), "1h30m");
  EXPECT_EQ(format_duration(3601s), "1h1s");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(300ms), "300ms");
  EXPECT_EQ(format_duration(5us), "5us");
  EXPECT_EQ(format_duration(7ns), "7ns");
  EXPECT_EQ(format_duration(-2min), "-2m");
}

TEST(FormatDuration, RoundTrips) {
  for (Duration d : {Duration(1ns), Duration(999ms), Duration(61s + 1ns), Duration(25h),
                     Duration(-1500ms), Duration(1h + 1min + 1s + 1ms)}) {
    auto back = parse_duration(format_duration(d));
    ASSERT_TRUE(back.ok()) << format_duration(d);
    EXPECT_EQ(*back, d) << format_duration(d);
  }
}

}  // namespace
}  // namespace podagent::config
