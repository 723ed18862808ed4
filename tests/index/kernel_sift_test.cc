// Real data: the 5,000 SIFT base vectors and the 100 texmex queries of
// /work/shared/data/ann-sift5k, against the exact ground truth shipped with
// them (derived/, computed independently in float64; see its SOURCE.md).
//
// SIFT components are integers 0..255 and d = 128, so every squared distance,
// norm and dot product is an integer below 2^24: every path, and the GEMM
// form, must reproduce the ground-truth distances *exactly*, and the ids too
// (the ground truth breaks ties by smaller row, as Vesta does; 24 of the 100
// queries have ties in their top 100).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "index/batch_search.h"
#include "index/exact_search.h"
#include "kernel_test_util.h"

namespace vesta::index {
namespace {

using testing::kAllPaths;
using testing::KernelsOrNull;
using testing::PathName;
using testing::ReadVecs;
using testing::SharedDataPath;

struct SiftSet {
  size_t n = 0, nq = 0, d = 0, k = 0;
  std::vector<float> base, queries, gt_distances;
  std::vector<int32_t> gt_ids;
};

// Loads base, queries and ground truth; `queries` and `truth` name files
// under ann-sift5k/.
SiftSet LoadSift(const std::string& queries, const std::string& truth) {
  SiftSet s;
  size_t rows = 0, dim = 0;
  s.base = ReadVecs<float>(SharedDataPath("ann-sift5k/derived/sift5k_base.fvecs"), &s.n, &s.d);
  s.queries = ReadVecs<float>(SharedDataPath("ann-sift5k/" + queries), &s.nq, &dim);
  EXPECT_EQ(dim, s.d);
  s.gt_ids = ReadVecs<int32_t>(SharedDataPath("ann-sift5k/derived/" + truth + ".ivecs"), &rows, &s.k);
  EXPECT_EQ(rows, s.nq);
  s.gt_distances =
      ReadVecs<float>(SharedDataPath("ann-sift5k/derived/" + truth + "_sqdist.fvecs"), &rows, &dim);
  EXPECT_EQ(rows, s.nq);
  EXPECT_EQ(dim, s.k);
  return s;
}

const SiftSet& TexmexQueries() {
  static const SiftSet* set =
      new SiftSet(LoadSift("siftsmall_query.fvecs", "sift5k_groundtruth_siftsmallq_k100"));
  return *set;
}

const SiftSet& NgtQueries() {
  static const SiftSet* set =
      new SiftSet(LoadSift("derived/sift5k_query3.fvecs", "sift5k_groundtruth_query3_k100"));
  return *set;
}

void ExpectGroundTruth(const SiftSet& s, size_t q, const float* distances, const int64_t* ids,
                       const std::string& context) {
  for (size_t j = 0; j < s.k; ++j) {
    ASSERT_EQ(distances[j], s.gt_distances[q * s.k + j]) << context << " query " << q << " rank " << j;
    ASSERT_EQ(ids[j], s.gt_ids[q * s.k + j]) << context << " query " << q << " rank " << j;
  }
}

TEST(SiftData, HasTheShapesItsSourceDescribes) {
  const SiftSet& s = TexmexQueries();
  EXPECT_EQ(s.n, 5000u);
  EXPECT_EQ(s.d, 128u);
  EXPECT_EQ(s.nq, 100u);
  EXPECT_EQ(s.k, 100u);
  EXPECT_EQ(NgtQueries().nq, 3u);
}

class SiftPathTest : public testing::ExactSearchPathFixture {};

TEST_P(SiftPathTest, ExactSearchReproducesTheGroundTruth) {
  for (const SiftSet* s : {&TexmexQueries(), &NgtQueries()}) {
    ASSERT_EQ(s->n, 5000u);
    std::vector<float> dist(s->k);
    std::vector<int64_t> ids(s->k);
    for (size_t q = 0; q < s->nq; ++q) {
      ASSERT_TRUE(ExactSearch(Metric::kL2, s->queries.data() + q * s->d, s->base.data(), s->n, s->d, s->k,
                              dist.data(), ids.data(), options_)
                      .ok());
      ExpectGroundTruth(*s, q, dist.data(), ids.data(), std::string(KernelPathName(GetParam())));
    }
  }
}

TEST_P(SiftPathTest, GatherOverAllRowsReproducesTheGroundTruth) {
  const SiftSet& s = TexmexQueries();
  ASSERT_EQ(s.n, 5000u);
  // All rows, listed in reverse: order must not matter.
  std::vector<int64_t> rows(s.n);
  for (size_t i = 0; i < s.n; ++i) rows[i] = static_cast<int64_t>(s.n - 1 - i);
  std::vector<float> dist(s.k);
  std::vector<int64_t> ids(s.k);
  for (size_t q = 0; q < s.nq; q += 9) {
    ASSERT_TRUE(ExactSearchByIds(Metric::kL2, s.queries.data() + q * s.d, s.base.data(), s.n, s.d,
                                 rows.data(), rows.size(), s.k, dist.data(), ids.data(), options_)
                    .ok());
    ExpectGroundTruth(s, q, dist.data(), ids.data(), "gather " + std::string(KernelPathName(GetParam())));
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, SiftPathTest, ::testing::ValuesIn(kAllPaths), PathName());

TEST(SiftBatchSearch, GemmSearchReproducesTheGroundTruth) {
  const SiftSet& s = TexmexQueries();
  ASSERT_EQ(s.n, 5000u);
  std::vector<float> dist(s.nq * s.k);
  std::vector<int64_t> ids(s.nq * s.k);
  ASSERT_TRUE(
      BatchSearch(Metric::kL2, s.queries.data(), s.nq, s.base.data(), s.n, s.d, s.k, dist.data(), ids.data())
          .ok());
  for (size_t q = 0; q < s.nq; ++q)
    ExpectGroundTruth(s, q, dist.data() + q * s.k, ids.data() + q * s.k, "gemm");
}

}  // namespace
}  // namespace vesta::index
