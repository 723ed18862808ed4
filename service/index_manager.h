// The vector indexes the service serves (issue #5): their definitions
// (persisted in the store, governance/index_catalog.h), the live
// index::VectorIndex objects (persisted as files under index_dir), Delta
// Sync (TRIGGERED on Sync(), CONTINUOUS from a background thread shortly
// after each commit to the source table) and Direct Access (upsert-data /
// delete-data). Every read and write goes through access::Governed: the
// manager only keeps the catalog of indexes that IndexRef requires.
//
// Index types (Mosaic AI Vector Search):
//   DELTA_SYNC     built from `source_table`'s VECTOR column
//                  (embedding_vector_columns[0]) with columns_to_sync as
//                  filterable attributes; the table's row filters and column
//                  masks govern every query.
//   DIRECT_ACCESS  created with a schema (schema_json); Vesta keeps its rows
//                  in a governed, versioned backing table
//                  `<catalog>.<schema>.<index>__direct` owned by the
//                  creator, so upserts and deletes are commits (time travel,
//                  change feed, audit, policies) and the index is synced from
//                  it right after each write, before the call returns.
//
// Who syncs: TRIGGERED syncs run as the caller of Sync (Governed::SyncIndex:
// SELECT on the table and MANAGE on the index); CONTINUOUS syncs and the
// sync after a Direct Access write run as the index's creator (as a
// Databricks pipeline runs as its owner): if the creator has lost the
// privileges, the sync fails and the index reports the error in its status.
//
// Thread-safety: thread-safe. Syncs of one index are serialised by a
// per-index mutex; queries pin the index's snapshot and never wait for a
// sync (index/vector_index.h), so a query answers either the old or the new
// version, never a mix.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access/governed.h"
#include "common/status.h"
#include "governance/store.h"
#include "index/vector_index.h"
#include "ingest/index_sync.h"

namespace vesta::service {

enum class IndexType { kDeltaSync, kDirectAccess };
enum class PipelineType { kTriggered, kContinuous };

// "DELTA_SYNC" / "DIRECT_ACCESS"; "TRIGGERED" / "CONTINUOUS".
std::string IndexTypeName(IndexType t);
std::string PipelineTypeName(PipelineType p);

// What POST /api/2.0/vector-search/indexes asks for.
struct IndexDefinition {
  governance::TableName name;  // catalog.schema.index
  std::string endpoint_name;   // recorded and echoed (one process serves every endpoint)
  IndexType type = IndexType::kDeltaSync;
  std::string primary_key;
  // DELTA_SYNC: the source table. DIRECT_ACCESS: set by Create to the
  // backing table (BackingTableName(name)).
  governance::TableName source_table;
  PipelineType pipeline = PipelineType::kTriggered;  // DELTA_SYNC only
  std::string vector_column;                         // embedding_vector_columns[0].name
  int embedding_dimension = 0;                       // must match the column's VECTOR(d)
  std::vector<std::string> columns_to_sync;          // empty: every non-vector column
  // DIRECT_ACCESS: the schema of the backing table (schema_json).
  Schema direct_schema;
  // Vesta extensions.
  index::IndexKind kind = index::IndexKind::kHnsw;
  index::Metric metric = index::Metric::kL2;
  index::HnswParams hnsw;
  index::IvfParams ivf;
  index::SearchParams search;
  // Set by Create.
  std::string creator;
  Timestamp created_at;
};

// `<index>__direct` in the index's schema.
governance::TableName BackingTableName(const governance::TableName& index_name);

// A definition and where the live index stands.
struct IndexStatus {
  IndexDefinition definition;
  int64_t index_version = -1;          // the source table version the index reflects (-1: never built)
  int64_t source_version = -1;         // the table's current version
  int64_t versions_behind = 0;         // source_version - index_version
  int64_t indexed_row_count = 0;       // rows searchable
  size_t memory_bytes = 0;             // VectorIndex MemoryUsage
  bool ready = false;                  // built and searchable ("ONLINE")
  std::string detailed_state;          // Mosaic: ONLINE_NO_PENDING_UPDATE, ONLINE_CONTINUOUS_UPDATE, ONLINE_TRIGGERED_UPDATE, ONLINE_PIPELINE_FAILED, OFFLINE_FAILED
  std::string message;                 // the last sync error, or a summary
  Timestamp last_sync;                 // 0: never synced since start
};

// An index query's answer and the versions it reflects.
struct QueryAnswer {
  access::IndexQueryResult result;
  std::string source_table;
  int64_t source_current_version = -1;  // the table's version when the query ran
  int64_t versions_behind = 0;          // source_current_version - result.index_version
  index::Metric metric = index::Metric::kL2;
};

// upsert-data / delete-data outcome (Mosaic's shape).
struct WriteAnswer {
  std::string status;  // "SUCCESS", "PARTIAL_SUCCESS", "FAILURE"
  int64_t success_row_count = 0;
  std::vector<std::string> failed_primary_keys;  // as text
  std::vector<std::string> errors;               // one message per failed key (Vesta extension)
  int64_t table_version = -1;                    // the backing table's commit (-1: none)
  int64_t index_version = -1;                    // the index's version after the write
};

struct IndexManagerOptions {
  // Directory of the index files ("<full name>.vidx"); created if missing.
  std::string index_dir;
  // How often the CONTINUOUS thread polls source tables for commits made by
  // other processes (in-process commits wake it at once: NotifyCommit).
  std::chrono::milliseconds poll_interval{250};
  // Start the CONTINUOUS sync thread (tests may drive SyncContinuousNow()).
  bool background_sync = true;
  index::IndexOptions index_options;
};

class IndexManager {
 public:
  // Loads every index definition from the store and opens or builds each
  // index (ingest::OpenOrBuildIndex with the file under index_dir; an index
  // whose source cannot be read is kept with ready=false and the error in
  // its status), then starts the CONTINUOUS thread. Errors: those of
  // reading the definitions; Internal if index_dir cannot be created.
  static Result<std::unique_ptr<IndexManager>> Open(access::Governed& governed, IndexManagerOptions options);
  ~IndexManager();  // stops the CONTINUOUS thread (waits for a running sync)

