// Governed writes and creates (access/governed.h): the privilege check first,
// the caller's row filter and masks wherever the operation reads the table
// (deletes, and the existing rows an upsert would replace), one Transaction
// per data write, and one audit record per call.
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "access/internal/governed_impl.h"
#include "filter/ast.h"
#include "filter/bind.h"

namespace vesta::access {
namespace {

using governance::AuditRecord;
using governance::CommitInfo;
using governance::EffectivePolicy;
using governance::Securable;
using governance::SecurableType;
using governance::TableInfo;
using governance::TableName;
using internal::AuditText;
using internal::DumpJson;
using json = nlohmann::json;
using internal::AllowDone;
using internal::WriteKind;

// Keys per IN (...) list when looking up keys; well under the filter
// language's kMaxInListItems and kMaxValues.
constexpr size_t kLookupChunkKeys = 1000;
// Room kept in a lookup predicate for the primary key's name and syntax.
constexpr size_t kLookupSlackBytes = 1024;
// Keys named in an Upsert refusal.
constexpr size_t kMaxKeysInMessage = 5;

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

// Records `user` as the owner of securable `s`, which it has just created.
// The object exists either way, so a failure says so.
Status RecordCreatorAsOwner(governance::Privileges& privileges, const Securable& s, const std::string& user) {
  Status owned = privileges.SetOwner(s, user, user);
  if (owned.ok()) return owned;
  return Status(owned.code(), s.ToString() +
                                  " was created, but its owner could not be recorded (a metastore admin can set "
                                  "it): " +
                                  owned.message());
}

// `key` as a value of the primary key's type (keys given as text for a
// BIGINT key are parsed, as Transaction::Commit does). Errors:
// InvalidArgument for NULL or a value that is not of that type.
Result<Value> CoerceKey(const Value& key, const Column& pk, const TableName& table) {
  if (key.is_null()) return Status::InvalidArgument(table.ToString() + ": primary key must not be NULL");
  if (key.FitsType(pk.type)) return key;
  Result<Value> parsed = ParseValue(key.ToString(), pk.type);
  if (!parsed.ok() || parsed->is_null()) {
    return Status::InvalidArgument(table.ToString() + ": primary key '" + key.ToString() + "' is not a " +
                                   pk.type.ToString() + " (column '" + pk.name + "')");
  }
  return std::move(parsed).value();
}

// The keys among `keys` (coerced to the primary key's type; each once, in
// first-seen order) whose rows are live at `version` and, if `row_filter` is
// set (bound against `schema`, folded for the caller), pass it. Reads the
// primary key column only, in chunks of IN lists whose predicate text stays
// within the filter language's limits.
// Errors: those of CoerceKey; InvalidArgument if one key is too long to look
// up next to the row filter; those of Store::Read.
Result<std::vector<Value>> LiveKeys(governance::Store& store, const TableName& table, const Schema& schema,
                                    int64_t version, const std::vector<Value>& keys,
                                    const std::optional<filter::Expr>& row_filter) {
  const int pk = schema.primary_key_index();
  if (pk < 0) return Status::Internal(table.ToString() + " has no primary key column in its schema");
  const Column& pkc = schema.columns[static_cast<size_t>(pk)];

  std::vector<Value> unique;
  std::set<std::string> seen;
  for (const Value& k : keys) {
    VESTA_ASSIGN_OR_RETURN(Value c, CoerceKey(k, pkc, table));
    if (seen.insert(c.ToString()).second) unique.push_back(std::move(c));
  }

  const size_t filter_bytes = row_filter ? row_filter->ToString().size() : 0;
  const size_t used = filter_bytes + kLookupSlackBytes;
  const size_t budget = used < filter::kMaxFilterBytes ? filter::kMaxFilterBytes - used : 0;

  std::set<std::string> live;
  size_t at = 0;
  while (at < unique.size()) {
    std::vector<filter::Operand> chunk;
    size_t bytes = 0;
    while (at < unique.size() && chunk.size() < kLookupChunkKeys) {
      filter::Operand lit = filter::Operand::Literal(unique[at]);
      const size_t b = lit.ToString().size() + 2;  // ", "
      if (bytes + b > budget) break;
      bytes += b;
      chunk.push_back(std::move(lit));
      ++at;
    }
    if (chunk.empty()) {
      return Status::InvalidArgument(table.ToString() + ": primary key '" +
                                     unique[at].ToString().substr(0, 64) +
                                     "...' is too long to look up under the caller's row filter");
    }
    std::vector<filter::Expr> parts = {filter::Expr::In(filter::Operand::Column(pkc.name), std::move(chunk))};
    if (row_filter) parts.push_back(*row_filter);
    VESTA_ASSIGN_OR_RETURN(std::string predicate, internal::StorePredicate(parts, schema));
    governance::ReadOptions ro;
    ro.at.version = version;
    ro.columns = {pkc.name};
    ro.predicate = std::move(predicate);
    VESTA_ASSIGN_OR_RETURN(governance::ReadResult found, store.Read(table, ro));
    for (const Row& row : found.rows) {
      if (!row.empty()) live.insert(row[0].ToString());
    }
  }
  std::vector<Value> out;
  for (Value& k : unique) {
    if (live.count(k.ToString())) out.push_back(std::move(k));
  }
  return out;
}

// The names of the columns of `f` whose masks the store's SQL cannot express.
std::string MaskedEvalColumnsOf(const filter::BoundExpr& f, const EffectivePolicy& ep) {
  std::string out;
  for (int c : f.ReferencedColumns()) {
    if (!std::binary_search(ep.masked_eval_columns.begin(), ep.masked_eval_columns.end(), c)) continue;
    if (!out.empty()) out += ", ";
    out += "'" + ep.schema.columns[static_cast<size_t>(c)].name + "'";
  }
  return out;
}

// Everything of a data write but its audit record: privileges, the base
// version and its schema, the caller's policies where the write reads, the
// transaction. Fills `params` with what it resolved.
Result<WriteResult> WriteUnaudited(governance::Store& store, governance::Privileges& privileges,
                                   governance::Policies& policies, const Caller& caller,
                                   const TableName& table, WriteKind kind, std::vector<Row> rows,
                                   std::vector<Value> keys, const std::string& predicate,
                                   const WriteOptions& options, json* params) {
  const Securable securable = Securable::Table(table);
  const std::set<std::string> groups = internal::GroupSet(caller);
  const bool is_delete = kind == WriteKind::kDeleteKeys || kind == WriteKind::kDeleteWhere;
  VESTA_RETURN_IF_ERROR(privileges.CheckWrite(caller.user, groups, securable, caller.metastore_admin));
  // A delete reads the table to choose its rows.
  if (is_delete) {
    VESTA_RETURN_IF_ERROR(privileges.CheckRead(caller.user, groups, securable, caller.metastore_admin));
  }

  // The version the write is based on: its schema and the caller's policies
  // are resolved there, and the transaction is pinned to it.
  governance::VersionSpec at;
  at.version = options.read_version;
  VESTA_ASSIGN_OR_RETURN(TableInfo info, store.DescribeTable(table, at));
  const int64_t base = info.version;
  (*params)["read_version"] = base;

  WriteResult out;
  out.table = info.name;
  out.read_version = base;

  std::optional<EffectivePolicy> ep;
  if (kind != WriteKind::kAppend) {
    // Fails closed: a row filter that does not bind refuses the write.
    VESTA_ASSIGN_OR_RETURN(EffectivePolicy resolved, policies.Resolve(table, info.schema, caller.context));
    ep = std::move(resolved);
    out.policies_applied = ep->applied;
    (*params)["policies"] = ep->applied;
  }
  std::optional<filter::Expr> row_filter;
  if (ep && ep->row_filter) row_filter = ep->row_filter->expr();

  std::string delete_predicate;
  switch (kind) {
    case WriteKind::kAppend:
      break;
    case WriteKind::kUpsert: {
      if (!row_filter || rows.empty()) break;
      // A caller may not replace a row their row filter hides.
      const int pk = info.schema.primary_key_index();
      if (pk < 0) return Status::Internal(table.ToString() + " has no primary key column in its schema");
      std::vector<Value> row_keys;
      row_keys.reserve(rows.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        if (rows[i].size() != info.schema.columns.size()) {
          return Status::InvalidArgument(table.ToString() + ": row " + std::to_string(i) + " has " +
                                         std::to_string(rows[i].size()) + " values for " +
                                         std::to_string(info.schema.columns.size()) + " columns");
        }
        row_keys.push_back(rows[i][static_cast<size_t>(pk)]);
      }
      VESTA_ASSIGN_OR_RETURN(std::vector<Value> existing,
                             LiveKeys(store, table, info.schema, base, row_keys, std::nullopt));
      if (existing.empty()) break;
      VESTA_ASSIGN_OR_RETURN(std::vector<Value> visible,
                             LiveKeys(store, table, info.schema, base, existing, row_filter));
      if (visible.size() == existing.size()) break;
      std::set<std::string> seen;
      for (const Value& k : visible) seen.insert(k.ToString());
      std::string named;
      size_t hidden = 0;
      for (const Value& k : existing) {
        if (seen.count(k.ToString())) continue;
        if (hidden++ < kMaxKeysInMessage) {
          named += std::string(named.empty() ? "" : ", ") + "'" + k.ToString() + "'";
        }
      }
      if (hidden > kMaxKeysInMessage) named += ", ... " + std::to_string(hidden) + " in all";
      return Status::PermissionDenied(caller.user + " may not replace rows of table " + table.ToString() +
                                      " that its row filter hides from them (primary keys " + named +
                                      "); nothing was written");
    }
    case WriteKind::kDeleteKeys: {
      (*params)["keys"] = keys.size();
      if (!row_filter) break;
      // Only the rows the caller can see; hidden keys are ignored as unknown ones.
      VESTA_ASSIGN_OR_RETURN(keys, LiveKeys(store, table, info.schema, base, keys, row_filter));
      (*params)["keys_visible"] = keys.size();
      break;
    }
    case WriteKind::kDeleteWhere: {
      if (IsBlank(predicate)) {
        return Status::InvalidArgument(
            "delete predicate is empty (to delete every row you can see, use 'TRUE')");
      }
      VESTA_ASSIGN_OR_RETURN(filter::BoundExpr user,
                             internal::BindUserFilter(predicate, info.schema, caller));
      VESTA_ASSIGN_OR_RETURN(filter::BoundExpr rewritten, governance::RewriteFilterForMasks(user, *ep));
      if (governance::NeedsMaskedRowEvaluation(rewritten, *ep)) {
        return Status::FailedPrecondition(
            "delete predicate on " + MaskedEvalColumnsOf(rewritten, *ep) + " of " + table.ToString() +
            ": the column is masked for " + caller.user +
            " by a keyed hash or partial reveal, which a delete predicate cannot "
            "be evaluated on; delete by primary key instead");
      }
      std::vector<filter::Expr> parts;
      if (row_filter) parts.push_back(*row_filter);
      parts.push_back(rewritten.expr());
      VESTA_ASSIGN_OR_RETURN(delete_predicate, internal::StorePredicate(parts, info.schema));
      (*params)["effective_predicate"] = delete_predicate;
      break;
    }
  }

  std::unique_ptr<governance::Transaction> txn = store.Begin(caller.user);
  VESTA_RETURN_IF_ERROR(txn->SetReadVersion(table, base));
  switch (kind) {
    case WriteKind::kAppend:
      VESTA_RETURN_IF_ERROR(txn->Append(table, std::move(rows), options.source));
      break;
    case WriteKind::kUpsert:
      VESTA_RETURN_IF_ERROR(txn->Upsert(table, std::move(rows), options.source));
      break;
    case WriteKind::kDeleteKeys:
      VESTA_RETURN_IF_ERROR(txn->DeleteKeys(table, std::move(keys)));
      break;
    case WriteKind::kDeleteWhere:
      VESTA_RETURN_IF_ERROR(txn->DeleteWhere(table, delete_predicate));
      break;
  }
  VESTA_ASSIGN_OR_RETURN(std::vector<CommitInfo> commits, txn->Commit());
  for (const CommitInfo& c : commits) {  // at most one: one table
    out.version = c.version;
    out.rows_added = c.rows_added;
    out.rows_updated = c.rows_updated;
    out.rows_removed = c.rows_removed;
  }
  return out;
}

}  // namespace

// --- Data writes ---------------------------------------------------------------

Result<WriteResult> Governed::Impl::Write(const Caller& caller, const TableName& table, WriteKind kind,
                                          std::vector<Row> rows, std::vector<Value> keys,
                                          const std::string& predicate, const WriteOptions& options) {
  const char* action = "table.delete";
  if (kind == WriteKind::kAppend) action = "table.append";
  if (kind == WriteKind::kUpsert) action = "table.upsert";
  AuditRecord rec = NewRecord(caller, action, table.ToString());
  json params = json::object();
  switch (kind) {
    case WriteKind::kAppend:
    case WriteKind::kUpsert:
      params["rows"] = rows.size();
      if (!options.source.empty()) params["source"] = options.source;
      break;
    case WriteKind::kDeleteKeys:
      params["mode"] = "keys";
      break;
    case WriteKind::kDeleteWhere:
      params["mode"] = "predicate";
      params["predicate"] = predicate;
      break;
  }
  if (options.read_version) params["requested_read_version"] = *options.read_version;
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;

  Result<WriteResult> r = WriteUnaudited(*store, *privileges, *policies, caller, table, kind, std::move(rows),
                                         std::move(keys), predicate, options, &params);
  if (!r.ok()) return Fail(std::move(rec), params, r.status());
  params["version"] = r->version;
  params["rows_added"] = r->rows_added;
  params["rows_updated"] = r->rows_updated;
  params["rows_removed"] = r->rows_removed;
  const std::string done =
      r->version >= 0 ? "version " + std::to_string(r->version) + " of " + table.ToString() + " was committed"
                      : "the write to " + table.ToString() + " changed nothing";
  VESTA_RETURN_IF_ERROR(AllowDone(*audit, std::move(rec), params, r->rows_written(), done));
  return r;
}

Result<WriteResult> Governed::Append(const Caller& caller, const TableName& table, std::vector<Row> rows,
                                     const WriteOptions& options) {
  return impl_->Write(caller, table, WriteKind::kAppend, std::move(rows), {}, "", options);
}

Result<WriteResult> Governed::Upsert(const Caller& caller, const TableName& table, std::vector<Row> rows,
                                     const WriteOptions& options) {
  return impl_->Write(caller, table, WriteKind::kUpsert, std::move(rows), {}, "", options);
}

Result<WriteResult> Governed::DeleteKeys(const Caller& caller, const TableName& table,
                                         std::vector<Value> keys, const WriteOptions& options) {
  return impl_->Write(caller, table, WriteKind::kDeleteKeys, {}, std::move(keys), "", options);
}

Result<WriteResult> Governed::DeleteWhere(const Caller& caller, const TableName& table,
                                          const std::string& predicate, const WriteOptions& options) {
  return impl_->Write(caller, table, WriteKind::kDeleteWhere, {}, {}, predicate, options);
}

// --- Catalogs and schemas --------------------------------------------------------

Status Governed::CreateCatalog(const Caller& caller, const std::string& catalog, bool if_not_exists) {
  AuditRecord rec = Impl::NewRecord(caller, "catalog.create", catalog);
  json params = {{"if_not_exists", if_not_exists}};
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  bool created = false;
  Status st = [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(Securable s, Securable::Parse(SecurableType::kCatalog, catalog));
    if (!caller.metastore_admin) {
      return Status::PermissionDenied(caller.user + " lacks metastore admin, needed to create catalog " +
                                      catalog);
    }
    Status made = impl_->store->CreateCatalog(catalog, caller.user);
    if (made.code() == StatusCode::kAlreadyExists && if_not_exists) return Status::OK();
    VESTA_RETURN_IF_ERROR(made);
    created = true;
    return RecordCreatorAsOwner(*impl_->privileges, s, caller.user);
  }();
  params["created"] = created;
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(
      *impl_->audit, std::move(rec), params, 0,
      created ? "catalog " + catalog + " was created" : "catalog " + catalog + " already existed");
}

Status Governed::CreateSchema(const Caller& caller, const std::string& catalog, const std::string& schema,
                              bool if_not_exists) {
  const std::string full = catalog + "." + schema;
  AuditRecord rec = Impl::NewRecord(caller, "schema.create", full);
  json params = {{"if_not_exists", if_not_exists}};
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  bool created = false;
  Status st = [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(Securable cat, Securable::Parse(SecurableType::kCatalog, catalog));
    VESTA_ASSIGN_OR_RETURN(Securable sch, Securable::Parse(SecurableType::kSchema, full));
    if (!caller.metastore_admin) {
      // No CREATE SCHEMA privilege in this model: USE CATALOG + MANAGE (or
      // ownership) of the catalog.
      const std::set<std::string> groups = internal::GroupSet(caller);
      if (!impl_->privileges->Has(caller.user, groups, cat, governance::Privilege::kUseCatalog)) {
        return Status::PermissionDenied(caller.user + " lacks USE CATALOG on " + cat.ToString());
      }
      VESTA_RETURN_IF_ERROR(impl_->privileges->CheckManage(caller.user, groups, cat));
    }
    Status made = impl_->store->CreateSchema(catalog, schema, caller.user);
    if (made.code() == StatusCode::kAlreadyExists && if_not_exists) return Status::OK();
    VESTA_RETURN_IF_ERROR(made);
    created = true;
    return RecordCreatorAsOwner(*impl_->privileges, sch, caller.user);
  }();
  params["created"] = created;
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0,
                   created ? "schema " + full + " was created" : "schema " + full + " already existed");
}

