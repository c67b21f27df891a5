#include "model/document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace podagent::model {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The single document of `text`, which must parse.
Node parse_one(const std::string& text, const DocumentLimits& limits = {}) {
  base::Result<std::vector<Node>> docs = parse_documents(text, limits);
  EXPECT_TRUE(docs.ok()) << text << "\n-> " << (docs.ok() ? "" : docs.error().message);
  if (!docs.ok()) return {};
  EXPECT_EQ(docs->size(), 1u) << text;
  return docs->empty() ? Node{} : docs->front();
}

std::string parse_error(const std::string& text, const DocumentLimits& limits = {}) {
  base::Result<std::vector<Node>> docs = parse_documents(text, limits);
  EXPECT_FALSE(docs.ok()) << text;
  return docs.ok() ? std::string() : docs.error().message;
}

// The tree without source lines, for comparing with trees built in code.
Node strip_lines(Node n) {
  n.line = 0;
  for (auto& item : n.items) item = strip_lines(std::move(item));
  for (auto& [key, value] : n.entries) value = strip_lines(std::move(value));
  return n;
}

// ---------------------------------------------------------------------------
// Scalar resolution

struct Scalar {
  const char* yaml;  // the value after "v: "
  Node::Kind kind;
  const char* text;
};

class ScalarTest : public ::testing::TestWithParam<Scalar> {};

TEST_P(ScalarTest, ResolvesWithTheCoreSchema) {
  const Scalar& c = GetParam();
  Node doc = parse_one(std::string("v: ") + c.yaml + "\n");
  const Node* v = doc.find("v");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->kind, c.kind) << c.yaml;
  EXPECT_EQ(v->text, c.text) << c.yaml;
}

using K = Node::Kind;
INSTANTIATE_TEST_SUITE_P(
    Table, ScalarTest,
    ::testing::Values(
        Scalar{"", K::Null, ""}, Scalar{"null", K::Null, ""}, Scalar{"Null", K::Null, ""},
        Scalar{"NULL", K::Null, ""}, Scalar{"~", K::Null, ""}, Scalar{"true", K::Bool, "true"},
        Scalar{"True", K::Bool, "True"}, Scalar{"TRUE", K::Bool, "TRUE"},
        Scalar{"false", K::Bool, "false"}, Scalar{"False", K::Bool, "False"},
        Scalar{"FALSE", K::Bool, "FALSE"}, Scalar{"123", K::Int, "123"}, Scalar{"-5", K::Int, "-5"},
        Scalar{"+7", K::Int, "+7"}, Scalar{"0", K::Int, "0"}, Scalar{"0o17", K::Int, "0o17"},
        Scalar{"0x1F", K::Int, "0x1F"}, Scalar{"1.5", K::Float, "1.5"},
        Scalar{".5", K::Float, ".5"}, Scalar{"5.", K::Float, "5."}, Scalar{"1e3", K::Float, "1e3"},
        Scalar{"-1.5E-2", K::Float, "-1.5E-2"}, Scalar{".inf", K::Float, ".inf"},
        Scalar{"-.Inf", K::Float, "-.Inf"}, Scalar{".nan", K::Float, ".nan"},
        // YAML 1.1 words are plain strings under the 1.2 core schema.
        Scalar{"yes", K::String, "yes"}, Scalar{"off", K::String, "off"},
        Scalar{"tRUE", K::String, "tRUE"}, Scalar{"nULL", K::String, "nULL"},
        Scalar{"0x", K::String, "0x"}, Scalar{"0o8", K::String, "0o8"},
        Scalar{"1.2.3", K::String, "1.2.3"}, Scalar{"1e", K::String, "1e"},
        Scalar{"1Gi", K::String, "1Gi"}, Scalar{"100m", K::String, "100m"},
        Scalar{"hello world", K::String, "hello world"}, Scalar{".", K::String, "."},
        Scalar{"+", K::String, "+"}, Scalar{"-x", K::String, "-x"},
        // Quoted and block scalars are always strings.
        Scalar{"\"123\"", K::String, "123"}, Scalar{"'true'", K::String, "true"},
        Scalar{"\"null\"", K::String, "null"}, Scalar{"''", K::String, ""},
        Scalar{"\"a\\tb\"", K::String, "a\tb"}, Scalar{"'it''s'", K::String, "it's"},
        Scalar{"|\n  line1\n  line2\n", K::String, "line1\nline2\n"},
        Scalar{">-\n  folded\n  text\n", K::String, "folded text"},
        // Explicit tags.
        Scalar{"!!str 123", K::String, "123"}, Scalar{"!!int 42", K::Int, "42"},
        Scalar{"!custom 5", K::String, "5"}));

