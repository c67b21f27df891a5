#include "runtime/oci/inotify_events.h"

#include <sys/inotify.h>

#include <cstring>

namespace podagent::runtime::oci {

std::vector<InotifyEvent> parse_inotify_events(const char* buf, size_t n) {
  std::vector<InotifyEvent> out;
  for (size_t off = 0; off + sizeof(inotify_event) <= n;) {
    inotify_event header;
    std::memcpy(&header, buf + off, sizeof header);
    const char* name = buf + off + sizeof header;
    off += sizeof header + header.len;
    if (off > n) break;  // cut short: read(2) never does this
    // The name is padded with NULs up to `len`.
    out.push_back({header.mask, std::string_view(name, ::strnlen(name, header.len))});
  }
  return out;
}

}  // namespace podagent::runtime::oci