// --- Tables ------------------------------------------------------------------------

Result<TableInfo> Governed::CreateTable(const Caller& caller, const TableName& table, const Schema& schema,
                                        const governance::CreateTableOptions& options) {
  AuditRecord rec = Impl::NewRecord(caller, "table.create", table.ToString());
  json params = json::object();
  json columns = json::array();
  for (const Column& c : schema.columns) columns.push_back(c.name + " " + c.type.ToString());
  params["columns"] = columns;
  params["primary_key"] = schema.primary_key;
  params["if_not_exists"] = options.if_not_exists;
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  bool created = false;
  Result<TableInfo> r = [&]() -> Result<TableInfo> {
    VESTA_ASSIGN_OR_RETURN(Securable parent,
                           Securable::Parse(SecurableType::kSchema, table.catalog + "." + table.schema));
    VESTA_RETURN_IF_ERROR(
        impl_->privileges->CheckCreateTable(caller.user, internal::GroupSet(caller), parent, caller.metastore_admin));
    governance::CreateTableOptions fresh = options;
    fresh.if_not_exists = false;
    Result<TableInfo> made = impl_->store->CreateTable(table, schema, fresh, caller.user);
    if (!made.ok()) {
      // An existing table of the same schema is returned as it is.
      if (made.status().code() == StatusCode::kAlreadyExists && options.if_not_exists) {
        return impl_->store->CreateTable(table, schema, options, caller.user);
      }
      return made.status();
    }
    created = true;
    // Leftover direct grants on the name go; then the creator owns it.
    const Securable s = Securable::Table(table);
    Status owned = impl_->privileges->DropSecurable(s, caller.user);
    if (owned.ok()) owned = impl_->privileges->SetOwner(s, caller.user, caller.user);
    if (!owned.ok()) {
      created = false;
      Status undo = impl_->store->DropTable(table);
      return Status(owned.code(),
                    "table " + table.ToString() + " could not be given its owner, so it was " +
                        (undo.ok() ? "dropped again: "
                                   : "to be dropped again, but that failed (" + undo.message() + "): ") +
                        owned.message());
    }
    return made;
  }();
  params["created"] = created;
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  params["table_id"] = r->table_id;
  params["version"] = r->version;
  VESTA_RETURN_IF_ERROR(
      AllowDone(*impl_->audit, std::move(rec), params, 0,
                "table " + table.ToString() + (created ? " was created" : " already existed")));
  return r;
}

