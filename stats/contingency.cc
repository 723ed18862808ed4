// FisherExact: R's stats::fisher.test for a 2x2 table, on Boost.Math.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <boost/math/distributions/hypergeometric.hpp>
#include <boost/math/tools/toms748_solve.hpp>

#include "stats/evidence_stats.h"

namespace vesta::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// R's fisher.test: "relErr <- 1 + 10^(-7)": a table whose probability is
// within this relative tolerance of the observed one's counts as equal.
constexpr double kTieTolerance = 1e-7;

// The conditional distribution of the top-left cell X given the margins:
// r = a + c (column 1 total), n = a + b (row 1 total), N the table total.
// X ranges over [lo, hi] = [max(0, n + r - N), min(n, r)].
struct Margins {
  int64_t r;
  int64_t n;
  int64_t total;
  int64_t lo;
  int64_t hi;
};

// log_w[k] = log P(X = lo + k) - log P(X = lo) under the central
// hypergeometric, by the exact ratio
//   P(x + 1) / P(x) = (r - x) (n - x) / ((x + 1) (N - r - n + x + 1)),
// one log per step, summed with Neumaier's compensation. Relative to lo, so
// it stays finite where the densities themselves underflow (R gets the same
// from dhyper(log = TRUE)). Each step adds about 4 DBL_EPSILON of error, so
// log_w is good to ~1e-9 after 10^6 steps, far inside R's tie tolerance of
// 1e-7 (and only ties and the MLE depend on it: the tail masses are Boost's).
std::vector<double> CentralLogWeights(const Margins& m) {
  std::vector<double> log_w(static_cast<size_t>(m.hi - m.lo + 1));
  log_w[0] = 0;
  double sum = 0;
  double compensation = 0;
  for (int64_t x = m.lo; x < m.hi; ++x) {
    const double ratio = (static_cast<double>(m.r - x) / static_cast<double>(x + 1)) *
                         (static_cast<double>(m.n - x) / static_cast<double>(m.total - m.r - m.n + x + 1));
    const double term = std::log(ratio);
    const double next = sum + term;
    compensation += std::fabs(sum) >= std::fabs(term) ? (sum - next) + term : (term - next) + sum;
    sum = next;
    log_w[static_cast<size_t>(x - m.lo) + 1] = sum + compensation;
  }
  return log_w;
}

// E[X; psi] - lo for Fisher's noncentral hypergeometric with psi = e^theta:
// weights log_w[k] + k theta, normalised at their maximum (R's mnhyper).
double NoncentralMeanOffset(const std::vector<double>& log_w, double theta) {
  double max_log = -kInf;
  for (size_t k = 0; k < log_w.size(); ++k) {
    max_log = std::max(max_log, log_w[k] + static_cast<double>(k) * theta);
  }
  double sum = 0;
  double weighted = 0;
  for (size_t k = 0; k < log_w.size(); ++k) {
    const double w = std::exp(log_w[k] + static_cast<double>(k) * theta - max_log);
    sum += w;
    weighted += static_cast<double>(k) * w;
  }
  return weighted / sum;
}

// The conditional MLE of the odds ratio (R's fisher.test "mle"): the psi with
// E[X; psi] = a. E is strictly increasing in theta = log psi from lo
// (theta -> -inf) to hi (theta -> +inf), so for lo < a < hi the root is
// bracketed by doubling a step from theta = 0 and then found with TOMS 748
// (Alefeld, Potra & Shi 1995; Boost.Math toms748_solve).
Result<double> ConditionalMle(const Margins& m, int64_t a, const std::vector<double>& log_w) {
  if (a == m.lo) return 0.0;
  if (a == m.hi) return kInf;
  const double target = static_cast<double>(a - m.lo);
  const auto g = [&](double theta) { return NoncentralMeanOffset(log_w, theta) - target; };

  double t0 = 0;
  double g0 = g(t0);
  if (g0 == 0) return 1.0;
  // Step away from 0 towards the root, doubling, until the sign changes.
  // |theta| stops at 512 (e^theta must stay finite): for tables within
  // kMaxFisherTotal the root is near the log of the sample odds ratio, below
  // about 45.
  const double direction = g0 < 0 ? 1 : -1;
  double t1 = direction;
  double g1 = g(t1);
  while ((g1 < 0) == (g0 < 0) && g1 != 0) {
    if (std::fabs(t1) >= 512) {
      return Status::Internal("fisher exact test: cannot bracket the conditional MLE of the odds ratio");
    }
    t0 = t1;
    g0 = g1;
    t1 *= 2;
    g1 = g(t1);
  }
  if (g1 == 0) return std::exp(t1);
  if (t0 > t1) {
    std::swap(t0, t1);
    std::swap(g0, g1);
  }
  // Stop when the bracket on log(psi) is 1e-12 wide: psi to ~1e-12 relative.
  const auto tolerance = [](double x, double y) { return std::fabs(x - y) <= 1e-12; };
  std::uintmax_t max_iter = 200;
  const std::pair<double, double> root =
      boost::math::tools::toms748_solve(g, t0, t1, g0, g1, tolerance, max_iter);
  return std::exp((root.first + root.second) / 2);
}

