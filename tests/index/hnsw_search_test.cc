// HnswSearch: Vesta's walk over FAISS-built HNSW graphs. Recall floors against
// exact search (compared by distance, since ties exist) unfiltered and under
// random and correlated filters; the guarantees (every id passes, exactly
// min(k, passing) results, sorted with ties by id) on every path, including
// the exact fallbacks; inner product; the plain walk; parameter and graph
// validation; thread-local state across threads and generation wrap-around.
#include "index/hnsw_search.h"

#include <faiss/IndexHNSW.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "index/distance.h"

namespace vesta::index {
namespace {

constexpr size_t kK = 10;

HnswGraphView ViewOf(const faiss::HNSW& h, size_t n) {
  HnswGraphView g;
  g.neighbors = h.neighbors.data();
  g.offsets = h.offsets.data();
  g.levels = h.levels.data();
  g.cum_nneighbor_per_level = h.cum_nneighbor_per_level.data();
  g.cum_levels = h.cum_nneighbor_per_level.size();
  g.entry_point = h.entry_point;
  g.max_level = h.max_level;
  g.size = n;
  return g;
}

// n points around `clusters` seeded centres (N(0, 4^2) centres, N(0, 1)
// spread); normalised rows if `normalise`.
struct Dataset {
  size_t n = 0;
  size_t d = 0;
  std::vector<float> x;
  std::vector<int> cluster;
  std::vector<float> centres;
  int clusters = 0;
  bool normalised = false;

  static Dataset Make(size_t n, size_t d, int clusters, uint64_t seed, bool normalise) {
    Dataset s;
    s.n = n;
    s.d = d;
    s.clusters = clusters;
    s.normalised = normalise;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    s.centres.resize(static_cast<size_t>(clusters) * d);
    for (float& c : s.centres) c = g(rng) * 4.0f;
    s.x.resize(n * d);
    s.cluster.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const int c = static_cast<int>(rng() % static_cast<uint64_t>(clusters));
      s.cluster[i] = c;
      for (size_t j = 0; j < d; ++j) s.x[i * d + j] = s.centres[c * d + j] + g(rng);
    }
    if (normalise) NormalizeRows(s.x.data(), n, d);
    return s;
  }

  // A fresh point of cluster c (not a base row).
  std::vector<float> Query(int c, std::mt19937_64& rng) const {
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> q(d);
    for (size_t j = 0; j < d; ++j) q[j] = centres[c * d + j] + g(rng);
    if (normalised) Normalize(q.data(), d);
    return q;
  }
};

struct Built {
  Dataset data;
  std::unique_ptr<faiss::IndexHNSWFlat> index;
  HnswGraphView view;
};

std::unique_ptr<Built> Build(size_t n, size_t d, int clusters, uint64_t seed, faiss::MetricType metric) {
  auto b = std::make_unique<Built>();
  b->data = Dataset::Make(n, d, clusters, seed, metric == faiss::METRIC_INNER_PRODUCT);
  b->index = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(d), 16, metric);
  b->index->hnsw.efConstruction = 64;
  b->index->add(static_cast<faiss::Index::idx_t>(n), b->data.x.data());
  b->view = ViewOf(b->index->hnsw, n);
  return b;
}

