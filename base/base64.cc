#include "base/base64.h"

#include <array>
#include <cstdint>

namespace podagent::base {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kPad = -2;
constexpr int8_t kBad = -1;

constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = kBad;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  t['='] = kPad;
  return t;
}
constexpr std::array<int8_t, 256> kTable = make_table();

bool is_newline(char c) { return c == '\r' || c == '\n'; }

Error illegal_at(size_t offset) {
  return Error("illegal base64 data at input byte " + std::to_string(offset));
}

// Appends the bytes of one group of `n` (2..4) sextets.
void append_group(std::string& out, const uint32_t (&s)[4], int n) {
  const uint32_t bits = (s[0] << 18) | (s[1] << 12) | (s[2] << 6) | s[3];
  out.push_back(static_cast<char>(bits >> 16));
  if (n > 2) out.push_back(static_cast<char>((bits >> 8) & 0xff));
  if (n > 3) out.push_back(static_cast<char>(bits & 0xff));
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t bits = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(bits >> shift) & 0x3f]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  const uint32_t bits = (byte(i) << 16) | (rest == 2 ? byte(i + 1) << 8 : 0);
  out.push_back(kAlphabet[(bits >> 18) & 0x3f]);
  out.push_back(kAlphabet[(bits >> 12) & 0x3f]);
  out.push_back(rest == 2 ? kAlphabet[(bits >> 6) & 0x3f] : '=');
  out.push_back('=');
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t sextets[4] = {0, 0, 0, 0};
  int n = 0;               // sextets of the current group
  size_t group_start = 0;  // offset of the current group's first character
  size_t i = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (is_newline(c)) continue;
    const int8_t v = kTable[static_cast<unsigned char>(c)];
    if (v == kBad) return illegal_at(i);
    if (n == 0) group_start = i;
    if (v == kPad) {
      // Padding completes a group of two or three sextets: "xx==" or "xxx=".
      if (n < 2) return illegal_at(i);
      int needed = 4 - n;
      const int kept = n;
      for (size_t j = i; needed > 0; ++j) {
        if (j == text.size()) return illegal_at(j);
        if (is_newline(text[j])) continue;
        if (text[j] != '=') return illegal_at(j);
        --needed;
        i = j;
      }
      for (int k = kept; k < 4; ++k) sextets[k] = 0;
      append_group(out, sextets, kept);
      // Only newlines may follow.
      for (size_t j = i + 1; j < text.size(); ++j)
        if (!is_newline(text[j])) return illegal_at(j);
      return out;
    }
    sextets[n++] = static_cast<uint32_t>(v);
    if (n == 4) {
      append_group(out, sextets, 4);
      n = 0;
    }
  }
  // Unpadded input that stops inside a group: the group is at fault.
  if (n != 0) return illegal_at(group_start);
  return out;
}

}  // namespace podagent::base
