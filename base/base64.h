#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

// Base64 as Kubernetes writes the bytes of a Secret's data and a ConfigMap's
// binaryData: RFC 4648's standard alphabet with '=' padding (Go's
// base64.StdEncoding, which encoding/json uses for []byte).
namespace podagent::base {

// Encodes `bytes`, padded to a multiple of four characters.
std::string base64_encode(std::string_view bytes);

// Decodes `text`. As Go's StdEncoding: padding is required, '\r' and '\n'
// anywhere are skipped, nothing may follow the padding, and the unused bits
// of the last character need not be zero. An error says at which byte of
// `text` the input goes wrong ("illegal base64 data at input byte 4") and
// never repeats the input, which may be a secret.
Result<std::string> base64_decode(std::string_view text);

}  // namespace podagent::base
