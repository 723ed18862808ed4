// The index catalog. Storage (in the store's SQLite file):
//
//   gov_indexes(name TEXT PRIMARY KEY COLLATE NOCASE, definition TEXT,
//               creator TEXT, created_us INTEGER)
#include "governance/index_catalog.h"

#include <mutex>
#include <nlohmann/json.hpp>

#include "governance/internal/sqlite.h"

namespace vesta::governance {

using internal::Db;
using internal::Stmt;
using json = nlohmann::json;

namespace {

constexpr int kBusyTimeoutMs = 10000;

constexpr const char* kDdl = R"sql(
CREATE TABLE IF NOT EXISTS gov_indexes(
  name TEXT PRIMARY KEY COLLATE NOCASE,
  definition TEXT NOT NULL,
  creator TEXT NOT NULL,
  created_us INTEGER NOT NULL);
)sql";

Result<std::string> Canonical(const std::string& definition_json) {
  json j = json::parse(definition_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("index definition must be a JSON object");
  }
  return j.dump();
}

Result<IndexCatalogEntry> EntryOf(const Stmt& s) {
  IndexCatalogEntry e;
  auto name = TableName::Parse(s.Text(0));
  if (!name.ok()) return Status::Internal("gov_indexes holds an invalid name '" + s.Text(0) + "'");
  e.name = *name;
  e.definition_json = s.Text(1);
  e.creator = s.Text(2);
  e.created_at = Timestamp{s.Int(3)};
  return e;
}

}  // namespace

struct IndexCatalog::Impl {
  std::mutex mu;
  std::unique_ptr<Db> db;
};

IndexCatalog::IndexCatalog() : impl_(std::make_unique<Impl>()) {}
IndexCatalog::~IndexCatalog() = default;

Result<std::unique_ptr<IndexCatalog>> IndexCatalog::Open(const std::string& store_path) {
  std::unique_ptr<IndexCatalog> c(new IndexCatalog());
  VESTA_ASSIGN_OR_RETURN(c->impl_->db,
                         internal::OpenStoreConnection(store_path, kDdl, "the index catalog", kBusyTimeoutMs));
  return c;
}

Status IndexCatalog::Create(IndexCatalogEntry entry) {
  if (entry.creator.empty()) return Status::InvalidArgument("index creator must not be empty");
  VESTA_ASSIGN_OR_RETURN(std::string def, Canonical(entry.definition_json));
  int64_t ts = entry.created_at.micros != 0 ? entry.created_at.micros : NowTimestamp().micros;
  const std::string name = entry.name.ToString();
  std::lock_guard<std::mutex> lock(impl_->mu);
  Db& db = *impl_->db;
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("INSERT INTO gov_indexes(name, definition, creator, created_us) "
                                             "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(name) DO NOTHING"));
  s->BindText(1, name).BindText(2, def).BindText(3, entry.creator).BindInt(4, ts);
  Status st = s->Run();
  s->Reset();
  VESTA_RETURN_IF_ERROR(st.WithContext("recording index " + name));
  if (db.changes() == 0) return Status::AlreadyExists("index " + name + " already exists");
  return Status::OK();
}

Status IndexCatalog::Update(const TableName& name, const std::string& definition_json) {
  VESTA_ASSIGN_OR_RETURN(std::string def, Canonical(definition_json));
  std::lock_guard<std::mutex> lock(impl_->mu);
  Db& db = *impl_->db;
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("UPDATE gov_indexes SET definition = ?2 WHERE name = ?1"));
  s->BindText(1, name.ToString()).BindText(2, def);
  Status st = s->Run();
  s->Reset();
  VESTA_RETURN_IF_ERROR(st.WithContext("updating index " + name.ToString()));
  if (db.changes() == 0) return Status::NotFound("index " + name.ToString() + " does not exist");
  return Status::OK();
}

Result<IndexCatalogEntry> IndexCatalog::Get(const TableName& name) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Db& db = *impl_->db;
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("SELECT name, definition, creator, created_us FROM gov_indexes "
                                             "WHERE name = ?1"));
  s->BindText(1, name.ToString());
  auto row = s->Step();
  if (!row.ok()) {
    s->Reset();
    return row.status().WithContext("reading index " + name.ToString());
  }
  if (!*row) {
    s->Reset();
    return Status::NotFound("index " + name.ToString() + " does not exist");
  }
  auto e = EntryOf(*s);
  s->Reset();
  return e;
}

Result<std::vector<IndexCatalogEntry>> IndexCatalog::List() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Db& db = *impl_->db;
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("SELECT name, definition, creator, created_us FROM gov_indexes "
                                             "ORDER BY name"));
  std::vector<IndexCatalogEntry> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status().WithContext("listing indexes");
    }
    if (!*row) break;
    auto e = EntryOf(*s);
    if (!e.ok()) {
      s->Reset();
      return e.status();
    }
    out.push_back(std::move(e).value());
  }
  s->Reset();
  return out;
}

Status IndexCatalog::Remove(const TableName& name) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  Db& db = *impl_->db;
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("DELETE FROM gov_indexes WHERE name = ?1"));
  s->BindText(1, name.ToString());
  Status st = s->Run();
  s->Reset();
  VESTA_RETURN_IF_ERROR(st.WithContext("removing index " + name.ToString()));
  if (db.changes() == 0) return Status::NotFound("index " + name.ToString() + " does not exist");
  return Status::OK();
}

}  // namespace vesta::governance
