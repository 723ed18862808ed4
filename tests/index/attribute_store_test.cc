// AttributeStore: schema checks, append / update / delete, value round trips,
// the column lookups (with and without inverted indexes) and cloning.
#include "index/attribute_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace vesta::index {
namespace {

using filter::CompareOp;

std::vector<uint32_t> Ids(const Roaring& r) {
  std::vector<uint32_t> out(r.cardinality());
  r.toUint32Array(out.data());
  return out;
}

// Columns: 0 age BIGINT, 1 score DOUBLE, 2 site STRING, 3 flag BOOLEAN, 4 day DATE, 5 at TIMESTAMP.
Schema Attrs() {
  Schema s;
  s.columns = {{"age", DataType::Bigint(), true, ""},  {"score", DataType::Double(), true, ""},
               {"site", DataType::String(), true, ""}, {"flag", DataType::Boolean(), true, ""},
               {"day", DataType::DateT(), true, ""},   {"at", DataType::TimestampT(), true, ""}};
  return s;
}

Row MakeRow(Value age, Value score, Value site, Value flag = Value(), Value day = Value(),
            Value at = Value()) {
  return {std::move(age), std::move(score), std::move(site), std::move(flag), std::move(day), std::move(at)};
}

TEST(AttributeStore, RejectsVectorColumnsNamingThem) {
  Schema s = Attrs();
  s.columns.push_back({"embedding", DataType::Vector(4), true, ""});
  Result<AttributeStore> store = AttributeStore::Create(s);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(store.status().IsInvalidArgument());
  EXPECT_NE(store.status().message().find("'embedding' is VECTOR(4)"), std::string::npos)
      << store.status().message();
}

TEST(AttributeStore, RejectsDuplicateAndInvalidColumnNames) {
  Schema s = Attrs();
  s.columns.push_back({"AGE", DataType::Bigint(), true, ""});
  Result<AttributeStore> dup = AttributeStore::Create(s);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("duplicate column name 'AGE'"), std::string::npos);

  Schema bad;
  bad.columns = {{"no spaces", DataType::Bigint(), true, ""}};
  EXPECT_TRUE(AttributeStore::Create(bad).status().IsInvalidArgument());
}

TEST(AttributeStore, OptionsAreValidated) {
  AttributeStoreOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.max_postings_values = (1u << 24) + 1;
  EXPECT_TRUE(o.Validate().IsInvalidArgument());
  EXPECT_TRUE(AttributeStore::Create(Attrs(), o).status().IsInvalidArgument());
}

TEST(AttributeStore, AttributeSchemaProjectsSyncedColumns) {
  Schema table = Attrs();
  table.columns.insert(table.columns.begin(), {"id", DataType::Bigint(), false, ""});
  table.columns.push_back({"embedding", DataType::Vector(3), true, ""});
  table.primary_key = "id";

  Result<Schema> s = AttributeSchema(table, {"Site", "age"});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->columns.size(), 2u);
  EXPECT_EQ(s->columns[0].name, "site");  // the table's spelling
  EXPECT_EQ(s->columns[1].name, "age");
  EXPECT_EQ(s->primary_key, "");
  EXPECT_EQ(AttributeSchema(table, {"id", "age"})->primary_key, "id");

  Result<Schema> unknown = AttributeSchema(table, {"age", "mrn"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown column 'mrn'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("columns: id, age, score"), std::string::npos);

  Result<Schema> vec = AttributeSchema(table, {"embedding"});
  ASSERT_FALSE(vec.ok());
  EXPECT_NE(vec.status().message().find("'embedding' is VECTOR(3)"), std::string::npos);

  EXPECT_TRUE(AttributeSchema(table, {"age", "AGE"}).status().IsInvalidArgument());
}

