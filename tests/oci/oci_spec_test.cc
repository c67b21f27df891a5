#include "runtime/oci/oci_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

// Designated initializers name only what a case needs; GCC 12 warns about
// the fields left out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::runtime::oci {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

model::Quantity q(const char* text) { return *model::Quantity::parse(text); }

// A pod with one container "app", its image, and the input that joins them.
struct Fixture {
  model::Pod pod;
  ImageConfig image;
  ContainerSpecInput input;

  Fixture() {
    pod.metadata.name = "web";
    pod.metadata.namespace_ = "shop";
    pod.metadata.uid = "uid-1";
    pod.spec.containers.push_back(model::Container{.name = "app", .image = "busybox"});
    image.cmd = {"sh"};
    input.rootfs = "/run/podagent/rootfs/app";
    input.hostname = "web";
    input.pod_ips = {"10.1.0.5", "fd00::5"};
    input.node = NodeFacts{.node_name = "node-a",
                           .host_ip = "192.168.1.2",
                           .allocatable_cpu_millis = 4000,
                           .allocatable_memory_bytes = 8LL << 30};
  }
  model::Container& container() { return pod.spec.containers[0]; }
  // The input, pointing at this fixture's pod, container and image.
  const ContainerSpecInput& in() {
    input.pod = &pod;
    input.container = &pod.spec.containers[0];
    input.image = &image;
    return input;
  }
  void env(std::string name, std::string value) {
    container().env.push_back(model::EnvVar{.name = std::move(name), .value = std::move(value)});
  }
  void env_from(std::string name, model::EnvVarSource source) {
    container().env.push_back(
        model::EnvVar{.name = std::move(name), .value_from = std::move(source)});
  }
  json::object spec() {
    auto text = container_spec_json(in());
    EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().to_string());
    return text.ok() ? json::parse(*text).as_object() : json::object{};
  }
};

// --- argv -------------------------------------------------------------------

struct ArgvCase {
  std::vector<std::string> command, args, expected;
};

TEST(ContainerArgv, FollowsKubernetesRulesForCommandAndArgs) {
  ImageConfig image{.entrypoint = {"/entry", "-x"}, .cmd = {"serve", "--port=80"}};
  const ArgvCase cases[] = {
      {{}, {}, {"/entry", "-x", "serve", "--port=80"}},  // image as is
      {{}, {"run"}, {"/entry", "-x", "run"}},            // args replace cmd
      {{"/bin/sh"}, {}, {"/bin/sh"}},                    // command drops entrypoint and cmd
      {{"/bin/sh", "-c"}, {"echo hi"}, {"/bin/sh", "-c", "echo hi"}},
  };
  for (const auto& c : cases) {
    model::Container ctr{.name = "c", .command = c.command, .args = c.args};
    auto argv = container_argv(ctr, image, {});
    ASSERT_TRUE(argv.ok());
    EXPECT_EQ(*argv, c.expected);
  }
}

TEST(ContainerArgv, ExpandsVariablesInCommandAndArgsOnly) {
  ImageConfig image{.entrypoint = {"$(A)"}};
  model::Container ctr{.name = "c", .args = {"$(A)", "$$(A)", "$(MISSING)"}};
  auto argv = container_argv(ctr, image, {"A=1"});
  ASSERT_TRUE(argv.ok());
  EXPECT_THAT(*argv, ElementsAre("$(A)", "1", "$(A)", "$(MISSING)"));
  ctr.command = {"/bin/$(A)"};
  EXPECT_THAT(*container_argv(ctr, image, {"A=sh"}),
              ElementsAre("/bin/sh", "sh", "$(A)", "$(MISSING)"));
}

TEST(ContainerArgv, EmptyIsAnErrorAndEmptyEntrypointMeansNone) {
  model::Container ctr{.name = "c"};
  auto argv = container_argv(ctr, ImageConfig{}, {});
  ASSERT_FALSE(argv.ok());
  EXPECT_EQ(argv.error().message, "no command specified");
  EXPECT_FALSE(container_argv(ctr, ImageConfig{.entrypoint = {""}}, {}).ok());
  EXPECT_THAT(*container_argv(ctr, ImageConfig{.entrypoint = {""}, .cmd = {"x"}}, {}),
              ElementsAre("x"));
}

