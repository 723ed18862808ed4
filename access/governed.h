// The one governed read path (issue #4, "Enforcement in one place"): every
// read of a table or an index by a principal goes through a Governed, which
//   1. authenticates the caller (bearer token) or takes a trusted identity,
//   2. checks privileges (governance/privileges.h): reading a table needs USE
//      CATALOG + USE SCHEMA + SELECT on it; querying an index needs them on
//      the index (an index is governed by its source table, below),
//   3. resolves the caller's policies on the table (governance/policies.h):
//      the row filter, folded for this caller, is ANDed into the read's
//      predicate (SQL for table reads, the search filter for index queries:
//      *inside* the search, never a post-filter), and column masks are
//      applied to every value returned; a user filter on a masked column is
//      evaluated on the masked value,
//   4. appends one audit record per call, allowed, denied or failed
//      (governance/audit.h), with the primary keys returned, and records
//      lineage for every allowed read (governance/lineage.h).
// There is no other way to read through this module; the service (issue #5)
// and the CLI call only this.
//
// Writes and creates (CreateCatalog ... DeleteWhere, AuthorizeCreateIndex,
// below; access/governed_writes.cc) follow the same pattern: privilege check
// first, one audit record per call, one entry point per operation.
//
//   auto g = Governed::Open("demo.vesta").value();
//   Caller alice = g->Authenticate(token).value();
//   auto rows = g->ReadTable(alice, TableName::Parse("main.clinical.patients").value(), {});
//
// Errors of every call: Unauthenticated (bad token), PermissionDenied naming
// the missing privilege ("alice lacks SELECT on table main.clinical.patients"),
// NotFound / InvalidArgument / FailedPrecondition as the underlying store or
// index reports them. A denied or failed call returns nothing and changes
// nothing but the audit log. Privileges are checked before anything else, so
// a caller without them cannot tell a missing table from a forbidden one.
//
// Audit. Every call (and every failed Authenticate) appends exactly one
// record: principal ("" if unauthenticated), action (reads: "table.read",
// "table.changes", "index.query", "table.describe", "table.history",
// "audit.query", "audit.export", "audit.verify", "lineage.query",
// "auth.token", "index.scan", "index.describe", "index.list"; writes and creates: see their
// section below), securable
// (full name),
// parameters (the request as given plus what was resolved: version read,
// index version, policies applied, the query id, the token id), outcome
// "allowed" / "denied" (PermissionDenied, Unauthenticated) / "error" (any
// other failure) with the message, row_count, and keys: the primary keys of
// the rows returned as text (Value::ToString; invalid UTF-8 bytes as \xNN),
// RAW even where the caller saw them masked: the audit log is a privileged
// record of which patients were disclosed to whom. For a change feed each key
// is listed once while row_count counts every image returned (an update's
// pre- and post-image: 1 key, row_count 2). If the audit append of an
// allowed call fails, the call fails with the append's error and returns
// nothing (no unaudited reads); if the append of a denied or failed call
// fails, the call's own error is returned, its message saying so.
//
// Lineage. Each allowed read records one edge `from` the table@version read
// (index@snapshot version for QueryIndex) `to` {kind "query", name: the
// call's query id ("q-" + 16 hex), version -1}, relation "read_by"; the
// query id is in the audit record's parameters. The edge is recorded before
// the audit record; if it cannot be recorded the call fails (audited as an
// error).
//
// Thread-safety: Governed is thread-safe; Callers are values.
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "filter/eval.h"
#include "governance/audit.h"
#include "governance/lineage.h"
#include "governance/policies.h"
#include "governance/principals.h"
#include "governance/privileges.h"
#include "governance/store.h"
#include "index/vector_index.h"
#include "ingest/index_sync.h"

namespace vesta::access {

// Who is asking, resolved once per request.
struct Caller {
  std::string user;
  std::vector<std::string> groups;  // transitive, sorted
  bool metastore_admin = false;
  // current_user() and is_member() for this caller (a snapshot of `groups`).
  filter::EvalContext context;
  // The token authenticated with (not secret; "" for CallerFor), for audit.
  std::string token_id;
};

// An index as a securable: its three-level name, the table it is built from
// (whose policies govern it), and the index itself (borrowed; must outlive
// the call). The index's attribute columns are the source table's
// columns_to_sync, under the same names. REQUIRES (not checked: the service
// keeps the catalog of indexes): `index` was built from `source`; a wrong
// `source` would apply another table's policies.
struct IndexRef {
  governance::TableName name;    // e.g. main.imaging.radiomics_index
  governance::TableName source;  // e.g. main.imaging.radiomics
  const index::VectorIndex* index = nullptr;
};

struct IndexQuery {
  std::vector<float> vector;  // spec.dimension floats
  size_t k = 10;
  std::string filter;            // filter_string form; "" = none
  std::optional<int> ef_search;  // overrides the index default
  // Attribute columns to return, in this order (names ignore case); naming
  // the primary key is allowed and adds nothing (it always comes first).
  // Empty = all synced columns. Unknown: InvalidArgument.
  std::vector<std::string> columns;
};

struct IndexQueryResult {
  std::vector<std::string> columns;  // primary key, then the requested columns, then "score"
  // Best first, one value per entry of `columns`: the primary key and the
  // requested columns masked for the caller, then the score as a DOUBLE.
  std::vector<Row> rows;
  std::vector<float> scores;   // the same scores as float (index/vector_index.h SearchResult)
  int64_t index_version = -1;  // the snapshot searched (= source table version it reflects)
  index::SearchPlan plan = index::SearchPlan::kExact;
  std::vector<std::string> policies_applied;  // row filter / mask policy names, for the audit
  std::string query_id;                       // the lineage node and audit parameter of this query
};

// One page of an index scan (ScanIndex).
struct IndexScanRequest {
  // Return rows whose key, as the caller sees it, is strictly greater than
  // this, in the key's order (numeric for BIGINT, bytewise for STRING); NULL:
  // from the first row. Pass the previous page's last_primary_key. A BIGINT
  // key may also be given as decimal text (Mosaic's JSON sends keys as
  // strings). Where the caller sees the key as a keyed hash, this is a hash
  // (STRING): see ScanIndex.
  Value after_primary_key;
  size_t num_results = 100;  // 1..10,000
  // Attribute columns to return (as IndexQuery::columns); empty = all
  // synced columns. The vector is returned when include_vector.
  std::vector<std::string> columns;
  bool include_vector = true;
};

struct IndexScanResult {
  std::vector<std::string> columns;  // primary key, requested columns, then the vector column if included
  // In key order, one value per entry of `columns`, masked for the caller.
  // The vector is the one the index stores (unit length under COSINE), as a
  // VECTOR value.
  std::vector<Row> rows;
  // The key of the last row returned as the caller saw it (rows.back()[0]):
  // the raw key, or its keyed hash; NULL when no rows (the scan is done).
  // The next page's after_primary_key.
  Value last_primary_key;
  int64_t index_version = -1;  // the snapshot scanned (= source table version it reflects)
  std::vector<std::string> policies_applied;
  std::string query_id;  // the lineage node and audit parameter of this scan
};

// --- Governed writes and creates (access/governed_writes.cc) -----------------

// Tuning of one governed write (Append, Upsert, DeleteKeys, DeleteWhere).
struct WriteOptions {
  // Append / Upsert: recorded as the commit's "source" (e.g. the file
  // ingested); shown in DESCRIBE HISTORY. Ignored by the deletes.
  std::string source;
  // Optimistic concurrency for read-modify-write: the table version the
  // write is based on (Transaction::SetReadVersion). A commit since then that
  // conflicts with the write (governance/store.h "Concurrency") makes it fail
  // with Aborted. nullopt: the current version when the call starts. The
  // caller's row filter and masks are resolved against the schema of this
  // version. A negative version: InvalidArgument; one beyond the current
  // version: NotFound; a vacuumed one: FailedPrecondition.
  std::optional<int64_t> read_version;
};

// What a governed write did.
struct WriteResult {
  governance::TableName table;
  // The version committed; -1 if the write changed nothing and so made no
  // commit (an empty append, an upsert of identical rows, a delete that
  // matched no row the caller may see).
  int64_t version = -1;
  int64_t read_version = -1;  // the version the write was based on
  int64_t rows_added = 0;     // rows with new primary keys
  int64_t rows_updated = 0;   // keys whose row was replaced (Upsert)
  int64_t rows_removed = 0;   // keys deleted
  // The caller's policies resolved for the write (all but Append), as
  // EffectivePolicy::applied: the row filter limits the rows a delete
  // reaches and an upsert may replace; masks, the values a DeleteWhere
  // predicate sees.
  std::vector<std::string> policies_applied;