TEST(AttributeStore, AppendAssignsDenseIdsAndRoundTripsValues) {
  Result<AttributeStore> store = AttributeStore::Create(Attrs());
  ASSERT_TRUE(store.ok());
  Row r0 = MakeRow(Value::Int(42), Value::Real(-0.5), Value::Str("A"), Value::Bool(true),
                   Value::DateV(Date{19700}), Value::Ts(Timestamp{1700000000123456}));
  Row r1 = MakeRow(Value(), Value(), Value(), Value(), Value(), Value());
  Row r2 = MakeRow(Value::Int(-7), Value::Real(1e300), Value::Str(""), Value::Bool(false));
  EXPECT_EQ(*store->Append(r0), 0u);
  EXPECT_EQ(*store->Append(r1), 1u);
  EXPECT_EQ(*store->Append(r2), 2u);
  EXPECT_EQ(store->size(), 3u);
  EXPECT_EQ(store->live_count(), 3u);
  EXPECT_EQ(store->GetRow(0), r0);
  EXPECT_EQ(store->GetRow(1), r1);
  EXPECT_EQ(store->GetRow(2), r2);
  EXPECT_EQ(store->GetValue(2, 2), Value::Str(""));
}

TEST(AttributeStore, AppendRejectsBadRowsAndLeavesTheStoreUnchanged) {
  Schema s = Attrs();
  s.columns[0].nullable = false;
  Result<AttributeStore> store = AttributeStore::Create(s);
  ASSERT_TRUE(store.ok());
  Result<uint32_t> wrong_type = store->Append(MakeRow(Value::Str("x"), Value(), Value()));
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.status().message().find("column 'age'"), std::string::npos)
      << wrong_type.status().message();
  EXPECT_TRUE(store->Append(MakeRow(Value(), Value(), Value())).status().IsInvalidArgument());  // NOT NULL
  EXPECT_TRUE(store->Append({Value::Int(1)}).status().IsInvalidArgument());                     // width
  EXPECT_TRUE(
      store->Append(MakeRow(Value::Int(1), Value::Real(std::numeric_limits<double>::infinity()), Value()))
          .status()
          .IsInvalidArgument());
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(*store->Append(MakeRow(Value::Int(1), Value(), Value())), 0u);
}

TEST(AttributeStore, CreateWithRowsNamesTheBadRow) {
  std::vector<Row> rows = {MakeRow(Value::Int(1), Value(), Value()),
                           MakeRow(Value::Real(2.5), Value(), Value())};
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), rows);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("row 1: "), std::string::npos) << store.status().message();
}

TEST(AttributeStore, SetUpdatesValuesAndIndexes) {
  std::vector<Row> rows;
  for (int i = 0; i < 10; ++i)
    rows.push_back(MakeRow(Value::Int(i), Value::Real(i), Value::Str("s" + std::to_string(i))));
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), rows);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(store->Set(3, MakeRow(Value::Int(100), Value(), Value::Str("s7"))).ok());
  EXPECT_EQ(store->GetValue(3, 0), Value::Int(100));
  EXPECT_EQ(Ids(*store->CompareIds(0, CompareOp::kGe, Value::Int(8))), (std::vector<uint32_t>{3, 8, 9}));
  EXPECT_EQ(Ids(*store->CompareIds(2, CompareOp::kEq, Value::Str("s7"))), (std::vector<uint32_t>{3, 7}));
  EXPECT_TRUE(store->CompareIds(2, CompareOp::kEq, Value::Str("s3"))->isEmpty());
  EXPECT_EQ(Ids(*store->NullIds(1)), (std::vector<uint32_t>{3}));

  EXPECT_TRUE(store->Set(10, rows[0]).IsNotFound());
  EXPECT_TRUE(store->Set(0, {Value::Int(1)}).IsInvalidArgument());
  ASSERT_TRUE(store->Delete(4).ok());
  EXPECT_TRUE(store->Set(4, rows[0]).IsFailedPrecondition());
}

TEST(AttributeStore, DeleteKeepsATombstoneSet) {
  std::vector<Row> rows(5, MakeRow(Value::Int(1), Value(), Value()));
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), rows);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(store->Delete(1).ok());
  ASSERT_TRUE(store->Delete(3).ok());
  ASSERT_TRUE(store->Delete(3).ok());  // idempotent
  EXPECT_TRUE(store->Delete(5).IsNotFound());
  EXPECT_EQ(Ids(store->deleted()), (std::vector<uint32_t>{1, 3}));
  EXPECT_TRUE(store->IsDeleted(3));
  EXPECT_FALSE(store->IsDeleted(2));
  EXPECT_EQ(store->live_count(), 3u);
  EXPECT_EQ(store->size(), 5u);
  // Column lookups still see deleted rows; FilterBitmap removes them.
  EXPECT_EQ(store->CompareIds(0, CompareOp::kEq, Value::Int(1))->cardinality(), 5u);
}

