// Governed::SyncIndex: building and syncing an index under governance, with
// the lineage edge table@v -> index@v; and Governed::Impl::PinIndex, the
// first steps of every governed index read.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "access/internal/governed_impl.h"

namespace vesta::access {

using governance::EffectivePolicy;
using governance::Securable;
using json = nlohmann::json;

namespace {

std::string ColumnNames(const Schema& schema, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && i < schema.columns.size(); ++i) {
    if (i > 0) out += ", ";
    out += schema.columns[i].name;
  }
  return out;
}

}  // namespace

namespace internal {

Result<std::vector<size_t>> SelectIndexColumns(const PinnedIndex& pinned,
                                               const std::vector<std::string>& requested) {
  std::vector<size_t> out;
  if (requested.empty()) {
    for (size_t i = 1; i < pinned.filterable; ++i) out.push_back(i);
    return out;
  }
  for (const std::string& c : requested) {
    const int i = pinned.columns.FindColumn(c);
    if (i < 0 || static_cast<size_t>(i) >= pinned.filterable) {
      const bool vector = i >= 0 && i == pinned.vector_column;
      return Status::InvalidArgument("columns: '" + c + "' is " +
                                     (vector ? "the vector column" : "not synced to index " + pinned.name) +
                                     " (columns: " + ColumnNames(pinned.columns, pinned.filterable) + ")");
    }
    if (i > 0) out.push_back(static_cast<size_t>(i));
  }
  return out;
}

}  // namespace internal

Result<internal::PinnedIndex> Governed::Impl::PinIndex(const Caller& caller, const IndexRef& ref,
                                                       bool with_vector, json* params) {
  const std::set<std::string> groups(caller.groups.begin(), caller.groups.end());
  VESTA_RETURN_IF_ERROR(
      privileges->CheckRead(caller.user, groups, Securable::Index(ref.name), caller.metastore_admin));
  if (ref.index == nullptr)
    return Status::InvalidArgument("index " + ref.name.ToString() + ": no index given");

  internal::PinnedIndex p;
  p.snap = ref.index->snapshot();
  p.name = ref.name.ToString();
  p.source = ref.source.ToString();
  const index::IndexSpec& spec = p.snap->spec();
  (*params)["index_version"] = p.snap->version();
  // The policies applied are those of ref.source: it must be the table the
  // index was built from (ingest/index_sync.h records "<table>.<vector
  // column> (table_id ...)" in spec.source). A direct-access index built
  // without a source table has none.
  std::string vector_name;
  if (!spec.source.empty()) {
    const std::string prefix = p.source + ".";
    const bool same = spec.source.size() > prefix.size() &&
                      EqualsIgnoreCase(std::string_view(spec.source).substr(0, prefix.size()), prefix);
    if (!same) {
      return Status::FailedPrecondition("index " + p.name + " was built from " + spec.source + ", not from " +
                                        p.source + ": its source table's policies cannot be applied");
    }
    vector_name = spec.source.substr(prefix.size());
    vector_name = vector_name.substr(0, vector_name.find(' '));
  }
  if (with_vector && vector_name.empty()) {
    // Not recorded in the spec (an index built from SpecForSource's spec
    // alone; OpenOrBuildIndex records it): the source table's one VECTOR
    // column of the index's dimension. Anything else is ambiguous, and the
    // vector's mask could not be told: fail closed.
    Result<governance::TableInfo> info = store->DescribeTable(ref.source);
    std::vector<std::string> found;
    if (info.ok()) {
      for (const Column& c : info->schema.columns) {
        if (c.type.id == TypeId::kVector && c.type.dim == static_cast<int>(spec.dimension))
          found.push_back(c.name);
      }
    }
    if (found.size() != 1) {
      const std::string why = info.ok()
                                  ? "its source table " + p.source + " has " + std::to_string(found.size()) +
                                        " VECTOR(" + std::to_string(spec.dimension) + ") columns"
                                  : "its source table cannot be described (" + info.status().message() + ")";
      return Status::FailedPrecondition(
          "index " + p.name + " does not record its vector column and " + why +
          ", so the vector's column mask cannot be resolved; read it without the "
          "vector");
    }
    vector_name = found[0];
  }

  // The index's columns as its source table's: the key, the attributes.
  p.columns.columns.push_back(spec.primary_key);
  p.columns.primary_key = spec.primary_key.name;
  p.attr_of = {-1};
  for (size_t i = 0; i < spec.attributes.columns.size(); ++i) {
    const Column& c = spec.attributes.columns[i];
    if (EqualsIgnoreCase(c.name, spec.primary_key.name)) {
      p.attr_of[0] = static_cast<int>(i);
      continue;
    }
    p.columns.columns.push_back(c);
    p.attr_of.push_back(static_cast<int>(i));
  }
  p.filterable = p.columns.columns.size();
  if (with_vector) {
    p.vector_column = static_cast<int>(p.columns.columns.size());
    p.columns.columns.push_back({vector_name, DataType::Vector(static_cast<int>(spec.dimension)), true, ""});
    p.attr_of.push_back(-1);
  }

  Result<EffectivePolicy> resolved = policies->Resolve(ref.source, p.columns, caller.context);
  if (!resolved.ok()) {
    const Status& st = resolved.status();
    if (st.code() != StatusCode::kFailedPrecondition) return st;
    // A row filter (or a tag row-filter policy) that does not bind against
    // the index's columns: the index cannot enforce it.
    std::string column;
    const std::string marker = "unknown column '";
    if (size_t at = st.message().find(marker); at != std::string::npos) {
      const size_t from = at + marker.size();
      const size_t to = st.message().find('\'', from);
      if (to != std::string::npos) column = st.message().substr(from, to - from);
    }
    std::string hint = column.empty()
                           ? "sync the columns it uses (columns_to_sync)"
                           : "add column '" + column + "' to the index's columns_to_sync and rebuild it";
    return Status::FailedPrecondition("index " + p.name +
                                      " cannot enforce the row filter of its source table " + p.source +
                                      ", so it cannot be read: " + st.message() + "; " + hint);
  }
  p.policy = std::move(resolved).value();
  (*params)["policies"] = p.policy.applied;

  if (p.policy.row_filter) {
    Result<filter::BoundExpr> b = filter::Bind(p.policy.row_filter->expr(), spec.attributes);
    if (!b.ok()) {
      // It binds against the key and attributes (or the vector column) but
      // not against the attributes alone.
      std::string named;
      for (int c : p.policy.row_filter->ReferencedColumns()) {
        const size_t i = static_cast<size_t>(c);
        if (i < p.attr_of.size() && p.attr_of[i] >= 0) continue;
        if (!named.empty()) named += ", ";
        named +=
            std::string(i == 0 ? "the primary key column '" : "column '") + p.columns.columns[i].name + "'";
      }
      return Status::FailedPrecondition(
          "index " + p.name + " cannot enforce the row filter of its source table " + p.source +
          ": it uses " + (named.empty() ? std::string("a column") : named) +
          ", which is not a filterable attribute of the index (" + b.status().message() + ")");
    }
    p.row_filter = std::move(b).value();
  }
  return p;
}