TEST(ExpandVarRefs, HandlesEscapesAndMalformedReferences) {
  std::map<std::string, std::string> vars{{"A", "1"}, {"", "empty"}};
  EXPECT_EQ(expand_var_refs("$(A)$(A)", vars), "11");
  EXPECT_EQ(expand_var_refs("$$(A)", vars), "$(A)");
  EXPECT_EQ(expand_var_refs("$$$(A)", vars), "$1");
  EXPECT_EQ(expand_var_refs("$(A", vars), "$(A");
  EXPECT_EQ(expand_var_refs("$A $", vars), "$A $");
  EXPECT_EQ(expand_var_refs("$(B) x", vars), "$(B) x");
  EXPECT_EQ(expand_var_refs("a$(A)b", vars), "a1b");
}

// --- env --------------------------------------------------------------------

TEST(ContainerEnv, ImageEnvFirstThenContainerOverridingInPlace) {
  Fixture f;
  f.image.env = {"PATH=/image/bin", "A=image", "B=image"};
  f.env("B", "mine");
  f.env("C", "$(B)-$(A)");  // the image's A is not visible, as in Kubernetes
  auto env = container_env(f.in());
  ASSERT_TRUE(env.ok());
  EXPECT_THAT(*env,
              ElementsAre("PATH=/image/bin", "HOSTNAME=web", "A=image", "B=mine", "C=mine-$(A)"));
}

