// KaplanMeier and LogRank: R's survival::survfit and survdiff(rho = 0).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <boost/math/distributions/chi_squared.hpp>

#include "stats/evidence_stats.h"

namespace vesta::stats {
namespace {

// R's tolerance for "S(t) equals 0.5" in print.survfit (all.equal's).
const double kMedianTolerance = std::sqrt(std::numeric_limits<double>::epsilon());

std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// InvalidArgument "<context><name>[i]: ..." for the first bad time.
Status CheckTimes(const std::vector<SurvivalObservation>& obs, std::string_view context,
                  std::string_view name) {
  for (size_t i = 0; i < obs.size(); ++i) {
    const double t = obs[i].time;
    if (!std::isfinite(t) || t < 0) {
      return Status::InvalidArgument(std::string(context) + std::string(name) + "[" + std::to_string(i) +
                                     "]: time must be finite and >= 0, got " + FormatDouble(t));
    }
  }
  return Status::OK();
}

// The events and censorings at one distinct time.
struct Tally {
  double time;
  int64_t events = 0;
  int64_t censored = 0;
};

// Groups `obs` by distinct time, ascending.
std::vector<Tally> TallyByTime(std::vector<SurvivalObservation> obs) {
  std::sort(obs.begin(), obs.end(),
            [](const SurvivalObservation& x, const SurvivalObservation& y) { return x.time < y.time; });
  std::vector<Tally> tallies;
  for (const SurvivalObservation& o : obs) {
    if (tallies.empty() || tallies.back().time != o.time) tallies.push_back(Tally{.time = o.time});
    ++(o.event ? tallies.back().events : tallies.back().censored);
  }
  return tallies;
}

// print.survfit's median (survival's survmean(), "minmin"): the first point
// with S < 0.5 + tol; if that S is 0.5 within tol and S later drops below
// it, the midpoint of its time and the time of that drop.
std::optional<double> Median(const std::vector<KaplanMeierPoint>& points) {
  const auto first = std::find_if(points.begin(), points.end(), [](const KaplanMeierPoint& p) {
    return p.survival < 0.5 + kMedianTolerance;
  });
  if (first == points.end()) return std::nullopt;
  if (std::fabs(first->survival - 0.5) < kMedianTolerance) {
    const auto drop = std::find_if(first + 1, points.end(),
                                   [&](const KaplanMeierPoint& p) { return p.survival < first->survival; });
    if (drop != points.end()) return (first->time + drop->time) / 2;
  }
  return first->time;
}

}  // namespace

Result<KaplanMeierCurve> KaplanMeier(const std::vector<SurvivalObservation>& obs) {
  VESTA_RETURN_IF_ERROR(CheckTimes(obs, "kaplan-meier: ", "observation"));
  KaplanMeierCurve curve;
  curve.n = static_cast<int64_t>(obs.size());
  int64_t at_risk = curve.n;
  double survival = 1;
  double greenwood = 0;  // sum of d / (n (n - d)); +inf once n == d
  for (const Tally& t : TallyByTime(obs)) {
    KaplanMeierPoint p{.time = t.time, .at_risk = at_risk, .events = t.events, .censored = t.censored};
    if (t.events > 0) {
      const auto n = static_cast<double>(at_risk);
      const auto d = static_cast<double>(t.events);
      survival *= (n - d) / n;  // the product-limit factor
      greenwood += at_risk > t.events ? d / (n * (n - d)) : std::numeric_limits<double>::infinity();
    }
    p.survival = survival;
    // S * sqrt(inf) with S == 0 is NaN, as in R; report null.
    p.std_error =
        std::isinf(greenwood) ? std::numeric_limits<double>::quiet_NaN() : survival * std::sqrt(greenwood);
    curve.events += t.events;
    at_risk -= t.events + t.censored;
    curve.points.push_back(p);
  }
  curve.median = Median(curve.points);
  return curve;
}

Result<LogRankResult> LogRank(const std::vector<SurvivalObservation>& group1,
                              const std::vector<SurvivalObservation>& group2) {
  if (group1.empty()) return Status::InvalidArgument("log-rank test: group1 is empty");
  if (group2.empty()) return Status::InvalidArgument("log-rank test: group2 is empty");
  VESTA_RETURN_IF_ERROR(CheckTimes(group1, "log-rank test: ", "group1"));
  VESTA_RETURN_IF_ERROR(CheckTimes(group2, "log-rank test: ", "group2"));

  const std::vector<Tally> t1 = TallyByTime(group1);
  const std::vector<Tally> t2 = TallyByTime(group2);
  auto n1 = static_cast<int64_t>(group1.size());
  auto n2 = static_cast<int64_t>(group2.size());
  int64_t o1 = 0;
  int64_t o2 = 0;
  double e1 = 0;
  double variance = 0;
  // Merge the two tallies by time.
  size_t i = 0;
  size_t j = 0;
  while (i < t1.size() || j < t2.size()) {
    double time = std::numeric_limits<double>::infinity();
    if (i < t1.size()) time = t1[i].time;
    if (j < t2.size()) time = std::min(time, t2[j].time);
    const Tally none{.time = time};
    const Tally& a = (i < t1.size() && t1[i].time == time) ? t1[i++] : none;
    const Tally& b = (j < t2.size() && t2[j].time == time) ? t2[j++] : none;
    const int64_t deaths = a.events + b.events;
    if (deaths > 0) {
      const auto n = static_cast<double>(n1 + n2);
      const auto d = static_cast<double>(deaths);
      e1 += d * static_cast<double>(n1) / n;
      if (n1 + n2 > 1) {
        variance += d * static_cast<double>(n1) * static_cast<double>(n2) * (n - d) / (n * n * (n - 1));
      }
    }
    o1 += a.events;
    o2 += b.events;
    n1 -= a.events + a.censored;
    n2 -= b.events + b.censored;
  }

  if (o1 + o2 == 0) {
    return Status::FailedPrecondition("log-rank test: no events in either group; the test is undefined");
  }
  if (!(variance > 0)) {
    return Status::FailedPrecondition("log-rank test: the variance of O1 - E1 is 0 (" +
                                      std::to_string(o1 + o2) +
                                      " events, none at a time when both groups were at risk and someone "
                                      "survived it); the test is undefined");
  }
  LogRankResult r;
  r.observed_1 = static_cast<double>(o1);
  r.observed_2 = static_cast<double>(o2);
  r.expected_1 = e1;
  r.expected_2 = static_cast<double>(o1 + o2) - e1;
  r.variance = variance;
  r.chi_square = (r.observed_1 - e1) * (r.observed_1 - e1) / variance;
  try {
    const boost::math::chi_squared_distribution<double> chi2(r.degrees_of_freedom);
    r.p_value = boost::math::cdf(boost::math::complement(chi2, r.chi_square));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("log-rank test: Boost.Math: ") + e.what());
  }
  return r;
}

}  // namespace vesta::stats
