// stats/evidence_stats.h against values computed independently. Every
// expected number cites where it comes from: an exact hand computation, a
// published value, or a Python command run with Debian's python3-numpy
// 1.24.2, python3-scipy 1.10.1 and python3-mpmath 1.2.1 (/usr/bin/python3).
// R is not installed here: R outputs quoted below are published ones, not
// reruns, and each is backed by an exact or Python computation.
#include "stats/evidence_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace vesta::stats {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------
// Quantile and Describe. References: numpy.percentile(v, q, method='linear'),
// which is Hyndman & Fan type 7 like R's quantile(v, q / 100). E.g.
//   python3 -c "import numpy as np; v=[3,1,4,1,5,9,2];
//     print([float(np.percentile(v, q, method='linear')) for q in (0,10,25,50,75,90,100)])"
// prints [1.0, 1.0, 1.5, 3.0, 4.5, 6.600000000000001, 9.0].

TEST(Quantile, MatchesNumpyLinearOnOddLength) {
  const std::vector<double> v = {3, 1, 4, 1, 5, 9, 2};  // sorted: 1 1 2 3 4 5 9
  EXPECT_DOUBLE_EQ(*Quantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(*Quantile(v, 0.10), 1.0);  // h = 0.6 between the two 1s
  EXPECT_DOUBLE_EQ(*Quantile(v, 0.25), 1.5);
  EXPECT_DOUBLE_EQ(*Quantile(v, 0.50), 3.0);
  EXPECT_DOUBLE_EQ(*Quantile(v, 0.75), 4.5);
  EXPECT_NEAR(*Quantile(v, 0.90), 6.6, 1e-12);  // numpy: 6.600000000000001
  EXPECT_DOUBLE_EQ(*Quantile(v, 1.0), 9.0);
  EXPECT_DOUBLE_EQ(*Quantile(v, 1.0 / 3), 2.0);  // numpy.quantile(v, 1/3, method='linear'): 2.0
}

TEST(Quantile, MatchesNumpyLinearOnEvenLength) {
  // numpy.percentile([7.5,1,3,10], (0,10,25,50,75,90,100), method='linear'):
  // 1.0, 1.6, 2.5, 5.25, 8.125, 9.25, 10.0.
  const std::vector<double> v = {7.5, 1, 3, 10};
  EXPECT_DOUBLE_EQ(*Quantile(v, 0.0), 1.0);
  EXPECT_NEAR(*Quantile(v, 0.10), 1.6, 1e-12);
  EXPECT_DOUBLE_EQ(*Quantile(v, 0.25), 2.5);
  EXPECT_DOUBLE_EQ(*Quantile(v, 0.50), 5.25);  // the midpoint of 3 and 7.5
  EXPECT_DOUBLE_EQ(*Quantile(v, 0.75), 8.125);
  EXPECT_NEAR(*Quantile(v, 0.90), 9.25, 1e-12);
  EXPECT_DOUBLE_EQ(*Quantile(v, 1.0), 10.0);
}

TEST(Quantile, SingleValueIsEveryQuantile) {
  for (double p : {0.0, 0.1, 0.5, 0.99, 1.0}) EXPECT_EQ(*Quantile({42.0}, p), 42.0) << p;
}

TEST(Quantile, DropsNaNAndReturnsNulloptWhenNothingRemains) {
  // With the NaNs dropped this is {7.5, 1, 3, 10}: the values of the even test.
  EXPECT_DOUBLE_EQ(*Quantile({kNaN, 7.5, 1, kNaN, 3, 10}, 0.5), 5.25);
  EXPECT_DOUBLE_EQ(*Quantile({kNaN, 7.5, 1, kNaN, 3, 10}, 0.75), 8.125);
  EXPECT_FALSE(Quantile({}, 0.5).has_value());
  EXPECT_FALSE(Quantile({kNaN, kNaN}, 0.5).has_value());
}

TEST(Quantile, TiesAndInfinitiesInterpolateAsR) {
  // numpy.percentile([2,2,2,5], (25,50,75,90), method='linear'): 2.0, 2.0, 2.75, 4.1.
  const std::vector<double> v = {2, 2, 2, 5};
  EXPECT_EQ(*Quantile(v, 0.25), 2.0);
  EXPECT_EQ(*Quantile(v, 0.5), 2.0);
  EXPECT_DOUBLE_EQ(*Quantile(v, 0.75), 2.75);
  EXPECT_NEAR(*Quantile(v, 0.9), 4.1, 1e-12);
  // R: quantile(c(1, Inf, Inf), 0.75) is Inf (equal neighbours are not interpolated).
  EXPECT_EQ(*Quantile({1, kInf, kInf}, 0.75), kInf);
}

TEST(Describe, SummarisesLikeNumpyAndCountsMissing) {
  // The odd vector of the Quantile tests plus two NaNs. numpy: percentiles as
  // above; np.mean([3,1,4,1,5,9,2]) = 3.5714285714285716 (= 25/7).
  const NumericSummary s = Describe({3, kNaN, 1, 4, 1, 5, kNaN, 9, 2});
  EXPECT_EQ(s.n, 7);
  EXPECT_EQ(s.missing, 2);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.q1, 1.5);
  EXPECT_DOUBLE_EQ(s.median, 3.0);
  EXPECT_DOUBLE_EQ(s.q3, 4.5);
  EXPECT_DOUBLE_EQ(s.max, 9.0);
  EXPECT_DOUBLE_EQ(s.mean, 25.0 / 7);

  // Even length: median 5.25, quartiles 2.5 and 8.125, mean 5.375 (numpy).
  const NumericSummary e = Describe({7.5, 1, 3, 10});
  EXPECT_EQ(e.n, 4);
  EXPECT_EQ(e.missing, 0);
  EXPECT_DOUBLE_EQ(e.median, 5.25);
  EXPECT_DOUBLE_EQ(e.q1, 2.5);
  EXPECT_DOUBLE_EQ(e.q3, 8.125);
  EXPECT_DOUBLE_EQ(e.mean, 5.375);
}

