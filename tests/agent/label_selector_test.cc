#include "agent/label_selector.h"

#include <gtest/gtest.h>

namespace podagent::agent {
namespace {

using Labels = std::map<std::string, std::string>;

struct MatchCase {
  const char* selector;
  Labels labels;
  bool matches;
};

class LabelSelectorMatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(LabelSelectorMatchTest, Matches) {
  const auto& c = GetParam();
  auto s = LabelSelector::parse(c.selector);
  ASSERT_TRUE(s.ok()) << c.selector << ": " << s.error().message;
  EXPECT_EQ(s->matches(c.labels), c.matches) << c.selector;
}

INSTANTIATE_TEST_SUITE_P(
    LabelSelector, LabelSelectorMatchTest,
    testing::Values(
        MatchCase{"", {}, true}, MatchCase{"   ", {{"a", "b"}}, true},
        MatchCase{"a=b", {{"a", "b"}}, true}, MatchCase{"a=b", {{"a", "c"}}, false},
        MatchCase{"a=b", {}, false}, MatchCase{"a==b", {{"a", "b"}}, true},
        MatchCase{"a!=b", {{"a", "c"}}, true}, MatchCase{"a!=b", {}, true},
        MatchCase{"a!=b", {{"a", "b"}}, false}, MatchCase{"a in (x,y)", {{"a", "y"}}, true},
        MatchCase{"a in (x, y)", {{"a", "z"}}, false}, MatchCase{"a in (x)", {}, false},
        MatchCase{"a notin (x,y)", {{"a", "z"}}, true}, MatchCase{"a notin (x)", {}, true},
        MatchCase{"a notin (x)", {{"a", "x"}}, false}, MatchCase{"a", {{"a", ""}}, true},
        MatchCase{"a", {}, false}, MatchCase{"!a", {}, true}, MatchCase{"!a", {{"a", "1"}}, false},
        MatchCase{"a=", {{"a", ""}}, true}, MatchCase{"a=", {{"a", "x"}}, false},
        MatchCase{"n>5", {{"n", "6"}}, true}, MatchCase{"n>5", {{"n", "5"}}, false},
        MatchCase{"n<5", {{"n", "x"}}, false}, MatchCase{"n<5", {{"n", "-1"}}, true},
        MatchCase{"app.kubernetes.io/name=web", {{"app.kubernetes.io/name", "web"}}, true},
        MatchCase{"a=b,c!=d,e in (x,y),f notin (z),g,!h",
                  {{"a", "b"}, {"c", "x"}, {"e", "y"}, {"f", "q"}, {"g", "1"}},
                  true},
        MatchCase{"a=b,c!=d,e in (x,y),f notin (z),g,!h",
                  {{"a", "b"}, {"c", "x"}, {"e", "y"}, {"f", "q"}, {"g", "1"}, {"h", "1"}},
                  false}));

TEST(LabelSelectorParseTest, RequirementsAreParsedAndSortedByKey) {
  auto s = LabelSelector::parse("z in (b,a,b), a!=x, !m");
  ASSERT_TRUE(s.ok()) << s.error().message;
  using Op = LabelSelector::Op;
  ASSERT_EQ(s->requirements().size(), 3u);
  EXPECT_EQ(s->requirements()[0], (LabelSelector::Requirement{"a", Op::NotEquals, {"x"}}));
  EXPECT_EQ(s->requirements()[1], (LabelSelector::Requirement{"m", Op::DoesNotExist, {}}));
  EXPECT_EQ(s->requirements()[2], (LabelSelector::Requirement{"z", Op::In, {"a", "b"}}));
}

class LabelSelectorErrorTest : public testing::TestWithParam<const char*> {};

TEST_P(LabelSelectorErrorTest, IsRefused) {
  auto s = LabelSelector::parse(GetParam());
  ASSERT_FALSE(s.ok()) << GetParam();
  EXPECT_TRUE(s.error().message.starts_with("unable to parse requirement: ")) << s.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    LabelSelector, LabelSelectorErrorTest,
    testing::Values("a=b,", ",a", "a in ()", "a in (x", "a in x", "=b", "a b", "!a=b", "a=(b)",
                    "n>x", "bad key!=x", "-a=b", "a=b c", "a=-x", "Example.com/a=b", "in=x",
                    "a=notin",
                    "a=value-longer-than-sixty-three-characters-value-longer-than-sixty-three"));

TEST(LabelSelectorParseTest, ErrorNamesWhatWasFound) {
  auto s = LabelSelector::parse("a b");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "unable to parse requirement: found 'b', expected: '=', '!=', '==', 'in', 'notin'");
}

model::Pod pod(std::string name, std::string ns, std::string phase) {
  model::Pod p;
  p.metadata.name = std::move(name);
  p.metadata.namespace_ = std::move(ns);
  p.status.phase = std::move(phase);
  p.spec.node_name = "node-1";
  return p;
}

TEST(FieldSelectorTest, MatchesPodFields) {
  const model::Pod web = pod("web", "default", "Running");
  struct Case {
    const char* selector;
    bool matches;
  } cases[] = {
      {"", true},
      {"metadata.name=web", true},
      {"metadata.name==web", true},
      {"metadata.name!=web", false},
      {"metadata.name=db", false},
      {"metadata.namespace=default,status.phase=Running", true},
      {"metadata.namespace=default,status.phase!=Running", false},
      {"spec.nodeName=node-1", true},
      {"status.phase=", false},
      {"spec.hostNetwork=false", true},
  };
  for (const auto& c : cases) {
    auto s = FieldSelector::parse(c.selector);
    ASSERT_TRUE(s.ok()) << c.selector << ": " << s.error().message;
    EXPECT_EQ(s->matches(web), c.matches) << c.selector;
  }
}

TEST(FieldSelectorTest, EscapedValues) {
  auto s = FieldSelector::parse(R"(metadata.name=a\,b\=c\\d)");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->terms().size(), 1u);
  EXPECT_EQ(s->terms()[0], (FieldSelector::Term{"metadata.name", true, R"(a,b=c\d)"}));
}

TEST(FieldSelectorTest, RefusesUnknownFieldsAndMalformedTerms) {
  auto unknown = FieldSelector::parse("spec.containers=x");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "field label not supported: spec.containers");
  auto no_operator = FieldSelector::parse("metadata.name");
  ASSERT_FALSE(no_operator.ok());
  EXPECT_EQ(no_operator.error().message,
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  EXPECT_FALSE(FieldSelector::parse(R"(metadata.name=a\x)").ok());
  EXPECT_FALSE(FieldSelector::parse("metadata.name=a,").ok());
}

}  // namespace
}  // namespace podagent::agent
