// A vector index: the ANN structure over one vector column, Vesta's id <->
// primary-key map, the filterable columns (index/attribute_store.h) and the
// per-query planner that chooses exact, filter-aware graph or plain graph
// search (index/README.md, "Filtered search").
//
// The Delta Sync model: an index is built from a table's rows at a table
// version and moved forward by applying that table's change data feed
// (ingest/index_sync.h does the reading); it records the version it
// reflects. A direct-access index (no source table) takes upserts and deletes
// by primary key instead, and counts its own versions.
//
// Snapshots: every change builds a new immutable IndexSnapshot and swaps it
// in. A search pins the snapshot current when it starts (a shared_ptr) and
// never sees a half-applied change; writers never block readers.
//
// Layout of a snapshot: internal ids are dense, 0..size()-1. Vectors live in
// one append-only array shared between snapshots (appending never moves the
// rows an older snapshot reads). Ids [0, main_size()) are covered by the
// FAISS-built structure (HNSW graph, IVF lists); ids appended since (the
// delta) are searched exactly until the delta grows past
// IndexOptions::max_delta_fraction and is merged into the structure. An
// update is a tombstone of the old id plus a new id; Compact() renumbers.
//
//   IndexSpec spec;
//   spec.kind = IndexKind::kHnsw; spec.metric = Metric::kL2; spec.dimension = 128;
//   spec.primary_key = {"id", DataType::Bigint()};
//   VESTA_ASSIGN_OR_RETURN(auto index, VectorIndex::Create(spec));
//   VESTA_RETURN_IF_ERROR(index->Build(rows, /*version=*/3));
//   VESTA_ASSIGN_OR_RETURN(SearchResult r, index->Search(query, request));
#pragma once

#include <roaring/roaring.hh>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "filter/bind.h"
#include "filter/eval.h"
#include "index/attribute_store.h"
#include "index/distance.h"

namespace vesta::index {

enum class IndexKind {
  kFlat,     // exact search only; no structure
  kHnsw,     // FAISS IndexHNSWFlat's graph, searched by Vesta (index/hnsw_search.h)
  kIvfFlat,  // FAISS IndexIVFFlat
  kIvfPq,    // FAISS IndexIVFPQ, results re-ranked with the exact vectors
};
std::string_view IndexKindName(IndexKind kind);  // "FLAT", "HNSW", "IVF_FLAT", "IVF_PQ"
// Parses a kind name, ignoring case. Errors: InvalidArgument naming the
// accepted names.
Result<IndexKind> ParseIndexKind(std::string_view name);
// Parses "L2", "INNER_PRODUCT" (or "IP", "DOT_PRODUCT") and "COSINE",
// ignoring case. Errors: InvalidArgument naming the accepted names.
Result<Metric> ParseMetric(std::string_view name);

// HNSW build parameters (Malkov & Yashunin 2018; FAISS's names).
struct HnswParams {
  // Neighbours per node on levels >= 1 (2*m on level 0). Memory: ~8*m bytes
  // per vector; build time and search cost grow ~linearly with m. [4, 128].
  int m = 16;
  // Beam width while inserting. Build time grows ~linearly; graph quality
  // saturates around 100-200. [m, 4096].
  int ef_construction = 100;
};

// IVF build parameters (Jégou et al., TPAMI 2011; FAISS's names).
struct IvfParams {
  // Inverted lists (k-means centroids). 0: 4 * sqrt(rows) at build, clamped
  // to [1, rows / 39] so that k-means has 39 training points per centroid.
  int nlist = 0;
  // IVF_PQ only: sub-quantizers; must divide the dimension. Each vector is
  // stored as pq_m codes of pq_nbits bits. 0: the largest divisor of d that
  // is <= d / 4 and <= 64.
  int pq_m = 0;
  int pq_nbits = 8;  // [4, 8]
  // Rows sampled (seeded) to train the quantizers; 0: all rows up to 256 per
  // centroid.
  size_t max_train_rows = 0;
  // IVF_PQ only: candidates fetched per result before exact re-ranking.
  int refine_factor = 4;  // [1, 64]
};

// Defaults for per-query search parameters (a request may override them).
struct SearchParams {
  // HNSW beam width: recall and cost grow with it. [1, 4096]. Default 128:
  // recall@10 >= 0.95 unfiltered on all three benchmark sets (at 64: 0.85 on
  // SIFT 5k and 0.87 on the 1M clustered set; bench/results/filtered.md);
  // similar-case retrieval favours recall over a tenth of a millisecond.
  int ef_search = 128;
  // IVF lists probed: recall and cost grow with it. [1, nlist].
  int nprobe = 16;
};

// What an index is over. Build-relevant fields are fixed at creation: a
// persisted index whose spec differs is rebuilt (Fingerprint()).
struct IndexSpec {
  IndexKind kind = IndexKind::kHnsw;
  Metric metric = Metric::kL2;
  uint32_t dimension = 0;  // [1, 4096]
  // The primary key of the rows (BIGINT or STRING), named as in the source
  // table.
  Column primary_key{"id", DataType::Bigint(), false, ""};
  // The filterable columns (Mosaic's columns_to_sync minus the key and
  // vector): AttributeSchema() of the source table, or any scalar schema for
  // a direct-access index.
  Schema attributes;
  HnswParams hnsw;
  IvfParams ivf;
  SearchParams search;
  // What the rows come from, free-form (ingest/index_sync.h writes the
  // source table's name, id and creation time and the vector column). Part
  // of the fingerprint, hence stored under the index file's checksum: a file
  // built from another table or column is never reused. Empty for a
  // direct-access index.
  std::string source;