TEST(AttributeStore, BigintAgainstDoubleLiteralsIsExact) {
  constexpr int64_t kTwo53 = int64_t{1} << 53;
  const std::vector<int64_t> values = {kTwo53 - 1,
                                       kTwo53,
                                       kTwo53 + 1,
                                       2,
                                       3,
                                       -3,
                                       std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min()};
  std::vector<Row> rows;
  for (int64_t v : values) rows.push_back(MakeRow(Value::Int(v), Value(), Value()));
  for (uint32_t postings : {0u, 4096u}) {
    AttributeStoreOptions o;
    o.max_postings_values = postings;
    Result<AttributeStore> store = AttributeStore::Create(Attrs(), rows, o);
    ASSERT_TRUE(store.ok());
    auto ids = [&](CompareOp op, double d) { return Ids(*store->CompareIds(0, op, Value::Real(d))); };
    EXPECT_EQ(ids(CompareOp::kEq, 9007199254740992.0), (std::vector<uint32_t>{1}));  // not 2^53 + 1
    EXPECT_EQ(ids(CompareOp::kGt, 9007199254740992.0), (std::vector<uint32_t>{2, 6}));
    EXPECT_EQ(ids(CompareOp::kLt, 2.5), (std::vector<uint32_t>{3, 5, 7}));
    EXPECT_EQ(ids(CompareOp::kGe, 2.5), (std::vector<uint32_t>{0, 1, 2, 4, 6}));
    EXPECT_TRUE(ids(CompareOp::kEq, 2.5).empty());
    EXPECT_EQ(ids(CompareOp::kNe, 2.5).size(), values.size());
    EXPECT_EQ(ids(CompareOp::kLe, -3.0), (std::vector<uint32_t>{5, 7}));
    EXPECT_EQ(ids(CompareOp::kLt, 1e19).size(), values.size());  // above every int64
    EXPECT_TRUE(ids(CompareOp::kGe, 1e19).empty());
    EXPECT_EQ(ids(CompareOp::kGe, -9223372036854775808.0).size(), values.size());
    EXPECT_EQ(ids(CompareOp::kEq, -9223372036854775808.0), (std::vector<uint32_t>{7}));
    EXPECT_TRUE(ids(CompareOp::kLt, -9223372036854775808.0).empty());
    EXPECT_EQ(Ids(*store->CompareIds(0, CompareOp::kGt, Value::Int(std::numeric_limits<int64_t>::max()))),
              std::vector<uint32_t>{});
  }
}

TEST(AttributeStore, DoubleComparisonsTreatNegativeZeroAsZero) {
  std::vector<Row> rows = {
      MakeRow(Value(), Value::Real(-0.0), Value()), MakeRow(Value(), Value::Real(0.0), Value()),
      MakeRow(Value(), Value::Real(-1e-300), Value()), MakeRow(Value(), Value::Real(5e-324), Value())};
  for (uint32_t postings : {0u, 4096u}) {
    AttributeStoreOptions o;
    o.max_postings_values = postings;
    Result<AttributeStore> store = AttributeStore::Create(Attrs(), rows, o);
    ASSERT_TRUE(store.ok());
    auto ids = [&](CompareOp op, double d) { return Ids(*store->CompareIds(1, op, Value::Real(d))); };
    EXPECT_EQ(ids(CompareOp::kEq, 0.0), (std::vector<uint32_t>{0, 1}));
    EXPECT_EQ(ids(CompareOp::kEq, -0.0), (std::vector<uint32_t>{0, 1}));
    EXPECT_EQ(ids(CompareOp::kLt, 0.0), (std::vector<uint32_t>{2}));
    EXPECT_EQ(ids(CompareOp::kGt, -0.0), (std::vector<uint32_t>{3}));
    EXPECT_EQ(ids(CompareOp::kGe, -0.0), (std::vector<uint32_t>{0, 1, 3}));
  }
}

