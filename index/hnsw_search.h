// Vesta's own search over an HNSW graph that FAISS built: the graph's arrays
// (faiss::HNSW's public neighbors/offsets/levels) are walked with Vesta's SIMD
// kernels over Vesta's vector array, so that a filter steers the walk instead
// of only pruning its results.
//
// Algorithm: HNSW (Malkov & Yashunin, TPAMI 2018): greedy descent through the
// upper levels, then a best-first beam search of width ef on level 0. With a
// filter (a bitmap of passing ids), level 0 follows ACORN-1 (Patel et al.,
// "ACORN: Performant and Predicate-Agnostic Search Over Vector Embeddings and
// Structured Data", SIGMOD 2024): the beam holds only passing nodes, and where
// a neighbour fails the filter its own neighbours are expanded (two hops) so
// that the predicate subgraph stays connected at low selectivity. There ef
// widens as selectivity falls. Either walk continues until it holds ef
// passing results, and stops to run an exact search over the passing ids
// once it has computed more distances than there are passing rows (Lucene's
// rule: past that point the exact scan is cheaper and exact). The upper-level descent ignores the
// filter (it only navigates).
#pragma once

#include <roaring/roaring.hh>

#include <cstddef>
#include <cstdint>

#include "common/status.h"
#include "index/distance.h"

namespace vesta::index {

// A read-only view of an HNSW graph in FAISS 1.7.3's layout (faiss::HNSW).
// Node ids are 0..size-1 and equal the rows of the vector array searched.
// Borrowed: the arrays must outlive every search using the view.
struct HnswGraphView {
  // Flat neighbour lists, -1 padded: node i's list for level l is
  // neighbors[offsets[i] + cum_nneighbor_per_level[l],
  //           offsets[i] + cum_nneighbor_per_level[l + 1]).
  const int32_t* neighbors = nullptr;
  const size_t* offsets = nullptr;  // size + 1 entries
  // levels[i] = (highest level of node i) + 1, as in faiss::HNSW::levels.
  const int32_t* levels = nullptr;
  const int32_t* cum_nneighbor_per_level = nullptr;
  size_t cum_levels = 0;  // entries in cum_nneighbor_per_level
  int32_t entry_point = -1;
  int32_t max_level = -1;
  size_t size = 0;  // nodes

  // The neighbours of `node` on `level`: [*begin, *end) into `neighbors`.
  // REQUIRES: node < size, level < levels[node].
  void NeighborRange(size_t node, int level, size_t* begin, size_t* end) const {
    const size_t o = offsets[node];
    *begin = o + static_cast<size_t>(cum_nneighbor_per_level[level]);
    *end = o + static_cast<size_t>(cum_nneighbor_per_level[level + 1]);
  }
};

struct HnswSearchParams {
  size_t k = 10;
  // Beam width on level 0 before widening; raised to k if smaller.
  size_t ef_search = 64;
  // The passing ids (filter AND not deleted), a subset of [0, graph.size).
  // nullptr: every node passes.
  const Roaring* passing = nullptr;
  // passing->cardinality(), computed once by the caller (ignored when
  // passing is null).
  uint64_t passing_count = 0;
  // Expand two hops through neighbours that fail the filter (ACORN-1). With
  // false, failing nodes are traversed like passing ones but never become
  // results (the "plain graph search with the filter checked at the result
  // heap" the planner uses when nearly every row passes).
  bool two_hop = true;
  // With two_hop, widen ef to ef_search / selectivity^widen_exponent,
  // capped at max_ef (selectivity = passing_count / graph.size). The plain
  // walk does not widen: it already continues until it holds ef passing
  // results.
  double widen_exponent = 0.5;
  size_t max_ef = 4096;
  // Stop the walk and search exactly over `passing` once the walk has
  // visited more than exact_fallback_factor * passing_count nodes: vectors
  // scored (upper-level descent included) plus failing nodes whose filter
  // bit ACORN's two-hop expansion read. 0 disables this budget rule only (for
  // tests of the walk itself); the other exact paths (passing_count <=
  // ef_used, no passing seed, too few results) stay on: see
  // HnswFallbackReason.
  double exact_fallback_factor = 1.0;
  // Local probe (0 disables): once the level-0 walk has scored 64 nodes,
  // it gives way to the exact scan whenever fewer than this fraction of the
  // nodes it scored pass. A filter correlated with the query passes most of
  // the region the walk explores; an uncorrelated 1% filter ~1 in 100, and
  // then the walk would touch ~100 nodes per passing result. The planner sets
  // it when it tries a short plain walk on a passing set it would otherwise
  // scan. (In ACORN mode every scored node passes: no effect.)
  double local_probe_min_fraction = 0.0;

