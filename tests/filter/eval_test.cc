// Evaluate: three-valued logic, NULL handling, LIKE, has_token, identity.
#include <gtest/gtest.h>

#include <string>

#include "filter/filter.h"
#include "filter/internal/match.h"
#include "tests/filter/test_util.h"

namespace vesta::filter {
namespace {

using testing::ParseAndBind;
using testing::PatientRow;

constexpr Truth T = Truth::kTrue;
constexpr Truth F = Truth::kFalse;
constexpr Truth U = Truth::kUnknown;

// age = 30, score NULL, name 'Red car', site NULL, active TRUE, owner 'alice'.
Row SampleRow() {
  return PatientRow(Value::Int(1), Value::Int(30), Value(), Value::Str("Red car"), Value(), Value::Bool(true),
                    Value::DateV(MakeDate(2024, 1, 31).value()),
                    Value::Ts(ParseTimestamp("2024-01-31 10:00:00").value()), Value::Str("alice"));
}

Truth Eval(std::string_view filter, const Row& row = SampleRow(),
           const EvalContext& ctx = EvalContext::ForUser("alice", {"admins"})) {
  return Evaluate(ParseAndBind(filter), row, ctx);
}

TEST(Evaluate, ComparesValuesOfEveryType) {
  EXPECT_EQ(Eval("age = 30"), T);
  EXPECT_EQ(Eval("age != 30"), F);
  EXPECT_EQ(Eval("age < 31 AND age <= 30 AND age > 29 AND age >= 30"), T);
  EXPECT_EQ(Eval("age > 29.5 AND age < 30.5"), T);
  EXPECT_EQ(Eval("name = 'Red car'"), T);
  EXPECT_EQ(Eval("name > 'Red'"), T);
  EXPECT_EQ(Eval("active = TRUE AND active > FALSE"), T);
  EXPECT_EQ(Eval("scan_date = '2024-01-31' AND scan_date > DATE '2024-01-30'"), T);
  EXPECT_EQ(Eval("scanned_at > '2024-01-31' AND scanned_at < '2024-01-31 10:00:01'"), T);
  EXPECT_EQ(Eval("age BETWEEN 30 AND 30 AND age NOT BETWEEN 31 AND 40"), T);
  EXPECT_EQ(Eval("age IN (1, 30) AND age NOT IN (1, 2)"), T);
}

TEST(Evaluate, ComparesBigintWithDoubleExactly) {
  // 2^53 + 1 is not a double; converting it to one would make these equal.
  Row row = SampleRow();
  row[1] = Value::Int(9007199254740993);
  EXPECT_EQ(Eval("age = 9007199254740992.0", row), F);
  EXPECT_EQ(Eval("age > 9007199254740992.0", row), T);
  EXPECT_EQ(Eval("age < 1e19", row), T);
  EXPECT_EQ(Eval("age > -1e19", row), T);
  row[1] = Value::Int(-3);
  EXPECT_EQ(Eval("age < -2.5 AND age > -3.5 AND age != -3.0000001", row), T);
}

TEST(Evaluate, ComparisonsWithNullAreUnknown) {
  EXPECT_EQ(Eval("score = 1"), U);
  EXPECT_EQ(Eval("score != 1"), U);
  EXPECT_EQ(Eval("age = NULL"), U);
  EXPECT_EQ(Eval("NOT score = 1"), U);
  EXPECT_EQ(Eval("score BETWEEN 1 AND 2"), U);
  EXPECT_EQ(Eval("site LIKE '%'"), U);
  EXPECT_EQ(Eval("site NOT LIKE '%'"), U);
  EXPECT_EQ(Eval("has_token(site, 'x')"), U);
}

TEST(Evaluate, AndOrNotFollowKleeneLogic) {
  // TRUE: age = 30; FALSE: age = 0; UNKNOWN: score = 1.
  EXPECT_EQ(Eval("age = 30 AND score = 1"), U);
  EXPECT_EQ(Eval("age = 0 AND score = 1"), F);
  EXPECT_EQ(Eval("score = 1 AND age = 0"), F);
  EXPECT_EQ(Eval("age = 30 OR score = 1"), T);
  EXPECT_EQ(Eval("score = 1 OR age = 30"), T);
  EXPECT_EQ(Eval("age = 0 OR score = 1"), U);
  EXPECT_EQ(Eval("NOT (age = 0 OR score = 1)"), U);
  EXPECT_EQ(Eval("NOT (age = 0 AND score = 1)"), T);
  EXPECT_EQ(Eval("NOT NOT age = 30"), T);
  EXPECT_EQ(Eval("TRUE AND NULL"), U);
  EXPECT_EQ(Eval("FALSE OR NULL"), U);
  EXPECT_EQ(Eval("NOT NULL"), U);
  EXPECT_FALSE(Matches(ParseAndBind("age = 30 AND score = 1"), SampleRow(), EvalContext()));
  EXPECT_TRUE(Matches(ParseAndBind("age = 30 OR score = 1"), SampleRow(), EvalContext()));
}

// A long IN list of STRING literals is looked up in a hash set (Node::in_strings);
// the answers must equal the element-by-element rule for every kind of subject.
TEST(Evaluate, LongStringInListsAnswerAsShortOnes) {
  std::string list, list_with_hit;
  for (int i = 0; i < 20; ++i) list += (i ? ", '" : "'") + std::string("name ") + std::to_string(i) + "'";
  list_with_hit = list + ", 'Red car'";
  ASSERT_TRUE(ParseAndBind("name IN (" + list + ")").expr().node().in_strings) << "the lookup set is built";
  EXPECT_EQ(Eval("name IN (" + list_with_hit + ")"), T);
  EXPECT_EQ(Eval("name IN (" + list + ")"), F);
  EXPECT_EQ(Eval("name NOT IN (" + list_with_hit + ")"), F);
  EXPECT_EQ(Eval("name NOT IN (" + list + ")"), T);
  EXPECT_EQ(Eval("site IN (" + list + ")"), U);  // NULL subject
  EXPECT_EQ(Eval("site NOT IN (" + list + ")"), U);
  EXPECT_EQ(Eval("owner IN (" + list + ", 'alice')"), T);
  EXPECT_EQ(Eval("name IN (" + list + ", 'red car')"), F);  // exact, case-sensitive as '='
  // A list mixing a NULL or a number is not a set of strings: the usual rule.
  EXPECT_FALSE(ParseAndBind("name IN (" + list + ", NULL)").expr().node().in_strings);
  EXPECT_EQ(Eval("name IN (" + list + ", NULL)"), U);
  EXPECT_EQ(Eval("name IN (" + list_with_hit + ", NULL)"), T);
}

TEST(Evaluate, InAndNotInFollowSqlNullRules) {
  EXPECT_EQ(Eval("age IN (30, NULL)"), T);
  EXPECT_EQ(Eval("age IN (1, NULL)"), U);
  EXPECT_EQ(Eval("age NOT IN (1, NULL)"), U);  // the classic NOT IN trap: never TRUE with a NULL item
  EXPECT_EQ(Eval("age NOT IN (30, NULL)"), F);
  EXPECT_EQ(Eval("score IN (1, 2)"), U);
  EXPECT_EQ(Eval("score NOT IN (1, 2)"), U);
  EXPECT_EQ(Eval("NOT age IN (1, NULL)"), U);
  EXPECT_EQ(Eval("age IN (1, 2)"), F);
}

TEST(Evaluate, BetweenWithNullBoundsIsFalseWhenTheOtherBoundFails) {
  EXPECT_EQ(Eval("age BETWEEN 40 AND NULL"), F);
  EXPECT_EQ(Eval("age BETWEEN NULL AND 20"), F);
  EXPECT_EQ(Eval("age BETWEEN NULL AND 40"), U);
  EXPECT_EQ(Eval("age NOT BETWEEN 40 AND NULL"), T);
  EXPECT_EQ(Eval("age NOT BETWEEN NULL AND 40"), U);
}

TEST(Evaluate, IsPredicatesAreNeverUnknown) {
  EXPECT_EQ(Eval("score IS NULL"), T);
  EXPECT_EQ(Eval("score IS NOT NULL"), F);
  EXPECT_EQ(Eval("age IS NULL"), F);
  Row row = SampleRow();
  EXPECT_EQ(Eval("active IS TRUE AND active IS NOT FALSE", row), T);
  EXPECT_EQ(Eval("active IS FALSE OR active IS NOT TRUE", row), F);
  row[5] = Value();
  EXPECT_EQ(Eval("active IS TRUE", row), F);
  EXPECT_EQ(Eval("active IS FALSE", row), F);
  EXPECT_EQ(Eval("active IS NOT TRUE AND active IS NOT FALSE", row), T);
  EXPECT_EQ(Eval("active", row), U);  // the bare column is `active = TRUE`
  EXPECT_EQ(Eval("NOT active", row), U);
}

TEST(Evaluate, LikeIsCaseSensitiveWithWildcardsAndEscapes) {
  EXPECT_EQ(Eval("name LIKE 'Red%'"), T);
  EXPECT_EQ(Eval("name LIKE 'red%'"), F);
  EXPECT_EQ(Eval("name LIKE '%car'"), T);
  EXPECT_EQ(Eval("name LIKE 'R_d c_r'"), T);
  EXPECT_EQ(Eval("name LIKE 'R_d'"), F);
  EXPECT_EQ(Eval("name NOT LIKE '%x%'"), T);
  EXPECT_EQ(Eval("name LIKE '%'"), T);
  using internal::LikeMatch;
  EXPECT_TRUE(LikeMatch("100%", "100\\%"));
  EXPECT_FALSE(LikeMatch("1000", "100\\%"));
  EXPECT_TRUE(LikeMatch("a_b", "a\\_b"));
  EXPECT_FALSE(LikeMatch("axb", "a\\_b"));
  EXPECT_TRUE(LikeMatch("a\\b", "a\\\\b"));
  EXPECT_TRUE(LikeMatch("ab", "a\\b"));  // escaping an ordinary character makes it literal
  EXPECT_TRUE(LikeMatch("", "%"));
  EXPECT_FALSE(LikeMatch("", "_"));
  EXPECT_TRUE(LikeMatch("mississippi", "%iss%ipp%"));
  EXPECT_FALSE(LikeMatch("mississippi", "%iss%ipp%x"));
  EXPECT_TRUE(LikeMatch("abcabcabd", "%abd"));
  // '_' is one UTF-8 character, as in SQLite.
  EXPECT_TRUE(LikeMatch("caf\xC3\xA9", "caf_"));
  EXPECT_FALSE(LikeMatch("caf\xC3\xA9", "caf__"));
  EXPECT_TRUE(
      LikeMatch("\xE2\x82\xAC"
                "5",
                "_5"));
}

TEST(Evaluate, HasTokenMatchesWholeWords) {
  using internal::HasToken;
  EXPECT_TRUE(HasToken("red car", "red"));
  EXPECT_TRUE(HasToken("a red car", "car"));
  EXPECT_TRUE(HasToken("red", "red"));
  EXPECT_TRUE(HasToken("red,blue", "blue"));
  EXPECT_TRUE(HasToken("(red)", "red"));
  EXPECT_TRUE(HasToken("Ford F-150 truck", "F-150"));
  EXPECT_TRUE(HasToken("Ford F 150 truck", "F-150"));  // separators inside a token match any separator
  EXPECT_TRUE(HasToken("big red car", "red car"));
  EXPECT_FALSE(HasToken("redder car", "red"));
  EXPECT_FALSE(HasToken("bored", "red"));
  EXPECT_FALSE(HasToken("red_car", "red"));      // '_' is a word character
  EXPECT_FALSE(HasToken("Red car", "red"));      // case-sensitive
  EXPECT_FALSE(HasToken("caf\xC3\xA9", "caf"));  // non-ASCII bytes are word characters
  EXPECT_EQ(Eval("has_token(name, 'car')"), T);
  EXPECT_EQ(Eval("has_token(name, 'ca')"), F);
}

TEST(Evaluate, ResolvesCurrentUserAndIsMemberFromTheContext) {
  Row row = SampleRow();
  EvalContext alice = EvalContext::ForUser("alice", {"admins"});
  EvalContext bob = EvalContext::ForUser("bob");
  EXPECT_EQ(Eval("owner = current_user()", row, alice), T);
  EXPECT_EQ(Eval("owner = current_user()", row, bob), F);
  EXPECT_EQ(Eval("is_member('admins')", row, alice), T);
  EXPECT_EQ(Eval("is_member('admins')", row, bob), F);
  EXPECT_EQ(Eval("is_member('Admins')", row, alice), F);
  EXPECT_EQ(Eval("current_user() IN ('bob', 'carol')", row, bob), T);
  EXPECT_EQ(Eval("current_user() LIKE 'b%'", row, bob), T);
  // No caller identity: current_user() is NULL, is_member() is FALSE.
  EvalContext nobody;
  EXPECT_EQ(Eval("owner = current_user()", row, nobody), U);
  EXPECT_EQ(Eval("current_user() IS NULL", row, nobody), T);
  EXPECT_EQ(Eval("is_member('admins')", row, nobody), F);
  // A row filter: admins see everything, others their own rows.
  BoundExpr rf = ParseAndBind("is_member('admins') OR owner = current_user()");
  EXPECT_TRUE(Matches(rf, row, alice));
  EXPECT_FALSE(Matches(rf, row, bob));
  row[8] = Value::Str("bob");
  EXPECT_TRUE(Matches(rf, row, bob));
  row[8] = Value();
  EXPECT_FALSE(Matches(rf, row, bob));
}

}  // namespace
}  // namespace vesta::filter
