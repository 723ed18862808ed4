// Exact single-query search (scan and gather) and batched GEMM search against
// a double-precision brute force, on every kernel path.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "index/batch_search.h"
#include "index/exact_search.h"
#include "kernel_test_util.h"

namespace vesta::index {
namespace {

using testing::ExpectMatchesRanking;
using testing::kAllPaths;
using testing::KernelsOrNull;
using testing::PathName;
using testing::RandomFloats;
using testing::RandomIntegerFloats;
using testing::RankedRow;
using testing::RefRanking;

std::string Context(Metric metric, size_t nq, size_t n, size_t d, size_t q) {
  return std::string(MetricName(metric)) + " nq=" + std::to_string(nq) + " n=" + std::to_string(n) +
         " d=" + std::to_string(d) + " query " + std::to_string(q);
}

class ExactSearchPathTest : public testing::ExactSearchPathFixture {};

TEST_P(ExactSearchPathTest, MatchesBruteForceForBothMetricsAcrossBlocks) {
  // n not a multiple of the block; small block to cross many boundaries.
  options_.block_rows = 97;
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    for (size_t d : {size_t{1}, size_t{17}, size_t{128}}) {
      const size_t n = 1001, k = 10;
      const auto base = RandomFloats(n * d, 100 + static_cast<uint32_t>(d));
      const auto query = RandomFloats(d, 200 + static_cast<uint32_t>(d));
      std::vector<float> dist(k);
      std::vector<int64_t> ids(k);
      ASSERT_TRUE(
          ExactSearch(metric, query.data(), base.data(), n, d, k, dist.data(), ids.data(), options_).ok());
      const auto ranking = RefRanking(metric, query.data(), base.data(), n, d);
      ExpectMatchesRanking(ranking, dist.data(), ids.data(), k, 1e-5 * (1.0 + d), metric,
                           Context(metric, 1, n, d, 0));
    }
  }
}

TEST_P(ExactSearchPathTest, PadsWhenKExceedsTheBase) {
  const size_t n = 3, d = 5, k = 6;
  const auto base = RandomFloats(n * d, 1);
  const auto query = RandomFloats(d, 2);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    std::vector<float> dist(k);
    std::vector<int64_t> ids(k);
    ASSERT_TRUE(
        ExactSearch(metric, query.data(), base.data(), n, d, k, dist.data(), ids.data(), options_).ok());
    ExpectMatchesRanking(RefRanking(metric, query.data(), base.data(), n, d), dist.data(), ids.data(), k,
                         1e-5, metric, "pad");
    EXPECT_EQ(ids[3], -1);
  }
  // An empty base: all padding.
  std::vector<float> dist(2);
  std::vector<int64_t> ids(2);
  ASSERT_TRUE(
      ExactSearch(Metric::kL2, query.data(), nullptr, 0, d, 2, dist.data(), ids.data(), options_).ok());
  EXPECT_EQ(ids, (std::vector<int64_t>{-1, -1}));
  EXPECT_TRUE(std::isinf(dist[0]));
}

TEST_P(ExactSearchPathTest, BreaksEqualDistancesBySmallerRow) {
  // Rows 0..9 are copies of two vectors: every distance is one of two values.
  const size_t d = 19, n = 10, k = 7;
  const auto a = RandomIntegerFloats(d, 5, 9);
  const auto b = RandomIntegerFloats(d, 6, 9);
  std::vector<float> base;
  for (size_t i = 0; i < n; ++i)
    base.insert(base.end(), (i % 3 == 0 ? a : b).begin(), (i % 3 == 0 ? a : b).end());
  std::vector<float> dist(k);
  std::vector<int64_t> ids(k);
  ASSERT_TRUE(
      ExactSearch(Metric::kL2, a.data(), base.data(), n, d, k, dist.data(), ids.data(), options_).ok());
  EXPECT_EQ(ids, (std::vector<int64_t>{0, 3, 6, 9, 1, 2, 4}));
  EXPECT_EQ(dist[0], 0.0f);
}

