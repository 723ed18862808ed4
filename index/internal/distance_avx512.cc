// AVX-512F distance kernels. Compiled with -mavx512f (index/kernels.cmake) and
// called only after __builtin_cpu_supports("avx512f") (index/distance.cc).
// See index/internal/distance_paths.h for why this file includes so little.
//
// Algorithm: four independent 16-lane FMA accumulators (64 floats per
// iteration) hide the FMA latency; the remaining 1..63 components go through
// 16-lane steps and one masked load (no read past the end of a vector, no
// scalar loop); one horizontal sum per distance. The streamed operand y (base
// rows) is loaded in a way that avoids cache-line-split 512-bit loads (LoadY).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "index/internal/distance_paths.h"

namespace vesta::index::internal::avx512 {
namespace {

// Accumulates (x - y)^2 (kL2) or x * y into acc.
template <bool kL2>
inline __m512 Term(__m512 xv, __m512 yv, __m512 acc) {
  if constexpr (kL2) {
    const __m512 diff = _mm512_sub_ps(xv, yv);
    return _mm512_fmadd_ps(diff, diff, acc);
  } else {
    return _mm512_fmadd_ps(xv, yv, acc);
  }
}

// Sum of the 16 lanes. Written with the merge-masked forms (explicit source,
// all-ones mask): GCC 12's _mm512_reduce_add_ps, _mm512_shuffle_f32x4 and
// _mm512_castps512_ps256/128 start from an "undefined" register and trip
// -Wuninitialized (GCC bug 105593). Same instructions.
inline float HorizontalSum(__m512 v) {
  // Fold 512 -> 256 -> 128 bits inside the register, then within 128 bits.
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, 0xFFFF, v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_mask_shuffle_f32x4(v, 0xFFFF, v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  __m128 s4 = _mm512_mask_extractf32x4_ps(_mm_setzero_ps(), 0xF, v, 0);
  s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
  return _mm_cvtss_f32(s4);
}

// Loads 16 floats of the streamed operand y. A 512-bit load that straddles
// two cache lines costs this machine ~25% of its streaming bandwidth (24 vs
// 34 GB/s for a 1M x 128 scan from a 16-byte-offset std::vector), so an
// unaligned y is loaded as two 256-bit halves (36 GB/s at any offset). The
// register holds the same values either way: results never depend on
// alignment.
template <bool kAligned>
inline __m512 LoadY(const float* p) {
  if constexpr (kAligned) {
    return _mm512_load_ps(p);
  } else {
    // maskz_insert with an all-ones mask: GCC 12's plain _mm512_insertf64x4
    // trips -Wmaybe-uninitialized (see HorizontalSum).
    return _mm512_castpd_ps(
        _mm512_maskz_insertf64x4(0xFF, _mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(p))),
                                 _mm256_castps_pd(_mm256_loadu_ps(p + 8)), 1));
  }
}

template <bool kL2, bool kAlignedY>
inline float DistanceImpl(const float* x, const float* y, size_t d) {
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  __m512 acc2 = _mm512_setzero_ps();
  __m512 acc3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= d; i += 64) {
    acc0 = Term<kL2>(_mm512_loadu_ps(x + i), LoadY<kAlignedY>(y + i), acc0);
    acc1 = Term<kL2>(_mm512_loadu_ps(x + i + 16), LoadY<kAlignedY>(y + i + 16), acc1);
    acc2 = Term<kL2>(_mm512_loadu_ps(x + i + 32), LoadY<kAlignedY>(y + i + 32), acc2);
    acc3 = Term<kL2>(_mm512_loadu_ps(x + i + 48), LoadY<kAlignedY>(y + i + 48), acc3);
  }
  if (i + 32 <= d) {
    acc0 = Term<kL2>(_mm512_loadu_ps(x + i), LoadY<kAlignedY>(y + i), acc0);
    acc1 = Term<kL2>(_mm512_loadu_ps(x + i + 16), LoadY<kAlignedY>(y + i + 16), acc1);
    i += 32;
  }
  if (i + 16 <= d) {
    acc2 = Term<kL2>(_mm512_loadu_ps(x + i), LoadY<kAlignedY>(y + i), acc2);
    i += 16;
  }
  if (i < d) {
    // 1..15 components left: masked lanes are neither read nor faulted on.
    const __mmask16 mask = static_cast<__mmask16>((1u << (d - i)) - 1u);
    acc3 = Term<kL2>(_mm512_maskz_loadu_ps(mask, x + i), _mm512_maskz_loadu_ps(mask, y + i), acc3);
  }
  return HorizontalSum(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

template <bool kL2>
inline float Distance(const float* x, const float* y, size_t d) {
  if ((reinterpret_cast<uintptr_t>(y) & 63u) == 0) return DistanceImpl<kL2, true>(x, y, d);
  return DistanceImpl<kL2, false>(x, y, d);
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
  const size_t bytes = d * sizeof(float);
  size_t lines = (bytes + 63) / 64;
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

}  // namespace vesta::index::internal::avx512