  int64_t rows_written() const { return rows_added + rows_updated + rows_removed; }
};

// What Governed::VerifyAudit found (governance::AuditLog::Verify).
struct AuditVerification {
  bool intact = false;          // the chain verified against its head
  int64_t records_checked = 0;  // records whose hash and link were verified
  int64_t first_bad_seq = -1;   // the first tampered record; -1 when intact
  std::string problem;          // Verify's DataLoss message; "" when intact
};

class Governed {
 public:
  // Opens the store at `store_path` (must exist: `vesta init`) and its
  // governance components. Errors: those of the components' Open.
  static Result<std::unique_ptr<Governed>> Open(const std::string& store_path);
  ~Governed();

  // The components, for administration (principals, grants, policies,
  // writes, audit and lineage queries) by trusted code. Reading rows through
  // store() bypasses governance: the service and the CLI must not.
  governance::Store& store();
  governance::Principals& principals();
  governance::Privileges& privileges();
  governance::Policies& policies();
  governance::AuditLog& audit();
  governance::Lineage& lineage();

  // The caller behind a bearer token (the plaintext, without "Bearer ").
  // Errors: Unauthenticated for an empty, malformed, unknown, revoked or
  // expired token (audited as a denied "auth.token" record, principal "",
  // never containing the token); storage errors (audited as "error").
  // A successful authentication is not audited on its own: the read it
  // precedes is, with the token id.
  Result<Caller> Authenticate(std::string_view bearer_token);
  // A trusted identity (the CLI's --as, tests), with a snapshot of its
  // groups taken now. Not audited. Errors: NotFound for an unknown user;
  // InvalidArgument for a group.
  Result<Caller> CallerFor(const std::string& user);

  // Reads a table (time travel with options.at; today's policies apply to
  // every version, and a policy that does not fit an old version's schema
  // makes that version unreadable: FailedPrecondition). options.predicate
  // (filter language; current_user() / is_member() are the caller's) is the
  // caller's filter: ANDed with the row filter and evaluated on masked values
  // where a column is masked. Returned values are masked; options.columns
  // selects and orders the columns as in Store::Read.
  // How: the version is resolved once and the schema, the policies and the
  // rows are all taken at it. Normally one SQL read runs
  //   (row filter) AND RewriteFilterForMasks(predicate)
  // with the caller's limit and ordering. When the predicate references a
  // column whose mask a filter cannot express (keyed hash, partial reveal:
  // governance::NeedsMaskedRowEvaluation), or when the primary key is masked
  // and the read is ordered or paged by it, the store is read with the row
  // filter only and without limit, each row is masked, the predicate is
  // evaluated on the masked row (filter::Evaluate), and ordering, paging and
  // the limit are applied in memory on the masked values (ties in commit
  // order): the raw values of a masked column never reach the caller's
  // predicate, ordering or paging. Memory is then the row-filtered table,
  // not the page.
  // Errors also: FailedPrecondition for after_primary_key when the primary
  // key is masked by anything but a keyed hash (its masked values do not
  // identify rows). Audit action "table.read".
  Result<governance::ReadResult> ReadTable(const Caller& caller, const governance::TableName& table,
                                           const governance::ReadOptions& options);

  // The change data feed between two versions, restricted to rows the caller
  // may see and masked. The row filter (resolved against the schema at
  // end_version, the feed's columns) is evaluated on each change row's own
  // raw image and the image is dropped unless it is TRUE; the two images of
  // an update are judged independently, so an update that moves a row out of
  // the caller's view yields only its update_preimage, one that moves a row
  // in only its update_postimage (the change types are kept as the store
  // reports them). Audit action "table.changes".
  Result<governance::ChangeFeed> Changes(const Caller& caller, const governance::TableName& table,
                                         int64_t start_version, int64_t end_version);

  // Nearest neighbours in an index, restricted inside the search to rows
  // that pass the user filter AND the source table's row filter for this
  // caller. One snapshot is pinned for the whole call. The source table's
  // policies are resolved against the index's columns (the primary key, then
  // spec().attributes, named as in the source table); the user filter
  // (current_user() / is_member() are the caller's) is rewritten for masks
  // (RewriteFilterForMasks), ANDed with the row filter, and bound against the
  // attribute store as SearchRequest::filter. Returned values are masked.
  // Errors also: InvalidArgument for a null index, an unknown column in
  // query.columns, a bad filter, or a user filter on the primary key (not a
  // filterable attribute); FailedPrecondition if the row filter names a
  // column the index does not sync, or the primary key (the index cannot
  // enforce it: fail closed; the message names the column), or if the user
  // filter names a column masked by a keyed hash or partial reveal (not
  // supported inside a search yet). Audit action "index.query"; lineage:
  // query <- index@version.
  Result<IndexQueryResult> QueryIndex(const Caller& caller, const IndexRef& index, const IndexQuery& query);

