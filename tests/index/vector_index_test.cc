// VectorIndex: spec validation, build and search for every kind and plan,
// the search guarantees (index/vector_index.h), change sets, the delta and
// compaction, snapshot isolation, batched search, and every input error.
#include "index/vector_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/index/vector_test_util.h"

namespace vesta::index {
namespace {

using testing::BindFilter;
using testing::ExpectWellFormed;
using testing::RecallByScore;
using testing::ReferenceScores;
using testing::VectorFixture;

IndexSpec SpecFor(IndexKind kind, Metric metric, size_t d) {
  IndexSpec spec;
  spec.kind = kind;
  spec.metric = metric;
  spec.dimension = static_cast<uint32_t>(d);
  spec.primary_key = {"id", DataType::Bigint(), false, ""};
  spec.attributes = VectorFixture::AttributeSchema();
  spec.hnsw.m = 12;
  spec.hnsw.ef_construction = 60;
  spec.ivf.nlist = 32;
  spec.ivf.pq_m = static_cast<int>(d / 2);
  spec.ivf.pq_nbits = 6;  // PQ trains from 39 * 2^6 rows: small enough for these tests
  spec.search.nprobe = 8;
  return spec;
}

std::unique_ptr<VectorIndex> Built(const IndexSpec& spec, const VectorFixture& f, IndexOptions options = {}) {
  auto index = VectorIndex::Create(spec, options);
  EXPECT_TRUE(index.ok()) << index.status().message();
  Status st = (*index)->Build(f.Batch(0, f.n), 1);
  EXPECT_TRUE(st.ok()) << st.message();
  return std::move(*index);
}

SearchRequest Request(size_t k, const filter::BoundExpr* filter = nullptr) {
  SearchRequest r;
  r.k = k;
  r.filter = filter;
  r.context = filter::EvalContext::ForUser("alice");
  return r;
}

// ---------------------------------------------------------------- spec

TEST(VectorIndexSpecTest, RejectsInvalidSpecsNamingTheField) {
  struct Case {
    std::function<void(IndexSpec&)> mutate;
    std::string expected;
  } cases[] = {
      {[](IndexSpec& s) { s.dimension = 0; }, "dimension"},
      {[](IndexSpec& s) { s.dimension = 5000; }, "dimension"},
      {[](IndexSpec& s) { s.primary_key.type = DataType::Double(); }, "primary_key"},
      {[](IndexSpec& s) { s.hnsw.m = 2; }, "hnsw.m"},
      {[](IndexSpec& s) { s.hnsw.ef_construction = 4; }, "hnsw.ef_construction"},
      {[](IndexSpec& s) { s.ivf.pq_m = 5; }, "ivf.pq_m"},
      {[](IndexSpec& s) { s.ivf.pq_nbits = 12; }, "ivf.pq_nbits"},
      {[](IndexSpec& s) { s.search.ef_search = 0; }, "ef_search"},
      {[](IndexSpec& s) { s.search.nprobe = 0; }, "nprobe"},
      {[](IndexSpec& s) { s.attributes.columns.push_back({"emb", DataType::Vector(4), true, ""}); }, "emb"},
      {[](IndexSpec& s) { s.attributes.columns.push_back({"id", DataType::Bigint(), true, ""}); }, "primary key"},
  };
  for (const Case& c : cases) {
    IndexSpec spec = SpecFor(IndexKind::kHnsw, Metric::kL2, 16);
    c.mutate(spec);
    auto index = VectorIndex::Create(spec);
    ASSERT_FALSE(index.ok()) << c.expected;
    EXPECT_TRUE(index.status().IsInvalidArgument());
    EXPECT_NE(index.status().message().find(c.expected), std::string::npos) << index.status().message();
  }
}

TEST(VectorIndexSpecTest, ParsesKindsAndMetricsAndFingerprintsBuildFields) {
  EXPECT_EQ(*ParseIndexKind("hnsw"), IndexKind::kHnsw);
  EXPECT_EQ(*ParseIndexKind("IVF_PQ"), IndexKind::kIvfPq);
  EXPECT_FALSE(ParseIndexKind("annoy").ok());
  EXPECT_EQ(*ParseMetric("cosine"), Metric::kCosine);
  EXPECT_EQ(*ParseMetric("DOT_PRODUCT"), Metric::kInnerProduct);
  auto bad = ParseMetric("hamming");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("L2, INNER_PRODUCT or COSINE"), std::string::npos);

