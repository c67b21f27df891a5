// The short restart-policy soak run: the built podagent program with the oci
// backend as root, and `podagent soak` against it (50 pods for 2 minutes by
// default; PODAGENT_SOAK_PODS and PODAGENT_SOAK_DURATION change that). Fails
// when the soak's checks fail. Runs alone (RUN_SERIAL): its restart delays
// are only as good as the machine's spare time.
//
// Its delay window is wider than the command's default (2 s late, 1 s
// early, against 1 s and 500 ms): on a quiet 2-core machine every delay came
// within +0.25 s, but with other builds running beside it a few restarts
// came 1 to 2.5 s late. A wrong schedule still shows (one doubling off is
// 2 s or more from the third restart on), and so does every missed crash,
// wrong policy and leak.

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using runtime::oci::testing::read_file;

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// The shared fixture also checks that no process, mount, record or pod
// cgroup is left once the agent stops.
using SoakTest = ProgramTest;

TEST_F(SoakTest, ShortRunKeepsEveryRestartOnScheduleAndLeaksNothing) {
  import_image(kImage);
  start();
  const std::string json = (dir_->root() / "soak.json").string();
  std::string out;
  const int status = run_podagent(
      {"soak", "--socket", socket(), "--image", kImage, "--state-dir", state_dir().string(),
       "--pods", env_or("PODAGENT_SOAK_PODS", "50"), "--duration", env_or("PODAGENT_SOAK_DURATION", "2m"),
       "--tolerance", env_or("PODAGENT_SOAK_TOLERANCE", "2s"), "--early", "1s", "--json", json},
      &out);
  std::cout << out;
  EXPECT_EQ(status, 0) << "the soak's checks failed (report above)";
  EXPECT_NE(read_file(json).find("\"pods\""), std::string::npos);
}

}  // namespace
}  // namespace podagent::e2e