  // --- Index scans and index metadata (access/governed_scan.cc) ---------------

  // Mosaic's scan: the index's rows in primary-key order, one page at a
  // time, restricted to rows the source table's row filter lets the caller
  // see (evaluated on each row's raw attributes in the pinned snapshot, as
  // QueryIndex does inside its search) and masked. One snapshot is pinned
  // per call: a page reflects index_version (which may be behind the
  // table), and tombstoned (deleted or replaced) rows are never returned.
  // The policies are resolved as for QueryIndex, against the index's columns
  // plus, with include_vector, its vector column (so a mask on it applies).
  // Paging by a masked key. The key the caller sees orders and positions the
  // pages, so nothing masked reaches them (not even through the order):
  //   - unmasked: the raw key; last_primary_key is the raw key;
  //   - masked by a keyed hash (STRING keys): the 64-hex hash, ordered
  //     bytewise; after_primary_key and last_primary_key are hashes; pages
  //     are complete and disjoint as with raw keys (the hash is injective in
  //     practice), but their order is that of the hashes;
  //   - any other mask (NULL, constant, partial reveal): its values do not
  //     identify rows, so the scan is refused (FailedPrecondition), whatever
  //     after_primary_key is; QueryIndex and ReadTable remain.
  // Paging is stateless: a page after key K taken from a later snapshot
  // continues after K in that snapshot (rows added meanwhile after K appear,
  // before K do not).
  // Cost per page: the row filter's bitmap (index/filter_bitmap.h), one key
  // comparison per visible row (plus one HMAC per visible row when the key
  // is hashed), a linear selection of the page (nth_element) and a sort of
  // the page only: O(visible + num_results log num_results); nothing is
  // cached between pages.
  // The same privileges as QueryIndex (USE CATALOG, USE SCHEMA, SELECT on
  // the index), checked first. Errors: PermissionDenied; InvalidArgument
  // (null index, num_results outside 1..10,000, an unknown column or the
  // vector column in request.columns, after_primary_key of the wrong type:
  // not the key's type, or not a STRING when the key is hashed);
  // FailedPrecondition as QueryIndex for a row filter the index cannot
  // enforce or an index built from another table, for a key masked by
  // anything but a keyed hash (above), and for include_vector when the
  // vector column cannot be told (spec().source does not name it and the
  // source table has no single VECTOR column of the index's dimension): its
  // mask could not be resolved.
  // Audit action "index.scan", parameters {"source", "after_primary_key",
  // "num_results", "columns", "include_vector", "query_id", "index_version",
  // "policies", "key_order", "visible_rows"}, keys = the RAW primary keys
  // returned; lineage as QueryIndex (index@version and table@version ->
  // query, read_by).
  Result<IndexScanResult> ScanIndex(const Caller& caller, const IndexRef& index, const IndexScanRequest& request);

  // Authorises describing an index (status, definition): USE CATALOG, USE
  // SCHEMA and SELECT on the index (Privileges::CheckRead). Returns OK or
  // PermissionDenied naming the missing privilege (an unknown index is
  // indistinguishable from a forbidden one: the service keeps the catalog of
  // indexes and answers NotFound only after this succeeds). Audit action
  // "index.describe", securable the index, row_count 0; no lineage.
  Status DescribeIndex(const Caller& caller, const governance::TableName& index_name);

  // The subset of `candidates` (index names) the caller may describe
  // (CheckRead on each), in the given order; a forbidden name is left out,
  // not an error. Errors: a privilege lookup's storage error (audited as
  // "error"). One audit record, action "index.list", securable "",
  // parameters {"candidates" (count), "indexes" (the names returned)},
  // row_count = names returned; no lineage.
  Result<std::vector<governance::TableName>> VisibleIndexes(const Caller& caller,
                                                            const std::vector<governance::TableName>& candidates);

  // --- Governed writes and creates ---------------------------------------------
  // The same pattern as the reads: the caller's privileges are checked
  // first (so a caller without them cannot tell a missing object from a
  // forbidden one), then the operation runs, and exactly one audit record is
  // appended per call: outcome "allowed", "denied" (PermissionDenied) or
  // "error" (anything else), the securable's full name, the request's
  // parameters and, for allowed calls, what was done (version committed,
  // rows added / updated / removed; row_count = rows written). Audit keys
  // are left empty for writes: the change feed at the committed version
  // (Store::Changes) lists the keys a write touched.
  // A denied or failed call changes nothing but the audit log; a data write
  // (Append, Upsert, DeleteKeys, DeleteWhere) runs in one
  // governance::Transaction, so a failed write commits nothing.
  // Audit after success. The store commit (or create) and the audit append
  // are separate SQLite transactions, the commit first: if the append then
  // fails, the call returns Internal saying what was committed ("version 7
  // of main.c.t was committed, but its audit record could not be written:
  // ..."); do not retry it blindly. The commit is still attributable: the
  // store's history records the principal of every commit (Store::History).
  // Lineage is not recorded for writes.
  // Ownership. The creator of a catalog, schema, table or index becomes its
  // owner (Privileges::SetOwner; owners hold every privilege, MANAGE
  // included, on the object and everything below it).
  // Thread-safety: thread-safe, as every Governed call; concurrent writers
  // to one table are serialised by the store (optimistic: a conflicting
  // concurrent commit makes one of them fail with Aborted: retry it).

  // Creates a catalog owned by the caller. Needs metastore admin (there is
  // no CREATE CATALOG privilege in this model). Errors: PermissionDenied
  // ("alice lacks metastore admin, needed to create catalog research");
  // InvalidArgument (name); AlreadyExists unless if_not_exists (an existing
  // catalog is then left as it is: its owner is not changed). Audit action
  // "catalog.create", parameters {"if_not_exists", "created"}.
  Status CreateCatalog(const Caller& caller, const std::string& catalog, bool if_not_exists = false);

  // Creates schema `catalog`.`schema` owned by the caller. privileges.h has
  // no CREATE SCHEMA privilege (Unity Catalog's), so this needs USE CATALOG
  // and MANAGE on the catalog (its owner has both), or metastore admin.
  // Errors: PermissionDenied naming the first missing privilege ("bob lacks
  // USE CATALOG on catalog main", "bob lacks MANAGE on catalog main");
  // InvalidArgument (names); NotFound (catalog); AlreadyExists unless
  // if_not_exists (an existing schema keeps its owner). Audit action
  // "schema.create".
  Status CreateSchema(const Caller& caller, const std::string& catalog, const std::string& schema,
                      bool if_not_exists = false);