  IndexSpec a = SpecFor(IndexKind::kHnsw, Metric::kL2, 16);
  IndexSpec b = a;
  b.search.ef_search = 200;  // search parameters do not change the structure
  EXPECT_EQ(a.Fingerprint(), b.Fingerprint());
  b.hnsw.m = 32;
  EXPECT_NE(a.Fingerprint(), b.Fingerprint());
  b = a;
  b.attributes.columns.pop_back();
  EXPECT_NE(a.Fingerprint(), b.Fingerprint());
}

// ---------------------------------------------------------------- guarantees

struct KindCase {
  IndexKind kind;
  Metric metric;
};

class GuaranteeTest : public ::testing::TestWithParam<KindCase> {};

// Every kind, every metric, filters from everything to nothing, uncorrelated
// (bucket) and correlated (site) with the query: results pass the filter,
// are live, number min(k, passing), are sorted with ties by id, and reach
// recall@10 >= 0.95 against brute force over the passing rows.
TEST_P(GuaranteeTest, FilteredSearchKeepsEveryGuarantee) {
  const KindCase c = GetParam();
  const VectorFixture f = VectorFixture::Make(3000, 16, 12, 7);
  IndexOptions options;
  options.exact_threshold_bytes = 16 * 4 * 100;  // exercise the graph/IVF plans down to 100 passing rows
  auto index = Built(SpecFor(c.kind, c.metric, f.d), f, options);
  // Delete some rows so tombstones are in play.
  std::vector<Value> dels;
  for (int64_t i = 0; i < 3000; i += 13) dels.push_back(Value::Int(i));
  ASSERT_TRUE(index->Delete(dels).ok());
  auto snap = index->snapshot();
  if (c.kind != IndexKind::kFlat) {
    ASSERT_GT(snap->main_size(), 0u) << "no structure was built: the test would only exercise exact search";
  }
  const Schema schema = VectorFixture::AttributeSchema();
  const std::vector<std::string> filters = {
      "",                             // everything
      "bucket < 1500",                // 50%, uncorrelated
      "bucket < 300",                 // 10%
      "bucket < 30",                  // 1%
      "bucket < 3",                   // 0.1%
      "bucket < 0",                   // nothing
      "site = 'site_3'",              // one cluster: correlated
      "site != 'site_3' AND score > 40",  // NULLs never pass
  };
  double recall_sum = 0;
  int recall_n = 0;
  for (const std::string& text : filters) {
    std::optional<filter::BoundExpr> bound;
    if (!text.empty()) bound = BindFilter(text, schema);
    const filter::BoundExpr* fp = bound ? &*bound : nullptr;
    for (int qi = 0; qi < 20; ++qi) {
      const auto q = f.QueryNear((qi * 149) % f.n, qi);
      auto r = snap->Search(q.data(), f.d, Request(10, fp));
      ASSERT_TRUE(r.ok()) << r.status().message();
      ExpectWellFormed(*snap, *r, fp, 10, r->passing);
      const auto ref = ReferenceScores(*snap, q.data(), fp, 10);
      ASSERT_EQ(ref.size(), r->ids.size()) << text;
      recall_sum += RecallByScore(*r, ref, c.metric);
      ++recall_n;
    }
  }
  EXPECT_GE(recall_sum / recall_n, 0.95) << IndexKindName(c.kind);
}

INSTANTIATE_TEST_SUITE_P(Kinds, GuaranteeTest,
                         ::testing::Values(KindCase{IndexKind::kFlat, Metric::kL2},
                                           KindCase{IndexKind::kHnsw, Metric::kL2},
                                           KindCase{IndexKind::kHnsw, Metric::kCosine},
                                           KindCase{IndexKind::kHnsw, Metric::kInnerProduct},
                                           KindCase{IndexKind::kIvfFlat, Metric::kL2},
                                           KindCase{IndexKind::kIvfPq, Metric::kL2}),
                         [](const auto& p) {
                           return std::string(IndexKindName(p.param.kind)) + "_" +
                                  std::string(MetricName(p.param.metric));
                         });

TEST(VectorIndexTest, EveryForcedPlanKeepsTheGuarantees) {
  const VectorFixture f = VectorFixture::Make(2000, 8, 6, 3);
  auto hnsw = Built(SpecFor(IndexKind::kHnsw, Metric::kL2, f.d), f);
  auto ivf = Built(SpecFor(IndexKind::kIvfFlat, Metric::kL2, f.d), f);
  const Schema schema = VectorFixture::AttributeSchema();
  for (const std::string text : {"bucket < 1000", "bucket < 20", "bucket < 5", "site = 'site_1'"}) {
    const filter::BoundExpr bound = BindFilter(text, schema);
    for (auto [index, plan] : {std::pair{hnsw.get(), SearchPlan::kExact}, std::pair{hnsw.get(), SearchPlan::kGraph},
                               std::pair{hnsw.get(), SearchPlan::kFilteredGraph},
                               std::pair{ivf.get(), SearchPlan::kIvf}}) {
      auto snap = index->snapshot();
      for (int qi = 0; qi < 10; ++qi) {
        const auto q = f.QueryNear(qi * 37, qi);
        SearchRequest req = Request(10, &bound);
        req.force_plan = plan;
        auto r = snap->Search(q.data(), f.d, req);
        ASSERT_TRUE(r.ok()) << r.status().message();
        EXPECT_EQ(r->plan, plan);
        ExpectWellFormed(*snap, *r, &bound, 10, r->passing);
      }
    }
  }
}

TEST(VectorIndexTest, PlannerPicksExactForSmallPassingSetsAndGraphOtherwise) {
  const VectorFixture f = VectorFixture::Make(3000, 16, 8, 5);
  IndexOptions options;
  options.exact_threshold_bytes = 200 * 16 * 4;  // 200 passing rows
  options.plain_graph_selectivity = 0.5;         // room for the two-hop walk in 3,000 rows
  auto index = Built(SpecFor(IndexKind::kHnsw, Metric::kL2, f.d), f, options);
  const Schema schema = VectorFixture::AttributeSchema();
  const auto q = f.QueryNear(0, 1);
  auto plan_for = [&](const std::string& text) {
    const filter::BoundExpr b = BindFilter(text, schema);
    auto r = index->Search(q.data(), f.d, Request(10, &b));
    EXPECT_TRUE(r.ok());
    return r->plan;
  };
  EXPECT_EQ(plan_for("bucket < 150"), SearchPlan::kExact);
  EXPECT_EQ(plan_for("bucket < 600"), SearchPlan::kFilteredGraph);
  EXPECT_EQ(plan_for("bucket < 2900"), SearchPlan::kGraph);
  auto all = index->Search(q.data(), f.d, Request(10));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->plan, SearchPlan::kGraph);
  EXPECT_EQ(all->passing, 3000u);
  EXPECT_DOUBLE_EQ(all->selectivity, 1.0);
}

