// The substrate: a catalog of three-level names (catalog.schema.table) and
// versioned tables with Delta-like semantics, all in one embedded SQLite
// database (WAL mode).
//
//   auto store = Store::Open("demo.vesta", {}).value();
//   store->CreateTable(TableName::Parse("main.clinical.patients").value(), schema, {}, "alice");
//   auto txn = store->Begin("alice");
//   txn->Append(name, rows);
//   auto commits = txn->Commit();          // version 1
//   store->Read(name, {.version = 0});     // time travel
//   store->Changes(name, 1, 1);            // change data feed
//
// Versions. Every write to a table (append, upsert, delete, add column,
// restore) is a commit producing the table's next integer version; CREATE
// TABLE is version 0. Each row carries the version it was added in and the
// version it was removed in; a read at version v sees the rows with
// added <= v < removed. Reads are snapshot-consistent.
//
// Atomicity and durability. A Transaction's operations, across any number of
// tables, commit in one SQLite transaction: all or nothing, also when the
// process is killed (SIGKILL) mid-commit. With StoreOptions::durability
// kNormal a power loss may lose the last commits but never tears one.
//
// Concurrency. Optimistic: each operation is based on the table version
// current when it was added to the transaction (or the one pinned with
// Transaction::SetReadVersion). At commit, if another writer has committed
// to that table since, the commit fails with an Aborted status ("retry")
// when the two conflict, and changes nothing:
//   - Append conflicts only if a concurrent commit added a row with one of
//     its primary keys (a key already live at the read version is
//     AlreadyExists instead: not retryable).
//   - Upsert and DeleteKeys conflict if a concurrent commit touched (added or
//     removed) any of their primary keys.
//   - DeleteWhere, AddColumn and Restore conflict with any concurrent commit
//     to the table.
// Several processes may open the same store; SQLite serialises the commits.
//
// Thread-safety: Store is thread-safe. Transaction is thread-compatible (one
// thread at a time).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace vesta::governance {

// A three-level name. Each part is an identifier; comparison ignores case.
struct TableName {
  std::string catalog;
  std::string schema;
  std::string table;

  // Parses "catalog.schema.table". Errors: InvalidArgument naming the part.
  static Result<TableName> Parse(std::string_view full_name);
  std::string ToString() const { return catalog + "." + schema + "." + table; }
};

struct StoreOptions {
  enum class Durability {
    kNormal,  // fsync at checkpoints: survives process crashes (SIGKILL)
    kFull,    // fsync every commit: also survives power loss; slower commits
  };
  Durability durability = Durability::kNormal;
  // Create the store file if missing (vesta init); otherwise NotFound.
  bool create_if_missing = true;
  // How long a writer waits for another process's commit before Unavailable.
  int busy_timeout_ms = 10000;
  // SQLite page size for a new store, bytes. 16 KiB packs five 768-d float32
  // vectors per page instead of one per 4 KiB page; ignored for an existing
  // store. A power of two in 512..65536.
  int page_size = 16384;
  // Reader connections kept open for concurrent reads.
  int max_readers = 8;

  Status Validate() const;
};

struct TableInfo {
  TableName name;
  int64_t table_id = 0;
  Schema schema;                 // as of `version`
  int64_t version = 0;           // the version described
  int64_t current_version = 0;
  int64_t oldest_version = 0;    // oldest version time travel can read (vacuum)
  int64_t row_count = 0;         // live rows at `version`
  std::string comment;
  std::string owner;
  Timestamp created_at;
  std::map<std::string, std::string> properties;
};

struct CreateTableOptions {
  std::string comment;
  std::map<std::string, std::string> properties;
  bool if_not_exists = false;  // an existing table with the same schema is OK
};