TEST(ContainerEnv, DefaultPathOnlyWhenNobodySetsOne) {
  Fixture f;
  auto env = container_env(f.in());
  ASSERT_TRUE(env.ok());
  EXPECT_THAT(*env, ElementsAre("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                "HOSTNAME=web"));
  f.env("PATH", "/mine");
  f.env("HOSTNAME", "other");
  EXPECT_THAT(*container_env(f.in()), ElementsAre("PATH=/mine", "HOSTNAME=other"));
}

TEST(ContainerEnv, ExpandsInOrderWithEscapesAndLaterDefinitions) {
  Fixture f;
  f.env("A", "a");
  f.env("B", "$(A)/$(C)");  // C comes later: kept as written
  f.env("C", "$$(A)");      // escaped
  f.env("A", "$(A)$(A)");   // a redefinition sees the earlier value
  auto vars = container_env_vars(f.in());
  ASSERT_TRUE(vars.ok());
  EXPECT_THAT(*vars, ElementsAre("A=aa", "B=a/$(C)", "C=$(A)"));
}

TEST(ContainerEnv, ResolvesEveryFieldRef) {
  Fixture f;
  f.pod.metadata.labels = {{"app", "web"}};
  f.pod.metadata.annotations = {{"note", "x y"}};
  f.pod.spec.service_account_name = "sa";
  const std::pair<const char*, const char*> cases[] = {
      {"metadata.name", "web"},         {"metadata.namespace", "shop"},
      {"metadata.uid", "uid-1"},        {"metadata.labels['app']", "web"},
      {"metadata.labels['none']", ""},  {"metadata.annotations['note']", "x y"},
      {"spec.nodeName", "node-a"},      {"spec.serviceAccountName", "sa"},
      {"status.hostIP", "192.168.1.2"}, {"status.hostIPs", "192.168.1.2"},
      {"status.podIP", "10.1.0.5"},     {"status.podIPs", "10.1.0.5,fd00::5"},
  };
  for (const auto& [path, value] : cases) {
    f.container().env.clear();
    f.env_from("V", {.field_ref = model::ObjectFieldSelector{.field_path = path}});
    f.env("W", "<$(V)>");
    auto vars = container_env_vars(f.in());
    ASSERT_TRUE(vars.ok()) << path;
    EXPECT_THAT(*vars, ElementsAre(std::string("V=") + value, std::string("W=<") + value + ">"))
        << path;
  }
}

TEST(ContainerEnv, UnknownFieldPathAndKeyRefsAreErrorsWithTheirField) {
  Fixture f;
  f.env("OK", "1");
  f.env_from("V", {.field_ref = model::ObjectFieldSelector{.field_path = "spec.bogus"}});
  auto vars = container_env_vars(f.in());
  ASSERT_FALSE(vars.ok());
  EXPECT_EQ(vars.error().field, "spec.containers[0].env[1].valueFrom.fieldRef.fieldPath");
  f.container().env.pop_back();
  f.env_from("SECRET", {.secret_key_ref = model::KeySelector{.name = "s", .key = "k"}});
  vars = container_env_vars(f.in());  // no objects at all
  ASSERT_FALSE(vars.ok());
  EXPECT_EQ(vars.error().message, "secret \"s\" not found");
  EXPECT_EQ(vars.error().field, "spec.containers[0].env[1].valueFrom");
}

// --- env from ConfigMaps and Secrets -----------------------------------------

// Fixture's pod (namespace "shop") with ConfigMap "cfg" and Secret "creds".
struct ObjectsFixture : Fixture {
  model::ConfigObjects objects;
  ObjectsFixture() {
    objects.config_maps[{"shop", "cfg"}].data = {{"mode", "fast"}, {"url", "http://x"}};
    objects.config_maps[{"shop", "cfg"}].binary_data = {{"blob", "b"}};
    objects.secrets[{"shop", "creds"}].data = {{"password", "hunter2"}, {"user", "admin"}};
    objects.config_maps[{"default", "other"}].data = {{"k", "v"}};
    input.objects = &objects;
  }
  model::EnvVarSource cm_key(std::string name, std::string key, std::optional<bool> optional = {}) {
    return {.config_map_key_ref = model::KeySelector{std::move(name), std::move(key), optional}};
  }
  model::EnvVarSource secret_key(std::string name, std::string key,
                                 std::optional<bool> optional = {}) {
    return {.secret_key_ref = model::KeySelector{std::move(name), std::move(key), optional}};
  }
  void env_from_object(bool secret, std::string name, std::string prefix = "",
                       std::optional<bool> optional = {}) {
    model::EnvFromSource source{.prefix = std::move(prefix)};
    (secret ? source.secret_ref : source.config_map_ref) =
        model::KeySelector{std::move(name), "", optional};
    container().env_from.push_back(std::move(source));
  }
};

TEST(ContainerEnvObjects, KeyRefsReadTheObjectsInThePodsNamespace) {
  ObjectsFixture f;
  f.env_from("MODE", f.cm_key("cfg", "mode"));
  f.env_from("PASS", f.secret_key("creds", "password"));
  f.env("DSN", "$(MODE):$(PASS)");
  auto vars = container_env_vars(f.in());
  ASSERT_TRUE(vars.ok()) << vars.error().to_string();
  EXPECT_THAT(*vars, ElementsAre("MODE=fast", "PASS=hunter2", "DSN=fast:hunter2"));
}

TEST(ContainerEnvObjects, EnvFromComesFirstWithItsPrefixAndEnvOverridesIt) {
  ObjectsFixture f;
  f.env_from_object(false, "cfg", "CFG_");
  f.env_from_object(true, "creds");
  f.env("user", "override");
  f.env("ALL", "$(CFG_mode)-$(user)");
  auto vars = container_env_vars(f.in());
  ASSERT_TRUE(vars.ok()) << vars.error().to_string();
  // data only (not binaryData), each object's keys in order; env replaces
  // in place and sees what envFrom defined.
  EXPECT_THAT(*vars, ElementsAre("CFG_mode=fast", "CFG_url=http://x", "password=hunter2",
                                 "user=override", "ALL=fast-override"));
  // And in the whole environment, after the image's.
  f.image.env = {"PATH=/bin", "user=image"};
  EXPECT_THAT(*container_env(f.in()),
              ElementsAre("PATH=/bin", "HOSTNAME=web", "user=override", "CFG_mode=fast",
                          "CFG_url=http://x", "password=hunter2", "ALL=fast-override"));
}

TEST(ContainerEnvObjects, MissingObjectsAndKeysInTheKubeletsWords) {
  struct Case {
    model::EnvVarSource source;
    const char* message;
  };
  ObjectsFixture f;
  const Case cases[] = {
      {f.cm_key("nope", "k"), "configmap \"nope\" not found"},
      {f.cm_key("other", "k"), "configmap \"other\" not found"},  // another namespace
      {f.cm_key("cfg", "blob"), "couldn't find key blob in ConfigMap shop/cfg"},
      {f.secret_key("nope", "k"), "secret \"nope\" not found"},
      {f.secret_key("creds", "token"), "couldn't find key token in Secret shop/creds"},
  };
  for (const auto& c : cases) {
    f.container().env.clear();
    f.env("A", "1");
    f.env("B", "2");
    f.env_from("X", c.source);
    auto vars = container_env_vars(f.in());
    ASSERT_FALSE(vars.ok()) << c.message;
    EXPECT_EQ(vars.error().message, c.message);
    EXPECT_EQ(vars.error().field, "spec.containers[0].env[2].valueFrom");
    EXPECT_THAT(vars.error().message, Not(HasSubstr("hunter2")));
  }
  f.container().env.clear();
  f.env_from_object(true, "gone", "P_");
  auto vars = container_env_vars(f.in());
  ASSERT_FALSE(vars.ok());
  EXPECT_EQ(vars.error().message, "secret \"gone\" not found");
  EXPECT_EQ(vars.error().field, "spec.containers[0].envFrom[0]");
}

TEST(ContainerEnvObjects, OptionalMissingRefsDefineNothing) {
  ObjectsFixture f;
  f.env_from_object(false, "nope", "", true);
  f.env_from_object(true, "gone", "S_", true);
  f.env_from("A", f.cm_key("nope", "k", true));
  f.env_from("B", f.cm_key("cfg", "missing", true));
  f.env_from("C", f.secret_key("creds", "missing", true));
  f.env_from("D", f.secret_key("gone", "k", true));
  f.env("E", "$(A)|$(B)");
  auto vars = container_env_vars(f.in());
  ASSERT_TRUE(vars.ok()) << vars.error().to_string();
  EXPECT_THAT(*vars, ElementsAre("E=$(A)|$(B)"));
}

TEST(ContainerEnv, ResourceFieldRefRoundsUpAndDefaultsLimitsToAllocatable) {
  Fixture f;
  f.container().resources.limits = {{"cpu", q("250m")}, {"memory", q("1000")}};
  f.container().resources.requests = {{"memory", q("1Gi")}, {"ephemeral-storage", q("1500")}};
  struct Case {
    const char* resource;
    const char* divisor;  // nullptr: the default, 1
    const char* value;
  };
  const Case cases[] = {
      {"limits.cpu", nullptr, "1"},  // 250m rounds up to a whole core
      {"limits.cpu", "1m", "250"},
      {"limits.cpu", "100m", "3"},    // 2.5 -> 3
      {"limits.memory", "1Ki", "1"},  // 1000/1024 -> 1
      {"limits.memory", nullptr, "1000"},
      {"requests.memory", "1Mi", "1024"},
      {"requests.ephemeral-storage", "1k", "2"},
      {"requests.cpu", "1m", "0"},  // no request: zero
  };
  for (const auto& c : cases) {
    f.container().env.clear();
    model::ResourceFieldSelector sel{.resource = c.resource};
    if (c.divisor) sel.divisor = q(c.divisor);
    f.env_from("R", {.resource_field_ref = sel});
    auto vars = container_env_vars(f.in());
    ASSERT_TRUE(vars.ok()) << c.resource;
    EXPECT_THAT(*vars, ElementsAre(std::string("R=") + c.value))
        << c.resource << " / " << (c.divisor ? c.divisor : "1");
  }
  f.container().resources.limits.clear();
  f.container().env.clear();
  f.env_from("CPU", {.resource_field_ref = model::ResourceFieldSelector{.resource = "limits.cpu",
                                                                        .divisor = q("1m")}});
  f.env_from("MEM", {.resource_field_ref = model::ResourceFieldSelector{.resource = "limits.memory",
                                                                        .divisor = q("1Gi")}});
  EXPECT_THAT(*container_env_vars(f.in()), ElementsAre("CPU=4000", "MEM=8"));
}

TEST(ContainerEnv, ResourceFieldRefOfAnotherContainerAndBadResource) {
  Fixture f;
  f.pod.spec.containers.push_back(model::Container{.name = "side"});
  f.pod.spec.containers[1].resources.limits = {{"memory", q("64Mi")}};
  f.env_from("M",
             {.resource_field_ref = model::ResourceFieldSelector{
                  .container_name = "side", .resource = "limits.memory", .divisor = q("1Mi")}});
  EXPECT_THAT(*container_env_vars(f.in()), ElementsAre("M=64"));
  f.container().env.clear();
  f.env_from("X", {.resource_field_ref = model::ResourceFieldSelector{.resource = "limits.gpu"}});
  auto vars = container_env_vars(f.in());
  ASSERT_FALSE(vars.ok());
  EXPECT_EQ(vars.error().field, "spec.containers[0].env[0].valueFrom.resourceFieldRef.resource");
}

// --- user -------------------------------------------------------------------

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "app:x:1000:1001::/home/app:/bin/sh\n"
    "nobody:x:65534:65534::/:/bin/false\n";
constexpr const char* kGroup =
    "root:x:0:\n"
    "app:x:1001:\n"
    "wheel:x:10:root,app\n"
    "audio:x:29:app\n"
    "staff:x:50:other\n";

TEST(ResolveUser, NamesNumbersAndGroups) {
  const std::tuple<const char*, uint32_t, uint32_t, std::vector<uint32_t>> cases[] = {
      {"", 0, 0, {0, 10}},
      {"app", 1000, 1001, {1001, 10, 29}},
      {"1000", 1000, 1001, {1001, 10, 29}},
      {"app:staff", 1000, 50, {50}},  // an explicit group: no member groups
      {"app:7", 1000, 7, {7}},
      {"4242", 4242, 0, {0}},  // not in passwd: used as is
      {"4242:4343", 4242, 4343, {4343}},
  };
  for (const auto& [user, uid, gid, gids] : cases) {
    auto r = resolve_user(user, kPasswd, kGroup);
    ASSERT_TRUE(r.ok()) << user;
    EXPECT_EQ(*r, (ProcessUser{uid, gid, gids})) << user;
  }
  auto r = resolve_user("ghost", kPasswd, kGroup);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "unable to find user ghost: no matching entries in passwd file");
  r = resolve_user("app:ghosts", kPasswd, kGroup);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "unable to find group ghosts: no matching entries in group file");
}

