// The in-memory and the SQL paths agree: for hundreds of generated filters
// over a few hundred generated rows with NULLs, SQLite running ToSql's
// condition returns, row by row, the same TRUE / FALSE / NULL as Evaluate.
// SQLite is linked by this test only (vesta_filter does not depend on it).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/testing/filter_fixtures.h"
#include "filter/filter.h"
#include "filter/internal/match.h"

namespace vesta::filter {
namespace {

constexpr int32_t kDay0 = 19700;  // 2023-12-09
constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;
constexpr int64_t kBigInt = 9007199254740993;  // 2^53 + 1: not representable as a double

// Columns: 0 id, 1 i BIGINT, 2 d DOUBLE, 3 s STRING, 4 b BOOLEAN, 5 dt DATE, 6 ts TIMESTAMP, 7 owner STRING.
Schema MixedSchema() {
  Schema s;
  s.columns = {{"id", DataType::Bigint(), false, ""},    {"i", DataType::Bigint(), true, ""},
               {"d", DataType::Double(), true, ""},      {"s", DataType::String(), true, ""},
               {"b", DataType::Boolean(), true, ""},     {"dt", DataType::DateT(), true, ""},
               {"ts", DataType::TimestampT(), true, ""}, {"owner", DataType::String(), true, ""}};
  s.primary_key = "id";
  return s;
}

using ::vesta::testing::Owners;
using ::vesta::testing::Words;

// Binds `v` the way the store encodes columns (see filter/sql.h).
void BindValue(sqlite3_stmt* stmt, int index, const Value& v) {
  int rc = SQLITE_OK;
  if (v.is_null()) {
    rc = sqlite3_bind_null(stmt, index);
  } else if (v.is_int()) {
    rc = sqlite3_bind_int64(stmt, index, v.as_int());
  } else if (v.is_double()) {
    rc = sqlite3_bind_double(stmt, index, v.as_double());
  } else if (v.is_string()) {
    rc = sqlite3_bind_text(stmt, index, v.as_string().data(), static_cast<int>(v.as_string().size()),
                           SQLITE_TRANSIENT);
  } else if (v.is_bool()) {
    rc = sqlite3_bind_int64(stmt, index, v.as_bool() ? 1 : 0);
  } else if (v.is_date()) {
    rc = sqlite3_bind_int64(stmt, index, v.as_date().days);
  } else if (v.is_timestamp()) {
    rc = sqlite3_bind_int64(stmt, index, v.as_timestamp().micros);
  } else {
    ADD_FAILURE() << "cannot bind " << v.ToString();
  }
  ASSERT_EQ(rc, SQLITE_OK);
}

class Db {
 public:
  Db() {
    EXPECT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    Exec("PRAGMA case_sensitive_like=ON");
    Exec(
        "CREATE TABLE t (c0 INTEGER PRIMARY KEY, c1 INTEGER, c2 REAL, c3 TEXT, c4 INTEGER, c5 INTEGER, "
        "c6 INTEGER, c7 TEXT)");
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void Exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }

  void Insert(const Row& row) {
    sqlite3_stmt* stmt = Prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    for (size_t i = 0; i < row.size(); ++i) BindValue(stmt, static_cast<int>(i) + 1, row[i]);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
  }

  // id -> truth of `f` for every row (SELECT c0, (f) FROM t).
  std::map<int64_t, Truth> TruthPerRow(const SqlFragment& f) {
    std::map<int64_t, Truth> out;
    sqlite3_stmt* stmt = Prepare("SELECT c0, " + f.sql + " FROM t");
    if (stmt == nullptr) return out;
    for (size_t i = 0; i < f.params.size(); ++i) BindValue(stmt, static_cast<int>(i) + 1, f.params[i]);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      Truth t = Truth::kUnknown;
      if (sqlite3_column_type(stmt, 1) != SQLITE_NULL) {
        t = sqlite3_column_int64(stmt, 1) != 0 ? Truth::kTrue : Truth::kFalse;
      }
      out[sqlite3_column_int64(stmt, 0)] = t;
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    return out;
  }