TEST(Describe, MeanKeepsPrecisionOnLargeOffsets) {
  // 1e9 + {0.1, 0.2, 0.3}: a naive double sum loses the fraction's last
  // digits; the mean is 1e9 + 0.2, i.e. the double nearest 1000000000.2.
  const NumericSummary s = Describe({1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3});
  EXPECT_DOUBLE_EQ(s.mean, 1e9 + 0.2);
  EXPECT_DOUBLE_EQ(s.median, 1e9 + 0.2);
}

TEST(Describe, NoValuesGivesZerosThatTheCallerReportsAsNull) {
  const NumericSummary empty = Describe({});
  EXPECT_EQ(empty.n, 0);
  EXPECT_EQ(empty.missing, 0);
  const NumericSummary nans = Describe({kNaN, kNaN, kNaN});
  EXPECT_EQ(nans.n, 0);
  EXPECT_EQ(nans.missing, 3);
  for (double v : {nans.median, nans.q1, nans.q3, nans.min, nans.max, nans.mean}) EXPECT_EQ(v, 0.0);
}

TEST(Describe, SingleValue) {
  const NumericSummary s = Describe({-4.25});
  EXPECT_EQ(s.n, 1);
  for (double v : {s.median, s.q1, s.q3, s.min, s.max, s.mean}) EXPECT_EQ(v, -4.25);
}

// ---------------------------------------------------------------------------
// FisherExact. References:
// - p and the sample odds ratio: scipy, e.g.
//     python3 -c "from scipy.stats import fisher_exact; print(fisher_exact([[3,1],[1,3]]))"
//   and, to check R's tie tolerance, the exact sum in mpmath (50 digits) of
//   the hypergeometric P(x) = C(a+c, x) C(b+d, a+b-x) / C(N, a+b) over
//   P(x) <= P(a) (1 + 1e-7); the two agree to the digits used below.
// - the conditional MLE: the root in log(psi) of
//     nchypergeom_fisher(M=N, n=a+c, N=a+b, odds=psi).mean() - a
//   by scipy.optimize.brentq(xtol=1e-14, rtol=1e-15), cross-checked by a
//   250-step bisection of the same equation in mpmath at 50 digits, with the
//   weights C(a+c, x) C(b+d, a+b-x) psi^x summed exactly (values below are
//   mpmath's).