// Exact reference over the passing rows (all if null), in double:
// (distance, id) best first, ties by id, at most k.
std::vector<std::pair<float, int64_t>> Reference(const Dataset& s, Metric metric, const float* q,
                                                 const Roaring* passing, size_t k) {
  std::vector<std::pair<float, int64_t>> all;
  for (size_t i = 0; i < s.n; ++i) {
    if (passing != nullptr && !passing->contains(static_cast<uint32_t>(i))) continue;
    double acc = 0;
    for (size_t j = 0; j < s.d; ++j) {
      const double a = q[j], b = s.x[i * s.d + j];
      acc += metric == Metric::kL2 ? (a - b) * (a - b) : a * b;
    }
    all.emplace_back(static_cast<float>(acc), static_cast<int64_t>(i));
  }
  const bool smaller = metric == Metric::kL2;
  std::sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return smaller ? a.first < b.first : a.first > b.first;
    return a.second < b.second;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

// Recall by distance: results at least as good as the reference's last
// (k-th) distance, with a relative tolerance, over the reference size.
double RecallByDistance(const std::vector<float>& got, const std::vector<std::pair<float, int64_t>>& ref,
                        Metric metric) {
  if (ref.empty()) return 1.0;
  const float kth = ref.back().first;
  const float tol = 1e-4f * (1.0f + std::fabs(kth));
  size_t hits = 0;
  for (float v : got) {
    if (metric == Metric::kL2 ? v <= kth + tol : v >= kth - tol) ++hits;
  }
  return static_cast<double>(std::min(hits, ref.size())) / static_cast<double>(ref.size());
}

// The guarantees: count, passing, in range, distinct, sorted with ties by id,
// and each distance equal to the row's true distance.
void ExpectWellFormed(const Dataset& s, Metric metric, const float* q, const Roaring* passing,
                      uint64_t passing_count, size_t k, const std::vector<float>& dist,
                      const std::vector<int64_t>& ids, size_t found) {
  const uint64_t available = passing != nullptr ? passing_count : s.n;
  ASSERT_EQ(found, std::min<uint64_t>(k, available));
  const bool smaller = metric == Metric::kL2;
  for (size_t i = 0; i < found; ++i) {
    ASSERT_GE(ids[i], 0);
    ASSERT_LT(static_cast<size_t>(ids[i]), s.n);
    if (passing != nullptr) {
      EXPECT_TRUE(passing->contains(static_cast<uint32_t>(ids[i]))) << "id " << ids[i] << " does not pass";
    }
    double acc = 0;
    for (size_t j = 0; j < s.d; ++j) {
      const double a = q[j], b = s.x[ids[i] * s.d + j];
      acc += smaller ? (a - b) * (a - b) : a * b;
    }
    EXPECT_NEAR(dist[i], acc, 1e-3 * (1.0 + std::fabs(acc))) << "distance of id " << ids[i];
    if (i > 0) {
      EXPECT_TRUE(smaller ? dist[i - 1] <= dist[i] : dist[i - 1] >= dist[i]) << "not sorted at " << i;
      if (dist[i - 1] == dist[i]) {
        EXPECT_LT(ids[i - 1], ids[i]) << "tie not broken by id at " << i;
      }
      for (size_t j = 0; j < i; ++j) EXPECT_NE(ids[j], ids[i]) << "duplicate id " << ids[i];
    }
  }
}

// A random passing set of exactly round(s * n) rows.
Roaring RandomPassing(size_t n, double s, uint64_t seed) {
  std::vector<uint32_t> all(n);
  std::iota(all.begin(), all.end(), 0u);
  std::mt19937_64 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  const size_t keep = static_cast<size_t>(std::llround(s * static_cast<double>(n)));
  Roaring r;
  for (size_t i = 0; i < keep; ++i) r.add(all[i]);
  return r;
}

// Default parameters with k = kK and `passing` as the filter (borrowed).
HnswSearchParams FilteredParams(const Roaring& passing) {
  HnswSearchParams params;
  params.k = kK;
  params.passing = &passing;
  params.passing_count = passing.cardinality();
  return params;
}

struct RunSummary {
  double recall = 0;
  double computations = 0;  // mean per query
  double visited = 0;
  size_t fallbacks = 0;
  // By HnswFallbackReason (kLocalProbe is the last value).
  size_t reasons[static_cast<int>(HnswFallbackReason::kLocalProbe) + 1] = {};
  size_t queries = 0;
  size_t ef_used = 0;
};

// Runs `queries` queries (fresh points of random clusters, or of `only_cluster`
// when >= 0), checks the guarantees on each and returns the mean recall and
// cost.
RunSummary RunQueries(const Built& b, Metric metric, HnswSearchParams params, size_t queries, uint64_t seed,
               int only_cluster = -1) {
  RunSummary sum;
  std::mt19937_64 rng(seed);
  const Dataset& s = b.data;
  for (size_t qi = 0; qi < queries; ++qi) {
    const int c = only_cluster >= 0 ? only_cluster : static_cast<int>(rng() % static_cast<uint64_t>(s.clusters));
    const auto q = s.Query(c, rng);
    std::vector<float> dist(params.k, -7.0f);
    std::vector<int64_t> ids(params.k, -7);
    size_t found = 0;
    HnswSearchStats stats;
    const Status st = HnswSearch(b.view, s.x.data(), s.n, s.d, metric, DefaultKernels(), q.data(), params,
                                 dist.data(), ids.data(), &found, &stats);
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok()) return sum;
    ExpectWellFormed(s, metric, q.data(), params.passing, params.passing_count, params.k, dist, ids, found);
    const auto ref = Reference(s, metric, q.data(), params.passing, params.k);
    dist.resize(found);
    sum.recall += RecallByDistance(dist, ref, metric);
    sum.computations += static_cast<double>(stats.distance_computations);
    sum.visited += static_cast<double>(stats.visited);
    sum.fallbacks += stats.exact_fallback ? 1 : 0;
    EXPECT_EQ(stats.exact_fallback, stats.fallback_reason != HnswFallbackReason::kNone);
    ++sum.reasons[static_cast<int>(stats.fallback_reason)];
    sum.ef_used = stats.ef_used;
    ++sum.queries;
  }
  if (sum.queries > 0) {
    sum.recall /= static_cast<double>(sum.queries);
    sum.computations /= static_cast<double>(sum.queries);
    sum.visited /= static_cast<double>(sum.queries);
  }
  return sum;
}

void Print(const char* label, double selectivity, const RunSummary& r) {
  std::printf("  [hnsw] %-30s s=%-6g recall@10=%.4f ef_used=%-5zu dist/query=%-8.1f visited/query=%-8.1f "
              "fallbacks=%zu/%zu (small %zu, budget %zu, no seed %zu, too few %zu, local probe %zu)\n",
              label, selectivity, r.recall, r.ef_used, r.computations, r.visited, r.fallbacks, r.queries,
              r.reasons[1], r.reasons[2], r.reasons[3], r.reasons[4], r.reasons[5]);
}

// One L2 graph (n = 5,000, d = 32, 20 clusters) and one inner-product graph
// (n = 2,000, normalised) shared by the suite: building is the slow part.
class HnswSearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // FAISS adds in parallel with OpenMP, which makes the graph (and the
    // recall figures) vary from run to run; one thread makes them repeatable.
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    l2_ = Build(5000, 32, 20, 42, faiss::METRIC_L2).release();
    ip_ = Build(2000, 32, 10, 7, faiss::METRIC_INNER_PRODUCT).release();
    gauss_ = Build(5000, 16, 1, 21, faiss::METRIC_L2).release();
    omp_set_num_threads(threads);
  }
  static void TearDownTestSuite() {
    delete l2_;
    delete ip_;
    delete gauss_;
    l2_ = ip_ = gauss_ = nullptr;
  }
  static Built* l2_;
  static Built* ip_;
  static Built* gauss_;  // n = 5,000, d = 16, one Gaussian cloud
};
Built* HnswSearchTest::l2_ = nullptr;
Built* HnswSearchTest::ip_ = nullptr;
Built* HnswSearchTest::gauss_ = nullptr;

