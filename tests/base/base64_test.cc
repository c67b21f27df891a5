#include "base/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace podagent::base {
namespace {

struct Vector {
  std::string bytes;
  std::string text;
};

// RFC 4648 section 10, and bytes that are not text.
const Vector kVectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
    {std::string("\x00\xff\xfe\x80", 4), "AP/+gA=="},
    {std::string(3, '\xff'), "////"},
    {"\xfb\xef", "++8="},
};

TEST(Base64Test, EncodesTheRfcVectors) {
  for (const Vector& v : kVectors) EXPECT_EQ(base64_encode(v.bytes), v.text) << v.text;
}

TEST(Base64Test, DecodesTheRfcVectors) {
  for (const Vector& v : kVectors) {
    Result<std::string> bytes = base64_decode(v.text);
    ASSERT_TRUE(bytes.ok()) << v.text << ": " << bytes.error().message;
    EXPECT_EQ(*bytes, v.bytes) << v.text;
  }
}

TEST(Base64Test, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 37) {
    std::string bytes = all.substr(0, len);
    Result<std::string> back = base64_decode(base64_encode(bytes));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, bytes) << len;
  }
}

TEST(Base64Test, SkipsLineBreaksAnywhere) {
  Result<std::string> bytes = base64_decode("Zm9v\nYmFy\r\nYg=\n=\n");
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, "foobarb");
}

TEST(Base64Test, AcceptsNonZeroUnusedBits) {
  // Go's StdEncoding is not Strict: "Zh==" decodes as "Zg==" does.
  Result<std::string> bytes = base64_decode("Zh==");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "f");
}

struct BadCase {
  const char* text;
  const char* message;
};

TEST(Base64Test, RefusesMalformedInputNamingTheByte) {
  const BadCase cases[] = {
      {"Zm9v!", "illegal base64 data at input byte 4"},     // not in the alphabet
      {"Zm 9v", "illegal base64 data at input byte 2"},     // a space
      {"Zm9", "illegal base64 data at input byte 0"},       // no padding
      {"Zm9vY", "illegal base64 data at input byte 4"},     // a lone sextet
      {"Z===", "illegal base64 data at input byte 1"},      // padding after one sextet
      {"=", "illegal base64 data at input byte 0"},         // padding alone
      {"Zg=", "illegal base64 data at input byte 3"},       // half the padding
      {"Zg=x", "illegal base64 data at input byte 3"},      // not padding after '='
      {"Zg==Zm9v", "illegal base64 data at input byte 4"},  // data after the padding
      {"Zm8=Zm8=", "illegal base64 data at input byte 4"},  // two padded groups
      {"Zm9v-_", "illegal base64 data at input byte 4"},    // the URL alphabet
  };
  for (const BadCase& c : cases) {
    Result<std::string> bytes = base64_decode(c.text);
    ASSERT_FALSE(bytes.ok()) << c.text;
    EXPECT_EQ(bytes.error().message, c.message) << c.text;
    EXPECT_TRUE(bytes.error().field.empty());
  }
}

TEST(Base64Test, AnErrorNeverRepeatsTheInput) {
  Result<std::string> bytes = base64_decode("c2VjcmV0LXBhc3N3b3Jk!");
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.error().message.find("c2Vj"), std::string::npos);
}

}  // namespace
}  // namespace podagent::base