TEST(DocumentTest, KeepsSourceLines) {
  Node doc = parse_one("# comment\na: 1\nb:\n  - x\n  - y: 2\n");
  EXPECT_EQ(doc.line, 2);
  EXPECT_EQ(doc.find("a")->line, 2);
  const Node* b = doc.find("b");
  ASSERT_TRUE(b->is_sequence());
  EXPECT_EQ(b->line, 4);
  EXPECT_EQ(b->items[0].line, 4);
  EXPECT_EQ(b->items[1].find("y")->line, 5);
}

TEST(DocumentTest, KeepsMapOrderAndNonStringKeysAsText) {
  Node doc = parse_one("z: 1\na: 2\n1: int\ntrue: bool\n~: null\n1.5: float\n");
  std::vector<std::string> keys;
  for (const auto& [k, v] : doc.entries) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "a", "1", "true", "null", "1.5"}));
}

TEST(DocumentTest, DuplicateKeysAreRefusedWithTheirLine) {
  EXPECT_EQ(parse_error("a: 1\nb: 2\na: 3\n"), "line 3, column 1: duplicate map key \"a\"");
  EXPECT_THAT(parse_error("{\"a\": 1, \"a\": 2}"), HasSubstr("duplicate map key \"a\""));
  // "1" and 1 are the same key once keys are text.
  EXPECT_THAT(parse_error("1: a\n\"1\": b\n"), HasSubstr("duplicate map key \"1\""));
  EXPECT_EQ(parse_error("\"a\\tb\": 1\n\"a\\tb\": 2\n"),
            "line 2, column 1: duplicate map key \"a\\tb\"");
  std::string long_key(100, 'k');
  EXPECT_EQ(parse_error(long_key + ": 1\n" + long_key + ": 2\n"),
            "line 2, column 1: duplicate map key \"" + std::string(64, 'k') + "\"...");
}

TEST(DocumentTest, CollectionKeysAreRefused) {
  EXPECT_THAT(parse_error("? [a, b]\n: c\n"), HasSubstr("a map key must be a scalar"));
  EXPECT_THAT(parse_error("{[a]: b}"), HasSubstr("a map key must be a scalar"));
  EXPECT_THAT(parse_error("a: &x [1]\n*x : 2\n"), HasSubstr("a map key must be a scalar"));
}

// ---------------------------------------------------------------------------
// Documents, JSON

TEST(DocumentTest, MultipleDocumentsAndEmptyOnesSkipped) {
  auto docs = parse_documents("---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n...\n--- null\n");
  ASSERT_TRUE(docs.ok()) << docs.error().message;
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].find("a")->text, "1");
  EXPECT_EQ((*docs)[1].find("b")->text, "2");
  EXPECT_EQ((*docs)[1].line, 7);
}

TEST(DocumentTest, EmptyTextHasNoDocuments) {
  for (const char* text : {"", "\n\n", "# nothing\n", "---\n"}) {
    auto docs = parse_documents(text);
    ASSERT_TRUE(docs.ok()) << text;
    EXPECT_TRUE(docs->empty()) << text;
  }
}

TEST(DocumentTest, ScalarAndSequenceDocuments) {
  auto docs = parse_documents("--- hello\n--- [1, \"2\"]\n");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].kind, K::String);
  EXPECT_EQ((*docs)[0].text, "hello");
  ASSERT_EQ((*docs)[1].items.size(), 2u);
  EXPECT_EQ((*docs)[1].items[0].kind, K::Int);
  EXPECT_EQ((*docs)[1].items[1].kind, K::String);
}

