// The key property of FilterBitmap: for hundreds of generated filters (every
// node kind, every column type, NULLs in the data and in the filters) the
// bitmap holds exactly the ids of the live rows where filter::Evaluate
// returns TRUE, and that of NOT(filter) exactly those where it returns FALSE.
// Rows are appended, updated and deleted between evaluations so that the
// lazily rebuilt indexes are exercised, under three index configurations
// (inverted indexes everywhere, nowhere, and dropped part-way through).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/testing/filter_fixtures.h"
#include "filter/filter.h"
#include "index/filter_bitmap.h"

namespace vesta::index {
namespace {

using filter::CompareOp;
using filter::EvalContext;
using filter::Expr;
using filter::Operand;
using filter::Truth;

constexpr int32_t kDay0 = 19700;  // 2023-12-09
constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;
constexpr int64_t kBigInt = 9007199254740993;  // 2^53 + 1: not representable as a double

// Columns: 0 i BIGINT (low cardinality), 1 d DOUBLE, 2 s STRING (phrases), 3 b BOOLEAN, 4 dt DATE,
// 5 ts TIMESTAMP, 6 owner STRING, 7 hi BIGINT (high cardinality), 8 hs STRING (high cardinality).
Schema MixedSchema() {
  Schema s;
  s.columns = {{"i", DataType::Bigint(), true, ""},     {"d", DataType::Double(), true, ""},
               {"s", DataType::String(), true, ""},     {"b", DataType::Boolean(), true, ""},
               {"dt", DataType::DateT(), true, ""},     {"ts", DataType::TimestampT(), true, ""},
               {"owner", DataType::String(), true, ""}, {"hi", DataType::Bigint(), true, ""},
               {"hs", DataType::String(), true, ""}};
  return s;
}

using ::vesta::testing::Owners;
using ::vesta::testing::Words;

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  Row RandomRow() {
    auto null_or = [&](Value v) { return Chance(0.15) ? Value() : std::move(v); };
    const int64_t i = Chance(0.05) ? (Chance(0.5) ? kBigInt : -kBigInt) : Uniform(-5, 20);
    const double d = Chance(0.03) ? -0.0 : static_cast<double>(Uniform(-20, 20)) * 0.5;
    int64_t hi = Uniform(-3000, 3000);
    if (Chance(0.01))
      hi = Chance(0.5) ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
    return {null_or(Value::Int(i)),
            null_or(Value::Real(d)),
            null_or(Value::Str(Pick(Words()))),
            null_or(Value::Bool(Chance(0.5))),
            null_or(Value::DateV(Date{kDay0 + static_cast<int32_t>(Uniform(0, 30))})),
            null_or(Value::Ts(Timestamp{kDay0 * kMicrosPerDay + Uniform(0, 72) * 3600000000LL +
                                        (Chance(0.2) ? Uniform(1, 999999) : 0)})),
            null_or(Value::Str(Pick(Owners()))),
            null_or(Value::Int(hi)),
            null_or(Value::Str(RandomKey()))};
  }

  Expr Filter(int depth) {
    const int r = static_cast<int>(Uniform(0, 9));
    if (depth >= 4 || r < 4) return Leaf();
    if (r >= 8) return Expr::Not(Filter(depth + 1));
    std::vector<Expr> children;
    for (int64_t k = Uniform(2, 3); k > 0; --k) children.push_back(Filter(depth + 1));
    return r < 6 ? Expr::And(std::move(children)) : Expr::Or(std::move(children));
  }

