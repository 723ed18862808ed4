// Vesta's filter-aware search over a FAISS-built HNSW graph.
//
// Sources:
// - HNSW: Malkov & Yashunin, "Efficient and robust approximate nearest
//   neighbor search using Hierarchical Navigable Small World graphs", TPAMI
//   2018, Algorithms 2 (SEARCH-LAYER) and 5 (K-NN-SEARCH); the layout and the
//   greedy upper-level step follow FAISS 1.7.3 (faiss/impl/HNSW.cpp,
//   greedy_update_nearest and search_from_candidates).
// - ACORN-1: Patel et al., "ACORN: Performant and Predicate-Agnostic Search
//   Over Vector Embeddings and Structured Data", SIGMOD 2024, section 5: search
//   an ordinary HNSW graph, keep only passing nodes in the beam, and recover
//   the connectivity a filter removes by expanding the neighbours of failing
//   neighbours (two hops), with the expanded list truncated to the graph's
//   level-0 degree. As in Lucene's and Weaviate's ACORN variants, only failing
//   neighbours are expanded a second hop (a passing neighbour is scored and
//   expanded in its turn), which keeps the cost near plain HNSW when most rows
//   pass.
// - Lucene's rule (Lucene 9 HnswGraphSearcher with a filter, "visitedLimit"):
//   once the walk has compared more vectors than pass the filter, an exact
//   scan over the passing rows is cheaper and exact, so give way to it.
//
// Level 0, per mode (keys are "smaller is closer": L2 distance, or minus the
// inner product):
//   unfiltered / plain (two_hop == false): best-first search; every unvisited
//     neighbour is scored; it enters the candidate queue if fewer than ef
//     results are held or it beats the worst; only passing nodes enter the
//     results. Stop when the closest candidate is worse than the worst of ef
//     held results. With a filter, the queue grows until ef *passing* results
//     are held (or the reachable graph is exhausted).
//     If the walk runs out of candidates before it holds ef results, the
//     reachable part of the graph is smaller than ef: exact fallback.
//   ACORN (two_hop == true): candidates and results hold passing nodes only.
//     Expanding c: its unvisited passing neighbours, then, for each failing
//     neighbour f, f's unvisited passing neighbours, until the level-0 degree
//     is reached. A failing neighbour is marked visited only once its list has
//     been fully examined (so one cut short by the cap may be expanded again
//     from another node). If the descent's entry fails the filter, level 0 is
//     seeded with the passing nodes of its 1- and 2-hop neighbourhood.
// ef_used = min(max_ef, max(k, ef_search / selectivity^widen_exponent)) in
// ACORN mode, min(max_ef, max(k, ef_search)) in plain mode; when
// ef_used >= passing_count (the walk would have to hold every passing row) the
// search is exact from the start.
#include "index/hnsw_search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "index/exact_search.h"
#include "index/topk.h"

namespace vesta::index {
namespace {

std::string FormatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// A scored node; key: smaller is closer.
struct Scored {
  float key;
  int32_t id;
};

// Strict "a is closer than b", ties by smaller id.
inline bool Closer(const Scored& a, const Scored& b) {
  return a.key < b.key || (a.key == b.key && a.id < b.id);
}

// Heap comparators: the candidate queue keeps the closest on top, the result
// set keeps the worst on top.
struct FartherFirst {  // min-heap of closeness
  bool operator()(const Scored& a, const Scored& b) const { return Closer(b, a); }
};
struct CloserFirst {  // max-heap of closeness: worst on top
  bool operator()(const Scored& a, const Scored& b) const { return Closer(a, b); }
};

// Generation-stamped visited marks, one array per thread, grown to the
// largest graph searched and never cleared per query (only when the 16-bit
// generation wraps, once every 65,535 queries).
class VisitedTable {
 public:
  void Begin(size_t n) {
    if (marks_.size() < n) marks_.resize(n, 0);
    if (++generation_ == 0) {
      std::fill(marks_.begin(), marks_.end(), 0);
      generation_ = 1;
    }
  }
  bool Visited(size_t i) const { return marks_[i] == generation_; }
  void Mark(size_t i) { marks_[i] = generation_; }