  // Ids of the rows `WHERE f` selects.
  std::set<int64_t> Where(const SqlFragment& f) {
    std::set<int64_t> out;
    sqlite3_stmt* stmt = Prepare("SELECT c0 FROM t WHERE " + f.sql);
    if (stmt == nullptr) return out;
    for (size_t i = 0; i < f.params.size(); ++i) BindValue(stmt, static_cast<int>(i) + 1, f.params[i]);
    while (sqlite3_step(stmt) == SQLITE_ROW) out.insert(sqlite3_column_int64(stmt, 0));
    sqlite3_finalize(stmt);
    return out;
  }

  int64_t CountRows() {
    sqlite3_stmt* stmt = Prepare("SELECT count(*) FROM t");
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return n;
  }

 private:
  sqlite3_stmt* Prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db_);
    return rc == SQLITE_OK ? stmt : nullptr;
  }

  sqlite3* db_ = nullptr;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  Row RandomRow(int64_t id) {
    auto null_or = [&](Value v) { return Chance(0.15) ? Value() : std::move(v); };
    int64_t i = Chance(0.05) ? (Chance(0.5) ? kBigInt : -kBigInt) : Uniform(-5, 20);
    return {Value::Int(id),
            null_or(Value::Int(i)),
            null_or(Value::Real(static_cast<double>(Uniform(-20, 20)) * 0.5)),
            null_or(Value::Str(Pick(Words()))),
            null_or(Value::Bool(Chance(0.5))),
            null_or(Value::DateV(Date{kDay0 + static_cast<int32_t>(Uniform(0, 30))})),
            null_or(Value::Ts(Timestamp{kDay0 * kMicrosPerDay + Uniform(0, 72) * 3600000000LL +
                                        (Chance(0.2) ? Uniform(1, 999999) : 0)})),
            null_or(Value::Str(Pick(Owners())))};
  }

  Expr Filter(int depth) {
    int r = static_cast<int>(Uniform(0, 9));
    if (depth >= 4 || r < 4) return Leaf();
    std::vector<Expr> children;
    int n = static_cast<int>(Uniform(2, 3));
    if (r >= 8) return Expr::Not(Filter(depth + 1));
    for (int k = 0; k < n; ++k) children.push_back(Filter(depth + 1));
    return r < 6 ? Expr::And(std::move(children)) : Expr::Or(std::move(children));
  }