  // OK, or InvalidArgument naming the field and its accepted range.
  Status Validate() const;
  // A canonical string of every build-relevant field (kind, metric,
  // dimension, key, attribute columns and types, hnsw, ivf, source). Equal strings
  // mean a persisted index can be reused.
  std::string Fingerprint() const;
};

// Tuning of snapshot maintenance and of the planner.
struct IndexOptions {
  // Merge the delta into the structure once it exceeds this fraction of the
  // rows (and at least min_delta_rows rows).
  double max_delta_fraction = 0.05;
  size_t min_delta_rows = 2048;
  // Compact (renumber and rebuild) once tombstones exceed this fraction of
  // size(). 1.0 disables automatic compaction.
  double max_deleted_fraction = 0.25;
  // Planner: search exactly when the passing rows' vectors take at most this
  // many bytes (passing * d * 4), unless the plain graph walk is expected to
  // touch far fewer rows, or a short speculative plain walk succeeds (a
  // filter that keeps the query's neighbourhood). Measured on this machine
  // (1M x 128, bench/results/filtered.md, "Planner threshold"): under an
  // uncorrelated filter the exact scan beat the two-hop walk up to 50k
  // passing rows (24 MiB: 1.5 ms against 7 ms) and lost from 70k (2.4 ms
  // against 2.3 ms); correlated filters are taken by the speculative walk
  // (index/README.md, "Filtered search").
  size_t exact_threshold_bytes = 24u << 20;
  // Planner: from this selectivity on the graph is searched plainly (every
  // neighbour scored, failing nodes traversed but never results, until ef
  // passing results are held) instead of with ACORN-1's two-hop expansion.
  // Measured on 1M x 128 (M 16) at 3%, 5% and 10%: the plain walk reached
  // recall@10 >= 0.95 at lower latency than the two-hop walk, whose expansion
  // reads ~30 neighbour lists per step (index/README.md, "Filtered search").
  // Below it a node has under 2M * 0.05 = 1.6 passing neighbours on average
  // and the predicate subgraph falls apart without the second hop.
  double plain_graph_selectivity = 0.05;
  // Bytes of passing bitmaps each snapshot may keep for filters that
  // repeat (Lucene's LRUQueryCache: cached on a filter's second use, least
  // recently used evicted; index/internal/filter_cache.h). A 50% filter on
  // 1M rows is ~128 KiB and takes ~0.25 ms to evaluate. 0 disables.
  size_t filter_cache_bytes = 64u << 20;
  // Seed for sampling training rows and for HNSW's level assignment.
  uint64_t seed = 1234;
  // Threads FAISS may use for building (OpenMP, the calling thread's
  // setting; searches always run FAISS on one thread). 0: OpenMP's default
  // (all cores). Default 1: on a 2-core machine that also serves queries, a
  // multi-threaded build oversubscribes the cores and OpenMP's spin-waiting
  // then makes it 10-30x slower (measured with two test processes); bulk
  // builds with nothing else running (benchmarks) should pass 0.
  int build_threads = 1;

