// Helpers shared by the kernel tests: seeded data, double-precision reference
// distances and search, the kernel paths this CPU can run, and an fvecs/ivecs
// reader (index must not depend on ingest, so the tests read the files
// themselves).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "index/distance.h"
#include "index/exact_search.h"

namespace vesta::index::testing {

inline constexpr KernelPath kAllPaths[] = {KernelPath::kScalar, KernelPath::kAvx2, KernelPath::kAvx512};

// The kernels of `path`; the calling test is skipped (GTEST_SKIP in the
// caller's fixture) when the CPU lacks it, so call from SetUp.
inline const DistanceKernels* KernelsOrNull(KernelPath path) {
  auto kernels = KernelsFor(path);
  return kernels.ok() ? *kernels : nullptr;
}

// A fixture parameterised by kernel path: `options_` searches with that
// path's kernels; the test is skipped when the CPU lacks the path.
class ExactSearchPathFixture : public ::testing::TestWithParam<KernelPath> {
 protected:
  void SetUp() override {
    const DistanceKernels* kernels = KernelsOrNull(GetParam());
    if (kernels == nullptr) GTEST_SKIP() << "CPU lacks " << KernelPathName(GetParam());
    options_.kernels = kernels;
  }
  ExactSearchOptions options_;
};

// Test-suite name suffix for a parameterised path: "scalar", "avx2", "avx512".
struct PathName {
  std::string operator()(const ::testing::TestParamInfo<KernelPath>& info) const {
    return std::string(KernelPathName(info.param));
  }
};

// n * d floats uniform in [lo, hi), seeded.
inline std::vector<float> RandomFloats(size_t count, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (float& x : v) x = dist(gen);
  return v;
}

// Integer-valued floats in [-range, range]: every partial sum of a distance
// over them is an exact float while it stays below 2^24, so every path must
// match the reference bit for bit.
inline std::vector<float> RandomIntegerFloats(size_t count, uint32_t seed, int range) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> dist(-range, range);
  std::vector<float> v(count);
  for (float& x : v) x = static_cast<float>(dist(gen));
  return v;
}

inline double RefL2(const float* x, const float* y, size_t d) {
  double s = 0.0;
  for (size_t j = 0; j < d; ++j) {
    const double t = static_cast<double>(x[j]) - y[j];
    s += t * t;
  }
  return s;
}

inline double RefIp(const float* x, const float* y, size_t d) {
  double s = 0.0;
  for (size_t j = 0; j < d; ++j) s += static_cast<double>(x[j]) * y[j];
  return s;
}

// sum |x_j y_j|: the scale of the rounding error of an inner product.
inline double RefAbsIp(const float* x, const float* y, size_t d) {
  double s = 0.0;
  for (size_t j = 0; j < d; ++j) s += std::abs(static_cast<double>(x[j]) * y[j]);
  return s;
}

inline double RefDistance(Metric metric, const float* x, const float* y, size_t d) {
  return metric == Metric::kL2 ? RefL2(x, y, d) : RefIp(x, y, d);
}

// All n base rows ranked for one query in double precision: best first, ties
// by smaller row.
struct RankedRow {
  double distance;
  int64_t id;
};
inline std::vector<RankedRow> RefRanking(Metric metric, const float* query, const float* base, size_t n,
                                         size_t d) {
  std::vector<RankedRow> rows(n);
  for (size_t i = 0; i < n; ++i) {
    rows[i] = {RefDistance(metric, query, base + i * d, d), static_cast<int64_t>(i)};
  }
  const bool smaller = SmallerIsCloser(metric);
  std::sort(rows.begin(), rows.end(), [smaller](const RankedRow& a, const RankedRow& b) {
    if (a.distance != b.distance) return smaller ? a.distance < b.distance : a.distance > b.distance;
    return a.id < b.id;
  });
  return rows;
}

// Checks one query's top-k result against the double-precision ranking:
// every distance within tolerance of the reference at the same rank, and the
// id equal wherever the reference distance is separated from its neighbours
// by more than 2 * tolerance (so the order cannot flip by rounding).
inline void ExpectMatchesRanking(const std::vector<RankedRow>& ranking, const float* distances,
                                 const int64_t* labels, size_t k, double tolerance, Metric metric,
                                 const std::string& context) {
  const double pad = SmallerIsCloser(metric) ? INFINITY : -INFINITY;
  for (size_t j = 0; j < k; ++j) {
    if (j >= ranking.size()) {
      EXPECT_EQ(labels[j], -1) << context << " rank " << j;
      EXPECT_EQ(distances[j], pad) << context << " rank " << j;
      continue;
    }
    EXPECT_NEAR(distances[j], ranking[j].distance, tolerance) << context << " rank " << j;
    const bool clear_below =
        j == 0 || std::abs(ranking[j].distance - ranking[j - 1].distance) > 2 * tolerance;
    const bool clear_above =
        j + 1 >= ranking.size() || std::abs(ranking[j + 1].distance - ranking[j].distance) > 2 * tolerance;
    if (clear_below && clear_above) {
      EXPECT_EQ(labels[j], ranking[j].id) << context << " rank " << j;
    }
  }
}

// Reads a whole TEXMEX .fvecs (T = float) or .ivecs (T = int32_t) file into
// rows * dim values; fails the test on a malformed file.
template <typename T>
std::vector<T> ReadVecs(const std::string& path, size_t* rows, size_t* dim) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<T> out;
  *rows = 0;
  *dim = 0;
  size_t pos = 0;
  while (pos + 4 <= bytes.size()) {
    int32_t d = 0;
    std::memcpy(&d, bytes.data() + pos, 4);
    if (d <= 0 || (*dim != 0 && static_cast<size_t>(d) != *dim) ||
        pos + 4 + static_cast<size_t>(d) * sizeof(T) > bytes.size()) {
      ADD_FAILURE() << path << ": bad record " << *rows;
      return {};
    }
    *dim = static_cast<size_t>(d);
    const size_t old = out.size();
    out.resize(old + *dim);
    std::memcpy(out.data() + old, bytes.data() + pos + 4, *dim * sizeof(T));
    pos += 4 + *dim * sizeof(T);
    ++*rows;
  }
  EXPECT_EQ(pos, bytes.size()) << path << ": trailing bytes";
  return out;
}

inline std::string SharedDataPath(const std::string& relative) {
  return std::string(VESTA_SHARED_DATA_DIR) + "/" + relative;
}

}  // namespace vesta::index::testing