  // Creates an index: validates the definition (InvalidArgument naming the
  // field), authorises (Governed::AuthorizeCreateIndex; DIRECT_ACCESS also
  // Governed::CreateTable of the backing table), builds it from the table
  // (Governed::SyncIndex), saves its file and persists the definition.
  // Errors: PermissionDenied, NotFound (source table), AlreadyExists (index
  // name), InvalidArgument; on error nothing is left behind (the backing
  // table and the owner record are removed again).
  Result<IndexStatus> Create(const access::Caller& caller, IndexDefinition def);

  // One index's status. Needs read access to the index (USE CATALOG, USE
  // SCHEMA, SELECT on it: Governed::DescribeIndex). NotFound for an unknown
  // index (after the privilege check).
  Result<IndexStatus> Describe(const access::Caller& caller, const governance::TableName& name);
  // The indexes the caller may read, by name.
  Result<std::vector<IndexStatus>> List(const access::Caller& caller);

  // Drops the index (Governed::AuthorizeDropIndex), its file, its
  // definition and, for DIRECT_ACCESS, its backing table.
  Status Drop(const access::Caller& caller, const governance::TableName& name);

  // Brings a DELTA_SYNC index to its table's current version as the caller
  // (Governed::SyncIndex), and saves its file. FailedPrecondition for a
  // DIRECT_ACCESS index (it is synced on every write).
  Result<ingest::SyncReport> Sync(const access::Caller& caller, const governance::TableName& name);

  // A governed query (Governed::QueryIndex) plus the versions it reflects.
  // NotFound for an unknown index (after Governed's privilege check on it).
  Result<QueryAnswer> Query(const access::Caller& caller, const governance::TableName& name,
                            const access::IndexQuery& query);

  // The live index and its ref for Governed calls (scan, Direct Access
  // writes). Privileges first: for an unknown or offline index,
  // Governed::DescribeIndex is asked (and audited) before NotFound /
  // Unavailable is returned, so a caller who may not read the index cannot
  // tell a missing index from a forbidden one. The shared_ptr keeps the
  // index alive while the caller uses it, even if it is dropped meanwhile.
  struct Handle {
    std::shared_ptr<const index::VectorIndex> index;
    access::IndexRef ref;
    IndexDefinition definition;
  };
  Result<Handle> Find(const access::Caller& caller, const governance::TableName& name);

  // DIRECT_ACCESS writes: rows as JSON-decoded Rows of the backing table's
  // schema (rows that failed decoding are passed in `failed` with their
  // keys and messages and reported as such); the valid rows are upserted
  // (Governed::Upsert, one commit) and the index synced. Keys are deleted
  // with Governed::DeleteKeys. FailedPrecondition for a DELTA_SYNC index
  // (write to its source table instead).
  Result<WriteAnswer> UpsertData(const access::Caller& caller, const governance::TableName& name,
                                 std::vector<Row> rows, WriteAnswer failed);
  Result<WriteAnswer> DeleteData(const access::Caller& caller, const governance::TableName& name,
                                 std::vector<Value> keys);

  // Wakes the CONTINUOUS thread for indexes on `table` (cheap; any thread).
  void NotifyCommit(const governance::TableName& table, int64_t version);
  // Runs one CONTINUOUS pass now on the calling thread (tests).
  void SyncContinuousNow();

  // Every index's status, unfiltered (metrics; not for callers).
  std::vector<IndexStatus> AllStatuses();

 private:
  IndexManager(access::Governed& governed, IndexManagerOptions options);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::service