TEST(DocumentTest, ReadsJson) {
  Node doc = parse_one(R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "web", "labels": {}},
  "spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80}],
           "tty": true, "cpu": 1.5, "args": [], "x": null, "s": "line\nnext \u00e9"}]}
})");
  EXPECT_EQ(doc.find("kind")->kind, K::String);
  EXPECT_EQ(doc.find("metadata")->find("labels")->kind, K::Map);
  EXPECT_TRUE(doc.find("metadata")->find("labels")->entries.empty());
  const Node& c = doc.find("spec")->find("containers")->items.at(0);
  EXPECT_EQ(c.line, 4);
  EXPECT_EQ(c.find("ports")->items.at(0).find("containerPort")->kind, K::Int);
  EXPECT_EQ(c.find("tty")->kind, K::Bool);
  EXPECT_EQ(c.find("cpu")->kind, K::Float);
  EXPECT_EQ(c.find("args")->kind, K::Sequence);
  EXPECT_EQ(c.find("x")->kind, K::Null);
  EXPECT_EQ(c.find("s")->text, "line\nnext \xc3\xa9");
}

TEST(DocumentTest, AnchorsAndAliasesAreExpanded) {
  Node doc = parse_one("base: &b {image: busybox, args: [sh]}\ncopy: *b\nname: &n web\nsame: *n\n");
  EXPECT_EQ(strip_lines(*doc.find("copy")), strip_lines(*doc.find("base")));
  EXPECT_EQ(doc.find("copy")->line, 2);
  EXPECT_EQ(doc.find("same")->text, "web");
}

TEST(DocumentTest, AnchorsDoNotCrossDocuments) {
  EXPECT_THAT(parse_error("a: &x 1\n---\nb: *x\n"), HasSubstr("line 3"));
}

TEST(DocumentTest, AliasInsideItsOwnAnchorIsRefused) {
  EXPECT_THAT(parse_error("a: &x [1, *x]\n"), HasSubstr("alias refers to a node that contains it"));
}

// ---------------------------------------------------------------------------
// Syntax errors

TEST(DocumentTest, SyntaxErrorsNameLineAndColumn) {
  EXPECT_THAT(parse_error("a: 1\nb: [1, 2\nc: 3\n"), StartsWith("line "));
  EXPECT_EQ(parse_error("a: 1\nb: c: d\n"), "line 2, column 5: illegal map value");
  EXPECT_EQ(parse_error("a: 1\n b: 2\n"), "line 2, column 3: illegal map value");
  EXPECT_EQ(parse_error("a: [1, 2\n"), "line 2, column 1: end of sequence flow not found");
  EXPECT_EQ(parse_error("a: b\n- c\n"), "line 2, column 1: end of map not found");
  EXPECT_EQ(parse_error("[1, 2]]"), "line 1, column 7: illegal flow end");
  EXPECT_EQ(parse_error("\"abc"), "line 1, column 5: illegal EOF in scalar");
  EXPECT_THAT(parse_error("a: *nothing\n"), HasSubstr("the referenced anchor is not defined"));
  EXPECT_THAT(parse_error("key:\n\t- tab\n"), StartsWith("line 2"));
}

TEST(DocumentTest, InvalidUtf8IsRefused) {
  EXPECT_EQ(parse_error("a: ok\nb: x\xff\n"), "line 2, column 4: invalid UTF-8");
  EXPECT_EQ(parse_error("a: ok\n\xc3: b\n"), "line 2, column 1: invalid UTF-8");
  EXPECT_EQ(parse_error("[\"\xed\xa0\x80\"]"), "line 1, column 2: invalid UTF-8");  // a surrogate
  // Escapes name code points, which are written as UTF-8.
  EXPECT_EQ(parse_one("a: \"\\xff \\u00e9\"\n").find("a")->text, "\xc3\xbf \xc3\xa9");
  EXPECT_EQ(parse_one("a: caf\xc3\xa9\n").find("a")->text, "caf\xc3\xa9");
}

// ---------------------------------------------------------------------------
// Limits

TEST(DocumentLimitsTest, TooManyBytes) {
  DocumentLimits limits;
  limits.max_bytes = 10;
  EXPECT_TRUE(parse_documents("a: 123456", limits).ok());  // 9 bytes
  EXPECT_EQ(parse_error("a: 12345678", limits),
            "document of 11 bytes is larger than the limit of 10");
}

TEST(DocumentLimitsTest, DepthAtTheLimitIsAccepted) {
  DocumentLimits limits;
  limits.max_depth = 3;
  parse_one("[[[1]]]", limits);
  parse_one("a:\n  b:\n    c: 1\n", limits);
  parse_one("- - - x\n", limits);
  EXPECT_THAT(parse_error("[[[[1]]]]", limits), HasSubstr("nesting deeper than 3 levels"));
  EXPECT_THAT(parse_error("a:\n  b:\n    c:\n      d: 1\n", limits),
              HasSubstr("nesting deeper than 3 levels"));
  EXPECT_THAT(parse_error("- - - - x\n", limits), HasSubstr("nesting deeper than 3 levels"));
}

