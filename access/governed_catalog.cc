// Catalog listings and restore (access/governed.h, "Catalog listings and
// restore"): ListCatalogs, ListSchemas, ListTables, RestoreTable and
// WriteDecodedRows. Each checks privileges first and appends exactly one
// audit record per call.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "access/internal/governed_impl.h"

namespace vesta::access {
namespace {

using governance::AuditRecord;
using governance::CommitInfo;
using governance::EffectivePolicy;
using governance::Privilege;
using governance::Securable;
using governance::SecurableType;
using governance::TableInfo;
using governance::TableName;
using internal::AllowDone;
using json = nlohmann::json;

// The owner of `s`, "" when none was recorded (or it cannot be read: a
// listing does not fail for a missing owner).
std::string OwnerOf(governance::Privileges& privileges, const Securable& s) {
  Result<std::string> owner = privileges.Owner(s);
  return owner.ok() ? *owner : "";
}

// OK if the caller holds `p` on `s`, else PermissionDenied in
// Privileges::CheckRead's words ("bob lacks USE CATALOG on catalog main").
Status Require(governance::Privileges& privileges, const Caller& caller, const std::set<std::string>& groups,
               const Securable& s, Privilege p) {
  if (privileges.Has(caller.user, groups, s, p, caller.metastore_admin)) return Status::OK();
  return Status::PermissionDenied(caller.user + " lacks " + std::string(governance::PrivilegeName(p)) +
                                  " on " + s.ToString());
}

// Whether catalog `name` exists (names compare ignoring case).
Result<bool> CatalogExists(governance::Store& store, const std::string& name) {
  VESTA_ASSIGN_OR_RETURN(std::vector<std::string> all, store.ListCatalogs());
  return std::any_of(all.begin(), all.end(), [&](const std::string& c) { return EqualsIgnoreCase(c, name); });
}

}  // namespace

// --- Listings ------------------------------------------------------------------

Result<std::vector<Governed::CatalogListing>> Governed::ListCatalogs(const Caller& caller) {
  AuditRecord rec = Impl::NewRecord(caller, "catalog.list", "");
  json params = json::object();
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Result<std::vector<CatalogListing>> r = [&]() -> Result<std::vector<CatalogListing>> {
    const std::set<std::string> groups = internal::GroupSet(caller);
    VESTA_ASSIGN_OR_RETURN(std::vector<std::string> names, impl_->store->ListCatalogs());
    params["candidates"] = names.size();
    std::vector<CatalogListing> out;
    for (const std::string& name : names) {
      Result<Securable> s = Securable::Parse(SecurableType::kCatalog, name);
      if (!s.ok()) continue;  // not a valid securable name: nobody can be granted it
      if (!impl_->privileges->Has(caller.user, groups, *s, Privilege::kUseCatalog, caller.metastore_admin)) {
        continue;
      }
      out.push_back({name, OwnerOf(*impl_->privileges, *s)});
    }
    return out;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  params["visible"] = r->size();
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

Result<std::vector<Governed::SchemaListing>> Governed::ListSchemas(const Caller& caller,
                                                                   const std::string& catalog) {
  AuditRecord rec = Impl::NewRecord(caller, "schema.list", catalog);
  json params = {{"catalog", internal::AuditText(catalog)}};
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Result<std::vector<SchemaListing>> r = [&]() -> Result<std::vector<SchemaListing>> {
    const std::set<std::string> groups = internal::GroupSet(caller);
    VESTA_ASSIGN_OR_RETURN(Securable cat, Securable::Parse(SecurableType::kCatalog, catalog));
    VESTA_RETURN_IF_ERROR(Require(*impl_->privileges, caller, groups, cat, Privilege::kUseCatalog));
    VESTA_ASSIGN_OR_RETURN(bool exists, CatalogExists(*impl_->store, catalog));
    if (!exists) return Status::NotFound("catalog " + catalog + " does not exist");
    VESTA_ASSIGN_OR_RETURN(std::vector<std::string> names, impl_->store->ListSchemas(catalog));
    params["candidates"] = names.size();
    std::vector<SchemaListing> out;
    for (const std::string& name : names) {
      Result<Securable> s = Securable::Parse(SecurableType::kSchema, catalog + "." + name);
      if (!s.ok()) continue;
      if (!impl_->privileges->Has(caller.user, groups, *s, Privilege::kUseSchema, caller.metastore_admin)) {
        continue;
      }
      out.push_back({catalog, name, OwnerOf(*impl_->privileges, *s)});
    }
    return out;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  params["visible"] = r->size();
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

Result<std::vector<TableInfo>> Governed::ListTables(const Caller& caller, const std::string& catalog,
                                                    const std::string& schema) {
  AuditRecord rec = Impl::NewRecord(caller, "table.list", schema.empty() ? catalog : catalog + "." + schema);
  json params = {{"catalog", internal::AuditText(catalog)}, {"schema", internal::AuditText(schema)}};
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Result<std::vector<TableInfo>> r = [&]() -> Result<std::vector<TableInfo>> {
    const std::set<std::string> groups = internal::GroupSet(caller);
    VESTA_ASSIGN_OR_RETURN(Securable cat, Securable::Parse(SecurableType::kCatalog, catalog));
    VESTA_RETURN_IF_ERROR(Require(*impl_->privileges, caller, groups, cat, Privilege::kUseCatalog));
    if (!schema.empty()) {
      VESTA_ASSIGN_OR_RETURN(Securable sch, Securable::Parse(SecurableType::kSchema, catalog + "." + schema));
      VESTA_RETURN_IF_ERROR(Require(*impl_->privileges, caller, groups, sch, Privilege::kUseSchema));
    }
    VESTA_ASSIGN_OR_RETURN(bool exists, CatalogExists(*impl_->store, catalog));
    if (!exists) return Status::NotFound("catalog " + catalog + " does not exist");
    if (!schema.empty()) {
      VESTA_ASSIGN_OR_RETURN(std::vector<std::string> schemas, impl_->store->ListSchemas(catalog));
      if (std::none_of(schemas.begin(), schemas.end(),
                       [&](const std::string& s) { return EqualsIgnoreCase(s, schema); })) {
        return Status::NotFound("schema " + catalog + "." + schema + " does not exist");
      }
    }
    VESTA_ASSIGN_OR_RETURN(std::vector<TableName> names, impl_->store->ListTables(catalog, schema));
    params["candidates"] = names.size();
    std::vector<TableInfo> out;
    for (const TableName& name : names) {
      if (!impl_->privileges->CheckRead(caller.user, groups, Securable::Table(name), caller.metastore_admin)
               .ok()) {
        continue;  // fails closed on errors too
      }
      Result<TableInfo> info = impl_->store->DescribeTable(name);
      if (!info.ok()) {
        if (info.status().IsNotFound()) continue;  // dropped meanwhile
        return info.status();
      }
      info->row_count = -1;
      out.push_back(std::move(info).value());
    }
    return out;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  params["visible"] = r->size();
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

// --- Restore -------------------------------------------------------------------

Result<WriteResult> Governed::RestoreTable(const Caller& caller, const TableName& table, int64_t version) {
  AuditRecord rec = Impl::NewRecord(caller, "table.restore", table.ToString());
  json params = {{"restore_version", version}};
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Result<WriteResult> r = [&]() -> Result<WriteResult> {
    const std::set<std::string> groups = internal::GroupSet(caller);
    const Securable s = Securable::Table(table);
    VESTA_RETURN_IF_ERROR(impl_->privileges->CheckWrite(caller.user, groups, s, caller.metastore_admin));
    VESTA_RETURN_IF_ERROR(impl_->privileges->CheckRead(caller.user, groups, s, caller.metastore_admin));
    if (version < 0) {
      return Status::InvalidArgument("restore version must be >= 0, got " + std::to_string(version));
    }
    VESTA_ASSIGN_OR_RETURN(TableInfo info, impl_->store->DescribeTable(table));
    const int64_t base = info.version;
    params["read_version"] = base;
    // A restore rewrites rows the caller's row filter may hide: refused
    // whenever one applies (fails closed if it cannot be resolved).
    VESTA_ASSIGN_OR_RETURN(EffectivePolicy ep, impl_->policies->Resolve(table, info.schema, caller.context));
    params["policies"] = ep.applied;
    if (ep.row_filter) {
      return Status::PermissionDenied(
          caller.user + " may not restore " + table.ToString() +
          ": a row filter restricts the rows they see, and a restore rewrites every row of the table, "
          "including rows hidden from them (ask a principal without a row filter on the table)");
    }
    if (version > info.current_version) {
      return Status::NotFound("version " + std::to_string(version) + " of " + table.ToString() +
                              " does not exist (current version " + std::to_string(info.current_version) +
                              ")");
    }
    std::unique_ptr<governance::Transaction> txn = impl_->store->Begin(caller.user);
    VESTA_RETURN_IF_ERROR(txn->SetReadVersion(table, base));
    VESTA_RETURN_IF_ERROR(txn->Restore(table, version));
    VESTA_ASSIGN_OR_RETURN(std::vector<CommitInfo> commits, txn->Commit());
    WriteResult out;
    out.table = table;
    out.read_version = base;
    out.policies_applied = ep.applied;
    for (const CommitInfo& c : commits) {  // at most one: one table
      out.version = c.version;
      out.rows_added = c.rows_added;
      out.rows_updated = c.rows_updated;
      out.rows_removed = c.rows_removed;
    }
    return out;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  params["version"] = r->version;
  params["rows_added"] = r->rows_added;
  params["rows_updated"] = r->rows_updated;
  params["rows_removed"] = r->rows_removed;
  const std::string done = r->version >= 0
                               ? "version " + std::to_string(r->version) + " of " + table.ToString() +
                                     " (a restore of version " + std::to_string(version) + ") was committed"
                               : "the restore of " + table.ToString() + " changed nothing";
  VESTA_RETURN_IF_ERROR(AllowDone(*impl_->audit, std::move(rec), params, r->rows_written(), done));
  return r;
}

// --- Writes of decoded rows --------------------------------------------------------

Result<WriteResult> Governed::WriteDecodedRows(const Caller& caller, const TableName& table, bool upsert,
                                               const RowDecoder& decode, WriteOptions options) {
  // Everything before the write itself; the write audits its own outcome.
  json params = {{"stage", "decode"}};
  if (options.read_version) params["requested_read_version"] = *options.read_version;
  if (!options.source.empty()) params["source"] = options.source;
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Result<std::vector<Row>> rows = [&]() -> Result<std::vector<Row>> {
    VESTA_RETURN_IF_ERROR(impl_->privileges->CheckWrite(caller.user, internal::GroupSet(caller),
                                                        Securable::Table(table), caller.metastore_admin));
    governance::VersionSpec at;
    at.version = options.read_version;
    VESTA_ASSIGN_OR_RETURN(TableInfo info, impl_->store->DescribeTable(table, at));
    params["read_version"] = info.version;
    options.read_version = info.version;
    if (!decode) return Status::Internal("WriteDecodedRows: no decoder given");
    return decode(info.schema);
  }();
  if (!rows.ok()) {
    AuditRecord rec = Impl::NewRecord(caller, upsert ? "table.upsert" : "table.append", table.ToString());
    return impl_->Fail(std::move(rec), params, rows.status());
  }
  return impl_->Write(caller, table, upsert ? internal::WriteKind::kUpsert : internal::WriteKind::kAppend,
                      std::move(rows).value(), {}, "", options);
}

}  // namespace vesta::access
