#include "index/distance.h"

#include <cmath>
#include <string>

#include "index/internal/distance_paths.h"

namespace vesta::index {
namespace {

constexpr DistanceKernels kScalarKernels = {
    KernelPath::kScalar,
    internal::scalar::L2Sqr,
    internal::scalar::InnerProduct,
    internal::scalar::L2SqrNy,
    internal::scalar::InnerProductNy,
    internal::scalar::L2SqrByIds,
    internal::scalar::InnerProductByIds,
};

constexpr DistanceKernels kAvx2Kernels = {
    KernelPath::kAvx2,
    internal::avx2::L2Sqr,
    internal::avx2::InnerProduct,
    internal::avx2::L2SqrNy,
    internal::avx2::InnerProductNy,
    internal::avx2::L2SqrByIds,
    internal::avx2::InnerProductByIds,
};

constexpr DistanceKernels kAvx512Kernels = {
    KernelPath::kAvx512,
    internal::avx512::L2Sqr,
    internal::avx512::InnerProduct,
    internal::avx512::L2SqrNy,
    internal::avx512::InnerProductNy,
    internal::avx512::L2SqrByIds,
    internal::avx512::InnerProductByIds,
};

const DistanceKernels& TableFor(KernelPath path) {
  switch (path) {
    case KernelPath::kAvx512:
      return kAvx512Kernels;
    case KernelPath::kAvx2:
      return kAvx2Kernels;
    case KernelPath::kScalar:
      break;
  }
  return kScalarKernels;
}

}  // namespace

std::string_view MetricName(Metric metric) {
  switch (metric) {
    case Metric::kL2:
      return "L2";
    case Metric::kInnerProduct:
      return "INNER_PRODUCT";
    case Metric::kCosine:
      return "COSINE";
  }
  return "UNKNOWN";
}

std::string_view KernelPathName(KernelPath path) {
  switch (path) {
    case KernelPath::kScalar:
      return "scalar";
    case KernelPath::kAvx2:
      return "avx2";
    case KernelPath::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool CpuSupports(KernelPath path) {
  switch (path) {
    case KernelPath::kScalar:
      return true;
    case KernelPath::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case KernelPath::kAvx512:
      return __builtin_cpu_supports("avx512f");
  }
  return false;
}

Result<const DistanceKernels*> KernelsFor(KernelPath path) {
  if (!CpuSupports(path)) {
    return Status::FailedPrecondition("kernel path " + std::string(KernelPathName(path)) +
                                      " is not supported by this CPU");
  }
  return &TableFor(path);
}

KernelPath DetectKernelPath() {
  static const KernelPath kDetected = [] {
    if (CpuSupports(KernelPath::kAvx512)) return KernelPath::kAvx512;
    if (CpuSupports(KernelPath::kAvx2)) return KernelPath::kAvx2;
    return KernelPath::kScalar;
  }();
  return kDetected;
}

const DistanceKernels& DefaultKernels() {
  static const DistanceKernels& kDefault = TableFor(DetectKernelPath());
  return kDefault;
}

float L2Sqr(const float* x, const float* y, size_t d) {
  return DefaultKernels().l2_sqr(x, y, d);
}

float InnerProduct(const float* x, const float* y, size_t d) {
  return DefaultKernels().inner_product(x, y, d);
}

void L2SqrNy(const float* x, const float* y, size_t d, size_t ny, float* distances) {
  DefaultKernels().l2_sqr_ny(x, y, d, ny, distances);
}

void InnerProductNy(const float* x, const float* y, size_t d, size_t ny, float* distances) {
  DefaultKernels().inner_product_ny(x, y, d, ny, distances);
}

void L2SqrByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n, float* distances) {
  DefaultKernels().l2_sqr_by_ids(x, base, d, ids, n, distances);
}

void InnerProductByIds(const float* x, const float* base, size_t d, const int64_t* ids, size_t n,
                       float* distances) {
  DefaultKernels().inner_product_by_ids(x, base, d, ids, n, distances);
}

float NormSqr(const float* x, size_t d) {
  return DefaultKernels().inner_product(x, x, d);
}

void NormsSqr(const float* x, size_t n, size_t d, float* norms) {
  const DistanceFn ip = DefaultKernels().inner_product;
  for (size_t i = 0; i < n; ++i) norms[i] = ip(x + i * d, x + i * d, d);
}

float Normalize(float* x, size_t d) {
  double sum = 0.0;
  for (size_t j = 0; j < d; ++j) sum += static_cast<double>(x[j]) * x[j];
  const double norm = std::sqrt(sum);
  if (norm == 0.0) return 0.0f;
  const double inv = 1.0 / norm;
  for (size_t j = 0; j < d; ++j) x[j] = static_cast<float>(x[j] * inv);
  return static_cast<float>(norm);
}

void NormalizeRows(float* x, size_t n, size_t d) {
  for (size_t i = 0; i < n; ++i) Normalize(x + i * d, d);
}

float CosineSimilarity(const float* x, const float* y, size_t d) {
  const DistanceKernels& k = DefaultKernels();
  const double xx = k.inner_product(x, x, d);
  const double yy = k.inner_product(y, y, d);
  if (xx == 0.0 || yy == 0.0) return 0.0f;
  return static_cast<float>(k.inner_product(x, y, d) / std::sqrt(xx * yy));
}

}  // namespace vesta::index
