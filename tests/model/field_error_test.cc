#include "model/field_error.h"

#include <gtest/gtest.h>

#include <string>

namespace podagent::model {
namespace {

TEST(FieldErrorTest, FormatsEveryTypeAsKubernetes) {
  EXPECT_EQ(FieldError::required("spec.initContainers[0].image").to_string(),
            "spec.initContainers[0].image: Required value");
  EXPECT_EQ(FieldError::required("spec.containers", "must have at least one container").to_string(),
            "spec.containers: Required value: must have at least one container");
  EXPECT_EQ(FieldError::not_supported("spec.restartPolicy", quote("Sometimes"),
                                      {"Always", "Never", "OnFailure"})
                .to_string(),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: "
            "\"Always\", \"Never\", \"OnFailure\"");
  EXPECT_EQ(FieldError::invalid("metadata.name", quote("Foo_bar"),
                                "a lowercase RFC 1123 subdomain must consist of ...")
                .to_string(),
            "metadata.name: Invalid value: \"Foo_bar\": a lowercase RFC 1123 subdomain must "
            "consist of ...");
  EXPECT_EQ(FieldError::duplicate("spec.containers[1].name", quote("app")).to_string(),
            "spec.containers[1].name: Duplicate value: \"app\"");
  EXPECT_EQ(
      FieldError::not_found("spec.containers[0].volumeMounts[0].name", quote("data")).to_string(),
      "spec.containers[0].volumeMounts[0].name: Not found: \"data\"");
  EXPECT_EQ(FieldError::forbidden("spec.x", "detail").to_string(), "spec.x: Forbidden: detail");
  EXPECT_EQ(FieldError::type_invalid("spec.foo", quote("abc"), "expected integer").to_string(),
            "spec.foo: Invalid value: \"abc\": expected integer");
}

TEST(FieldErrorTest, TooLongOmitsTheValueAndCountsBytes) {
  FieldError e = FieldError::too_long("metadata.labels", quote(std::string(70, 'a')), 63);
  EXPECT_EQ(e.to_string(), "metadata.labels: Too long: may not be more than 63 bytes");
  EXPECT_EQ(FieldError::too_long("x", quote("ab"), 1).to_string(),
            "x: Too long: may not be more than 1 byte");
}

TEST(FieldErrorTest, NumbersAreShownBare) {
  EXPECT_EQ(FieldError::invalid("spec.containers[0].ports[0].containerPort", "70000",
                                "must be between 1 and 65535, inclusive")
                .to_string(),
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 "
            "and 65535, inclusive");
}

TEST(FieldErrorTest, InvalidWithoutDetailOrValue) {
  EXPECT_EQ(FieldError::invalid("a", quote(""), "").to_string(), "a: Invalid value: \"\"");
  EXPECT_EQ(FieldError::invalid("a", "", "bad").to_string(), "a: Invalid value: bad");
}

TEST(FieldErrorTest, NotSupportedWithNoChoices) {
  EXPECT_EQ(FieldError::not_supported("a", quote("x"), {}).to_string(),
            "a: Unsupported value: \"x\"");
}

TEST(FieldErrorTest, UnknownFieldIsKubectlsWarning) {
  FieldError e = FieldError::unknown("spec.foo");
  EXPECT_EQ(e.type, FieldError::Type::Unknown);
  EXPECT_EQ(e.to_string(), "unknown field \"spec.foo\"");
}

TEST(FieldErrorTest, ToErrorKeepsTheField) {
  base::Error e = FieldError::required("spec.containers[0].name").to_error();
  EXPECT_EQ(e.field, "spec.containers[0].name");
  EXPECT_EQ(e.message, "spec.containers[0].name: Required value");
}

TEST(FieldErrorTest, EqualityComparesAllParts) {
  EXPECT_EQ(FieldError::required("a"), FieldError::required("a"));
  EXPECT_NE(FieldError::required("a"), FieldError::required("b"));
  EXPECT_NE(FieldError::invalid("a", "1", "x"), FieldError::type_invalid("a", "1", "x"));
}

TEST(QuoteTest, EscapesAsGoPercentQ) {
  EXPECT_EQ(quote("foo"), "\"foo\"");
  EXPECT_EQ(quote(""), "\"\"");
  EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quote("tab\there\nnl\r"), "\"tab\\there\\nnl\\r\"");
  EXPECT_EQ(quote("\a\b\f\v"), "\"\\a\\b\\f\\v\"");
  EXPECT_EQ(quote(std::string("\x01\x1f\x7f", 3)), "\"\\x01\\x1f\\x7f\"");
  EXPECT_EQ(quote(std::string("nul\0", 4)), "\"nul\\x00\"");
  // Printable UTF-8 passes through; bytes that are not UTF-8 are shown as \x.
  EXPECT_EQ(quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(quote("\xff"), "\"\\xff\"");
  EXPECT_EQ(quote("\xc3"), "\"\\xc3\"");                    // truncated sequence
  EXPECT_EQ(quote("\xc0\xaf"), "\"\\xc0\\xaf\"");           // overlong
  EXPECT_EQ(quote("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");  // surrogate
  // Non-printable code points use \u.
  EXPECT_EQ(quote("\xc2\x85"), "\"\\u0085\"");
  EXPECT_EQ(quote("\xe2\x80\xa8"), "\"\\u2028\"");
}

}  // namespace
}  // namespace podagent::model

namespace podagent::model {
namespace {

TEST(FieldErrorTest, AnErrorOfTheWholeTextIsJustItsDetail) {
  FieldError e = FieldError::invalid("", "", "line 2, column 1: end of sequence flow not found");
  EXPECT_EQ(e.to_string(), "line 2, column 1: end of sequence flow not found");
}

}  // namespace
}  // namespace podagent::model
