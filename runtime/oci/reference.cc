// normalize_reference: the reference grammar of the distribution project
// (docker/distribution's reference package), with Docker's defaults for a
// missing domain ("docker.io"), the official-image namespace ("library/")
// and a missing tag (":latest").

#include <cctype>
#include <string>
#include <string_view>

#include "runtime/oci/image_store.h"

namespace podagent::runtime::oci {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | "__" | "-"+
bool valid_path_component(std::string_view s) {
  size_t i = 0;
  auto alnum_run = [&] {
    const size_t start = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

// host[:port]: dot-separated [a-zA-Z0-9-] labels not starting or ending with
// '-', or a bracketed IPv6 address.
bool valid_domain(std::string_view s) {
  std::string_view host = s;
  if (size_t colon = s.rfind(':');
      colon != std::string_view::npos && s.find(']', colon) == std::string_view::npos) {
    std::string_view port = s.substr(colon + 1);
    if (port.empty()) return false;
    for (char c : port)
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    host = s.substr(0, colon);
  }
  if (host.starts_with('[')) return host.size() > 2 && host.ends_with(']');
  if (host.empty()) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view label = host.substr(start, dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    start = dot + 1;
  }
  return true;
}

bool valid_tag(std::string_view s) {
  if (s.empty() || s.size() > 128 || !is_word(s[0])) return false;
  for (char c : s)
    if (!is_word(c) && c != '.' && c != '-') return false;
  return true;
}

// algorithm ":" encoded; sha256 must have 64 lowercase hex digits.
std::optional<std::string> digest_problem(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size())
    return "digest \"" + std::string(s) + "\" is not ALGORITHM:HEX";
  std::string_view algorithm = s.substr(0, colon), encoded = s.substr(colon + 1);
  for (char c : algorithm)
    if (!is_lower_alnum(c) && c != '+' && c != '.' && c != '_' && c != '-')
      return "invalid digest algorithm \"" + std::string(algorithm) + "\"";
  for (char c : encoded)
    if (!is_word(c) && c != '=' && c != '-') return "invalid digest \"" + std::string(s) + "\"";
  if (algorithm == "sha256") {
    bool hex = encoded.size() == 64;
    for (char c : encoded) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!hex)
      return "a sha256 digest has 64 lowercase hex digits, not \"" + std::string(encoded) + "\"";
  }
  return std::nullopt;
}

base::Error invalid(std::string_view ref, const std::string& why) {
  return base::Error("invalid image reference \"" + std::string(ref) + "\": " + why);
}

}  // namespace

base::Result<std::string> normalize_reference(std::string_view ref) {
  if (ref.empty()) return invalid(ref, "empty");
  std::string_view name = ref, tag, digest;
  if (size_t at = name.find('@'); at != std::string_view::npos) {
    digest = name.substr(at + 1);
    name = name.substr(0, at);
    if (auto problem = digest_problem(digest)) return invalid(ref, *problem);
  }
  const size_t last_slash = name.rfind('/');
  if (size_t colon = name.rfind(':');
      colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || colon > last_slash)) {
    tag = name.substr(colon + 1);
    name = name.substr(0, colon);
    if (!valid_tag(tag)) return invalid(ref, "invalid tag \"" + std::string(tag) + "\"");
  }
  std::string domain = "docker.io";
  std::string_view remote = name;
  if (size_t slash = name.find('/'); slash != std::string_view::npos) {
    std::string_view first = name.substr(0, slash);
    if (first.find_first_of(".:") != std::string_view::npos || first == "localhost") {
      if (!valid_domain(first))
        return invalid(ref, "invalid domain \"" + std::string(first) + "\"");
      domain = first == "index.docker.io" ? "docker.io" : std::string(first);
      remote = name.substr(slash + 1);
    }
  }
  if (remote.empty()) return invalid(ref, "no repository name");
  size_t start = 0;
  while (start <= remote.size()) {
    size_t slash = remote.find('/', start);
    if (slash == std::string_view::npos) slash = remote.size();
    std::string_view component = remote.substr(start, slash - start);
    if (!valid_path_component(component)) {
      bool upper = false;
      for (char c : component) upper = upper || std::isupper(static_cast<unsigned char>(c));
      return invalid(
          ref, upper ? "repository names must be lowercase"
                     : "invalid repository name component \"" + std::string(component) + "\"");
    }
    start = slash + 1;
  }
  std::string out = domain + "/";
  if (domain == "docker.io" && remote.find('/') == std::string_view::npos) out += "library/";
  out += remote;
  if (out.size() > 255) return invalid(ref, "repository name longer than 255 characters");
  if (!tag.empty()) {
    out += ":" + std::string(tag);
  } else if (digest.empty()) {
    out += ":latest";
  }
  if (!digest.empty()) out += "@" + std::string(digest);
  return out;
}

}  // namespace podagent::runtime::oci
