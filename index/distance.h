// Float32 distance kernels: squared L2 and inner product (cosine is inner
// product over normalised vectors), with SIMD paths chosen once at run time.
//
// Shapes (FAISS convention, stated once for all of index/): a set of n vectors
// of dimension d is one contiguous row-major float array of n * d values;
// component j of vector i is x[i * d + j]. d is any positive size (no padding,
// no alignment: every pointer may be unaligned, tails are handled exactly).
// Vector ids are int64_t row numbers 0..n-1 into such an array. Every pointer
// is borrowed for the duration of the call; outputs are caller-allocated.
//
// Metrics and what "closer" means:
//   kL2           ||x - y||^2 (squared, never the root); smaller is closer.
//   kInnerProduct x . y; larger is closer.
//   kCosine       x . y / (||x|| ||y||). Vesta stores and searches unit
//                 vectors: Normalize() every vector at ingest and every query
//                 before searching, then cosine *is* the inner product and the
//                 kInnerProduct kernels serve it; larger is closer.
//
// Paths: kAvx512 (AVX-512F), kAvx2 (AVX2 + FMA) and kScalar (portable C++),
// each in its own translation unit compiled with its own ISA flags; the rest
// of the build targets baseline x86-64. DefaultKernels() picks the best path
// the CPU supports once (__builtin_cpu_supports); KernelsFor() forces a path,
// for tests and benchmarks. Paths agree up to float rounding (they sum in
// different orders); on integer-valued data with exact partial sums (|sums| <
// 2^24, e.g. SIFT) they agree bit for bit. A result never depends on where
// the vectors sit in memory (alignment), only on their values and the path.
// Units: both metrics are in squared input units, as float32.
//
// Algorithm: FAISS's fvec_L2sqr / fvec_inner_product (utils/distances_simd.cpp)
// restated with several independent accumulators per path and masked tails;
// the gather kernel adds software prefetch of the next rows. Per-path details
// and measurements: index/README.md.
//
// Thread-safety: every function here is pure (reads its inputs, writes only
// its outputs) and thread-safe; DistanceKernels tables are immutable.
// Inputs must be finite: a NaN or infinity propagates into the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace vesta::index {

enum class Metric { kL2, kInnerProduct, kCosine };

// "L2", "INNER_PRODUCT", "COSINE".
std::string_view MetricName(Metric metric);

// True for kL2 (keep the smallest values), false for kInnerProduct and
// kCosine (keep the largest).
inline bool SmallerIsCloser(Metric metric) {
  return metric == Metric::kL2;
}

enum class KernelPath { kScalar, kAvx2, kAvx512 };

// "scalar", "avx2", "avx512".
std::string_view KernelPathName(KernelPath path);

// True if this CPU can run `path` (kScalar: always).
bool CpuSupports(KernelPath path);

// Returns distance(x, y) for two vectors of d floats. REQUIRES: d >= 1.
using DistanceFn = float (*)(const float* x, const float* y, size_t d);
// distances[i] = distance(x, y + i * d) for i in [0, ny): one query against ny
// contiguous vectors. distances: output, size ny. REQUIRES: d >= 1.
using DistanceNyFn = void (*)(const float* x, const float* y, size_t d, size_t ny, float* distances);
// distances[i] = distance(x, base + ids[i] * d) for i in [0, n): one query
// against a gathered subset of base (ids in any order, repeats allowed).
// distances: output, size n. Prefetches the next vectors while it computes.
// REQUIRES: d >= 1; every ids[i] is a valid row of base.
using DistanceByIdsFn = void (*)(const float* x, const float* base, size_t d, const int64_t* ids, size_t n,
                                 float* distances);

// One path's kernels. Obtain through DefaultKernels() or KernelsFor(); fetch
// once and call many times (each call is an indirect call, no dispatch test).
struct DistanceKernels {
  KernelPath path;
  DistanceFn l2_sqr;         // ||x - y||^2
  DistanceFn inner_product;  // x . y
  DistanceNyFn l2_sqr_ny;
  DistanceNyFn inner_product_ny;
  DistanceByIdsFn l2_sqr_by_ids;
  DistanceByIdsFn inner_product_by_ids;

  // The kernel that computes `metric` (kCosine -> the inner-product kernel,
  // on normalised vectors).
  DistanceFn One(Metric metric) const { return metric == Metric::kL2 ? l2_sqr : inner_product; }
  DistanceNyFn Ny(Metric metric) const { return metric == Metric::kL2 ? l2_sqr_ny : inner_product_ny; }
  DistanceByIdsFn ByIds(Metric metric) const {
    return metric == Metric::kL2 ? l2_sqr_by_ids : inner_product_by_ids;
  }
};

// Returns the kernels of `path`. The pointer is to a static table (never
// free it). Returns FailedPrecondition "kernel path avx512 is not supported by
// this CPU" if CpuSupports(path) is false.
Result<const DistanceKernels*> KernelsFor(KernelPath path);

// The best path this CPU supports (kAvx512, else kAvx2, else kScalar),
// detected on the first call and cached.
KernelPath DetectKernelPath();

// The kernels of DetectKernelPath(). Cheap after the first call.
const DistanceKernels& DefaultKernels();

// Convenience wrappers over DefaultKernels(); same contracts as the typedefs
// above. REQUIRES: d >= 1.
float L2Sqr(const float* x, const float* y, size_t d);
float InnerProduct(const float* x, const float* y, size_t d);
void L2SqrNy(const float* x, const float* y, size_t d, size_t ny, float* distances);
void InnerProductNy(const float* x, const float* y, size_t d, size_t ny, float* distances);
void L2SqrByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n, float* distances);
void InnerProductByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n,
                       float* distances);

// Returns ||x||^2. REQUIRES: d >= 1.
float NormSqr(const float* x, size_t d);

// norms[i] = ||x_i||^2 for the n rows of x (n * d floats). norms: output,
// size n. Used by batched L2 search; an index can compute its rows' norms
// once and pass them in.
void NormsSqr(const float* x, size_t n, size_t d, float* norms);

// Scales x (d floats, in place) to unit L2 norm and returns its original norm
// ||x||. A zero vector is left unchanged and 0 is returned: its cosine with
// anything is then 0 (callers that must reject zero vectors check the return
// value). Computed in double, so ||result|| is 1 to within float rounding.
// REQUIRES: d >= 1.
float Normalize(float* x, size_t d);

// Normalize() on each of the n rows of x (n * d floats, in place).
void NormalizeRows(float* x, size_t n, size_t d);

// Returns x . y / (||x|| ||y||) for vectors that need not be normalised, or 0
// if either is a zero vector. For one-off comparisons; searches store
// normalised vectors and use the inner product instead. REQUIRES: d >= 1.
float CosineSimilarity(const float* x, const float* y, size_t d);

}  // namespace vesta::index