// The two-sided p-value: the sum of P(x) over P(x) <= P(a) (1 + kTieTolerance). The
// density is log-concave, so the tables more probable than that form one
// interval [left, right] around the mode and the p-value is the mass of the
// two tails outside it. The interval is found on the log-weights (the
// comparison needs only ratios); the tail masses are Boost.Math's
// hypergeometric cdf and its complement (one density each, then its own
// ratio recurrence), not a sum of per-table densities: for totals between
// 171 and 104,729 Boost computes each density by prime factorisation, about
// 3 ms apiece at a total of 10^5.
double TwoSidedPValue(const Margins& m, int64_t a, const std::vector<double>& log_w) {
  const double threshold = log_w[static_cast<size_t>(a - m.lo)] + std::log1p(kTieTolerance);
  const auto heavier = [&](double lw) { return lw > threshold; };
  const auto left = std::find_if(log_w.begin(), log_w.end(), heavier);
  if (left == log_w.end()) return 1.0;  // no table is more probable than the observed one
  const auto right = std::find_if(log_w.rbegin(), log_w.rend(), heavier);
  const int64_t left_x = m.lo + (left - log_w.begin());
  const int64_t right_x = m.hi - (right - log_w.rbegin());

  const boost::math::hypergeometric_distribution<double> dist(
      static_cast<unsigned>(m.r), static_cast<unsigned>(m.n), static_cast<unsigned>(m.total));
  double p = 0;
  if (left_x > m.lo) p += boost::math::cdf(dist, static_cast<unsigned>(left_x - 1));  // P(X < left)
  if (right_x < m.hi) {
    p += boost::math::cdf(boost::math::complement(dist, static_cast<unsigned>(right_x)));  // P(X > right)
  }
  return std::min(p, 1.0);
}

Status CheckCell(int64_t count, const char* cell) {
  if (count < 0) {
    return Status::InvalidArgument(std::string("fisher exact test: cell ") + cell + " must be >= 0, got " +
                                   std::to_string(count));
  }
  if (count > kMaxFisherTotal) {
    return Status::InvalidArgument(std::string("fisher exact test: cell ") + cell + " is " +
                                   std::to_string(count) + ", above the limit of " +
                                   std::to_string(kMaxFisherTotal) + " for a table total");
  }
  return Status::OK();
}

}  // namespace

Result<FisherResult> FisherExact(int64_t a, int64_t b, int64_t c, int64_t d) {
  VESTA_RETURN_IF_ERROR(CheckCell(a, "a (group 1, has feature)"));
  VESTA_RETURN_IF_ERROR(CheckCell(b, "b (group 1, has not)"));
  VESTA_RETURN_IF_ERROR(CheckCell(c, "c (group 2, has feature)"));
  VESTA_RETURN_IF_ERROR(CheckCell(d, "d (group 2, has not)"));
  const int64_t total = a + b + c + d;  // no overflow: each <= 2^30
  if (total == 0) {
    return Status::InvalidArgument("fisher exact test: empty table (all four counts are 0)");
  }
  if (total > kMaxFisherTotal) {
    return Status::InvalidArgument("fisher exact test: table total " + std::to_string(total) +
                                   " is above the limit of " + std::to_string(kMaxFisherTotal));
  }
  const Margins m{.r = a + c,
                  .n = a + b,
                  .total = total,
                  .lo = std::max<int64_t>(0, a - d),  // max(0, n + r - N)
                  .hi = std::min(a + b, a + c)};

  FisherResult result;
  const double ad = static_cast<double>(a) * static_cast<double>(d);
  const double bc = static_cast<double>(b) * static_cast<double>(c);
  if (bc == 0) {
    result.odds_ratio = ad > 0 ? kInf : std::numeric_limits<double>::quiet_NaN();
  } else {
    result.odds_ratio = ad / bc;
  }
  // Boost.Math reports errors by exceptions (its default policy); none is
  // expected for valid margins, and none may leave this module.
  try {
    const std::vector<double> log_w = CentralLogWeights(m);
    result.p_value = TwoSidedPValue(m, a, log_w);
    VESTA_ASSIGN_OR_RETURN(result.conditional_mle_odds_ratio, ConditionalMle(m, a, log_w));
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("fisher exact test: no memory for the " +
                                     std::to_string(m.hi - m.lo + 1) + " tables with these margins");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("fisher exact test: Boost.Math: ") + e.what());
  }
  return result;
}

}  // namespace vesta::stats