TEST(AttributeStore, StringRangesAreByteWise) {
  const std::vector<std::string> words = {"b", "a", "B", "caf\xC3\xA9", "", "ab", "b", "z"};
  std::vector<Row> rows;
  for (const std::string& w : words) rows.push_back(MakeRow(Value(), Value(), Value::Str(w)));
  rows.push_back(MakeRow(Value(), Value(), Value()));
  for (uint32_t postings : {0u, 4096u}) {
    AttributeStoreOptions o;
    o.max_postings_values = postings;
    Result<AttributeStore> store = AttributeStore::Create(Attrs(), rows, o);
    ASSERT_TRUE(store.ok());
    auto ids = [&](CompareOp op, const std::string& s) {
      return Ids(*store->CompareIds(2, op, Value::Str(s)));
    };
    EXPECT_EQ(ids(CompareOp::kLt, "a"), (std::vector<uint32_t>{2, 4}));  // "B" < "a" byte-wise, "" first
    EXPECT_EQ(ids(CompareOp::kLe, "ab"), (std::vector<uint32_t>{1, 2, 4, 5}));
    EXPECT_EQ(ids(CompareOp::kGt, "b"), (std::vector<uint32_t>{3, 7}));
    EXPECT_EQ(ids(CompareOp::kGe, "b"), (std::vector<uint32_t>{0, 3, 6, 7}));
    EXPECT_EQ(ids(CompareOp::kEq, "b"), (std::vector<uint32_t>{0, 6}));
    EXPECT_EQ(ids(CompareOp::kNe, "b"), (std::vector<uint32_t>{1, 2, 3, 4, 5, 7}));  // NULL row 8 excluded
    EXPECT_TRUE(ids(CompareOp::kEq, "nope").empty());
    Result<Roaring> has_a =
        store->StringMatchIds(2, [](std::string_view s) { return s.find('a') != s.npos; });
    ASSERT_TRUE(has_a.ok());
    EXPECT_EQ(Ids(*has_a), (std::vector<uint32_t>{1, 3, 5}));
  }
}

TEST(AttributeStore, CompareAllIdsIntersectsConditionsInOneLookup) {
  std::vector<Row> rows;
  for (int i = 0; i < 20; ++i) {
    rows.push_back(MakeRow(i % 5 == 4 ? Value() : Value::Int(i), Value(),
                           Value::Str(std::string(1, static_cast<char>('a' + i % 7)))));
  }
  for (uint32_t postings : {0u, 4096u}) {
    AttributeStoreOptions o;
    o.max_postings_values = postings;
    Result<AttributeStore> store = AttributeStore::Create(Attrs(), rows, o);
    ASSERT_TRUE(store.ok());
    auto ids = [&](int column, std::vector<Comparison> all) {
      Result<Roaring> r = store->CompareAllIds(column, all);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      return r.ok() ? Ids(*r) : std::vector<uint32_t>{999};
    };
    EXPECT_EQ(ids(0, {{CompareOp::kGe, Value::Int(5)},
                      {CompareOp::kLt, Value::Real(12.5)},
                      {CompareOp::kNe, Value::Int(7)}}),
              (std::vector<uint32_t>{5, 6, 8, 10, 11, 12}));  // 9 is NULL
    EXPECT_EQ(ids(0, {{CompareOp::kGt, Value::Int(10)}, {CompareOp::kLt, Value::Int(10)}}),
              std::vector<uint32_t>{});
    EXPECT_EQ(ids(0, {{CompareOp::kNe, Value::Int(0)}}).size(), 15u);  // 16 non-NULL minus one
    EXPECT_EQ(ids(0, {}).size(), 16u);
    EXPECT_EQ(ids(0, {{CompareOp::kGe, Value::Int(0)}, {CompareOp::kLe, Value()}}), std::vector<uint32_t>{});
    // Strings: rows hold 'a'..'g' cyclically.
    EXPECT_EQ(ids(2, {{CompareOp::kGt, Value::Str("b")},
                      {CompareOp::kLe, Value::Str("d")},
                      {CompareOp::kNe, Value::Str("c")}}),
              (std::vector<uint32_t>{3, 10, 17}));
    EXPECT_EQ(ids(2, {{CompareOp::kNe, Value::Str("a")},
                      {CompareOp::kNe, Value::Str("b")},
                      {CompareOp::kNe, Value::Str("g")},
                      {CompareOp::kNe, Value::Str("f")},
                      {CompareOp::kNe, Value::Str("e")}}),
              (std::vector<uint32_t>{2, 3, 9, 10, 16, 17}));
    EXPECT_EQ(ids(2, {{CompareOp::kEq, Value::Str("a")}, {CompareOp::kGe, Value::Str("a")}}),
              (std::vector<uint32_t>{0, 7, 14}));
    EXPECT_EQ(ids(2, {{CompareOp::kEq, Value::Str("a")}, {CompareOp::kGt, Value::Str("a")}}),
              std::vector<uint32_t>{});
    EXPECT_EQ(ids(2, {{CompareOp::kEq, Value::Str("zz")}, {CompareOp::kLt, Value::Str("zzz")}}),
              std::vector<uint32_t>{});
    EXPECT_TRUE(store->CompareAllIds(2, {{CompareOp::kLt, Value::Int(1)}}).status().IsInvalidArgument());
    // StringMatchIds with a prefix only offers values that have it.
    std::vector<std::string> offered;
    Result<Roaring> m = store->StringMatchIds(
        2,
        [&](std::string_view v) {
          offered.emplace_back(v);
          return true;
        },
        "c");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(offered, std::vector<std::string>{"c"});
    EXPECT_EQ(Ids(*m), (std::vector<uint32_t>{2, 9, 16}));
  }
}