Result<ingest::SyncReport> Governed::SyncIndex(const Caller& caller, const governance::TableName& index_name,
                                               const ingest::IndexSource& source, index::VectorIndex& index,
                                               std::optional<int64_t> target_version) {
  governance::AuditRecord rec = Impl::NewRecord(caller, "index.sync", index_name.ToString());
  json params = {{"source", source.ToString()}};
  if (target_version) params["target_version"] = *target_version;
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  const std::set<std::string> groups(caller.groups.begin(), caller.groups.end());
  Result<ingest::SyncReport> report = [&]() -> Result<ingest::SyncReport> {
    VESTA_RETURN_IF_ERROR(impl_->privileges->CheckRead(caller.user, groups, Securable::Table(source.table),
                                                       caller.metastore_admin));
    VESTA_RETURN_IF_ERROR(impl_->privileges->CheckManage(caller.user, groups, Securable::Index(index_name),
                                                         caller.metastore_admin));
    return ingest::SyncIndex(*impl_->store, source, index, target_version);
  }();
  if (!report.ok()) return impl_->Fail(std::move(rec), params, report.status());
  params["from_version"] = report->from_version;
  params["to_version"] = report->to_version;
  params["inserted"] = report->inserted;
  params["updated"] = report->updated;
  params["deleted"] = report->deleted;
  params["rebuilt"] = report->rebuilt;
  params["reason"] = report->reason;
  if (report->from_version != report->to_version) {
    governance::LineageEdge edge;
    edge.from = {"table", source.table.ToString(), report->to_version};
    edge.to = {"index", index_name.ToString(), report->to_version};
    edge.relation = "synced_from";
    edge.principal = caller.user;
    edge.details_json = internal::DumpJson(json{{"vector_column", source.vector_column},
                                                {"from_version", report->from_version},
                                                {"rebuilt", report->rebuilt}});
    Status lst = impl_->lineage->Record(edge);
    if (!lst.ok()) {
      // The index already moved on (its snapshot is published): say so.
      return impl_->Fail(std::move(rec), params,
                         Status::Internal("index " + index_name.ToString() + " now reflects version " +
                                          std::to_string(report->to_version) +
                                          ", but its lineage could not be recorded: " + lst.message()));
    }
  }
  VESTA_RETURN_IF_ERROR(internal::AllowDone(
      *impl_->audit, std::move(rec), params, report->inserted + report->updated + report->deleted,
      "index " + index_name.ToString() + " was synced to version " + std::to_string(report->to_version)));
  return report;
}

}  // namespace vesta::access