  // Returns InvalidArgument naming the field and its accepted range:
  // k >= 1; ef_search >= 1; max_ef >= k; widen_exponent in [0, 2];
  // exact_fallback_factor finite and >= 0; local_probe_min_fraction in
  // [0, 1]; with passing set, passing_count
  // == passing->cardinality(). OK otherwise.
  Status Validate() const;
};

// Why a search gave its results by exact search over the passing ids instead
// of by the graph walk.
enum class HnswFallbackReason {
  kNone,               // the walk produced the results
  kSmallPassingSet,    // passing_count <= ef_used (>= k): the walk would
                       // have to hold every passing row
  kBudget,             // Lucene's rule: distance computations exceeded
                       // exact_fallback_factor * passing_count
  kNoPassingSeed,      // ACORN mode: the level-0 entry and its 1- and 2-hop
                       // neighbourhood hold no passing node
  kTooFewResults,      // the walk ran out of candidates holding fewer than
                       // ef_used results (the graph reachable from the
                       // entry, through passing nodes and two-hop bridges,
                       // is disconnected from the rest of the passing rows)
  kLocalProbe,         // the nodes the level-0 walk scored pass less than
                       // local_probe_min_fraction
};

// "none", "small_passing_set", "budget", "no_passing_seed", "too_few_results",
// "local_probe".
const char* HnswFallbackReasonName(HnswFallbackReason reason);

struct HnswSearchStats {
  // Vectors compared with the query: upper-level descent, level-0 walk and,
  // after a fallback, the exact search (passing_count more).
  size_t distance_computations = 0;
  size_t visited = 0;                // nodes marked visited on level 0
  size_t ef_used = 0;                // beam width after widening
  bool exact_fallback = false;       // the results come from an exact search
  HnswFallbackReason fallback_reason = HnswFallbackReason::kNone;
};

// Searches `graph` for the k nearest passing nodes to `query`.
// base: graph.size * d floats, row-major (cosine: normalised rows and query,
// searched as kInnerProduct). Results: up to k (distance, id) pairs written
// to distances[0..*found) and ids[0..*found), sorted best first (smallest L2,
// largest inner product), ties by smaller id. Guarantees: every id passes;
// *found == min(k, passing_count) (the walk falls back to an exact search
// over `passing` when it holds fewer than ef_used, e.g. when the predicate
// subgraph is disconnected; stats->fallback_reason says why). Unfiltered
// (passing null), passing_count is taken as n for ef widening and the budget.
// distances/ids: caller-owned arrays of k entries; entries past *found are
// not written.
// Not an error: an empty graph (n == 0) or an empty passing set gives
// *found == 0.
// Errors: InvalidArgument for k == 0, d == 0, null pointers, a graph whose
// size differs from the base row count given, an inconsistent graph header
// (entry_point, max_level, cum_levels), a passing id >= n, or invalid params
// (HnswSearchParams::Validate). Internal if the graph lists a neighbour id
// outside [0, n) (a corrupt graph). On error the outputs are unspecified.
// Cost: per query, no allocation proportional to n (a thread-local visited
// array of n uint16 is grown once per thread and reused); the exact fallback
// reads passing_count vectors.
// Thread-safety: thread-safe; concurrent searches share nothing but the
// read-only inputs.
Status HnswSearch(const HnswGraphView& graph, const float* base, size_t n, size_t d, Metric metric,
                  const DistanceKernels& kernels, const float* query, const HnswSearchParams& params,
                  float* distances, int64_t* ids, size_t* found, HnswSearchStats* stats = nullptr);

}  // namespace vesta::index