TEST(AttributeStore, LookupsRejectMismatchedLiteralsAndColumns) {
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), {MakeRow(Value::Int(1), Value(), Value())});
  ASSERT_TRUE(store.ok());
  Result<Roaring> r = store->CompareIds(0, CompareOp::kEq, Value::Str("1"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot compare column 'age' (BIGINT) with 1 (STRING)"),
            std::string::npos)
      << r.status().message();
  EXPECT_TRUE(store->CompareIds(4, CompareOp::kEq, Value::Ts(Timestamp{0})).status().IsInvalidArgument());
  EXPECT_TRUE(store->CompareIds(1, CompareOp::kEq, Value::Int(1)).status().IsInvalidArgument());
  EXPECT_TRUE(store->CompareIds(0, CompareOp::kEq, Value::Real(std::nan(""))).status().IsInvalidArgument());
  EXPECT_TRUE(store->CompareIds(6, CompareOp::kEq, Value::Int(1)).status().IsInvalidArgument());
  EXPECT_TRUE(store->NullIds(-1).status().IsInvalidArgument());
  EXPECT_TRUE(store->StringMatchIds(0, [](std::string_view) { return true; }).status().IsInvalidArgument());
  EXPECT_TRUE(store->CompareIds(0, CompareOp::kEq, Value())->isEmpty());  // NULL literal: never TRUE
}

TEST(AttributeStore, InvertedIndexIsDroppedPastTheCardinalityLimit) {
  AttributeStoreOptions o;
  o.max_postings_values = 3;
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), o);
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(store->Append(MakeRow(Value::Int(i), Value(), Value::Str(std::to_string(i)))).ok());
  EXPECT_TRUE(store->HasPostings(0));
  EXPECT_TRUE(store->HasPostings(2));
  ASSERT_TRUE(store->Append(MakeRow(Value::Int(3), Value(), Value::Str("3"))).ok());
  EXPECT_FALSE(store->HasPostings(0));
  EXPECT_FALSE(store->HasPostings(2));
  EXPECT_EQ(Ids(*store->CompareIds(0, CompareOp::kLe, Value::Int(1))), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(Ids(*store->CompareIds(2, CompareOp::kEq, Value::Str("3"))), (std::vector<uint32_t>{3}));
  EXPECT_EQ(Ids(*store->EqualAnyIds(2, {Value::Str("0"), Value(), Value::Str("3"), Value::Str("9")})),
            (std::vector<uint32_t>{0, 3}));
}