TEST(FisherExact, LadyTastingTea) {
  // Fisher (1935), The Design of Experiments, ch. II. Margins 4/4 of 8:
  // P(x) = C(4,x) C(4,4-x) / C(8,4) = 1, 16, 36, 16, 1 over 70, so the
  // two-sided p is (1 + 16 + 16 + 1) / 70 = 34/70 = 0.4857143 (scipy:
  // 0.48571428571428565). R's fisher.test(TeaTasting) (two-sided; the help
  // page's example is one-sided, p = 0.2429) reports odds ratio 6.408309.
  auto r = FisherExact(3, 1, 1, 3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->p_value, 34.0 / 70, 1e-14);
  EXPECT_DOUBLE_EQ(r->odds_ratio, 9.0);
  // The root is 6.4083196581996743 (scipy brentq: 6.408319658199677; mpmath).
  // R prints 6.408309 because its uniroot stops at tol = eps^0.25 ~ 1.2e-4:
  // it agrees with the root to 1e-5 relative, not better.
  EXPECT_NEAR(r->conditional_mle_odds_ratio, 6.4083196581996743, 1e-9);
  EXPECT_NEAR(r->conditional_mle_odds_ratio, 6.408309, 1e-4);
}

TEST(FisherExact, TablesWithZeroCells) {
  // [[0,5],[5,0]]: scipy OR 0.0, p 0.007936507936507938 (= 2/252: the two
  // extreme tables of C(10,5) = 252). a = 0 is the smallest value the margins
  // allow: conditional MLE 0 (R: estimate 0).
  auto r = FisherExact(0, 5, 5, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->p_value, 2.0 / 252, 1e-16);
  EXPECT_EQ(r->odds_ratio, 0.0);
  EXPECT_EQ(r->conditional_mle_odds_ratio, 0.0);

  // [[10,0],[0,10]]: scipy OR inf, p 1.082508822446903e-05 (= 2/C(20,10) =
  // 2/184756). a = 10 is the largest possible: MLE +inf (R: Inf).
  r = FisherExact(10, 0, 0, 10);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->p_value, 2.0 / 184756, 1e-18);
  EXPECT_EQ(r->odds_ratio, kInf);
  EXPECT_EQ(r->conditional_mle_odds_ratio, kInf);

  // [[0,0],[3,4]]: row 1 is empty, a single table is possible: scipy OR nan,
  // p 1.0; R: p-value = 1, estimate 0 (R tests x == lo before x == hi).
  r = FisherExact(0, 0, 3, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->p_value, 1.0);
  EXPECT_TRUE(std::isnan(r->odds_ratio));
  EXPECT_EQ(r->conditional_mle_odds_ratio, 0.0);

  // [[5,0],[1,4]]: scipy OR inf, p 0.047619047619047616 (= 1/21); a = 5 = hi.
  r = FisherExact(5, 0, 1, 4);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->p_value, 1.0 / 21, 1e-15);
  EXPECT_EQ(r->odds_ratio, kInf);
  EXPECT_EQ(r->conditional_mle_odds_ratio, kInf);
}

TEST(FisherExact, MatchesScipyOnSmallAndClinicalSizedTables) {
  struct Case {
    int64_t a, b, c, d;
    double p;         // scipy fisher_exact pvalue (mpmath's exact sum agrees)
    double or_;       // scipy fisher_exact statistic
    double mle;       // mpmath root (scipy brentq agrees to the digits shown)
    const char* why;  // what the table stands for
  };
  const Case cases[] = {
      // scipy: (0.07142857142857142, 0.02301413756522116); MLE scipy 0.08585239995123907.
      {2, 7, 8, 2, 0.023014137565221157, 0.07142857142857142, 0.085852399951238899, "odds ratio below 1"},
      // 50 similar patients vs 1000: scipy (1.7894736842105263, 0.10557190440259004),
      // MLE scipy 1.7882950566511773.
      {12, 38, 150, 850, 0.10557190440259007, 1.7894736842105263, 1.7882950566514161, "k = 50 vs 1000"},
      // 50 similar patients vs a population of 100000 (Boost's prime-factorisation
      // densities): scipy (7.589147286821706, 8.23025941123852e-05), MLE scipy
      // 7.588709296513253.
      {7, 43, 2100, 97900, 8.2302594112385216e-5, 7.589147286821706, 7.5887092964338796, "k = 50 vs 100000"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.why);
    auto r = FisherExact(c.a, c.b, c.c, c.d);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_NEAR(r->p_value, c.p, 1e-9 * c.p);
    EXPECT_DOUBLE_EQ(r->odds_ratio, c.or_);
    EXPECT_NEAR(r->conditional_mle_odds_ratio, c.mle, 1e-9 * c.mle);
  }
}

