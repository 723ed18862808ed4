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
// record: principal ("" if unauthenticated), action ("table.read",
// "table.changes", "index.query", "auth.token"), securable (full name),
// parameters (the request as given plus what was resolved: version read,
// index version, policies applied, the query id, the token id), outcome
// "allowed" / "denied" (PermissionDenied, Unauthenticated) / "error" (any
// other failure) with the message, row_count, and keys: the primary keys of
// the rows returned as text (Value::ToString; invalid UTF-8 bytes as \xNN),
// RAW even where the caller saw them masked: the audit log is a privileged
// record of which patients were disclosed to whom. If the audit append of an
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

 private:
  Governed();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::access