// One entry of DESCRIBE HISTORY.
struct CommitInfo {
  TableName table;
  int64_t version = 0;
  Timestamp timestamp;
  std::string principal;
  std::string operation;        // CREATE TABLE, APPEND, UPSERT, DELETE, ADD COLUMN, RESTORE
  std::string parameters_json;  // {"predicate": ..., "source": ...}
  int64_t read_version = -1;    // the version the commit was based on
  int64_t rows_added = 0;       // rows inserted (new keys)
  int64_t rows_removed = 0;     // rows deleted
  int64_t rows_updated = 0;     // keys whose row changed
};

// Which version of a table to read: the current one by default.
struct VersionSpec {
  std::optional<int64_t> version;
  std::optional<Timestamp> timestamp;  // the latest version committed at or before
};

struct ReadOptions {
  VersionSpec at;
  std::vector<std::string> columns;  // empty: all columns of the schema at that version
  std::string predicate;             // filter language (filter_string form); empty: all rows
  int64_t limit = -1;                // -1: no limit
  bool order_by_primary_key = false; // else commit order
  std::optional<Value> after_primary_key;  // paging: rows with pk > this (implies ordering by pk)
};

struct ReadResult {
  TableName table;
  int64_t version = 0;        // the version read
  std::vector<Column> columns;
  std::vector<Row> rows;      // rows[i][j] is column j
  // Set by access::Governed::ReadTable: the read's query id (its lineage
  // node and audit parameter). Empty from Store::Read.
  std::string query_id;
};

enum class ChangeType { kInsert, kDelete, kUpdatePreimage, kUpdatePostimage };
std::string_view ChangeTypeName(ChangeType t);  // "insert", "delete", "update_preimage", ...

struct ChangeRow {
  ChangeType type;
  int64_t version;
  Timestamp timestamp;
  Row row;  // columns of the schema at the end version
};

struct ChangeFeed {
  TableName table;
  int64_t start_version = 0;
  int64_t end_version = 0;
  std::vector<Column> columns;
  std::vector<ChangeRow> changes;  // by version, then primary key; preimage before postimage
};

struct VacuumReport {
  TableName table;
  bool dry_run = false;
  int64_t oldest_version_before = 0;
  int64_t oldest_version_after = 0;   // versions below this can no longer be read
  int64_t rows_purged = 0;            // row images deleted from storage
  int64_t current_version = 0;
};

class Store;

// A multi-table commit. At most one operation per table. Nothing is written
// before Commit(); destroying an uncommitted Transaction discards it.
class Transaction {
 public:
  ~Transaction();

  // Appends rows; every primary key must be new.
  // Errors (at Commit): AlreadyExists for a key live at the read version,
  // InvalidArgument for a row not matching the schema (names row index and
  // column), Aborted for a key added concurrently.
  Status Append(const TableName& table, std::vector<Row> rows, std::string source = "");
  // Inserts new keys and replaces the rows of existing keys whose values
  // differ; identical rows are left alone (an idempotent re-ingest commits
  // nothing). Duplicate keys within `rows`: the last one wins.
  Status Upsert(const TableName& table, std::vector<Row> rows, std::string source = "");
  // Deletes the live rows with these primary keys; unknown keys are ignored
  // (reported as rows_removed < keys.size()).
  Status DeleteKeys(const TableName& table, std::vector<Value> keys);
  // Deletes the live rows matching `predicate` (filter language).
  Status DeleteWhere(const TableName& table, std::string predicate);
  // Adds a nullable column; existing rows read NULL. Versions before this one
  // do not show the column.
  Status AddColumn(const TableName& table, Column column);
  // Makes the table's rows and schema those of `version` again, as a new
  // commit. Errors: NotFound / FailedPrecondition for an unknown or vacuumed
  // version.
  Status Restore(const TableName& table, int64_t version);
  // Pins the version this transaction's operations on `table` are based on
  // (optimistic concurrency for read-modify-write). Default: the version
  // current when the first operation on the table was added.
  Status SetReadVersion(const TableName& table, int64_t version);

  // Calls `fn(rows_done, rows_total)` every few thousand rows while Commit()
  // writes appended or upserted rows (for progress displays). `fn` runs on
  // the committing thread inside the write transaction: keep it short.
  void SetProgress(std::function<void(int64_t done, int64_t total)> fn) { progress_ = std::move(fn); }

