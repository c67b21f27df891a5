#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/config_object_codec.h"
#include "model/document.h"
#include "model/pod_codec.h"

namespace podagent::model {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;

std::vector<std::string> texts(const FieldErrors& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.to_string());
  return out;
}

Node parse_one(const std::string& text) {
  auto documents = parse_documents(text);
  EXPECT_TRUE(documents.ok());
  if (!documents.ok() || documents->size() != 1) {
    ADD_FAILURE() << "not one document: " << text;
    return {};
  }
  return (*documents)[0];
}

DecodedConfigMap decode_map_text(const std::string& text) {
  return decode_config_map(parse_one(text));
}
DecodedSecret decode_secret_text(const std::string& text) { return decode_secret(parse_one(text)); }

// Every text of every error and warning, for checks that a value never shows.
std::string all_texts(const FieldErrors& errors, const FieldErrors& warnings) {
  std::string out;
  for (const auto& e : errors) out += e.to_string() + "\n";
  for (const auto& w : warnings) out += w.to_string() + "\n";
  return out;
}

const char* const kKeyMsg =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

// --- decoding ---------------------------------------------------------------

TEST(ConfigMapDecodeTest, ReadsEveryField) {
  DecodedConfigMap d = decode_map_text(
      "apiVersion: v1\nkind: ConfigMap\n"
      "metadata: {name: app, namespace: web, labels: {tier: front}}\n"
      "immutable: true\n"
      "data: {app.conf: \"port=80\\n\", empty: null}\n"
      "binaryData: {logo.bin: AP/+gA==}\n");
  EXPECT_THAT(texts(d.errors), IsEmpty());
  EXPECT_THAT(texts(d.warnings), IsEmpty());
  const ConfigMap& m = d.object;
  EXPECT_EQ(m.metadata.name, "app");
  EXPECT_EQ(m.metadata.namespace_, "web");
  EXPECT_EQ(m.metadata.labels.at("tier"), "front");
  EXPECT_EQ(m.immutable, std::optional<bool>(true));
  EXPECT_THAT(m.data, ElementsAre(Pair("app.conf", "port=80\n"), Pair("empty", "")));
  EXPECT_THAT(m.binary_data, ElementsAre(Pair("logo.bin", std::string("\x00\xff\xfe\x80", 4))));
}

TEST(ConfigMapDecodeTest, BadBase64IsAnErrorNamingTheKey) {
  DecodedConfigMap d = decode_map_text(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n"
      "binaryData: {good: Zm9v, bad: \"Zm9v!!!!\"}\n");
  EXPECT_THAT(texts(d.errors),
              ElementsAre("binaryData[bad]: Invalid value: illegal base64 data at input byte 4"));
  EXPECT_THAT(d.object.binary_data, ElementsAre(Pair("good", "foo")));
}

TEST(ConfigMapDecodeTest, WrongTypesAreErrorsAndUnknownFieldsWarnings) {
  DecodedConfigMap d = decode_map_text(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n"
      "data: {port: 80, ok: \"1\"}\nimmutable: \"yes\"\nspec: {}\nstringData: {a: b}\n");
  EXPECT_THAT(texts(d.errors), ElementsAre("immutable: Invalid value: \"yes\": expected boolean",
                                           "data[port]: Invalid value: 80: expected string"));
  EXPECT_THAT(texts(d.warnings),
              ElementsAre("unknown field \"spec\"", "unknown field \"stringData\""));
  EXPECT_THAT(d.object.data, ElementsAre(Pair("ok", "1")));
}

TEST(ConfigMapDecodeTest, TheEnvelopeMustBeAV1ConfigMap) {
  EXPECT_THAT(texts(decode_map_text("apiVersion: v1\nkind: Secret\nmetadata: {name: m}\n").errors),
              ElementsAre("kind: Unsupported value: \"Secret\": supported values: \"ConfigMap\""));
  EXPECT_THAT(texts(decode_map_text("kind: ConfigMap\nmetadata: {name: m}\n").errors),
              ElementsAre("apiVersion: Required value"));
  EXPECT_THAT(texts(decode_map_text("apiVersion: v1\nmetadata: {name: m}\n").errors),
              ElementsAre("kind: Required value"));
  EXPECT_THAT(texts(decode_map_text("[1]").errors), ElementsAre("expected map"));
}