TEST(VectorIndexTest, PlannerPrefersThePlainWalkWhenItTouchesFewerRowsThanTheExactScan) {
  // Every passing set fits under the byte threshold, but at high selectivity
  // the plain walk is expected to score ~16 * ef / s rows: fewer than the
  // 2,900 passing rows at ef 16 and 64, more at ef 256.
  const VectorFixture f = VectorFixture::Make(3000, 16, 8, 5);
  auto index = Built(SpecFor(IndexKind::kHnsw, Metric::kL2, f.d), f);
  const filter::BoundExpr b = BindFilter("bucket < 2900", VectorFixture::AttributeSchema());
  const auto q = f.QueryNear(0, 1);
  for (const auto& [ef, plan] : std::vector<std::pair<int, SearchPlan>>{
           {16, SearchPlan::kGraph}, {64, SearchPlan::kGraph}, {256, SearchPlan::kExact}}) {
    SearchRequest request = Request(10, &b);
    request.ef_search = ef;
    auto r = index->Search(q.data(), f.d, request);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->plan, plan) << "ef_search " << ef;
    EXPECT_EQ(r->ids.size(), 10u);
  }
  // Below plain_graph_selectivity (5%) a passing set under the byte
  // threshold is always searched exactly.
  const filter::BoundExpr few = BindFilter("bucket < 100", VectorFixture::AttributeSchema());
  auto r = index->Search(q.data(), f.d, Request(10, &few));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->plan, SearchPlan::kExact);
}

