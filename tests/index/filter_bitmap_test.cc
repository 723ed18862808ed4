// FilterBitmap on a small hand-written table: each predicate kind, NULL
// semantics under NOT, IN lists with NULL, BETWEEN, LIKE and has_token,
// current_user() / is_member(), deleted rows, empty stores and schema
// errors. Every expectation is written by hand and also checked against
// filter::Evaluate row by row, with and without inverted indexes.
#include "index/filter_bitmap.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "filter/filter.h"

namespace vesta::index {
namespace {

using filter::EvalContext;
using Ids = std::vector<uint32_t>;

Ids ToIds(const Roaring& r) {
  Ids out(r.cardinality());
  r.toUint32Array(out.data());
  return out;
}

// Columns: 0 age BIGINT, 1 score DOUBLE, 2 site STRING, 3 flag BOOLEAN, 4 day DATE, 5 owner STRING,
// 6 notes STRING.
Schema Attrs() {
  Schema s;
  s.columns = {{"age", DataType::Bigint(), true, ""},  {"score", DataType::Double(), true, ""},
               {"site", DataType::String(), true, ""}, {"flag", DataType::Boolean(), true, ""},
               {"day", DataType::DateT(), true, ""},   {"owner", DataType::String(), true, ""},
               {"notes", DataType::String(), true, ""}};
  return s;
}

Value Day(int y, int m, int d) {
  return Value::DateV(*MakeDate(y, m, d));
}

std::vector<Row> TableRows() {
  const Value null;
  return {
      {Value::Int(30), Value::Real(1.5), Value::Str("A"), Value::Bool(true), Day(2024, 1, 1),
       Value::Str("alice"), Value::Str("red car")},
      {null, Value::Real(2.0), Value::Str("B"), Value::Bool(false), null, Value::Str("bob"),
       Value::Str("blue-green sky")},
      {Value::Int(45), null, null, null, Day(2024, 2, 15), null, null},
      {Value::Int(18), Value::Real(-1.0), Value::Str("A"), Value::Bool(true), Day(2023, 12, 31),
       Value::Str("alice"), Value::Str("F-150 truck")},
      {Value::Int(60), Value::Real(3.25), Value::Str("C"), Value::Bool(false), Day(2024, 3, 1),
       Value::Str("carol"), Value::Str("100% sure")},
      {Value::Int(30), null, Value::Str("B"), null, Day(2024, 1, 1), Value::Str("bob"),
       Value::Str("the red")},
  };
}

class FilterBitmapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint32_t postings : {4096u, 0u}) {
      AttributeStoreOptions o;
      o.max_postings_values = postings;
      Result<AttributeStore> s = AttributeStore::Create(Attrs(), TableRows(), o);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      stores_.push_back(std::move(s).value());
    }
  }

  // The ids passing `text` (a filter_string, or filters_json if it starts
  // with '{'), after checking that every store agrees with filter::Evaluate.
  Ids Pass(const std::string& text, const EvalContext& ctx = EvalContext::ForUser("alice")) {
    Result<filter::Expr> e =
        text.starts_with("{") ? filter::ParseFiltersJson(text) : filter::ParseFilterString(text);
    EXPECT_TRUE(e.ok()) << text << ": " << e.status().ToString();
    if (!e.ok()) return {};
    Ids first;
    for (size_t k = 0; k < stores_.size(); ++k) {
      const AttributeStore& store = stores_[k];
      Result<PassingRows> rows = FilterBitmap(*e, store, ctx);
      EXPECT_TRUE(rows.ok()) << text << ": " << rows.status().ToString();
      if (!rows.ok()) return {};
      Result<filter::BoundExpr> bound = filter::Bind(*e, store.schema());
      Ids expected;
      for (uint32_t id = 0; id < store.size(); ++id) {
        if (!store.IsDeleted(id) && filter::Matches(*bound, store.GetRow(id), ctx)) expected.push_back(id);
      }
      Ids got = ToIds(rows->bitmap());
      EXPECT_EQ(got, expected) << text << " (store " << k << ") disagrees with filter::Evaluate";
      EXPECT_EQ(rows->cardinality(), got.size());
      if (k == 0) first = got;
    }
    return first;
  }

  std::vector<AttributeStore> stores_;
};