  // Creates a table at version 0 (Store::CreateTable) owned by the caller.
  // Needs USE CATALOG, USE SCHEMA and CREATE TABLE on the schema
  // (Privileges::CheckCreateTable). A new table starts with no grants but
  // its owner's: direct grants left on the name by an earlier table of the
  // same name (dropped without DropTable) are removed first. Its policies are
  // not: row filters, masks and tags are keyed by name and apply to a table
  // re-created under it (the safe direction, governance/policies.h).
  // With options.if_not_exists, an existing table of the same schema is
  // returned unchanged (owner and grants untouched).
  // Errors: PermissionDenied; InvalidArgument (name, schema); NotFound
  // (catalog, schema); AlreadyExists (unless if_not_exists and the same
  // schema); if the owner cannot be recorded the new table is dropped again
  // and the error returned. Audit action "table.create", parameters
  // {"columns", "primary_key", "if_not_exists", "created"}.
  Result<governance::TableInfo> CreateTable(const Caller& caller, const governance::TableName& table,
                                            const Schema& schema,
                                            const governance::CreateTableOptions& options = {});

  // Drops a table with all its history (Store::DropTable), then every grant
  // and the owner on it (Privileges::DropSecurable), so a table re-created
  // under the name inherits none of them. Needs ownership or MANAGE on the
  // table or an ancestor, with USE CATALOG and USE SCHEMA
  // (Privileges::CheckManage), or metastore admin.
  // What remains: the table's row filter, column masks and tags (keyed by
  // name): a table re-created under the name is governed by them until its
  // owner changes them, and an index built from the dropped table that is
  // still served keeps its row filter and masks rather than losing them (an
  // index's policies are its source table's, resolved by name). Grants on
  // indexes built from the table are untouched (AuthorizeDropIndex). The
  // policy and grant history and the audit log keep the dropped table's
  // records.
  // Errors: PermissionDenied; NotFound (table); if the grants cannot be
  // removed after the table was dropped, that error, its message saying the
  // table was dropped (CreateTable removes leftover grants in any case).
  // Audit action "table.drop", parameters {"table_id", "version"} (the
  // last version).
  Status DropTable(const Caller& caller, const governance::TableName& table);

  // Appends rows (Transaction::Append: every primary key must be new).
  // Needs USE CATALOG, USE SCHEMA and MODIFY on the table
  // (Privileges::CheckWrite); SELECT is not needed. Not restricted by the
  // row filter: a caller may append rows they could not read back (as in
  // Unity Catalog, where row filters do not restrict INSERT). Note that
  // primary keys are unique across the table, so AlreadyExists tells a
  // caller that a key exists even if their row filter hides its row (its
  // values are not disclosed). Errors: PermissionDenied; NotFound (table);
  // those of Transaction::Append at commit (AlreadyExists, InvalidArgument
  // naming row and column, Aborted). Audit action "table.append",
  // parameters {"rows", "source", "read_version", "version", "rows_added"}.
  Result<WriteResult> Append(const Caller& caller, const governance::TableName& table, std::vector<Row> rows,
                             const WriteOptions& options = {});

  // Inserts new keys and replaces the rows of existing keys
  // (Transaction::Upsert). Needs what Append needs. New rows and the new
  // images of replaced rows are not restricted by the row filter (a caller
  // may move a row out of their own view). But a caller may not replace a
  // row their row filter hides: if any existing key of `rows` is hidden
  // from them at the read version, the call is refused (PermissionDenied
  // naming up to five such keys) and nothing is written; the read version is
  // pinned, so a hidden row appearing concurrently under one of the keys
  // makes the commit fail with Aborted instead of being overwritten.
  // Upsert replaces whole rows: writing back values read through a column
  // mask stores the masked values. Errors also: InvalidArgument for rows of
  // the wrong width or with a NULL / ill-typed primary key;
  // FailedPrecondition if the table's row filter does not bind against its
  // schema (fails closed); those of Transaction::Upsert. Audit action
  // "table.upsert", parameters as Append's plus "policies".
  Result<WriteResult> Upsert(const Caller& caller, const governance::TableName& table, std::vector<Row> rows,
                             const WriteOptions& options = {});

  // Deletes the live rows with these primary keys that the caller's row
  // filter lets them see (Transaction::DeleteKeys); keys that are unknown or
  // hidden are ignored alike (rows_removed < keys.size()), so the call does
  // not reveal which. Needs MODIFY and SELECT (each with USE CATALOG and USE
  // SCHEMA; MODIFY is checked first): as in SQL (PostgreSQL: DELETE needs
  // SELECT on the columns its condition reads), a delete chooses its rows by
  // reading the table, and its row count tells the caller what matched.
  // Keys given as text for a BIGINT key are coerced. With a row filter, the
  // keys are looked up at the read version (the primary key column only,
  // 1,000 keys per read) and the read version is pinned, so a key changed
  // concurrently makes the commit fail with Aborted.
  // Errors: PermissionDenied; NotFound (table);
  // InvalidArgument (a NULL or ill-typed key); FailedPrecondition if the
  // table's row filter does not bind against its schema (fails closed);
  // Aborted. Audit action "table.delete", parameters {"keys" (count),
  // "keys_visible", ...}.
  Result<WriteResult> DeleteKeys(const Caller& caller, const governance::TableName& table,
                                 std::vector<Value> keys, const WriteOptions& options = {});

  // Deletes the live rows matching `predicate` (filter language;
  // current_user() / is_member() are the caller's) among those the caller
  // can see: the predicate is ANDed with the caller's row filter, and
  // evaluated on masked values where a column is masked for the caller
  // (RewriteFilterForMasks), so a delete can neither reach nor probe rows
  // and values that ReadTable would not show them. Needs MODIFY and SELECT,
  // as DeleteKeys. Errors: PermissionDenied; NotFound (table);
  // InvalidArgument (empty or bad predicate); FailedPrecondition if the
  // predicate names a column masked by a keyed hash or partial reveal (not
  // expressible in the store's SQL: fail closed; delete by key instead) or
  // the row filter does not bind; Aborted if the table changed since the
  // read version (any concurrent commit conflicts with a DeleteWhere).
  // A caller whose row filter hides every row deletes nothing (version -1).
  // The effective predicate is also what the store records in the commit's
  // parameters (Store::History), so the table's history shows the caller's
  // folded row filter.
  // Audit action "table.delete", parameters {"predicate" (as given),
  // "effective_predicate" (with the row filter), ...}.
  Result<WriteResult> DeleteWhere(const Caller& caller, const governance::TableName& table,
                                  const std::string& predicate, const WriteOptions& options = {});

