// ParseFilterString: every construct, precedence, round trips and errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "filter/filter.h"
#include "tests/filter/test_util.h"

namespace vesta::filter {
namespace {

using testing::Parse;
using testing::ParseError;

Operand Col(std::string name) {
  return Operand::Column(std::move(name));
}
Operand Lit(Value v) {
  return Operand::Literal(std::move(v));
}
Expr Eq(std::string col, Value v) {
  return Expr::Compare(Col(std::move(col)), CompareOp::kEq, Lit(std::move(v)));
}

TEST(FilterString, ParsesEveryComparisonOperator) {
  struct Case {
    const char* text;
    CompareOp op;
  } cases[] = {{"age = 1", CompareOp::kEq},  {"age == 1", CompareOp::kEq}, {"age != 1", CompareOp::kNe},
               {"age <> 1", CompareOp::kNe}, {"age < 1", CompareOp::kLt},  {"age <= 1", CompareOp::kLe},
               {"age > 1", CompareOp::kGt},  {"age >= 1", CompareOp::kGe}};
  for (const Case& c : cases) {
    Expr e = Parse(c.text);
    ASSERT_EQ(e.kind(), ExprKind::kCompare) << c.text;
    EXPECT_EQ(e.node().op, c.op) << c.text;
    EXPECT_EQ(e.node().subject.column, "age");
    EXPECT_EQ(e.node().values[0].literal, Value::Int(1));
  }
}

TEST(FilterString, MovesLiteralOnTheLeftToTheRightAndMirrorsTheOperator) {
  EXPECT_EQ(Parse("18 <= age"), Parse("age >= 18"));
  EXPECT_EQ(Parse("18 > age"), Parse("age < 18"));
  EXPECT_EQ(Parse("'A' = site"), Parse("site = 'A'"));
  EXPECT_EQ(Parse("18 <= age").ToString(), "age >= 18");
  EXPECT_EQ(Parse("'alice' = current_user()").ToString(), "current_user() = 'alice'");
  EXPECT_EQ(Parse("current_user() = owner").ToString(), "owner = current_user()");
}

TEST(FilterString, ParsesNestedAndOrWithPrecedence) {
  // NOT binds tighter than AND, AND tighter than OR.
  Expr e = Parse("a = 1 OR b = 2 AND c = 3");
  EXPECT_EQ(e,
            Expr::Or({Eq("a", Value::Int(1)), Expr::And({Eq("b", Value::Int(2)), Eq("c", Value::Int(3))})}));
  e = Parse("NOT a = 1 AND b = 2");
  EXPECT_EQ(e, Expr::And({Expr::Not(Eq("a", Value::Int(1))), Eq("b", Value::Int(2))}));
  e = Parse("(a = 1 OR b = 2) AND NOT (c = 3 OR d = 4)");
  EXPECT_EQ(e, Expr::And({Expr::Or({Eq("a", Value::Int(1)), Eq("b", Value::Int(2))}),
                          Expr::Not(Expr::Or({Eq("c", Value::Int(3)), Eq("d", Value::Int(4))}))}));
  EXPECT_EQ(e.ToString(), "(a = 1 OR b = 2) AND NOT (c = 3 OR d = 4)");
}

TEST(FilterString, FlattensChainsOfAndAndOfOr) {
  Expr e = Parse("a = 1 AND (b = 2 AND c = 3) AND d = 4");
  ASSERT_EQ(e.kind(), ExprKind::kAnd);
  EXPECT_EQ(e.node().children.size(), 4u);
  e = Parse("(a = 1 OR b = 2) OR (c = 3 OR d = 4)");
  ASSERT_EQ(e.kind(), ExprKind::kOr);
  EXPECT_EQ(e.node().children.size(), 4u);
  EXPECT_EQ(Parse("((a = 1))"), Eq("a", Value::Int(1)));
}

TEST(FilterString, ParsesInBetweenLikeAndIsForms) {
  Expr e = Parse("site IN ('A', 'B', NULL)");
  ASSERT_EQ(e.kind(), ExprKind::kIn);
  EXPECT_FALSE(e.node().negated);
  ASSERT_EQ(e.node().values.size(), 3u);
  EXPECT_EQ(e.node().values[1].literal, Value::Str("B"));
  EXPECT_TRUE(e.node().values[2].literal.is_null());
  EXPECT_TRUE(Parse("site NOT IN ('A')").node().negated);

  e = Parse("age BETWEEN 18 AND 65.5");
  ASSERT_EQ(e.kind(), ExprKind::kBetween);
  EXPECT_EQ(e.node().values[0].literal, Value::Int(18));
  EXPECT_EQ(e.node().values[1].literal, Value::Real(65.5));
  EXPECT_TRUE(Parse("age NOT BETWEEN 1 AND 2").node().negated);
  // BETWEEN's AND does not end the conjunction early.
  e = Parse("age BETWEEN 1 AND 2 AND site = 'A'");
  ASSERT_EQ(e.kind(), ExprKind::kAnd);
  EXPECT_EQ(e.node().children[0].kind(), ExprKind::kBetween);

  e = Parse("name LIKE 'Sm_th%'");
  ASSERT_EQ(e.kind(), ExprKind::kLike);
  EXPECT_EQ(e.node().values[0].literal, Value::Str("Sm_th%"));
  EXPECT_TRUE(Parse("name NOT LIKE '%x'").node().negated);

  EXPECT_EQ(Parse("age IS NULL").kind(), ExprKind::kIsNull);
  EXPECT_TRUE(Parse("age IS NOT NULL").node().negated);
  EXPECT_EQ(Parse("active IS TRUE").kind(), ExprKind::kIsTrue);
  EXPECT_TRUE(Parse("active IS NOT TRUE").node().negated);
  EXPECT_EQ(Parse("active IS FALSE").kind(), ExprKind::kIsFalse);
  EXPECT_TRUE(Parse("active IS NOT FALSE").node().negated);
}

TEST(FilterString, ParsesTypedLiterals) {
  auto literal = [](const char* text) { return Parse(text).node().values[0].literal; };
  EXPECT_EQ(literal("x = 42"), Value::Int(42));
  EXPECT_EQ(literal("x = -42"), Value::Int(-42));
  EXPECT_EQ(literal("x = -9223372036854775808"), Value::Int(INT64_MIN));
  EXPECT_EQ(literal("x = 1.5"), Value::Real(1.5));
  EXPECT_EQ(literal("x = .5"), Value::Real(0.5));
  EXPECT_EQ(literal("x = 2.0"), Value::Real(2.0));
  EXPECT_EQ(literal("x = 1e3"), Value::Real(1000.0));
  EXPECT_EQ(literal("x = -2.5E-1"), Value::Real(-0.25));
  EXPECT_EQ(literal("x = 'it''s'"), Value::Str("it's"));
  EXPECT_EQ(literal("x = ''"), Value::Str(""));
  EXPECT_EQ(literal("x = 'caf\xC3\xA9'"), Value::Str("caf\xC3\xA9"));
  EXPECT_EQ(literal("x = TRUE"), Value::Bool(true));
  EXPECT_EQ(literal("x = false"), Value::Bool(false));
  EXPECT_TRUE(literal("x = NULL").is_null());
  EXPECT_EQ(literal("x = DATE '2024-01-31'"), Value::DateV(MakeDate(2024, 1, 31).value()));
  Timestamp ts = ParseTimestamp("2024-01-31 10:00:00").value();
  EXPECT_EQ(literal("x = TIMESTAMP '2024-01-31 10:00:00'"), Value::Ts(ts));
  EXPECT_EQ(literal("x = timestamp '2024-01-31T10:00:00.25Z'"), Value::Ts(Timestamp{ts.micros + 250000}));
}

TEST(FilterString, KeywordsAndColumnsAreCaseInsensitiveAndColumnsMayBeBackquoted) {
  EXPECT_EQ(Parse("AGE between 1 And 2 aNd Name like 'x%' or SITE is not null").ToString(),
            "(AGE BETWEEN 1 AND 2 AND Name LIKE 'x%') OR SITE IS NOT NULL");
  Expr e = Parse("`weird name` = 1 AND `select` = 2 AND `a``b` = 3 AND `and` = 4");
  ASSERT_EQ(e.kind(), ExprKind::kAnd);
  EXPECT_EQ(e.node().children[0].node().subject.column, "weird name");
  EXPECT_EQ(e.node().children[2].node().subject.column, "a`b");
  EXPECT_EQ(e.node().children[3].node().subject.column, "and");
  EXPECT_EQ(e.ToString(), "`weird name` = 1 AND select = 2 AND `a``b` = 3 AND `and` = 4");
}

TEST(FilterString, DateTimestampAndFunctionNamesStayUsableAsColumns) {
  Expr e = Parse("date = '2024-01-01' AND timestamp > 5 AND current_user = 'x' AND is_member = 1");
  ASSERT_EQ(e.kind(), ExprKind::kAnd);
  EXPECT_EQ(e.node().children[0].node().subject.column, "date");
  EXPECT_EQ(e.node().children[0].node().values[0].literal, Value::Str("2024-01-01"));
  EXPECT_EQ(e.node().children[1].node().subject.column, "timestamp");
  EXPECT_EQ(e.node().children[2].node().subject.column, "current_user");
  EXPECT_EQ(e.node().children[3].node().subject.column, "is_member");
}

TEST(FilterString, ParsesIdentityFunctions) {
  Expr e = Parse("owner = current_user() OR is_member('phi_readers')");
  ASSERT_EQ(e.kind(), ExprKind::kOr);
  const Node& cmp = e.node().children[0].node();
  EXPECT_TRUE(cmp.subject.is_column());
  EXPECT_TRUE(cmp.values[0].is_current_user());
  EXPECT_EQ(e.node().children[1].kind(), ExprKind::kIsMember);
  EXPECT_EQ(e.node().children[1].node().group, "phi_readers");
  EXPECT_TRUE(Parse("owner IN (current_user(), 'shared')").node().values[0].is_current_user());
  EXPECT_TRUE(Parse("CURRENT_USER() LIKE 'adm%'").node().subject.is_current_user());
  Expr t = Parse("has_token(name, 'red')");
  ASSERT_EQ(t.kind(), ExprKind::kHasToken);
  EXPECT_EQ(t.node().values[0].literal, Value::Str("red"));
}

TEST(FilterString, BareBooleanColumnMeansEqualsTrueAndLiteralsAreConstants) {
  EXPECT_EQ(Parse("active"), Eq("active", Value::Bool(true)));
  EXPECT_EQ(Parse("NOT active AND age > 1").ToString(), "NOT active = TRUE AND age > 1");
  EXPECT_EQ(Parse("TRUE"), Expr::Constant(Truth::kTrue));
  EXPECT_EQ(Parse("false"), Expr::Constant(Truth::kFalse));
  EXPECT_EQ(Parse("NULL OR age = 1").node().children[0], Expr::Constant(Truth::kUnknown));
}

TEST(FilterString, ToStringRoundTripsThroughParse) {
  const char* texts[] = {
      "age = 1",
      "age != -1",
      "score >= 0.1 AND score < 1e+300",
      "score = -0.0",
      "name = 'it''s a ''quote'''",
      "name LIKE '100\\%%' OR name NOT LIKE '_\\_x'",
      "site IN ('A', 'B', NULL) AND site NOT IN ('C')",
      "age BETWEEN -5 AND 5 OR age NOT BETWEEN 1.5 AND 2",
      "scan_date >= DATE '2020-01-01' AND scanned_at < TIMESTAMP '2024-01-31 10:00:00.123456'",
      "scanned_at = TIMESTAMP '1969-12-31 23:59:59'",
      "active IS TRUE OR active IS NOT FALSE OR active IS NOT TRUE OR active IS FALSE",
      "age IS NULL AND age IS NOT NULL",
      "NOT NOT (a = 1 OR NOT (b = 2 AND c = 3))",
      "owner = current_user() OR is_member('it''s') OR current_user() IS NULL",
      "has_token(name, 'F-150') AND has_token(`weird col`, 'x')",
      "TRUE AND (FALSE OR NULL)",
      "`select` = 1 AND `a b` = 'x' AND date = DATE '2024-02-29'",
      "a = 1 OR b = 2 AND c = 3 OR d = 4",
      "x = 9223372036854775807 AND y = -9223372036854775808 AND z = 123456789.123456789",
      "active AND NOT active",
  };
  for (const char* text : texts) {
    Expr e = Parse(text);
    std::string printed = e.ToString();
    Expr again = Parse(printed);
    EXPECT_EQ(again, e) << text << " printed as " << printed << " re-parsed as " << again.ToString();
    EXPECT_EQ(again.ToString(), printed);
  }
}

TEST(FilterString, PrintsCanonicalText) {
  EXPECT_EQ(Parse("  age>=18   and   NOT(site='A' or site = 'B')  ").ToString(),
            "age >= 18 AND NOT (site = 'A' OR site = 'B')");
  EXPECT_EQ(Parse("score = 2.0").ToString(), "score = 2.0");
  EXPECT_EQ(Parse("d = DATE '2024-01-31'").ToString(), "d = DATE '2024-01-31'");
  EXPECT_EQ(Parse("t = TIMESTAMP '2024-01-31T10:00:00Z'").ToString(), "t = TIMESTAMP '2024-01-31 10:00:00'");
  EXPECT_EQ(Parse("x <> 1").ToString(), "x != 1");
}

TEST(FilterString, ReportsMissingValueWithPositionAndWhatWasFound) {
  EXPECT_EQ(ParseError("age >= 18 AND x ="),
            "filter_string: at position 17: expected a value after '=', got end of input");
  EXPECT_EQ(
      ParseError("age = AND"),
      "filter_string: at position 6: expected a value after '=', got 'AND' (a reserved word: backquote a "
      "column with this name)");
  EXPECT_EQ(ParseError(""), "filter_string: at position 0: expected a condition, got end of input");
}

TEST(FilterString, RejectsUnterminatedStringsAndQuotedNames) {
  EXPECT_EQ(ParseError("name = 'abc"),
            "filter_string: at position 7: unterminated string literal (no closing ')");
  EXPECT_EQ(ParseError("`name = 1"),
            "filter_string: at position 0: unterminated quoted column name (no closing `)");
  EXPECT_EQ(ParseError("`` = 1"), "filter_string: at position 0: empty quoted column name ``");
}

TEST(FilterString, RejectsEmptyInListAndMalformedLists) {
  EXPECT_EQ(ParseError("site IN ()"),
            "filter_string: at position 9: IN list is empty: expected at least one value");
  EXPECT_EQ(ParseError("site IN ('A' 'B')"),
            "filter_string: at position 13: expected ',' or ')' in the IN list, got string 'B'");
  EXPECT_EQ(ParseError("site IN 'A'"), "filter_string: at position 8: expected '(' after IN, got string 'A'");
  EXPECT_EQ(ParseError("site IN (other)"),
            "filter_string: at position 9: expected a value (a literal or current_user()) after 'IN (', got "
            "column 'other'");
}

TEST(FilterString, EnforcesTheDepthLimit) {
  std::string ok, deep;
  for (int i = 0; i < kMaxDepth; ++i) ok += "(";
  ok += "a = 1";
  for (int i = 0; i < kMaxDepth; ++i) ok += ")";
  EXPECT_TRUE(ParseFilterString(ok).ok());
  for (int i = 0; i <= kMaxDepth; ++i) deep += "NOT ";
  deep += "a = 1";
  EXPECT_NE(ParseError(deep).find("expression nests deeper than 64 levels"), std::string::npos);
  std::string parens = "(" + ok + ")";
  std::string msg = ParseError(parens);
  EXPECT_EQ(msg.rfind("filter_string: at position 65: expression nests deeper than 64 levels", 0), 0u) << msg;
}

TEST(FilterString, EnforcesLengthAndListLimits) {
  std::string big = "name = '" + std::string(kMaxFilterBytes, 'x') + "'";
  EXPECT_EQ(ParseError(big), "filter_string: 65545 bytes is over the limit of 65536");
  std::string list = "age IN (0";
  for (size_t i = 1; i <= kMaxInListItems; ++i) {
    list += ',';
    list += std::to_string(i % 10);
  }
  list += ")";
  EXPECT_NE(ParseError(list).find("IN list has more than 10000 values"), std::string::npos);
  std::string many = "age IN (0";
  for (size_t i = 1; i < kMaxInListItems; ++i) many += ",1";
  many += ")";
  std::string all = many + " OR " + many;  // 20,000 values in lists that are each within the limit
  EXPECT_NE(ParseError(all).find("filter has more than 16384 values"), std::string::npos);
}

TEST(FilterString, RejectsTrailingTokensAndUnbalancedParentheses) {
  EXPECT_EQ(ParseError("age = 1 age = 2"),
            "filter_string: at position 8: expected AND, OR or end of input, got 'age'");
  EXPECT_EQ(ParseError("(age = 1"),
            "filter_string: at position 8: expected ')' to close the '(' at position 0, got end of input");
  EXPECT_EQ(ParseError("age = 1)"), "filter_string: at position 7: unbalanced ')': no matching '('");
}

TEST(FilterString, RejectsBadCharactersWithHints) {
  EXPECT_EQ(ParseError("name = \"x\""),
            "filter_string: at position 7: unexpected character '\"': use single quotes for strings ('text') "
            "and backquotes for column names (`name`)");
  EXPECT_EQ(ParseError("age # 1"), "filter_string: at position 4: unexpected character '#'");
  EXPECT_EQ(ParseError("age ! 1"),
            "filter_string: at position 4: unexpected character '!' (did you mean '!='?)");
  EXPECT_EQ(ParseError("name = \xE2\x82\xAC"),
            "filter_string: at position 7: unexpected character '\xE2\x82\xAC'");
  EXPECT_EQ(ParseError("name = '\xC3('"), "filter_string: at position 8: invalid UTF-8");
  EXPECT_EQ(ParseError("age = 12abc"), "filter_string: at position 6: malformed number '12abc'");
  EXPECT_EQ(ParseError("age = 1.2.3"), "filter_string: at position 6: malformed number '1.2.3'");
}

TEST(FilterString, RejectsMalformedPredicates) {
  EXPECT_EQ(
      ParseError("1 = 2"),
      "filter_string: at position 0: a comparison needs a column or current_user() on one side, got 1 = 2");
  EXPECT_EQ(
      ParseError("a = b"),
      "filter_string: at position 4: expected a value after '=', got column 'b' (comparing two columns is "
      "not supported)");
  EXPECT_EQ(ParseError("age BETWEEN 1 2"),
            "filter_string: at position 14: expected AND after BETWEEN 1, got number 2");
  EXPECT_EQ(ParseError("age IS 5"),
            "filter_string: at position 7: expected NULL, TRUE or FALSE after IS, got number 5");
  EXPECT_EQ(ParseError("age NOT 5"),
            "filter_string: at position 8: expected IN, BETWEEN or LIKE after NOT, got number 5");
  EXPECT_EQ(ParseError("name LIKE 5"),
            "filter_string: at position 10: expected a string pattern after LIKE, got number 5");
  EXPECT_EQ(ParseError("name LIKE 'ab\\'"),
            "filter_string: at position 10: LIKE pattern ends with a lone escape character '\\'");
  EXPECT_EQ(
      ParseError("age 5"),
      "filter_string: at position 4: expected an operator (=, !=, <, <=, >, >=, IN, BETWEEN, LIKE or IS) "
      "after column 'age', got number 5");
  EXPECT_EQ(ParseError("5 IN (1)"),
            "filter_string: at position 0: expected a column or current_user() before IN, got 5");
  EXPECT_EQ(
      ParseError("x = DATE '2024-02-30'"),
      "filter_string: at position 9: invalid DATE literal string '2024-02-30': not a valid calendar date: "
      "2024-02-30");
  EXPECT_EQ(ParseError("x = 99999999999999999999"),
            "filter_string: at position 4: integer 99999999999999999999 is out of the BIGINT range");
  EXPECT_EQ(ParseError("x = 1e999"), "filter_string: at position 4: number 1e999 is out of the DOUBLE range");
  EXPECT_EQ(ParseError("x = - 'a'"),
            "filter_string: at position 6: expected a number after '-', got string 'a'");
  EXPECT_EQ(ParseError("is_member(admins)"),
            "filter_string: at position 10: expected a group name string after 'is_member(', got 'admins'");
  EXPECT_EQ(ParseError("has_token(name, '--')"),
            "filter_string: at position 16: has_token needs a token with at least one letter or digit, got "
            "string '--'");
  EXPECT_EQ(ParseError("x = current_user("),
            "filter_string: at position 17: expected ')' after 'current_user(', got end of input");
}

}  // namespace
}  // namespace vesta::filter
