// Top-k selection: order, ties by id, padding, k = 1, both orders, and random
// streams against a full sort (which exercise many buffer compactions).
#include "index/topk.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace vesta::index {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Result {
  std::vector<float> distances;
  std::vector<int64_t> ids;
};

Result Finish(TopK& top) {
  Result r{std::vector<float>(top.k()), std::vector<int64_t>(top.k())};
  top.Finish(r.distances.data(), r.ids.data());
  return r;
}

// The first k of all (distance, id) pairs sorted best first, ties by id.
Result Expected(const std::vector<float>& distances, const std::vector<int64_t>& ids, size_t k,
                TopKOrder order) {
  std::vector<size_t> idx(distances.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    if (distances[a] != distances[b]) {
      return order == TopKOrder::kSmallest ? distances[a] < distances[b] : distances[a] > distances[b];
    }
    return ids[a] < ids[b];
  });
  Result r;
  for (size_t j = 0; j < k; ++j) {
    if (j < idx.size()) {
      r.distances.push_back(distances[idx[j]]);
      r.ids.push_back(ids[idx[j]]);
    } else {
      r.distances.push_back(order == TopKOrder::kSmallest ? kInf : -kInf);
      r.ids.push_back(-1);
    }
  }
  return r;
}

TEST(TopK, KeepsTheSmallestSortedAscendingForL2) {
  TopK top(3, TopKOrderFor(Metric::kL2));
  const std::vector<float> d = {5.0f, 1.0f, 4.0f, 0.5f, 9.0f, 2.0f};
  top.PushRange(d.data(), d.size(), 100);
  const Result r = Finish(top);
  EXPECT_EQ(r.distances, (std::vector<float>{0.5f, 1.0f, 2.0f}));
  EXPECT_EQ(r.ids, (std::vector<int64_t>{103, 101, 105}));
}

TEST(TopK, KeepsTheLargestSortedDescendingForInnerProduct) {
  TopK top(3, TopKOrderFor(Metric::kInnerProduct));
  EXPECT_EQ(top.order(), TopKOrder::kLargest);
  const std::vector<float> d = {5.0f, -1.0f, 4.0f, 0.5f, 9.0f, -2.0f};
  top.PushRange(d.data(), d.size(), 0);
  const Result r = Finish(top);
  EXPECT_EQ(r.distances, (std::vector<float>{9.0f, 5.0f, 4.0f}));
  EXPECT_EQ(r.ids, (std::vector<int64_t>{4, 0, 2}));
}

TEST(TopK, BreaksTiesBySmallerIdWhateverThePushOrder) {
  for (TopKOrder order : {TopKOrder::kSmallest, TopKOrder::kLargest}) {
    // Ids pushed in descending order, all at the same distance except one.
    TopK top(4, order);
    for (int64_t id = 200; id >= 1; --id)
      top.Push(id == 150 ? (order == TopKOrder::kSmallest ? 0.0f : 2.0f) : 1.0f, id);
    const Result r = Finish(top);
    EXPECT_EQ(r.ids, (std::vector<int64_t>{150, 1, 2, 3}));
    EXPECT_EQ(r.distances[1], 1.0f);
    EXPECT_EQ(r.distances[3], 1.0f);
  }
}

TEST(TopK, TieAtTheThresholdAdmitsTheSmallerId) {
  // After the buffer fills, the k-th entry is (1.0, id 500); an equal
  // distance with a smaller id must still replace it, a larger id must not.
  TopK top(1, TopKOrder::kSmallest);
  for (int i = 0; i < 200; ++i) top.Push(1.0f, 500 + i);
  top.Push(1.0f, 7);
  top.Push(1.0f, 9000);
  const Result r = Finish(top);
  EXPECT_EQ(r.ids, (std::vector<int64_t>{7}));
}

TEST(TopK, PadsWithMinusOneAndInfinityWhenKExceedsTheCandidates) {
  TopK small(5, TopKOrder::kSmallest);
  small.Push(2.0f, 3);
  small.Push(1.0f, 8);
  Result r = Finish(small);
  EXPECT_EQ(r.ids, (std::vector<int64_t>{8, 3, -1, -1, -1}));
  EXPECT_EQ(r.distances, (std::vector<float>{1.0f, 2.0f, kInf, kInf, kInf}));

  TopK large(4, TopKOrder::kLargest);
  large.Push(-3.0f, 0);
  r = Finish(large);
  EXPECT_EQ(r.ids, (std::vector<int64_t>{0, -1, -1, -1}));
  EXPECT_EQ(r.distances, (std::vector<float>{-3.0f, -kInf, -kInf, -kInf}));

  TopK none(2, TopKOrder::kSmallest);
  r = Finish(none);
  EXPECT_EQ(r.ids, (std::vector<int64_t>{-1, -1}));
}

TEST(TopK, KOfOneReturnsTheSingleBest) {
  for (TopKOrder order : {TopKOrder::kSmallest, TopKOrder::kLargest}) {
    std::mt19937 gen(3);
    std::uniform_real_distribution<float> u(-10.0f, 10.0f);
    std::vector<float> d(1000);
    for (float& v : d) v = u(gen);
    TopK top(1, order);
    top.PushRange(d.data(), d.size(), 0);
    const Result r = Finish(top);
    const auto best = order == TopKOrder::kSmallest ? std::min_element(d.begin(), d.end())
                                                    : std::max_element(d.begin(), d.end());
    EXPECT_EQ(r.distances[0], *best);
    EXPECT_EQ(r.ids[0], best - d.begin());
  }
}