TEST(AttributeStore, LazySortedIndexFollowsAppendsAndUpdates) {
  AttributeStoreOptions o;
  o.max_postings_values = 0;  // every lookup goes through the sorted indexes
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), o);
  ASSERT_TRUE(store.ok());
  std::vector<int64_t> ages;
  for (int i = 0; i < 200; ++i) {
    ages.push_back((i * 37) % 50);
    ASSERT_TRUE(
        store->Append(MakeRow(Value::Int(ages.back()), Value(), Value::Str(std::to_string(ages.back() % 7))))
            .ok());
    if (i % 20 == 19) {
      ASSERT_TRUE(
          store->Set(static_cast<uint32_t>(i / 2), MakeRow(Value::Int(25), Value(), Value::Str("x"))).ok());
      ages[static_cast<size_t>(i / 2)] = 25;
    }
    if (i % 10 == 0) {  // query between changes: merges appended rows, re-sorts after updates
      std::vector<uint32_t> expected;
      for (size_t id = 0; id < ages.size(); ++id) {
        if (ages[id] >= 20 && ages[id] <= 30) expected.push_back(static_cast<uint32_t>(id));
      }
      Roaring ge = *store->CompareIds(0, CompareOp::kGe, Value::Int(20));
      Roaring le = *store->CompareIds(0, CompareOp::kLe, Value::Int(30));
      EXPECT_EQ(Ids(ge & le), expected) << "after " << i + 1 << " rows";
    }
  }
}

TEST(AttributeStore, CloneIsIndependent) {
  std::vector<Row> rows;
  for (int i = 0; i < 20; ++i)
    rows.push_back(MakeRow(Value::Int(i % 4), Value(), Value::Str(i % 2 ? "odd" : "even")));
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), rows);
  ASSERT_TRUE(store.ok());
  AttributeStore copy = store->Clone();
  ASSERT_TRUE(copy.Set(0, MakeRow(Value::Int(9), Value(), Value::Str("odd"))).ok());
  ASSERT_TRUE(copy.Delete(1).ok());
  ASSERT_TRUE(copy.Append(MakeRow(Value::Int(9), Value(), Value())).ok());
  EXPECT_EQ(store->size(), 20u);
  EXPECT_TRUE(store->deleted().isEmpty());
  EXPECT_EQ(store->GetValue(0, 0), Value::Int(0));
  EXPECT_EQ(store->CompareIds(2, CompareOp::kEq, Value::Str("odd"))->cardinality(), 10u);
  EXPECT_EQ(copy.CompareIds(2, CompareOp::kEq, Value::Str("odd"))->cardinality(), 11u);
  EXPECT_EQ(Ids(*copy.CompareIds(0, CompareOp::kEq, Value::Int(9))), (std::vector<uint32_t>{0, 20}));
  EXPECT_GT(copy.MemoryUsage(), 0u);
}

TEST(AttributeStore, ConcurrentLookupsAfterAppendsAgree) {
  AttributeStoreOptions o;
  o.max_postings_values = 0;
  Result<AttributeStore> store = AttributeStore::Create(Attrs(), o);
  ASSERT_TRUE(store.ok());
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(
        store
            ->Append(MakeRow(Value::Int(i % 1000), Value::Real(i * 0.5), Value::Str(std::to_string(i % 300))))
            .ok());
  }
  // Both threads find every index dirty and race to rebuild it.
  uint64_t counts[2] = {0, 0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      counts[t] = store->CompareIds(0, CompareOp::kLt, Value::Int(100))->cardinality() +
                  store->CompareIds(1, CompareOp::kGe, Value::Real(1000.0))->cardinality() +
                  store->CompareIds(2, CompareOp::kLt, Value::Str("2"))->cardinality();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(counts[0], counts[1]);
  // 500 ages < 100; scores 1000..2499.5 are 3000 rows; strings "0".."199"... < "2": "0", "1", "1x", "1xx".
  uint64_t below_2 = 0;
  for (int i = 0; i < 5000; ++i) below_2 += std::to_string(i % 300) < "2" ? 1 : 0;
  EXPECT_EQ(counts[0], 500u + 3000u + below_2);
}

}  // namespace
}  // namespace vesta::index
