#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace podagent::runtime::oci {

struct InotifyEvent {
  uint32_t mask = 0;
  std::string_view name;  // into the buffer; empty for the watched directory itself
};

// The events of `n` bytes read(2) from an inotify descriptor. Each header
// is copied out rather than cast in place: a buffer living in a coroutine
// frame does not get the alignment its alignas asks for (GCC 12).
std::vector<InotifyEvent> parse_inotify_events(const char* buf, size_t n);

}  // namespace podagent::runtime::oci
