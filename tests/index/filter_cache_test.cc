// The snapshot filter cache (index/internal/filter_cache.h): admission on a
// filter's second use, LRU eviction under a byte budget, keys that separate
// callers whose results differ (current_user(), is_member()), and through
// VectorIndex: identical answers from the cache, and a fresh cache per
// snapshot, so a change is never hidden by a cached bitmap.
#include "index/internal/filter_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "index/vector_index.h"
#include "tests/index/vector_test_util.h"

namespace vesta::index {
namespace {

using ::vesta::testing::BindFilter;
using ::vesta::testing::VectorFixture;

FilterCache::Entry EntryOf(uint32_t lo, uint32_t hi) {
  Roaring r;
  r.addRange(lo, hi);
  FilterCache::Entry e;
  e.cardinality = r.cardinality();
  e.bitmap = std::make_shared<const Roaring>(std::move(r));
  return e;
}

TEST(FilterCacheTest, AdmitsAFilterOnItsSecondUse) {
  FilterCache cache;
  EXPECT_EQ(cache.Get("a").bitmap, nullptr);
  cache.Offer("a", EntryOf(0, 100), 1 << 20);
  EXPECT_EQ(cache.entries(), 0u) << "a one-off filter must not be cached";
  EXPECT_EQ(cache.Get("a").bitmap, nullptr);
  cache.Offer("a", EntryOf(0, 100), 1 << 20);
  ASSERT_EQ(cache.entries(), 1u);
  const FilterCache::Entry hit = cache.Get("a");
  ASSERT_NE(hit.bitmap, nullptr);
  EXPECT_EQ(hit.cardinality, 100u);
  EXPECT_EQ(hit.bitmap->cardinality(), 100u);
}

TEST(FilterCacheTest, EvictsTheLeastRecentlyUsedUnderTheByteBudget) {
  FilterCache cache;
  const size_t one = EntryOf(0, 100).bitmap->getSizeInBytes() + 1;  // + key length
  const size_t budget = 2 * one;
  for (const char* key : {"a", "b", "c"}) {
    for (int use = 0; use < 2; ++use) {
      cache.Get(key);
      cache.Offer(key, EntryOf(0, 100), budget);
    }
    if (std::string(key) == "b") {
      ASSERT_NE(cache.Get("a").bitmap, nullptr);  // "a" now more recent than "b"
    }
  }
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_LE(cache.bytes(), budget);
  EXPECT_NE(cache.Get("a").bitmap, nullptr);
  EXPECT_EQ(cache.Get("b").bitmap, nullptr) << "the least recently used entry is evicted";
  EXPECT_NE(cache.Get("c").bitmap, nullptr);
  // A budget of 0 caches nothing; an entry larger than the budget is refused.
  FilterCache off;
  off.Get("x");
  off.Get("x");
  off.Offer("x", EntryOf(0, 10), 0);
  off.Offer("x", EntryOf(0, 1000000), 64);
  EXPECT_EQ(off.entries(), 0u);
}

TEST(FilterCacheTest, KeysSeparateCallersWhoseResultsDiffer) {
  const Schema schema = VectorFixture::AttributeSchema();
  const filter::EvalContext alice = filter::EvalContext::ForUser("alice", {"oncology"});
  const filter::EvalContext bob = filter::EvalContext::ForUser("bob");
  const filter::BoundExpr plain = BindFilter("bucket < 10", schema);
  EXPECT_EQ(FilterCacheKey(plain, alice), FilterCacheKey(plain, bob)) << "no caller function: one entry for all";
  const filter::BoundExpr mine = BindFilter("site = current_user()", schema);
  EXPECT_NE(FilterCacheKey(mine, alice), FilterCacheKey(mine, bob));
  const filter::BoundExpr group = BindFilter("is_member('oncology') OR bucket < 10", schema);
  EXPECT_NE(FilterCacheKey(group, alice), FilterCacheKey(group, bob));
  const filter::EvalContext carol = filter::EvalContext::ForUser("carol", {"oncology"});
  EXPECT_EQ(FilterCacheKey(group, alice), FilterCacheKey(group, carol)) << "same membership, same passing set";
  // A string literal cannot imitate the caller part of another key.
  const filter::BoundExpr tricky = BindFilter("site = 'x|user 5:alice'", schema);
  EXPECT_NE(FilterCacheKey(tricky, bob), FilterCacheKey(BindFilter("site = 'x'", schema), alice));
}

class FilterCacheIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    f_ = VectorFixture::Make(3000, 16, 8, 11);
    IndexSpec spec;
    spec.kind = IndexKind::kHnsw;
    spec.metric = Metric::kL2;
    spec.dimension = static_cast<uint32_t>(f_.d);
    spec.primary_key = {"id", DataType::Bigint(), false, ""};
    spec.attributes = VectorFixture::AttributeSchema();
    auto index = VectorIndex::Create(spec);
    ASSERT_TRUE(index.ok());
    index_ = std::move(*index);
    ASSERT_TRUE(index_->Build(f_.Batch(0, f_.n), 1).ok());
  }