  // Authorises creating index `index_name` on `table` and records the caller
  // as the owner of the index securable. Needs SELECT (with USE CATALOG, USE
  // SCHEMA) on the table and USE CATALOG, USE SCHEMA and CREATE INDEX on the
  // index's schema (Privileges::CheckCreateIndex). The index itself is built
  // by the caller (ingest/index_sync.h) and held by the service; this call
  // does not build or register it. Direct grants left on the index name are
  // removed before the owner is set.
  // REQUIRES: the service serialises index creation per name (two concurrent
  // calls for one free name may both succeed; the last owner wins).
  // Errors: PermissionDenied; NotFound (table); AlreadyExists if the index
  // securable already has an owner (an index of that name exists:
  // AuthorizeDropIndex it first; this also stops a caller from taking over
  // an existing index by "creating" it); InvalidArgument (names). Audit
  // action "index.create", securable the index, parameters {"source",
  // "source_version"}.
  Status AuthorizeCreateIndex(const Caller& caller, const governance::TableName& table,
                              const governance::TableName& index_name);

  // Authorises dropping index `index_name` and removes every grant and the
  // owner on it (Privileges::DropSecurable); the service then discards the
  // index object. Needs ownership or MANAGE on the index or an ancestor,
  // with USE CATALOG and USE SCHEMA (CheckManage), or metastore admin. An
  // index without grants or owner is OK (nothing to remove). Errors:
  // PermissionDenied; InvalidArgument (name). Audit action "index.drop".
  Status AuthorizeDropIndex(const Caller& caller, const governance::TableName& index_name);

  // Builds index `index_name` from its source table, or brings it forward
  // from the table's change feed (ingest::SyncIndex: a build when it was
  // never built, a rebuild with a reason when the feed cannot bring it
  // forward), to `target_version` (nullopt: current), and records the
  // lineage edge table@v -> index@v (relation "synced_from"). The index
  // holds every row of the table, unfiltered (its readers' row filters apply
  // inside their searches), so this needs SELECT on the table (CheckRead)
  // and ownership or MANAGE on the index (CheckManage), or metastore admin.
  // `index` is borrowed and must not be synced concurrently (ingest/
  // index_sync.h). Errors: PermissionDenied; those of ingest::SyncIndex (the
  // index is unchanged on error). Audit action "index.sync", securable the
  // index, parameters {"source", "from_version", "to_version", "inserted",
  // "updated", "deleted", "rebuilt", "reason"}.
  Result<ingest::SyncReport> SyncIndex(const Caller& caller, const governance::TableName& index_name,
                                       const ingest::IndexSource& source, index::VectorIndex& index,
                                       std::optional<int64_t> target_version = std::nullopt);

  // --- Catalog listings and restore (access/governed_catalog.cc) ---
  // The same pattern as the calls above: privileges first, exactly one audit
  // record per call (outcome "allowed", "denied" for PermissionDenied,
  // "error" otherwise; no keys, no lineage). A listing returns only what the
  // caller may use or read, so it never discloses the names of objects
  // hidden from them; its audit row_count is the number of entries returned.

  // A catalog or schema as listed. `owner` is the governance owner
  // (Privileges::Owner), "" when none was recorded. The store keeps no
  // comment or creation time for catalogs and schemas.
  struct CatalogListing {
    std::string name;
    std::string owner;
  };
  struct SchemaListing {
    std::string catalog;
    std::string name;
    std::string owner;
  };

  // The catalogs the caller holds USE CATALOG on (directly, through a group,
  // an ALL PRIVILEGES grant or ownership: Privileges::Has); every catalog for
  // a metastore admin. Sorted by name. Errors: store errors. Audit action
  // "catalog.list", securable "".
  Result<std::vector<CatalogListing>> ListCatalogs(const Caller& caller);

  // The schemas of `catalog` the caller holds USE SCHEMA on (every schema
  // for a metastore admin), sorted by name. Needs USE CATALOG on the catalog,
  // checked first (so a caller without it cannot tell a missing catalog from
  // a forbidden one). Errors: InvalidArgument (name); PermissionDenied
  // ("bob lacks USE CATALOG on catalog main"); NotFound (catalog). Audit
  // action "schema.list", securable the catalog.
  Result<std::vector<SchemaListing>> ListSchemas(const Caller& caller, const std::string& catalog);

  // The tables of `catalog` (of `schema` when not empty) the caller may read
  // (Privileges::CheckRead: USE CATALOG + USE SCHEMA + SELECT), sorted by
  // name, each as Store::DescribeTable gives it at the current version
  // except row_count, which is -1: counting would need the caller's row
  // filter per table (use DescribeTable). Needs USE CATALOG on the catalog,
  // and USE SCHEMA on `schema` when one is given, checked first.
  // A table dropped between listing and describing is skipped.
  // Errors: InvalidArgument (names); PermissionDenied; NotFound (catalog,
  // schema). Audit action "table.list", securable the catalog or schema,
  // parameters {"catalog", "schema", "candidates", "visible"}.
  Result<std::vector<governance::TableInfo>> ListTables(const Caller& caller, const std::string& catalog,
                                                        const std::string& schema = "");

  // Makes the rows and schema of `table` those of `version` again, as a new
  // commit (Store: Transaction::Restore, operation RESTORE), pinned to the
  // version current when the call starts (a concurrent commit makes it fail
  // with Aborted: retry). Needs MODIFY and SELECT (Privileges::CheckWrite,
  // then CheckRead; as a delete, a restore chooses rows by reading the
  // table). Row filters: a restore rewrites every row of the table,
  // including rows the caller's row filter hides (it could delete them or
  // bring back old values), so it is refused (PermissionDenied naming the
  // row filter) whenever a row filter applies to the caller on the table
  // (EffectivePolicy::row_filter at the current schema is set); if the
  // caller's policies cannot be resolved the call fails closed with that
  // error. MANAGE does not waive this: a caller restricted by a row filter
  // asks one who is not (or the filter's owner changes it). Column masks do
  // not restrict a restore (it discloses nothing).
  // Errors: PermissionDenied; NotFound (table, version beyond the current
  // one); InvalidArgument (version < 0); FailedPrecondition (vacuumed
  // version); Aborted. Audit action "table.restore", parameters
  // {"restore_version", "read_version", "version", "rows_added",
  // "rows_updated", "rows_removed", "policies"}; row_count = rows written.
  Result<WriteResult> RestoreTable(const Caller& caller, const governance::TableName& table, int64_t version);