  Status Validate() const;
};

// Rows to add or replace: keys[i], vectors[i * d .. (i + 1) * d) and
// attributes[i] (one value per spec.attributes column) describe row i.
struct RowBatch {
  std::vector<Value> keys;
  std::vector<float> vectors;  // keys.size() * d, row-major
  std::vector<Row> attributes;
  size_t size() const { return keys.size(); }
  void Reserve(size_t n, size_t d);
  void Add(Value key, const float* vector, size_t d, Row attributes);
};

// How a query was answered.
enum class SearchPlan {
  kExact,          // exact scan over the passing ids (small passing set or FLAT)
  kFilteredGraph,  // ACORN-1 walk over the HNSW graph
  kGraph,          // plain HNSW walk, filter checked at the result heap
  kIvf,            // IVF probe (nprobe widened by 1/selectivity) with the filter
};
std::string_view SearchPlanName(SearchPlan plan);  // "exact", "filtered_graph", "graph", "ivf"

struct SearchRequest {
  size_t k = 10;  // [1, 10000]
  // Filter bound against spec.attributes (filter/bind.h); nullptr: none.
  // Borrowed for the call.
  const filter::BoundExpr* filter = nullptr;
  filter::EvalContext context;  // current_user() / is_member() for the filter
  std::optional<int> ef_search;  // overrides spec.search.ef_search
  std::optional<int> nprobe;     // overrides spec.search.nprobe
  // Forces a plan (benchmarks, tests). kIvf is only valid for IVF kinds,
  // the graph plans only for HNSW.
  std::optional<SearchPlan> force_plan;
};

struct SearchResult {
  // Best first. L2: squared Euclidean distance; INNER_PRODUCT: x.y; COSINE:
  // cosine similarity. Ties by smaller internal id.
  std::vector<float> scores;
  std::vector<uint32_t> ids;  // internal ids in the pinned snapshot
  std::vector<Value> keys;    // primary keys, aligned with ids
  int64_t version = 0;        // the snapshot's version
  SearchPlan plan = SearchPlan::kExact;
  uint64_t passing = 0;       // live rows passing the filter
  double selectivity = 1.0;   // passing / live rows
  size_t distance_computations = 0;
  // The passing set came from the snapshot's filter cache (the filter, for
  // this caller, was evaluated before in this snapshot).
  bool filter_cached = false;
};

class IndexSnapshot;

// An index: spec, current snapshot, and the serialised writer path.
// Thread-safety: thread-safe. Search and snapshot() may run concurrently with
// each other and with one writer (Build, Apply, Upsert, Delete, Compact,
// Save); writers are serialised by an internal mutex.
class VectorIndex {
 public:
  // Returns an empty index (version -1: reflects nothing yet).
  // Errors: InvalidArgument from spec.Validate() or options.Validate().
  static Result<std::unique_ptr<VectorIndex>> Create(IndexSpec spec, IndexOptions options = {});

  const IndexSpec& spec() const { return spec_; }
  const IndexOptions& options() const { return options_; }

  // The current snapshot; holding it pins its memory.
  std::shared_ptr<const IndexSnapshot> snapshot() const;

  // Replaces the content with `rows` (keys unique) and sets the version.
  // Trains and builds the structure (FAISS; HNSW ~3,000 rows/s per core at
  // 128-d, m 16). Errors: InvalidArgument naming the row and field (wrong
  // vector length, non-finite component, zero vector under COSINE, key of
  // the wrong type or NULL, duplicate key, attributes not fitting the
  // schema); the index is then unchanged.
  Status Build(const RowBatch& rows, int64_t version);