  SearchResult Search(const filter::BoundExpr& filter, const filter::EvalContext& ctx) {
    SearchRequest r;
    r.k = 10;
    r.filter = &filter;
    r.context = ctx;
    const auto q = f_.QueryNear(5, 3);
    auto result = index_->Search(q.data(), f_.d, r);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return *result;
  }

  VectorFixture f_;
  std::unique_ptr<VectorIndex> index_;
};

TEST_F(FilterCacheIndexTest, ARepeatedFilterIsServedFromTheCacheWithTheSameAnswer) {
  const filter::BoundExpr b = BindFilter("bucket < 1500", VectorFixture::AttributeSchema());
  const auto ctx = filter::EvalContext::ForUser("alice");
  const SearchResult first = Search(b, ctx);
  const SearchResult second = Search(b, ctx);
  const SearchResult third = Search(b, ctx);
  EXPECT_FALSE(first.filter_cached);
  EXPECT_FALSE(second.filter_cached);  // admitted on its second use
  EXPECT_TRUE(third.filter_cached);
  EXPECT_EQ(third.ids, first.ids);
  EXPECT_EQ(third.scores, first.scores);
  EXPECT_EQ(third.passing, first.passing);
  EXPECT_EQ(third.passing, 1500u);
}

TEST_F(FilterCacheIndexTest, CallersNeverSeeEachOthersCachedRows) {
  const Schema schema = VectorFixture::AttributeSchema();
  const filter::BoundExpr mine = BindFilter("site = current_user()", schema);
  const auto one = filter::EvalContext::ForUser("site_1");
  const auto two = filter::EvalContext::ForUser("site_2");
  for (int i = 0; i < 3; ++i) Search(mine, one);  // cached for site_1
  const SearchResult r = Search(mine, two);
  EXPECT_FALSE(r.filter_cached);
  for (uint32_t id : r.ids) EXPECT_EQ(f_.cluster[id], 2) << "row " << id << " belongs to another caller";

  const filter::BoundExpr group = BindFilter("is_member('all_sites') OR bucket < 5", schema);
  const auto member = filter::EvalContext::ForUser("m", {"all_sites"});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Search(group, member).passing, 3000u);
  const SearchResult outsider = Search(group, filter::EvalContext::ForUser("m"));
  EXPECT_EQ(outsider.passing, 5u);
  EXPECT_FALSE(outsider.filter_cached);
}

TEST_F(FilterCacheIndexTest, AChangeStartsAFreshCache) {
  const filter::BoundExpr b = BindFilter("bucket >= 100000", VectorFixture::AttributeSchema());
  const auto ctx = filter::EvalContext::ForUser("alice");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Search(b, ctx).passing, 0u);
  // A new row that passes: the next snapshot must see it at once.
  RowBatch row;
  Row attrs = f_.Attributes(5);
  attrs[0] = Value::Int(200000);
  row.Add(Value::Int(999999), &f_.vectors[5 * f_.d], f_.d, attrs);
  ASSERT_TRUE(index_->Upsert(row).ok());
  const SearchResult r = Search(b, ctx);
  EXPECT_FALSE(r.filter_cached);
  EXPECT_EQ(r.passing, 1u);
  ASSERT_EQ(r.keys.size(), 1u);
  EXPECT_EQ(r.keys[0], Value::Int(999999));
}

}  // namespace
}  // namespace vesta::index