  int64_t Uniform(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

 private:
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Uniform(0, static_cast<int64_t>(v.size()) - 1))];
  }

  // 1-5 characters over a small alphabet (with LIKE's specials and a UTF-8
  // character): thousands of distinct values, shared prefixes.
  std::string RandomKey() {
    static const std::vector<std::string> kChars = {"a", "b", "c", "A", "_", "%", "\xC3\xA9"};
    std::string s;
    for (int64_t n = Uniform(1, 5); n > 0; --n) s += Pick(kChars);
    return s;
  }

  static std::string ColumnName(int index) {
    static const char* kNames[] = {"i", "d", "s", "b", "dt", "ts", "owner", "hi", "hs"};
    return kNames[index];
  }

  // A literal that binds against column `index` (sometimes NULL, sometimes
  // of the other numeric type, dates sometimes as strings).
  Operand LiteralFor(int index) {
    if (Chance(0.08)) return Operand::Literal(Value());
    const double p = std::uniform_real_distribution<double>(0, 1)(rng_);
    switch (index) {
      case 0:
        if (p < 0.6) return Operand::Literal(Value::Int(Uniform(-6, 21)));
        if (p < 0.8) return Operand::Literal(Value::Real(static_cast<double>(Uniform(-12, 42)) * 0.5));
        if (p < 0.9) return Operand::Literal(Value::Real(9007199254740992.0));
        if (p < 0.95) return Operand::Literal(Value::Real(Chance(0.5) ? 1e19 : -1e19));
        return Operand::Literal(Value::Int(Chance(0.5) ? kBigInt : kBigInt - 1));
      case 1:
        if (p < 0.3) return Operand::Literal(Value::Int(Uniform(-10, 10)));
        if (p < 0.35) return Operand::Literal(Value::Real(-0.0));
        return Operand::Literal(Value::Real(static_cast<double>(Uniform(-42, 42)) * 0.25));
      case 2:
        return Operand::Literal(Value::Str(Chance(0.9) ? Pick(Words()) : "zzz"));
      case 3:
        return Operand::Literal(Value::Bool(Chance(0.5)));
      case 4: {
        Date d{kDay0 + static_cast<int32_t>(Uniform(-2, 32))};
        return Operand::Literal(Chance(0.5) ? Value::DateV(d) : Value::Str(FormatDate(d)));
      }
      case 5: {
        Timestamp t{kDay0 * kMicrosPerDay + Uniform(-2, 74) * 3600000000LL};
        if (p < 0.4) return Operand::Literal(Value::Ts(t));
        if (p < 0.7)
          return Operand::Literal(Value::DateV(Date{kDay0 + static_cast<int32_t>(Uniform(-1, 4))}));
        return Operand::Literal(Value::Str(FormatTimestamp(t)));
      }
      case 6:
        return Operand::Literal(Value::Str(Chance(0.85) ? Pick(Owners()) : "dave"));
      case 7:
        if (p < 0.7) return Operand::Literal(Value::Int(Uniform(-3100, 3100)));
        if (p < 0.95) return Operand::Literal(Value::Real(static_cast<double>(Uniform(-6200, 6200)) * 0.5));
        return Operand::Literal(Value::Int(Chance(0.5) ? std::numeric_limits<int64_t>::max()
                                                       : std::numeric_limits<int64_t>::min()));
      default:
        return Operand::Literal(Value::Str(RandomKey()));
    }
  }

  // A LIKE pattern cut from a word on character boundaries, with '_' and
  // escapes sprinkled in.
  std::string LikePattern(bool high_cardinality) {
    const double p = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (p < 0.05) return "%";
    if (p < 0.08) return "";
    if (p < 0.1) return "_%";
    std::string word;
    while (word.empty()) word = high_cardinality ? RandomKey() : Pick(Words());
    std::vector<size_t> starts;
    for (size_t k = 0; k < word.size(); ++k) {
      if ((static_cast<unsigned char>(word[k]) & 0xC0) != 0x80) starts.push_back(k);
    }
    starts.push_back(word.size());
    const int64_t chars = static_cast<int64_t>(starts.size()) - 1;
    const int64_t first = Uniform(0, chars - 1);
    const size_t begin = starts[static_cast<size_t>(first)];
    const size_t end = starts[static_cast<size_t>(Uniform(first + 1, chars))];
    std::string pattern = Chance(0.5) ? "%" : "";
    for (size_t k = begin; k < end; ++k) {
      const unsigned char c = static_cast<unsigned char>(word[k]);
      if (c == '%' || c == '_' || c == '\\') {
        pattern += '\\';
        pattern += word[k];
      } else if (c < 0x80 && Chance(0.15)) {
        pattern += '_';
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
    const int column = static_cast<int>(Uniform(0, 8));
    const Operand col = Operand::Column(ColumnName(column));
    switch (Uniform(0, 13)) {
      case 0:
      case 1:
      case 2: {
        const CompareOp op = kOps[Uniform(0, 5)];
        if (Chance(0.2)) return Expr::Compare(LiteralFor(column), op, col);  // literal on the left
        return Expr::Compare(col, op, LiteralFor(column));
      }
      case 3:
        return Expr::Between(col, LiteralFor(column), LiteralFor(column), Chance(0.3));
      case 4: {
        std::vector<Operand> values;
        for (int64_t k = Uniform(1, 4); k > 0; --k) values.push_back(LiteralFor(column));
        return Expr::In(col, std::move(values), Chance(0.4));
      }
      case 5:
        return Expr::IsNull(col, Chance(0.5));
      case 6: {
        const Operand b = Operand::Column("b");
        if (Chance(0.25)) return Expr::Compare(b, CompareOp::kEq, Operand::Literal(Value::Bool(true)));
        return Chance(0.5) ? Expr::IsTrue(b, Chance(0.5)) : Expr::IsFalse(b, Chance(0.5));
      }
      case 7:
      case 8: {
        const double p = std::uniform_real_distribution<double>(0, 1)(rng_);
        const char* name = p < 0.6 ? "s" : (p < 0.85 ? "hs" : "owner");
        return Expr::Like(Operand::Column(name), LikePattern(std::string(name) == "hs"), Chance(0.3));
      }
      case 9:
        return Expr::HasToken(Operand::Column("s"), Pick(kTokens));
      case 10:
        return Expr::IsMember(Pick(kGroups));
      case 11: {
        const Operand owner = Operand::Column("owner");
        switch (Uniform(0, 4)) {
          case 0:
            return Expr::Compare(owner, kOps[Uniform(0, 5)], Operand::CurrentUser());
          case 1:
            return Expr::Compare(Operand::CurrentUser(), CompareOp::kEq, LiteralFor(6));
          case 2:
            return Expr::In(owner, {Operand::CurrentUser(), LiteralFor(6)}, Chance(0.5));
          case 3:
            return Expr::IsNull(Operand::CurrentUser(), Chance(0.5));
          default:
            return Expr::Like(Operand::CurrentUser(), LikePattern(false), false);
        }
      }
      case 12: {
        // Several conditions on one column under one AND: folded into one range lookup.
        std::vector<Expr> parts;
        for (int64_t k = Uniform(2, 3); k > 0; --k) {
          if (Chance(0.2)) {
            parts.push_back(Expr::Between(col, LiteralFor(column), LiteralFor(column), Chance(0.2)));
          } else {
            parts.push_back(Expr::Compare(col, kOps[Uniform(0, 5)], LiteralFor(column)));
          }
        }
        if (Chance(0.3)) parts.push_back(Leaf());
        return Expr::And(std::move(parts));
      }
      default: {
        static const Truth kTruths[] = {Truth::kTrue, Truth::kFalse, Truth::kUnknown};
        return Expr::Constant(kTruths[Uniform(0, 2)]);
      }
    }
  }

  std::mt19937_64 rng_;
};

// The parameter: AttributeStoreOptions::max_postings_values.
class FilterBitmapEquivalence : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override {
    AttributeStoreOptions options;
    options.max_postings_values = GetParam();
    for (int k = 0; k < kInitialRows; ++k) rows_.push_back(gen_.RandomRow());
    Result<AttributeStore> store = AttributeStore::Create(schema_, rows_, options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::make_unique<AttributeStore>(std::move(store).value());
    deleted_.assign(rows_.size(), false);
  }

  // Appends, updates and deletes a few rows in the store and in rows_.
  void Mutate() {
    for (int64_t k = gen_.Uniform(1, 40); k > 0; --k) {
      rows_.push_back(gen_.RandomRow());
      deleted_.push_back(false);
      Result<uint32_t> id = store_->Append(rows_.back());
      ASSERT_TRUE(id.ok()) << id.status().ToString();
      ASSERT_EQ(*id, rows_.size() - 1);
    }
    for (int64_t k = gen_.Uniform(0, 25); k > 0; --k) {
      const size_t id = static_cast<size_t>(gen_.Uniform(0, static_cast<int64_t>(rows_.size()) - 1));
      if (deleted_[id]) continue;
      rows_[id] = gen_.RandomRow();
      ASSERT_TRUE(store_->Set(static_cast<uint32_t>(id), rows_[id]).ok());
    }
    for (int64_t k = gen_.Uniform(0, 10); k > 0; --k) {
      const size_t id = static_cast<size_t>(gen_.Uniform(0, static_cast<int64_t>(rows_.size()) - 1));
      deleted_[id] = true;
      ASSERT_TRUE(store_->Delete(static_cast<uint32_t>(id)).ok());
    }
  }

  // Checks FilterBitmap(filter) == {live ids: Evaluate == TRUE} and
  // FilterBitmap(NOT filter) == {live ids: Evaluate == FALSE}. Returns the
  // number of TRUE rows.
  size_t CheckAgree(const Expr& filter, const EvalContext& caller) {
    Result<filter::BoundExpr> bound = filter::Bind(filter, schema_);
    EXPECT_TRUE(bound.ok()) << filter.ToString() << ": " << bound.status().ToString();
    if (!bound.ok()) return 0;
    Result<filter::BoundExpr> negated = filter::Bind(Expr::Not(filter), schema_);
    Result<PassingRows> got = FilterBitmap(*bound, *store_, caller);
    Result<PassingRows> got_not = FilterBitmap(*negated, *store_, caller);
    EXPECT_TRUE(got.ok() && got_not.ok())
        << filter.ToString() << ": " << got.status().ToString() << got_not.status().ToString();
    if (!got.ok() || !got_not.ok()) return 0;
    std::vector<uint32_t> want_true, want_false;
    for (size_t id = 0; id < rows_.size(); ++id) {
      if (deleted_[id]) continue;
      const Truth t = filter::Evaluate(*bound, rows_[id], caller);
      if (t == Truth::kTrue) want_true.push_back(static_cast<uint32_t>(id));
      if (t == Truth::kFalse) want_false.push_back(static_cast<uint32_t>(id));
    }
    auto ids = [](const Roaring& r) {
      std::vector<uint32_t> out(r.cardinality());
      r.toUint32Array(out.data());
      return out;
    };
    EXPECT_EQ(ids(got->bitmap()), want_true) << "filter: " << bound->ToString();
    EXPECT_EQ(ids(got_not->bitmap()), want_false) << "filter: NOT (" << bound->ToString() << ")";
    EXPECT_EQ(got->cardinality(), want_true.size());
    EXPECT_EQ(got->live_rows(), store_->live_count());
    return want_true.size();
  }

  static constexpr int kInitialRows = 2500;
  const Schema schema_ = MixedSchema();
  Generator gen_{20240611};
  std::vector<Row> rows_;
  std::vector<bool> deleted_;
  std::unique_ptr<AttributeStore> store_;
};

TEST_P(FilterBitmapEquivalence, GeneratedFiltersMatchEvaluateRowByRow) {
  const EvalContext callers[] = {EvalContext::ForUser("alice", {"admins", "staff"}),
                                 EvalContext::ForUser("bob"), EvalContext()};
  Generator filters(7 + GetParam());
  constexpr int kCases = 1000;
  int selective = 0;  // filters keeping some live rows but not all: the informative cases
  for (int c = 0; c < kCases; ++c) {
    if (c % 10 == 9) {
      Mutate();
      if (::testing::Test::HasFatalFailure()) return;
    }
    const size_t passing = CheckAgree(filters.Filter(0), callers[c % 3]);
    if (passing > 0 && passing < store_->live_count()) ++selective;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(selective, kCases / 2);
  // The store still holds what the test thinks it holds.
  ASSERT_EQ(store_->size(), rows_.size());
  for (size_t id = 0; id < rows_.size(); ++id) {
    ASSERT_EQ(store_->GetRow(static_cast<uint32_t>(id)), rows_[id]) << "row " << id;
    ASSERT_EQ(store_->IsDeleted(static_cast<uint32_t>(id)), deleted_[id]) << "row " << id;
  }
}

TEST_P(FilterBitmapEquivalence, HandPickedEdgeCasesMatchEvaluate) {
  const char* texts[] = {
      "i NOT IN (1, NULL)",
      "i IN (NULL)",
      "NOT (i IN (1, 2, NULL))",
      "i BETWEEN NULL AND 5",
      "i NOT BETWEEN 3 AND NULL",
      "i > 2.5 AND i < 7.5",
      "i = 9007199254740992.0 OR i > 9007199254740992.0",
      "i >= 9007199254740993 OR i <= -9007199254740993",
      "hi > -1e19 AND hi < 1e19",
      "hi = 9223372036854775807 OR hi = -9223372036854775808",
      "hi BETWEEN -100.5 AND 100.5",
      "d = 0 OR d = -0.0",
      "d > -0.0",
      "d = 2 OR d IN (1, -1.5)",
      "s LIKE '%\\%%' OR s LIKE '%\\_%' OR s LIKE '%\\\\%'",
      "s LIKE 'caf_' OR s LIKE '_5'",
      "s LIKE '' OR s = ''",
      "s NOT LIKE '%r%'",
      "s > 'red' AND s <= 'the'",
      "hs >= 'b' AND hs < 'c'",
      "hs LIKE 'a%' AND NOT hs LIKE '%a'",
      "hs LIKE 'a\\_%' OR hs LIKE 'caf\xC3\xA9%' OR hs LIKE '\xC3\xA9_'",
      "hi >= -100 AND hi < 100 AND hi != 5 AND hi != 5.5",
      "s >= 'a' AND s < 'the' AND s != 'red' AND s != 'nope'",
      "s != 'red' AND s != 'Red' AND s != 'the red' AND owner != 'bob' AND owner != 'alice'",
      "dt BETWEEN '2023-12-12' AND '2023-12-20' AND dt NOT BETWEEN '2023-12-14' AND '2023-12-15'",
      "i > 3 AND i < 3",
      "owner >= current_user() AND owner <= current_user()",
      "has_token(s, 'red') OR has_token(s, 'F-150') OR has_token(s, 'a_b')",
      "NOT has_token(s, 'car')",
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
  for (int round = 0; round < 2; ++round) {
    for (const char* text : texts) {
      Result<Expr> e = filter::ParseFilterString(text);
      ASSERT_TRUE(e.ok()) << text << ": " << e.status().ToString();
      for (const EvalContext& caller : callers) CheckAgree(*e, caller);
    }
    Mutate();
  }
}

INSTANTIATE_TEST_SUITE_P(FilterBitmap, FilterBitmapEquivalence, ::testing::Values(4096u, 0u, 16u),
                         [](const ::testing::TestParamInfo<uint32_t>& param_info) {
                           return "MaxPostings" + std::to_string(param_info.param);
                         });

}  // namespace
}  // namespace vesta::index