TEST(VectorIndexTest, SmallPassingSetsAroundTheQueryAreWalkedOthersScanned) {
  // 20,000 rows in 8 clusters; every filter passes ~2,500 rows, under the
  // byte threshold. A filter on the query's own cluster keeps its
  // neighbourhood: a short plain walk answers it (plan graph). A random filter
  // of the same size fails the local probe: the exact scan answers (plan
  // exact). Both keep the guarantees and full recall here.
  const VectorFixture f = VectorFixture::Make(20000, 16, 8, 21);
  IndexOptions options;
  options.plain_graph_selectivity = 0.5;  // 12.5% would be walked on its own merits otherwise
  auto index = Built(SpecFor(IndexKind::kHnsw, Metric::kL2, f.d), f, options);
  const Schema schema = VectorFixture::AttributeSchema();
  size_t row = 0;
  while (f.cluster[row] != 3) ++row;
  const auto q = f.QueryNear(row, 4);
  const filter::BoundExpr same_cluster = BindFilter("site = 'site_3'", schema);
  const filter::BoundExpr random = BindFilter("bucket < 2500", schema);
  for (const auto* filter : {&same_cluster, &random}) {
    SearchRequest request = Request(10, filter);
    request.ef_search = 16;
    auto r = index->Search(q.data(), f.d, request);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->plan, filter == &same_cluster ? SearchPlan::kGraph : SearchPlan::kExact)
        << filter->ToString();
    ASSERT_EQ(r->ids.size(), 10u);
    request.force_plan = SearchPlan::kExact;
    auto exact = index->Search(q.data(), f.d, request);
    ASSERT_TRUE(exact.ok());
    EXPECT_EQ(r->ids, exact->ids) << filter->ToString();
  }
}

TEST(VectorIndexTest, FlatSearchEqualsBruteForceAndBreaksTiesById) {
  // Four identical vectors: the tie must come back in id order.
  IndexSpec spec = SpecFor(IndexKind::kFlat, Metric::kL2, 3);
  auto index = VectorIndex::Create(spec).value();
  RowBatch b;
  const float same[3] = {1, 1, 1};
  const float other[3] = {5, 5, 5};
  for (int i = 0; i < 4; ++i) b.Add(Value::Int(10 - i), same, 3, {Value::Int(i), Value::Str("s"), Value::Null()});
  b.Add(Value::Int(100), other, 3, {Value::Int(9), Value::Str("s"), Value::Null()});
  ASSERT_TRUE(index->Build(b, 1).ok());
  auto r = index->Search(same, 3, Request(3));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->ids, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(r->keys[0], Value::Int(10));
  EXPECT_EQ(r->scores[0], 0.0f);
  auto all = index->Search(other, 3, Request(10));
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->ids.size(), 5u);  // min(k, rows)
  EXPECT_EQ(all->ids[0], 4u);
}

TEST(VectorIndexTest, CosineScoresAreSimilarities) {
  IndexSpec spec = SpecFor(IndexKind::kFlat, Metric::kCosine, 2);
  auto index = VectorIndex::Create(spec).value();
  RowBatch b;
  const float a[2] = {3, 0}, c[2] = {0, 2}, e[2] = {1, 1};
  b.Add(Value::Int(1), a, 2, {Value::Null(), Value::Null(), Value::Null()});
  b.Add(Value::Int(2), c, 2, {Value::Null(), Value::Null(), Value::Null()});
  b.Add(Value::Int(3), e, 2, {Value::Null(), Value::Null(), Value::Null()});
  ASSERT_TRUE(index->Build(b, 1).ok());
  const float q[2] = {10, 0};
  auto r = index->Search(q, 2, Request(3));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->keys.size(), 3u);
  EXPECT_EQ(r->keys[0], Value::Int(1));
  EXPECT_NEAR(r->scores[0], 1.0f, 1e-6);
  EXPECT_NEAR(r->scores[1], std::sqrt(0.5f), 1e-6);
  EXPECT_NEAR(r->scores[2], 0.0f, 1e-6);
}

// ---------------------------------------------------------------- changes

