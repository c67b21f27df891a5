#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "model/node.h"

namespace podagent::model {

// Bounds on what one manifest may cost to read. Text beyond them is refused
// with an error, never parsed partway.
struct DocumentLimits {
  size_t max_bytes = 4 * 1024 * 1024;   // whole text
  size_t max_depth = 64;                // nesting of maps and sequences
  size_t max_nodes = 200'000;           // scalars, maps and sequences, all documents
  size_t max_documents = 1000;          // "---" separated documents
};

// Parses YAML (1.2; JSON is accepted as its subset) into one Node per
// document. Empty documents are skipped. Errors name the line and column.
// The only user of yaml-cpp in the program.
base::Result<std::vector<Node>> parse_documents(std::string_view text, const DocumentLimits& limits = {});

// Writes a tree as JSON (compact, or indented by two spaces).
std::string to_json(const Node& node, bool pretty = false);
// Writes a tree as block-style YAML, strings quoted where YAML would read them
// as another type.
std::string to_yaml(const Node& node);

}  // namespace podagent::model