TEST(DocumentLimitsTest, DeepFlowNestingIsRefusedNotOverflowed) {
  EXPECT_EQ(parse_error(std::string(100000, '[')),
            "line 1, column 65: nesting deeper than 64 levels");
  EXPECT_THAT(parse_error(std::string(100000, '{')), HasSubstr("nesting deeper than 64 levels"));
  std::string mixed;
  for (int i = 0; i < 50000; ++i) mixed += "{a: [";
  EXPECT_THAT(parse_error(mixed), HasSubstr("nesting deeper than 64 levels"));
}

TEST(DocumentLimitsTest, DeepBlockNestingIsRefusedNotOverflowed) {
  std::string maps, seqs;
  for (int i = 0; i < 1000; ++i) maps += std::string(static_cast<size_t>(i), ' ') + "a:\n";
  for (int i = 0; i < 100000; ++i) seqs += "- ";
  seqs += "x\n";
  EXPECT_EQ(parse_error(maps), "line 65, column 66: nesting deeper than 64 levels");
  EXPECT_THAT(parse_error(seqs), HasSubstr("nesting deeper than 64 levels"));
}

TEST(DocumentLimitsTest, DepthIsCheckedWhileBuildingToo) {
  // A map holding a sequence at the same indentation: the quick scan sees one
  // level per line, the tree has two.
  DocumentLimits limits;
  limits.max_depth = 4;
  parse_one("a:\n- b:\n  - c\n", limits);
  EXPECT_THAT(parse_error("a:\n- b:\n  - c:\n    - d\n", limits),
              HasSubstr("nesting deeper than 4 levels"));
  // And through an alias that brings its own depth.
  EXPECT_THAT(parse_error("x: &d [[1]]\ny: [[*d]]\n", limits),
              HasSubstr("line 2, column 6: nesting deeper than 4 levels"));
}

TEST(DocumentLimitsTest, BracketsInsideScalarsAreNotNesting) {
  DocumentLimits limits;
  limits.max_depth = 2;
  Node doc = parse_one(
      "a: \"[[[[[\"\nb: '{{{{{'\nc: x[[[[[ # [[[[\nd: |\n  [[[[[[\n  {{{{{\n"
      "e: [\"[[[[\", '{{{{', \"\\\"[[[\"]\n",
      limits);
  EXPECT_EQ(doc.find("c")->text, "x[[[[[");
  EXPECT_EQ(doc.find("e")->items.size(), 3u);
}

TEST(DocumentLimitsTest, TooManyNodes) {
  DocumentLimits limits;
  limits.max_nodes = 10;
  parse_one("[1, 2, 3, 4, 5, 6, 7, 8, 9]", limits);  // 10 nodes
  EXPECT_EQ(parse_error("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", limits),
            "line 1, column 29: more than 10 nodes");
  // Counted over all documents.
  EXPECT_THAT(parse_error("[1, 2, 3, 4, 5]\n---\n[1, 2, 3, 4, 5]\n", limits),
              HasSubstr("more than 10 nodes"));
}

TEST(DocumentLimitsTest, AliasBombIsRefusedBeforeExpansion) {
  std::string bomb =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'z'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  EXPECT_THAT(parse_error(bomb), HasSubstr("more than 200000 nodes"));
}

TEST(DocumentLimitsTest, AliasesCountTheirExpandedSize) {
  DocumentLimits limits;
  limits.max_nodes = 20;
  // 1 + (1 + 4) + 3 aliases of 5 nodes = 21.
  EXPECT_THAT(parse_error("- &x [1, 2, 3, 4]\n- *x\n- *x\n- *x\n", limits),
              HasSubstr("line 4, column 3: more than 20 nodes"));
  parse_one("- &x [1, 2, 3, 4]\n- *x\n- *x\n", limits);
}

TEST(DocumentLimitsTest, TooManyDocuments) {
  DocumentLimits limits;
  limits.max_documents = 2;
  EXPECT_TRUE(parse_documents("a: 1\n---\nb: 2\n", limits).ok());
  EXPECT_THAT(parse_error("a: 1\n---\nb: 2\n---\nc: 3\n", limits),
              HasSubstr("more than 2 documents"));
  // Empty documents count too: they cost work all the same.
  EXPECT_THAT(parse_error(std::string(10, '-') + "\n---\n---\n---\n", limits),
              HasSubstr("more than 2 documents"));
}