TEST_F(HnswSearchTest, UnfilteredRecallAtEf64IsAtLeast95) {
  HnswSearchParams params;
  params.k = kK;
  params.ef_search = 64;
  const RunSummary r = RunQueries(*l2_, Metric::kL2, params, 100, 1);
  Print("unfiltered", 1.0, r);
  EXPECT_GE(r.recall, 0.95);
  EXPECT_EQ(r.ef_used, 64u);
  EXPECT_EQ(r.fallbacks, 0u);
  EXPECT_LT(r.computations, 2500.0) << "an unfiltered walk should compare far fewer than n vectors";
}

TEST_F(HnswSearchTest, RandomFiltersKeepGuaranteesAndRecall) {
  for (const double s : {0.5, 0.1, 0.01, 0.001}) {
    SCOPED_TRACE("selectivity " + std::to_string(s));
    const Roaring passing = RandomPassing(l2_->data.n, s, 100 + static_cast<uint64_t>(s * 1000));
    HnswSearchParams params = FilteredParams(passing);
    const RunSummary r = RunQueries(*l2_, Metric::kL2, params, 60, 2);
    Print("random, default params", s, r);
    EXPECT_GE(r.recall, 0.95);
    const size_t expected_ef = std::min<size_t>(
        params.max_ef, static_cast<size_t>(64.0 / std::pow(static_cast<double>(params.passing_count) / 5000.0, 0.5)));
    EXPECT_EQ(r.ef_used, expected_ef);
    // ef_used >= passing_count: the search is exact from the start and
    // compares exactly the passing rows.
    if (expected_ef >= params.passing_count) {
      EXPECT_EQ(r.fallbacks, r.queries);
      EXPECT_EQ(r.computations, static_cast<double>(params.passing_count));
      EXPECT_EQ(r.recall, 1.0);
    }
  }
}

TEST_F(HnswSearchTest, AcornWalkAloneReachesRecallWithoutFallback) {
  // exact_fallback_factor = 0: the results come from the walk itself.
  for (const double s : {0.5, 0.1}) {
    SCOPED_TRACE("selectivity " + std::to_string(s));
    const Roaring passing = RandomPassing(l2_->data.n, s, 200 + static_cast<uint64_t>(s * 1000));
    HnswSearchParams params = FilteredParams(passing);
    params.exact_fallback_factor = 0;
    const RunSummary r = RunQueries(*l2_, Metric::kL2, params, 60, 3);
    Print("random, ACORN walk only", s, r);
    EXPECT_GE(r.recall, 0.95);
    EXPECT_EQ(r.fallbacks, 0u) << "the walk should hold ef passing results on its own";
    // ACORN scores passing nodes only: fewer comparisons than passing rows.
    EXPECT_LT(r.computations, static_cast<double>(params.passing_count));
  }
}

TEST_F(HnswSearchTest, ClusteredOnePercentFilterFallsBackWhereTwoHopGraphIsDisconnected) {
  // 50 passing rows in 20 clusters (2-3 per cluster): without widening (ef 16
  // < 50) the walk runs, but two hops rarely bridge clusters, so the walk
  // usually runs out of candidates before it holds ef rows and answers
  // exactly (the guarantee path at scale). Recall holds either way.
  const Roaring passing = RandomPassing(l2_->data.n, 0.01, 210);
  HnswSearchParams params = FilteredParams(passing);
  params.ef_search = 16;
  params.widen_exponent = 0;
  params.exact_fallback_factor = 0;
  const RunSummary r = RunQueries(*l2_, Metric::kL2, params, 60, 3);
  Print("random, ACORN ef 16, no widen", 0.01, r);
  EXPECT_EQ(r.ef_used, 16u);
  EXPECT_GE(r.recall, 0.95);
  EXPECT_GT(r.reasons[static_cast<int>(HnswFallbackReason::kTooFewResults)], 0u);
}

TEST_F(HnswSearchTest, LocalProbeSendsUncorrelatedFiltersToTheExactScanEarly) {
  // A random 2% filter: ~2% of the nodes the walk scores pass, below the
  // probe's 25%, so every query gives way to the exact scan once the walk has
  // scored 64 level-0 nodes.
  const Roaring random = RandomPassing(l2_->data.n, 0.02, 77);
  HnswSearchParams params = FilteredParams(random);
  params.two_hop = false;
  params.local_probe_min_fraction = 0.25;
  params.exact_fallback_factor = 0;  // 100 passing rows: the probe alone is under test
  const RunSummary r = RunQueries(*l2_, Metric::kL2, params, 40, 5);
  Print("random 2%, plain + local probe", 0.02, r);
  EXPECT_EQ(r.reasons[static_cast<int>(HnswFallbackReason::kLocalProbe)], r.queries);
  EXPECT_DOUBLE_EQ(r.recall, 1.0);
}

