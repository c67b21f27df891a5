#include "model/field_error.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "base/utf8.h"

namespace podagent::model {

using base::utf8_sequence;
using base::append_hex;

namespace {

// The words Kubernetes' field.ErrorType.String() gives each type.
const char* type_text(FieldError::Type type) {
  switch (type) {
    case FieldError::Type::Required:
      return "Required value";
    case FieldError::Type::Invalid:
      return "Invalid value";
    case FieldError::Type::Duplicate:
      return "Duplicate value";
    case FieldError::Type::NotFound:
      return "Not found";
    case FieldError::Type::NotSupported:
      return "Unsupported value";
    case FieldError::Type::Forbidden:
      return "Forbidden";
    case FieldError::Type::TooLong:
      return "Too long";
    case FieldError::Type::TooMany:
      return "Too many";
    case FieldError::Type::TypeInvalid:
      return "Invalid value";
    case FieldError::Type::Unknown:
      return "unknown field";
  }
  return "Invalid value";
}

// Types whose text never shows the value (Kubernetes omits it for these).
bool omits_value(FieldError::Type type) {
  return type == FieldError::Type::Required || type == FieldError::Type::Forbidden ||
         type == FieldError::Type::TooLong;
}


// Go's strconv.IsPrint, for the code points that matter in manifests: the
// C1 controls, line/paragraph separators and byte order mark are escaped.
bool printable(uint32_t cp) {
  if (cp >= 0x80 && cp <= 0x9f) return false;
  return cp != 0x2028 && cp != 0x2029 && cp != 0xfeff && cp != 0xad;
}

}  // namespace

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (c < 0x20 || c == 0x7f)
            append_hex(out, "\\x", c, 2);
          else
            out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = utf8_sequence(s, i, cp);
    if (len == 0) {  // a byte that is not UTF-8, as Go shows it
      append_hex(out, "\\x", c, 2);
      ++i;
    } else if (!printable(cp)) {
      append_hex(out, "\\u", cp, 4);
      i += len;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  out += '"';
  return out;
}

std::string FieldError::to_string() const {
  // kubectl's warning for a field the schema does not know.
  if (type == Type::Unknown) return "unknown field " + quote(field);
  // An error of the text as a whole (a syntax error, a limit) has no field
  // at fault: its detail says everything.
  if (field.empty() && !detail.empty()) return detail;
  std::string out = field + ": " + type_text(type);
  if (!omits_value(type) && !value.empty()) out += ": " + value;
  if (!detail.empty()) out += ": " + detail;
  return out;
}

FieldError FieldError::required(std::string field, std::string detail) {
  return {Type::Required, std::move(field), {}, std::move(detail)};
}

FieldError FieldError::invalid(std::string field, std::string value, std::string detail) {
  return {Type::Invalid, std::move(field), std::move(value), std::move(detail)};
}

FieldError FieldError::duplicate(std::string field, std::string value) {
  return {Type::Duplicate, std::move(field), std::move(value), {}};
}

FieldError FieldError::not_found(std::string field, std::string value) {
  return {Type::NotFound, std::move(field), std::move(value), {}};
}

FieldError FieldError::not_supported(std::string field, std::string value,
                                     const std::vector<std::string>& supported) {
  std::string detail;
  for (const auto& s : supported) {
    detail += detail.empty() ? "supported values: " : ", ";
    detail += quote(s);
  }
  return {Type::NotSupported, std::move(field), std::move(value), std::move(detail)};
}

FieldError FieldError::forbidden(std::string field, std::string detail) {
  return {Type::Forbidden, std::move(field), {}, std::move(detail)};
}

FieldError FieldError::too_long(std::string field, std::string value, size_t max) {
  std::string detail =
      "may not be more than " + std::to_string(max) + (max == 1 ? " byte" : " bytes");
  return {Type::TooLong, std::move(field), std::move(value), std::move(detail)};
}

FieldError FieldError::type_invalid(std::string field, std::string value, std::string detail) {
  return {Type::TypeInvalid, std::move(field), std::move(value), std::move(detail)};
}

FieldError FieldError::unknown(std::string field) {
  return {Type::Unknown, std::move(field), {}, {}};
}

}  // namespace podagent::model
