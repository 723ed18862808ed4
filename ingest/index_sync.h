// Delta Sync: keeps a vector index (index/vector_index.h) in step with the
// versioned table it is built from (governance/store.h).
//
//   IndexSource source{TableName::Parse("main.imaging.radiomics").value(), "features", {"cohort", "site"}};
//   VESTA_ASSIGN_OR_RETURN(index::IndexSpec spec,
//                          SpecForSource(store, source, index::IndexKind::kHnsw, index::Metric::kL2));
//   VESTA_ASSIGN_OR_RETURN(OpenedIndex opened, OpenOrBuildIndex(store, source, spec, "radiomics.vidx"));
//   ...                                        // later, after commits to the table:
//   VESTA_ASSIGN_OR_RETURN(SyncReport r, SyncIndex(store, source, *opened.index));
//
// The model. An index reflects exactly one table version (VectorIndex's
// snapshot version). BuildFromTable reads the table at a version (time
// travel) and builds; SyncIndex reads the change data feed of the versions
// after the index's one up to a target, collapses it to one net change per
// primary key and applies it in one VectorIndex::Apply, so searches see
// either the old or the new version, never a mix. When the feed cannot
// bring the index forward (vacuumed, table dropped and recreated, index
// ahead of the table, index never built) the index is rebuilt from the table
// at the target and the report says why.
//
// Rows whose vector is NULL are not indexed (counted as skipped); a key
// whose vector becomes NULL leaves the index.
//
// Index files. OpenOrBuildIndex persists the index at `path` (VectorIndex's
// format) with IndexSpec::source set to the source table's identity (name,
// table id, creation time) and the vector column, so the file's fingerprint
// (under its checksum) says what it was built from. A file is only reused
// when it matches the current table and spec; otherwise the index is
// rebuilt. An invalid file is never served.
//
// Thread-safety: every function is thread-safe with respect to the Store
// (which is thread-safe) and to concurrent searches on the index (which pin
// snapshots). Functions that modify an index (BuildFromTable, SyncIndex)
// must not run concurrently on the same index: serialise them per index (the
// second would apply changes computed against a state that moved on).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "governance/store.h"
#include "index/vector_index.h"

namespace vesta::ingest {

// What an index is built from: a table, its VECTOR(d) column, and the
// columns to keep as filterable attributes (Mosaic's columns_to_sync; the
// primary key and the vector column may be listed and are then ignored).
struct IndexSource {
  governance::TableName table;
  std::string vector_column;
  std::vector<std::string> columns_to_sync;

  // "catalog.schema.table.vector_column", for messages.
  std::string ToString() const { return table.ToString() + "." + vector_column; }
};

// A table's identity across drop and re-create: a re-created table gets a
// new creation time (and possibly the same id, which SQLite may reuse).
struct TableIdentity {
  int64_t table_id = 0;
  Timestamp created_at;
  bool operator==(const TableIdentity&) const = default;
};

// What BuildFromTable / SyncIndex did.
struct SyncReport {
  int64_t from_version = -1;  // the index's version before (-1: never built)
  int64_t to_version = -1;    // the index's version after
  int64_t inserted = 0;       // keys added to the index (a build: every indexed row)
  int64_t updated = 0;        // keys whose row was replaced
  int64_t deleted = 0;        // keys removed from the index (also: vector became NULL)
  // Rows not indexed because their vector is NULL: of the whole table for a
  // build, of the changed keys for a sync.
  int64_t skipped_null_vectors = 0;
  bool rebuilt = false;  // built from the table instead of synced from the change feed
  std::string reason;    // why it was rebuilt ("" for a sync or a plain build)
  TableIdentity table;   // the source table read
};

// Tuning of reads from the table.
struct SyncOptions {
  // Rows per page when reading the table for a build (ordered by primary
  // key, paged with after_primary_key). Bounds the memory of one read
  // result; the RowBatch given to VectorIndex::Build still holds every row
  // (keys, d floats and the attributes per row). [1, 10'000'000].
  int64_t page_rows = 10000;
  // The identity of the table the index was built from (SyncReport::table of
  // an earlier build or sync). If set and the table's identity differs now
  // (dropped and re-created), SyncIndex rebuilds instead of applying the new
  // table's change feed to the old table's rows. Unset: not checked (the
  // version checks still catch a re-created table that is behind the index).
  std::optional<TableIdentity> expected_table;

