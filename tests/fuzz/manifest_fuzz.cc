// Feeds arbitrary text to the manifest decoder, and every pod it decodes to
// the encoder and both writers. Whatever the input, this must return without
// a crash, a leak, a sanitizer report or a timeout.
//
// It also checks the writers against the reader: every document read must
// read back identically from to_yaml's text, and to_json's text must read.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/document.h"
#include "model/pod_codec.h"

namespace {

using podagent::model::Node;

Node without_lines(Node n) {
  n.line = 0;
  for (auto& item : n.items) item = without_lines(std::move(item));
  for (auto& entry : n.entries) entry.second = without_lines(std::move(entry.second));
  return n;
}

size_t longest_key(const Node& n) {
  size_t longest = 0;
  for (const auto& item : n.items) longest = std::max(longest, longest_key(item));
  for (const auto& [key, value] : n.entries)
    longest =
        std::max({longest, key.size() * 6, longest_key(value)});  // escapes may grow a key sixfold
  return longest;
}

[[noreturn]] void fail(const char* what, const std::string& text) {
  std::fprintf(stderr, "%s\n--- text ---\n%s\n", what, text.c_str());
  std::abort();
}

void check_writers(std::string_view text) {
  using namespace podagent::model;
  podagent::base::Result<std::vector<Node>> docs = parse_documents(text);
  if (!docs) return;
  for (const Node& doc : *docs) {
    std::string yaml = to_yaml(doc);
    podagent::base::Result<std::vector<Node>> back = parse_documents(yaml);
    if (!back) fail(("to_yaml wrote unreadable text: " + back.error().message).c_str(), yaml);
    Node expected = without_lines(doc);
    // to_yaml writes an empty document for nothing but null, which reads as no document.
    if (back->size() != 1 || without_lines(back->front()) != expected)
      fail("to_yaml's text reads back differently", yaml);
    // yaml-cpp cannot read keys past YAML's 1024-character limit on implicit
    // keys, and JSON has no other kind.
    if (longest_key(doc) > 1000) continue;
    std::string json = to_json(doc, /*pretty=*/true);
    podagent::base::Result<std::vector<Node>> from_json = parse_documents(json);
    if (!from_json || from_json->size() != 1) fail("to_json wrote unreadable text", json);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace podagent::model;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  DecodeResult result = decode_pods(text);
  for (const DecodedPod& decoded : result.pods) {
    Node node = encode_pod(decoded.pod);
    std::string json = to_json(node);
    std::string yaml = to_yaml(node);
    for (const FieldError& e : decoded.errors) (void)e.to_string();
    for (const FieldError& e : decoded.warnings) (void)e.to_string();
  }
  for (const FieldError& e : result.errors) (void)e.to_string();
  check_writers(text);
  return 0;
}
