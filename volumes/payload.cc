#include "volumes/payload.h"

namespace podagent::volumes {

std::string clean_path(std::string_view path) {
  const bool absolute = path.starts_with('/');
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..")
        parts.pop_back();
      else if (!absolute)
        parts.push_back(part);
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = slash + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

base::Error aggregate_errors(const std::vector<base::Error>& errors) {
  if (errors.size() == 1) return errors.front();
  std::string text = "[";
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i) text += ", ";
    text += errors[i].message;
  }
  return base::Error(text + "]");
}

}  // namespace podagent::volumes
