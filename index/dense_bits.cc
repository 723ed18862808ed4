#include "index/dense_bits.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace vesta::index {

namespace {

constexpr size_t kChunkWords = 1024;  // 2^16 ids
constexpr uint64_t kArrayMax = 4096;  // CRoaring: an array container holds at most 4,096 values

}  // namespace

DenseBits DenseBits::FromRoaring(const Roaring& bitmap, uint32_t universe) {
  DenseBits bits(universe);
  const roaring_array_t& ra = bitmap.roaring.high_low_container;
  for (int32_t i = 0; i < ra.size; ++i) {
    const uint32_t base = static_cast<uint32_t>(ra.keys[i]) << 16;
    if (base >= universe) break;  // keys ascend
    uint8_t type = ra.typecodes[i];
    const void* c = container_unwrap_shared(ra.containers[i], &type);
    switch (type) {
      case BITSET_CONTAINER_TYPE_CODE: {
        const auto* b = static_cast<const bitset_container_t*>(c);
        const size_t first = base / 64;
        const size_t n = std::min(kChunkWords, bits.words_.size() - first);
        std::memcpy(&bits.words_[first], b->array, n * sizeof(uint64_t));
        break;
      }
      case ARRAY_CONTAINER_TYPE_CODE: {
        const auto* a = static_cast<const array_container_t*>(c);
        for (int32_t j = 0; j < a->cardinality; ++j) {
          const uint32_t id = base + a->array[j];
          if (id >= universe) break;
          bits.Set(id);
        }
        break;
      }
      case RUN_CONTAINER_TYPE_CODE: {
        const auto* r = static_cast<const run_container_t*>(c);
        for (int32_t j = 0; j < r->n_runs; ++j) {
          const uint64_t lo = base + uint64_t{r->runs[j].value};
          const uint64_t hi = std::min<uint64_t>(lo + r->runs[j].length + 1, universe);
          if (lo >= hi) break;
          bits.SetRange(static_cast<uint32_t>(lo), static_cast<uint32_t>(hi));
        }
        break;
      }
      default:
        break;
    }
  }
  // A bitset chunk copied whole may hold ids past the universe: drop them.
  if (universe % 64 != 0 && !bits.words_.empty()) bits.words_.back() &= (uint64_t{1} << (universe % 64)) - 1;
  return bits;
}

void DenseBits::SetRange(uint32_t lo, uint32_t hi) {
  if (lo >= hi) return;
  const size_t w0 = lo / 64, w1 = (hi - 1) / 64;
  const uint64_t first = ~uint64_t{0} << (lo % 64);
  const uint64_t last = ~uint64_t{0} >> (63 - (hi - 1) % 64);
  if (w0 == w1) {
    words_[w0] |= first & last;
    return;
  }
  words_[w0] |= first;
  for (size_t w = w0 + 1; w < w1; ++w) words_[w] = ~uint64_t{0};
  words_[w1] |= last;
}

void DenseBits::ClearAll(const Roaring& bitmap) {
  for (Roaring::const_iterator it = bitmap.begin(); it != bitmap.end(); ++it) {
    if (*it >= universe_) break;
    Clear(*it);
  }
}

uint64_t DenseBits::Count() const {
  uint64_t n = 0;
  for (uint64_t w : words_) n += static_cast<uint64_t>(std::popcount(w));
  return n;
}

Roaring DenseBits::ToRoaring() const {
  Roaring out;
  roaring_array_t* ra = &out.roaring.high_low_container;
  for (size_t first = 0, key = 0; first < words_.size(); first += kChunkWords, ++key) {
    const size_t n = std::min(kChunkWords, words_.size() - first);
    uint64_t count = 0;
    for (size_t w = 0; w < n; ++w) count += static_cast<uint64_t>(std::popcount(words_[first + w]));
    if (count == 0) continue;
    if (count > kArrayMax) {
      bitset_container_t* b = bitset_container_create();  // zeroed
      std::memcpy(b->array, &words_[first], n * sizeof(uint64_t));
      b->cardinality = static_cast<int32_t>(count);
      ra_append(ra, static_cast<uint16_t>(key), b, BITSET_CONTAINER_TYPE_CODE);
    } else {
      array_container_t* a = array_container_create_given_capacity(static_cast<int32_t>(count));
      int32_t k = 0;
      for (size_t w = 0; w < n; ++w) {
        for (uint64_t bits = words_[first + w]; bits != 0; bits &= bits - 1) {
          a->array[k++] = static_cast<uint16_t>(w * 64 + static_cast<size_t>(std::countr_zero(bits)));
        }
      }
      a->cardinality = k;
      ra_append(ra, static_cast<uint16_t>(key), a, ARRAY_CONTAINER_TYPE_CODE);
    }
  }
  return out;
}

}  // namespace vesta::index