 private:
  int64_t Uniform(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Uniform(0, static_cast<int64_t>(v.size()) - 1))];
  }

  static std::string ColumnName(int index) {
    static const char* kNames[] = {"id", "i", "d", "s", "b", "dt", "ts", "owner"};
    return kNames[index];
  }

  // A literal that binds against column `index` (sometimes NULL, sometimes of
  // another numeric type, dates sometimes as strings).
  Operand LiteralFor(int index) {
    if (Chance(0.08)) return Operand::Literal(Value());
    switch (index) {
      case 0:
        return Operand::Literal(Value::Int(Uniform(0, 410)));
      case 1: {
        double p = std::uniform_real_distribution<double>(0, 1)(rng_);
        if (p < 0.65) return Operand::Literal(Value::Int(Uniform(-6, 21)));
        if (p < 0.85) return Operand::Literal(Value::Real(static_cast<double>(Uniform(-12, 42)) * 0.5));
        if (p < 0.95) return Operand::Literal(Value::Real(9007199254740992.0));
        return Operand::Literal(Value::Int(Chance(0.5) ? kBigInt : kBigInt - 1));
      }
      case 2:
        if (Chance(0.3)) return Operand::Literal(Value::Int(Uniform(-10, 10)));
        return Operand::Literal(Value::Real(static_cast<double>(Uniform(-42, 42)) * 0.25));
      case 3:
        return Operand::Literal(Value::Str(Chance(0.9) ? Pick(Words()) : "zzz"));
      case 4:
        return Operand::Literal(Value::Bool(Chance(0.5)));
      case 5: {
        Date d{kDay0 + static_cast<int32_t>(Uniform(-2, 32))};
        return Operand::Literal(Chance(0.5) ? Value::DateV(d) : Value::Str(FormatDate(d)));
      }
      case 6: {
        Timestamp t{kDay0 * kMicrosPerDay + Uniform(-2, 74) * 3600000000LL};
        double p = std::uniform_real_distribution<double>(0, 1)(rng_);
        if (p < 0.4) return Operand::Literal(Value::Ts(t));
        if (p < 0.7)
          return Operand::Literal(Value::DateV(Date{kDay0 + static_cast<int32_t>(Uniform(-1, 4))}));
        std::string text = FormatTimestamp(t);  // "...T...Z", also accepted with a space and no Z
        if (Chance(0.5)) {
          text[10] = ' ';
          text.pop_back();
        }
        return Operand::Literal(Value::Str(text));
      }
      default:
        return Operand::Literal(Value::Str(Chance(0.85) ? Pick(Owners()) : "dave"));
    }
  }

  std::string LikePattern() {
    double p = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (p < 0.05) return "%";
    if (p < 0.08) return "";
    if (p < 0.1) return "_%";
    std::string word;
    while (word.empty()) word = Pick(Words());
    // Cut on character boundaries so the pattern stays valid UTF-8.
    std::vector<size_t> starts;
    for (size_t k = 0; k < word.size(); ++k) {
      if ((static_cast<unsigned char>(word[k]) & 0xC0) != 0x80) starts.push_back(k);
    }
    starts.push_back(word.size());
    const int64_t chars = static_cast<int64_t>(starts.size()) - 1;
    const int64_t first = Uniform(0, chars - 1);
    size_t begin = starts[static_cast<size_t>(first)];
    size_t end = starts[static_cast<size_t>(Uniform(first + 1, chars))];
    std::string pattern = Chance(0.5) ? "%" : "";
    for (size_t k = begin; k < end; ++k) {
      unsigned char c = static_cast<unsigned char>(word[k]);
      if (c == '%' || c == '_' || c == '\\') {
        pattern += '\\';
        pattern += word[k];
      } else if (c < 0x80 && Chance(0.15)) {
        pattern += '_';
      } else if (c < 0x80 && Chance(0.05)) {
        pattern += '\\';  // escaping an ordinary character
        pattern += word[k];
      } else {
        pattern += word[k];
      }
    }
    if (Chance(0.5)) pattern += '%';
    return pattern;
  }

  Expr Leaf() {
    static const std::vector<std::string> kTokens = {
        "red", "car", "blue", "green", "sky",   "a_b", "100", "it",      "s",  "x",
        "y",   "the", "RED",  "F-150", "truck", "5",   "c",   "red car", "zz", "caf\xC3\xA9"};
    static const std::vector<std::string> kGroups = {"admins", "staff", "nobody"};
    static const CompareOp kOps[] = {CompareOp::kEq, CompareOp::kNe, CompareOp::kLt,
                                     CompareOp::kLe, CompareOp::kGt, CompareOp::kGe};
    const int column = static_cast<int>(Uniform(0, 7));
    const Operand col = Operand::Column(ColumnName(column));
    switch (Uniform(0, 11)) {
      case 0:
      case 1: {
        CompareOp op = kOps[Uniform(0, 5)];
        if (Chance(0.2)) return Expr::Compare(LiteralFor(column), op, col);  // literal on the left
        return Expr::Compare(col, op, LiteralFor(column));
      }
      case 2:
        return Expr::Between(col, LiteralFor(column), LiteralFor(column), Chance(0.3));
      case 3: {
        std::vector<Operand> values;
        for (int64_t k = Uniform(1, 4); k > 0; --k) values.push_back(LiteralFor(column));
        return Expr::In(col, std::move(values), Chance(0.4));
      }
      case 4:
        return Expr::IsNull(col, Chance(0.5));
      case 5: {
        Operand b = Operand::Column("b");
        if (Chance(0.25)) return Expr::Compare(b, CompareOp::kEq, Operand::Literal(Value::Bool(true)));
        return Chance(0.5) ? Expr::IsTrue(b, Chance(0.5)) : Expr::IsFalse(b, Chance(0.5));
      }
      case 6:
      case 7:
        return Expr::Like(Operand::Column(Chance(0.85) ? "s" : "owner"), LikePattern(), Chance(0.3));
      case 8:
        return Expr::HasToken(Operand::Column("s"), Pick(kTokens));
      case 9:
        return Expr::IsMember(Pick(kGroups));
      case 10: {
        Operand owner = Operand::Column("owner");
        switch (Uniform(0, 4)) {
          case 0:
            return Expr::Compare(owner, kOps[Uniform(0, 5)], Operand::CurrentUser());
          case 1:
            return Expr::Compare(Operand::CurrentUser(), CompareOp::kEq, LiteralFor(7));
          case 2:
            return Expr::In(owner, {Operand::CurrentUser(), LiteralFor(7)}, Chance(0.5));
          case 3:
            return Expr::IsNull(Operand::CurrentUser(), Chance(0.5));
          default:
            return Expr::Like(Operand::CurrentUser(), LikePattern(), false);
        }
      }
      default: {
        static const Truth kTruths[] = {Truth::kTrue, Truth::kFalse, Truth::kUnknown};
        return Expr::Constant(kTruths[Uniform(0, 2)]);
      }
    }
  }

  std::mt19937_64 rng_;
};