TEST(FisherExact, LargeTables) {
  // [[1200,800],[1000,1000]], N = 4000: scipy (1.5, 2.4515720638785275e-10);
  // mpmath exact sum 2.4515720638785239e-10; MLE (mpmath) 1.4998469466006313,
  // scipy brentq 1.4998469466010087.
  auto r = FisherExact(1200, 800, 1000, 1000);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->p_value, 2.4515720638785239e-10, 1e-8 * 2.45e-10);
  EXPECT_DOUBLE_EQ(r->odds_ratio, 1.5);
  EXPECT_NEAR(r->conditional_mle_odds_ratio, 1.4998469466006313, 1e-9);

  // [[999,1],[1,999]]: the central densities near a underflow a double, but
  // the MLE is computed from log-densities: mpmath 597987.43663729921, scipy
  // brentq 597987.4366375109. The exact p-value is 9.76e-595 (mpmath), below
  // the smallest double: 0, as scipy's 0.0.
  r = FisherExact(999, 1, 1, 999);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->p_value, 0.0);
  EXPECT_DOUBLE_EQ(r->odds_ratio, 998001.0);
  EXPECT_NEAR(r->conditional_mle_odds_ratio, 597987.43663729921, 1e-9 * 597987.4);
}

TEST(FisherExact, SwappingRowsInvertsTheOddsRatiosAndKeepsP) {
  // A property of the test, not a reference value: [[c,d],[a,b]] is the same
  // table seen from group 2.
  auto r = FisherExact(12, 38, 150, 850);
  auto s = FisherExact(150, 850, 12, 38);
  ASSERT_TRUE(r.ok() && s.ok());
  EXPECT_NEAR(s->p_value, r->p_value, 1e-12);
  EXPECT_NEAR(s->odds_ratio, 1 / r->odds_ratio, 1e-12);
  EXPECT_NEAR(s->conditional_mle_odds_ratio, 1 / r->conditional_mle_odds_ratio, 1e-10);
}

TEST(FisherExact, RejectsNegativeCountsNamingTheCell) {
  const struct {
    int64_t a, b, c, d;
    const char* cell;
  } cases[] = {
      {-1, 2, 3, 4, "cell a "}, {1, -2, 3, 4, "cell b "}, {1, 2, -3, 4, "cell c "}, {1, 2, 3, -4, "cell d "}};
  for (const auto& c : cases) {
    auto r = FisherExact(c.a, c.b, c.c, c.d);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find(c.cell), std::string::npos) << r.status().message();
  }
}

TEST(FisherExact, RejectsEmptyAndOversizedTables) {
  auto r = FisherExact(0, 0, 0, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("empty table"), std::string::npos) << r.status().message();

  r = FisherExact(kMaxFisherTotal, 1, 0, 0);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("table total"), std::string::npos) << r.status().message();
}

// ---------------------------------------------------------------------------
// Kaplan-Meier and log-rank on the 6-MP leukaemia remission data of
// Freireich et al. (1963), Blood 21:699-716, as given by Gehan (1965),
// Biometrika 52:203-223, R's MASS::gehan and Kleinbaum & Klein, Survival
// Analysis (3rd ed., 2012), ch. 2. Remission times in weeks.

std::vector<SurvivalObservation> SixMp() {  // 21 patients, 9 relapses; "false" = censored
  return {{6, true},   {6, true},   {6, true},   {6, false},  {7, true},   {9, false},  {10, true},
          {10, false}, {11, false}, {13, true},  {16, true},  {17, false}, {19, false}, {20, false},
          {22, true},  {23, true},  {25, false}, {32, false}, {32, false}, {34, false}, {35, false}};
}

std::vector<SurvivalObservation> Placebo() {  // 21 patients, all relapsed
  std::vector<SurvivalObservation> obs;
  for (double t : {1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23})
    obs.push_back({t, true});
  return obs;
}

const KaplanMeierPoint* PointAt(const KaplanMeierCurve& curve, double time) {
  for (const KaplanMeierPoint& p : curve.points) {
    if (p.time == time) return &p;
  }
  return nullptr;
}