// ---------------------------------------------------------------------------
// Writing

Node sample_tree() {
  Node root = Node::map();
  root.set("apiVersion", Node::string("v1"));
  Node& meta = root.set("metadata", Node::map());
  meta.set("name", Node::string("web"));
  meta.set("labels", Node::map());
  Node& spec = root.set("spec", Node::map());
  Node& containers = spec.set("containers", Node::sequence());
  Node& c = containers.push(Node::map());
  c.set("name", Node::string("app"));
  Node& args = c.set("args", Node::sequence());
  for (const char* s : {"true",       "123",
                        "",           "null",
                        "~",          "a: b",
                        "- x",        "#c",
                        "x #c",       " lead",
                        "trail ",     "multi\nline",
                        "tab\there",  "caf\xc3\xa9",
                        "1.5",        "0x10",
                        "0o7",        "yes",
                        "No",         "[x]",
                        "{y}",        "*z",
                        "&w",         "!t",
                        "%p",         "@q",
                        "`r",         "'s",
                        "\"t",        "1e3",
                        ".inf",       ".5",
                        "...",        "---",
                        "key:",       "1:30",
                        "<<",         "a'b",
                        "plain text", "ctl\x01",
                        "q\"uote\\",  "-",
                        "?",          ":",
                        "C:\\dir",    "http://x:80/y",
                        "-1"})
    args.push(Node::string(s));
  c.set("empty", Node::sequence());
  c.set("port", Node::integer(-80));
  Node f;
  f.kind = Node::Kind::Float;
  f.text = "0.25";
  c.set("ratio", f);
  c.set("tty", Node::boolean(false));
  c.set("nothing", Node::null());
  Node& nested = c.set("matrix", Node::sequence());
  Node& row = nested.push(Node::sequence());
  row.push(Node::integer(1));
  row.push(Node::sequence());
  nested.push(Node::map());
  Node& deep = nested.push(Node::map());
  deep.set("k", Node::sequence()).push(Node::map()).set("x", Node::string("y"));
  root.set("", Node::string("empty key"));
  root.set("odd: key", Node::string("v"));
  root.set("123", Node::string("numeric key"));

  return root;
}

TEST(WriterTest, CompactJson) {
  Node root = Node::map();
  root.set("s", Node::string("a\"b\\c\n\t\x01\x1f\x7f caf\xc3\xa9 \xff"));
  root.set("i", Node::integer(42));
  root.set("b", Node::boolean(true));
  root.set("n", Node::null());
  root.set("m", Node::map());
  root.set("q", Node::sequence()).push(Node::integer(1));
  EXPECT_EQ(to_json(root),
            "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\\u001f\x7f caf\xc3\xa9 \\ufffd\",\"i\":42,"
            "\"b\":true,\"n\":null,\"m\":{},\"q\":[1]}");
}

TEST(WriterTest, PrettyJsonIndentsByTwo) {
  Node root = Node::map();
  root.set("a", Node::sequence()).push(Node::integer(1));
  root.set("b", Node::map()).set("c", Node::string("d"));
  root.set("e", Node::sequence());
  EXPECT_EQ(to_json(root, true),
            "{\n  \"a\": [\n    1\n  ],\n  \"b\": {\n    \"c\": \"d\"\n  },\n  \"e\": []\n}");
  EXPECT_EQ(to_json(Node::string("x"), true), "\"x\"");
}

TEST(WriterTest, JsonWritesYamlNumbersAsJsonNumbers) {
  Node doc = parse_one(
      "a: +1\nb: 0x1F\nc: .5\nd: .inf\ne: 007\nf: 0o17\ng: -1.5E+3\nh: 5.\n"
      "i: True\nj: -0\nk: 0xFFFFFFFFFFFFFFFFFF\n");
  EXPECT_EQ(to_json(doc),
            "{\"a\":1,\"b\":31,\"c\":0.5,\"d\":\".inf\",\"e\":7,\"f\":15,\"g\":-1.5E+3,"
            "\"h\":5,\"i\":true,\"j\":-0,\"k\":\"0xFFFFFFFFFFFFFFFFFF\"}");
}