  // OK, or InvalidArgument naming page_rows.
  Status Validate() const;
};

// Returns the IndexSpec of an index over `source`: primary key column (name
// and type) from the table's current schema, dimension from the VECTOR(d)
// column, attributes = AttributeSchema(table schema, columns_to_sync minus
// the key and the vector column), and the given kind, metric and parameters.
// The spec is validated (IndexSpec::Validate).
// Errors: NotFound if the table does not exist; InvalidArgument naming the
// field: "vector_column: column 'x' is not in main.s.t (columns: ...)",
// "vector_column: column 'age' of main.s.t is BIGINT, not VECTOR(d)",
// "columns_to_sync: ..." (unknown, VECTOR or duplicate column), or a
// parameter out of range.
// REQUIRES nothing of the store beyond being open; reads the catalog only.
Result<index::IndexSpec> SpecForSource(governance::Store& store, const IndexSource& source,
                                       index::IndexKind kind, index::Metric metric,
                                       const index::HnswParams& hnsw = {}, const index::IvfParams& ivf = {},
                                       const index::SearchParams& search = {});

// Builds `index` from the table's rows at `version` (time travel; nullopt:
// the current version): reads the key, vector and attribute columns page by
// page in primary-key order, skips (and counts) rows whose vector is NULL,
// then calls index.Build once. On success the index reflects `version`.
// Returns the report (rebuilt = true, reason empty, inserted = rows indexed).
// Errors: those of Store::Read (NotFound table/version/column,
// FailedPrecondition for a vacuumed version); FailedPrecondition if the
// table no longer fits index.spec() (a column missing or of another type,
// naming it); those of VectorIndex::Build (e.g. a zero vector under COSINE).
// On error the index is unchanged.
Result<SyncReport> BuildFromTable(governance::Store& store, const IndexSource& source,
                                  index::VectorIndex& index, std::optional<int64_t> version = std::nullopt,
                                  const SyncOptions& options = {});

// Brings `index` to `target_version` (nullopt: the table's current version).
// If the index already reflects it, does nothing (from == to). Otherwise
// reads Changes(table, index version + 1, target), collapses it per primary
// key to the net effect (the last image wins: insert and update_postimage
// are upserts, delete a delete, update_preimage is ignored; deleted then
// re-inserted is an upsert; inserted then deleted is nothing), and applies
// it with one index.Apply(upserts, deletes, target).
// Rebuilds from the table at the target instead (BuildFromTable;
// report.rebuilt = true with the reason) when the index was never built,
// the index's version is after the target or after the table's current
// version (table dropped and re-created, or an older target asked for),
// options.expected_table differs from the table's identity, or the change
// feed of the range was vacuumed.
// Errors: NotFound (table, or a target beyond the current version);
// FailedPrecondition if the table no longer fits index.spec() (names the
// column) or a rebuild's version was vacuumed too; those of Store::Changes,
// BuildFromTable and VectorIndex::Apply. On error the index is unchanged.
Result<SyncReport> SyncIndex(governance::Store& store, const IndexSource& source, index::VectorIndex& index,
                             std::optional<int64_t> target_version = std::nullopt,
                             const SyncOptions& options = {});

// Returns how many versions the index is behind the table: current version
// minus the index's version (0: up to date; current + 1 for an index never
// built; negative if the index is ahead, i.e. the table was re-created:
// SyncIndex rebuilds it). Errors: NotFound if the table does not exist.
Result<int64_t> VersionsBehind(governance::Store& store, const IndexSource& source,
                               const index::VectorIndex& index);

// Receives one log line (no trailing newline), e.g.
// "index main.imaging.radiomics.features: rebuilding: <reason>". Called on
// the calling thread; borrows the text for the call.
using IndexLogFn = std::function<void(std::string_view line)>;

// The default IndexLogFn: writes "vesta: <line>\n" to stderr.
void LogToStderr(std::string_view line);

// `spec` with `source` set to the source table's identity and vector
// column, exactly as OpenOrBuildIndex sets it: an index created with this
// spec, built elsewhere (e.g. by a governed sync that records lineage) and
// saved, is reused by OpenOrBuildIndex as long as the table is the same.
// Errors: NotFound if the table does not exist.
Result<index::IndexSpec> SpecWithSource(governance::Store& store, const IndexSource& source,
                                        const index::IndexSpec& spec);

struct OpenedIndex {
  std::unique_ptr<index::VectorIndex> index;  // never null on success
  // True if the file at `path` was loaded and used (then synced if it was
  // behind); false if the index was built from the table.
  bool loaded = false;
  // The sync of the loaded index (from == to if it was current), or the
  // build (rebuilt = true, reason: why the file was not used).
  SyncReport report;
};

// Opens the index of `source` persisted at `path`, or builds it, and leaves
// it at the table's current version and saved at `path`:
//   1. VectorIndex::Load(path, spec with `source` set to the table's
//      identity, options);
//   2. if that fails (missing, truncated, corrupt, another spec, another
//      source table or vector column) or SyncIndex has to rebuild (the
//      index's version was vacuumed or is ahead of the table), `log`
//      receives "index <source>: rebuilding: <reason>" and the index is
//      built from the table;
//   3. a loaded index that is behind is synced from the change feed (if
//      that fails, the reason is logged and the index is built instead);
//   4. unless the loaded file was current, the index is saved to `path`
//      (atomically: VectorIndex::Save).
// The returned index is owned by the caller; its spec is `spec` with
// `source` set. `spec` is usually SpecForSource(...). Errors: NotFound
// (table); InvalidArgument (spec, options); those of BuildFromTable and
// SyncIndex; Internal if the index cannot be written (naming the path). A
// load failure is not an error.
Result<OpenedIndex> OpenOrBuildIndex(governance::Store& store, const IndexSource& source,
                                     const index::IndexSpec& spec, const std::string& path,
                                     const index::IndexOptions& options = {},
                                     const IndexLogFn& log = LogToStderr,
                                     const SyncOptions& sync_options = {});

}  // namespace vesta::ingest
