#include "index/exact_search.h"

#include <algorithm>
#include <string>
#include <vector>

#include "index/topk.h"

namespace vesta::index {
namespace {

Status CheckCommon(const float* query, size_t d, size_t k, float* distances, int64_t* labels,
                   const ExactSearchOptions& options) {
  VESTA_RETURN_IF_ERROR(options.Validate());
  if (d == 0) return Status::InvalidArgument("vector dimension must be at least 1, got 0");
  if (k == 0) return Status::InvalidArgument("k must be at least 1, got 0");
  if (query == nullptr) return Status::InvalidArgument("query is null");
  if (distances == nullptr || labels == nullptr) return Status::InvalidArgument("output arrays are null");
  return Status::OK();
}

}  // namespace

Status ExactSearchOptions::Validate() const {
  if (block_rows == 0)
    return Status::InvalidArgument("ExactSearchOptions.block_rows must be at least 1, got 0");
  return Status::OK();
}

Status ExactSearch(Metric metric, const float* query, const float* base, size_t n, size_t d, size_t k,
                   float* distances, int64_t* labels, const ExactSearchOptions& options) {
  VESTA_RETURN_IF_ERROR(CheckCommon(query, d, k, distances, labels, options));
  if (n > 0 && base == nullptr) return Status::InvalidArgument("base is null but n = " + std::to_string(n));
  const DistanceKernels& kernels = options.kernels != nullptr ? *options.kernels : DefaultKernels();
  const DistanceNyFn distance_ny = kernels.Ny(metric);

  TopK top(k, TopKOrderFor(metric));
  std::vector<float> block(std::min(options.block_rows, std::max<size_t>(n, 1)));
  for (size_t first = 0; first < n; first += block.size()) {
    const size_t rows = std::min(block.size(), n - first);
    distance_ny(query, base + first * d, d, rows, block.data());
    top.PushRange(block.data(), rows, static_cast<int64_t>(first));
  }
  top.Finish(distances, labels);
  return Status::OK();
}

Status ExactSearchByIds(Metric metric, const float* query, const float* base, size_t base_rows, size_t d,
                        const int64_t* ids, size_t n_ids, size_t k, float* distances, int64_t* labels,
                        const ExactSearchOptions& options) {
  VESTA_RETURN_IF_ERROR(CheckCommon(query, d, k, distances, labels, options));
  if (n_ids > 0 && (base == nullptr || ids == nullptr)) {
    return Status::InvalidArgument("base or ids is null but n_ids = " + std::to_string(n_ids));
  }
  for (size_t i = 0; i < n_ids; ++i) {
    if (ids[i] < 0 || static_cast<uint64_t>(ids[i]) >= base_rows) {
      return Status::InvalidArgument("id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                                     " is outside the base [0, " + std::to_string(base_rows) + ")");
    }
  }
  const DistanceKernels& kernels = options.kernels != nullptr ? *options.kernels : DefaultKernels();
  const DistanceByIdsFn distance_by_ids = kernels.ByIds(metric);

  TopK top(k, TopKOrderFor(metric));
  std::vector<float> block(std::min(options.block_rows, std::max<size_t>(n_ids, 1)));
  for (size_t first = 0; first < n_ids; first += block.size()) {
    const size_t rows = std::min(block.size(), n_ids - first);
    distance_by_ids(query, base, d, ids + first, rows, block.data());
    top.PushWithIds(block.data(), ids + first, rows);
  }
  top.Finish(distances, labels);
  return Status::OK();
}

}  // namespace vesta::index