TEST(ContainerUser, SecurityContextOverridesImageUserContainerBeforePod) {
  Fixture f;
  f.image.user = "app";
  f.pod.spec.security_context =
      model::PodSecurityContext{.run_as_user = 2000, .supplemental_groups = {5, 6}, .fs_group = 7};
  auto u = container_user(f.pod, f.container(), f.image, kPasswd, kGroup);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(*u, (ProcessUser{2000, 0, {0, 5, 6, 7}}));
  f.container().security_context =
      model::SecurityContext{.run_as_user = 1000, .run_as_group = 3000};
  EXPECT_EQ(*container_user(f.pod, f.container(), f.image, kPasswd, kGroup),
            (ProcessUser{1000, 3000, {3000, 5, 6, 7}}));
  f.pod.spec.security_context.reset();
  f.container().security_context = model::SecurityContext{.run_as_group = 3000};
  EXPECT_EQ(*container_user(f.pod, f.container(), f.image, kPasswd, kGroup),
            (ProcessUser{1000, 3000, {3000}}));
}

TEST(ContainerUser, RunAsNonRootRefusesRootAndUnverifiableNames) {
  Fixture f;
  f.container().security_context = model::SecurityContext{.run_as_non_root = true};
  EXPECT_FALSE(container_user(f.pod, f.container(), f.image, kPasswd, kGroup).ok());
  f.image.user = "app";
  auto u = container_user(f.pod, f.container(), f.image, kPasswd, kGroup);
  ASSERT_FALSE(u.ok());
  EXPECT_THAT(u.error().message, HasSubstr("non-numeric user (app)"));
  f.image.user = "1000";
  EXPECT_TRUE(container_user(f.pod, f.container(), f.image, kPasswd, kGroup).ok());
}

