// Batched exact k-nearest-neighbour search: nq queries against n base
// vectors through OpenBLAS sgemm, with a blocked top-k per query.
//
// Algorithm (FAISS's exhaustive_L2sqr_blas, re-blocked for cache):
//   L2:    ||x - y||^2 = ||x||^2 - 2 x.y + ||y||^2; sgemm computes -2 x.y for a
//          tile of query_block_rows x base_block_rows pairs, the norms are
//          added and values below 0 (cancellation) are clamped to 0.
//   IP:    sgemm computes x.y directly (cosine: on normalised vectors).
// Each tile row goes straight into that query's TopK (index/topk.h) while the
// tile is still in cache, so the nq x n distance matrix never exists.
// Distances agree with ExactSearch's to float rounding of the two formulas:
// the GEMM form loses absolute precision ~1e-7 * (||x||^2 + ||y||^2) to
// cancellation, so near-equal distances may swap order between the two.
//
// Batches smaller than options.min_gemm_queries use ExactSearch per query:
// sgemm for one query runs at ~1.8 GFLOP/s (DESIGN.md), well below the
// memory-bound scan; from 4 queries on sgemm wins (BM_SmallBatch).
//
// Threads: this function spawns none. sgemm uses OpenBLAS's own pool, sized
// once at start-up by the service (openblas_set_num_threads; Vesta sets 1 per
// request thread on 2 cores, see index/README.md).
//
// Shapes as in index/distance.h: queries nq * d, base n * d, row-major.
// Results: distances and labels, nq * k each, row-major (query i's results at
// [i * k, (i + 1) * k)), best first, ties by smaller label, padded with -1 and
// +inf (L2) / -inf (IP, cosine) when n < k.
//
// Thread-safety: thread-safe (no shared state besides OpenBLAS, which is).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "index/distance.h"

namespace vesta::index {

struct BatchSearchOptions {
  // Kernels for the norms and the small-batch fallback; nullptr:
  // DefaultKernels().
  const DistanceKernels* kernels = nullptr;
  // Base vectors per sgemm call. With query_block_rows this sets the tile
  // that sgemm writes and the top-k pass reads back while it is in cache:
  // 512 x 2048 floats = 4 MB (L3; each core has 1 MB of L2). Measured on
  // 1024 x 100k x 128 (bench/kernel_bench.cc, BM_BatchSearch/L2/qb/bb): every
  // shape from 128 x 4096 to 1024 x 4096 runs at 91-96% of a plain sgemm, so
  // the choice is not critical; 512 x 2048 was among the best.
  size_t base_block_rows = 2048;
  // Queries per sgemm call (see base_block_rows).
  size_t query_block_rows = 512;
  // Batches with fewer queries than this use the single-query scan instead of
  // sgemm. Must be at least 2: sgemm is never called for a single query.
  size_t min_gemm_queries = 4;
  // Optional ||y||^2 of the n base rows (NormsSqr()), so that an index computes
  // them once instead of per call. Borrowed; L2 only; nullptr: computed here.
  const float* base_norms_sqr = nullptr;

  // InvalidArgument for a zero block size or min_gemm_queries < 2.
  Status Validate() const;
};

// For each of the nq queries, the k nearest of the n base rows.
// distances, labels: output, nq * k each (owned by the caller).
// Errors: InvalidArgument for d == 0, k == 0, d beyond sgemm's int range, a
// null pointer where data is needed, or invalid options;
// the outputs are then untouched. Temporary memory: one tile (query_block_rows
// x base_block_rows floats), nq top-k buffers (~nq * 2k * 16 bytes) and, for L2
// without base_norms_sqr, n floats.
Status BatchSearch(Metric metric, const float* queries, size_t nq, const float* base, size_t n, size_t d,
                   size_t k, float* distances, int64_t* labels, const BatchSearchOptions& options = {});

}  // namespace vesta::index