  // Validates and applies every operation in one SQLite transaction. Returns
  // the commits made, one per table whose contents changed (an upsert that
  // changes nothing makes no commit). On any error nothing is committed.
  // A Transaction can be committed once.
  Result<std::vector<CommitInfo>> Commit();

  struct Op;  // internal

 private:
  friend class Store;
  Transaction(Store* store, std::string principal);
  Status AddOp(const TableName& table, std::unique_ptr<Op> op);

  Store* store_;
  std::string principal_;
  std::vector<std::unique_ptr<Op>> ops_;
  std::function<void(int64_t, int64_t)> progress_;
  bool done_ = false;
};

class Store {
 public:
  // Opens or creates the store at `path` (a SQLite database file).
  // Errors: NotFound if absent and !create_if_missing; Internal for a file
  // that is not a Vesta store or is corrupt; Unavailable if locked.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }

  // --- Catalog ---------------------------------------------------------------
  // Creates a catalog / schema. Errors: AlreadyExists unless if_not_exists;
  // NotFound for a schema whose catalog does not exist.
  Status CreateCatalog(const std::string& name, const std::string& principal, bool if_not_exists = false);
  Status CreateSchema(const std::string& catalog, const std::string& schema, const std::string& principal,
                      bool if_not_exists = false);
  Result<std::vector<std::string>> ListCatalogs();
  Result<std::vector<std::string>> ListSchemas(const std::string& catalog);

  // Creates a table at version 0 (operation CREATE TABLE). The catalog and
  // schema must exist. Errors: InvalidArgument (schema), AlreadyExists,
  // NotFound (catalog/schema).
  Result<TableInfo> CreateTable(const TableName& name, const Schema& schema, const CreateTableOptions& options,
                                const std::string& principal);
  // Drops a table with all its history. Errors: NotFound.
  Status DropTable(const TableName& name);
  // The table's schema and metadata at `at` (current by default).
  // Errors: NotFound (no such table or version), FailedPrecondition (vacuumed).
  Result<TableInfo> DescribeTable(const TableName& name, const VersionSpec& at = {});
  // Tables, optionally only of one catalog / schema, sorted by name.
  Result<std::vector<TableName>> ListTables(const std::string& catalog = "", const std::string& schema = "");

  // --- Writes ----------------------------------------------------------------
  // Starts a transaction whose commits are recorded as made by `principal`.
  std::unique_ptr<Transaction> Begin(const std::string& principal);

  // --- Reads -----------------------------------------------------------------
  // Reads rows of a table at a version (time travel). Snapshot-consistent.
  // Errors: NotFound (table, version, column), FailedPrecondition (vacuumed
  // version), InvalidArgument (predicate).
  Result<ReadResult> Read(const TableName& name, const ReadOptions& options = {});
  // The version `at` designates. Errors as for Read.
  Result<int64_t> ResolveVersion(const TableName& name, const VersionSpec& at);
  // DESCRIBE HISTORY, newest first; limit -1 for all.
  Result<std::vector<CommitInfo>> History(const TableName& name, int64_t limit = -1);
  // The change data feed of the commits with start <= version <= end.
  // Errors: InvalidArgument if start > end; NotFound for versions beyond the
  // current one; FailedPrecondition if start's changes were vacuumed.
  Result<ChangeFeed> Changes(const TableName& name, int64_t start_version, int64_t end_version);

  // --- Maintenance -----------------------------------------------------------
  // Drops row images only needed to read versions older than the newest
  // version committed at or before now - retention. Time travel and the
  // change feed to those versions stop working; the report says which.
  // Does not create a version.
  Result<VacuumReport> Vacuum(const TableName& name, std::chrono::seconds retention, bool dry_run = false);

  struct Impl;  // internal

 private:
  friend class Transaction;
  Store() = default;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::governance
