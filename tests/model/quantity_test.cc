#include "model/quantity.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace podagent::model {
namespace {

constexpr char kFormatWrong[] =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr char kBadSuffix[] = "unable to parse quantity's suffix";
constexpr char kTooLarge[] = "quantity too large";

struct Valid {
  const char* text;
  int64_t milli;
};

class QuantityValidTest : public ::testing::TestWithParam<Valid> {};

TEST_P(QuantityValidTest, ParsesToMilli) {
  const Valid& c = GetParam();
  base::Result<Quantity> q = Quantity::parse(c.text);
  ASSERT_TRUE(q.ok()) << c.text << ": " << q.error().message;
  EXPECT_EQ(q->milli(), c.milli) << c.text;
  EXPECT_EQ(q->text(), c.text);
}

constexpr int64_t kKi = 1024, kMi = kKi * 1024, kGi = kMi * 1024, kPi = kGi * 1024 * 1024;

INSTANTIATE_TEST_SUITE_P(
    Table, QuantityValidTest,
    ::testing::Values(
        // The examples of the brief and of Kubernetes' documentation.
        Valid{"100m", 100}, Valid{"0.5", 500}, Valid{"1Gi", kGi * 1000},
        Valid{"1G", 1'000'000'000'000}, Valid{"1e3", 1'000'000}, Valid{"500Mi", 500 * kMi * 1000},
        Valid{"1E-2", 10}, Valid{".5", 500}, Valid{"5.", 5000}, Valid{"+1", 1000}, Valid{"0", 0},
        // Negative quantities parse; validation refuses them later.
        Valid{"-1", -1000}, Valid{"-100m", -100}, Valid{"-1.5Ki", -1536000},
        // Every decimal SI suffix.
        Valid{"1n", 1}, Valid{"1u", 1}, Valid{"1m", 1}, Valid{"1", 1000}, Valid{"1k", 1'000'000},
        Valid{"1M", 1'000'000'000}, Valid{"1T", 1'000'000'000'000'000},
        Valid{"1P", 1'000'000'000'000'000'000}, Valid{"9P", 9'000'000'000'000'000'000},
        // Every binary SI suffix that fits in milli-units.
        Valid{"1Ki", kKi * 1000}, Valid{"1Mi", kMi * 1000}, Valid{"1Ti", kGi * 1024 * 1000},
        Valid{"1Pi", kPi * 1000}, Valid{"8Pi", 8 * kPi * 1000}, Valid{"1.5Ki", 1536000},
        Valid{"0.5Gi", kGi * 500}, Valid{"0.0001Ki", 103},
        // Decimal exponents, signed or not.
        Valid{"1e+3", 1'000'000}, Valid{"1E3", 1'000'000}, Valid{"2.5e2", 250'000},
        Valid{"1e-3", 1}, Valid{"15e-4", 2},
        // Precision below 1m rounds up (away from zero), as Kubernetes' ScaledValue.
        Valid{"1500u", 2}, Valid{"1001u", 2}, Valid{"1000u", 1}, Valid{"0.0001", 1},
        Valid{"1.23456789", 1235}, Valid{"-1n", -1}, Valid{"-1500u", -2}, Valid{"1e-1000000", 1},
        // Zero in any spelling, including exponents that would overflow.
        Valid{"0.000", 0}, Valid{"-0", 0}, Valid{"0Gi", 0}, Valid{"0e1000000", 0}, Valid{"00", 0},
        // Leading zeros, trailing zeros, the int64 edge.
        Valid{"000001", 1000}, Valid{"1.000", 1000}, Valid{"100.50m", 101},
        Valid{"9223372036854775807m", std::numeric_limits<int64_t>::max()},
        Valid{"9223372036854775.807", std::numeric_limits<int64_t>::max()}));

struct Invalid {
  const char* text;
  const char* error;
};

class QuantityInvalidTest : public ::testing::TestWithParam<Invalid> {};

TEST_P(QuantityInvalidTest, IsRefused) {
  const Invalid& c = GetParam();
  base::Result<Quantity> q = Quantity::parse(c.text);
  ASSERT_FALSE(q.ok()) << c.text << " parsed to " << q->milli();
  EXPECT_EQ(q.error().message, c.error) << c.text;
  EXPECT_EQ(q.error().field, "");
}

INSTANTIATE_TEST_SUITE_P(
    Table, QuantityInvalidTest,
    ::testing::Values(
        Invalid{"1.5.5", kFormatWrong}, Invalid{"1Qi", kFormatWrong}, Invalid{"", kFormatWrong},
        Invalid{"Gi", kFormatWrong}, Invalid{"1 Gi", kFormatWrong}, Invalid{"e3", kFormatWrong},
        Invalid{"1.5e3.2", kFormatWrong}, Invalid{".", kFormatWrong}, Invalid{"+", kFormatWrong},
        Invalid{"-", kFormatWrong}, Invalid{" 1", kFormatWrong}, Invalid{"1 ", kFormatWrong},
        Invalid{"1.1.M", kFormatWrong}, Invalid{"1+1.0M", kFormatWrong},
        Invalid{"aoeu", kFormatWrong}, Invalid{"--1", kFormatWrong}, Invalid{"1e3e", kFormatWrong},
        // Well-formed, but the suffix means nothing.
        Invalid{"1i", kBadSuffix}, Invalid{"1e", kBadSuffix}, Invalid{"0.1mi", kBadSuffix},
        Invalid{"1K", kBadSuffix}, Invalid{"1ki", kBadSuffix}, Invalid{"1e+", kBadSuffix},
        Invalid{"1Ee3", kBadSuffix}, Invalid{".5i", kBadSuffix}, Invalid{"-3.01i", kBadSuffix},
        Invalid{"1k3", kBadSuffix},
        // Beyond int64 milli-units.
        Invalid{"1E", kTooLarge}, Invalid{"10P", kTooLarge}, Invalid{"1Ei", kTooLarge},
        Invalid{"9Pi", kTooLarge}, Invalid{"9223372036854775808m", kTooLarge},
        Invalid{"-9223372036854775808m", kTooLarge}, Invalid{"1e1000000", kTooLarge},
        Invalid{"99999999999999999999999999999", kTooLarge}));

TEST(QuantityTest, ValueRoundsWholeUnitsAwayFromZero) {
  EXPECT_EQ(Quantity::parse("1500m")->value(), 2);
  EXPECT_EQ(Quantity::parse("2")->value(), 2);
  EXPECT_EQ(Quantity::parse("1n")->value(), 1);
  EXPECT_EQ(Quantity::parse("-1500m")->value(), -2);
  EXPECT_EQ(Quantity::parse("0")->value(), 0);
  EXPECT_EQ(Quantity::parse("1Gi")->value(), kGi);
  EXPECT_EQ(Quantity::parse("9223372036854775807m")->value(), 9223372036854776);
}

TEST(QuantityTest, FromMilliWritesCanonicalText) {
  EXPECT_EQ(Quantity::from_milli(1500).text(), "1500m");
  EXPECT_EQ(Quantity::from_milli(2000).text(), "2");
  EXPECT_EQ(Quantity::from_milli(0).text(), "0");
  EXPECT_EQ(Quantity::from_milli(1).text(), "1m");
  EXPECT_EQ(Quantity::from_milli(-1500).text(), "-1500m");
  EXPECT_EQ(Quantity::from_milli(-2000).text(), "-2");
  EXPECT_EQ(Quantity::from_milli(1'500'000).text(), "1500");
  EXPECT_EQ(Quantity::from_milli(2'000'000).text(), "2k");
  EXPECT_EQ(Quantity::from_milli(1'000'000'000'000).text(), "1G");
  EXPECT_EQ(Quantity::from_milli(1'000'000'000'000'000'000).text(), "1P");
  EXPECT_EQ(Quantity::from_value(kGi).text(), "1073741824");
  EXPECT_EQ(Quantity::from_value(3).milli(), 3000);
  EXPECT_TRUE(Quantity::from_milli(0).is_zero());
  EXPECT_FALSE(Quantity::from_milli(1).is_zero());
}

TEST(QuantityTest, CanonicalTextParsesBackToTheSameValue) {
  for (int64_t milli :
       {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{1000}, int64_t{1001}, int64_t{-7},
        int64_t{123'000'000}, int64_t{5'000'000'000'000}, std::numeric_limits<int64_t>::max(),
        std::numeric_limits<int64_t>::min() + 1}) {
    Quantity q = Quantity::from_milli(milli);
    base::Result<Quantity> back = Quantity::parse(q.text());
    ASSERT_TRUE(back.ok()) << q.text() << ": " << back.error().message;
    EXPECT_EQ(back->milli(), milli) << q.text();
  }
}

TEST(QuantityTest, ComparesByValueNotText) {
  EXPECT_EQ(*Quantity::parse("1"), *Quantity::parse("1000m"));
  EXPECT_EQ(*Quantity::parse("1Ki"), *Quantity::parse("1024"));
  EXPECT_LT(*Quantity::parse("1G"), *Quantity::parse("1Gi"));
  EXPECT_GT(*Quantity::parse("100m"), *Quantity::parse("-1"));
  EXPECT_TRUE(Quantity().is_zero());
  EXPECT_EQ(Quantity().text(), "0");
}

}  // namespace
}  // namespace podagent::model