TEST_F(HnswSearchTest, LocalProbeLetsAFilterCorrelatedWithTheQueryWalk) {
  // Passing = one cluster (~5%); queries from that cluster: their
  // neighbourhood passes, so the walk runs (and keeps recall).
  Roaring cluster;
  for (size_t i = 0; i < l2_->data.n; ++i) {
    if (l2_->data.cluster[i] == 3) cluster.add(static_cast<uint32_t>(i));
  }
  HnswSearchParams params = FilteredParams(cluster);
  params.two_hop = false;
  params.local_probe_min_fraction = 0.25;
  params.exact_fallback_factor = 0;  // 248 passing rows: the probe alone is under test
  const RunSummary r = RunQueries(*l2_, Metric::kL2, params, 40, 9, /*only_cluster=*/3);
  Print("one cluster, plain + local probe", static_cast<double>(cluster.cardinality()) / l2_->data.n, r);
  EXPECT_LE(r.reasons[static_cast<int>(HnswFallbackReason::kLocalProbe)], r.queries / 10);
  EXPECT_LE(r.fallbacks, r.queries / 10);
  EXPECT_GE(r.recall, 0.95);
}

TEST_F(HnswSearchTest, AcornComparesFewerVectorsThanPlainWalkAtLowSelectivity) {
  // Unclustered data, 2% pass (100 rows), ef 48 without widening, no budget:
  // both walks must find the passing neighbours, but the plain walk scores
  // the failing nodes it crosses while ACORN only checks their bitmap bits.
  const Roaring passing = RandomPassing(gauss_->data.n, 0.02, 400);
  HnswSearchParams params = FilteredParams(passing);
  params.ef_search = 48;
  params.widen_exponent = 0;
  params.exact_fallback_factor = 0;
  const RunSummary acorn = RunQueries(*gauss_, Metric::kL2, params, 40, 17, 0);
  Print("gaussian, ACORN ef 48", 0.02, acorn);
  params.two_hop = false;
  const RunSummary plain = RunQueries(*gauss_, Metric::kL2, params, 40, 17, 0);
  Print("gaussian, plain ef 48", 0.02, plain);
  EXPECT_GE(acorn.recall, 0.95);
  EXPECT_GE(plain.recall, 0.95);
  EXPECT_LE(acorn.fallbacks, 4u);
  EXPECT_EQ(plain.fallbacks, 0u);
  EXPECT_LT(2 * acorn.computations, plain.computations);
}

TEST_F(HnswSearchTest, CorrelatedFilterOneCluster) {
  // passing = cluster 3: queries from that cluster (correlated) and from the
  // others (the passing rows are far from the query).
  Roaring passing;
  for (size_t i = 0; i < l2_->data.n; ++i) {
    if (l2_->data.cluster[i] == 3) passing.add(static_cast<uint32_t>(i));
  }
  ASSERT_GT(passing.cardinality(), kK);
  HnswSearchParams params = FilteredParams(passing);
  const double s = static_cast<double>(params.passing_count) / static_cast<double>(l2_->data.n);
  // Default parameters: ef widens to 287 >= 248 passing rows: exact.
  const RunSummary exact = RunQueries(*l2_, Metric::kL2, params, 30, 4, /*only_cluster=*/3);
  Print("one cluster, default", s, exact);
  EXPECT_GE(exact.recall, 0.95);
  EXPECT_EQ(exact.reasons[static_cast<int>(HnswFallbackReason::kSmallPassingSet)], exact.queries);
  // The walk (ef 64, no widening, no budget): queries in the cluster are
  // answered by the walk; queries from other clusters may find no passing
  // seed near the entry and answer exactly. Recall holds for both.
  params.ef_search = 64;
  params.widen_exponent = 0;
  params.exact_fallback_factor = 0;
  const RunSummary near = RunQueries(*l2_, Metric::kL2, params, 30, 4, /*only_cluster=*/3);
  Print("one cluster, walk, query in it", s, near);
  EXPECT_GE(near.recall, 0.95);
  EXPECT_EQ(near.fallbacks, 0u);
  const RunSummary far = RunQueries(*l2_, Metric::kL2, params, 30, 5);
  Print("one cluster, walk, query anywhere", s, far);
  EXPECT_GE(far.recall, 0.95);
}

TEST_F(HnswSearchTest, PlainWalkWithoutTwoHopKeepsGoingUntilEfPassing) {
  for (const double s : {0.5, 0.1}) {
    SCOPED_TRACE("selectivity " + std::to_string(s));
    const Roaring passing = RandomPassing(l2_->data.n, s, 300 + static_cast<uint64_t>(s * 1000));
    HnswSearchParams params = FilteredParams(passing);
    params.two_hop = false;
    params.exact_fallback_factor = 0;
    const RunSummary r = RunQueries(*l2_, Metric::kL2, params, 40, 6);
    Print("random, plain walk only", s, r);
    EXPECT_GE(r.recall, 0.95);
    EXPECT_EQ(r.fallbacks, 0u);
    // Failing nodes are scored too: the walk compares more than ef_used
    // vectors, at least about ef_used / s.
    EXPECT_GT(r.computations, 0.5 * static_cast<double>(r.ef_used) / s);
  }
}

TEST_F(HnswSearchTest, AllPassingBitmapMatchesUnfilteredSearch) {
  Roaring all;
  all.addRange(0, l2_->data.n);
  std::mt19937_64 rng(8);
  for (int t = 0; t < 20; ++t) {
    const auto q = l2_->data.Query(static_cast<int>(rng() % 20), rng);
    HnswSearchParams plain;
    HnswSearchParams filtered;
    filtered.passing = &all;
    filtered.passing_count = all.cardinality();
    std::vector<float> d1(kK), d2(kK);
    std::vector<int64_t> i1(kK), i2(kK);
    size_t f1 = 0, f2 = 0;
    HnswSearchStats s1, s2;
    ASSERT_TRUE(HnswSearch(l2_->view, l2_->data.x.data(), l2_->data.n, l2_->data.d, Metric::kL2, DefaultKernels(),
                           q.data(), plain, d1.data(), i1.data(), &f1, &s1)
                    .ok());
    ASSERT_TRUE(HnswSearch(l2_->view, l2_->data.x.data(), l2_->data.n, l2_->data.d, Metric::kL2, DefaultKernels(),
                           q.data(), filtered, d2.data(), i2.data(), &f2, &s2)
                    .ok());
    EXPECT_EQ(f1, f2);
    EXPECT_EQ(i1, i2);
    EXPECT_EQ(d1, d2);
    EXPECT_EQ(s1.distance_computations, s2.distance_computations);
  }
}