TEST_P(ExactSearchPathTest, GatherSearchesOnlyTheListedRows) {
  const size_t n = 500, d = 33, k = 5;
  const auto base = RandomFloats(n * d, 301);
  const auto query = RandomFloats(d, 302);
  // Out of order, with repeats.
  std::vector<int64_t> listed = {499, 3, 250, 3, 17, 42, 42, 42, 100, 0, 77, 499, 318};
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    std::vector<float> dist(k);
    std::vector<int64_t> ids(k);
    options_.block_rows = 4;
    ASSERT_TRUE(ExactSearchByIds(metric, query.data(), base.data(), n, d, listed.data(), listed.size(), k,
                                 dist.data(), ids.data(), options_)
                    .ok());
    // Reference: rank the listed rows (duplicates included).
    std::vector<RankedRow> ranking;
    for (int64_t id : listed) {
      ranking.push_back({testing::RefDistance(metric, query.data(), base.data() + id * d, d), id});
    }
    std::sort(ranking.begin(), ranking.end(), [metric](const RankedRow& x, const RankedRow& y) {
      if (x.distance != y.distance)
        return SmallerIsCloser(metric) ? x.distance < y.distance : x.distance > y.distance;
      return x.id < y.id;
    });
    for (size_t j = 0; j < k; ++j) {
      EXPECT_EQ(ids[j], ranking[j].id) << MetricName(metric) << " rank " << j;
      EXPECT_NEAR(dist[j], ranking[j].distance, 1e-4) << MetricName(metric) << " rank " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, ExactSearchPathTest, ::testing::ValuesIn(kAllPaths), PathName());

TEST(ExactSearch, RejectsInvalidArguments) {
  const std::vector<float> base(8, 1.0f), query(4, 0.0f);
  float dist[2];
  int64_t ids[2];
  Status s = ExactSearch(Metric::kL2, query.data(), base.data(), 2, 4, 0, dist, ids);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  s = ExactSearch(Metric::kL2, query.data(), base.data(), 2, 0, 1, dist, ids);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  s = ExactSearch(Metric::kL2, query.data(), nullptr, 2, 4, 1, dist, ids);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  ExactSearchOptions bad;
  bad.block_rows = 0;
  s = ExactSearch(Metric::kL2, query.data(), base.data(), 2, 4, 1, dist, ids, bad);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  const int64_t listed[] = {0, 1, 5};
  s = ExactSearchByIds(Metric::kL2, query.data(), base.data(), 2, 4, listed, 3, 1, dist, ids);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(s.message(), "id 5 at position 2 is outside the base [0, 2)");
  const int64_t negative[] = {-1};
  EXPECT_TRUE(ExactSearchByIds(Metric::kL2, query.data(), base.data(), 2, 4, negative, 1, 1, dist, ids)
                  .IsInvalidArgument());
}

// --- Batched search -------------------------------------------------------

// Absolute tolerance for GEMM-form distances: cancellation in
// ||x||^2 - 2 x.y + ||y||^2 loses ~eps * (||x||^2 + ||y||^2).
double GemmTolerance(Metric metric, const std::vector<float>& queries, const std::vector<float>& base,
                     size_t d) {
  double max_norm = 0.0;
  for (const auto* v : {&queries, &base}) {
    for (size_t i = 0; i * d < v->size(); ++i)
      max_norm = std::max(max_norm, testing::RefIp(v->data() + i * d, v->data() + i * d, d));
  }
  return (metric == Metric::kL2 ? 2.0 : 1.0) * 4e-6 * max_norm + 1e-6;
}

TEST(BatchSearch, EqualsSingleQueryBruteForce) {
  BatchSearchOptions options;
  options.min_gemm_queries = 2;  // nq = 7 goes through sgemm; nq = 1 cannot
  const size_t d = 37, k = 10;
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    for (size_t nq : {size_t{1}, size_t{7}, size_t{64}}) {
      for (size_t n : {size_t{1}, size_t{1000}, size_t{5000}}) {
        const auto queries = RandomFloats(nq * d, static_cast<uint32_t>(nq * 31 + n));
        const auto base = RandomFloats(n * d, static_cast<uint32_t>(n * 17 + 3));
        std::vector<float> dist(nq * k), single_dist(k);
        std::vector<int64_t> ids(nq * k), single_ids(k);
        ASSERT_TRUE(
            BatchSearch(metric, queries.data(), nq, base.data(), n, d, k, dist.data(), ids.data(), options)
                .ok());
        const double tol = GemmTolerance(metric, queries, base, d);
        for (size_t q = 0; q < nq; ++q) {
          const float* query = queries.data() + q * d;
          ASSERT_TRUE(
              ExactSearch(metric, query, base.data(), n, d, k, single_dist.data(), single_ids.data()).ok());
          const std::string context = Context(metric, nq, n, d, q);
          const auto ranking = RefRanking(metric, query, base.data(), n, d);
          ExpectMatchesRanking(ranking, dist.data() + q * k, ids.data() + q * k, k, tol, metric, context);
          ExpectMatchesRanking(ranking, single_dist.data(), single_ids.data(), k, tol, metric, context);
          for (size_t j = 0; j < k; ++j) {
            if (j >= n) {
              EXPECT_EQ(dist[q * k + j], single_dist[j]) << context << " rank " << j;  // both padding
            } else {
              EXPECT_NEAR(dist[q * k + j], single_dist[j], 2 * tol) << context << " rank " << j;
            }
          }
        }
      }
    }
  }
}