class SqlEquivalence : public ::testing::Test {
 protected:
  void SetUp() override {
    Generator gen(20240131);
    for (int64_t id = 1; id <= kRows; ++id) {
      rows_.push_back(gen.RandomRow(id));
      ASSERT_TRUE(schema_.ValidateRow(rows_.back()).ok());
      db_.Insert(rows_.back());
    }
  }

  // Checks that SQLite and Evaluate give every row the same truth value, and
  // that WHERE selects exactly the TRUE rows. Returns how many rows are TRUE.
  size_t CheckAgree(const Expr& filter, const EvalContext& caller) {
    Result<BoundExpr> bound = Bind(filter, schema_);
    EXPECT_TRUE(bound.ok()) << filter.ToString() << ": " << bound.status().ToString();
    if (!bound.ok()) return 0;
    SqlContext ctx;
    ctx.column_sql = [](int i) { return "\"c" + std::to_string(i) + "\""; };
    ctx.caller = caller;
    SqlFragment sql = ToSql(*bound, ctx);
    std::map<int64_t, Truth> from_sql = db_.TruthPerRow(sql);
    std::set<int64_t> where = db_.Where(sql);
    std::set<int64_t> expected;
    size_t mismatches = 0;
    for (const Row& row : rows_) {
      int64_t id = row[0].as_int();
      Truth t = Evaluate(*bound, row, caller);
      if (t == Truth::kTrue) expected.insert(id);
      if (from_sql[id] != t && ++mismatches <= 3) {
        ADD_FAILURE() << "row " << id << " [i=" << row[1].ToString() << " d=" << row[2].ToString() << " s='"
                      << row[3].ToString() << "' b=" << row[4].ToString() << " dt=" << row[5].ToString()
                      << " ts=" << row[6].ToString() << " owner=" << row[7].ToString() << "]: Evaluate "
                      << static_cast<int>(t) << ", SQLite " << static_cast<int>(from_sql[id])
                      << "\n  filter: " << bound->ToString() << "\n  sql: " << sql.sql;
      }
    }
    EXPECT_EQ(where, expected) << bound->ToString() << "\n  sql: " << sql.sql;
    return expected.size();
  }

  static constexpr int64_t kRows = 400;
  Schema schema_ = MixedSchema();
  std::vector<Row> rows_;
  Db db_;
};