TEST_F(FilterBitmapTest, Comparisons) {
  EXPECT_EQ(Pass("age = 30"), (Ids{0, 5}));
  EXPECT_EQ(Pass("age != 30"), (Ids{2, 3, 4}));  // the NULL age (row 1) is UNKNOWN
  EXPECT_EQ(Pass("age < 30"), (Ids{3}));
  EXPECT_EQ(Pass("age <= 30"), (Ids{0, 3, 5}));
  EXPECT_EQ(Pass("age > 30"), (Ids{2, 4}));
  EXPECT_EQ(Pass("45 <= age"), (Ids{2, 4}));
  EXPECT_EQ(Pass("age > 29.5"), (Ids{0, 2, 4, 5}));
  EXPECT_EQ(Pass("age = 30.0"), (Ids{0, 5}));
  EXPECT_EQ(Pass("age = 30.5"), (Ids{}));
  EXPECT_EQ(Pass("score > 1.5"), (Ids{1, 4}));
  EXPECT_EQ(Pass("score <= 2"), (Ids{0, 1, 3}));
  EXPECT_EQ(Pass("site = 'A'"), (Ids{0, 3}));
  EXPECT_EQ(Pass("site != 'A'"), (Ids{1, 4, 5}));
  EXPECT_EQ(Pass("site >= 'B'"), (Ids{1, 4, 5}));
  EXPECT_EQ(Pass("day < '2024-01-01'"), (Ids{3}));
  EXPECT_EQ(Pass("day = DATE '2024-01-01'"), (Ids{0, 5}));
  EXPECT_EQ(Pass("flag = FALSE"), (Ids{1, 4}));
  EXPECT_EQ(Pass("age = NULL"), (Ids{}));
  EXPECT_EQ(Pass("age != NULL"), (Ids{}));
}

TEST_F(FilterBitmapTest, NullsUnderNotStayUnknown) {
  EXPECT_EQ(Pass("NOT (age = 30)"), (Ids{2, 3, 4}));
  EXPECT_EQ(Pass("NOT NOT (age < 40)"), (Ids{0, 3, 5}));
  EXPECT_EQ(Pass("NOT (age IS NULL)"), (Ids{0, 2, 3, 4, 5}));
  EXPECT_EQ(Pass("age IS NOT NULL AND site IS NULL"), (Ids{2}));
  // Row 1: UNKNOWN OR TRUE = TRUE; row 2: FALSE OR UNKNOWN = UNKNOWN.
  EXPECT_EQ(Pass("NOT (age = 30 OR site = 'B')"), (Ids{3, 4}));
  // Row 1: UNKNOWN AND FALSE = FALSE.
  EXPECT_EQ(Pass("NOT (age = 30 AND site = 'A')"), (Ids{1, 2, 3, 4, 5}));
  EXPECT_EQ(Pass("age > 100 OR age IS NULL"), (Ids{1}));
  EXPECT_EQ(Pass("NOT (score > 0 AND age > 20)"), (Ids{3}));  // rows 1, 2, 5 are UNKNOWN
}

TEST_F(FilterBitmapTest, InListsWithNull) {
  EXPECT_EQ(Pass("site IN ('A', 'C')"), (Ids{0, 3, 4}));
  EXPECT_EQ(Pass("site IN ('A', NULL)"), (Ids{0, 3}));
  EXPECT_EQ(Pass("site NOT IN ('A', NULL)"), (Ids{}));  // never TRUE
  EXPECT_EQ(Pass("NOT (site NOT IN ('A', NULL))"), (Ids{0, 3}));
  EXPECT_EQ(Pass("site NOT IN ('A')"), (Ids{1, 4, 5}));
  EXPECT_EQ(Pass("site IN (NULL)"), (Ids{}));
  EXPECT_EQ(Pass("age IN (30, 18.0, 18.5)"), (Ids{0, 3, 5}));
  EXPECT_EQ(Pass("{\"site\": [\"B\", \"C\"], \"age >=\": 40}"), (Ids{4}));
}