TEST_F(HnswSearchTest, InnerProductAndCosine) {
  HnswSearchParams params;
  params.k = kK;
  const RunSummary unfiltered = RunQueries(*ip_, Metric::kInnerProduct, params, 60, 9);
  Print("inner product, unfiltered", 1.0, unfiltered);
  EXPECT_GE(unfiltered.recall, 0.95);
  EXPECT_EQ(unfiltered.fallbacks, 0u);

  const Roaring passing = RandomPassing(ip_->data.n, 0.1, 900);
  params.passing = &passing;
  params.passing_count = passing.cardinality();
  params.ef_search = 32;  // widens to 101 < 200 passing rows: the walk runs
  params.exact_fallback_factor = 0;
  const RunSummary filtered = RunQueries(*ip_, Metric::kInnerProduct, params, 60, 10);
  Print("inner product, walk only", 0.1, filtered);
  EXPECT_GE(filtered.recall, 0.95);
  EXPECT_EQ(filtered.fallbacks, 0u);

  // kCosine over normalised vectors is the inner product, bit for bit.
  std::mt19937_64 rng(11);
  const auto q = ip_->data.Query(2, rng);
  std::vector<float> d1(kK), d2(kK);
  std::vector<int64_t> i1(kK), i2(kK);
  size_t f1 = 0, f2 = 0;
  const Dataset& s = ip_->data;
  ASSERT_TRUE(HnswSearch(ip_->view, s.x.data(), s.n, s.d, Metric::kInnerProduct, DefaultKernels(), q.data(), params,
                         d1.data(), i1.data(), &f1)
                  .ok());
  ASSERT_TRUE(HnswSearch(ip_->view, s.x.data(), s.n, s.d, Metric::kCosine, DefaultKernels(), q.data(), params,
                         d2.data(), i2.data(), &f2)
                  .ok());
  EXPECT_EQ(f1, f2);
  EXPECT_EQ(i1, i2);
  EXPECT_EQ(d1, d2);
  EXPECT_GT(d1.front(), d1.back()) << "inner product results are largest first";
}

TEST_F(HnswSearchTest, BudgetExceededRunsExactSearchAndReportsIt) {
  // 10% pass (500 rows); ef widens to 202, so the walk must visit more than
  // 0.2 * 500 = 100 nodes: Lucene's rule gives way to the exact scan.
  const Roaring passing = RandomPassing(l2_->data.n, 0.1, 1000);
  HnswSearchParams params = FilteredParams(passing);
  params.exact_fallback_factor = 0.2;
  std::mt19937_64 rng(12);
  const Dataset& s = l2_->data;
  for (int t = 0; t < 10; ++t) {
    const auto q = s.Query(static_cast<int>(rng() % 20), rng);
    std::vector<float> dist(kK);
    std::vector<int64_t> ids(kK);
    size_t found = 0;
    HnswSearchStats stats;
    ASSERT_TRUE(HnswSearch(l2_->view, s.x.data(), s.n, s.d, Metric::kL2, DefaultKernels(), q.data(), params,
                           dist.data(), ids.data(), &found, &stats)
                    .ok());
    EXPECT_TRUE(stats.exact_fallback);
    EXPECT_EQ(stats.fallback_reason, HnswFallbackReason::kBudget);
    EXPECT_STREQ(HnswFallbackReasonName(stats.fallback_reason), "budget");
    // The walk's comparisons (its budget of 100 visits counts the failing
    // nodes it read too), plus the 500 of the exact scan.
    EXPECT_GT(stats.distance_computations, 500u);
    ExpectWellFormed(s, Metric::kL2, q.data(), &passing, params.passing_count, kK, dist, ids, found);
    // Exact: the same distances as the reference, position by position.
    const auto ref = Reference(s, Metric::kL2, q.data(), &passing, kK);
    ASSERT_EQ(ref.size(), found);
    for (size_t i = 0; i < found; ++i) EXPECT_NEAR(dist[i], ref[i].first, 1e-3 * (1 + ref[i].first));
  }
}

TEST_F(HnswSearchTest, PassingCountBelowKReturnsEveryPassingRow) {
  Roaring passing;
  for (uint32_t id : {17u, 4000u, 123u, 2500u, 9u}) passing.add(id);
  HnswSearchParams params = FilteredParams(passing);
  std::mt19937_64 rng(13);
  const Dataset& s = l2_->data;
  const auto q = s.Query(0, rng);
  std::vector<float> dist(kK, -7.0f);
  std::vector<int64_t> ids(kK, -7);
  size_t found = 0;
  HnswSearchStats stats;
  ASSERT_TRUE(HnswSearch(l2_->view, s.x.data(), s.n, s.d, Metric::kL2, DefaultKernels(), q.data(), params,
                         dist.data(), ids.data(), &found, &stats)
                  .ok());
  EXPECT_EQ(found, 5u);
  ExpectWellFormed(s, Metric::kL2, q.data(), &passing, 5, kK, dist, ids, found);
  std::vector<int64_t> got(ids.begin(), ids.begin() + 5);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int64_t>{9, 17, 123, 2500, 4000}));
  EXPECT_EQ(stats.fallback_reason, HnswFallbackReason::kSmallPassingSet);
  EXPECT_EQ(ids[5], -7) << "entries past *found are not written";
}

