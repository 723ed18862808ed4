// Governed metadata reads (access/governed.h, "Governed metadata reads"):
// DescribeTable, History, the audit log (QueryAudit, ExportAudit,
// VerifyAudit) and lineage (Upstream, Downstream). Each checks privileges
// first and appends exactly one audit record per call.
#include <cctype>
#include <map>
#include <set>
#include <streambuf>
#include <utility>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "access/internal/governed_impl.h"

namespace vesta::access {
namespace {

using governance::AuditQuery;
using governance::AuditRecord;
using governance::CommitInfo;
using governance::EffectivePolicy;
using governance::LineageEdge;
using governance::LineageNode;
using governance::Privilege;
using governance::ReadOptions;
using governance::ReadResult;
using governance::Securable;
using governance::TableInfo;
using governance::TableName;
using governance::VersionSpec;
using json = nlohmann::json;

constexpr size_t kMaxLineageEdges = 100000;

Status RequireAdmin(const Caller& caller, const std::string& what) {
  if (caller.metastore_admin) return Status::OK();
  return Status::PermissionDenied(caller.user + " lacks metastore admin, needed to " + what);
}

json AuditQueryParams(const AuditQuery& q) {
  json p = json::object();
  if (q.principal) p["principal"] = internal::AuditText(*q.principal);
  if (q.action) p["action"] = internal::AuditText(*q.action);
  if (q.action_prefix) p["action_prefix"] = internal::AuditText(*q.action_prefix);
  if (q.securable) p["securable"] = internal::AuditText(*q.securable);
  if (q.outcome) p["outcome"] = internal::AuditText(*q.outcome);
  if (q.from_time) p["from_time_us"] = q.from_time->micros;
  if (q.to_time) p["to_time_us"] = q.to_time->micros;
  if (q.from_seq) p["from_seq"] = *q.from_seq;
  if (q.to_seq) p["to_seq"] = *q.to_seq;
  p["limit"] = q.limit;
  p["newest_first"] = q.newest_first;
  return p;
}

// Forwards to another streambuf and counts the newlines written.
class LineCountingBuf : public std::streambuf {
 public:
  explicit LineCountingBuf(std::streambuf* to) : to_(to) {}
  int64_t lines() const { return lines_; }

 protected:
  int_type overflow(int_type ch) override {
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    if (to_ == nullptr) return traits_type::eof();
    if (traits_type::eq_int_type(to_->sputc(traits_type::to_char_type(ch)), traits_type::eof())) {
      return traits_type::eof();
    }
    if (traits_type::to_char_type(ch) == '\n') ++lines_;
    return ch;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (to_ == nullptr) return 0;
    const std::streamsize written = to_->sputn(s, n);
    for (std::streamsize i = 0; i < written; ++i) {
      if (s[i] == '\n') ++lines_;
    }
    return written;
  }
  int sync() override { return to_ == nullptr ? -1 : to_->pubsync(); }

 private:
  std::streambuf* to_;
  int64_t lines_ = 0;
};

}  // namespace

// --- DESCRIBE TABLE ------------------------------------------------------------

Result<TableInfo> Governed::DescribeTable(const Caller& caller, const TableName& table, const VersionSpec& at) {
  AuditRecord rec = Impl::NewRecord(caller, "table.describe", table.ToString());
  json params = json::object();
  if (at.version) params["version"] = *at.version;
  if (at.timestamp) params["timestamp"] = FormatTimestamp(*at.timestamp);
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;

  Result<TableInfo> r = [&]() -> Result<TableInfo> {
    VESTA_RETURN_IF_ERROR(impl_->privileges->CheckRead(caller.user, internal::GroupSet(caller), Securable::Table(table),
                                                       caller.metastore_admin));
    VESTA_ASSIGN_OR_RETURN(const int64_t version, impl_->store->ResolveVersion(table, at));
    params["version_read"] = version;
    VESTA_ASSIGN_OR_RETURN(TableInfo info, impl_->store->DescribeTable(table, {.version = version}));
    VESTA_ASSIGN_OR_RETURN(EffectivePolicy ep, impl_->policies->Resolve(table, info.schema, caller.context));
    params["policies"] = ep.applied;
    if (ep.row_filter) {
      // Count the rows the row filter lets the caller see: the key column only.
      const int pk = info.schema.primary_key_index();
      if (pk < 0) return Status::Internal("table " + table.ToString() + " has no primary key column");
      ReadOptions ro;
      ro.at.version = version;
      ro.columns = {info.schema.columns[static_cast<size_t>(pk)].name};
      VESTA_ASSIGN_OR_RETURN(ro.predicate, internal::StorePredicate({ep.row_filter->expr()}, info.schema));
      VESTA_ASSIGN_OR_RETURN(ReadResult rows, impl_->store->Read(table, ro));
      if (rows.version != version) {
        return Status::Internal("count of " + table.ToString() + " read version " +
                                std::to_string(rows.version) + ", expected " + std::to_string(version));
      }
      info.row_count = static_cast<int64_t>(rows.rows.size());
    }
    params["row_count"] = info.row_count;
    return info;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, 0));
  return r;
}