TEST(BatchSearch, OddBlockSizesCoverEveryPair) {
  BatchSearchOptions options;
  options.base_block_rows = 333;
  options.query_block_rows = 5;
  const size_t nq = 23, n = 2000, d = 20, k = 7;
  const auto queries = RandomFloats(nq * d, 401);
  const auto base = RandomFloats(n * d, 402);
  std::vector<float> dist(nq * k);
  std::vector<int64_t> ids(nq * k);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    ASSERT_TRUE(
        BatchSearch(metric, queries.data(), nq, base.data(), n, d, k, dist.data(), ids.data(), options).ok());
    const double tol = GemmTolerance(metric, queries, base, d);
    for (size_t q = 0; q < nq; ++q) {
      ExpectMatchesRanking(RefRanking(metric, queries.data() + q * d, base.data(), n, d), dist.data() + q * k,
                           ids.data() + q * k, k, tol, metric, Context(metric, nq, n, d, q));
    }
  }
}

TEST(BatchSearch, IsExactOnIntegerValuedData) {
  // Integer components: every sgemm partial sum and norm is an exact float.
  const size_t nq = 16, n = 3000, d = 64, k = 20;
  const auto queries = RandomIntegerFloats(nq * d, 501, 20);
  const auto base = RandomIntegerFloats(n * d, 502, 20);
  std::vector<float> dist(nq * k), single_dist(k);
  std::vector<int64_t> ids(nq * k), single_ids(k);
  ASSERT_TRUE(
      BatchSearch(Metric::kL2, queries.data(), nq, base.data(), n, d, k, dist.data(), ids.data()).ok());
  for (size_t q = 0; q < nq; ++q) {
    ASSERT_TRUE(ExactSearch(Metric::kL2, queries.data() + q * d, base.data(), n, d, k, single_dist.data(),
                            single_ids.data())
                    .ok());
    EXPECT_EQ(std::vector<float>(dist.begin() + q * k, dist.begin() + (q + 1) * k), single_dist)
        << "query " << q;
    EXPECT_EQ(std::vector<int64_t>(ids.begin() + q * k, ids.begin() + (q + 1) * k), single_ids)
        << "query " << q;
  }
}

TEST(BatchSearch, ClampsCancellationToZeroForIdenticalVectors) {
  // Large norms, each query equal to a base row: -2 x.y + ||x||^2 + ||y||^2
  // may round below zero; the result must be exactly 0 at that row.
  const size_t nq = 8, n = 100, d = 50, k = 1;
  auto base = RandomFloats(n * d, 601, 1000.0f, 1001.0f);
  std::vector<float> queries(base.begin(), base.begin() + nq * d);
  std::vector<float> dist(nq * k);
  std::vector<int64_t> ids(nq * k);
  ASSERT_TRUE(
      BatchSearch(Metric::kL2, queries.data(), nq, base.data(), n, d, k, dist.data(), ids.data()).ok());
  for (size_t q = 0; q < nq; ++q) {
    EXPECT_GE(dist[q], 0.0f) << "query " << q;
    EXPECT_LT(dist[q], 1.0f) << "query " << q;  // ~eps * 1e8 at worst
  }
}

TEST(BatchSearch, PrecomputedBaseNormsGiveTheSameResult) {
  const size_t nq = 10, n = 700, d = 24, k = 4;
  const auto queries = RandomFloats(nq * d, 701);
  const auto base = RandomFloats(n * d, 702);
  std::vector<float> norms(n);
  NormsSqr(base.data(), n, d, norms.data());
  std::vector<float> d1(nq * k), d2(nq * k);
  std::vector<int64_t> i1(nq * k), i2(nq * k);
  ASSERT_TRUE(BatchSearch(Metric::kL2, queries.data(), nq, base.data(), n, d, k, d1.data(), i1.data()).ok());
  BatchSearchOptions options;
  options.base_norms_sqr = norms.data();
  ASSERT_TRUE(
      BatchSearch(Metric::kL2, queries.data(), nq, base.data(), n, d, k, d2.data(), i2.data(), options).ok());
  EXPECT_EQ(d1, d2);
  EXPECT_EQ(i1, i2);
}