TEST_F(HnswSearchTest, EmptyPassingSetReturnsNothing) {
  Roaring none;
  HnswSearchParams params;
  params.passing = &none;
  params.passing_count = 0;
  std::mt19937_64 rng(14);
  const Dataset& s = l2_->data;
  const auto q = s.Query(0, rng);
  std::vector<float> dist(kK);
  std::vector<int64_t> ids(kK);
  size_t found = 99;
  HnswSearchStats stats;
  ASSERT_TRUE(HnswSearch(l2_->view, s.x.data(), s.n, s.d, Metric::kL2, DefaultKernels(), q.data(), params,
                         dist.data(), ids.data(), &found, &stats)
                  .ok());
  EXPECT_EQ(found, 0u);
  EXPECT_EQ(stats.distance_computations, 0u);
}

TEST_F(HnswSearchTest, TiesAreOrderedById) {
  // 500 distinct vectors, each stored 4 times (ids i, i+500, i+1000, i+1500):
  // a query equal to a stored vector has 4 results at distance 0.
  const size_t distinct = 500, copies = 4, d = 8;
  Built b;
  const Dataset base = Dataset::Make(distinct, d, 5, 15, false);
  b.data = base;
  b.data.n = distinct * copies;
  b.data.x.resize(b.data.n * d);
  b.data.cluster.resize(b.data.n);
  for (size_t c = 1; c < copies; ++c) {
    std::copy(base.x.begin(), base.x.end(), b.data.x.begin() + static_cast<std::ptrdiff_t>(c * distinct * d));
    for (size_t i = 0; i < distinct; ++i) b.data.cluster[c * distinct + i] = base.cluster[i];
  }
  b.index = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(d), 16, faiss::METRIC_L2);
  b.index->hnsw.efConstruction = 64;
  b.index->add(static_cast<faiss::Index::idx_t>(b.data.n), b.data.x.data());
  b.view = ViewOf(b.index->hnsw, b.data.n);

  for (size_t row : {3u, 250u, 499u}) {
    SCOPED_TRACE("row " + std::to_string(row));
    const float* q = &b.data.x[row * d];
    for (const bool filtered : {false, true}) {
      Roaring passing;
      passing.addRange(0, b.data.n);
      passing.remove(static_cast<uint32_t>(row + distinct));  // one copy fails
      HnswSearchParams params;
      params.k = kK;
      if (filtered) {
        params.passing = &passing;
        params.passing_count = passing.cardinality();
      }
      std::vector<float> dist(kK);
      std::vector<int64_t> ids(kK);
      size_t found = 0;
      ASSERT_TRUE(HnswSearch(b.view, b.data.x.data(), b.data.n, d, Metric::kL2, DefaultKernels(), q, params,
                             dist.data(), ids.data(), &found)
                      .ok());
      ExpectWellFormed(b.data, Metric::kL2, q, params.passing, params.passing_count, kK, dist, ids, found);
      std::vector<int64_t> zero;
      for (size_t c = 0; c < copies; ++c) {
        if (!(filtered && c == 1)) zero.push_back(static_cast<int64_t>(row + c * distinct));
      }
      ASSERT_GE(found, zero.size());
      for (size_t i = 0; i < zero.size(); ++i) {
        EXPECT_EQ(dist[i], 0.0f);
        EXPECT_EQ(ids[i], zero[i]);
      }
      EXPECT_GT(dist[zero.size()], 0.0f);
    }
  }
}

TEST_F(HnswSearchTest, ConcurrentSearchesMatchSequentialOnes) {
  const Roaring passing = RandomPassing(l2_->data.n, 0.1, 1600);
  HnswSearchParams params;
  params.passing = &passing;
  params.passing_count = passing.cardinality();
  params.exact_fallback_factor = 0;
  const Dataset& s = l2_->data;
  std::mt19937_64 rng(16);
  std::vector<std::vector<float>> queries;
  for (int t = 0; t < 40; ++t) queries.push_back(s.Query(static_cast<int>(rng() % 20), rng));
  auto run_all = [&](std::vector<int64_t>* out) {
    for (const auto& q : queries) {
      std::vector<float> dist(kK);
      std::vector<int64_t> ids(kK, -1);
      size_t found = 0;
      if (!HnswSearch(l2_->view, s.x.data(), s.n, s.d, Metric::kL2, DefaultKernels(), q.data(), params, dist.data(),
                      ids.data(), &found)
               .ok()) {
        ids.assign(kK, -2);
      }
      out->insert(out->end(), ids.begin(), ids.end());
    }
  };
  std::vector<int64_t> sequential, a, b;
  run_all(&sequential);
  std::thread ta([&] { run_all(&a); });
  std::thread tb([&] { run_all(&b); });
  ta.join();
  tb.join();
  ASSERT_EQ(sequential.size(), queries.size() * kK);
  EXPECT_EQ(a, sequential);
  EXPECT_EQ(b, sequential);
  EXPECT_EQ(std::count(sequential.begin(), sequential.end(), -2), 0);
}

// A hand-built single-level graph: two rings of 20 nodes, each node linked to
// the nodes 1 and 2 away in its ring; ring A (ids 0..19) on the line y = 0,
// ring B (ids 20..39) on y = 100. The rings are not connected; the entry is 0.
struct TwoRings {
  Dataset data;
  std::vector<int32_t> neighbors;
  std::vector<size_t> offsets;
  std::vector<int32_t> levels;
  std::vector<int32_t> cum{0, 4};
  HnswGraphView view;