// --- DESCRIBE HISTORY ----------------------------------------------------------

Result<std::vector<CommitInfo>> Governed::History(const Caller& caller, const TableName& table, int64_t limit) {
  AuditRecord rec = Impl::NewRecord(caller, "table.history", table.ToString());
  json params = {{"limit", limit}};
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;

  Result<std::vector<CommitInfo>> r = [&]() -> Result<std::vector<CommitInfo>> {
    const std::set<std::string> groups = internal::GroupSet(caller);
    const Securable s = Securable::Table(table);
    VESTA_RETURN_IF_ERROR(impl_->privileges->CheckRead(caller.user, groups, s, caller.metastore_admin));
    if (limit < -1) return Status::InvalidArgument("history limit must be -1 (all) or >= 0, got " +
                                                   std::to_string(limit));
    VESTA_ASSIGN_OR_RETURN(std::vector<CommitInfo> commits, impl_->store->History(table, limit));
    const bool full = impl_->privileges->Has(caller.user, groups, s, Privilege::kManage, caller.metastore_admin);
    params["redacted"] = !full;
    if (full) {
      params["metrics_withheld"] = false;
      return commits;
    }
    // Row metrics only for a caller no row filter restricts (fail closed:
    // withheld also when the filter cannot be resolved).
    bool withhold_metrics = true;
    Result<TableInfo> info = impl_->store->DescribeTable(table);
    if (info.ok()) {
      Result<EffectivePolicy> ep = impl_->policies->Resolve(table, info->schema, caller.context);
      withhold_metrics = !ep.ok() || ep->row_filter.has_value();
    }
    params["metrics_withheld"] = withhold_metrics;
    for (CommitInfo& c : commits) {
      c.parameters_json = "{}";
      if (withhold_metrics) {
        c.rows_added = -1;
        c.rows_removed = -1;
        c.rows_updated = -1;
      }
    }
    return commits;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

// --- Audit log -----------------------------------------------------------------

Result<std::vector<AuditRecord>> Governed::QueryAudit(const Caller& caller, const AuditQuery& q) {
  AuditRecord rec = Impl::NewRecord(caller, "audit.query", "");
  json params = AuditQueryParams(q);
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Result<std::vector<AuditRecord>> r = [&]() -> Result<std::vector<AuditRecord>> {
    VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "read the audit log"));
    return impl_->audit->Query(q);
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

Status Governed::ExportAudit(const Caller& caller, const AuditQuery& q, std::ostream& out) {
  AuditRecord rec = Impl::NewRecord(caller, "audit.export", "");
  json params = AuditQueryParams(q);
  params.erase("limit");  // ExportJsonLines ignores it
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Status st = RequireAdmin(caller, "export the audit log");
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  LineCountingBuf counter(out.rdbuf());
  std::ostream counted(&counter);
  st = impl_->audit->ExportJsonLines(q, counted);
  counted.flush();
  if (st.ok() && !counted) st = Status::Unavailable("the audit export could not be written to the output");
  if (!st.ok()) {
    out.setstate(std::ios::badbit);
    return impl_->Fail(std::move(rec), params, st);
  }
  params["lines"] = counter.lines();
  st = internal::AllowRead(*impl_->audit, std::move(rec), params, counter.lines());
  if (!st.ok()) {
    return Status(st.code(), std::to_string(counter.lines()) +
                                 " audit lines were exported, but the export's own audit record could not "
                                 "be written: " + st.message());
  }
  return Status::OK();
}

Result<AuditVerification> Governed::VerifyAudit(const Caller& caller) {
  AuditRecord rec = Impl::NewRecord(caller, "audit.verify", "");
  json params = json::object();
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Result<AuditVerification> r = [&]() -> Result<AuditVerification> {
    VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "verify the audit log"));
    AuditVerification v;
    Status st = impl_->audit->Verify(&v.records_checked, &v.first_bad_seq);
    if (st.ok()) {
      v.intact = true;
      v.first_bad_seq = -1;
    } else if (st.code() == StatusCode::kDataLoss) {
      v.intact = false;
      v.problem = st.message();
    } else {
      return st;
    }
    return v;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  params["intact"] = r->intact;
  params["records_checked"] = r->records_checked;
  params["first_bad_seq"] = r->first_bad_seq;
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, 0));
  return r;
}

// --- Lineage -------------------------------------------------------------------

namespace {

struct LineageWalk {
  governance::Lineage* lineage;
  governance::Privileges* privileges;
  const Caller* caller;
  std::set<std::string> groups;
  std::map<std::string, bool> readable_cache;  // "kind\nlower name" -> readable

