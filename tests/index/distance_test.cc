// Distance kernels: every path against a double-precision reference on
// awkward dimensions, unaligned pointers, guarded page ends, the ny and gather
// shapes, normalisation and cosine.
#include "index/distance.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace vesta::index {
namespace {

using testing::kAllPaths;
using testing::KernelsOrNull;
using testing::PathName;
using testing::RandomFloats;
using testing::RandomIntegerFloats;
using testing::RefAbsIp;
using testing::RefIp;
using testing::RefL2;

constexpr size_t kAwkwardDims[] = {1, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 127, 724, 4096};

// Float rounding bound for a sum of d terms computed in any order with a few
// partial sums: generous against the observed ~sqrt(d) * 2^-24, tight against
// a dropped or doubled component (at least 1/d of the sum in these tests).
double RelativeTolerance(size_t d) {
  return 1e-6 * (8.0 + std::sqrt(static_cast<double>(d)));
}

class DistancePathTest : public ::testing::TestWithParam<KernelPath> {
 protected:
  void SetUp() override {
    kernels_ = KernelsOrNull(GetParam());
    if (kernels_ == nullptr) GTEST_SKIP() << "CPU lacks " << KernelPathName(GetParam());
  }
  const DistanceKernels* kernels_ = nullptr;
};

TEST_P(DistancePathTest, MatchesDoubleReferenceOnAwkwardDimensions) {
  for (size_t d : kAwkwardDims) {
    const auto x = RandomFloats(d, 1 + static_cast<uint32_t>(d));
    const auto y = RandomFloats(d, 1000 + static_cast<uint32_t>(d));
    const double l2 = RefL2(x.data(), y.data(), d);
    const double ip = RefIp(x.data(), y.data(), d);
    const double tol = RelativeTolerance(d);
    EXPECT_NEAR(kernels_->l2_sqr(x.data(), y.data(), d), l2, tol * l2) << "d=" << d;
    EXPECT_NEAR(kernels_->inner_product(x.data(), y.data(), d), ip, tol * RefAbsIp(x.data(), y.data(), d))
        << "d=" << d;
  }
}

TEST_P(DistancePathTest, IsExactOnIntegerValuedVectors) {
  // |components| <= 40, d <= 4096: every partial sum < 2^24, so exact.
  for (size_t d : kAwkwardDims) {
    const auto x = RandomIntegerFloats(d, 7 + static_cast<uint32_t>(d), 40);
    const auto y = RandomIntegerFloats(d, 9000 + static_cast<uint32_t>(d), 40);
    EXPECT_EQ(kernels_->l2_sqr(x.data(), y.data(), d), RefL2(x.data(), y.data(), d)) << "d=" << d;
    EXPECT_EQ(kernels_->inner_product(x.data(), y.data(), d), RefIp(x.data(), y.data(), d)) << "d=" << d;
  }
}

TEST_P(DistancePathTest, EveryComponentCountsExactlyOnce) {
  // One non-zero component at each position j: a tail that drops, doubles or
  // shifts a component gets that position wrong.
  for (size_t d : {size_t{1}, size_t{3}, size_t{7}, size_t{17}, size_t{33}, size_t{127}, size_t{724}}) {
    std::vector<float> x(d, 0.0f), y(d, 0.0f);
    for (size_t j = 0; j < d; ++j) {
      x[j] = 3.0f;
      y[j] = 1.0f;
      EXPECT_EQ(kernels_->l2_sqr(x.data(), y.data(), d), 4.0f) << "d=" << d << " j=" << j;
      EXPECT_EQ(kernels_->inner_product(x.data(), y.data(), d), 3.0f) << "d=" << d << " j=" << j;
      x[j] = 0.0f;
      y[j] = 0.0f;
    }
  }
}

TEST_P(DistancePathTest, AcceptsUnalignedPointers) {
  for (size_t d : kAwkwardDims) {
    // Offset by one float from a 64-byte-aligned-ish vector start.
    auto xs = RandomIntegerFloats(d + 1, 11 + static_cast<uint32_t>(d), 30);
    auto ys = RandomIntegerFloats(d + 1, 12 + static_cast<uint32_t>(d), 30);
    const float* x = xs.data() + 1;
    const float* y = ys.data() + 1;
    ASSERT_NE(reinterpret_cast<uintptr_t>(x) % 64, 0u);
    EXPECT_EQ(kernels_->l2_sqr(x, y, d), RefL2(x, y, d)) << "d=" << d;
    EXPECT_EQ(kernels_->inner_product(x, y, d), RefIp(x, y, d)) << "d=" << d;
    std::vector<float> out(1);
    kernels_->l2_sqr_ny(x, y, d, 1, out.data());
    EXPECT_EQ(out[0], RefL2(x, y, d)) << "d=" << d;
  }
}

TEST_P(DistancePathTest, ResultsDoNotDependOnAlignment) {
  // The same vectors copied to every offset within a cache line give
  // bit-identical distances (the AVX-512 path loads aligned and unaligned
  // rows differently).
  for (size_t d : {size_t{16}, size_t{100}, size_t{128}, size_t{724}}) {
    const auto x = RandomFloats(d, 13 + static_cast<uint32_t>(d));
    const auto y = RandomFloats(d, 14 + static_cast<uint32_t>(d));
    std::vector<float> buffer(d + 32);
    float* aligned = buffer.data() + (16 - (reinterpret_cast<uintptr_t>(buffer.data()) % 64) / 4) % 16;
    std::copy(y.begin(), y.end(), aligned);
    const float l2 = kernels_->l2_sqr(x.data(), aligned, d);
    const float ip = kernels_->inner_product(x.data(), aligned, d);
    for (size_t offset = 1; offset < 16; ++offset) {
      std::copy(y.begin(), y.end(), aligned + offset);
      EXPECT_EQ(kernels_->l2_sqr(x.data(), aligned + offset, d), l2) << "d=" << d << " offset " << offset;
      EXPECT_EQ(kernels_->inner_product(x.data(), aligned + offset, d), ip)
          << "d=" << d << " offset " << offset;
    }
  }
}

TEST_P(DistancePathTest, NeverReadsPastTheEndOfAVector) {
  // Pages: [0] [1] [2: guard] [3] [4: guard]. The query ends at the first
  // guard page and the base rows at the second: a read past the end of a
  // vector (an unmasked SIMD tail) faults.
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* mem = mmap(nullptr, 5 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  char* bytes = static_cast<char*>(mem);
  ASSERT_EQ(mprotect(bytes + 2 * page, page, PROT_NONE), 0);
  ASSERT_EQ(mprotect(bytes + 4 * page, page, PROT_NONE), 0);
  for (size_t d : {size_t{1}, size_t{3}, size_t{7}, size_t{15}, size_t{17}, size_t{33}, size_t{127}}) {
    float* x = reinterpret_cast<float*>(bytes + 2 * page) - d;
    float* base = reinterpret_cast<float*>(bytes + 4 * page) - 2 * d;  // two rows
    for (size_t j = 0; j < d; ++j) x[j] = static_cast<float>(j % 5);
    for (size_t j = 0; j < 2 * d; ++j) base[j] = static_cast<float>(j % 3);
    const float* last = base + d;
    EXPECT_EQ(kernels_->l2_sqr(x, last, d), RefL2(x, last, d)) << "d=" << d;
    EXPECT_EQ(kernels_->inner_product(last, x, d), RefIp(last, x, d)) << "d=" << d;
    float out[2];
    kernels_->l2_sqr_ny(x, base, d, 2, out);
    EXPECT_EQ(out[1], RefL2(x, last, d)) << "d=" << d;
    kernels_->inner_product_ny(x, base, d, 2, out);
    EXPECT_EQ(out[1], RefIp(x, last, d)) << "d=" << d;
    const int64_t ids[] = {1, 0, 1};
    float gathered[3];
    kernels_->inner_product_by_ids(x, base, d, ids, 3, gathered);
    EXPECT_EQ(gathered[2], RefIp(x, last, d)) << "d=" << d;
    kernels_->l2_sqr_by_ids(x, base, d, ids, 3, gathered);
    EXPECT_EQ(gathered[0], RefL2(x, last, d)) << "d=" << d;
  }
  munmap(mem, 5 * page);
}

TEST_P(DistancePathTest, OneAgainstManyEqualsOneToOne) {
  for (size_t d : {size_t{1}, size_t{17}, size_t{128}, size_t{724}}) {
    const size_t n = 37;
    const auto x = RandomFloats(d, 21);
    const auto y = RandomFloats(n * d, 22);
    std::vector<float> l2(n), ip(n);
    kernels_->l2_sqr_ny(x.data(), y.data(), d, n, l2.data());
    kernels_->inner_product_ny(x.data(), y.data(), d, n, ip.data());
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(l2[i], kernels_->l2_sqr(x.data(), y.data() + i * d, d)) << "d=" << d << " i=" << i;
      EXPECT_EQ(ip[i], kernels_->inner_product(x.data(), y.data() + i * d, d)) << "d=" << d << " i=" << i;
      EXPECT_NEAR(l2[i], RefL2(x.data(), y.data() + i * d, d), 1e-5 * RefL2(x.data(), y.data() + i * d, d));
    }
  }
}

TEST_P(DistancePathTest, GatherHandlesRepeatedAndOutOfOrderIds) {
  for (size_t d : {size_t{3}, size_t{128}, size_t{4096}}) {
    const size_t n = 50;
    const auto x = RandomIntegerFloats(d, 31, 20);
    const auto base = RandomIntegerFloats(n * d, 32, 20);
    const std::vector<int64_t> ids = {49, 0, 7, 7, 3, 49, 12, 0, 48, 1, 25, 25, 25};
    std::vector<float> l2(ids.size()), ip(ids.size());
    kernels_->l2_sqr_by_ids(x.data(), base.data(), d, ids.data(), ids.size(), l2.data());
    kernels_->inner_product_by_ids(x.data(), base.data(), d, ids.data(), ids.size(), ip.data());
    for (size_t i = 0; i < ids.size(); ++i) {
      const float* row = base.data() + ids[i] * d;
      EXPECT_EQ(l2[i], RefL2(x.data(), row, d)) << "d=" << d << " position " << i;
      EXPECT_EQ(ip[i], RefIp(x.data(), row, d)) << "d=" << d << " position " << i;
    }
  }
}

TEST_P(DistancePathTest, EmptyBatchesWriteNothing) {
  const auto x = RandomFloats(8, 5);
  float sentinel = 42.0f;
  kernels_->l2_sqr_ny(x.data(), x.data(), 8, 0, &sentinel);
  kernels_->inner_product_by_ids(x.data(), x.data(), 8, nullptr, 0, &sentinel);
  EXPECT_EQ(sentinel, 42.0f);
}

TEST_P(DistancePathTest, PathsAgreeWithScalarWithinRounding) {
  const DistanceKernels* scalar = KernelsOrNull(KernelPath::kScalar);
  ASSERT_NE(scalar, nullptr);
  for (size_t d : kAwkwardDims) {
    const auto x = RandomFloats(d, 41, 0.0f, 2.0f);
    const auto y = RandomFloats(d, 42, 0.0f, 2.0f);
    const float a = kernels_->inner_product(x.data(), y.data(), d);
    const float b = scalar->inner_product(x.data(), y.data(), d);
    EXPECT_NEAR(a, b, 2 * RelativeTolerance(d) * b) << "d=" << d;
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, DistancePathTest, ::testing::ValuesIn(kAllPaths), PathName());

TEST(KernelDispatch, DefaultIsTheBestPathTheCpuSupports) {
  const KernelPath best = CpuSupports(KernelPath::kAvx512) ? KernelPath::kAvx512
                          : CpuSupports(KernelPath::kAvx2) ? KernelPath::kAvx2
                                                           : KernelPath::kScalar;
  EXPECT_EQ(DetectKernelPath(), best);
  EXPECT_EQ(DefaultKernels().path, best);
  EXPECT_TRUE(CpuSupports(KernelPath::kScalar));
}

TEST(KernelDispatch, KernelsForReturnsTheRequestedPathOrFailedPrecondition) {
  for (KernelPath path : kAllPaths) {
    auto kernels = KernelsFor(path);
    if (CpuSupports(path)) {
      ASSERT_TRUE(kernels.ok()) << kernels.status().ToString();
      EXPECT_EQ((*kernels)->path, path);
    } else {
      ASSERT_FALSE(kernels.ok());
      EXPECT_TRUE(kernels.status().IsFailedPrecondition());
      EXPECT_NE(kernels.status().message().find(KernelPathName(path)), std::string::npos);
    }
  }
}

TEST(KernelDispatch, MetricSelectsTheKernel) {
  const DistanceKernels& k = DefaultKernels();
  EXPECT_EQ(k.One(Metric::kL2), k.l2_sqr);
  EXPECT_EQ(k.One(Metric::kInnerProduct), k.inner_product);
  EXPECT_EQ(k.One(Metric::kCosine), k.inner_product);
  EXPECT_EQ(k.Ny(Metric::kCosine), k.inner_product_ny);
  EXPECT_EQ(k.ByIds(Metric::kL2), k.l2_sqr_by_ids);
  EXPECT_TRUE(SmallerIsCloser(Metric::kL2));
  EXPECT_FALSE(SmallerIsCloser(Metric::kCosine));
  EXPECT_EQ(MetricName(Metric::kInnerProduct), "INNER_PRODUCT");
}

TEST(Normalize, ScalesToUnitNormAndReturnsTheOldNorm) {
  for (size_t d : {size_t{1}, size_t{3}, size_t{724}}) {
    auto x = RandomFloats(d, 51, -5.0f, 5.0f);
    const double expected = std::sqrt(RefL2(x.data(), std::vector<float>(d, 0.0f).data(), d));
    const float norm = Normalize(x.data(), d);
    EXPECT_NEAR(norm, expected, 1e-6 * expected);
    EXPECT_NEAR(RefIp(x.data(), x.data(), d), 1.0, 1e-6) << "d=" << d;
    EXPECT_NEAR(NormSqr(x.data(), d), 1.0f, 1e-5f) << "d=" << d;
  }
}

TEST(Normalize, LeavesAZeroVectorAloneAndReturnsZero) {
  std::vector<float> x(17, 0.0f);
  EXPECT_EQ(Normalize(x.data(), x.size()), 0.0f);
  for (float v : x) EXPECT_EQ(v, 0.0f);
  std::vector<float> y = RandomFloats(17, 3);
  EXPECT_EQ(CosineSimilarity(x.data(), y.data(), 17), 0.0f);
}

TEST(Normalize, RowsAreNormalisedIndependently) {
  const size_t n = 5, d = 33;
  auto x = RandomFloats(n * d, 61, -3.0f, 3.0f);
  std::fill(x.begin() + 2 * d, x.begin() + 3 * d, 0.0f);  // row 2 is zero
  NormalizeRows(x.data(), n, d);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_NEAR(RefIp(x.data() + i * d, x.data() + i * d, d), i == 2 ? 0.0 : 1.0, 1e-6) << "row " << i;
  }
}

TEST(Cosine, IsTheInnerProductOfNormalisedVectors) {
  for (size_t d : {size_t{3}, size_t{128}, size_t{724}}) {
    auto x = RandomFloats(d, 71, -2.0f, 3.0f);
    auto y = RandomFloats(d, 72, -1.0f, 4.0f);
    const double expected =
        RefIp(x.data(), y.data(), d) / std::sqrt(RefIp(x.data(), x.data(), d) * RefIp(y.data(), y.data(), d));
    EXPECT_NEAR(CosineSimilarity(x.data(), y.data(), d), expected, 1e-5) << "d=" << d;
    Normalize(x.data(), d);
    Normalize(y.data(), d);
    for (KernelPath path : kAllPaths) {
      const DistanceKernels* k = KernelsOrNull(path);
      if (k == nullptr) continue;
      EXPECT_NEAR(k->One(Metric::kCosine)(x.data(), y.data(), d), expected, 1e-5)
          << "d=" << d << " path " << KernelPathName(path);
    }
  }
}

TEST(Cosine, OfAVectorWithAPositiveMultipleIsOne) {
  auto x = RandomFloats(100, 81);
  std::vector<float> y(x);
  for (float& v : y) v *= 7.5f;
  EXPECT_NEAR(CosineSimilarity(x.data(), y.data(), 100), 1.0f, 1e-6f);
  for (float& v : y) v = -v;
  EXPECT_NEAR(CosineSimilarity(x.data(), y.data(), 100), -1.0f, 1e-6f);
}

TEST(ConvenienceWrappers, UseTheDefaultKernels) {
  const size_t d = 65, n = 4;
  const auto x = RandomIntegerFloats(d, 91, 10);
  const auto base = RandomIntegerFloats(n * d, 92, 10);
  const DistanceKernels& k = DefaultKernels();
  EXPECT_EQ(L2Sqr(x.data(), base.data(), d), k.l2_sqr(x.data(), base.data(), d));
  EXPECT_EQ(InnerProduct(x.data(), base.data(), d), k.inner_product(x.data(), base.data(), d));
  std::vector<float> a(n), b(n), norms(n);
  L2SqrNy(x.data(), base.data(), d, n, a.data());
  const int64_t ids[] = {0, 1, 2, 3};
  L2SqrByIds(x.data(), base.data(), d, ids, n, b.data());
  EXPECT_EQ(a, b);
  InnerProductNy(x.data(), base.data(), d, n, a.data());
  InnerProductByIds(x.data(), base.data(), d, ids, n, b.data());
  EXPECT_EQ(a, b);
  NormsSqr(base.data(), n, d, norms.data());
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(norms[i], RefIp(base.data() + i * d, base.data() + i * d, d));
}

}  // namespace
}  // namespace vesta::index