  // Append or Upsert of rows decoded against the table's schema: for the
  // service, whose rows arrive as JSON and need the schema to be typed. The
  // call checks MODIFY (Privileges::CheckWrite) first, then takes the schema
  // at options.read_version (current by default), calls `decode` with it and
  // runs Append (upsert false) or Upsert with the rows, the write pinned to
  // that version (options.read_version is set to it, so a column added
  // concurrently makes the write fail with Aborted instead of mis-typing
  // rows). Neither a caller without MODIFY nor one whose rows do not decode
  // learns anything of the schema the privilege check protects. `decode`
  // returns the rows or an error (InvalidArgument naming the row and the
  // column), which is returned as is and audited; nothing is committed.
  // Exactly one audit record, action "table.append" / "table.upsert" as
  // Append / Upsert (a decode error: outcome "error", parameters {"stage":
  // "decode"}).
  using RowDecoder = std::function<Result<std::vector<Row>>(const Schema& schema)>;
  Result<WriteResult> WriteDecodedRows(const Caller& caller, const governance::TableName& table, bool upsert,
                                       const RowDecoder& decode, WriteOptions options = {});

  // --- Governed administration (access/governed_admin.cc) ---
  // Principals and groups, tokens, grants and owners, row filters, column
  // masks, tags and tag policies. The governance components do not authorise
  // their callers ("the service checks first"): these calls do, with the
  // pattern of every Governed call: the privilege check first (so a caller
  // without it learns nothing about the object), then validation and the
  // change, and exactly one audit record per call, outcome "allowed",
  // "denied" (PermissionDenied) or "error" (anything else), keys empty,
  // row_count = the entries a listing returned (0 otherwise), parameters =
  // the request as given plus the caller's "token_id". A denied or failed
  // call changes nothing but the audit log. A change is durable before its
  // audit record is appended: if that append fails, the call returns
  // Internal naming what was done (do not retry it blindly); a read whose
  // append fails returns that error and nothing else.
  // A token's plaintext is never in an audit record, a parameter or a
  // message.
  //
  // Who may:
  //   principals, groups, tag policies: metastore admins ("bob lacks
  //     metastore admin, needed to create principal carol");
  //   tokens: a user for their own tokens; metastore admins for anyone's;
  //   grants, owners, row filters, column masks, tag changes: ownership or
  //     MANAGE on the securable or an ancestor with USE CATALOG / USE SCHEMA
  //     (Privileges::CheckManage), or metastore admin;
  //   reading grants, effective permissions, row filters, masks, tags: see
  //     each call.
  // Names. Principal names are checked with Principals::ValidateName
  // (InvalidArgument naming the field) and resolved to the spelling given at
  // creation before they are stored in a grant, an owner or a membership
  // (Privileges compares names exactly; Principals ignores case). Securable
  // names are checked by Securable::Parse / TableName::Parse.
  // Existence. Privileges and policies are keyed by name, so existence is
  // checked after the privilege check, only for callers who passed it:
  // NotFound "table main.c.t does not exist" (catalogs and schemas in the
  // store's catalog, tables in the store, an index by its owner, which
  // AuthorizeCreateIndex records).

  // A principal with its memberships (DescribePrincipal).
  struct PrincipalDetails {
    governance::PrincipalInfo info;
    std::vector<std::string> groups;                 // every group containing it, transitively, sorted
    std::vector<governance::PrincipalInfo> members;  // a group's direct members; empty for a user
  };

  // Creates a user or a group and returns it. Metastore admins only.
  // Errors: PermissionDenied; InvalidArgument (name); AlreadyExists (a user
  // or group of that name, in any case). Audit action "principal.create",
  // securable "", parameters {"name", "kind"}.
  Result<governance::PrincipalInfo> CreatePrincipal(const Caller& caller, const std::string& name,
                                                    governance::PrincipalKind kind);
  // Drops a user or group (Principals::DropPrincipal: its memberships are
  // removed and a user's live tokens revoked). Metastore admins only; a
  // caller cannot drop themselves (FailedPrecondition), nor the metastore
  // admin group. Its grants and ownerships are removed too
  // (Privileges::DropPrincipal), so a principal later created under the name
  // inherits nothing; securables it owned are left to MANAGE holders and
  // metastore admins.
  // Errors: PermissionDenied; InvalidArgument (name); NotFound. Audit action
  // "principal.drop", parameters {"name", "kind"}.
  Status DropPrincipal(const Caller& caller, const std::string& name);
  // Every principal, or those of one kind, sorted by name ignoring case.
  // Metastore admins only. Audit action "principal.list", parameters
  // {"kind"}; row_count = principals returned.
  Result<std::vector<governance::PrincipalInfo>> ListPrincipals(
      const Caller& caller, std::optional<governance::PrincipalKind> kind = std::nullopt);
  // One principal with its groups and, for a group, its direct members.
  // Metastore admins, or a user describing themselves. Errors:
  // PermissionDenied; InvalidArgument (name); NotFound. Audit action
  // "principal.describe", parameters {"name"}.
  Result<PrincipalDetails> DescribePrincipal(const Caller& caller, const std::string& name);
  // Adds `member` (a user or group) to `group` / removes a direct
  // membership. Metastore admins only. Errors: PermissionDenied;
  // InvalidArgument (names; `group` is a user); NotFound (either principal;
  // RemoveMember: not a direct member); AlreadyExists (AddMember: already a
  // direct member); FailedPrecondition (AddMember: the group would contain
  // itself, the message naming the cycle). Audit actions
  // "group.member.add" / "group.member.remove", parameters {"group",
  // "member"}.
  Status AddMember(const Caller& caller, const std::string& group, const std::string& member);
  Status RemoveMember(const Caller& caller, const std::string& group, const std::string& member);

  // A token just issued.
  struct NewToken {
    std::string token;          // the plaintext, "vst_..."; returned once, never stored or audited
    governance::TokenInfo info;  // its metadata (token_id, user, created_at, expires_at, ...)
  };
  // The longest token lifetime IssueToken accepts (about 100 years).
  static constexpr int64_t kMaxTokenLifetimeSeconds = int64_t{100} * 366 * 24 * 3600;
  // Issues a bearer token for `user` ("" = the caller), expiring
  // `lifetime_seconds` from now (nullopt: never). A user may issue tokens
  // for themselves; metastore admins for any user. Errors: PermissionDenied
  // ("bob lacks metastore admin, needed to issue a token for alice");
  // InvalidArgument (lifetime outside 1..kMaxTokenLifetimeSeconds, a group,
  // a comment over 1,000 bytes); NotFound (user). Audit action
  // "token.issue", parameters {"user", "lifetime_seconds", "comment",
  // "issued_token_id"} (never the token).
  Result<NewToken> IssueToken(const Caller& caller, const std::string& user,
                              std::optional<int64_t> lifetime_seconds, const std::string& comment);
  // The tokens of `user` ("" = the caller), oldest first: all of them with
  // include_inactive, else only those neither revoked nor expired. Own
  // tokens, or metastore admins for anyone's. Never the token or its hash.
  // Errors: PermissionDenied; NotFound (user). Audit action "token.list",
  // parameters {"user", "include_inactive"}; row_count = tokens returned.
  Result<std::vector<governance::TokenInfo>> ListTokens(const Caller& caller, const std::string& user,
                                                        bool include_inactive = false);
  // Revokes a token by id; it stops authenticating at once (revoking a
  // revoked token is OK). A user may revoke their own tokens; metastore
  // admins any. A non-admin naming a token that is not theirs gets
  // PermissionDenied whether or not it exists (token ids of others are not
  // disclosed). Errors also: InvalidArgument (empty id); NotFound (admins:
  // unknown id). Audit action "token.revoke", parameters {"token_id",
  // "user" (when known)}.
  Status RevokeToken(const Caller& caller, const std::string& token_id);