 private:
  std::vector<uint16_t> marks_;
  uint16_t generation_ = 0;
};

thread_local VisitedTable tls_visited;

// What a walk ended with.
enum class WalkEnd { kDone, kBudget, kNoPassingSeed, kLocalProbe, kCorrupt };

class Walker {
 public:
  Walker(const HnswGraphView& graph, const float* base, size_t n, size_t d, Metric metric,
         const DistanceKernels& kernels, const float* query, const HnswSearchParams& params, uint64_t passing_count)
      : g_(graph),
        base_(base),
        n_(n),
        d_(d),
        by_ids_(kernels.ByIds(metric)),
        negate_(!SmallerIsCloser(metric)),
        query_(query),
        passing_(params.passing),
        budget_(params.exact_fallback_factor * static_cast<double>(passing_count)),
        has_budget_(params.exact_fallback_factor > 0) {
    probe_min_fraction_ = params.passing != nullptr ? params.local_probe_min_fraction : 0.0;
    degree0_ = static_cast<size_t>(g_.cum_nneighbor_per_level[1] - g_.cum_nneighbor_per_level[0]);
    size_t max_degree = degree0_;
    for (int l = 1; l <= g_.max_level; ++l) {
      max_degree = std::max(
          max_degree, static_cast<size_t>(g_.cum_nneighbor_per_level[l + 1] - g_.cum_nneighbor_per_level[l]));
    }
    batch_ids_.resize(max_degree);
    batch_keys_.resize(max_degree);
    failing_.resize(degree0_);
    visited_ = &tls_visited;
    visited_->Begin(n_);
  }

  size_t distance_computations() const { return computations_; }
  size_t visited_count() const { return visited_count_; }
  int32_t corrupt_node() const { return corrupt_node_; }
  int32_t corrupt_neighbor() const { return corrupt_neighbor_; }

  // Greedy descent through levels max_level..1 (ignores the filter). Writes
  // the level-1 nearest node (the graph's entry if max_level == 0).
  WalkEnd Descend(Scored* nearest) {
    Scored cur{ScoreOne(g_.entry_point), g_.entry_point};
    for (int level = g_.max_level; level >= 1; --level) {
      if (!Greedy(level, &cur)) return WalkEnd::kCorrupt;
      if (OverBudget()) return WalkEnd::kBudget;
    }
    *nearest = cur;
    return WalkEnd::kDone;
  }

  // Greedy steps on `level` from *cur to a local minimum (filter ignored).
  // Returns false for a corrupt neighbour id.
  bool Greedy(int level, Scored* cur) {
    for (;;) {
      size_t begin = 0, end = 0;
      g_.NeighborRange(static_cast<size_t>(cur->id), level, &begin, &end);
      size_t m = 0;
      for (size_t j = begin; j < end; ++j) {
        const int32_t v = g_.neighbors[j];
        if (v < 0) break;
        if (!InRange(cur->id, v)) return false;
        batch_ids_[m++] = v;
      }
      ScoreBatch(m);
      Scored best = *cur;
      for (size_t i = 0; i < m; ++i) {
        const Scored s{batch_keys_[i], static_cast<int32_t>(batch_ids_[i])};
        if (s.key < best.key) best = s;
      }
      if (best.id == cur->id) return true;
      *cur = best;
    }
  }

  // Level-0 best-first search from `entry`; results (passing nodes only, up
  // to ef) are left in *results, unsorted.
  WalkEnd SearchLevel0(Scored entry, size_t ef, bool two_hop, std::vector<Scored>* results) {
    results->clear();
    results->reserve(ef + 1);
    std::vector<Scored> candidates;
    candidates.reserve(2 * ef + degree0_);
    const bool acorn = two_hop && passing_ != nullptr;

    MarkVisited(entry.id);
    if (!acorn || Passes(entry.id)) {
      candidates.push_back(entry);
      if (Passes(entry.id)) results->push_back(entry);
    } else {
      // The entry fails: seed with the passing nodes of its 1- and 2-hop
      // neighbourhood.
      size_t m = 0;
      if (!CollectTwoHop(entry.id, &m)) return WalkEnd::kCorrupt;
      if (m == 0) return WalkEnd::kNoPassingSeed;
      ScoreBatch(m);
      for (size_t i = 0; i < m; ++i) {
        const Scored s{batch_keys_[i], static_cast<int32_t>(batch_ids_[i])};
        Offer(s, true, ef, &candidates, results);
      }
      if (OverBudget()) return WalkEnd::kBudget;
    }

    while (!candidates.empty()) {
      std::pop_heap(candidates.begin(), candidates.end(), FartherFirst());
      const Scored c = candidates.back();
      candidates.pop_back();
      if (results->size() >= ef && Closer(results->front(), c)) break;

      size_t m = 0;
      const bool ok = acorn ? CollectTwoHop(c.id, &m) : CollectOneHop(c.id, &m);
      if (!ok) return WalkEnd::kCorrupt;
      if (m == 0) continue;
      ScoreBatch(m);
      for (size_t i = 0; i < m; ++i) {
        const int32_t v = static_cast<int32_t>(batch_ids_[i]);
        const bool passes = acorn || Passes(v);
        probe_passing_ += passes ? 1 : 0;
        Offer(Scored{batch_keys_[i], v}, passes, ef, &candidates, results);
      }
      probe_scored_ += m;
      if (OverBudget()) return WalkEnd::kBudget;
      if (ProbeFails()) return WalkEnd::kLocalProbe;
    }
    return WalkEnd::kDone;
  }

