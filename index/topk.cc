#include "index/topk.h"

#include <algorithm>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vesta::index {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int64_t kMaxId = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinId = std::numeric_limits<int64_t>::min();
// Extra buffer room for small k, so that a compaction is not paid every few
// accepted candidates.
constexpr size_t kMinSlack = 64;

}  // namespace

TopK::TopK(size_t k, TopKOrder order)
    : k_(k), order_(order), buffer_(k == 0 ? 0 : k + std::max(k, kMinSlack)) {
  Reset();
}

void TopK::Reset() {
  size_ = 0;
  // k = 0: a threshold nothing passes. Otherwise everything but NaN passes
  // until the buffer first fills.
  threshold_key_ = k_ == 0 ? -kInf : kInf;
  threshold_id_ = k_ == 0 ? kMinId : kMaxId;
}

void TopK::Compact() {
  auto less = [](const Entry& a, const Entry& b) { return a.key < b.key || (a.key == b.key && a.id < b.id); };
  std::nth_element(buffer_.begin(), buffer_.begin() + (k_ - 1), buffer_.begin() + size_, less);
  // nth_element leaves [0, k - 1) no worse than element k - 1: the k best.
  threshold_key_ = buffer_[k_ - 1].key;
  threshold_id_ = buffer_[k_ - 1].id;
  size_ = k_;
}

void TopK::Push(float distance, int64_t id) {
  const float key = order_ == TopKOrder::kSmallest ? distance : -distance;
  if (Accepts(key, id)) Append(key, id);
}

namespace {

// Candidates are tested in chunks: "does any key in these 16 pass the
// threshold" with four SSE2 compares (x86-64's baseline; a plain loop
// elsewhere) skips a whole chunk with one branch. Once the threshold has
// tightened, nearly every chunk of a random stream is skipped: ~20 G
// candidates/s against ~2 G/s for a compare and branch per element
// (BM_TopK). NaN compares false, as in Accepts().
constexpr size_t kChunk = 16;

template <bool kNegate>
inline bool AnyPasses(const float* distances, float threshold_key) {
#if defined(__SSE2__)
  // key = -d <= t  <=>  d >= -t.
  const __m128 t = _mm_set1_ps(kNegate ? -threshold_key : threshold_key);
  auto passes = [t](const float* p) {
    const __m128 v = _mm_loadu_ps(p);
    return kNegate ? _mm_cmpge_ps(v, t) : _mm_cmple_ps(v, t);
  };
  const __m128 m = _mm_or_ps(_mm_or_ps(passes(distances), passes(distances + 4)),
                             _mm_or_ps(passes(distances + 8), passes(distances + 12)));
  return _mm_movemask_ps(m) != 0;
#else
  int any = 0;
  for (size_t j = 0; j < kChunk; ++j) {
    const float key = kNegate ? -distances[j] : distances[j];
    any |= key <= threshold_key;
  }
  return any != 0;
#endif
}

}  // namespace

template <bool kNegate>
void TopK::PushRangeImpl(const float* distances, size_t n, int64_t first_id) {
  size_t i = 0;
  for (; i + kChunk <= n; i += kChunk) {
    if (!AnyPasses<kNegate>(distances + i, threshold_key_)) continue;
    for (size_t j = i; j < i + kChunk; ++j) {
      const float key = kNegate ? -distances[j] : distances[j];
      if (Accepts(key, first_id + static_cast<int64_t>(j))) Append(key, first_id + static_cast<int64_t>(j));
    }
  }
  for (; i < n; ++i) {
    const float key = kNegate ? -distances[i] : distances[i];
    if (Accepts(key, first_id + static_cast<int64_t>(i))) Append(key, first_id + static_cast<int64_t>(i));
  }
}

template <bool kNegate>
void TopK::PushWithIdsImpl(const float* distances, const int64_t* ids, size_t n) {
  size_t i = 0;
  for (; i + kChunk <= n; i += kChunk) {
    if (!AnyPasses<kNegate>(distances + i, threshold_key_)) continue;
    for (size_t j = i; j < i + kChunk; ++j) {
      const float key = kNegate ? -distances[j] : distances[j];
      if (Accepts(key, ids[j])) Append(key, ids[j]);
    }
  }
  for (; i < n; ++i) {
    const float key = kNegate ? -distances[i] : distances[i];
    if (Accepts(key, ids[i])) Append(key, ids[i]);
  }
}

void TopK::PushRange(const float* distances, size_t n, int64_t first_id) {
  if (order_ == TopKOrder::kSmallest) {
    PushRangeImpl<false>(distances, n, first_id);
  } else {
    PushRangeImpl<true>(distances, n, first_id);
  }
}

void TopK::PushWithIds(const float* distances, const int64_t* ids, size_t n) {
  if (order_ == TopKOrder::kSmallest) {
    PushWithIdsImpl<false>(distances, ids, n);
  } else {
    PushWithIdsImpl<true>(distances, ids, n);
  }
}

void TopK::Finish(float* distances, int64_t* ids) {
  auto less = [](const Entry& a, const Entry& b) { return a.key < b.key || (a.key == b.key && a.id < b.id); };
  const size_t kept = std::min(size_, k_);
  if (size_ > k_)
    std::nth_element(buffer_.begin(), buffer_.begin() + (k_ - 1), buffer_.begin() + size_, less);
  std::sort(buffer_.begin(), buffer_.begin() + kept, less);
  const float sign = order_ == TopKOrder::kSmallest ? 1.0f : -1.0f;
  for (size_t i = 0; i < kept; ++i) {
    distances[i] = sign * buffer_[i].key;
    ids[i] = buffer_[i].id;
  }
  for (size_t i = kept; i < k_; ++i) {
    distances[i] = sign * kInf;
    ids[i] = -1;
  }
  Reset();
}

void SelectTopK(const float* distances, const int64_t* ids, size_t n, size_t k, TopKOrder order,
                float* out_distances, int64_t* out_ids) {
  TopK top(k, order);
  if (ids == nullptr) {
    top.PushRange(distances, n, 0);
  } else {
    top.PushWithIds(distances, ids, n);
  }
  top.Finish(out_distances, out_ids);
}

}  // namespace vesta::index