TEST(KaplanMeier, SixMpGroupOfFreireich) {
  // Hand computation with exact fractions (Python fractions.Fraction:
  // S *= Fraction(n - d, n), G += Fraction(d, n * (n - d)), SE = S sqrt(G)),
  // which agrees with the 3-digit values quoted from Kleinbaum & Klein
  // (S(6) = 0.857 ... S(23) = 0.448, SE(6) = 0.0764):
  //   t   n  d  c  S(t)                  Greenwood SE
  //   6  21  3  1  18/21   = 0.857143   0.0763603548 (= S sqrt(3/(21*18)))
  //   7  17  1  0  96/119  = 0.806723   0.0869352852
  //  10  15  1  1  64/85   = 0.752941   0.0963496530
  //  13  12  1  0  176/255 = 0.690196   0.1068147078
  //  16  11  1  0  32/51   = 0.627451   0.1140538653
  //  22   7  1  0  64/119  = 0.537815   0.1282337517
  //  23   6  1  0  160/357 = 0.448179   0.1345914568
  // plus censor-only times 9, 11, 17, 19, 20, 25, 32 (2 censored), 34, 35.
  auto km = KaplanMeier(SixMp());
  ASSERT_TRUE(km.ok()) << km.status().ToString();
  EXPECT_EQ(km->n, 21);
  EXPECT_EQ(km->events, 9);
  ASSERT_EQ(km->points.size(), 16u);  // distinct times
  const struct {
    double t;
    int64_t at_risk, events, censored;
    double s, se;
  } expected[] = {
      {6, 21, 3, 1, 18.0 / 21, 0.0763603548},    {7, 17, 1, 0, 96.0 / 119, 0.0869352852},
      {9, 16, 0, 1, 96.0 / 119, 0.0869352852},   {10, 15, 1, 1, 64.0 / 85, 0.0963496530},
      {13, 12, 1, 0, 176.0 / 255, 0.1068147078}, {16, 11, 1, 0, 32.0 / 51, 0.1140538653},
      {22, 7, 1, 0, 64.0 / 119, 0.1282337517},   {23, 6, 1, 0, 160.0 / 357, 0.1345914568},
      {32, 4, 0, 2, 160.0 / 357, 0.1345914568},  {35, 1, 0, 1, 160.0 / 357, 0.1345914568},
  };
  for (const auto& e : expected) {
    SCOPED_TRACE(e.t);
    const KaplanMeierPoint* p = PointAt(*km, e.t);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->at_risk, e.at_risk);
    EXPECT_EQ(p->events, e.events);
    EXPECT_EQ(p->censored, e.censored);
    EXPECT_NEAR(p->survival, e.s, 1e-12);
    EXPECT_NEAR(p->std_error, e.se, 1e-9);
  }
  // The rounded values usually quoted (Kleinbaum & Klein; R prints 3 digits).
  EXPECT_NEAR(PointAt(*km, 6)->survival, 0.857, 5e-4);
  EXPECT_NEAR(PointAt(*km, 7)->survival, 0.807, 5e-4);
  EXPECT_NEAR(PointAt(*km, 10)->survival, 0.753, 5e-4);
  EXPECT_NEAR(PointAt(*km, 13)->survival, 0.690, 5e-4);
  EXPECT_NEAR(PointAt(*km, 16)->survival, 0.627, 5e-4);
  EXPECT_NEAR(PointAt(*km, 22)->survival, 0.538, 5e-4);
  EXPECT_NEAR(PointAt(*km, 23)->survival, 0.448, 5e-4);
  EXPECT_NEAR(PointAt(*km, 6)->std_error, 0.0764, 5e-5);
  // Ascending, one point per distinct time.
  for (size_t i = 1; i < km->points.size(); ++i) EXPECT_LT(km->points[i - 1].time, km->points[i].time);
  // Median 23 (Kleinbaum & Klein; R's survfit): S drops from 0.538 to 0.448 at 23.
  ASSERT_TRUE(km->median.has_value());
  EXPECT_EQ(*km->median, 23.0);
}