TEST(TopK, MatchesAFullSortOnRandomStreamsWithTies) {
  std::mt19937 gen(12345);
  for (TopKOrder order : {TopKOrder::kSmallest, TopKOrder::kLargest}) {
    for (size_t k : {size_t{1}, size_t{2}, size_t{10}, size_t{64}, size_t{100}, size_t{1000}}) {
      for (size_t n : {size_t{0}, size_t{1}, size_t{50}, size_t{999}, size_t{5000}}) {
        // Few distinct values: many ties, ids shuffled.
        std::uniform_int_distribution<int> value(0, 40);
        std::vector<float> d(n);
        std::vector<int64_t> ids(n);
        for (size_t i = 0; i < n; ++i) {
          d[i] = static_cast<float>(value(gen)) * 0.25f;
          ids[i] = static_cast<int64_t>(i) * 3;
        }
        std::shuffle(ids.begin(), ids.end(), gen);
        TopK top(k, order);
        top.PushWithIds(d.data(), ids.data(), n);
        const Result got = Finish(top);
        const Result want = Expected(d, ids, k, order);
        EXPECT_EQ(got.ids, want.ids) << "k=" << k << " n=" << n;
        EXPECT_EQ(got.distances, want.distances) << "k=" << k << " n=" << n;
      }
    }
  }
}

TEST(TopK, WorstCaseStreamStillSelectsCorrectly) {
  // Strictly improving distances: every candidate beats the threshold, so
  // the buffer compacts as often as it can.
  const size_t n = 20000, k = 10;
  std::vector<float> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<float>(n - i);
  TopK top(k, TopKOrder::kSmallest);
  top.PushRange(d.data(), n, 0);
  const Result r = Finish(top);
  for (size_t j = 0; j < k; ++j) {
    EXPECT_EQ(r.ids[j], static_cast<int64_t>(n - 1 - j));
    EXPECT_EQ(r.distances[j], static_cast<float>(j + 1));
  }
}

TEST(TopK, NeverKeepsNaN) {
  TopK top(3, TopKOrder::kLargest);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> d = {nan, 1.0f, nan, 2.0f};
  top.PushRange(d.data(), d.size(), 0);
  const Result r = Finish(top);
  EXPECT_EQ(r.ids, (std::vector<int64_t>{3, 1, -1}));
}

TEST(TopK, ThresholdBoundsEveryKeptCandidate) {
  TopK top(5, TopKOrder::kSmallest);
  EXPECT_EQ(top.Threshold(), kInf);
  std::vector<float> d(1000);
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<float>((i * 7919) % 1000);
  top.PushRange(d.data(), d.size(), 0);
  const float threshold = top.Threshold();
  EXPECT_LT(threshold, kInf);
  const Result r = Finish(top);
  for (float v : r.distances) EXPECT_LE(v, threshold);
  EXPECT_EQ(r.distances, (std::vector<float>{0.0f, 1.0f, 2.0f, 3.0f, 4.0f}));

  TopK largest(2, TopKOrder::kLargest);
  EXPECT_EQ(largest.Threshold(), -kInf);
}

TEST(TopK, FinishResetsForReuse) {
  TopK top(2, TopKOrder::kSmallest);
  top.Push(1.0f, 1);
  top.Push(2.0f, 2);
  Finish(top);
  top.Push(5.0f, 9);
  const Result r = Finish(top);
  EXPECT_EQ(r.ids, (std::vector<int64_t>{9, -1}));
}

TEST(TopK, ZeroKKeepsNothing) {
  TopK top(0, TopKOrder::kSmallest);
  top.Push(1.0f, 1);
  float d = 7.0f;
  int64_t id = 7;
  top.Finish(&d, &id);
  EXPECT_EQ(d, 7.0f);
  EXPECT_EQ(id, 7);
}

TEST(SelectTopK, SelectsFromAnArrayWithOrWithoutIds) {
  const std::vector<float> d = {3.0f, 1.0f, 2.0f, 1.0f};
  float out_d[3];
  int64_t out_ids[3];
  SelectTopK(d.data(), nullptr, d.size(), 3, TopKOrder::kSmallest, out_d, out_ids);
  EXPECT_EQ(std::vector<int64_t>(out_ids, out_ids + 3), (std::vector<int64_t>{1, 3, 2}));
  const std::vector<int64_t> ids = {40, 30, 20, 10};
  SelectTopK(d.data(), ids.data(), d.size(), 3, TopKOrder::kLargest, out_d, out_ids);
  EXPECT_EQ(std::vector<int64_t>(out_ids, out_ids + 3), (std::vector<int64_t>{40, 20, 10}));
  EXPECT_EQ(std::vector<float>(out_d, out_d + 3), (std::vector<float>{3.0f, 2.0f, 1.0f}));
}

}  // namespace
}  // namespace vesta::index
