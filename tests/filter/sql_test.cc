// ToSql: the shape of the SQL and its parameters (no database here; the
// equivalence test runs the SQL in SQLite).
#include <gtest/gtest.h>

#include <string>

#include "filter/filter.h"
#include "tests/filter/test_util.h"

namespace vesta::filter {
namespace {

using testing::ParseAndBind;

SqlContext Ctx(EvalContext caller = EvalContext::ForUser("alice", {"admins"})) {
  SqlContext ctx;
  ctx.column_sql = [](int i) { return "\"c" + std::to_string(i) + "\""; };
  ctx.caller = std::move(caller);
  return ctx;
}

SqlFragment Sql(std::string_view filter, const SqlContext& ctx = Ctx()) {
  return ToSql(ParseAndBind(filter), ctx);
}

TEST(ToSql, RendersColumnsThroughTheCallbackAndLiteralsAsParameters) {
  SqlFragment f = Sql("age >= 18 AND name LIKE 'Sm%' AND site != 'A'");
  EXPECT_EQ(f.sql, "((\"c1\" >= ?) AND (\"c3\" LIKE ? ESCAPE '\\') AND (\"c4\" <> ?))");
  EXPECT_EQ(f.params, (std::vector<Value>{Value::Int(18), Value::Str("Sm%"), Value::Str("A")}));
}

TEST(ToSql, RendersEveryPredicateForm) {
  EXPECT_EQ(Sql("age < 1 OR age <= 2 OR age > 3 OR age = 4").sql,
            "((\"c1\" < ?) OR (\"c1\" <= ?) OR (\"c1\" > ?) OR (\"c1\" = ?))");
  SqlFragment f = Sql("site IN ('A', NULL) AND site NOT IN ('B')");
  EXPECT_EQ(f.sql, "((\"c4\" IN (?, ?)) AND (\"c4\" NOT IN (?)))");
  EXPECT_EQ(f.params, (std::vector<Value>{Value::Str("A"), Value(), Value::Str("B")}));
  EXPECT_EQ(Sql("age BETWEEN 1 AND 2").sql, "(\"c1\" BETWEEN ? AND ?)");
  EXPECT_EQ(Sql("age NOT BETWEEN 1 AND 2").sql, "(\"c1\" NOT BETWEEN ? AND ?)");
  EXPECT_EQ(Sql("age IS NULL OR age IS NOT NULL").sql, "((\"c1\" IS NULL) OR (\"c1\" IS NOT NULL))");
  EXPECT_EQ(Sql("active IS TRUE OR active IS NOT FALSE").sql, "((\"c5\" IS TRUE) OR (\"c5\" IS NOT FALSE))");
  EXPECT_EQ(Sql("name NOT LIKE 'x'").sql, "(\"c3\" NOT LIKE ? ESCAPE '\\')");
  EXPECT_EQ(Sql("NOT (age = 1)").sql, "(NOT (\"c1\" = ?))");
  EXPECT_EQ(Sql("TRUE AND (FALSE OR NULL)").sql, "(1 AND (0 OR NULL))");
}

TEST(ToSql, ParametersAreTheCoercedValues) {
  SqlFragment f =
      Sql("scan_date >= '2020-01-01' AND scanned_at < DATE '2020-01-02' AND score = 3 AND active");
  EXPECT_EQ(f.params, (std::vector<Value>{Value::DateV(MakeDate(2020, 1, 1).value()),
                                          Value::Ts(ParseTimestamp("2020-01-02").value()), Value::Real(3.0),
                                          Value::Bool(true)}));
}

TEST(ToSql, ResolvesIdentityFunctionsIntoParameters) {
  SqlFragment f = Sql("owner = current_user() OR is_member('admins') OR is_member('other')");
  EXPECT_EQ(f.sql, "((\"c8\" = ?) OR ? OR ?)");
  EXPECT_EQ(f.params, (std::vector<Value>{Value::Str("alice"), Value::Bool(true), Value::Bool(false)}));
  f = Sql("current_user() = 'bob'", Ctx(EvalContext()));
  EXPECT_EQ(f.sql, "(? = ?)");
  EXPECT_EQ(f.params, (std::vector<Value>{Value(), Value::Str("bob")}));  // no identity: NULL
}

TEST(ToSql, CompilesHasTokenToAGlobOverSeparatorClasses) {
  SqlFragment f = Sql("has_token(name, 'F-150_x')");
  EXPECT_EQ(f.sql, "((' ' || \"c3\" || ' ') GLOB ?)");
  const std::string sep = "[] \t\n\v\f\r!\"#$%&'()*+,./:;<=>?@[\\^`{|}~-]";
  EXPECT_EQ(f.params, (std::vector<Value>{Value::Str("*" + sep + "F" + sep + "150_x" + sep + "*")}));
}

TEST(ToSql, NeverSplicesUserTextIntoTheSql) {
  const std::string evil = "'; DROP TABLE x; --";
  for (const std::string& filter :
       {std::string("name = '''; DROP TABLE x; --'"), std::string("name LIKE '''; DROP TABLE x; --'"),
        std::string("name IN ('a', '''; DROP TABLE x; --')"),
        std::string("has_token(name, '''; DROP TABLE x; --')"),
        std::string("is_member('''; DROP TABLE x; --')"), std::string("owner = current_user()")}) {
    SqlContext ctx = Ctx(EvalContext::ForUser(evil, {}));
    SqlFragment f = Sql(filter, ctx);
    EXPECT_EQ(f.sql.find("DROP"), std::string::npos) << filter << " -> " << f.sql;
    EXPECT_EQ(f.sql.find("--"), std::string::npos) << filter << " -> " << f.sql;
    bool in_params = false;
    for (const Value& p : f.params) {
      in_params = in_params || (p.is_string() && p.as_string().find("DROP") != std::string::npos);
    }
    EXPECT_TRUE(in_params || filter.find("is_member") == 0) << filter;
  }
  Result<Expr> json = ParseFiltersJson(R"({"name": "'; DROP TABLE x; --", "site NOT": ["x\"); --"]})");
  ASSERT_TRUE(json.ok());
  Result<BoundExpr> bound = Bind(*json, testing::PatientSchema());
  ASSERT_TRUE(bound.ok());
  SqlFragment f = ToSql(*bound, Ctx());
  EXPECT_EQ(f.sql, "((\"c3\" = ?) AND (\"c4\" NOT IN (?)))");
  EXPECT_EQ(f.params, (std::vector<Value>{Value::Str(evil), Value::Str("x\"); --")}));
}

}  // namespace
}  // namespace vesta::filter
