// A snapshot's cache of evaluated filters: the passing bitmaps of filters
// that repeat, so that a filter seen again in the same snapshot is not
// evaluated again. After Lucene's LRUQueryCache with its
// UsageTrackingQueryCachingPolicy: least recently used eviction under a byte
// budget, and admission only on a filter's second use, so that one-off
// filters (a window around each query) do not evict the ones that repeat (a
// cohort filter, a principal's row filter).
//
// Correctness rests on two things: a snapshot never changes (a change makes
// a new snapshot with an empty cache, so entries need no invalidation), and
// the key holds everything the result depends on: the bound filter's
// canonical text and what it reads of the caller (FilterCacheKey).
#pragma once

#include <roaring/roaring.hh>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "filter/bind.h"
#include "filter/eval.h"

namespace vesta::index {

// The key of `filter` for `ctx`: its canonical text (filter::BoundExpr::
// ToString, typed literals) and the column indexes it was bound to, then
// current_user() if the filter calls it, and for every group it asks
// is_member about, whether the caller is a member.
// Two callers whose keys are equal get equal passing sets from one snapshot.
// Calls ctx.is_member once per distinct group.
std::string FilterCacheKey(const filter::BoundExpr& filter, const filter::EvalContext& ctx);

// Thread-safety: thread-safe (one mutex; held for map operations only, never
// while a filter is evaluated).
class FilterCache {
 public:
  struct Entry {
    std::shared_ptr<const Roaring> bitmap;  // passing ids, tombstones removed
    uint64_t cardinality = 0;
  };

  // Returns the cached entry for `key`, or an entry with a null bitmap on a
  // miss; a miss records `key` as seen (for admission).
  Entry Get(const std::string& key);

  // Caches `entry` under `key` if `key` was seen before (its second use) and
  // it fits in `max_bytes` (Roaring's serialised size plus the key), evicting
  // least recently used entries until the total is within `max_bytes`.
  // max_bytes == 0 caches nothing.
  void Offer(const std::string& key, Entry entry, size_t max_bytes);

  size_t bytes() const;
  size_t entries() const;

 private:
  using Lru = std::list<std::pair<std::string, Entry>>;
  static constexpr size_t kSeenKeys = 256;  // admission history (hashes of recent misses)

  mutable std::mutex mu_;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string, Lru::iterator> map_;
  std::unordered_map<std::string, size_t> sizes_;
  std::deque<size_t> seen_;  // hashes of keys that missed, oldest first
  size_t bytes_ = 0;
};

}  // namespace vesta::index