  TwoRings() {
    data.n = 40;
    data.d = 2;
    data.x.resize(80);
    for (int i = 0; i < 40; ++i) {
      data.x[2 * i] = static_cast<float>(i % 20);
      data.x[2 * i + 1] = i < 20 ? 0.0f : 100.0f;
    }
    for (int i = 0; i < 40; ++i) {
      const int ring = i / 20 * 20, j = i % 20;
      offsets.push_back(neighbors.size());
      for (int delta : {1, -1, 2, -2}) neighbors.push_back(ring + (j + delta + 20) % 20);
      levels.push_back(1);
    }
    offsets.push_back(neighbors.size());
    view.neighbors = neighbors.data();
    view.offsets = offsets.data();
    view.levels = levels.data();
    view.cum_nneighbor_per_level = cum.data();
    view.cum_levels = cum.size();
    view.entry_point = 0;
    view.max_level = 0;
    view.size = 40;
  }

  Status Search(const float* q, const HnswSearchParams& params, std::vector<float>* dist, std::vector<int64_t>* ids,
                size_t* found, HnswSearchStats* stats) const {
    dist->assign(params.k, 0.0f);
    ids->assign(params.k, -1);
    return HnswSearch(view, data.x.data(), data.n, data.d, Metric::kL2, DefaultKernels(), q, params, dist->data(),
                      ids->data(), found, stats);
  }
};

TEST(HnswSearchGraphTest, DisconnectedPassingSetFallsBackToExact) {
  const TwoRings g;
  Roaring passing;
  for (uint32_t id : {1u, 2u, 3u}) passing.add(id);  // ring A: reachable from the entry
  passing.addRange(20, 40);                            // ring B: unreachable
  const float q[2] = {5.0f, 0.0f};
  for (const bool two_hop : {true, false}) {
    SCOPED_TRACE(two_hop ? "two_hop" : "plain");
    HnswSearchParams params = FilteredParams(passing);
    params.two_hop = two_hop;
    params.ef_search = kK;  // ef 10 < 23 passing: the walk runs
    params.widen_exponent = 0;
    params.exact_fallback_factor = 0;
    std::vector<float> dist;
    std::vector<int64_t> ids;
    size_t found = 0;
    HnswSearchStats stats;
    ASSERT_TRUE(g.Search(q, params, &dist, &ids, &found, &stats).ok());
    EXPECT_TRUE(stats.exact_fallback);
    EXPECT_EQ(stats.fallback_reason, HnswFallbackReason::kTooFewResults);
    ExpectWellFormed(g.data, Metric::kL2, q, &passing, params.passing_count, kK, dist, ids, found);
    const auto ref = Reference(g.data, Metric::kL2, q, &passing, kK);
    ASSERT_EQ(found, ref.size());
    for (size_t i = 0; i < found; ++i) {
      EXPECT_EQ(ids[i], ref[i].second);
      EXPECT_EQ(dist[i], ref[i].first);
    }
    EXPECT_EQ(ids[0], 3);  // ring A's passing rows are the nearest
    EXPECT_EQ(ids[3], 25);  // then ring B, (5, 100) first
  }
}

TEST(HnswSearchGraphTest, EntryWithoutPassingNeighbourhoodFallsBackToExact) {
  const TwoRings g;
  Roaring passing;
  passing.addRange(20, 35);  // only ring B passes: nothing within 2 hops of 0
  const float q[2] = {0.0f, 90.0f};
  HnswSearchParams params = FilteredParams(passing);
  params.ef_search = kK;  // ef 10 < 15 passing: the walk runs
  params.widen_exponent = 0;
  params.exact_fallback_factor = 0;
  std::vector<float> dist;
  std::vector<int64_t> ids;
  size_t found = 0;
  HnswSearchStats stats;
  ASSERT_TRUE(g.Search(q, params, &dist, &ids, &found, &stats).ok());
  EXPECT_EQ(stats.fallback_reason, HnswFallbackReason::kNoPassingSeed);
  ExpectWellFormed(g.data, Metric::kL2, q, &passing, params.passing_count, kK, dist, ids, found);
  EXPECT_EQ(ids[0], 20);
}

TEST(HnswSearchGraphTest, TwoHopFindsPassingNodesBehindFailingOnes) {
  // Ring A with every third node passing: from the entry (fails), the walk
  // must cross failing nodes to reach passing ones, and it holds them all.
  const TwoRings g;
  Roaring passing;
  for (uint32_t id = 0; id < 20; ++id) {
    if (id % 3 == 1) passing.add(id);  // 1, 4, 7, 10, 13, 16, 19
  }
  const float q[2] = {10.0f, 0.0f};
  HnswSearchParams params;
  params.k = 5;
  params.ef_search = 6;  // ef 6 < 7 passing: the walk runs
  params.widen_exponent = 0;
  params.passing = &passing;
  params.passing_count = passing.cardinality();
  params.exact_fallback_factor = 0;
  std::vector<float> dist;
  std::vector<int64_t> ids;
  size_t found = 0;
  HnswSearchStats stats;
  ASSERT_TRUE(g.Search(q, params, &dist, &ids, &found, &stats).ok());
  EXPECT_FALSE(stats.exact_fallback) << HnswFallbackReasonName(stats.fallback_reason);
  ExpectWellFormed(g.data, Metric::kL2, q, &passing, params.passing_count, 5, dist, ids, found);
  EXPECT_EQ(ids, (std::vector<int64_t>{10, 7, 13, 4, 16}));
}