 private:
  bool Passes(int32_t id) const { return passing_ == nullptr || passing_->contains(static_cast<uint32_t>(id)); }
  // Lucene's rule counts visited nodes: scored ones and, in ACORN's two-hop
  // expansion, failing ones whose filter bit was read (at 1% selectivity
  // those dominate: a walk that scores few vectors may read half the graph's
  // filter bits, measured 14 ms on 1M rows against 0.16 ms for the exact scan).
  bool OverBudget() const {
    return has_budget_ && static_cast<double>(computations_ + examined_failing_) > budget_;
  }

  // The local probe: once the level-0 walk has scored kProbeScored nodes,
  // it gives up while fewer than local_probe_min_fraction of them pass.
  bool ProbeFails() const {
    return probe_min_fraction_ > 0 && probe_scored_ >= kProbeScored &&
           static_cast<double>(probe_passing_) < probe_min_fraction_ * static_cast<double>(probe_scored_);
  }

  bool InRange(int32_t node, int32_t v) {
    if (static_cast<size_t>(v) < n_) return true;
    corrupt_node_ = node;
    corrupt_neighbor_ = v;
    return false;
  }

  void MarkVisited(int32_t id) {
    visited_->Mark(static_cast<size_t>(id));
    ++visited_count_;
  }

  float ScoreOne(int32_t id) {
    const int64_t one = id;
    float key = 0;
    by_ids_(query_, base_, d_, &one, 1, &key);
    ++computations_;
    return negate_ ? -key : key;
  }

  // batch_keys_[i] = key of batch_ids_[i], i < m.
  void ScoreBatch(size_t m) {
    if (m == 0) return;
    by_ids_(query_, base_, d_, batch_ids_.data(), m, batch_keys_.data());
    if (negate_) {
      for (size_t i = 0; i < m; ++i) batch_keys_[i] = -batch_keys_[i];
    }
    computations_ += m;
  }

  // The standard admission rule: a scored node enters the candidate queue if
  // fewer than ef results are held or it beats the worst; `passes` nodes also
  // enter the results (trimmed to ef).
  void Offer(const Scored& s, bool passes, size_t ef, std::vector<Scored>* candidates,
             std::vector<Scored>* results) {
    if (results->size() < ef || Closer(s, results->front())) {
      candidates->push_back(s);
      std::push_heap(candidates->begin(), candidates->end(), FartherFirst());
      if (passes) {
        results->push_back(s);
        std::push_heap(results->begin(), results->end(), CloserFirst());
        if (results->size() > ef) {
          std::pop_heap(results->begin(), results->end(), CloserFirst());
          results->pop_back();
        }
      }
    }
  }

  // Unvisited level-0 neighbours of `node` into batch_ids_[0..*m), marked.
  bool CollectOneHop(int32_t node, size_t* m) {
    size_t begin = 0, end = 0;
    g_.NeighborRange(static_cast<size_t>(node), 0, &begin, &end);
    size_t count = 0;
    for (size_t j = begin; j < end; ++j) {
      const int32_t v = g_.neighbors[j];
      if (v < 0) break;
      if (!InRange(node, v)) return false;
      if (visited_->Visited(static_cast<size_t>(v))) continue;
      MarkVisited(v);
      batch_ids_[count++] = v;
    }
    *m = count;
    return true;
  }