TEST(KaplanMeier, PlaceboGroupReachesZero) {
  // Placebo, no censoring: S(5) = 12/21 = 0.571, S(8) = 8/21 = 0.381, so the
  // median is 8 (Kleinbaum & Klein). S(23) = 0: Greenwood's sum divides by
  // n - d = 0 and the SE is NaN (R's summary.survfit prints NaN there too).
  auto km = KaplanMeier(Placebo());
  ASSERT_TRUE(km.ok());
  EXPECT_EQ(km->n, 21);
  EXPECT_EQ(km->events, 21);
  ASSERT_TRUE(km->median.has_value());
  EXPECT_EQ(*km->median, 8.0);
  EXPECT_NEAR(PointAt(*km, 5)->survival, 12.0 / 21, 1e-12);
  EXPECT_NEAR(PointAt(*km, 8)->survival, 8.0 / 21, 1e-12);
  EXPECT_NEAR(PointAt(*km, 22)->std_error, 0.0464714320, 1e-9);  // S = 1/21, Fraction computation
  EXPECT_EQ(km->points.back().survival, 0.0);
  EXPECT_TRUE(std::isnan(km->points.back().std_error));
}

TEST(KaplanMeier, MedianOnAnExactHalfFlatIsTheMidpoint) {
  // Six subjects: events at 1, 2, 3, censored at 4, events at 6 and 8.
  // S(1) = 5/6, S(2) = 4/6, S(3) = 3/6 = 0.5 (as a double product it may be
  // off by an ulp: R's tolerance covers it), flat through the censoring at 4,
  // then S(6) = 0.5 * 1/2 = 0.25. R's print.survfit: S reaches 0.5 at t = 3 and
  // first drops below it at t = 6, median = (3 + 6) / 2 = 4.5. (quantile.survfit
  // gives 4.5 as well.)
  auto km = KaplanMeier({{1, true}, {2, true}, {3, true}, {4, false}, {6, true}, {8, true}});
  ASSERT_TRUE(km.ok());
  EXPECT_NEAR(PointAt(*km, 4)->survival, 0.5, 1e-15);
  ASSERT_TRUE(km->median.has_value());
  EXPECT_DOUBLE_EQ(*km->median, 4.5);
}

TEST(KaplanMeier, MedianOnAHalfFlatToTheEndIsWhereItStarts) {
  // Events at 1 and 2, censored at 3 and 4: S = 0.5 from 2 to the end of
  // follow-up. print.survfit's rule: no later drop, so the median is 2.
  // (R's quantile.survfit would say (2 + 4) / 2 = 3; see stats/README.md.)
  auto km = KaplanMeier({{1, true}, {2, true}, {3, false}, {4, false}});
  ASSERT_TRUE(km.ok());
  ASSERT_TRUE(km->median.has_value());
  EXPECT_EQ(*km->median, 2.0);
}

TEST(KaplanMeier, MedianNotReached) {
  // S(1) = 2/3, then only censorings: S never reaches 0.5.
  auto km = KaplanMeier({{1, true}, {2, false}, {3, false}});
  ASSERT_TRUE(km.ok());
  EXPECT_FALSE(km->median.has_value());
  auto censored = KaplanMeier({{5, false}, {7, false}});
  ASSERT_TRUE(censored.ok());
  EXPECT_EQ(censored->events, 0);
  EXPECT_EQ(censored->points.back().survival, 1.0);
  EXPECT_EQ(censored->points.back().std_error, 0.0);
  EXPECT_FALSE(censored->median.has_value());
}

TEST(KaplanMeier, EventsComeBeforeCensoringsAtTheSameTime) {
  // At t = 2 one event and one censoring among 3 at risk: the censored subject
  // counts as at risk, so S(2) = 2/3 (not 1/2), and 1 is left at t = 3.
  auto km = KaplanMeier({{3, true}, {2, false}, {2, true}});
  ASSERT_TRUE(km.ok());
  ASSERT_EQ(km->points.size(), 2u);
  EXPECT_EQ(km->points[0].at_risk, 3);
  EXPECT_EQ(km->points[0].events, 1);
  EXPECT_EQ(km->points[0].censored, 1);
  EXPECT_NEAR(km->points[0].survival, 2.0 / 3, 1e-15);
  EXPECT_EQ(km->points[1].at_risk, 1);
  EXPECT_EQ(km->points[1].survival, 0.0);
}

