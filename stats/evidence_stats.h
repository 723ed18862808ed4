// The statistics of an evidence summary: how the k patients most similar to a
// query patient compare with a reference population. Descriptive statistics
// of a numeric column (Quantile, Describe), Fisher's exact test of a 2x2
// table (FisherExact), and survival analysis (KaplanMeier, LogRank). The
// algorithms, their sources and the conventions at the edges are in
// stats/README.md; every function here matches a named reference
// implementation (R's stats and survival packages) and the tests in
// tests/stats/ check it against values computed independently.
//
// Thread-safety: every function is pure (no shared state); call from any
// thread. Result structs are plain values (thread-compatible).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/status.h"

namespace vesta::stats {

// ---------------------------------------------------------------------------
// Descriptive statistics

// Returns the sample quantile of `values` at probability `p`, type 7 of
// Hyndman & Fan (1996), "Sample quantiles in statistical packages", Amer.
// Statist. 50(4):361-365: R's default quantile() and numpy's
// method="linear". With the n non-NaN values sorted, x[0] <= ... <= x[n-1],
// h = (n - 1) p, j = floor(h) and g = h - j, the result is
// x[j] + g (x[j + 1] - x[j]), computed as R's quantile.default does:
// (1 - g) x[j] + g x[j + 1], and exactly x[j] when g == 0 or
// x[j + 1] == x[j]. NaNs are dropped first; returns nullopt if no value
// remains. Infinities are ordinary values (interpolating between -inf and
// +inf gives NaN, as in R). O(n) expected time (selection, no full sort).
// REQUIRES: 0 <= p <= 1 (not NaN). A violation asserts; a release build
// returns nullopt.
std::optional<double> Quantile(std::vector<double> values, double p);

// A five-number summary plus the mean of one numeric column.
struct NumericSummary {
  int64_t n = 0;        // number of non-NaN values
  int64_t missing = 0;  // number of NaN values (how a missing cell arrives here)
  double median = 0;    // Quantile(values, 0.5)
  double q1 = 0;        // Quantile(values, 0.25)
  double q3 = 0;        // Quantile(values, 0.75)
  double min = 0;
  double max = 0;
  double mean = 0;  // arithmetic mean, accumulated in long double with R's second (correction) pass
};

// Returns the summary of the non-NaN values of `values` (quantiles as
// Quantile, type 7). When n == 0 (empty input or only NaNs) every statistic
// is 0: the caller must report them as null, not as zeros. O(n log n).
NumericSummary Describe(const std::vector<double>& values);

// ---------------------------------------------------------------------------
// 2x2 contingency tables

// The largest table total FisherExact accepts (Boost.Math's
// hypergeometric_distribution takes unsigned counts and sums two margins in
// an int).
inline constexpr int64_t kMaxFisherTotal = (int64_t{1} << 30) - 1;

struct FisherResult {
  // Two-sided p-value as R's fisher.test: the sum of the hypergeometric
  // probabilities P(x) of the tables with the observed margins (x the
  // top-left cell) over all x with P(x) <= P(a) * (1 + 1e-7). In [0, 1].
  double p_value = 1;
  // Sample (cross-product) odds ratio a*d / (b*c), computed in double.
  // +inf when b*c == 0 < a*d; NaN when a*d == b*c == 0 (undefined: report
  // null).
  double odds_ratio = 0;
  // R's fisher.test estimate: the conditional maximum-likelihood estimate of
  // the odds ratio, the psi solving E[X; psi] = a where X follows Fisher's
  // noncentral hypergeometric distribution with the observed margins (given
  // the margins, P(X = x) is proportional to C(a+c, x) C(b+d, a+b-x) psi^x).
  // 0 when a is the smallest value the margins allow, +inf when it is the
  // largest (the smallest wins when both hold, i.e. a single possible table,
  // as in R). Solved to a relative precision of about 1e-12 (R's uniroot
  // stops near 1e-4).
  double conditional_mle_odds_ratio = 1;
};

// Fisher's exact test (Fisher 1935, "The logic of inductive inference",
// J. R. Statist. Soc. 98:39-82) of the 2x2 table
//             has feature   has not
//   group 1        a           b
//   group 2        c           d
// conditioning on both margins, as R's stats::fisher.test (two-sided,
// conf.int aside). The tail masses of the p-value are Boost.Math's
// hypergeometric_distribution cdf and complement; which tables are as
// extreme as the observed one, and the conditional MLE (solved with
// Boost.Math's toms748_solve on log(psi)), use log-densities relative to the
// smallest table, built by the exact ratio recurrence, so that they stay
// finite where the densities underflow.
// Cost: time and memory linear in m + 1, the number of tables with these
// margins (m the smallest of the four margins): 8 (m + 1) bytes, and a few
// dozen passes over them for the MLE; plus two Boost densities, each
// about 3 ms for totals between 171 and 104,729 (Boost evaluates those by
// prime factorisation) and microseconds otherwise. The caller bounds m (in
// an evidence summary, k similar patients).
// Errors: InvalidArgument naming the cell for a negative count; for an empty
// table (all four 0); for a total above kMaxFisherTotal. ResourceExhausted
// if the m + 1 log-densities do not fit in memory. Internal if Boost.Math
// reports an error (a bug).
Result<FisherResult> FisherExact(int64_t a, int64_t b, int64_t c, int64_t d);

// ---------------------------------------------------------------------------
// Survival

// One subject: follow-up `time` (any unit, the caller's; months in Vesta's
// clinical tables) and whether the event (death) was observed at that time;
// event == false means right-censored at `time`.
struct SurvivalObservation {
  double time = 0;
  bool event = false;
};

// The Kaplan-Meier curve at one distinct observed time t.
struct KaplanMeierPoint {
  double time = 0;
  int64_t at_risk = 0;   // subjects with time >= t
  int64_t events = 0;    // events at t
  int64_t censored = 0;  // censorings at t
  double survival = 1;   // S(t), the product-limit estimate just after t
  // Greenwood's standard error of S(t): S(t) * sqrt(sum over event times
  // u <= t of d_u / (n_u (n_u - d_u))), as R's summary.survfit std.err.
  // NaN from the time S(t) reaches 0 on (the term divides by n_u - d_u = 0;
  // R reports NaN too): report null.
  double std_error = 0;
};

struct KaplanMeierCurve {
  int64_t n = 0;       // subjects
  int64_t events = 0;  // events observed
  // One point per distinct time with an event or a censoring, ascending.
  std::vector<KaplanMeierPoint> points;
  // The median survival time, as R survival's print.survfit (survmean()'s
  // minmin in R/print.survfit.R): the smallest time t with S(t) <= 0.5,
  // compared with a tolerance of sqrt(DBL_EPSILON) as R does. When S(t)
  // equals 0.5 within that tolerance, S is 0.5 on a flat stretch from t and
  // the median is the midpoint (t + t') / 2, t' the first later time at which
  // S drops below 0.5; if S never drops below 0.5 (the stretch runs to the
  // last follow-up), the median is t. nullopt if S never reaches 0.5 ("not
  // reached": report it as such, not as missing).
  std::optional<double> median;
};

// Returns the Kaplan-Meier (product-limit) estimate of the survival function
// (Kaplan & Meier 1958, "Nonparametric estimation from incomplete
// observations", JASA 53:457-481) with Greenwood's (1926) standard errors,
// as R's survival::survfit(Surv(time, event) ~ 1) with its defaults. Ties:
// events happen before censorings at the same time (subjects censored at t
// are at risk at t). Empty input: n = 0, no points, no median.
// Errors: InvalidArgument naming the index for a negative, NaN or infinite
// time. O(n log n).
Result<KaplanMeierCurve> KaplanMeier(const std::vector<SurvivalObservation>& obs);

struct LogRankResult {
  double chi_square = 0;  // (O1 - E1)^2 / V
  int degrees_of_freedom = 1;
  double p_value = 1;     // P(chi-square with 1 df >= chi_square)
  double observed_1 = 0;  // events in group 1 (O1)
  double expected_1 = 0;  // sum over event times of d * n1 / n (E1)
  double observed_2 = 0;
  double expected_2 = 0;  // total events - E1
  double variance = 0;    // V, the hypergeometric variance of O1 - E1
};

// The two-sample log-rank test (Mantel 1966, Cancer Chemother. Rep.
// 50:163-170; Peto & Peto 1972, J. R. Statist. Soc. A 135:185-207), as R's
// survival::survdiff(rho = 0): at each distinct event time with n = n1 + n2
// at risk and d = d1 + d2 events, E1 += d n1 / n and
// V += d (n1 / n) (n2 / n) (n - d) / (n - 1); chi-square = (O1 - E1)^2 / V,
// and the p-value is the upper tail of the chi-square distribution with 1
// degree of freedom (Boost.Math chi_squared_distribution, complement cdf).
// Ties are handled as in KaplanMeier.
// Errors: InvalidArgument for an empty group or a bad time (naming the group
// and index); FailedPrecondition when V == 0, i.e. no events at all, or none
// at a time when both groups are at risk with a survivor (the test is
// undefined; the message says which).
Result<LogRankResult> LogRank(const std::vector<SurvivalObservation>& group1,
                              const std::vector<SurvivalObservation>& group2);

}  // namespace vesta::stats
