// Private to access/*.cc: the state behind a Governed and the helpers its
// .cc files share (governed.cc: the reads; governed_writes.cc: writes and
// creates; governed_index.cc: index syncs and PinIndex, the first steps of
// every index read; governed_scan.cc: index scans and index metadata).
// Not part of any public API; nothing outside access/ includes it.
//
// Thread-safety: as Governed (every component is thread-safe; rng is guarded
// by rng_mu).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "filter/ast.h"
#include "filter/bind.h"

namespace vesta::access {
namespace internal {

// `s` as valid UTF-8 for an audit record (AuditLog::Append refuses anything
// else): each byte that is not part of a well-formed sequence becomes the
// four characters "\xNN". Valid text is returned unchanged.
std::string AuditText(std::string_view s);
// JSON text for the audit: never throws on invalid UTF-8 in user text.
std::string DumpJson(const nlohmann::json& j);
// The user's filter text parsed, with the caller's current_user() and
// is_member() resolved, and bound against `schema`. Errors: those of the
// parser and of Bind (InvalidArgument).
Result<filter::BoundExpr> BindUserFilter(const std::string& text, const Schema& schema, const Caller& caller);
// The AND of `parts` (bound against `schema`) as the canonical filter_string
// text the store compiles to SQL; "" for no parts. Fails closed if the text
// does not parse and bind back to the very same tree. Errors:
// InvalidArgument if the combined text exceeds the filter language's limits;
// Internal otherwise.
Result<std::string> StorePredicate(const std::vector<filter::Expr>& parts, const Schema& schema);

// Appends the "allowed" record of a call whose effect is already durable
// (`done` says what it was, for the error). The effect cannot be undone, so
// a failed append is reported as Internal naming it: the caller must not
// retry blindly.
Status AllowDone(governance::AuditLog& audit, governance::AuditRecord r, const nlohmann::json& params,
                 int64_t row_count, const std::string& done);

// Appends the "allowed" record of a call that only read (metadata,
// listings: no keys, no lineage). A failed append withholds the result: its
// error is returned ("the audit record could not be written, so the result
// is withheld: ...").
Status AllowRead(governance::AuditLog& audit, governance::AuditRecord r, const nlohmann::json& params,
                 int64_t row_count);

// The caller's groups as the set Privileges takes.
std::set<std::string> GroupSet(const Caller& caller);

// The data writes of Governed::Impl::Write.
enum class WriteKind { kAppend, kUpsert, kDeleteKeys, kDeleteWhere };

// An index pinned for one governed read (ScanIndex; QueryIndex resolves the
// same way): one snapshot, the index's columns as its source table's, and
// the caller's policies on them. Made by Governed::Impl::PinIndex.
struct PinnedIndex {
  std::shared_ptr<const index::IndexSnapshot> snap;  // read everything from this
  std::string name;                                  // the index's full name
  std::string source;                                // its source table's full name
  // The primary key (entry 0), then the attribute columns other than the key
  // (named as in the source table), then, if asked for, the vector column.
  Schema columns;
  // Per entry of `columns`: its column in snap->attributes(); -1 for the key
  // when it is not also an attribute, and for the vector column.
  std::vector<int> attr_of;
  // The vector column's entry in `columns`; -1 when not asked for. Entries
  // [0, filterable) are the key and the attributes.
  int vector_column = -1;
  size_t filterable = 0;
  // The caller's policies, resolved against `columns`: masks[i] is the mask
  // of columns[i] (the vector column's included).
  governance::EffectivePolicy policy;
  // policy.row_filter bound against spec().attributes; folded (no
  // EvalContext needed); nullopt when no row filter applies to the caller.
  std::optional<filter::BoundExpr> row_filter;
};

// The entries of pinned.columns[0, filterable) that `requested` names
// (ignoring case, in order; naming the key, entry 0, adds nothing); empty:
// every attribute column. Errors: InvalidArgument naming the column and
// listing the index's columns.
Result<std::vector<size_t>> SelectIndexColumns(const PinnedIndex& pinned,
                                               const std::vector<std::string>& requested);

}  // namespace internal

struct Governed::Impl {
  // Declaration order matters: `policies` borrows `store`.
  std::unique_ptr<governance::Store> store;
  std::unique_ptr<governance::Principals> principals;
  std::unique_ptr<governance::Privileges> privileges;
  std::unique_ptr<governance::Policies> policies;
  std::unique_ptr<governance::AuditLog> audit;
  std::unique_ptr<governance::Lineage> lineage;

  std::mutex rng_mu;  // guards rng
  std::mt19937_64 rng{SeedQueryIds()};

  // Query ids must not repeat across processes sharing the store.
  static uint64_t SeedQueryIds() {
    std::random_device rd;
    const uint64_t hi = rd(), lo = rd();
    return ((hi << 32) | lo) ^ static_cast<uint64_t>(NowTimestamp().micros);
  }