  // ACORN-1 expansion of `node`: its unvisited passing neighbours, then the
  // unvisited passing neighbours of its unvisited failing neighbours, up to
  // degree0_ in all, into batch_ids_[0..*m), marked.
  bool CollectTwoHop(int32_t node, size_t* m) {
    size_t begin = 0, end = 0;
    g_.NeighborRange(static_cast<size_t>(node), 0, &begin, &end);
    size_t count = 0;
    size_t n_failing = 0;
    for (size_t j = begin; j < end; ++j) {
      const int32_t v = g_.neighbors[j];
      if (v < 0) break;
      if (!InRange(node, v)) return false;
      if (visited_->Visited(static_cast<size_t>(v))) continue;
      if (Passes(v)) {
        MarkVisited(v);
        batch_ids_[count++] = v;
      } else {
        failing_[n_failing++] = v;
        ++examined_failing_;
      }
    }
    for (size_t f = 0; f < n_failing && count < degree0_; ++f) {
      const int32_t u = failing_[f];
      if (visited_->Visited(static_cast<size_t>(u))) continue;  // repeated in the list
      g_.NeighborRange(static_cast<size_t>(u), 0, &begin, &end);
      bool complete = true;
      for (size_t j = begin; j < end; ++j) {
        const int32_t w = g_.neighbors[j];
        if (w < 0) break;
        if (!InRange(u, w)) return false;
        if (visited_->Visited(static_cast<size_t>(w))) continue;
        if (!Passes(w)) {
          ++examined_failing_;
          continue;
        }
        if (count == degree0_) {
          complete = false;
          break;
        }
        MarkVisited(w);
        batch_ids_[count++] = w;
      }
      if (complete) MarkVisited(u);
    }
    *m = count;
    return true;
  }