TEST_F(FilterBitmapTest, Between) {
  EXPECT_EQ(Pass("age BETWEEN 18 AND 30"), (Ids{0, 3, 5}));
  EXPECT_EQ(Pass("age NOT BETWEEN 18 AND 30"), (Ids{2, 4}));
  EXPECT_EQ(Pass("age BETWEEN 30 AND 18"), (Ids{}));
  EXPECT_EQ(Pass("age BETWEEN 40 AND NULL"), (Ids{}));  // 45 is UNKNOWN, 30 is FALSE
  EXPECT_EQ(Pass("age NOT BETWEEN 40 AND NULL"), (Ids{0, 3, 5}));
  EXPECT_EQ(Pass("day BETWEEN '2024-01-01' AND '2024-02-01'"), (Ids{0, 5}));
  EXPECT_EQ(Pass("score BETWEEN -1 AND 1.5"), (Ids{0, 3}));
}

TEST_F(FilterBitmapTest, LikeAndHasToken) {
  EXPECT_EQ(Pass("site LIKE 'A%'"), (Ids{0, 3}));
  EXPECT_EQ(Pass("notes LIKE '%red%'"), (Ids{0, 5}));
  EXPECT_EQ(Pass("notes NOT LIKE '%red%'"), (Ids{1, 3, 4}));  // NULL notes (row 2) stay UNKNOWN
  EXPECT_EQ(Pass("NOT (notes LIKE '%red%')"), (Ids{1, 3, 4}));
  EXPECT_EQ(Pass("notes LIKE '100\\%%'"), (Ids{4}));
  EXPECT_EQ(Pass("notes LIKE '_ed car'"), (Ids{0}));
  EXPECT_EQ(Pass("notes LIKE ''"), (Ids{}));
  EXPECT_EQ(Pass("{\"notes LIKE\": \"red\"}"), (Ids{0, 5}));  // whole-token match
  EXPECT_EQ(Pass("has_token(notes, 'F-150')"), (Ids{3}));
  EXPECT_EQ(Pass("has_token(notes, 'green')"), (Ids{1}));
  EXPECT_EQ(Pass("has_token(notes, 'gree')"), (Ids{}));
  EXPECT_EQ(Pass("NOT has_token(notes, 'red')"), (Ids{1, 3, 4}));
}

TEST_F(FilterBitmapTest, BooleanPredicates) {
  EXPECT_EQ(Pass("flag"), (Ids{0, 3}));
  EXPECT_EQ(Pass("NOT flag"), (Ids{1, 4}));
  EXPECT_EQ(Pass("flag IS TRUE"), (Ids{0, 3}));
  EXPECT_EQ(Pass("flag IS NOT TRUE"), (Ids{1, 2, 4, 5}));
  EXPECT_EQ(Pass("flag IS FALSE"), (Ids{1, 4}));
  EXPECT_EQ(Pass("flag IS NOT FALSE"), (Ids{0, 2, 3, 5}));
  EXPECT_EQ(Pass("NOT (flag IS NOT TRUE)"), (Ids{0, 3}));
}