TEST(SecretDecodeTest, DecodesDataAndMergesStringDataOverIt) {
  DecodedSecret d = decode_secret_text(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\ntype: kubernetes.io/basic-auth\n"
      "data: {username: YWRtaW4=, password: b2xk}\n"
      "stringData: {password: new, token: \"t\"}\n");
  EXPECT_THAT(texts(d.errors), IsEmpty());
  EXPECT_THAT(texts(d.warnings), IsEmpty());
  EXPECT_EQ(d.object.type, "kubernetes.io/basic-auth");
  EXPECT_THAT(d.object.data,
              ElementsAre(Pair("password", "new"), Pair("token", "t"), Pair("username", "admin")));
}

TEST(SecretDecodeTest, NoErrorShowsASecretValue) {
  // "hunter2" is the value in every bad form: bad base64, wrong types.
  DecodedSecret d = decode_secret_text(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
      "data: {a: \"hunter2!\", b: 7777777, c: [hunter2]}\n"
      "stringData: {d: 7777777, e: {x: hunter2}}\n");
  EXPECT_THAT(texts(d.errors),
              ElementsAre("data[a]: Invalid value: \"<secret contents redacted>\": illegal base64 "
                          "data at input byte 7",
                          "data[b]: Invalid value: \"<secret contents redacted>\": expected string",
                          "data[c]: Invalid value: \"<secret contents redacted>\": expected string",
                          "stringData[d]: Invalid value: \"<secret contents redacted>\": expected "
                          "string",
                          "stringData[e]: Invalid value: \"<secret contents redacted>\": expected "
                          "string"));
  const std::string all = all_texts(d.errors, d.warnings);
  EXPECT_THAT(all, Not(HasSubstr("hunter2")));
  EXPECT_THAT(all, Not(HasSubstr("7777777")));

  DecodedSecret scalar = decode_secret_text(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: hunter2\n");
  EXPECT_THAT(
      texts(scalar.errors),
      ElementsAre("stringData: Invalid value: \"<secret contents redacted>\": expected map"));
}

TEST(SecretDecodeTest, UnknownFieldsWarnAndImmutableIsRead) {
  DecodedSecret d = decode_secret_text(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nimmutable: false\nbinaryData: {a: "
      "Zm9v}\n");
  EXPECT_THAT(texts(d.errors), IsEmpty());
  EXPECT_THAT(texts(d.warnings), ElementsAre("unknown field \"binaryData\""));
  EXPECT_EQ(d.object.immutable, std::optional<bool>(false));
}

// --- encoding ---------------------------------------------------------------

TEST(ConfigObjectEncodeTest, ConfigMapAsTheApiShowsIt) {
  ConfigMap m;
  m.metadata.name = "app";
  m.metadata.namespace_ = "default";
  m.data = {{"k", "v"}};
  m.binary_data = {{"b", "foo"}};
  m.immutable = true;
  EXPECT_EQ(
      to_json(encode_config_map(m)),
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"app","namespace":"default"},)"
      R"("immutable":true,"data":{"k":"v"},"binaryData":{"b":"Zm9v"}})");
  ConfigMap empty;
  empty.metadata.name = "e";
  EXPECT_EQ(to_json(encode_config_map(empty)),
            R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"e"}})");
}

TEST(ConfigObjectEncodeTest, SecretDataIsBase64AndThereIsNoStringData) {
  Secret s;
  s.metadata.name = "creds";
  s.type = "Opaque";
  s.data = {{"password", "p\xff"}};
  EXPECT_EQ(to_json(encode_secret(s)),
            R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds"},)"
            R"("data":{"password":"cP8="},"type":"Opaque"})");
}

