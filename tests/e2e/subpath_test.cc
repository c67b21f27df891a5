// volumeMounts with subPath and subPathExpr, with real containers: two
// containers mounting different parts of one emptyDir see only their own;
// a symbolic link an init container leaves in the volume cannot lead a
// later subPath mount out of it (the classic subPath escape).

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "tests/e2e/e2e_env.h"

namespace podagent::e2e {
namespace {

using SubPathTest = E2eTest;

// A volumeMount of emptyDir "data" at `path`; `how` is the subPath line.
std::string data_mount(const std::string& path, const std::string& how = "") {
  return "    - name: data\n      mountPath: " + path + "\n" +
         (how.empty() ? "" : "      " + how + "\n");
}

TEST_F(SubPathTest, ContainersMountingPartsOfOneEmptyDirSeeOnlyTheirPart) {
  PodYaml pod("parts", "  volumes:\n  - name: data\n    emptyDir: {}\n");
  pod.init_containers =
      sh_container("seed", "mkdir -p /all/a /all/b && touch /all/a/only-a /all/b/only-b /all/top",
                   "    volumeMounts:\n" + data_mount("/all"));
  pod.containers =
      sh_container("app", "ls /part; echo made > /made/f && echo DONE; " + std::string(kIdle),
                   "    volumeMounts:\n" + data_mount("/part", "subPath: a") +
                       data_mount("/made", "subPath: made/deep")) +
      sh_container("other",
                   "ls /part; until test -f /all/made/deep/f; do sleep 0.1; done; "
                   "cat /all/made/deep/f; echo DONE; " +
                       std::string(kIdle),
                   "    env:\n    - {name: WHO, value: b}\n    volumeMounts:\n" +
                       data_mount("/part", "subPathExpr: $(WHO)") + data_mount("/all"));
  ASSERT_EQ(create(pod.str()), 201);
  ASSERT_TRUE(wait_until([&] { return logs("parts", "app").find("DONE") != std::string::npos; }))
      << logs("parts", "app");
  ASSERT_TRUE(wait_until([&] { return logs("parts", "other").find("DONE") != std::string::npos; }))
      << logs("parts", "other");
  EXPECT_EQ(logs("parts", "app"), "only-a\nDONE\n");
  // The missing subPath "made/deep" was made, and is the volume's.
  EXPECT_EQ(logs("parts", "other"), "only-b\nmade\nDONE\n");
}

TEST_F(SubPathTest, ALinkLeftInTheVolumeCannotLeadASubPathOutOfIt) {
  // `escape` points at the node's root, `up` climbs out with ".."; the app
  // would leave a file wherever its mount landed.
  for (const auto& [name, link] : {std::pair{"abs", "escape"}, std::pair{"rel", "up"}}) {
    PodYaml pod(name, "  volumes:\n  - name: data\n    emptyDir: {}\n");
    pod.init_containers =
        sh_container("seed", "ln -s / /vol/escape && ln -s ../../../../../../.. /vol/up",
                     "    volumeMounts:\n" + data_mount("/vol"));
    pod.containers = sh_container(
        "app", "touch /host/podagent-subpath-escaped; echo STARTED; " + std::string(kIdle),
        "    volumeMounts:\n" + data_mount("/host", std::string("subPath: ") + link));
    ASSERT_EQ(create(pod.str()), 201);
  }
  const std::string prefix =
      "failed to prepare subPath for volumeMount \"data\" of container \"app\": subPath ";
  const std::pair<std::string, std::string> expected[] = {
      {"abs", prefix + "\"escape\" is outside of the volume: \"escape\" is a symbolic link to "
                       "the absolute path \"/\""},
      {"rel", prefix + "\"up\" is outside of the volume: \"..\" above the volume's top"}};
  for (const auto& [name, message] : expected) {
    auto pod = wait_pod(name, [](const model::Node& p) {
      return at(container_status(p, "app"), {"state", "waiting", "reason"}) ==
             "CreateContainerConfigError";
    });
    ASSERT_TRUE(pod) << name;
    EXPECT_EQ(at(container_status(*pod, "app"), {"state", "waiting", "message"}), message);
    EXPECT_EQ(at(container_status(*pod, "seed", true), {"state", "terminated", "reason"}),
              "Completed");
    // Never ran: no log, the API says why.
    EXPECT_NE(logs(name, "app").find("is waiting to start: CreateContainerConfigError"),
              std::string::npos)
        << logs(name, "app");
  }
  EXPECT_FALSE(std::filesystem::exists("/podagent-subpath-escaped"));
}

}  // namespace
}  // namespace podagent::e2e