  std::string NewQueryId() {
    uint64_t x = 0;
    {
      std::lock_guard<std::mutex> l(rng_mu);
      x = rng();
    }
    char buf[24];
    std::snprintf(buf, sizeof(buf), "q-%016llx", static_cast<unsigned long long>(x));
    return buf;
  }

  static governance::AuditRecord NewRecord(const Caller& caller, std::string action, std::string securable) {
    governance::AuditRecord r;
    r.principal = caller.user;
    r.action = std::move(action);
    r.securable = internal::AuditText(securable);
    return r;
  }

  // Audits a refused or failed call and returns its status (annotated if
  // the audit append failed too).
  Status Fail(governance::AuditRecord r, const nlohmann::json& params, const Status& st) {
    r.parameters_json = internal::DumpJson(params);
    r.outcome = (st.code() == StatusCode::kPermissionDenied || st.code() == StatusCode::kUnauthenticated)
                    ? "denied"
                    : "error";
    r.message = internal::AuditText(st.message());
    r.row_count = 0;
    r.keys.clear();
    Result<governance::AuditRecord> appended = audit->Append(std::move(r));
    if (!appended.ok()) {
      return Status(st.code(), st.message() +
                                   " (and the audit record of this request could not be written: " +
                                   appended.status().message() + ")");
    }
    return st;
  }

  // Records the lineage edge, then the allowed audit record: the gate of
  // every successful read. On error the caller must return it and nothing
  // else.
  // `from`: what the result was read from (a table at a version; an index
  // and its source table at the version the index reflects).
  Status Allow(governance::AuditRecord r, const nlohmann::json& params, int64_t row_count,
               std::vector<std::string> keys, std::vector<governance::LineageNode> from,
               const std::string& query_id) {
    for (governance::LineageNode& node : from) {
      governance::LineageEdge edge;
      edge.from = std::move(node);
      edge.to = {"query", query_id, -1};
      edge.relation = "read_by";
      edge.principal = r.principal;
      edge.details_json = internal::DumpJson(nlohmann::json{{"action", r.action}});
      Status lst = lineage->Record(edge);
      if (!lst.ok()) {
        return Fail(std::move(r), params,
                    Status(lst.code(), "lineage could not be recorded: " + lst.message()));
      }
    }
    r.parameters_json = internal::DumpJson(params);
    r.outcome = "allowed";
    r.row_count = row_count;
    r.keys = std::move(keys);
    Result<governance::AuditRecord> appended = audit->Append(std::move(r));
    if (!appended.ok()) {
      return Status(
          appended.status().code(),
          "the audit record could not be written, so the result is withheld: " + appended.status().message());
    }
    return Status::OK();
  }

  Result<governance::ReadResult> ReadTable(const Caller& caller, const governance::TableName& table,
                                           const governance::ReadOptions& options, nlohmann::json* params,
                                           std::vector<std::string>* keys);
  Result<governance::ChangeFeed> Changes(const Caller& caller, const governance::TableName& table,
                                         int64_t start_version, int64_t end_version, nlohmann::json* params,
                                         std::vector<std::string>* keys);
  Result<IndexQueryResult> QueryIndex(const Caller& caller, const IndexRef& ref, const IndexQuery& query,
                                      nlohmann::json* params, std::vector<std::string>* keys);

  // The first steps of every index read (access/governed_index.cc): checks
  // USE CATALOG + USE SCHEMA + SELECT on the index (first, so a caller
  // without them learns nothing else), pins the current snapshot (recording
  // "index_version" in *params), checks that the index was built from
  // ref.source, resolves the source table's policies for the caller against
  // the index's columns (recording "policies") and binds the row filter
  // against the attribute store. With `with_vector`, the vector column (as
  // named in spec().source, else the source table's one VECTOR column of the
  // index's dimension: one DescribeTable) is among the columns, so that its
  // mask applies. Errors: PermissionDenied; InvalidArgument for a null
  // index; FailedPrecondition for an index built from another table, a row
  // filter naming a column the index does not sync or its primary key (the
  // index cannot enforce it: fail closed, naming the column), or, with
  // `with_vector`, a vector column that cannot be told (neither named in
  // spec().source nor the source table's one VECTOR column of the index's
  // dimension: its mask would be unknown).
  Result<internal::PinnedIndex> PinIndex(const Caller& caller, const IndexRef& ref, bool with_vector,
                                         nlohmann::json* params);
  Result<IndexScanResult> ScanIndex(const Caller& caller, const IndexRef& ref,
                                    const IndexScanRequest& request, nlohmann::json* params,
                                    std::vector<std::string>* keys);

  // Governed data writes (access/governed_writes.cc): authorise, apply the
  // caller's row filter and masks where the operation reads, commit in one
  // Transaction, audit. `rows` for kAppend / kUpsert, `keys` for
  // kDeleteKeys, `predicate` for kDeleteWhere.
  Result<WriteResult> Write(const Caller& caller, const governance::TableName& table,
                            internal::WriteKind kind, std::vector<Row> rows, std::vector<Value> keys,
                            const std::string& predicate, const WriteOptions& options);
};

}  // namespace vesta::access