TEST(VectorIndexTest, ApplyReplacesDeletesAndKeepsOldSnapshotsIntact) {
  const VectorFixture f = VectorFixture::Make(500, 8, 4, 11);
  auto index = Built(SpecFor(IndexKind::kHnsw, Metric::kL2, f.d), f);
  auto before = index->snapshot();
  ASSERT_EQ(before->live_count(), 500u);

  // Replace key 7 with the vector of row 300 and delete key 8.
  RowBatch up;
  up.Add(Value::Int(7), &f.vectors[300 * f.d], f.d, f.Attributes(300));
  ASSERT_TRUE(index->Apply(up, {Value::Int(8), Value::Int(123456)}, 2).ok());
  auto after = index->snapshot();
  EXPECT_EQ(after->version(), 2);
  EXPECT_EQ(after->live_count(), 499u);
  EXPECT_FALSE(after->Find(Value::Int(8)).has_value());
  const uint32_t id7 = *after->Find(Value::Int(7));
  EXPECT_EQ(id7, 500u);  // an update is a new id
  EXPECT_TRUE(after->deleted().contains(7));
  auto r = after->Search(&f.vectors[300 * f.d], f.d, Request(2));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->scores[0], 0.0f);
  EXPECT_EQ(r->scores[1], 0.0f);
  EXPECT_EQ(r->keys[0], Value::Int(300));  // id 300 < id 500
  EXPECT_EQ(r->keys[1], Value::Int(7));

  // The pinned snapshot still answers as before.
  EXPECT_EQ(before->version(), 1);
  EXPECT_EQ(before->live_count(), 500u);
  EXPECT_EQ(*before->Find(Value::Int(8)), 8u);
  auto old = before->Search(&f.vectors[8 * f.d], f.d, Request(1));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->keys[0], Value::Int(8));

  // Versions never go back; a failed apply changes nothing.
  Status back = index->Apply(up, {}, 1);
  EXPECT_EQ(back.code(), StatusCode::kFailedPrecondition);
  RowBatch bad;
  const std::vector<float> nan(f.d, std::nanf(""));
  bad.Add(Value::Int(1), nan.data(), f.d, f.Attributes(1));
  Status st = index->Apply(bad, {Value::Int(2)}, 3);
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("not finite"), std::string::npos);
  EXPECT_EQ(index->snapshot()->version(), 2);
  EXPECT_TRUE(index->snapshot()->Find(Value::Int(2)).has_value());
}

TEST(VectorIndexTest, DirectAccessUpsertAndDeleteCountVersions) {
  IndexSpec spec = SpecFor(IndexKind::kHnsw, Metric::kL2, 8);
  auto index = VectorIndex::Create(spec).value();
  EXPECT_EQ(index->snapshot()->version(), -1);
  const VectorFixture f = VectorFixture::Make(100, 8, 2, 2);
  ASSERT_TRUE(index->Upsert(f.Batch(0, 100)).ok());
  EXPECT_EQ(index->snapshot()->version(), 1);
  ASSERT_TRUE(index->Delete({Value::Int(5)}).ok());
  EXPECT_EQ(index->snapshot()->version(), 2);
  EXPECT_EQ(index->snapshot()->live_count(), 99u);
}

// Applying changes in many small steps (delta, merges into the graph,
// compaction) ends at the same rows and the same exact answers as one fresh
// build of the final rows.
TEST(VectorIndexTest, IncrementalChangesMatchAFreshBuild) {
  const VectorFixture f = VectorFixture::Make(4000, 8, 8, 21);
  IndexOptions options;
  options.min_delta_rows = 300;
  options.max_delta_fraction = 0.1;
  options.max_deleted_fraction = 0.3;
  auto inc = VectorIndex::Create(SpecFor(IndexKind::kHnsw, Metric::kL2, f.d), options).value();
  ASSERT_TRUE(inc->Build(f.Batch(0, 1000), 1).ok());
  int64_t version = 1;
  bool merged = false, compacted = false;
  for (size_t begin = 1000; begin < 4000; begin += 500) {
    std::vector<Value> dels;
    for (size_t i = begin - 1000; i < begin - 700; ++i) dels.push_back(Value::Int(static_cast<int64_t>(i)));
    const uint32_t main_before = inc->snapshot()->main_size();
    const uint32_t size_before = inc->snapshot()->size();
    ASSERT_TRUE(inc->Apply(f.Batch(begin, begin + 500), dels, ++version).ok());
    auto s = inc->snapshot();
    if (s->main_size() > main_before && s->size() > size_before) merged = true;
    if (s->size() < size_before) compacted = true;
  }
  EXPECT_TRUE(merged) << "the delta was never merged into the graph";
  EXPECT_TRUE(compacted) << "tombstones never triggered compaction";
  auto s = inc->snapshot();

  // The same final rows, built at once.
  RowBatch rows;
  for (uint32_t id = 0; id < s->size(); ++id) {
    if (s->deleted().contains(id)) continue;
    const int64_t key = s->key(id).as_int();
    rows.Add(Value::Int(key), &f.vectors[key * f.d], f.d, f.Attributes(key));
  }
  auto fresh = VectorIndex::Create(SpecFor(IndexKind::kFlat, Metric::kL2, f.d)).value();
  ASSERT_TRUE(fresh->Build(rows, version).ok());
  EXPECT_EQ(fresh->snapshot()->live_count(), s->live_count());
  const Schema schema = VectorFixture::AttributeSchema();
  const filter::BoundExpr b = BindFilter("bucket < 2000", schema);
  for (int qi = 0; qi < 20; ++qi) {
    const auto q = f.QueryNear(qi * 191, qi);
    SearchRequest req = Request(10, &b);
    req.force_plan = SearchPlan::kExact;
    auto x = inc->Search(q.data(), f.d, req);
    auto y = fresh->Search(q.data(), f.d, req);
    ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ(x->keys, y->keys);
    EXPECT_EQ(x->scores, y->scores);
    req.force_plan.reset();
    auto g = inc->Search(q.data(), f.d, req);
    ASSERT_TRUE(g.ok());
    EXPECT_GE(RecallByScore(*g, y->scores, Metric::kL2), 0.9);
  }
}