TEST(ContainerSpec, UserComesFromInputOrNumericImageUser) {
  Fixture f;
  f.image.user = "123:456";
  EXPECT_EQ(f.spec().at("process").at("user"),
            json::parse(R"({"uid":123,"gid":456,"additionalGids":[456]})"));
  f.image.user = "app";
  EXPECT_FALSE(container_spec_json(f.in()).ok());  // a name needs passwd: the backend resolves it
  f.input.user = ProcessUser{1000, 1001, {1001, 10}};
  EXPECT_EQ(f.spec().at("process").at("user"),
            json::parse(R"({"uid":1000,"gid":1001,"additionalGids":[1001,10]})"));
}

TEST(ContainerSpec, PidsLimitAndCgroupsPathWhenGiven) {
  Fixture f;
  EXPECT_FALSE(f.spec().at("linux").at("resources").as_object().contains("pids"));
  EXPECT_FALSE(f.spec().at("linux").as_object().contains("cgroupsPath"));
  f.input.pids_limit = 256;
  f.input.cgroups_path = "/podagent/burstable/poduid-1/c1";
  json::object s = f.spec();
  EXPECT_EQ(s.at("linux").at("resources").at("pids"), json::parse(R"({"limit":256})"));
  EXPECT_EQ(s.at("linux").at("cgroupsPath"), "/podagent/burstable/poduid-1/c1");
}

TEST(SandboxSpec, CgroupsPathWhenGiven) {
  model::Pod pod;
  pod.metadata.name = "web";
  pod.metadata.uid = "uid-1";
  SandboxSpecInput in{.pod = &pod, .rootfs = "/pause", .hostname = "web"};
  auto plain = sandbox_spec_json(in);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(json::parse(*plain).at("linux").as_object().contains("cgroupsPath"));
  in.cgroups_path = "/podagent/besteffort/poduid-1/s1";
  auto text = sandbox_spec_json(in);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(json::parse(*text).at("linux").at("cgroupsPath"), "/podagent/besteffort/poduid-1/s1");
}

}  // namespace
}  // namespace podagent::runtime::oci