TEST(BatchSearch, PadsWhenKExceedsTheBase) {
  const size_t nq = 9, n = 3, d = 8, k = 5;
  const auto queries = RandomFloats(nq * d, 801);
  const auto base = RandomFloats(n * d, 802);
  std::vector<float> dist(nq * k);
  std::vector<int64_t> ids(nq * k);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct}) {
    ASSERT_TRUE(BatchSearch(metric, queries.data(), nq, base.data(), n, d, k, dist.data(), ids.data()).ok());
    for (size_t q = 0; q < nq; ++q) {
      EXPECT_EQ(ids[q * k + 3], -1);
      EXPECT_EQ(ids[q * k + 4], -1);
      EXPECT_EQ(dist[q * k + 4], SmallerIsCloser(metric) ? INFINITY : -INFINITY);
      ExpectMatchesRanking(RefRanking(metric, queries.data() + q * d, base.data(), n, d), dist.data() + q * k,
                           ids.data() + q * k, k, 1e-5, metric, Context(metric, nq, n, d, q));
    }
  }
}

TEST(BatchSearch, CosineOnNormalisedVectorsRanksByCosine) {
  const size_t nq = 12, n = 1500, d = 48, k = 8;
  auto queries = RandomFloats(nq * d, 901, -1.0f, 2.0f);
  auto base = RandomFloats(n * d, 902, -1.0f, 2.0f);
  // Reference on the raw vectors: cosine in double.
  std::vector<std::vector<RankedRow>> rankings(nq);
  for (size_t q = 0; q < nq; ++q) {
    const float* x = queries.data() + q * d;
    for (size_t i = 0; i < n; ++i) {
      const float* y = base.data() + i * d;
      const double cosine =
          testing::RefIp(x, y, d) / std::sqrt(testing::RefIp(x, x, d) * testing::RefIp(y, y, d));
      rankings[q].push_back({cosine, static_cast<int64_t>(i)});
    }
    std::sort(rankings[q].begin(), rankings[q].end(), [](const RankedRow& a, const RankedRow& b) {
      return a.distance != b.distance ? a.distance > b.distance : a.id < b.id;
    });
  }
  NormalizeRows(queries.data(), nq, d);
  NormalizeRows(base.data(), n, d);
  std::vector<float> dist(nq * k), single_dist(k);
  std::vector<int64_t> ids(nq * k), single_ids(k);
  ASSERT_TRUE(
      BatchSearch(Metric::kCosine, queries.data(), nq, base.data(), n, d, k, dist.data(), ids.data()).ok());
  for (size_t q = 0; q < nq; ++q) {
    ExpectMatchesRanking(rankings[q], dist.data() + q * k, ids.data() + q * k, k, 1e-5, Metric::kCosine,
                         Context(Metric::kCosine, nq, n, d, q));
    ASSERT_TRUE(ExactSearch(Metric::kCosine, queries.data() + q * d, base.data(), n, d, k, single_dist.data(),
                            single_ids.data())
                    .ok());
    ExpectMatchesRanking(rankings[q], single_dist.data(), single_ids.data(), k, 1e-5, Metric::kCosine,
                         Context(Metric::kCosine, 1, n, d, q));
  }
}

TEST(BatchSearch, RejectsInvalidArgumentsAndOptions) {
  const std::vector<float> v(16, 1.0f);
  float dist[4];
  int64_t ids[4];
  EXPECT_TRUE(BatchSearch(Metric::kL2, v.data(), 2, v.data(), 2, 8, 0, dist, ids).IsInvalidArgument());
  EXPECT_TRUE(BatchSearch(Metric::kL2, v.data(), 2, v.data(), 2, 0, 1, dist, ids).IsInvalidArgument());
  EXPECT_TRUE(BatchSearch(Metric::kL2, nullptr, 2, v.data(), 2, 8, 1, dist, ids).IsInvalidArgument());
  BatchSearchOptions options;
  options.min_gemm_queries = 1;
  const Status s = BatchSearch(Metric::kL2, v.data(), 2, v.data(), 2, 8, 1, dist, ids, options);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("single query"), std::string::npos) << s.message();
  options = BatchSearchOptions();
  options.base_block_rows = 0;
  EXPECT_TRUE(options.Validate().IsInvalidArgument());
  EXPECT_TRUE(BatchSearchOptions().Validate().ok());
  // nq = 0 is a no-op.
  EXPECT_TRUE(BatchSearch(Metric::kL2, nullptr, 0, v.data(), 2, 8, 1, nullptr, nullptr).ok());
}

}  // namespace
}  // namespace vesta::index
