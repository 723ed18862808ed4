// Shared fixtures of the vector-index tests: seeded clustered data with two
// filter attributes, a brute-force reference, and result-shape checks.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "filter/bind.h"
#include "filter/eval.h"
#include "filter/parser.h"
#include "index/vector_index.h"

namespace vesta::testing {

// n rows of d floats around `clusters` seeded centres; attributes:
//   bucket BIGINT = a random permutation rank (bucket < s * n keeps ~s),
//   site STRING   = "site_<cluster>" (correlated with the vector),
//   score DOUBLE  = NULL for every 10th row.
struct VectorFixture {
  size_t n = 0;
  size_t d = 0;
  std::vector<float> vectors;
  std::vector<int> cluster;
  std::vector<int64_t> bucket;

  static Schema AttributeSchema() {
    Schema s;
    s.columns = {{"bucket", DataType::Bigint(), true, ""},
                 {"site", DataType::String(), true, ""},
                 {"score", DataType::Double(), true, ""}};
    return s;
  }

  static VectorFixture Make(size_t n, size_t d, int clusters, uint64_t seed) {
    VectorFixture f;
    f.n = n;
    f.d = d;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> centres(clusters * d);
    for (float& c : centres) c = g(rng) * 4.0f;
    f.vectors.resize(n * d);
    f.cluster.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const int c = static_cast<int>(rng() % clusters);
      f.cluster[i] = c;
      for (size_t j = 0; j < d; ++j) f.vectors[i * d + j] = centres[c * d + j] + g(rng);
    }
    f.bucket.resize(n);
    for (size_t i = 0; i < n; ++i) f.bucket[i] = static_cast<int64_t>(i);
    std::shuffle(f.bucket.begin(), f.bucket.end(), rng);
    return f;
  }

  Row Attributes(size_t i) const {
    return {Value::Int(bucket[i]), Value::Str("site_" + std::to_string(cluster[i])),
            i % 10 == 0 ? Value::Null() : Value::Real(static_cast<double>(i % 97))};
  }

  index::RowBatch Batch(size_t begin, size_t end, int64_t key_offset = 0) const {
    index::RowBatch b;
    b.Reserve(end - begin, d);
    for (size_t i = begin; i < end; ++i) {
      b.Add(Value::Int(static_cast<int64_t>(i) + key_offset), &vectors[i * d], d, Attributes(i));
    }
    return b;
  }

  // A query near row `i` (the row plus small noise).
  std::vector<float> QueryNear(size_t i, uint64_t seed) const {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, 0.3f);
    std::vector<float> q(vectors.begin() + i * d, vectors.begin() + (i + 1) * d);
    for (float& x : q) x += g(rng);
    return q;
  }
};

inline filter::BoundExpr BindFilter(const std::string& text, const Schema& schema) {
  auto expr = filter::ParseFilterString(text);
  EXPECT_TRUE(expr.ok()) << expr.status().message();
  auto bound = filter::Bind(*expr, schema);
  EXPECT_TRUE(bound.ok()) << bound.status().message();
  return std::move(*bound);
}

// Brute force over the live rows of `snap` passing `filter` (nullptr: all):
// the exact k best scores (L2 squared distance, or inner product/cosine).
inline std::vector<float> ReferenceScores(const index::IndexSnapshot& snap, const float* q,
                                          const filter::BoundExpr* filter, size_t k) {
  const size_t d = snap.spec().dimension;
  const index::Metric metric = snap.spec().metric;
  std::vector<float> qn(q, q + d);
  if (metric == index::Metric::kCosine) index::Normalize(qn.data(), d);
  std::vector<float> scores;
  for (uint32_t id = 0; id < snap.size(); ++id) {
    if (snap.deleted().contains(id)) continue;
    if (filter != nullptr &&
        !filter::Matches(*filter, snap.attributes().GetRow(id), filter::EvalContext::ForUser("alice"))) {
      continue;
    }
    const float* v = snap.vector(id);
    double s = 0;
    for (size_t j = 0; j < d; ++j) {
      s += metric == index::Metric::kL2 ? (qn[j] - v[j]) * double(qn[j] - v[j]) : double(qn[j]) * v[j];
    }
    scores.push_back(static_cast<float>(s));
  }
  if (metric == index::Metric::kL2) {
    std::sort(scores.begin(), scores.end());
  } else {
    std::sort(scores.begin(), scores.end(), std::greater<>());
  }
  if (scores.size() > k) scores.resize(k);
  return scores;
}

// recall@k by distance: results whose score is at least as good as the k-th
// reference score (with a relative tolerance), over min(k, reference size).
inline double RecallByScore(const index::SearchResult& r, const std::vector<float>& reference, index::Metric metric) {
  if (reference.empty()) return 1.0;
  const float kth = reference.back();
  const float tol = 1e-4f * (1.0f + std::fabs(kth));
  size_t hits = 0;
  for (float s : r.scores) {
    if (metric == index::Metric::kL2 ? s <= kth + tol : s >= kth - tol) ++hits;
  }
  return static_cast<double>(std::min(hits, reference.size())) / reference.size();
}

// Checks the guarantees: every result passes and is live, the count is
// min(k, passing), sorted best first with ties by smaller id, keys match.
inline void ExpectWellFormed(const index::IndexSnapshot& snap, const index::SearchResult& r,
                             const filter::BoundExpr* filter, size_t k, size_t passing) {
  ASSERT_EQ(r.ids.size(), std::min(k, passing));
  ASSERT_EQ(r.scores.size(), r.ids.size());
  ASSERT_EQ(r.keys.size(), r.ids.size());
  const bool smaller = snap.spec().metric == index::Metric::kL2;
  for (size_t i = 0; i < r.ids.size(); ++i) {
    const uint32_t id = r.ids[i];
    ASSERT_LT(id, snap.size());
    EXPECT_FALSE(snap.deleted().contains(id)) << "deleted id " << id << " returned";
    if (filter != nullptr) {
      EXPECT_TRUE(filter::Matches(*filter, snap.attributes().GetRow(id), filter::EvalContext::ForUser("alice")))
          << "id " << id << " does not pass the filter";
    }
    EXPECT_EQ(r.keys[i], snap.key(id));
    if (i > 0) {
      const float a = r.scores[i - 1], b = r.scores[i];
      EXPECT_TRUE(smaller ? a <= b : a >= b) << "not sorted at " << i;
      if (a == b) {
        EXPECT_LT(r.ids[i - 1], id) << "tie not broken by id at " << i;
      }
    }
  }
}

}  // namespace vesta::testing
