#include "volumes/sources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

// Designated initializers name only what a case needs; GCC 12 warns about
// the fields left out.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace podagent::volumes {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

model::Quantity q(const char* text) { return *model::Quantity::parse(text); }

// A pod "web" in namespace "shop", with ConfigMap "cfg" and Secret "creds"
// there (and a ConfigMap of the same name in another namespace).
struct Fixture {
  model::Pod pod;
  model::ConfigObjects objects;
  VolumeInputs in() const { return {.pod = &pod, .objects = &objects, .node = node}; }
  model::NodeAllocatable node{
      .cpu_millis = 4000, .memory_bytes = 8LL << 30, .ephemeral_storage_bytes = 100LL << 30};

  Fixture() {
    pod.metadata.name = "web";
    pod.metadata.namespace_ = "shop";
    pod.metadata.uid = "uid-1";
    pod.spec.containers.push_back(model::Container{.name = "app"});
    model::ConfigMap cm;
    cm.metadata.name = "cfg";
    cm.data = {{"a.conf", "alpha"}, {"b.conf", "beta"}};
    cm.binary_data = {{"logo.bin", std::string("\x00\xff", 2)}};
    objects.config_maps[{"shop", "cfg"}] = cm;
    model::ConfigMap other;
    other.data = {{"other", "x"}};
    objects.config_maps[{"default", "elsewhere"}] = other;
    model::Secret secret;
    secret.data = {{"password", "s3cr3t-bytes"}, {"user", "admin"}};
    objects.secrets[{"shop", "creds"}] = secret;
  }
};

model::ObjectVolumeSource source(std::string name, std::vector<model::KeyToPath> items = {},
                                 std::optional<bool> optional = std::nullopt) {
  return {.name = std::move(name),
          .items = std::move(items),
          .default_mode = std::nullopt,
          .optional = optional};
}

// --- configMap --------------------------------------------------------------

TEST(ConfigMapPayload, EveryKeyOfDataAndBinaryDataWithTheDefaultMode) {
  Fixture f;
  auto p = config_map_payload(source("cfg"), f.in(), 0640);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, (Payload{{"a.conf", {"alpha", 0640}},
                         {"b.conf", {"beta", 0640}},
                         {"logo.bin", {std::string("\x00\xff", 2), 0640}}}));
}

TEST(ConfigMapPayload, ItemsPickKeysWithTheirPathsAndModes) {
  Fixture f;
  auto p =
      config_map_payload(source("cfg", {{.key = "a.conf", .path = "etc/./a", .mode = 0600},
                                        {.key = "logo.bin", .path = "logo", .mode = std::nullopt}}),
                         f.in(), 0644);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p,
            (Payload{{"etc/a", {"alpha", 0600}}, {"logo", {std::string("\x00\xff", 2), 0644}}}));
}

TEST(ConfigMapPayload, MissingObjectOrKeyIsAnErrorUnlessOptional) {
  Fixture f;
  auto missing = config_map_payload(source("nope"), f.in(), 0644);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "configmap \"nope\" not found");
  // Looked up in the pod's namespace only.
  EXPECT_FALSE(config_map_payload(source("elsewhere"), f.in(), 0644).ok());
  auto optional = config_map_payload(source("nope", {}, true), f.in(), 0644);
  ASSERT_TRUE(optional.ok());
  EXPECT_TRUE(optional->empty());

  std::vector<model::KeyToPath> items{{.key = "a.conf", .path = "a", .mode = std::nullopt},
                                      {.key = "k", .path = "k", .mode = std::nullopt}};
  auto bad_key = config_map_payload(source("cfg", items), f.in(), 0644);
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.error().message, "configmap references non-existent config key: k");
  auto skipped = config_map_payload(source("cfg", items, true), f.in(), 0644);
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(*skipped, (Payload{{"a", {"alpha", 0644}}}));
}

// --- secret -----------------------------------------------------------------

TEST(SecretPayload, KeysItemsAndErrorsWithoutTheBytes) {
  Fixture f;
  auto all = secret_payload(source("creds"), f.in(), 0400);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (Payload{{"password", {"s3cr3t-bytes", 0400}}, {"user", {"admin", 0400}}}));

  auto missing = secret_payload(source("gone"), f.in(), 0644);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "secret \"gone\" not found");
  EXPECT_TRUE(secret_payload(source("gone", {}, true), f.in(), 0644)->empty());

  auto bad_key = secret_payload(
      source("creds", {{.key = "token", .path = "t", .mode = std::nullopt}}), f.in(), 0644);
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.error().message, "references non-existent secret key: token");
  EXPECT_THAT(bad_key.error().message, Not(HasSubstr("s3cr3t")));
}

// --- downwardAPI ------------------------------------------------------------

model::DownwardApiVolumeFile field_item(std::string path, std::string field,
                                        std::optional<int32_t> mode = std::nullopt) {
  return {
      .path = std::move(path),
      .field_ref = model::ObjectFieldSelector{.api_version = "v1", .field_path = std::move(field)},
      .resource_field_ref = std::nullopt,
      .mode = mode};
}

