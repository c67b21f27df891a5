#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace podagent::base {

// Length of the well-formed UTF-8 sequence starting at s[i] (a byte >= 0x80)
// and its code point in `cp`; 0 when the bytes there are not well-formed
// UTF-8 (overlong forms, surrogates, code points past U+10FFFF, truncation).
// REQUIRES: i < s.size().
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp);

// Whether all of s is well-formed UTF-8.
bool valid_utf8(std::string_view s);

// Appends `prefix` and `value` as `digits` lower-case hex digits ("\\u", 0xe9,
// 4 -> "\\u00e9").
void append_hex(std::string& out, const char* prefix, uint32_t value, int digits);

}  // namespace podagent::base