TEST_F(FilterBitmapTest, IdentityFunctionsResolveFromTheContext) {
  const EvalContext alice = EvalContext::ForUser("alice", {"admins"});
  const EvalContext bob = EvalContext::ForUser("bob");
  const EvalContext nobody;
  EXPECT_EQ(Pass("owner = current_user()", alice), (Ids{0, 3}));
  EXPECT_EQ(Pass("owner = current_user()", bob), (Ids{1, 5}));
  EXPECT_EQ(Pass("owner = current_user()", nobody), (Ids{}));  // current_user() is NULL
  EXPECT_EQ(Pass("owner != current_user()", nobody), (Ids{}));
  EXPECT_EQ(Pass("NOT (owner = current_user())", nobody), (Ids{}));
  EXPECT_EQ(Pass("is_member('admins') OR owner = current_user()", alice), (Ids{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Pass("is_member('admins') OR owner = current_user()", bob), (Ids{1, 5}));
  EXPECT_EQ(Pass("is_member('admins')", nobody), (Ids{}));
  EXPECT_EQ(Pass("current_user() IS NULL", nobody), (Ids{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Pass("current_user() IS NULL", alice), (Ids{}));
  EXPECT_EQ(Pass("owner IN (current_user(), 'carol')", bob), (Ids{1, 4, 5}));
  EXPECT_EQ(Pass("owner IN (current_user(), 'carol')", nobody), (Ids{4}));
  EXPECT_EQ(Pass("current_user() = 'alice' AND age > 20", alice), (Ids{0, 2, 4, 5}));
  EXPECT_EQ(Pass("current_user() = 'alice' AND age > 20", bob), (Ids{}));
  EXPECT_EQ(Pass("current_user() LIKE 'b%' OR site = 'C'", bob), (Ids{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Pass("owner > current_user()", bob), (Ids{4}));
}

TEST_F(FilterBitmapTest, Constants) {
  EXPECT_EQ(Pass("TRUE"), (Ids{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Pass("FALSE"), (Ids{}));
  EXPECT_EQ(Pass("NULL"), (Ids{}));
  EXPECT_EQ(Pass("NOT NULL"), (Ids{}));
  EXPECT_EQ(Pass("NULL OR age = 18"), (Ids{3}));
  EXPECT_EQ(Pass("NOT (NULL AND age = 18)"), (Ids{0, 2, 4, 5}));  // NULL AND FALSE is FALSE
  EXPECT_EQ(Pass("{}"), (Ids{0, 1, 2, 3, 4, 5}));
}

TEST_F(FilterBitmapTest, DeletedRowsNeverPass) {
  for (AttributeStore& s : stores_) {
    ASSERT_TRUE(s.Delete(0).ok());
    ASSERT_TRUE(s.Delete(4).ok());
  }
  EXPECT_EQ(Pass("age = 30"), (Ids{5}));
  EXPECT_EQ(Pass("TRUE"), (Ids{1, 2, 3, 5}));
  EXPECT_EQ(Pass("NOT (age = 30)"), (Ids{2, 3}));
  Result<PassingRows> rows =
      FilterBitmap(*filter::ParseFilterString("site = 'B'"), stores_[0], EvalContext());
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->cardinality(), 2u);
  EXPECT_EQ(rows->live_rows(), 4u);
  EXPECT_DOUBLE_EQ(rows->Selectivity(), 0.5);
}

TEST_F(FilterBitmapTest, UpdatesAreVisible) {
  Row row = TableRows()[2];
  row[0] = Value::Int(30);
  row[6] = Value::Str("red");
  for (AttributeStore& s : stores_) ASSERT_TRUE(s.Set(2, row).ok());
  EXPECT_EQ(Pass("age = 30"), (Ids{0, 2, 5}));
  EXPECT_EQ(Pass("has_token(notes, 'red')"), (Ids{0, 2, 5}));
  EXPECT_EQ(Pass("age >= 45"), (Ids{4}));
}

TEST_F(FilterBitmapTest, SelectivityIsCardinalityOverLiveRows) {
  Result<PassingRows> rows =
      FilterBitmap(*filter::ParseFilterString("site = 'A'"), stores_[0], EvalContext());
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->cardinality(), 2u);
  EXPECT_EQ(rows->live_rows(), 6u);
  EXPECT_DOUBLE_EQ(rows->Selectivity(), 2.0 / 6.0);
  Roaring taken = rows->TakeBitmap();
  EXPECT_EQ(ToIds(taken), (Ids{0, 3}));
}

TEST(FilterBitmap, EmptyStorePassesNothing) {
  Result<AttributeStore> store = AttributeStore::Create(Attrs());
  ASSERT_TRUE(store.ok());
  for (const char* text : {"TRUE", "age > 1", "NOT (age > 1)", "site NOT IN ('A', NULL)", "notes LIKE '%'"}) {
    Result<PassingRows> rows = FilterBitmap(*filter::ParseFilterString(text), *store, EvalContext());
    ASSERT_TRUE(rows.ok()) << text << ": " << rows.status().ToString();
    EXPECT_EQ(rows->cardinality(), 0u) << text;
    EXPECT_EQ(rows->live_rows(), 0u);
    EXPECT_EQ(rows->Selectivity(), 0.0);
  }
}

TEST(FilterBitmap, AllDeletedStorePassesNothing) {
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), TableRows());
  ASSERT_TRUE(store.ok());
  for (uint32_t id = 0; id < store->size(); ++id) ASSERT_TRUE(store->Delete(id).ok());
  for (const char* text : {"TRUE", "age IS NULL OR age IS NOT NULL", "NOT (site = 'A')"}) {
    Result<PassingRows> rows = FilterBitmap(*filter::ParseFilterString(text), *store, EvalContext());
    ASSERT_TRUE(rows.ok()) << text;
    EXPECT_TRUE(rows->bitmap().isEmpty()) << text;
    EXPECT_EQ(rows->live_rows(), 0u);
    EXPECT_EQ(rows->Selectivity(), 0.0);
  }
}

TEST(FilterBitmap, UnknownColumnIsAnErrorNamingIt) {
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), TableRows());
  ASSERT_TRUE(store.ok());
  // `mrn` exists in the table but is not a synced (filterable) column.
  Result<PassingRows> rows =
      FilterBitmap(*filter::ParseFilterString("age > 3 AND mrn = 'x'"), *store, EvalContext());
  ASSERT_FALSE(rows.ok());
  EXPECT_TRUE(rows.status().IsInvalidArgument());
  EXPECT_NE(rows.status().message().find("unknown column 'mrn'"), std::string::npos)
      << rows.status().message();
  EXPECT_NE(rows.status().message().find("columns: age, score, site"), std::string::npos);
}

TEST(FilterBitmap, FilterBoundAgainstAnotherSchemaIsRejected) {
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), TableRows());
  ASSERT_TRUE(store.ok());
  Result<filter::Expr> e = filter::ParseFilterString("site = 'A'");
  ASSERT_TRUE(e.ok());

  Schema table = Attrs();  // the source table: more columns than were synced
  table.columns.insert(table.columns.begin(), {"mrn", DataType::String(), true, ""});
  Result<PassingRows> wider = FilterBitmap(*filter::Bind(*e, table), *store, EvalContext());
  ASSERT_FALSE(wider.ok());
  EXPECT_NE(wider.status().message().find("different schema"), std::string::npos) << wider.status().message();

  Schema swapped = Attrs();  // same width, other order
  std::swap(swapped.columns[2], swapped.columns[5]);
  Result<PassingRows> other = FilterBitmap(*filter::Bind(*e, swapped), *store, EvalContext());
  ASSERT_FALSE(other.ok());
  EXPECT_NE(
      other.status().message().find("column 5 is 'site' in the filter but 'owner' in the attribute store"),
      std::string::npos)
      << other.status().message();

  // A filter bound against the store's own schema works.
  EXPECT_TRUE(FilterBitmap(*filter::Bind(*e, store->schema()), *store, EvalContext()).ok());
}

TEST(FilterBitmap, VectorColumnsCannotBeAttributes) {
  Schema s = Attrs();
  s.columns.push_back({"embedding", DataType::Vector(8), true, ""});
  Result<AttributeStore> store = AttributeStore::Create(s);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("'embedding' is VECTOR(8)"), std::string::npos);
}

}  // namespace
}  // namespace vesta::index