TEST(ConfigObjectEncodeTest, RoundTripsThroughJsonAndYaml) {
  ConfigMap m;
  m.metadata.name = "app";
  m.metadata.namespace_ = "ns";
  m.metadata.annotations = {{"a", "b"}};
  m.data = {{"app.conf", "x = 1\n"}, {"empty", ""}};
  m.binary_data = {{"bytes", std::string("\x00\x01\xfe", 3)}};
  m.immutable = false;
  Secret s;
  s.metadata.name = "creds";
  s.metadata.namespace_ = "ns";
  s.type = "kubernetes.io/tls";
  s.data = {{"tls.crt", "cert\n"}, {"tls.key", std::string("\x00\xff", 2)}};
  s.immutable = true;
  for (bool json : {true, false}) {
    Node map_node = encode_config_map(m);
    Node secret_node = encode_secret(s);
    DecodedConfigMap dm = decode_map_text(json ? to_json(map_node) : to_yaml(map_node));
    DecodedSecret ds = decode_secret_text(json ? to_json(secret_node) : to_yaml(secret_node));
    EXPECT_THAT(texts(dm.errors), IsEmpty());
    EXPECT_THAT(texts(dm.warnings), IsEmpty());
    EXPECT_EQ(dm.object, m) << json;
    EXPECT_THAT(texts(ds.errors), IsEmpty());
    EXPECT_THAT(texts(ds.warnings), IsEmpty());
    EXPECT_EQ(ds.object, s) << json;
  }
}

// --- defaults ---------------------------------------------------------------

TEST(ConfigObjectDefaultsTest, NamespaceAndSecretType) {
  ConfigMap m;
  apply_defaults(m);
  EXPECT_EQ(m.metadata.namespace_, "default");
  Secret s;
  apply_defaults(s);
  EXPECT_EQ(s.metadata.namespace_, "default");
  EXPECT_EQ(s.type, "Opaque");
  Secret tls;
  tls.metadata.namespace_ = "web";
  tls.type = "kubernetes.io/tls";
  apply_defaults(tls);
  EXPECT_EQ(tls.metadata.namespace_, "web");
  EXPECT_EQ(tls.type, "kubernetes.io/tls");
}

// --- validation -------------------------------------------------------------

ConfigMap valid_map() {
  ConfigMap m;
  m.metadata.name = "app";
  apply_defaults(m);
  return m;
}

Secret valid_secret() {
  Secret s;
  s.metadata.name = "creds";
  apply_defaults(s);
  return s;
}

TEST(ConfigObjectValidationTest, AValidObjectHasNoErrors) {
  ConfigMap m = valid_map();
  m.data = {{"app.conf", "x"}, {"KEY_NAME", ""}, {".hidden", "y"}};
  m.binary_data = {{"b-1", "z"}};
  EXPECT_THAT(texts(validate_config_map(m)), IsEmpty());
  Secret s = valid_secret();
  s.data = {{"password", "p"}};
  EXPECT_THAT(texts(validate_secret(s)), IsEmpty());
}

TEST(ConfigObjectValidationTest, KeysAsTheApiServerWordsThem) {
  ConfigMap m = valid_map();
  m.data = {{"a b", "1"}, {"..", "2"}, {"..x", "3"}};
  m.binary_data = {{"c/d", "4"}};
  EXPECT_THAT(texts(validate_config_map(m)),
              ElementsAre("data[..]: Invalid value: \"..\": must not be '..'",
                          "data[..x]: Invalid value: \"..x\": must not start with '..'",
                          std::string("data[a b]: Invalid value: \"a b\": ") + kKeyMsg,
                          std::string("binaryData[c/d]: Invalid value: \"c/d\": ") + kKeyMsg));
  Secret s = valid_secret();
  s.data = {{".", "x"}};
  EXPECT_THAT(texts(validate_secret(s)),
              ElementsAre("data[.]: Invalid value: \".\": must not be '.'"));
}

TEST(ConfigObjectValidationTest, AKeyInDataAndBinaryData) {
  ConfigMap m = valid_map();
  m.data = {{"k", "1"}};
  m.binary_data = {{"k", "2"}};
  EXPECT_THAT(texts(validate_config_map(m)),
              ElementsAre("data[k]: Invalid value: \"k\": duplicate of key present in binaryData"));
}

TEST(ConfigObjectValidationTest, AtMostOneMebibyteOfValues) {
  ConfigMap m = valid_map();
  m.data = {{"a", std::string(512 * 1024, 'x')}};
  m.binary_data = {{"b", std::string(512 * 1024, 'y')}};
  EXPECT_THAT(texts(validate_config_map(m)), IsEmpty());
  m.binary_data["c"] = "z";
  EXPECT_THAT(texts(validate_config_map(m)),
              ElementsAre("data: Too long: may not be more than 1048576 bytes"));
  Secret s = valid_secret();
  s.data = {{"a", std::string(1024 * 1024 + 1, 'x')}};
  EXPECT_THAT(texts(validate_secret(s)),
              ElementsAre("data: Too long: may not be more than 1048576 bytes"));
}

