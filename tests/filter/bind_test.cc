// Bind: column resolution, type rules and literal coercion.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "filter/filter.h"
#include "tests/filter/test_util.h"

namespace vesta::filter {
namespace {

using testing::BindError;
using testing::Parse;
using testing::ParseAndBind;
using testing::PatientSchema;

TEST(Bind, ResolvesColumnsIgnoringCaseToTheSchemaSpelling) {
  BoundExpr b = ParseAndBind("AGE > 1 AND Site = 'A'");
  EXPECT_EQ(b.ToString(), "age > 1 AND site = 'A'");
  const Node& n = b.expr().node();
  EXPECT_EQ(n.children[0].node().subject.column_index, 1);
  EXPECT_EQ(n.children[1].node().subject.column_index, 4);
  EXPECT_EQ(b.column_count(), PatientSchema().columns.size());
}

TEST(Bind, ReportsUnknownColumnWithTheTableColumns) {
  EXPECT_EQ(BindError("agee > 1"),
            "filter: unknown column 'agee' (columns: patient_id, age, score, name, site, active, scan_date, "
            "scanned_at, owner, embedding)");
  Schema wide;
  for (int i = 0; i < 25; ++i) {
    std::string name = "c";
    name += std::to_string(i);
    wide.columns.push_back({name, DataType::Bigint(), true, ""});
  }
  Result<BoundExpr> b = Bind(Parse("nope = 1"), wide);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(
      b.status().message(),
      "filter: unknown column 'nope' (columns: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, "
      "c14, c15, c16, c17, c18, c19, ... and 5 more)");
  // Columns anywhere in the tree are checked, including IN/LIKE/IS and under NOT.
  EXPECT_NE(BindError("age = 1 OR NOT (x IS NULL)").find("unknown column 'x'"), std::string::npos);
  EXPECT_NE(BindError("has_token(nam, 'a')").find("unknown column 'nam'"), std::string::npos);
}

TEST(Bind, RejectsLiteralsOfTheWrongType) {
  EXPECT_EQ(BindError("age = 'abc'"), "filter: cannot compare column 'age' (BIGINT) with 'abc' (STRING)");
  EXPECT_EQ(BindError("name = 5"), "filter: cannot compare column 'name' (STRING) with 5 (BIGINT)");
  EXPECT_EQ(BindError("active = 1"), "filter: cannot compare column 'active' (BOOLEAN) with 1 (BIGINT)");
  EXPECT_EQ(BindError("score IN (1, 'x')"),
            "filter: cannot compare column 'score' (DOUBLE) with 'x' (STRING)");
  EXPECT_EQ(BindError("age BETWEEN 1 AND TRUE"),
            "filter: cannot compare column 'age' (BIGINT) with TRUE (BOOLEAN)");
  EXPECT_EQ(BindError("scan_date = 5"), "filter: cannot compare column 'scan_date' (DATE) with 5 (BIGINT)");
  EXPECT_EQ(
      BindError("scan_date = TIMESTAMP '2024-01-01 10:00:00'"),
      "filter: cannot compare column 'scan_date' (DATE) with TIMESTAMP '2024-01-01 10:00:00' (TIMESTAMP)");
  EXPECT_EQ(BindError("age = current_user()"),
            "filter: cannot compare column 'age' (BIGINT) with current_user() (STRING)");
  EXPECT_EQ(BindError("current_user() = 5"),
            "filter: cannot compare current_user() (STRING) with 5 (BIGINT)");
}

TEST(Bind, CoercesStringsComparedWithDatesAndTimestamps) {
  BoundExpr b = ParseAndBind("scan_date >= '2020-01-01' AND scanned_at < '2024-01-31 10:00:00'");
  EXPECT_EQ(b.ToString(), "scan_date >= DATE '2020-01-01' AND scanned_at < TIMESTAMP '2024-01-31 10:00:00'");
  const Node& n = b.expr().node();
  EXPECT_EQ(n.children[0].node().values[0].literal, Value::DateV(MakeDate(2020, 1, 1).value()));
  EXPECT_TRUE(n.children[1].node().values[0].literal.is_timestamp());
  // A DATE literal or a bare date string against a TIMESTAMP column is midnight.
  EXPECT_EQ(ParseAndBind("scanned_at >= DATE '2024-01-31'").ToString(),
            "scanned_at >= TIMESTAMP '2024-01-31 00:00:00'");
  EXPECT_EQ(ParseAndBind("scanned_at IN ('2024-01-31')").ToString(),
            "scanned_at IN (TIMESTAMP '2024-01-31 00:00:00')");
  EXPECT_EQ(ParseAndBind("scan_date BETWEEN '2024-01-01' AND '2024-12-31'").ToString(),
            "scan_date BETWEEN DATE '2024-01-01' AND DATE '2024-12-31'");
}

TEST(Bind, ReportsStringsThatAreNotDates) {
  EXPECT_EQ(
      BindError("scan_date >= '2020-13-01'"),
      "filter: column 'scan_date' is DATE and '2020-13-01' is not a valid DATE: not a valid calendar date: "
      "2020-13-01");
  EXPECT_EQ(BindError("scan_date = ''"),
            "filter: column 'scan_date' is DATE and '' is not a valid DATE: empty string");
  EXPECT_NE(BindError("scanned_at > 'yesterday'")
                .find("filter: column 'scanned_at' is TIMESTAMP and 'yesterday' "
                      "is not a valid TIMESTAMP: expected TIMESTAMP"),
            std::string::npos);
}

TEST(Bind, AllowsNumericComparisonsAcrossBigintAndDouble) {
  BoundExpr b = ParseAndBind("age > 17.5 AND score = 3");
  const Node& n = b.expr().node();
  EXPECT_EQ(n.children[0].node().values[0].literal, Value::Real(17.5));  // kept DOUBLE: numeric comparison
  EXPECT_EQ(n.children[1].node().values[0].literal, Value::Real(3.0));   // coerced to the DOUBLE column
  EXPECT_EQ(b.ToString(), "age > 17.5 AND score = 3.0");
}

TEST(Bind, NullLiteralsFitEveryType) {
  EXPECT_EQ(ParseAndBind("age = NULL OR scan_date IN (NULL) OR active != NULL").ToString(),
            "age = NULL OR scan_date IN (NULL) OR active != NULL");
}

TEST(Bind, RejectsVectorColumns) {
  EXPECT_EQ(BindError("embedding IS NULL"),
            "filter: column 'embedding' is VECTOR(4); vector columns cannot be used in filters");
}

TEST(Bind, ChecksOperandTypesOfLikeHasTokenAndIsTrue) {
  EXPECT_EQ(BindError("age LIKE '1%'"), "filter: LIKE needs a STRING operand; column 'age' is BIGINT");
  EXPECT_EQ(BindError("has_token(scan_date, 'x')"),
            "filter: has_token needs a STRING operand; column 'scan_date' is DATE");
  EXPECT_EQ(BindError("age IS TRUE"), "filter: IS TRUE needs a BOOLEAN operand; column 'age' is BIGINT");
  EXPECT_EQ(BindError("current_user() IS NOT FALSE"),
            "filter: IS FALSE needs a BOOLEAN operand; current_user() is STRING");
  EXPECT_EQ(BindError("age"), "filter: cannot compare column 'age' (BIGINT) with TRUE (BOOLEAN)");
  EXPECT_TRUE(Bind(Parse("current_user() LIKE 'adm%' OR owner = current_user()"), PatientSchema()).ok());
}

TEST(Bind, RejectsMalformedTreesBuiltByHand) {
  Schema s = PatientSchema();
  Result<BoundExpr> b = Bind(
      Expr::Compare(Operand::Literal(Value::Int(1)), CompareOp::kEq, Operand::Literal(Value::Int(1))), s);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(),
            "filter: a comparison needs a column or current_user() on one side, got 1 = 1");
  b = Bind(Expr::Compare(Operand::Column("age"), CompareOp::kEq, Operand::Column("score")), s);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(
      b.status().message(),
      "filter: cannot compare column 'age' with column 'score': comparing two columns is not supported");
  b = Bind(Expr::Like(Operand::Column("name"), "abc\\"), s);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "filter: LIKE pattern ends with a lone escape character '\\'");
  b = Bind(Expr::IsNull(Operand::Literal(Value::Int(1))), s);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "filter: expected a column or current_user() as the operand of 1 IS NULL");
  b = Bind(Expr::Compare(Operand::Column("score"), CompareOp::kLt,
                         Operand::Literal(Value::Real(std::numeric_limits<double>::infinity()))),
           s);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "filter: literal inf is not finite");
}

TEST(Bind, RejectsJunctionsWithoutOperands) {
  Node empty_and;
  empty_and.kind = ExprKind::kAnd;
  Result<BoundExpr> b = Bind(MakeExpr(empty_and), PatientSchema());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "filter: malformed AND/OR with 0 operands");
  Node bad_not;
  bad_not.kind = ExprKind::kNot;
  b = Bind(MakeExpr(bad_not), PatientSchema());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "filter: malformed NOT with 0 operands");
}

TEST(Bind, ListsReferencedColumns) {
  Expr e = Parse("Age > 1 AND (site = 'A' OR age < 5) AND has_token(name, 'x') AND is_member('g')");
  EXPECT_EQ(ReferencedColumns(e), (std::vector<std::string>{"Age", "site", "name"}));
  Result<BoundExpr> b = Bind(e, PatientSchema());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->ReferencedColumns(), (std::vector<int>{1, 3, 4}));
  EXPECT_TRUE(ReferencedColumns(Parse("is_member('g') AND current_user() = 'x'")).empty());
}

}  // namespace
}  // namespace vesta::filter