  // The direct grants on `s` (Privileges::ListGrants), by principal.
  // Callers who may manage `s` (CheckManage, or metastore admin) see every
  // assignment, and NotFound for a securable that does not exist. Any other
  // caller sees only the assignments to themselves and to the groups they
  // are in (what EffectivePermissions would tell them), without an
  // existence check, so they cannot probe for names. `principal` (optional)
  // keeps only that principal's assignment (compared ignoring case).
  // Errors: InvalidArgument (securable, principal name); NotFound. Audit
  // action "grant.get", securable s.full_name, parameters
  // {"securable_type", "principal", "only_own"}; row_count = assignments.
  Result<std::vector<governance::PrivilegeAssignment>> GetPermissions(
      const Caller& caller, const governance::Securable& s,
      const std::optional<std::string>& principal = std::nullopt);
  // Unity Catalog's PATCH permissions: applies `changes` to `s` atomically
  // (Privileges::UpdatePermissions) and returns the new direct grants.
  // Needs CheckManage on `s` or metastore admin (so nobody can grant
  // themselves anything without it). Each change's principal must exist
  // when it adds privileges (a remove-only change may name a dropped
  // principal, to clean up its grants) and is stored in its spelling at
  // creation. Errors: PermissionDenied ("bob lacks MANAGE on table
  // main.c.t"); InvalidArgument naming the change ("changes[1].principal:
  // ...", an empty change list, a privilege that cannot apply to s's type,
  // one both added and removed); NotFound (securable; "changes[0].principal:
  // principal 'x' does not exist"). Audit action "grant.update", parameters
  // {"securable_type", "changes": [{"principal", "add", "remove"}]}.
  Result<std::vector<governance::PrivilegeAssignment>> UpdatePermissions(
      const Caller& caller, const governance::Securable& s,
      std::vector<governance::PermissionsChange> changes);
  // Every privilege `principal` ("" = the caller; a user or a group) holds
  // on `s`, with its source (Privileges::EffectivePermissions; a group is
  // evaluated as a principal with its own groups). Anyone may ask about
  // themselves (no existence check: answered by name, as GetPermissions);
  // asking about another principal needs CheckManage on `s` or metastore
  // admin, and then NotFound for a securable that does not exist.
  // Errors: PermissionDenied; InvalidArgument; NotFound (principal,
  // securable). Audit action "grant.effective", parameters
  // {"securable_type", "principal"}; row_count = entries.
  Result<std::vector<governance::EffectivePrivilege>> EffectivePermissions(const Caller& caller,
                                                                           const governance::Securable& s,
                                                                           const std::string& principal = "");
  // Makes `owner` (a user or group; stored in its spelling at creation) the
  // owner of `s`. Needs CheckManage on `s` or metastore admin. Errors:
  // PermissionDenied; InvalidArgument; NotFound (securable, owner). Audit
  // action "owner.set", parameters {"securable_type", "owner",
  // "previous_owner"}.
  Status SetOwner(const Caller& caller, const governance::Securable& s, const std::string& owner);

  // Row filters (Policies::SetRowFilter ...). Each needs CheckManage on the
  // table or metastore admin: the filter text itself may disclose what a
  // caller is kept from. Set: NotFound (table), InvalidArgument naming the
  // problem (syntax, unknown column); the filter is bound against the
  // table's current schema. Drop: NotFound if there is none (no existence
  // check of the table: a dropped table's filter can be removed). Get: the
  // text or nullopt; NotFound if there is none and the table does not
  // exist. Audit actions "policy.row_filter.set" (parameters {"filter"}),
  // "policy.row_filter.drop", "policy.row_filter.get"; securable the table.
  Status SetRowFilter(const Caller& caller, const governance::TableName& table, const std::string& filter);
  Status DropRowFilter(const Caller& caller, const governance::TableName& table);
  Result<std::optional<std::string>> GetRowFilter(const Caller& caller, const governance::TableName& table);

  // Column masks, with the same privileges and existence rules as row
  // filters. Set: a kConstant constant that does not fit the column's type
  // as given is converted from its text where it parses (a string for a
  // DATE, an integer for a DOUBLE). Errors: NotFound (table, column: the
  // message lists the columns; Drop: no mask on the column);
  // InvalidArgument (column name empty, the mask: see
  // Policies::SetColumnMask). List: the table's direct masks by column.
  // Audit actions "policy.column_mask.set" (parameters {"column", "mask"}),
  // "policy.column_mask.drop" ({"column"}), "policy.column_mask.list";
  // securable the table.
  Status SetColumnMask(const Caller& caller, const governance::TableName& table, const std::string& column,
                       const governance::MaskSpec& mask);
  Status DropColumnMask(const Caller& caller, const governance::TableName& table, const std::string& column);
  Result<std::vector<std::pair<std::string, governance::MaskSpec>>> ListColumnMasks(
      const Caller& caller, const governance::TableName& table);

  // Governed tags on a table (column nullopt) or one of its columns. Set and
  // Unset need CheckManage on the table or metastore admin; List needs read
  // access to the table (CheckRead) or CheckManage. Errors: PermissionDenied;
  // NotFound (table, column; Unset: no such tag; List: no tag and no table);
  // InvalidArgument (key 1..255 bytes, value at most 1,000 bytes of UTF-8).
  // Audit actions "tag.set" (parameters {"column", "key", "value"}),
  // "tag.unset" ({"column", "key"}), "tag.list"; securable the table.
  Status SetTag(const Caller& caller, const governance::TableName& table,
                const std::optional<std::string>& column, const std::string& key, const std::string& value);
  Status UnsetTag(const Caller& caller, const governance::TableName& table,
                  const std::optional<std::string>& column, const std::string& key);
  Result<std::vector<governance::Tag>> ListTags(const Caller& caller, const governance::TableName& table);

