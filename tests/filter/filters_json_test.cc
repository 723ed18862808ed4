// ParseFiltersJson and ParseQueryFilters: Mosaic's dictionary forms.
#include <gtest/gtest.h>

#include <string>

#include "filter/filter.h"
#include "tests/filter/test_util.h"

namespace vesta::filter {
namespace {

using testing::JsonError;
using testing::Parse;

Expr Json(std::string_view text) {
  Result<Expr> r = ParseFiltersJson(text);
  EXPECT_TRUE(r.ok()) << text << " -> " << r.status().ToString();
  return r.ok() ? r.value() : Expr::Constant(Truth::kUnknown);
}

TEST(FiltersJson, ScalarIsEqualityAndNotIsInequality) {
  EXPECT_EQ(Json(R"({"site": "A"})"), Parse("site = 'A'"));
  EXPECT_EQ(Json(R"({"site NOT": "A"})"), Parse("site != 'A'"));
  EXPECT_EQ(Json(R"({"age": 18})"), Parse("age = 18"));
  EXPECT_EQ(Json(R"({"active": true})"), Parse("active = TRUE"));
  EXPECT_EQ(Json(R"({"active NOT": false})"), Parse("active != FALSE"));
}

TEST(FiltersJson, ListIsInAndNotListIsNotIn) {
  EXPECT_EQ(Json(R"({"site": ["A", "B"]})"), Parse("site IN ('A', 'B')"));
  EXPECT_EQ(Json(R"({"site NOT": ["A", "B"]})"), Parse("site NOT IN ('A', 'B')"));
  EXPECT_EQ(Json(R"({"age": [1, 2.5, null]})"), Parse("age IN (1, 2.5, NULL)"));
}

TEST(FiltersJson, NullMeansIsNull) {
  EXPECT_EQ(Json(R"({"site": null})"), Parse("site IS NULL"));
  EXPECT_EQ(Json(R"({"site NOT": null})"), Parse("site IS NOT NULL"));
}

TEST(FiltersJson, ParsesComparisonOperators) {
  EXPECT_EQ(Json(R"({"age <": 5})"), Parse("age < 5"));
  EXPECT_EQ(Json(R"({"age <=": 5})"), Parse("age <= 5"));
  EXPECT_EQ(Json(R"({"age >": 5})"), Parse("age > 5"));
  EXPECT_EQ(Json(R"({"age >=": 5.5})"), Parse("age >= 5.5"));
  EXPECT_EQ(Json(R"({"scan_date >=": "2024-01-01"})"), Parse("scan_date >= '2024-01-01'"));
  // Spacing and case of the operator are forgiving.
  EXPECT_EQ(Json(R"({"  age>=  ": 5, "site not": "A", "name like": "red"})"),
            Parse("age >= 5 AND site != 'A' AND has_token(name, 'red')"));
}

TEST(FiltersJson, NumbersAreBigintWhenIntegralInJsonElseDouble) {
  EXPECT_EQ(Json(R"({"x": 7})").node().values[0].literal, Value::Int(7));
  EXPECT_EQ(Json(R"({"x": -7})").node().values[0].literal, Value::Int(-7));
  EXPECT_EQ(Json(R"({"x": 9223372036854775807})").node().values[0].literal, Value::Int(INT64_MAX));
  EXPECT_EQ(Json(R"({"x": 7.0})").node().values[0].literal, Value::Real(7.0));
  EXPECT_EQ(Json(R"({"x": 1e2})").node().values[0].literal, Value::Real(100.0));
}

TEST(FiltersJson, LikeIsWholeTokenMatchUnlessTheValueHasAPercentSign) {
  EXPECT_EQ(Json(R"({"name LIKE": "red"})"), Expr::HasToken(Operand::Column("name"), "red"));
  EXPECT_EQ(Json(R"({"name LIKE": "red"})").ToString(), "has_token(name, 'red')");
  // Separators around the token are dropped: ", red." is the token "red".
  EXPECT_EQ(Json(R"({"name LIKE": ", red."})"), Expr::HasToken(Operand::Column("name"), "red"));
  EXPECT_EQ(Json(R"({"specs LIKE": "%\"drivetrain\":\"AWD\"%"})"),
            Parse(R"(specs LIKE '%"drivetrain":"AWD"%')"));
}

TEST(FiltersJson, OrKeyIsPositionWise) {
  EXPECT_EQ(Json(R"({"site OR owner": ["A", "bob"]})"), Parse("site = 'A' OR owner = 'bob'"));
  EXPECT_EQ(Json(R"({"a OR b OR c": [1, null, [2, 3]]})"), Parse("a = 1 OR b IS NULL OR c IN (2, 3)"));
  EXPECT_EQ(Json(R"({"a or b": [1, 2]})"), Parse("a = 1 OR b = 2"));
}

TEST(FiltersJson, KeysAreAndedInTheirOrder) {
  Expr e = Json(R"({"site": "A", "age >=": 18, "name LIKE": "sepsis", "site OR owner": ["B", "x"]})");
  EXPECT_EQ(e.ToString(),
            "site = 'A' AND age >= 18 AND has_token(name, 'sepsis') AND (site = 'B' OR owner = 'x')");
}

TEST(FiltersJson, TopLevelListOfObjectsIsAndedAndEmptyObjectIsTrue) {
  EXPECT_EQ(Json(R"([{"a": 1}, {"b <": 2, "c": 3}])"), Parse("a = 1 AND b < 2 AND c = 3"));
  EXPECT_EQ(Json("{}"), Expr::True());
  EXPECT_EQ(Json("[]"), Expr::True());
}

TEST(FiltersJson, RejectsMalformedJson) {
  EXPECT_EQ(JsonError(R"({"a": )"),
            "filters_json: invalid JSON: parse error at line 1, column 7: syntax error while parsing value - "
            "unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(JsonError("{'a': 1}").rfind("filters_json: invalid JSON: parse error at line 1, column 2", 0),
            0u);
  EXPECT_EQ(JsonError(""),
            "filters_json: invalid JSON: parse error at line 1, column 1: syntax error while "
            "parsing value - unexpected end of input; expected '[', '{', or a literal");
  EXPECT_EQ(JsonError("\"a\""),
            "filters_json: expected a JSON object such as {\"col\": value}, got a string");
  EXPECT_EQ(JsonError("[1]"),
            "filters_json: element 0 of the top-level list: expected an object, got a number");
}

TEST(FiltersJson, RejectsUnknownOperatorsAndBadKeys) {
  EXPECT_EQ(
      JsonError(R"({"age ~": 1})"),
      "filters_json: key 'age ~': unknown operator '~' (expected NOT, <, <=, >, >=, LIKE, or the form 'col1 "
      "OR col2')");
  EXPECT_EQ(
      JsonError(R"({"age BETWEEN": [1, 2]})"),
      "filters_json: key 'age BETWEEN': unknown operator 'BETWEEN' (expected NOT, <, <=, >, >=, LIKE, or the "
      "form 'col1 OR col2')");
  EXPECT_EQ(JsonError(R"({"": 1})"),
            "filters_json: key '': expected a column name at the start of the key (letters, digits and '_')");
  EXPECT_EQ(
      JsonError(R"({"1abc": 1})"),
      "filters_json: key '1abc': expected a column name at the start of the key (letters, digits and '_')");
  EXPECT_EQ(JsonError(R"({"a OR": [1]})"),
            "filters_json: key 'a OR': expected a column name after the last OR");
  EXPECT_EQ(JsonError(R"({"a OR b AND c": [1, 2]})"),
            "filters_json: key 'a OR b AND c': expected OR between columns in 'col1 OR col2 ...', got 'AND'");
}

TEST(FiltersJson, RejectsValuesOfTheWrongShape) {
  EXPECT_EQ(JsonError(R"({"age <": [1, 2]})"),
            "filters_json: key 'age <': expected a number or a string, got a list");
  EXPECT_EQ(JsonError(R"({"age >=": null})"),
            "filters_json: key 'age >=': expected a number or a string, got null");
  EXPECT_EQ(JsonError(R"({"site": []})"),
            "filters_json: key 'site': expected a non-empty list of values, got an empty list");
  EXPECT_EQ(JsonError(R"({"site": {"x": 1}})"),
            "filters_json: key 'site': expected a value or a list of values, got an object");
  EXPECT_EQ(
      JsonError(R"({"site": ["A", ["B"]]})"),
      "filters_json: key 'site': element 1 of the list: expected a scalar value (string, number, boolean or "
      "null), got a list");
  EXPECT_EQ(JsonError(R"({"name LIKE": 5})"),
            "filters_json: key 'name LIKE': expected a string, got a number");
  EXPECT_EQ(
      JsonError(R"({"name LIKE": " - "})"),
      "filters_json: key 'name LIKE': has_token needs a token with at least one letter or digit, got ' - '");
  EXPECT_EQ(JsonError(R"({"name LIKE": "%50\\"})"),
            "filters_json: key 'name LIKE': LIKE pattern ends with a lone escape character '\\'");
  EXPECT_EQ(
      JsonError(R"({"a OR b": [1, 2, 3]})"),
      "filters_json: key 'a OR b': expected a list of 2 values (one per column), got a list of 3 values");
  EXPECT_EQ(JsonError(R"({"a OR b": 1})"),
            "filters_json: key 'a OR b': expected a list of 2 values (one per column), got a number");
  EXPECT_EQ(JsonError(R"({"x": 18446744073709551615})"),
            "filters_json: key 'x': integer 18446744073709551615 is out of the BIGINT range");
}

TEST(FiltersJson, EnforcesLimits) {
  std::string big = R"({"name": ")" + std::string(kMaxFilterBytes, 'x') + "\"}";
  EXPECT_EQ(JsonError(big), "filters_json: 65548 bytes is over the limit of 65536");
  std::string list = R"({"age": [0)";
  for (size_t i = 0; i < kMaxInListItems; ++i) list += ",1";
  list += "]}";
  EXPECT_EQ(JsonError(list), "filters_json: key 'age': list has 10001 values; the limit is 10000");
}

TEST(QueryFilters, AndsBothFormsAndTreatsAbsentOrBlankAsNoFilter) {
  Result<Expr> both = ParseQueryFilters(R"({"site": "A"})", "age > 1 OR age IS NULL");
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(both->ToString(), "site = 'A' AND (age > 1 OR age IS NULL)");
  Result<Expr> none = ParseQueryFilters(std::nullopt, std::nullopt);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, Expr::True());
  Result<Expr> blank = ParseQueryFilters("  ", "\n");
  ASSERT_TRUE(blank.ok());
  EXPECT_EQ(*blank, Expr::True());
  Result<Expr> one = ParseQueryFilters(std::nullopt, "age > 1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, Parse("age > 1"));
}

TEST(QueryFilters, ReportsTheFormThatFailed) {
  Result<Expr> r = ParseQueryFilters(R"({"site": "A"})", "age >");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "filter_string: at position 5: expected a value after '>', got end of input");
  r = ParseQueryFilters("{", "age > 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("filters_json: invalid JSON", 0), 0u);
}

}  // namespace
}  // namespace vesta::filter