TEST(DownwardApiPayload, MetadataFieldsAndFormattedMaps) {
  Fixture f;
  f.pod.metadata.labels = {{"tier", "front"}, {"app", "web"}};
  f.pod.metadata.annotations = {{"note", "say \"hi\"\n\tbye\\ é\x01"}};
  model::DownwardApiVolumeSource src{
      .items = {field_item("name", "metadata.name"), field_item("ns", "metadata.namespace"),
                field_item("uid", "metadata.uid", 0600), field_item("labels", "metadata.labels"),
                field_item("annotations", "metadata.annotations"),
                field_item("meta/app", "metadata.labels['app']"),
                field_item("none", "metadata.annotations['absent']")}};
  auto p = downward_api_payload(src, f.in(), 0644);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, (Payload{{"name", {"web", 0644}},
                         {"ns", {"shop", 0644}},
                         {"uid", {"uid-1", 0600}},
                         {"labels", {"app=\"web\"\ntier=\"front\"", 0644}},
                         {"annotations", {"note=\"say \\\"hi\\\"\\n\\tbye\\\\ é\\x01\"", 0644}},
                         {"meta/app", {"web", 0644}},
                         {"none", {"", 0644}}}));
  f.pod.metadata.labels.clear();
  EXPECT_EQ(downward_api_payload(src, f.in(), 0644)->at("labels").data, "");
}

TEST(DownwardApiPayload, ResourceFieldsWithDivisorAndAllocatableLimits) {
  Fixture f;
  f.pod.spec.containers[0].resources.limits = {{"memory", q("64Mi")}};
  f.pod.spec.containers[0].resources.requests = {{"cpu", q("250m")}};
  auto item = [](std::string path, std::string resource, const char* divisor) {
    model::ResourceFieldSelector sel{.container_name = "app", .resource = std::move(resource)};
    if (divisor) sel.divisor = q(divisor);
    return model::DownwardApiVolumeFile{.path = std::move(path), .resource_field_ref = sel};
  };
  model::DownwardApiVolumeSource src{.items = {item("mem", "limits.memory", "1Mi"),
                                               item("cpu_req", "requests.cpu", "1m"),
                                               item("cpu_req_cores", "requests.cpu", nullptr),
                                               item("cpu_limit", "limits.cpu", "1m"),
                                               item("disk", "limits.ephemeral-storage", "1Gi"),
                                               item("mem_req", "requests.memory", nullptr)}};
  auto p = downward_api_payload(src, f.in(), 0644);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->at("mem").data, "64");
  EXPECT_EQ(p->at("cpu_req").data, "250");
  EXPECT_EQ(p->at("cpu_req_cores").data, "1");  // rounded up
  EXPECT_EQ(p->at("cpu_limit").data, "4000");   // the node's allocatable
  EXPECT_EQ(p->at("disk").data, "100");
  EXPECT_EQ(p->at("mem_req").data, "0");
}

TEST(DownwardApiPayload, ErrorsOfEveryItemAreAggregated) {
  Fixture f;
  model::DownwardApiVolumeSource src{
      .items = {
          field_item("ip", "status.podIP"), field_item("ok", "metadata.name"),
          model::DownwardApiVolumeFile{.path = "x",
                                       .resource_field_ref = model::ResourceFieldSelector{
                                           .container_name = "ghost", .resource = "limits.cpu"}}}};
  auto p = downward_api_payload(src, f.in(), 0644);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message, "[unsupported fieldPath: status.podIP, container ghost not found]");
  src.items.resize(1);
  EXPECT_EQ(downward_api_payload(src, f.in(), 0644).error().message,
            "unsupported fieldPath: status.podIP");
}

// --- projected --------------------------------------------------------------

TEST(ProjectedPayload, CombinesSourcesWithTheProjectedModeLaterWins) {
  Fixture f;
  model::ProjectedVolumeSource src;
  src.default_mode = 0440;
  src.sources.push_back(
      {.config_map = source("cfg", {{.key = "a.conf", .path = "x", .mode = std::nullopt},
                                    {.key = "b.conf", .path = "b", .mode = 0600}})});
  src.sources.push_back(
      {.secret = source("creds", {{.key = "user", .path = "x", .mode = std::nullopt}})});
  src.sources.push_back({.downward_api = model::DownwardApiVolumeSource{
                             .items = {field_item("name", "metadata.name")}}});
  src.sources.push_back({.secret = source("gone", {}, true)});
  auto p = projected_payload(src, f.in());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, (Payload{{"x", {"admin", 0440}}, {"b", {"beta", 0600}}, {"name", {"web", 0440}}}));
}

TEST(ProjectedPayload, ErrorsOfSourcesAreAggregated) {
  Fixture f;
  model::ProjectedVolumeSource src;
  src.sources.push_back({.config_map = source("nope")});
  src.sources.push_back({.secret = source("creds")});
  src.sources.push_back({.secret = source("gone")});
  auto p = projected_payload(src, f.in());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message, "[configmap \"nope\" not found, secret \"gone\" not found]");
  model::ProjectedVolumeSource token;
  token.sources.push_back(
      {.service_account_token = model::ServiceAccountTokenProjection{.path = "token"}});
  EXPECT_THAT(projected_payload(token, f.in()).error().message, HasSubstr("serviceAccountToken"));
}

TEST(VolumePayload, OnlyTheKindsWrittenOnTheNode) {
  Fixture f;
  EXPECT_FALSE(volume_payload(
      model::Volume{.name = "e", .empty_dir = model::EmptyDirVolumeSource{}}, f.in()));
  auto cm = volume_payload(model::Volume{.name = "c", .config_map = source("cfg")}, f.in());
  ASSERT_TRUE(cm && cm->ok());
  EXPECT_EQ((*cm)->at("a.conf").mode, 0644);  // no defaultMode: the API's default
}

TEST(CleanPath, AsGoFilepathClean) {
  EXPECT_EQ(clean_path("a//b/./c/"), "a/b/c");
  EXPECT_EQ(clean_path("a/../b"), "b");
  EXPECT_EQ(clean_path("./"), ".");
  EXPECT_EQ(clean_path("../a"), "../a");
  EXPECT_EQ(clean_path(""), ".");
}

}  // namespace
}  // namespace podagent::volumes
