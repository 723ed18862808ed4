// Quantile and Describe: R's quantile(type = 7) and a summary() with the mean.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>

#include "stats/evidence_stats.h"

namespace vesta::stats {
namespace {

// Type 7 interpolation between the order statistics lo = x[j] and
// hi = x[j + 1] at fraction g = h - j, written as R's quantile.default:
// (1 - g) * lo + g * hi, and exactly lo when g == 0 or hi == lo (so that a
// run of equal values, or infinities, gives that value).
double Interpolate(double lo, double hi, double g) {
  if (g == 0 || hi == lo) return lo;
  return (1 - g) * lo + g * hi;
}

// Position of probability p among n sorted values: j = floor((n - 1) p) and
// the fraction g. REQUIRES: n >= 1, 0 <= p <= 1.
struct Position {
  size_t j;
  double g;
};
Position QuantilePosition(size_t n, double p) {
  // Exactly as R's quantile.default for type 7: index = 1 + (n - 1) p
  // (1-based), lo = floor(index), no fuzz (R adds one only for the other
  // continuous types), so that rounding agrees with R's at the boundaries.
  const double index = 1 + static_cast<double>(n - 1) * p;
  const double lo = std::floor(index);
  return {std::min(static_cast<size_t>(lo) - 1, n - 1), index - lo};
}

// REQUIRES: `sorted` non-empty and ascending.
double SortedQuantile(const std::vector<double>& sorted, double p) {
  const Position pos = QuantilePosition(sorted.size(), p);
  const double lo = sorted[pos.j];
  if (pos.j + 1 >= sorted.size()) return lo;
  return Interpolate(lo, sorted[pos.j + 1], pos.g);
}

}  // namespace

std::optional<double> Quantile(std::vector<double> values, double p) {
  assert(p >= 0 && p <= 1 && "Quantile: REQUIRES 0 <= p <= 1");
  if (!(p >= 0 && p <= 1)) return std::nullopt;  // release builds: no undefined behaviour
  std::erase_if(values, [](double v) { return std::isnan(v); });
  if (values.empty()) return std::nullopt;
  const Position pos = QuantilePosition(values.size(), p);
  // Select x[j]; x[j + 1] is then the smallest value after it.
  const auto nth = values.begin() + static_cast<std::ptrdiff_t>(pos.j);
  std::nth_element(values.begin(), nth, values.end());
  const double lo = *nth;
  if (nth + 1 == values.end()) return lo;
  const double hi = *std::min_element(nth + 1, values.end());
  return Interpolate(lo, hi, pos.g);
}

NumericSummary Describe(const std::vector<double>& values) {
  NumericSummary s;
  std::vector<double> sorted;
  sorted.reserve(values.size());
  for (double v : values) {
    if (std::isnan(v)) {
      ++s.missing;
    } else {
      sorted.push_back(v);
    }
  }
  s.n = static_cast<int64_t>(sorted.size());
  if (sorted.empty()) return s;
  std::sort(sorted.begin(), sorted.end());
  s.min = sorted.front();
  s.max = sorted.back();
  s.q1 = SortedQuantile(sorted, 0.25);
  s.median = SortedQuantile(sorted, 0.5);
  s.q3 = SortedQuantile(sorted, 0.75);
  // R's mean.default (summary.c): a long double sum, then one correction
  // pass adding the mean residual, which removes most of the rounding error.
  long double sum = 0;
  for (double v : sorted) sum += v;
  long double mean = sum / static_cast<long double>(sorted.size());
  if (std::isfinite(static_cast<double>(mean))) {
    long double residual = 0;
    for (double v : sorted) residual += v - mean;
    mean += residual / static_cast<long double>(sorted.size());
  }
  s.mean = static_cast<double>(mean);
  return s;
}

}  // namespace vesta::stats