  // Applies one change set and sets the version (sync from a change feed):
  // `deletes` first, then `upserts` (a key present is replaced). Deleting an
  // absent key is not an error. Errors: as Build; FailedPrecondition if
  // version < the current version. Nothing is applied on error.
  Status Apply(const RowBatch& upserts, const std::vector<Value>& deletes, int64_t version);

  // Direct access: Apply at version + 1.
  Status Upsert(const RowBatch& rows);
  Status Delete(const std::vector<Value>& keys);

  // Rebuilds from the live rows with dense ids (drops tombstones).
  Status Compact();

  // Searches the current snapshot (IndexSnapshot::Search).
  Result<SearchResult> Search(const float* query, size_t d, const SearchRequest& request) const;

  // Writes the current snapshot to `path` atomically (temporary file,
  // fsync, rename): spec fingerprint, version, vectors, keys, attributes,
  // tombstones, structure and a CRC-32 of the whole. Errors: Internal naming
  // the path and the OS error; a failed save leaves any previous file.
  Status Save(const std::string& path) const;

  // Loads an index saved by Save. Errors (the caller rebuilds; the file is
  // never served): NotFound if `path` does not exist; FailedPrecondition for
  // a truncated or corrupt file ("checksum mismatch"), another format
  // version, or a file written for a different spec ("index file was built
  // for spec ... but ... is expected"); Internal if it cannot be read. Each
  // message names the path and the reason.
  static Result<std::unique_ptr<VectorIndex>> Load(const std::string& path, IndexSpec spec,
                                                   IndexOptions options = {});

 private:
  VectorIndex(IndexSpec spec, IndexOptions options);
  void Publish(std::shared_ptr<const IndexSnapshot> next);

  IndexSpec spec_;
  IndexOptions options_;
  mutable std::mutex snapshot_mutex_;  // guards current_ (pointer copy only)
  std::shared_ptr<const IndexSnapshot> current_;
  std::mutex writer_mutex_;  // serialises writers
};

struct SnapshotData;  // index/internal/snapshot_data.h

// One immutable state of an index. Thread-safety: immutable; every method is
// safe to call concurrently.
class IndexSnapshot {
 public:
  explicit IndexSnapshot(std::shared_ptr<const SnapshotData> data);
  ~IndexSnapshot();

  const IndexSpec& spec() const;
  int64_t version() const;
  uint32_t size() const;        // ids ever assigned, tombstoned included
  uint32_t live_count() const;  // rows searchable
  uint32_t main_size() const;   // ids covered by the structure
  const AttributeStore& attributes() const;
  const Roaring& deleted() const;
  // The vector of `id` (normalised under COSINE). REQUIRES: id < size().
  const float* vector(uint32_t id) const;
  // The primary key of `id`. REQUIRES: id < size().
  const Value& key(uint32_t id) const;
  // The live id of `key`, if any.
  std::optional<uint32_t> Find(const Value& key) const;
  // Approximate heap memory in bytes (vectors, structure, attributes, keys).
  size_t MemoryUsage() const;

  // k nearest live rows passing request.filter. query: d floats (d must be
  // spec().dimension). Guarantees: no row outside the filter or deleted;
  // min(k, passing) results (IVF/HNSW plans fall back to exact search when
  // they find fewer); sorted best first, ties by smaller id.
  // Errors: InvalidArgument for a wrong d, non-finite query, zero query under
  // COSINE, k out of range, ef_search/nprobe out of range, a forced plan the
  // kind cannot run, or a filter bound against another schema.
  Result<SearchResult> Search(const float* query, size_t d, const SearchRequest& request) const;

  // Many queries at once (batch similarity jobs), exact, through BLAS GEMM
  // (index/batch_search.h) over the live rows passing the filter. queries:
  // nq * d row-major. Returns one SearchResult per query (plan kExact).
  // Errors: as Search.
  Result<std::vector<SearchResult>> SearchBatch(const float* queries, size_t nq, size_t d,
                                                const SearchRequest& request) const;

  const SnapshotData& data() const { return *data_; }

 private:
  std::shared_ptr<const SnapshotData> data_;
};

}  // namespace vesta::index