TEST(KaplanMeier, EmptyInputIsAnEmptyCurve) {
  auto km = KaplanMeier({});
  ASSERT_TRUE(km.ok());
  EXPECT_EQ(km->n, 0);
  EXPECT_TRUE(km->points.empty());
  EXPECT_FALSE(km->median.has_value());
}

TEST(KaplanMeier, RejectsBadTimesNamingTheIndex) {
  for (double bad : {-1.0, kNaN, kInf}) {
    auto km = KaplanMeier({{1, true}, {2, false}, {bad, true}});
    ASSERT_FALSE(km.ok()) << bad;
    EXPECT_TRUE(km.status().IsInvalidArgument());
    EXPECT_NE(km.status().message().find("observation[2]"), std::string::npos) << km.status().message();
  }
  EXPECT_TRUE(KaplanMeier({{0, true}}).ok());  // time 0 is allowed
}

TEST(LogRank, FreireichSixMpVersusPlacebo) {
  // Published: R's survdiff(Surv(time, cens) ~ treat, data = MASS::gehan)
  // prints Chisq= 16.8 on 1 degrees of freedom, p= 4e-05; Kleinbaum & Klein
  // ch. 2: observed 9 and 21, expected 19.25 and 10.75, chi-square 16.79.
  // Exact hand computation over the 17 distinct relapse times with
  // fractions.Fraction (n1, n2 at risk, d deaths: E1 += Fraction(d n1, n),
  // V += Fraction(d n1 n2 (n - d), n^2 (n - 1))):
  // E1 = 406602257588/21121645545 = 19.2505009480,
  // E2 = 30 - E1 = 10.7494990520, V = 6.2569605737,
  // chi-square = (9 - E1)^2 / V = 16.7929409892;
  // scipy.stats.chi2.sf(16.792940989216532, 1) = 4.168809109334543e-05.
  auto r = LogRank(SixMp(), Placebo());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->observed_1, 9);
  EXPECT_EQ(r->observed_2, 21);
  EXPECT_NEAR(r->expected_1, 406602257588.0 / 21121645545.0, 1e-10);
  EXPECT_NEAR(r->expected_1, 19.25, 0.005);
  EXPECT_NEAR(r->expected_2, 10.75, 0.005);
  EXPECT_NEAR(r->variance, 6.2569605737, 1e-9);
  EXPECT_NEAR(r->chi_square, 16.7929409892, 1e-9);
  EXPECT_NEAR(r->chi_square, 16.79, 0.005);
  EXPECT_EQ(r->degrees_of_freedom, 1);
  EXPECT_NEAR(r->p_value, 4.168809109334543e-05, 1e-12);

  // The test is symmetric in the groups.
  auto s = LogRank(Placebo(), SixMp());
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->chi_square, r->chi_square, 1e-12);
  EXPECT_NEAR(s->expected_1, r->expected_2, 1e-12);
  EXPECT_EQ(s->observed_1, r->observed_2);
}

TEST(LogRank, IdenticalGroupsGiveChiSquareZero) {
  // O1 = E1 at every time by symmetry: chi-square 0, p = 1.
  auto r = LogRank(SixMp(), SixMp());
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->chi_square, 0.0, 1e-20);
  EXPECT_NEAR(r->p_value, 1.0, 1e-12);
}

TEST(LogRank, RejectsEmptyGroupsAndBadTimes) {
  auto r = LogRank({}, Placebo());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("group1 is empty"), std::string::npos) << r.status().message();
  r = LogRank(SixMp(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("group2 is empty"), std::string::npos) << r.status().message();
  r = LogRank(SixMp(), {{1, true}, {-2, true}});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("group2[1]"), std::string::npos) << r.status().message();
  r = LogRank({{kNaN, false}}, Placebo());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("group1[0]"), std::string::npos) << r.status().message();
}

TEST(LogRank, UndefinedWithoutInformativeEvents) {
  // No events at all.
  auto r = LogRank({{3, false}, {5, false}}, {{4, false}});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsFailedPrecondition());
  EXPECT_NE(r.status().message().find("no events"), std::string::npos) << r.status().message();
  // An event, but group 2 left follow-up before it: V = 0.
  r = LogRank({{1, true}}, {{0.5, false}});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsFailedPrecondition());
  EXPECT_NE(r.status().message().find("variance"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace vesta::stats
