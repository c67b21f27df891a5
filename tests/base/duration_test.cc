#include "base/duration.h"

#include <gtest/gtest.h>

#include <limits>

namespace podagent::base {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsGoDurations) {
  struct Case {
    const char* text;
    Duration want;
  } cases[] = {
      {"0", 0s},
      {"0s", 0s},
      {"-0", 0s},
      {"10s", 10s},
      {"5m", 5min},
      {"1h30m", 90min},
      {"1m30s", 90s},
      {"300ms", 300ms},
      {"250ms", 250ms},
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
      {"0.0000000019s", 1ns},  // finer than a nanosecond: dropped
      {"9223372036854775807ns", Duration::max()},
      {"-9223372036854775808ns", Duration::min()},
      {"2562047h47m16.854775807s", Duration::max()},
  };
  for (const auto& c : cases) {
    auto d = parse_duration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.error().message;
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(ParseDuration, RefusesEverythingElse) {
  const char* refused[] = {"",
                           "-",
                           "+",
                           "10",
                           "1d",
                           "s",
                           ".s",
                           "1.5",
                           "1s 2m",
                           " 1s",
                           "1s ",
                           "1S",
                           "1sec",
                           "--1s",
                           "1e3s",
                           "abc",
                           "9999999999h",
                           "3000000h",
                           "1..5s",
                           "9223372036854775808ns",
                           "-9223372036854775809ns",
                           "2562047h47m16.854775808s",
                           "2562047h2562047h"};
  for (const char* text : refused) {
    auto d = parse_duration(text);
    EXPECT_FALSE(d.ok()) << "\"" << text << "\" parsed as " << (d ? d->count() : 0);
  }
}

TEST(ParseDuration, SaysWhy) {
  EXPECT_EQ(parse_duration("10").error().message,
            "invalid duration \"10\": missing unit (one of ns, us, ms, s, m, h)");
  EXPECT_EQ(parse_duration("1d").error().message,
            "invalid duration \"1d\": unknown unit (one of ns, us, ms, s, m, h)");
  EXPECT_EQ(parse_duration("").error().message, "invalid duration \"\": empty");
  EXPECT_EQ(parse_duration("3000000h").error().message,
            "invalid duration \"3000000h\": out of range");
  EXPECT_EQ(parse_duration("1s.s").error().message, "invalid duration \"1s.s\": expected a number");
}

// The kubelet's words: Go's time.Duration.String().
TEST(FormatDuration, WritesGoForm) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(10s), "10s");
  EXPECT_EQ(format_duration(20s), "20s");
  EXPECT_EQ(format_duration(80s), "1m20s");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(300s), "5m0s");
  EXPECT_EQ(format_duration(1h), "1h0m0s");
  EXPECT_EQ(format_duration(3601s), "1h0m1s");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(61s + 1ns), "1m1.000000001s");
  EXPECT_EQ(format_duration(500ms), "500ms");
  EXPECT_EQ(format_duration(300ms), "300ms");
  EXPECT_EQ(format_duration(1500us), "1.5ms");
  EXPECT_EQ(format_duration(5us), "5\xC2\xB5s");
  EXPECT_EQ(format_duration(1500ns), "1.5\xC2\xB5s");
  EXPECT_EQ(format_duration(999999999ns), "999.999999ms");
  EXPECT_EQ(format_duration(7ns), "7ns");
  EXPECT_EQ(format_duration(-2min), "-2m0s");
  EXPECT_EQ(format_duration(-1ns), "-1ns");
  EXPECT_EQ(format_duration(Duration::max()), "2562047h47m16.854775807s");
  EXPECT_EQ(format_duration(Duration::min()), "-2562047h47m16.854775808s");
}

TEST(FormatDurationShort, WritesTheShortestForm) {
  EXPECT_EQ(format_duration_short(0s), "0s");
  EXPECT_EQ(format_duration_short(10s), "10s");
  EXPECT_EQ(format_duration_short(60s), "1m");
  EXPECT_EQ(format_duration_short(300s), "5m");
  EXPECT_EQ(format_duration_short(90min), "1h30m");
  EXPECT_EQ(format_duration_short(1h), "1h");
  EXPECT_EQ(format_duration_short(3601s), "1h1s");
  EXPECT_EQ(format_duration_short(1500ms), "1.5s");
  EXPECT_EQ(format_duration_short(300ms), "300ms");
  EXPECT_EQ(format_duration_short(1500us), "1500us");
  EXPECT_EQ(format_duration_short(5us), "5us");
  EXPECT_EQ(format_duration_short(7ns), "7ns");
  EXPECT_EQ(format_duration_short(-2min), "-2m");
  EXPECT_EQ(format_duration_short(Duration::min()), "-2562047h47m16.854775808s");
}

TEST(FormatDuration, BothFormsRoundTrip) {
  for (Duration d : {Duration(1ns), Duration(999ms), Duration(61s + 1ns), Duration(25h),
                     Duration(-1500ms), Duration(1h + 1min + 1s + 1ms), Duration(1500ns),
                     Duration(-7us), Duration::max(), Duration::min()}) {
    for (const std::string& text : {format_duration(d), format_duration_short(d)}) {
      auto back = parse_duration(text);
      ASSERT_TRUE(back.ok()) << text << ": " << back.error().message;
      EXPECT_EQ(*back, d) << text;
    }
  }
}

}  // namespace
}  // namespace podagent::base
