// Governed::SyncIndex: building and syncing an index under governance, with
// the lineage edge table@v -> index@v.
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "access/internal/governed_impl.h"

namespace vesta::access {

using governance::Securable;
using json = nlohmann::json;

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
