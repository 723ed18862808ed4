// Exact (brute-force) k-nearest-neighbour search for one query: distances
// with the SIMD kernels of index/distance.h, then top-k (index/topk.h),
// streamed in blocks so the distance buffer stays in L1 and the base vectors
// are read once, sequentially. This is memory-bound: it runs at the core's
// streaming-read bandwidth (index/README.md, "Kernels: measured"). For many
// queries at once use BatchSearch (index/batch_search.h), which reads the base
// once per batch instead of once per query.
//
// Shapes as in index/distance.h: base is n * d floats, row-major; labels are
// base row numbers. Results: distances and labels, size k each, best first
// (ties by smaller label), padded with label -1 and +inf (L2) or -inf
// (inner product, cosine) when fewer than k rows are searched.
// Cosine: REQUIRES query and base rows normalised (Normalize()); searched as
// inner product.
//
// Thread-safety: the functions are thread-safe (no shared state); concurrent
// calls may share base and query.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "index/distance.h"

namespace vesta::index {

struct ExactSearchOptions {
  // Kernels to compute distances with; nullptr: DefaultKernels(). Set by
  // tests and benchmarks to force a path (KernelsFor()).
  const DistanceKernels* kernels = nullptr;
  // Base vectors per block: the block's distances (block_rows floats, 4 KB at
  // the default) stay in L1 between the distance kernel and the top-k pass.
  // Larger blocks spill to L2; smaller ones pay more per-block overhead.
  size_t block_rows = 1024;

  // InvalidArgument if block_rows is 0.
  Status Validate() const;
};

// The k nearest of the n base rows to query (d floats).
// distances, labels: output, size k each (owned by the caller).
// Errors: InvalidArgument for d == 0, k == 0, a null pointer where data is
// needed, or invalid options; the outputs are then untouched.
Status ExactSearch(Metric metric, const float* query, const float* base, size_t n, size_t d, size_t k,
                   float* distances, int64_t* labels, const ExactSearchOptions& options = {});

// The k nearest to query among the base rows listed in ids[0..n_ids) (any
// order; a repeated id is a repeated candidate). base has base_rows rows; the
// labels returned are base row numbers. This is the "small passing set" step
// of filtered search: exact search over the ids a filter lets through.
// Errors: as ExactSearch, and InvalidArgument "id 7 at position 3 is outside
// the base [0, 5)" for an id outside [0, base_rows).
Status ExactSearchByIds(Metric metric, const float* query, const float* base, size_t base_rows, size_t d,
                        const int64_t* ids, size_t n_ids, size_t k, float* distances, int64_t* labels,
                        const ExactSearchOptions& options = {});

}  // namespace vesta::index