TEST(WriterTest, BlockYaml) {
  Node root = Node::map();
  root.set("name", Node::string("web"));
  Node& list = root.set("list", Node::sequence());
  Node& item = list.push(Node::map());
  item.set("a", Node::integer(1));
  item.set("b", Node::sequence()).push(Node::string("x"));
  Node& inner = list.push(Node::sequence());
  inner.push(Node::string("p"));
  inner.push(Node::string("q"));
  list.push(Node::string("true"));
  root.set("empty", Node::map());
  root.set("none", Node::sequence());
  root.set("n", Node::null());
  EXPECT_EQ(to_yaml(root),
            "name: web\n"
            "list:\n"
            "  - a: 1\n"
            "    b:\n"
            "      - x\n"
            "  - - p\n"
            "    - q\n"
            "  - \"true\"\n"
            "empty: {}\n"
            "none: []\n"
            "\"n\": null\n");  // YAML 1.1 readers take a plain n for false
  EXPECT_EQ(to_yaml(Node::map()), "{}\n");
  EXPECT_EQ(to_yaml(Node::sequence()), "[]\n");
  EXPECT_EQ(to_yaml(Node::string("hello")), "hello\n");
  EXPECT_EQ(to_yaml(Node::string("123")), "\"123\"\n");
}

TEST(WriterTest, YamlQuotesWhatWouldReadAsAnotherType) {
  for (const char* s : {"true", "False", "123", "-1", "1.5", "1e3", ".inf", "0x1F", "", "null", "~",
                        "yes", "no", "on", "1:30"}) {
    std::string yaml = to_yaml(Node::string(s));
    EXPECT_EQ(yaml.front(), '"') << s;
  }
  for (const char* s : {"web", "1Gi", "100m", "busybox:1.36", "a-b", "http://x/y", "it's"}) {
    std::string yaml = to_yaml(Node::string(s));
    EXPECT_EQ(yaml, std::string(s) + "\n") << s;
  }
}

TEST(WriterTest, RoundTripsThroughYamlAndJson) {
  Node tree = sample_tree();
  std::string yaml = to_yaml(tree);
  EXPECT_EQ(strip_lines(parse_one(yaml)), tree) << yaml;
  std::string json = to_json(tree);
  EXPECT_EQ(strip_lines(parse_one(json)), tree) << json;
  std::string pretty = to_json(tree, true);
  EXPECT_EQ(strip_lines(parse_one(pretty)), tree) << pretty;
}

TEST(WriterTest, LongKeysAreWrittenAsExplicitKeys) {
  // YAML limits implicit keys to 1024 characters.
  Node tree = Node::map();
  tree.set(std::string(2000, 'k'), Node::string("long key"));
  tree.set(std::string(1500, 'm'), Node::map())
      .set(std::string(1100, 'n'), Node::sequence())
      .push(Node::null());
  tree.set("list", Node::sequence())
      .push(Node::map())
      .set(std::string(1200, 'l'), Node::string("first long key in a list item"));
  std::string yaml = to_yaml(tree);
  EXPECT_THAT(yaml, StartsWith("? kkkk"));
  EXPECT_EQ(strip_lines(parse_one(yaml)), tree) << yaml;
}

TEST(WriterTest, JsonKeysBeyondYamlsImplicitKeyLimitCannotBeRead) {
  // A limitation of reading JSON through yaml-cpp, kept visible here.
  Node tree = Node::map();
  tree.set(std::string(1100, 'k'), Node::integer(1));
  EXPECT_FALSE(parse_documents(to_json(tree)).ok());
}

TEST(WriterTest, ParsedManifestRoundTrips) {
  const std::string manifest =
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n"
      "    note: \"true\"\n    script: |\n      echo hi\n      exit 0\n"
      "spec:\n  containers:\n  - name: app\n    image: busybox:1.36\n"
      "    command: [sh, -c, 'sleep 1']\n    ports:\n    - containerPort: 80\n"
      "      protocol: TCP\n    resources:\n      limits: {cpu: 500m, memory: 1Gi}\n"
      "  restartPolicy: Always\n  terminationGracePeriodSeconds: 30\n";
  Node doc = strip_lines(parse_one(manifest));
  EXPECT_EQ(strip_lines(parse_one(to_yaml(doc))), doc) << to_yaml(doc);
  EXPECT_EQ(strip_lines(parse_one(to_json(doc))), doc) << to_json(doc);
}

}  // namespace
}  // namespace podagent::model