  const HnswGraphView& g_;
  const float* base_;
  size_t n_;
  size_t d_;
  DistanceByIdsFn by_ids_;
  bool negate_;
  const float* query_;
  const Roaring* passing_;
  double budget_;
  bool has_budget_;
  size_t examined_failing_ = 0;  // failing nodes whose filter bit was read
  static constexpr size_t kProbeScored = 64;
  double probe_min_fraction_ = 0;
  size_t probe_scored_ = 0;   // level-0 nodes scored
  size_t probe_passing_ = 0;  // of which passing
  size_t degree0_ = 0;
  VisitedTable* visited_ = nullptr;
  std::vector<int64_t> batch_ids_;
  std::vector<float> batch_keys_;
  std::vector<int32_t> failing_;
  size_t computations_ = 0;
  size_t visited_count_ = 0;
  int32_t corrupt_node_ = -1;
  int32_t corrupt_neighbor_ = -1;
};

// Exact k_out best over the passing ids (all n rows when passing is null).
Status ExactOverPassing(const float* base, size_t n, size_t d, Metric metric, const DistanceKernels& kernels,
                        const float* query, const Roaring* passing, size_t k_out, float* distances,
                        int64_t* ids) {
  if (passing == nullptr) {
    ExactSearchOptions options;
    options.kernels = &kernels;
    return ExactSearch(metric, query, base, n, d, k_out, distances, ids, options);
  }
  constexpr uint32_t kBlock = 256;
  uint32_t block[kBlock];
  int64_t block_ids[kBlock];
  float block_dist[kBlock];
  const DistanceByIdsFn by_ids = kernels.ByIds(metric);
  TopK top(k_out, TopKOrderFor(metric));
  roaring_uint32_iterator_t it;
  roaring_init_iterator(&passing->roaring, &it);
  for (;;) {
    const uint32_t m = roaring_read_uint32_iterator(&it, block, kBlock);
    if (m == 0) break;
    for (uint32_t i = 0; i < m; ++i) block_ids[i] = block[i];
    by_ids(query, base, d, block_ids, m, block_dist);
    top.PushWithIds(block_dist, block_ids, m);
  }
  top.Finish(distances, ids);
  return Status::OK();
}

Status ValidateGraph(const HnswGraphView& graph, size_t n) {
  if (graph.size != n) {
    return Status::InvalidArgument("HNSW graph has " + std::to_string(graph.size) + " nodes but the base has " +
                                   std::to_string(n) + " rows");
  }
  if (n == 0) return Status::OK();
  if (graph.neighbors == nullptr || graph.offsets == nullptr || graph.levels == nullptr ||
      graph.cum_nneighbor_per_level == nullptr) {
    return Status::InvalidArgument("HNSW graph view has a null array (neighbors, offsets, levels or "
                                   "cum_nneighbor_per_level)");
  }
  if (graph.entry_point < 0 || static_cast<size_t>(graph.entry_point) >= n) {
    return Status::InvalidArgument("HNSW graph entry_point " + std::to_string(graph.entry_point) +
                                   " is outside [0, " + std::to_string(n) + ")");
  }
  if (graph.max_level < 0 || graph.max_level >= graph.levels[graph.entry_point]) {
    return Status::InvalidArgument("HNSW graph max_level " + std::to_string(graph.max_level) +
                                   " must be in [0, levels[entry_point] = " +
                                   std::to_string(graph.levels[graph.entry_point]) + ")");
  }
  if (graph.cum_levels < static_cast<size_t>(graph.max_level) + 2) {
    return Status::InvalidArgument("HNSW graph cum_levels " + std::to_string(graph.cum_levels) +
                                   " must be >= max_level + 2 = " + std::to_string(graph.max_level + 2));
  }
  for (int l = 0; l <= graph.max_level; ++l) {
    if (graph.cum_nneighbor_per_level[l + 1] < graph.cum_nneighbor_per_level[l]) {
      return Status::InvalidArgument("HNSW graph cum_nneighbor_per_level decreases at level " + std::to_string(l));
    }
  }
  return Status::OK();
}

}  // namespace

const char* HnswFallbackReasonName(HnswFallbackReason reason) {
  switch (reason) {
    case HnswFallbackReason::kNone:
      return "none";
    case HnswFallbackReason::kSmallPassingSet:
      return "small_passing_set";
    case HnswFallbackReason::kBudget:
      return "budget";
    case HnswFallbackReason::kNoPassingSeed:
      return "no_passing_seed";
    case HnswFallbackReason::kLocalProbe:
      return "local_probe";
    case HnswFallbackReason::kTooFewResults:
      return "too_few_results";
  }
  return "unknown";
}

Status HnswSearchParams::Validate() const {
  if (k == 0) return Status::InvalidArgument("HNSW search k must be >= 1 (got 0)");
  if (ef_search == 0) return Status::InvalidArgument("HNSW search ef_search must be >= 1 (got 0)");
  if (max_ef < k) {
    return Status::InvalidArgument("HNSW search max_ef must be >= k (got max_ef " + std::to_string(max_ef) +
                                   ", k " + std::to_string(k) + ")");
  }
  if (!std::isfinite(widen_exponent) || widen_exponent < 0 || widen_exponent > 2) {
    return Status::InvalidArgument("HNSW search widen_exponent must be in [0, 2] (got " +
                                   FormatDouble(widen_exponent) + ")");
  }
  if (!std::isfinite(exact_fallback_factor) || exact_fallback_factor < 0) {
    return Status::InvalidArgument(
        "HNSW search exact_fallback_factor must be finite and >= 0, 0 disabling the fallback (got " +
        FormatDouble(exact_fallback_factor) + ")");
  }
  if (!(local_probe_min_fraction >= 0 && local_probe_min_fraction <= 1)) {
    return Status::InvalidArgument("HNSW search local_probe_min_fraction must be in [0, 1] (got " +
                                   FormatDouble(local_probe_min_fraction) + ")");
  }
  if (passing != nullptr) {
    const uint64_t cardinality = passing->cardinality();
    if (passing_count != cardinality) {
      return Status::InvalidArgument("HNSW search passing_count " + std::to_string(passing_count) +
                                     " differs from passing->cardinality() " + std::to_string(cardinality));
    }
  }
  return Status::OK();
}

Status HnswSearch(const HnswGraphView& graph, const float* base, size_t n, size_t d, Metric metric,
                  const DistanceKernels& kernels, const float* query, const HnswSearchParams& params,
                  float* distances, int64_t* ids, size_t* found, HnswSearchStats* stats) {
  if (d == 0) return Status::InvalidArgument("HNSW search dimension d must be >= 1 (got 0)");
  if (query == nullptr || distances == nullptr || ids == nullptr || found == nullptr) {
    return Status::InvalidArgument("HNSW search query, distances, ids and found must not be null");
  }
  if (base == nullptr && n > 0) return Status::InvalidArgument("HNSW search base must not be null");
  if (kernels.l2_sqr_by_ids == nullptr || kernels.inner_product_by_ids == nullptr) {
    return Status::InvalidArgument("HNSW search kernels lack the by-ids (gather) functions");
  }
  VESTA_RETURN_IF_ERROR(params.Validate());
  VESTA_RETURN_IF_ERROR(ValidateGraph(graph, n));
  const Roaring* passing = params.passing;
  if (passing != nullptr && !passing->isEmpty() && passing->maximum() >= n) {
    return Status::InvalidArgument("HNSW search passing holds id " + std::to_string(passing->maximum()) +
                                   " outside the graph [0, " + std::to_string(n) + ")");
  }

  HnswSearchStats local_stats;
  HnswSearchStats& st = stats != nullptr ? *stats : local_stats;
  st = HnswSearchStats();
  *found = 0;

  const uint64_t passing_count = passing != nullptr ? params.passing_count : n;
  const size_t k_out = static_cast<size_t>(std::min<uint64_t>(params.k, passing_count));
  if (k_out == 0) return Status::OK();  // empty graph or nothing passes

  auto exact = [&](HnswFallbackReason reason) -> Status {
    st.exact_fallback = true;
    st.fallback_reason = reason;
    st.distance_computations += passing_count;
    VESTA_RETURN_IF_ERROR(ExactOverPassing(base, n, d, metric, kernels, query, passing, k_out, distances, ids));
    *found = k_out;
    return Status::OK();
  };

  const double selectivity = static_cast<double>(passing_count) / static_cast<double>(n);
  // Only the two-hop walk widens: its beam holds passing nodes only, so at
  // low selectivity a beam of ef_search covers a small part of the graph. The
  // plain walk's beam holds failing nodes too and keeps going until ef
  // passing results are held, which already widens its reach by ~1/s.
  const double exponent = params.two_hop ? params.widen_exponent : 0.0;
  const double widened = static_cast<double>(params.ef_search) / std::pow(selectivity, exponent);
  const size_t ef = static_cast<size_t>(
      std::min<double>(static_cast<double>(params.max_ef), std::max<double>(static_cast<double>(params.k), widened)));
  st.ef_used = ef;

  // A walk that must hold ef >= passing_count results has to reach every
  // passing row: the exact scan reads each once, and is exact.
  if (passing_count <= ef) return exact(HnswFallbackReason::kSmallPassingSet);

  Walker walker(graph, base, n, d, metric, kernels, query, params, passing_count);
  auto corrupt = [&]() {
    return Status::Internal("HNSW graph node " + std::to_string(walker.corrupt_node()) + " lists neighbour " +
                            std::to_string(walker.corrupt_neighbor()) + " outside [0, " + std::to_string(n) + ")");
  };
  auto on_end = [&](WalkEnd end) -> HnswFallbackReason {
    switch (end) {
      case WalkEnd::kBudget:
        return HnswFallbackReason::kBudget;
      case WalkEnd::kNoPassingSeed:
        return HnswFallbackReason::kNoPassingSeed;
      case WalkEnd::kLocalProbe:
        return HnswFallbackReason::kLocalProbe;
      default:
        return HnswFallbackReason::kNone;
    }
  };

  Scored nearest{0, -1};
  WalkEnd end = walker.Descend(&nearest);
  std::vector<Scored> results;
  if (end == WalkEnd::kDone) end = walker.SearchLevel0(nearest, ef, params.two_hop, &results);
  st.distance_computations = walker.distance_computations();
  st.visited = walker.visited_count();
  if (end == WalkEnd::kCorrupt) return corrupt();
  if (end != WalkEnd::kDone) return exact(on_end(end));
  // The stop rule needs ef results, so fewer means the walk ran out of
  // candidates: the part of the (predicate) graph reachable from the entry
  // holds fewer than ef of the passing_count > ef passing rows. Whatever it
  // found may be a far-away component, so answer exactly.
  if (results.size() < ef) return exact(HnswFallbackReason::kTooFewResults);

  std::partial_sort(results.begin(), results.begin() + static_cast<std::ptrdiff_t>(k_out), results.end(), Closer);
  const bool negate = !SmallerIsCloser(metric);
  for (size_t i = 0; i < k_out; ++i) {
    distances[i] = negate ? -results[i].key : results[i].key;
    ids[i] = results[i].id;
  }
  *found = k_out;
  return Status::OK();
}

}  // namespace vesta::index
