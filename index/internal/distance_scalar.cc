// Portable distance kernels: the fallback when the CPU has neither AVX2+FMA
// nor AVX-512F, and the reference path in tests. Compiled with the project's
// default flags (baseline x86-64: the compiler may pack the four partial sums
// into one SSE2 register, which keeps this path fast enough to be usable).
#include <cstddef>
#include <cstdint>

#include "index/internal/distance_paths.h"

namespace vesta::index::internal::scalar {
namespace {

// Four partial sums break the dependency chain of one running sum.
template <bool kL2>
inline float Distance(const float* x, const float* y, size_t d) {
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  size_t i = 0;
  for (; i + 4 <= d; i += 4) {
    if constexpr (kL2) {
      const float t0 = x[i] - y[i], t1 = x[i + 1] - y[i + 1];
      const float t2 = x[i + 2] - y[i + 2], t3 = x[i + 3] - y[i + 3];
      s0 += t0 * t0;
      s1 += t1 * t1;
      s2 += t2 * t2;
      s3 += t3 * t3;
    } else {
      s0 += x[i] * y[i];
      s1 += x[i + 1] * y[i + 1];
      s2 += x[i + 2] * y[i + 2];
      s3 += x[i + 3] * y[i + 3];
    }
  }
  for (; i < d; ++i) {
    if constexpr (kL2) {
      const float t = x[i] - y[i];
      s0 += t * t;
    } else {
      s0 += x[i] * y[i];
    }
  }
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

float L2Sqr(const float* x, const float* y, size_t d) {
  return Distance<true>(x, y, d);
}
float InnerProduct(const float* x, const float* y, size_t d) {
  return Distance<false>(x, y, d);
}

void L2SqrNy(const float* x, const float* y, size_t d, size_t ny, float* distances) {
  for (size_t i = 0; i < ny; ++i) distances[i] = Distance<true>(x, y + i * d, d);
}
void InnerProductNy(const float* x, const float* y, size_t d, size_t ny, float* distances) {
  for (size_t i = 0; i < ny; ++i) distances[i] = Distance<false>(x, y + i * d, d);
}

void L2SqrByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n, float* distances) {
  for (size_t i = 0; i < n; ++i) distances[i] = Distance<true>(x, base + static_cast<size_t>(ids[i]) * d, d);
}
void InnerProductByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n,
                       float* distances) {
  for (size_t i = 0; i < n; ++i) distances[i] = Distance<false>(x, base + static_cast<size_t>(ids[i]) * d, d);
}

}  // namespace vesta::index::internal::scalar