TEST(ConfigObjectValidationTest, MetadataAsAPodsName) {
  ConfigMap m;
  apply_defaults(m);
  EXPECT_THAT(texts(validate_config_map(m)),
              ElementsAre("metadata.name: Required value: name or generateName is required"));
  Secret s = valid_secret();
  s.metadata.name = "Bad_Name";
  EXPECT_THAT(texts(validate_secret(s)), ElementsAre(HasSubstr("metadata.name: Invalid value: "
                                                               "\"Bad_Name\": a lowercase RFC "
                                                               "1123 subdomain")));
  s = valid_secret();
  s.metadata.namespace_.clear();
  EXPECT_THAT(texts(validate_secret(s)), ElementsAre("metadata.namespace: Required value"));
}

struct TypeCase {
  const char* type;
  std::map<std::string, std::string> data;
  std::vector<std::string> errors;
};

TEST(ConfigObjectValidationTest, BuiltInSecretTypesNeedTheirKeys) {
  const TypeCase cases[] = {
      {"Opaque", {}, {}},
      {"example.com/custom", {}, {}},
      {"kubernetes.io/tls", {}, {"data[tls.crt]: Required value", "data[tls.key]: Required value"}},
      {"kubernetes.io/tls", {{"tls.crt", "c"}, {"tls.key", ""}}, {}},
      {"kubernetes.io/basic-auth",
       {},
       {"data[username]: Required value", "data[password]: Required value"}},
      {"kubernetes.io/basic-auth", {{"password", ""}}, {}},
      {"kubernetes.io/ssh-auth",
       {{"ssh-privatekey", ""}},
       {"data[ssh-privatekey]: Required value"}},
      {"kubernetes.io/ssh-auth", {{"ssh-privatekey", "k"}}, {}},
      {"kubernetes.io/dockerconfigjson", {}, {"data[.dockerconfigjson]: Required value"}},
      {"kubernetes.io/dockerconfigjson", {{".dockerconfigjson", R"({"auths": {}})"}}, {}},
      {"kubernetes.io/dockerconfigjson",
       {{".dockerconfigjson", "hunter2 ["}},
       {"data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": must be a JSON "
        "object"}},
      {"kubernetes.io/dockercfg",
       {{".dockercfg", "[1]"}},
       {"data[.dockercfg]: Invalid value: \"<secret contents redacted>\": must be a JSON object"}},
      {"kubernetes.io/service-account-token",
       {},
       {"metadata.annotations[kubernetes.io/service-account.name]: Required value"}},
  };
  for (const TypeCase& c : cases) {
    Secret s = valid_secret();
    s.type = c.type;
    s.data = c.data;
    EXPECT_EQ(texts(validate_secret(s)), c.errors) << c.type;
  }
}

TEST(ConfigObjectValidationTest, AnImmutableObjectKeepsItsContents) {
  ConfigMap old = valid_map();
  old.data = {{"k", "1"}};
  old.immutable = true;
  ConfigMap same = old;
  same.metadata.labels = {{"a", "b"}};  // metadata may change
  EXPECT_THAT(texts(validate_config_map_update(same, old)), IsEmpty());
  ConfigMap changed = old;
  changed.data["k"] = "2";
  changed.binary_data["b"] = "x";
  changed.immutable.reset();
  EXPECT_THAT(texts(validate_config_map_update(changed, old)),
              ElementsAre("immutable: Forbidden: field is immutable when `immutable` is set",
                          "data: Forbidden: field is immutable when `immutable` is set",
                          "binaryData: Forbidden: field is immutable when `immutable` is set"));
  // A mutable one may change, and become immutable.
  old.immutable = false;
  EXPECT_THAT(texts(validate_config_map_update(changed, old)), IsEmpty());
  changed.immutable = true;
  EXPECT_THAT(texts(validate_config_map_update(changed, old)), IsEmpty());
}

