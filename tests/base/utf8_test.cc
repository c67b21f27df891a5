#include "base/utf8.h"

#include <gtest/gtest.h>

namespace podagent::base {
namespace {

TEST(Utf8Test, DecodesEachSequenceLength) {
  uint32_t cp = 0;
  EXPECT_EQ(utf8_sequence("\xc3\xa9", 0, cp), 2u);
  EXPECT_EQ(cp, 0xe9u);
  EXPECT_EQ(utf8_sequence("\xe2\x82\xac", 0, cp), 3u);
  EXPECT_EQ(cp, 0x20acu);
  EXPECT_EQ(utf8_sequence("\xf0\x9f\x98\x80", 0, cp), 4u);
  EXPECT_EQ(cp, 0x1f600u);
}

TEST(Utf8Test, RefusesMalformedSequences) {
  uint32_t cp = 0;
  EXPECT_EQ(utf8_sequence("\xc0\xaf", 0, cp), 0u);          // overlong '/'
  EXPECT_EQ(utf8_sequence("\xed\xa0\x80", 0, cp), 0u);      // a surrogate
  EXPECT_EQ(utf8_sequence("\xf4\x90\x80\x80", 0, cp), 0u);  // past U+10FFFF
  EXPECT_EQ(utf8_sequence("\xe2\x82", 0, cp), 0u);          // truncated
  EXPECT_EQ(utf8_sequence("\x80", 0, cp), 0u);              // a lone continuation byte
}

TEST(Utf8Test, ValidatesWholeStrings) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("caf\xc3\xa9 \xe2\x82\xac"));
  EXPECT_FALSE(valid_utf8("caf\xc3"));
  EXPECT_FALSE(valid_utf8("a\xffz"));
}

TEST(Utf8Test, AppendsFixedWidthHex) {
  std::string out = "x";
  append_hex(out, "\\u", 0xe9, 4);
  append_hex(out, "\\x", 0x7, 2);
  EXPECT_EQ(out, "x\\u00e9\\x07");
}

}  // namespace
}  // namespace podagent::base