  static std::string NodeKey(const LineageNode& n) {
    std::string name = n.name;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return n.kind + "\n" + name + "\n" + std::to_string(n.version);
  }

  // Whether the caller may read `n`: a table or index they pass CheckRead on.
  // Other kinds (query, job): no. Store errors: no (fails closed).
  bool Readable(const LineageNode& n) {
    std::string key = n.kind + "\n" + n.name;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = readable_cache.find(key);
    if (it != readable_cache.end()) return it->second;
    bool ok = false;
    if (n.kind == "table" || n.kind == "index") {
      Result<TableName> name = TableName::Parse(n.name);
      if (name.ok()) {
        const Securable s = n.kind == "table" ? Securable::Table(*name) : Securable::Index(*name);
        ok = privileges->CheckRead(caller->user, groups, s, caller->metastore_admin).ok();
      }
    }
    readable_cache[key] = ok;
    return ok;
  }

  // Breadth-first over readable nodes, one hop per Lineage call.
  Result<std::vector<LineageEdge>> Walk(const LineageNode& start, bool upstream, int max_depth) {
    std::vector<LineageEdge> out;
    std::set<int64_t> seen_edges;
    std::set<std::string> expanded{NodeKey(start)};
    std::vector<LineageNode> frontier{start};
    for (int depth = 1; depth <= max_depth && !frontier.empty(); ++depth) {
      std::vector<LineageNode> next;
      for (const LineageNode& n : frontier) {
        Result<std::vector<LineageEdge>> hop =
            upstream ? lineage->Upstream(n, 1, kMaxLineageEdges) : lineage->Downstream(n, 1, kMaxLineageEdges);
        if (!hop.ok()) return hop.status();
        for (LineageEdge& e : *hop) {
          const LineageNode& far = upstream ? e.from : e.to;
          if (!Readable(far) || !seen_edges.insert(e.edge_id).second) continue;
          if (out.size() >= kMaxLineageEdges) {
            return Status::ResourceExhausted("more than " + std::to_string(kMaxLineageEdges) +
                                             " lineage edges reached; narrow the node's version or the depth");
          }
          if (expanded.insert(NodeKey(far)).second) next.push_back(far);
          e.depth = depth;
          out.push_back(std::move(e));
        }
      }
      frontier = std::move(next);
    }
    return out;
  }
};

}  // namespace

namespace {

// The body of Upstream / Downstream. A template so that Governed::Impl (a
// private type) is deduced, not named.
template <typename ImplT>
Result<std::vector<LineageEdge>> LineageQuery(ImplT& impl, const Caller& caller, const LineageNode& node,
                                              int max_depth, bool upstream) {
  AuditRecord rec = ImplT::NewRecord(caller, "lineage.query", node.name);
  json params = {{"direction", upstream ? "upstream" : "downstream"},
                 {"kind", internal::AuditText(node.kind)},
                 {"name", internal::AuditText(node.name)},
                 {"version", node.version},
                 {"max_depth", max_depth}};
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;
  Result<std::vector<LineageEdge>> r = [&]() -> Result<std::vector<LineageEdge>> {
    if (!caller.metastore_admin) {
      if (node.kind != "table" && node.kind != "index") {
        return Status::PermissionDenied(caller.user + " lacks metastore admin, needed to query the lineage of " +
                                        node.ToString() + " (others may query tables and indexes they may read)");
      }
      VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(node.name));
      const Securable s = node.kind == "table" ? Securable::Table(name) : Securable::Index(name);
      VESTA_RETURN_IF_ERROR(impl.privileges->CheckRead(caller.user, internal::GroupSet(caller), s, false));
    }
    if (max_depth < 1) return Status::InvalidArgument("lineage max_depth must be >= 1, got " + std::to_string(max_depth));
    if (caller.metastore_admin) {
      return upstream ? impl.lineage->Upstream(node, max_depth, kMaxLineageEdges)
                      : impl.lineage->Downstream(node, max_depth, kMaxLineageEdges);
    }
    LineageWalk walk{impl.lineage.get(), impl.privileges.get(), &caller, internal::GroupSet(caller), {}};
    return walk.Walk(node, upstream, max_depth);
  }();
  if (!r.ok()) return impl.Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl.audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

}  // namespace

Result<std::vector<LineageEdge>> Governed::Upstream(const Caller& caller, const LineageNode& node, int max_depth) {
  return LineageQuery(*impl_, caller, node, max_depth, true);
}

Result<std::vector<LineageEdge>> Governed::Downstream(const Caller& caller, const LineageNode& node,
                                                      int max_depth) {
  return LineageQuery(*impl_, caller, node, max_depth, false);
}

}  // namespace vesta::access
