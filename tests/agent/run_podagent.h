#pragma once

#include <string>
#include <vector>

namespace podagent::agent::testing {

struct Ran {
  int exit = -1;
  std::string out;
  std::string err;
};

// Runs the built podagent binary with `args` to its end, stdin from
// /dev/null; killed (and the test failed) after kDeadline.
Ran podagent(std::vector<std::string> args);

}  // namespace podagent::agent::testing