TEST(HnswSearchGraphTest, VisitedMarksSurviveGenerationWrapAround) {
  // More than 65,535 searches on one thread: the 16-bit visited generation
  // wraps; results must not change.
  const TwoRings g;
  HnswSearchParams params;
  params.k = 3;
  params.ef_search = 4;
  params.exact_fallback_factor = 0;
  const float qs[3][2] = {{5.0f, 0.0f}, {15.0f, 0.0f}, {9.0f, 1.0f}};
  std::vector<std::vector<int64_t>> expected(3);
  std::vector<float> dist;
  std::vector<int64_t> ids;
  size_t found = 0;
  HnswSearchStats stats;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(g.Search(qs[i], params, &dist, &ids, &found, &stats).ok());
    expected[i] = ids;
  }
  EXPECT_EQ(expected[0], (std::vector<int64_t>{5, 4, 6}));
  size_t mismatches = 0;
  for (int t = 0; t < 70000; ++t) {
    const int i = t % 3;
    if (!g.Search(qs[i], params, &dist, &ids, &found, &stats).ok() || ids != expected[i]) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(HnswSearchGraphTest, InvalidParamsAreRejectedNamingTheField) {
  auto check = [](HnswSearchParams p, const std::string& field) {
    const Status st = p.Validate();
    EXPECT_TRUE(st.IsInvalidArgument()) << field << ": " << st.ToString();
    EXPECT_NE(st.message().find(field), std::string::npos) << st.message();
  };
  HnswSearchParams ok;
  EXPECT_TRUE(ok.Validate().ok());
  HnswSearchParams p;
  p.k = 0;
  check(p, "k must be >= 1");
  p = {};
  p.ef_search = 0;
  check(p, "ef_search");
  p = {};
  p.k = 100;
  p.max_ef = 50;
  check(p, "max_ef must be >= k");
  p = {};
  p.widen_exponent = -0.5;
  check(p, "widen_exponent must be in [0, 2]");
  p.widen_exponent = std::nan("");
  check(p, "widen_exponent");
  p = {};
  p.exact_fallback_factor = -1;
  check(p, "exact_fallback_factor");
  p.exact_fallback_factor = INFINITY;
  check(p, "exact_fallback_factor");
  Roaring r;
  r.add(3);
  r.add(5);
  p = {};
  p.passing = &r;
  p.passing_count = 3;
  check(p, "passing_count 3 differs from passing->cardinality() 2");

  // HnswSearch validates too, before touching the outputs' contents.
  const TwoRings g;
  const float q[2] = {0, 0};
  std::vector<float> dist;
  std::vector<int64_t> ids;
  size_t found = 0;
  HnswSearchParams bad;
  bad.k = 0;
  EXPECT_TRUE(g.Search(q, bad, &dist, &ids, &found, nullptr).IsInvalidArgument());
}

TEST(HnswSearchGraphTest, InvalidInputsAndCorruptGraphsAreRejected) {
  TwoRings g;
  const float q[2] = {0, 0};
  float dist[kK];
  int64_t ids[kK];
  size_t found = 0;
  HnswSearchParams params;
  params.ef_search = 4;  // ef < 40 rows: the walk runs (and meets the corrupt list)
  params.widen_exponent = 0;
  const auto& kern = DefaultKernels();
  const float* base = g.data.x.data();

  Status st = HnswSearch(g.view, base, 39, 2, Metric::kL2, kern, q, params, dist, ids, &found);
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("40 nodes but the base has 39 rows"), std::string::npos) << st.message();
  st = HnswSearch(g.view, base, 40, 0, Metric::kL2, kern, q, params, dist, ids, &found);
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("dimension"), std::string::npos) << st.message();
  EXPECT_TRUE(HnswSearch(g.view, base, 40, 2, Metric::kL2, kern, nullptr, params, dist, ids, &found).IsInvalidArgument());
  EXPECT_TRUE(HnswSearch(g.view, nullptr, 40, 2, Metric::kL2, kern, q, params, dist, ids, &found).IsInvalidArgument());
  EXPECT_TRUE(HnswSearch(g.view, base, 40, 2, Metric::kL2, kern, q, params, dist, nullptr, &found).IsInvalidArgument());

  Roaring outside;
  outside.add(3);
  outside.add(40);
  HnswSearchParams p;
  p.passing = &outside;
  p.passing_count = 2;
  st = HnswSearch(g.view, base, 40, 2, Metric::kL2, kern, q, p, dist, ids, &found);
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("passing holds id 40"), std::string::npos) << st.message();

  HnswGraphView bad = g.view;
  bad.entry_point = 40;
  st = HnswSearch(bad, base, 40, 2, Metric::kL2, kern, q, params, dist, ids, &found);
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("entry_point"), std::string::npos) << st.message();
  bad = g.view;
  bad.max_level = 1;
  EXPECT_TRUE(HnswSearch(bad, base, 40, 2, Metric::kL2, kern, q, params, dist, ids, &found).IsInvalidArgument());

  // An empty graph is not an error: nothing is found.
  HnswGraphView empty;
  found = 7;
  EXPECT_TRUE(HnswSearch(empty, nullptr, 0, 2, Metric::kL2, kern, q, params, dist, ids, &found).ok());
  EXPECT_EQ(found, 0u);

  // A neighbour id outside the graph is a corrupt graph: Internal.
  g.neighbors[2] = 1000;  // node 0's third neighbour
  st = HnswSearch(g.view, base, 40, 2, Metric::kL2, kern, q, params, dist, ids, &found);
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  EXPECT_NE(st.message().find("neighbour 1000"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace vesta::index