TEST(VectorIndexTest, CompactRenumbersDensely) {
  const VectorFixture f = VectorFixture::Make(600, 8, 3, 4);
  IndexOptions options;
  options.max_deleted_fraction = 1.0;  // no automatic compaction
  auto index = Built(SpecFor(IndexKind::kIvfFlat, Metric::kL2, f.d), f, options);
  std::vector<Value> dels;
  for (int64_t i = 0; i < 600; i += 2) dels.push_back(Value::Int(i));
  ASSERT_TRUE(index->Delete(dels).ok());
  EXPECT_EQ(index->snapshot()->size(), 600u);
  ASSERT_TRUE(index->Compact().ok());
  auto s = index->snapshot();
  EXPECT_EQ(s->size(), 300u);
  EXPECT_EQ(s->live_count(), 300u);
  EXPECT_TRUE(s->deleted().isEmpty());
  EXPECT_EQ(s->key(0), Value::Int(1));
  EXPECT_EQ(*s->Find(Value::Int(599)), 299u);
}

// Readers pin snapshots while a writer applies changes: every search sees
// one consistent version (its live count matches that version's).
TEST(VectorIndexTest, ConcurrentSearchesSeeWholeSnapshots) {
  const VectorFixture f = VectorFixture::Make(2000, 8, 4, 8);
  auto index = Built(SpecFor(IndexKind::kHnsw, Metric::kL2, f.d), f);
  std::atomic<bool> stop{false};
  std::atomic<int> searches{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      int i = 0;
      while (!stop.load()) {
        auto snap = index->snapshot();
        const int64_t v = snap->version();
        // Version v (>= 2) has deleted keys 0..v-2 (one per version).
        const uint32_t expected_live = 2000 - static_cast<uint32_t>(std::max<int64_t>(0, v - 1));
        ++i;
        const auto q = f.QueryNear((i * 7 + t) % 2000, i);
        auto r = snap->Search(q.data(), f.d, Request(5));
        if (!r.ok() || r->version != v || snap->live_count() != expected_live || r->passing != expected_live) {
          failures++;
        }
        searches++;
      }
    });
  }
  for (int v = 2; v < 60; ++v) ASSERT_TRUE(index->Apply({}, {Value::Int(v - 2)}, v).ok());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(searches.load(), 0);
}

// ---------------------------------------------------------------- batch