Status Governed::DropTable(const Caller& caller, const TableName& table) {
  AuditRecord rec = Impl::NewRecord(caller, "table.drop", table.ToString());
  json params = json::object();
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Status st = [&]() -> Status {
    const Securable s = Securable::Table(table);
    VESTA_RETURN_IF_ERROR(
        impl_->privileges->CheckManage(caller.user, internal::GroupSet(caller), s, caller.metastore_admin));
    VESTA_ASSIGN_OR_RETURN(TableInfo info, impl_->store->DescribeTable(table));
    params["table_id"] = info.table_id;
    params["version"] = info.current_version;
    VESTA_RETURN_IF_ERROR(impl_->store->DropTable(table));
    params["dropped"] = true;
    Status grants = impl_->privileges->DropSecurable(s, caller.user);
    if (!grants.ok()) {
      return Status(grants.code(),
                    "table " + table.ToString() +
                        " was dropped, but its grants could not be removed (CreateTable removes "
                        "them before the name is reused): " +
                        grants.message());
    }
    params["grants_removed"] = true;
    return Status::OK();
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0, "table " + table.ToString() + " was dropped");
}

// --- Indexes -----------------------------------------------------------------------

Status Governed::AuthorizeCreateIndex(const Caller& caller, const TableName& table,
                                      const TableName& index_name) {
  AuditRecord rec = Impl::NewRecord(caller, "index.create", index_name.ToString());
  json params = {{"source", table.ToString()}};
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Status st = [&]() -> Status {
    VESTA_ASSIGN_OR_RETURN(
        Securable index_schema,
        Securable::Parse(SecurableType::kSchema, index_name.catalog + "." + index_name.schema));
    const Securable ix = Securable::Index(index_name);
    VESTA_RETURN_IF_ERROR(ix.Validate());
    VESTA_RETURN_IF_ERROR(impl_->privileges->CheckCreateIndex(
        caller.user, internal::GroupSet(caller), Securable::Table(table), index_schema, caller.metastore_admin));
    VESTA_ASSIGN_OR_RETURN(TableInfo info, impl_->store->DescribeTable(table));
    params["source_version"] = info.current_version;
    // An index that exists has an owner: refuse rather than take it over.
    Result<std::string> owner = impl_->privileges->Owner(ix);
    if (owner.ok()) {
      return Status::AlreadyExists("index " + index_name.ToString() +
                                   " already exists (it has an owner); drop it first (AuthorizeDropIndex)");
    }
    if (!owner.status().IsNotFound()) return owner.status();
    VESTA_RETURN_IF_ERROR(impl_->privileges->DropSecurable(ix, caller.user));
    return impl_->privileges->SetOwner(ix, caller.user, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0,
                   "index " + index_name.ToString() + " was authorised and its owner recorded");
}

Status Governed::AuthorizeDropIndex(const Caller& caller, const TableName& index_name) {
  AuditRecord rec = Impl::NewRecord(caller, "index.drop", index_name.ToString());
  json params = json::object();
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Status st = [&]() -> Status {
    const Securable ix = Securable::Index(index_name);
    VESTA_RETURN_IF_ERROR(
        impl_->privileges->CheckManage(caller.user, internal::GroupSet(caller), ix, caller.metastore_admin));
    return impl_->privileges->DropSecurable(ix, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0,
                   "the grants and owner of index " + index_name.ToString() + " were removed");
}

namespace internal {
namespace {

// Appends the "allowed" record of a call: no keys (writes and metadata reads
// list none).
Status AppendAllowed(governance::AuditLog& audit, governance::AuditRecord r, const json& params, int64_t row_count) {
  r.parameters_json = DumpJson(params);
  r.outcome = "allowed";
  r.row_count = row_count;
  r.keys.clear();
  return audit.Append(std::move(r)).status();
}

}  // namespace

Status AllowDone(governance::AuditLog& audit, governance::AuditRecord r, const json& params, int64_t row_count,
                 const std::string& done) {
  Status st = AppendAllowed(audit, std::move(r), params, row_count);
  if (!st.ok()) return Status::Internal(done + ", but its audit record could not be written: " + st.message());
  return Status::OK();
}

Status AllowRead(governance::AuditLog& audit, governance::AuditRecord r, const json& params, int64_t row_count) {
  Status st = AppendAllowed(audit, std::move(r), params, row_count);
  if (!st.ok()) {
    return Status(st.code(), "the audit record could not be written, so the result is withheld: " + st.message());
  }
  return Status::OK();
}

std::set<std::string> GroupSet(const Caller& caller) {
  return std::set<std::string>(caller.groups.begin(), caller.groups.end());
}

}  // namespace internal

}  // namespace vesta::access