TEST(ConfigObjectValidationTest, ASecretsTypeNeverChangesAndImmutableHolds) {
  Secret old = valid_secret();
  old.data = {{"k", "hunter2"}};
  Secret now = old;
  now.type = "example.com/other";
  EXPECT_THAT(texts(validate_secret_update(now, old)),
              ElementsAre("type: Invalid value: \"example.com/other\": field is immutable"));
  old.immutable = true;
  now = old;
  now.data["k"] = "hunter3";
  FieldErrors errors = validate_secret_update(now, old);
  EXPECT_THAT(texts(errors),
              ElementsAre("data: Forbidden: field is immutable when `immutable` is set"));
  EXPECT_THAT(all_texts(errors, {}), Not(HasSubstr("hunter")));
  // The rules of a new object apply too.
  now = old;
  now.data["bad key"] = "x";
  old.immutable = false;
  EXPECT_THAT(texts(validate_secret_update(now, old)), ElementsAre(HasSubstr("data[bad key]")));
}

// --- manifests: decode_pods -------------------------------------------------

TEST(ManifestObjectsTest, DocumentsOfEveryKindInTextOrder) {
  DecodeResult r = decode_pods(
      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n---\n"
      "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n---\n"
      "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {p: q}\n---\n"
      "apiVersion: v1\nkind: List\nitems:\n"
      "- {apiVersion: v1, kind: Secret, metadata: {name: s2}, data: {x: eA==}}\n"
      "- {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg2}, extra: 1}\n"
      "- {apiVersion: v1, kind: Pod, metadata: {name: web2}}\n");
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.pods.size(), 2u);
  ASSERT_EQ(r.config_maps.size(), 2u);
  ASSERT_EQ(r.secrets.size(), 2u);
  EXPECT_EQ(r.config_maps[0].where, "document 1");
  EXPECT_EQ(r.config_maps[0].object.metadata.name, "cfg");
  EXPECT_THAT(r.config_maps[0].object.data, ElementsAre(Pair("a", "b")));
  EXPECT_EQ(r.secrets[0].where, "document 3");
  EXPECT_THAT(r.secrets[0].object.data, ElementsAre(Pair("p", "q")));
  EXPECT_EQ(r.secrets[1].where, "document 4, items[0]");
  EXPECT_THAT(r.secrets[1].object.data, ElementsAre(Pair("x", "x")));
  EXPECT_EQ(r.config_maps[1].where, "document 4, items[1]");
  EXPECT_THAT(texts(r.config_maps[1].warnings), ElementsAre("unknown field \"extra\""));
  EXPECT_EQ(r.pods[0].pod.metadata.name, "web");
  EXPECT_EQ(r.pods[1].where, "document 4, items[2]");
}

TEST(ManifestObjectsTest, AnObjectsErrorsMakeTheResultNotOk) {
  DecodeResult r =
      decode_pods("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbinaryData: {a: '!'}\n");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.config_maps.size(), 1u);
  EXPECT_THAT(texts(r.config_maps[0].errors), ElementsAre(HasSubstr("binaryData[a]")));

  r = decode_pods("apiVersion: v2\nkind: Secret\nmetadata: {name: s}\n");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.secrets.size(), 1u);
  EXPECT_THAT(texts(r.secrets[0].errors),
              ElementsAre("apiVersion: Unsupported value: \"v2\": supported values: \"v1\""));

  r = decode_pods("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v9, kind: ConfigMap}\n");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.config_maps.size(), 1u);
  EXPECT_THAT(
      texts(r.config_maps[0].errors),
      ElementsAre("items[0].apiVersion: Unsupported value: \"v9\": supported values: \"v1\""));
}

TEST(ManifestObjectsTest, AListsWarningsGoToItsFirstObjectWhenItHasNoPod) {
  DecodeResult r = decode_pods(
      "apiVersion: v1\nkind: List\nextra: 1\n"
      "items: [{apiVersion: v1, kind: Secret, metadata: {name: s}}]\n");
  EXPECT_TRUE(r.ok());
  EXPECT_THAT(r.pods, IsEmpty());
  ASSERT_EQ(r.secrets.size(), 1u);
  EXPECT_THAT(texts(r.secrets[0].warnings), ElementsAre("unknown field \"extra\""));
}

}  // namespace
}  // namespace podagent::model