TEST(VectorIndexTest, BatchSearchMatchesSingleQueries) {
  const VectorFixture f = VectorFixture::Make(1500, 16, 6, 9);
  auto index = Built(SpecFor(IndexKind::kFlat, Metric::kL2, f.d), f);
  ASSERT_TRUE(index->Delete({Value::Int(3), Value::Int(4)}).ok());
  auto snap = index->snapshot();
  const filter::BoundExpr b = BindFilter("bucket < 700 OR site = 'site_2'", VectorFixture::AttributeSchema());
  std::vector<float> queries;
  for (int qi = 0; qi < 12; ++qi) {
    const auto q = f.QueryNear(qi * 101, qi);
    queries.insert(queries.end(), q.begin(), q.end());
  }
  for (const filter::BoundExpr* fp : {static_cast<const filter::BoundExpr*>(nullptr), &b}) {
    auto batch = snap->SearchBatch(queries.data(), 12, f.d, Request(10, fp));
    ASSERT_TRUE(batch.ok()) << batch.status().message();
    ASSERT_EQ(batch->size(), 12u);
    for (int qi = 0; qi < 12; ++qi) {
      auto one = snap->Search(&queries[qi * f.d], f.d, Request(10, fp));
      ASSERT_TRUE(one.ok());
      ExpectWellFormed(*snap, (*batch)[qi], fp, 10, one->passing);
      ASSERT_EQ((*batch)[qi].keys.size(), one->keys.size());
      for (size_t j = 0; j < one->scores.size(); ++j) {
        // GEMM and the direct kernel round differently (batch_search.h).
        EXPECT_NEAR((*batch)[qi].scores[j], one->scores[j], 1e-3f * (1 + one->scores[j]));
      }
    }
  }
}

// ---------------------------------------------------------------- errors

TEST(VectorIndexTest, BadRowsAreRejectedNamingRowAndField) {
  auto index = VectorIndex::Create(SpecFor(IndexKind::kHnsw, Metric::kCosine, 4)).value();
  const float v[4] = {1, 2, 3, 4};
  const float zero[4] = {0, 0, 0, 0};
  const Row attrs = {Value::Int(1), Value::Str("a"), Value::Null()};
  struct Case {
    RowBatch batch;
    std::string expected;
  };
  std::vector<Case> cases;
  {
    RowBatch b;
    b.Add(Value::Null(), v, 4, attrs);
    cases.push_back({b, "primary key 'id' is NULL"});
  }
  {
    RowBatch b;
    b.Add(Value::Str("x"), v, 4, attrs);
    cases.push_back({b, "expected BIGINT, got STRING"});
  }
  {
    RowBatch b;
    b.Add(Value::Int(1), v, 4, attrs);
    b.Add(Value::Int(1), v, 4, attrs);
    cases.push_back({b, "appears twice"});
  }
  {
    RowBatch b;
    b.Add(Value::Int(1), zero, 4, attrs);
    cases.push_back({b, "zero vector"});
  }
  {
    RowBatch b;
    b.Add(Value::Int(1), v, 4, attrs);
    b.vectors.pop_back();
    cases.push_back({b, "4 per row"});
  }
  {
    RowBatch b;
    b.Add(Value::Int(1), v, 4, {Value::Str("one"), Value::Str("a"), Value::Null()});
    cases.push_back({b, "bucket"});
  }
  for (const Case& c : cases) {
    Status st = index->Build(c.batch, 1);
    ASSERT_TRUE(st.IsInvalidArgument()) << c.expected;
    EXPECT_NE(st.message().find(c.expected), std::string::npos) << st.message();
    EXPECT_EQ(index->snapshot()->version(), -1) << "a failed build changed the index";
  }
}

TEST(VectorIndexTest, BadQueriesAreRejectedNamingTheField) {
  const VectorFixture f = VectorFixture::Make(300, 4, 2, 1);
  auto index = Built(SpecFor(IndexKind::kHnsw, Metric::kCosine, f.d), f);
  const float q[4] = {1, 0, 0, 0};
  const float zero[4] = {0, 0, 0, 0};
  const float inf[4] = {1, INFINITY, 0, 0};
  auto expect = [&](Result<SearchResult> r, const std::string& text) {
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status().message();
  };
  expect(index->Search(q, 3, Request(10)), "expected 4 components");
  expect(index->Search(zero, 4, Request(10)), "zero vector");
  expect(index->Search(inf, 4, Request(10)), "not finite");
  expect(index->Search(q, 4, Request(0)), "num_results");
  expect(index->Search(q, 4, Request(10001)), "num_results");
  SearchRequest ef = Request(10);
  ef.ef_search = 0;
  expect(index->Search(q, 4, ef), "ef_search");
  SearchRequest plan = Request(10);
  plan.force_plan = SearchPlan::kIvf;
  expect(index->Search(q, 4, plan), "cannot run on a HNSW index");
  // A filter bound against another schema.
  Schema other;
  other.columns = {{"age", DataType::Bigint(), true, ""}};
  const filter::BoundExpr foreign = BindFilter("age > 3", other);
  expect(index->Search(q, 4, Request(10, &foreign)), "different schema");
}

}  // namespace
}  // namespace vesta::index
