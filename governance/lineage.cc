// Lineage edges. Storage (in the store's SQLite file):
//
//   gov_lineage(edge_id, from_kind, from_name, from_version, to_kind, to_name,
//               to_version, relation, ts_us, principal, details)
//
// with indexes on (to_kind, to_name) for Upstream and (from_kind,
// from_name) for Downstream; names compare NOCASE like catalog names.
#include "governance/lineage.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "governance/internal/sqlite.h"

namespace vesta::governance {

using internal::Db;
using internal::Stmt;
using internal::TxnScope;
using json = nlohmann::json;

namespace {

constexpr int kBusyTimeoutMs = 10000;
constexpr int kPageSize = 16384;  // ignored for an existing store

constexpr const char* kLineageDdl = R"sql(
CREATE TABLE IF NOT EXISTS gov_lineage(
  edge_id INTEGER PRIMARY KEY,
  from_kind TEXT NOT NULL, from_name TEXT NOT NULL COLLATE NOCASE, from_version INTEGER NOT NULL,
  to_kind TEXT NOT NULL, to_name TEXT NOT NULL COLLATE NOCASE, to_version INTEGER NOT NULL,
  relation TEXT NOT NULL, ts_us INTEGER NOT NULL, principal TEXT NOT NULL, details TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS gov_lineage_to ON gov_lineage(to_kind, to_name);
CREATE INDEX IF NOT EXISTS gov_lineage_from ON gov_lineage(from_kind, from_name);
)sql";

constexpr const char* kColumns =
    "edge_id, from_kind, from_name, from_version, to_kind, to_name, to_version, "
    "relation, ts_us, principal, details";

Status CheckNode(const char* which, const LineageNode& n) {
  if (n.kind.empty())
    return Status::InvalidArgument(std::string("lineage ") + which + " node kind must not be empty");
  if (n.name.empty())
    return Status::InvalidArgument(std::string("lineage ") + which + " node name must not be empty");
  if (n.version < -1) {
    return Status::InvalidArgument(std::string("lineage ") + which + " node version must be >= -1, got " +
                                   std::to_string(n.version));
  }
  return Status::OK();
}

// The identity of a node for the walk's visited set (names ignore case).
using NodeKey = std::tuple<std::string, std::string, int64_t>;
NodeKey Key(const LineageNode& n) {
  std::string name = n.name;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return {n.kind, std::move(name), n.version};
}

}  // namespace

struct Lineage::Impl {
  std::mutex mu;
  std::unique_ptr<Db> db;
};

std::string LineageNode::ToString() const {
  return kind + " " + name + (version >= 0 ? "@" + std::to_string(version) : "");
}

Result<std::unique_ptr<Lineage>> Lineage::Open(const std::string& store_path) {
  std::unique_ptr<Lineage> lineage(new Lineage());
  lineage->impl_ = std::make_unique<Impl>();
  VESTA_ASSIGN_OR_RETURN(auto db,
                         internal::OpenStoreConnection(store_path, kLineageDdl, "the lineage", kBusyTimeoutMs));
  lineage->impl_->db = std::move(db);
  return lineage;
}

Lineage::~Lineage() = default;

Status Lineage::Record(const LineageEdge& edge) {
  VESTA_RETURN_IF_ERROR(CheckNode("from", edge.from));
  VESTA_RETURN_IF_ERROR(CheckNode("to", edge.to));
  if (edge.relation.empty()) return Status::InvalidArgument("lineage relation must not be empty");
  std::string details = "{}";
  if (!edge.details_json.empty()) {
    try {
      json j = json::parse(edge.details_json);
      if (!j.is_object()) {
        return Status::InvalidArgument(std::string("lineage details_json must be a JSON object, got ") +
                                       j.type_name());
      }
      details = j.dump();
    } catch (const json::exception& e) {
      return Status::InvalidArgument(std::string("lineage details_json is not valid JSON: ") + e.what());
    }
  }
  int64_t ts = edge.time.micros != 0 ? edge.time.micros : NowTimestamp().micros;

  std::lock_guard<std::mutex> lock(impl_->mu);
  Db& db = *impl_->db;
  VESTA_ASSIGN_OR_RETURN(Stmt * s,
                         db.Cached("INSERT INTO gov_lineage(from_kind, from_name, from_version, to_kind, "
                                   "to_name, to_version, relation, ts_us, principal, details) "
                                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  s->BindText(1, edge.from.kind)
      .BindText(2, edge.from.name)
      .BindInt(3, edge.from.version)
      .BindText(4, edge.to.kind)
      .BindText(5, edge.to.name)
      .BindInt(6, edge.to.version)
      .BindText(7, edge.relation)
      .BindInt(8, ts)
      .BindText(9, edge.principal)
      .BindText(10, details);
  Status st = s->Run();
  s->Reset();
  return st.WithContext("recording lineage " + edge.from.ToString() + " -> " + edge.to.ToString());
}

Result<std::vector<LineageEdge>> Lineage::Upstream(const LineageNode& node, int max_depth, size_t max_edges) {
  return Walk(node, /*upstream=*/true, max_depth, max_edges);
}

Result<std::vector<LineageEdge>> Lineage::Downstream(const LineageNode& node, int max_depth,
                                                     size_t max_edges) {
  return Walk(node, /*upstream=*/false, max_depth, max_edges);
}

Result<std::vector<LineageEdge>> Lineage::Walk(const LineageNode& node, bool upstream, int max_depth,
                                               size_t max_edges) {
  VESTA_RETURN_IF_ERROR(CheckNode("queried", node));
  if (max_depth < 1)
    return Status::InvalidArgument("lineage max_depth must be >= 1, got " + std::to_string(max_depth));

  // Edges whose near end (`to` going upstream, `from` going downstream)
  // matches the node; versions match if either side is -1.
  const std::string side = upstream ? "to" : "from";
  const std::string sql = std::string("SELECT ") + kColumns + " FROM gov_lineage WHERE " + side +
                          "_kind = ?1 AND " + side + "_name = ?2 AND (?3 < 0 OR " + side +
                          "_version < 0 OR " + side + "_version = ?3) ORDER BY edge_id";

  std::lock_guard<std::mutex> lock(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, /*immediate=*/false);  // one snapshot for the whole walk
  VESTA_RETURN_IF_ERROR(txn.Begin().WithContext("lineage"));
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached(sql));

  std::vector<LineageEdge> out;
  std::set<int64_t> seen_edges;
  std::set<NodeKey> expanded{Key(node)};
  std::vector<LineageNode> frontier{node};
  for (int depth = 1; depth <= max_depth && !frontier.empty(); ++depth) {
    std::vector<LineageNode> next;
    for (const LineageNode& n : frontier) {
      s->BindText(1, n.kind).BindText(2, n.name).BindInt(3, n.version);
      while (true) {
        auto row = s->Step();
        if (!row.ok()) {
          s->Reset();
          return row.status().WithContext("lineage of " + node.ToString());
        }
        if (!*row) break;
        int64_t id = s->Int(0);
        if (!seen_edges.insert(id).second) continue;
        if (out.size() >= max_edges) {
          s->Reset();
          return Status::ResourceExhausted("lineage of " + node.ToString() + " has more than " +
                                           std::to_string(max_edges) + " edges within depth " +
                                           std::to_string(max_depth) + "; give a version or a smaller depth");
        }
        LineageEdge e;
        e.edge_id = id;
        e.from = {s->Text(1), s->Text(2), s->Int(3)};
        e.to = {s->Text(4), s->Text(5), s->Int(6)};
        e.relation = s->Text(7);
        e.time = Timestamp{s->Int(8)};
        e.principal = s->Text(9);
        e.details_json = s->Text(10);
        e.depth = depth;
        const LineageNode& far = upstream ? e.from : e.to;
        if (expanded.insert(Key(far)).second) next.push_back(far);
        out.push_back(std::move(e));
      }
      s->Reset();
    }
    frontier = std::move(next);
  }
  return out;
}

}  // namespace vesta::governance
