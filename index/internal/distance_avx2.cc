// AVX2 + FMA distance kernels. Compiled with -mavx2 -mfma (index/kernels.cmake)
// and called only after __builtin_cpu_supports("avx2") and ("fma")
// (index/distance.cc). See index/internal/distance_paths.h for why this file
// includes so little.
//
// Algorithm: four independent 8-lane FMA accumulators (32 floats per
// iteration); the remaining 1..31 components go through 8-lane steps and one
// masked load (vmaskmovps neither reads nor faults on masked lanes).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "index/internal/distance_paths.h"

namespace vesta::index::internal::avx2 {
namespace {

// kMaskWindow + 8 - r, read as 8 int32, has its first r lanes set (r = 1..7).
alignas(64) constexpr int32_t kMaskWindow[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

template <bool kL2>
inline __m256 Term(__m256 xv, __m256 yv, __m256 acc) {
  if constexpr (kL2) {
    const __m256 diff = _mm256_sub_ps(xv, yv);
    return _mm256_fmadd_ps(diff, diff, acc);
  } else {
    return _mm256_fmadd_ps(xv, yv, acc);
  }
}

inline float HorizontalSum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <bool kL2>
inline float Distance(const float* x, const float* y, size_t d) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    acc0 = Term<kL2>(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    acc1 = Term<kL2>(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    acc2 = Term<kL2>(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), acc2);
    acc3 = Term<kL2>(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), acc3);
  }
  if (i + 16 <= d) {
    acc0 = Term<kL2>(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc0);
    acc1 = Term<kL2>(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), acc1);
    i += 16;
  }
  if (i + 8 <= d) {
    acc2 = Term<kL2>(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), acc2);
    i += 8;
  }
  if (i < d) {
    const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskWindow + 8 - (d - i)));
    acc3 = Term<kL2>(_mm256_maskload_ps(x + i, mask), _mm256_maskload_ps(y + i, mask), acc3);
  }
  return HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

template <bool kL2>
inline void DistanceNy(const float* x, const float* y, size_t d, size_t ny, float* distances) {
  for (size_t i = 0; i < ny; ++i) distances[i] = Distance<kL2>(x, y + i * d, d);
}

// How many vectors ahead the gather prefetches, and at most how many of each
// vector's leading cache lines (the hardware prefetcher follows the rest).
constexpr size_t kGatherLookahead = 4;
constexpr size_t kGatherMaxPrefetchLines = 16;

inline void PrefetchVector(const float* v, size_t d) {
  const char* p = reinterpret_cast<const char*>(v);
  size_t lines = (d * sizeof(float) + 63) / 64;
  if (lines > kGatherMaxPrefetchLines) lines = kGatherMaxPrefetchLines;
  for (size_t l = 0; l < lines; ++l) _mm_prefetch(p + l * 64, _MM_HINT_T0);
}

template <bool kL2>
inline void DistanceByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n,
                          float* distances) {
  const size_t warm = n < kGatherLookahead ? n : kGatherLookahead;
  for (size_t i = 0; i < warm; ++i) PrefetchVector(base + static_cast<size_t>(ids[i]) * d, d);
  for (size_t i = 0; i < n; ++i) {
    if (i + kGatherLookahead < n) {
      PrefetchVector(base + static_cast<size_t>(ids[i + kGatherLookahead]) * d, d);
    }
    distances[i] = Distance<kL2>(x, base + static_cast<size_t>(ids[i]) * d, d);
  }
}

}  // namespace

float L2Sqr(const float* x, const float* y, size_t d) {
  return Distance<true>(x, y, d);
}
float InnerProduct(const float* x, const float* y, size_t d) {
  return Distance<false>(x, y, d);
}

void L2SqrNy(const float* x, const float* y, size_t d, size_t ny, float* distances) {
  DistanceNy<true>(x, y, d, ny, distances);
}
void InnerProductNy(const float* x, const float* y, size_t d, size_t ny, float* distances) {
  DistanceNy<false>(x, y, d, ny, distances);
}

void L2SqrByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n, float* distances) {
  DistanceByIds<true>(x, base, d, ids, n, distances);
}
void InnerProductByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n,
                       float* distances) {
  DistanceByIds<false>(x, base, d, ids, n, distances);
}

}  // namespace vesta::index::internal::avx2
