// Lineage: which versioned things were made from or read which others, as
// edges between nodes, in the store's SQLite file (table gov_lineage).
//
//   auto lineage = Lineage::Open(store->path()).value();
//   // index main.imaging.radiomics_idx version 5 was synced from table version 3
//   lineage->Record({.from = {"table", "main.imaging.radiomics", 3},
//                    .to = {"index", "main.imaging.radiomics_idx", 5},
//                    .relation = "synced_from", .principal = "alice"});
//   // a query result read the index at version 5
//   lineage->Record({.from = {"index", "main.imaging.radiomics_idx", 5},
//                    .to = {"query", "q-7f3a", -1}, .relation = "read_by"});
//   lineage->Upstream({"query", "q-7f3a", -1});   // both edges
//
// Direction. An edge always points the way data flows: `from` is the source
// (upstream), `to` what was made from it or read it (downstream), whatever
// the relation's wording: "synced_from" (to is an index synced from the
// table from), "read_by" (from was read by the query or job to),
// "derived_from" (to was derived from from).
//
// Matching. A node matches an edge endpoint when kind is equal, name is
// equal ignoring ASCII case (catalog names are case-insensitive), and the
// versions are compatible: a query node with version -1 matches every
// version of that name, and an endpoint recorded with version -1 ("no
// version") matches every version asked for.
//
// Thread-safety: Lineage is thread-safe (one connection behind a mutex).
// Several processes may record concurrently; SQLite serialises the writes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace vesta::governance {

struct LineageNode {
  std::string kind;      // "table", "index", "query", "job"
  std::string name;      // full name ("main.clinical.patients"), or a query / job id
  int64_t version = -1;  // -1: none (in a query: every version)

  // "table main.clinical.patients@3", or without "@..." for version -1.
  std::string ToString() const;
};

struct LineageEdge {
  LineageNode from;          // upstream: the source
  LineageNode to;            // downstream: made from, or read, `from`
  std::string relation;      // "synced_from", "read_by", "derived_from"
  Timestamp time;            // set by Record when 0 (unset): now
  std::string principal;     // who caused it
  std::string details_json;  // a JSON object ("" means {}); returned canonical

  // Set on edges returned by Upstream / Downstream; ignored by Record.
  int64_t edge_id = 0;  // increasing in recording order
  int depth = 0;        // 1 for an edge touching the queried node, 2 for the next hop, ...
};

class Lineage {
 public:
  // Opens the lineage of the store at `store_path` (a file made by
  // Store::Open), creating its table if needed. Errors: NotFound if there is
  // no file; FailedPrecondition if the file is not a Vesta store.
  static Result<std::unique_ptr<Lineage>> Open(const std::string& store_path);
  ~Lineage();
  Lineage(const Lineage&) = delete;
  Lineage& operator=(const Lineage&) = delete;

  // Records one edge. The same edge may be recorded more than once (each is
  // kept, with its own time and principal).
  // Errors: InvalidArgument for an empty kind, name or relation, a version
  // below -1, or details_json that is not a JSON object.
  Status Record(const LineageEdge& edge);

  // The edges upstream of `node`: those whose `to` matches it, then those
  // whose `to` matches their `from`, and so on, breadth-first, up to
  // `max_depth` hops (>= 1). Each edge appears once, at the depth it was
  // first reached; within a depth in recording order. Cycles end. An empty
  // vector if nothing is upstream (also for an unknown node).
  // Errors: InvalidArgument if max_depth < 1; ResourceExhausted if more than
  // `max_edges` edges are reached (narrow the node's version or the depth).
  Result<std::vector<LineageEdge>> Upstream(const LineageNode& node, int max_depth = 8,
                                            size_t max_edges = 100000);
  // The edges downstream of `node` (whose `from` matches it, transitively);
  // otherwise as Upstream.
  Result<std::vector<LineageEdge>> Downstream(const LineageNode& node, int max_depth = 8,
                                              size_t max_edges = 100000);

  struct Impl;  // internal

 private:
  Lineage() = default;
  Result<std::vector<LineageEdge>> Walk(const LineageNode& node, bool upstream, int max_depth,
                                        size_t max_edges);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::governance