  // Tag policies (ABAC), metastore admins only. Create: policy.kind kMask
  // uses policy.mask, kRowFilter policy.filter (parsed here, bound per table
  // when resolved); created_by / created_at are ignored and set; returns the
  // policy as stored. Errors: PermissionDenied; AlreadyExists;
  // InvalidArgument (name, tag key, mask, filter syntax); NotFound (Drop).
  // Audit actions "tag_policy.create" (parameters {"name", "kind",
  // "tag_key", "tag_value", "mask" | "filter"}), "tag_policy.drop"
  // ({"name"}), "tag_policy.list"; securable "".
  Result<governance::TagPolicy> CreateTagPolicy(const Caller& caller, const governance::TagPolicy& policy);
  Status DropTagPolicy(const Caller& caller, const std::string& name);
  Result<std::vector<governance::TagPolicy>> ListTagPolicies(const Caller& caller);

  // --- Governed metadata reads (access/governed_meta.cc) -----------------------
  // The same pattern as the reads: privileges are checked first, then the
  // call runs, and exactly one audit record is appended per call (outcome
  // "allowed", "denied" for PermissionDenied, "error" otherwise). For these
  // calls the audit row_count is the number of entries returned (commits,
  // audit records, lines exported, lineage edges; 0 for DescribeTable) and
  // the keys are empty (no table rows are returned). No lineage is recorded.
  // An allowed call whose audit append fails fails with that error and
  // returns nothing (ExportAudit: see there).

  // DESCRIBE TABLE at `at` (current by default): the store's TableInfo
  // (schema as of that version, comment, owner, properties, versions), except
  // row_count, which counts only the rows the caller's row filter (resolved
  // against the schema of that version, as ReadTable does) lets them see at
  // that version: a filtered row does not exist for the caller, not even in
  // counts. It equals the number of rows ReadTable(caller, table, {.at = at})
  // returns. Needs USE CATALOG + USE SCHEMA + SELECT on the table (CheckRead).
  // Cost: without a row filter for this caller, none beyond the store's
  // describe; with one, one read of the primary key column at that version.
  // Errors: PermissionDenied; NotFound (table, version); FailedPrecondition
  // (vacuumed version, or a row filter that does not bind against that
  // version's schema: fails closed, as ReadTable). Audit action
  // "table.describe", parameters {"version" / "timestamp" as given,
  // "version_read", "policies", "row_count" (the visible count)}.
  Result<governance::TableInfo> DescribeTable(const Caller& caller, const governance::TableName& table,
                                              const governance::VersionSpec& at = {});

  // DESCRIBE HISTORY, newest first, at most `limit` entries (-1: all). Needs
  // CheckRead on the table. Redaction: the store's commit parameters may
  // hold what a caller must not see (a DeleteWhere's effective predicate
  // embeds another caller's folded row filter and may compare masked columns
  // with raw values; an ingest's source path), and row metrics count rows a
  // row filter may hide. So unless the caller holds MANAGE on the table
  // (owners, MANAGE grantees on it or an ancestor, metastore admins:
  // Privileges::Has), each entry keeps table, version, timestamp, principal,
  // operation and read_version, its parameters_json is "{}", and its
  // rows_added / rows_removed / rows_updated are kept only when no row filter
  // applies to the caller (the current schema's, as resolved by Policies)
  // and are -1 ("withheld") otherwise, also when the row filter cannot be
  // resolved. MANAGE holders get the entries as the store gives them.
  // Errors: PermissionDenied; NotFound (table); InvalidArgument (limit <
  // -1). Audit action "table.history", parameters {"limit", "redacted",
  // "metrics_withheld"}; row_count = entries returned.
  Result<std::vector<governance::CommitInfo>> History(const Caller& caller, const governance::TableName& table,
                                                      int64_t limit = -1);

  // The audit log, filtered (governance::AuditLog::Query; `q` as there).
  // privileges.h has no privilege to read the audit log, so only metastore
  // admins may: the log lists every principal's requests and the raw keys
  // disclosed to them. Everyone else: PermissionDenied ("alice lacks
  // metastore admin, needed to read the audit log"), audited. The query is
  // itself audited after it ran (so its own record is not in its result).
  // Errors also: InvalidArgument (q.Validate()). Audit action "audit.query",
  // securable "", parameters: the filters given; row_count = records
  // returned.
  Result<std::vector<governance::AuditRecord>> QueryAudit(const Caller& caller, const governance::AuditQuery& q);

  // Writes the matching records to `out` as JSON lines
  // (AuditLog::ExportJsonLines). Metastore admins only, as QueryAudit. The
  // export is audited after it was written (row_count = lines written): if
  // that append fails, the call returns its error, but the lines are already
  // in `out`. Errors also: as ExportJsonLines. Audit action "audit.export".
  Status ExportAudit(const Caller& caller, const governance::AuditQuery& q, std::ostream& out);

  // Verifies the audit chain (AuditLog::Verify). Metastore admins only.
  // Tampering is a result, not an error: intact false, with the first bad
  // record and Verify's message. Errors: PermissionDenied; an I/O error of
  // Verify. Audited after the check (action "audit.verify", parameters
  // {"intact", "records_checked", "first_bad_seq"}), so the check never
  // covers its own record.
  Result<AuditVerification> VerifyAudit(const Caller& caller);

  // Lineage edges upstream / downstream of `node` (governance::Lineage;
  // max_depth >= 1). Visibility: metastore admins see every edge. Any other
  // caller may ask only about a node of kind "table" or "index" they may
  // read (CheckRead on it: USE CATALOG + USE SCHEMA + SELECT), else
  // PermissionDenied; query and job nodes are for admins only. Their walk
  // goes only through nodes they may read: an edge is returned when its far
  // end is a table or index they may read, and the walk continues only from
  // such nodes, so neither a hidden node nor anything reached only through
  // one appears (query nodes, hence the "read_by" edges of queries, are
  // never shown to them). Depths are those of this restricted walk; each
  // edge appears once; within a depth in recording order per node expanded.
  // Errors also: InvalidArgument (max_depth < 1); ResourceExhausted beyond
  // 100,000 edges. Audit action "lineage.query", securable node.name,
  // parameters {"direction", "kind", "name", "version", "max_depth"};
  // row_count = edges returned.
  Result<std::vector<governance::LineageEdge>> Upstream(const Caller& caller, const governance::LineageNode& node,
                                                        int max_depth = 8);
  Result<std::vector<governance::LineageEdge>> Downstream(const Caller& caller,
                                                          const governance::LineageNode& node, int max_depth = 8);

 private:
  Governed();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::access