TEST_F(SqlEquivalence, GeneratedFiltersGiveTheSameTruthValueInSqliteAndInMemory) {
  const EvalContext callers[] = {EvalContext::ForUser("alice", {"admins", "staff"}),
                                 EvalContext::ForUser("bob"), EvalContext()};
  Generator gen(7);
  constexpr int kCases = 600;
  int selective = 0;  // filters that keep some rows but not all: the cases that can tell paths apart
  for (int c = 0; c < kCases; ++c) {
    Expr filter = gen.Filter(0);
    // The generated tree also round-trips through its text.
    Result<Expr> reparsed = ParseFilterString(filter.ToString());
    ASSERT_TRUE(reparsed.ok()) << filter.ToString() << ": " << reparsed.status().ToString();
    EXPECT_EQ(*reparsed, filter) << filter.ToString() << " re-parsed as " << reparsed->ToString();
    size_t passing = CheckAgree(filter, callers[c % 3]);
    if (passing > 0 && passing < static_cast<size_t>(kRows)) ++selective;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(selective, kCases / 2);
}

TEST_F(SqlEquivalence, HandPickedEdgeCasesAgree) {
  const char* filters[] = {
      "i NOT IN (1, NULL)",
      "i IN (NULL)",
      "NOT (i IN (1, 2, NULL))",
      "i BETWEEN NULL AND 5",
      "i NOT BETWEEN 3 AND NULL",
      "i > 2.5 AND i < 7.5",
      "i = 9007199254740992.0 OR i > 9007199254740992.0",
      "d = 2 OR d IN (1, -1.5)",
      "s LIKE '%\\%%' OR s LIKE '%\\_%' OR s LIKE '%\\\\%'",
      "s LIKE 'caf_' OR s LIKE '_5'",
      "s LIKE '' OR s = ''",
      "s NOT LIKE '%r%'",
      "s > 'red' AND s <= 'the'",
      "has_token(s, 'red') OR has_token(s, 'F-150') OR has_token(s, 'a_b')",
      "NOT has_token(s, 'car')",
      "has_token(s, 'caf\xC3\xA9') OR has_token(s, 'it')",
      "b OR NOT b",
      "b IS NOT TRUE AND b IS NOT FALSE",
      "dt >= '2023-12-20' AND dt < DATE '2023-12-25'",
      "ts BETWEEN '2023-12-09 10:00:00' AND DATE '2023-12-10'",
      "ts > '2023-12-10T05:00:00.5Z'",
      "owner = current_user() OR is_member('admins')",
      "current_user() IS NULL OR owner != current_user()",
      "owner NOT IN (current_user(), 'carol')",
      "NULL OR i = 1",
      "NOT NULL AND TRUE",
      "FALSE OR NOT (FALSE AND NULL)",
  };
  const EvalContext callers[] = {EvalContext::ForUser("alice", {"admins"}), EvalContext::ForUser("bob"),
                                 EvalContext()};
  for (const char* text : filters) {
    Result<Expr> e = ParseFilterString(text);
    ASSERT_TRUE(e.ok()) << text << ": " << e.status().ToString();
    for (const EvalContext& caller : callers) {
      CheckAgree(*e, caller);
      CheckAgree(Expr::Not(*e), caller);
    }
  }
}

TEST_F(SqlEquivalence, InjectionTextStaysAParameter) {
  const std::string evil = "'; DROP TABLE t; --";
  db_.Insert(
      {Value::Int(1000), Value(), Value(), Value::Str(evil), Value(), Value(), Value(), Value::Str(evil)});
  rows_.push_back(
      {Value::Int(1000), Value(), Value(), Value::Str(evil), Value(), Value(), Value(), Value::Str(evil)});
  Result<Expr> e =
      ParseQueryFilters(R"({"s": "'; DROP TABLE t; --"})",
                        "s LIKE '%DROP TABLE t%' OR owner = current_user() OR s = '\"; DROP TABLE t; --'");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(CheckAgree(*e, EvalContext::ForUser(evil)), 1u);
  EXPECT_EQ(db_.CountRows(), kRows + 1);
}

}  // namespace
}  // namespace vesta::filter
