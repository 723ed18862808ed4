#include "index/batch_search.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "index/exact_search.h"
#include "index/topk.h"

namespace vesta::index {
namespace {

bool FitsInt(size_t v) {
  return v <= static_cast<size_t>(INT_MAX);
}

// ||.||^2 of the n rows of x with the chosen kernels.
void RowNormsSqr(const DistanceKernels& kernels, const float* x, size_t n, size_t d, float* norms) {
  for (size_t i = 0; i < n; ++i) norms[i] = kernels.inner_product(x + i * d, x + i * d, d);
}

// row[j] = max(0, row[j] + query_norm + base_norms[j]): turns a row of -2 x.y
// into squared L2 distances. A NaN stays NaN (TopK then drops it) rather than
// becoming a distance of 0.
void FinishL2Row(float* row, size_t n, float query_norm, const float* base_norms) {
  for (size_t j = 0; j < n; ++j) {
    const float v = row[j] + base_norms[j] + query_norm;
    row[j] = v < 0.0f ? 0.0f : v;
  }
}

}  // namespace

Status BatchSearchOptions::Validate() const {
  if (base_block_rows == 0 || query_block_rows == 0) {
    return Status::InvalidArgument(
        "BatchSearchOptions: base_block_rows and query_block_rows must be at least 1");
  }
  if (!FitsInt(base_block_rows) || !FitsInt(query_block_rows)) {
    return Status::InvalidArgument("BatchSearchOptions: block sizes must fit in an int (sgemm)");
  }
  if (min_gemm_queries < 2) {
    return Status::InvalidArgument(
        "BatchSearchOptions.min_gemm_queries must be at least 2 (sgemm is never used "
        "for a single query), got " +
        std::to_string(min_gemm_queries));
  }
  return Status::OK();
}

Status BatchSearch(Metric metric, const float* queries, size_t nq, const float* base, size_t n, size_t d,
                   size_t k, float* distances, int64_t* labels, const BatchSearchOptions& options) {
  VESTA_RETURN_IF_ERROR(options.Validate());
  if (d == 0) return Status::InvalidArgument("vector dimension must be at least 1, got 0");
  if (k == 0) return Status::InvalidArgument("k must be at least 1, got 0");
  if (!FitsInt(d))
    return Status::InvalidArgument("vector dimension " + std::to_string(d) + " exceeds sgemm's range");
  if (nq == 0) return Status::OK();
  if (queries == nullptr) return Status::InvalidArgument("queries is null but nq = " + std::to_string(nq));
  if (n > 0 && base == nullptr) return Status::InvalidArgument("base is null but n = " + std::to_string(n));
  if (distances == nullptr || labels == nullptr) return Status::InvalidArgument("output arrays are null");
  const DistanceKernels& kernels = options.kernels != nullptr ? *options.kernels : DefaultKernels();

  if (nq < options.min_gemm_queries || n == 0) {
    ExactSearchOptions exact;
    exact.kernels = &kernels;
    for (size_t q = 0; q < nq; ++q) {
      VESTA_RETURN_IF_ERROR(
          ExactSearch(metric, queries + q * d, base, n, d, k, distances + q * k, labels + q * k, exact));
    }
    return Status::OK();
  }

  const bool l2 = metric == Metric::kL2;
  std::vector<float> query_norms;
  std::vector<float> computed_base_norms;
  const float* base_norms = options.base_norms_sqr;
  if (l2) {
    query_norms.resize(nq);
    RowNormsSqr(kernels, queries, nq, d, query_norms.data());
    if (base_norms == nullptr) {
      computed_base_norms.resize(n);
      RowNormsSqr(kernels, base, n, d, computed_base_norms.data());
      base_norms = computed_base_norms.data();
    }
  }

  const TopKOrder order = TopKOrderFor(metric);
  std::vector<TopK> tops;
  tops.reserve(nq);
  for (size_t q = 0; q < nq; ++q) tops.emplace_back(k, order);

  const size_t base_block = std::min(options.base_block_rows, n);
  const size_t query_block = std::min(options.query_block_rows, nq);
  std::vector<float> tile(base_block * query_block);
  const float alpha = l2 ? -2.0f : 1.0f;
  const int di = static_cast<int>(d);

  // Base blocks outside, query blocks inside: each base block is read from
  // memory once and reused from cache by every query block.
  for (size_t b0 = 0; b0 < n; b0 += base_block) {
    const size_t nb = std::min(base_block, n - b0);
    for (size_t q0 = 0; q0 < nq; q0 += query_block) {
      const size_t mq = std::min(query_block, nq - q0);
      // tile (mq x nb, row-major) = alpha * queries[q0..] * base[b0..]^T.
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(mq), static_cast<int>(nb), di,
                  alpha, queries + q0 * d, di, base + b0 * d, di, 0.0f, tile.data(), static_cast<int>(nb));
      for (size_t r = 0; r < mq; ++r) {
        float* row = tile.data() + r * nb;
        if (l2) FinishL2Row(row, nb, query_norms[q0 + r], base_norms + b0);
        tops[q0 + r].PushRange(row, nb, static_cast<int64_t>(b0));
      }
    }
  }
  for (size_t q = 0; q < nq; ++q) tops[q].Finish(distances + q * k, labels + q * k);
  return Status::OK();
}

}  // namespace vesta::index
