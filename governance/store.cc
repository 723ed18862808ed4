// Versioned tables on SQLite. Storage layout (one database file):
//
//   vesta_meta(key, value)                 format marker
//   catalogs, schemas                      the namespace
//   tables(table_id, catalog, schema_name, name, primary_key_column,
//          current_version, oldest_version, ...)
//   columns(table_id, column_id, name, type, nullable, comment)
//   schema_versions(table_id, version, column_ids)   the schema in force
//                                          from `version` on (JSON id list)
//   commits(table_id, version, ts_us, principal, operation, parameters,
//           read_version, rows_added, rows_removed, rows_updated)
//   t_<table_id>(_rid, _added, _removed, c<column_id>...)   row images
//
// A row image is visible at version v iff _added <= v AND (_removed IS NULL
// OR _removed > v). Indexes: a partial UNIQUE index on the primary key over
// live rows (one live row per key, enforced by SQLite), (_added, pk) for the
// change feed and conflict checks, and a partial (_removed, pk) index over
// removed rows, which costs nothing at append.
#include "governance/store.h"

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "filter/filter.h"
#include "governance/internal/sqlite.h"

namespace vesta::governance {

using internal::Db;
using internal::QuoteIdent;
using internal::Stmt;
using internal::TxnScope;
using json = nlohmann::json;

namespace {

constexpr const char* kFormat = "vesta-store-1";

constexpr const char* kMetaDdl = R"sql(
CREATE TABLE IF NOT EXISTS vesta_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalogs(
  name TEXT PRIMARY KEY COLLATE NOCASE, owner TEXT NOT NULL, created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS schemas(
  catalog TEXT NOT NULL COLLATE NOCASE REFERENCES catalogs(name) ON DELETE CASCADE,
  name TEXT NOT NULL COLLATE NOCASE, owner TEXT NOT NULL, created_us INTEGER NOT NULL,
  PRIMARY KEY(catalog, name));
CREATE TABLE IF NOT EXISTS tables(
  table_id INTEGER PRIMARY KEY,
  catalog TEXT NOT NULL COLLATE NOCASE, schema_name TEXT NOT NULL COLLATE NOCASE,
  name TEXT NOT NULL COLLATE NOCASE,
  primary_key_column INTEGER NOT NULL, current_version INTEGER NOT NULL,
  oldest_version INTEGER NOT NULL, comment TEXT NOT NULL, owner TEXT NOT NULL,
  created_us INTEGER NOT NULL, properties TEXT NOT NULL,
  UNIQUE(catalog, schema_name, name));
CREATE TABLE IF NOT EXISTS columns(
  table_id INTEGER NOT NULL REFERENCES tables(table_id) ON DELETE CASCADE,
  column_id INTEGER NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
  nullable INTEGER NOT NULL, comment TEXT NOT NULL, PRIMARY KEY(table_id, column_id));
CREATE TABLE IF NOT EXISTS schema_versions(
  table_id INTEGER NOT NULL REFERENCES tables(table_id) ON DELETE CASCADE,
  version INTEGER NOT NULL, column_ids TEXT NOT NULL, PRIMARY KEY(table_id, version));
CREATE TABLE IF NOT EXISTS commits(
  table_id INTEGER NOT NULL REFERENCES tables(table_id) ON DELETE CASCADE,
  version INTEGER NOT NULL, ts_us INTEGER NOT NULL, principal TEXT NOT NULL,
  operation TEXT NOT NULL, parameters TEXT NOT NULL, read_version INTEGER NOT NULL,
  rows_added INTEGER NOT NULL, rows_removed INTEGER NOT NULL, rows_updated INTEGER NOT NULL,
  PRIMARY KEY(table_id, version));
)sql";

struct ColumnDef {
  int64_t id = 0;
  Column column;
  std::string phys() const { return "c" + std::to_string(id); }
};

// What the catalog knows of one table, read inside a transaction.
struct TableMeta {
  int64_t id = 0;
  TableName name;
  int64_t pk_column_id = 0;
  int64_t current_version = 0;
  int64_t oldest_version = 0;
  std::string comment, owner, properties_json;
  Timestamp created_at;

  std::string phys() const { return QuoteIdent("t_" + std::to_string(id)); }
  std::string pk_phys() const { return "c" + std::to_string(pk_column_id); }
};

std::string KeyString(const Value& v) {
  if (v.is_int()) return "i" + std::to_string(v.as_int());
  if (v.is_string()) return "s" + v.as_string();
  return "?" + v.ToString();
}

std::string Quoted(const Value& v) { return "'" + v.ToString() + "'"; }

Result<TableMeta> LoadTable(Db& db, const TableName& name) {
  VESTA_ASSIGN_OR_RETURN(
      Stmt * s,
      db.Cached("SELECT table_id, catalog, schema_name, name, primary_key_column, current_version, "
                "oldest_version, comment, owner, created_us, properties FROM tables "
                "WHERE catalog = ?1 AND schema_name = ?2 AND name = ?3"));
  s->BindText(1, name.catalog).BindText(2, name.schema).BindText(3, name.table);
  VESTA_ASSIGN_OR_RETURN(bool found, s->Step());
  if (!found) return Status::NotFound("table " + name.ToString() + " does not exist");
  TableMeta m;
  m.id = s->Int(0);
  m.name = {s->Text(1), s->Text(2), s->Text(3)};
  m.pk_column_id = s->Int(4);
  m.current_version = s->Int(5);
  m.oldest_version = s->Int(6);
  m.comment = s->Text(7);
  m.owner = s->Text(8);
  m.created_at = Timestamp{s->Int(9)};
  m.properties_json = s->Text(10);
  s->Reset();
  return m;
}

// The columns in force at `version`, in order.
Result<std::vector<ColumnDef>> SchemaAt(Db& db, int64_t table_id, int64_t version) {
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("SELECT column_ids FROM schema_versions WHERE table_id = ?1 AND "
                                             "version <= ?2 ORDER BY version DESC LIMIT 1"));
  s->BindInt(1, table_id).BindInt(2, version);
  VESTA_ASSIGN_OR_RETURN(bool found, s->Step());
  if (!found) return Status::Internal("no schema recorded for table " + std::to_string(table_id));
  std::vector<int64_t> ids;
  try {
    ids = json::parse(s->Text(0)).get<std::vector<int64_t>>();
  } catch (const json::exception& e) {
    return Status::Internal(std::string("corrupt schema record: ") + e.what());
  }
  s->Reset();
  VESTA_ASSIGN_OR_RETURN(Stmt * c, db.Cached("SELECT column_id, name, type, nullable, comment FROM columns "
                                             "WHERE table_id = ?1"));
  c->BindInt(1, table_id);
  std::unordered_map<int64_t, ColumnDef> all;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, c->Step());
    if (!row) break;
    ColumnDef d;
    d.id = c->Int(0);
    d.column.name = c->Text(1);
    auto t = DataType::Parse(c->Text(2));
    if (!t.ok()) return Status::Internal("corrupt column type: " + t.status().message());
    d.column.type = *t;
    d.column.nullable = c->Int(3) != 0;
    d.column.comment = c->Text(4);
    all[d.id] = std::move(d);
  }
  c->Reset();
  std::vector<ColumnDef> out;
  for (int64_t id : ids) {
    auto it = all.find(id);
    if (it == all.end()) return Status::Internal("schema refers to unknown column id " + std::to_string(id));
    out.push_back(it->second);
  }
  return out;
}

// Steps `s` to the end, collecting column 0 of every row as text.
Result<std::vector<std::string>> FirstColumnText(Stmt& s) {
  std::vector<std::string> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.Text(0));
  }
  return out;
}

Schema ToSchema(const std::vector<ColumnDef>& defs, const TableMeta& meta) {
  Schema s;
  for (const auto& d : defs) {
    s.columns.push_back(d.column);
    if (d.id == meta.pk_column_id) s.primary_key = d.column.name;
  }
  return s;
}

int PkIndex(const std::vector<ColumnDef>& defs, const TableMeta& meta) {
  for (size_t i = 0; i < defs.size(); ++i) {
    if (defs[i].id == meta.pk_column_id) return static_cast<int>(i);
  }
  return -1;
}

std::string ColumnNames(const std::vector<ColumnDef>& defs) {
  std::string s;
  for (size_t i = 0; i < defs.size() && i < 20; ++i) {
    if (i) s += ", ";
    s += defs[i].column.name;
  }
  if (defs.size() > 20) s += ", ...";
  return s;
}

// The version a VersionSpec designates, checked against the table's range.
Result<int64_t> Resolve(Db& db, const TableMeta& meta, const VersionSpec& at) {
  if (at.version && at.timestamp) {
    return Status::InvalidArgument("give either a version or a timestamp, not both");
  }
  int64_t v = meta.current_version;
  if (at.version) {
    v = *at.version;
    if (v < 0) return Status::InvalidArgument("version must be >= 0, got " + std::to_string(v));
    if (v > meta.current_version) {
      return Status::NotFound("version " + std::to_string(v) + " of " + meta.name.ToString() +
                              " does not exist (current version is " + std::to_string(meta.current_version) +
                              ")");
    }
  } else if (at.timestamp) {
    VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("SELECT MAX(version) FROM commits WHERE table_id = ?1 AND "
                                               "ts_us <= ?2"));
    s->BindInt(1, meta.id).BindInt(2, at.timestamp->micros);
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row || s->IsNull(0)) {
      s->Reset();
      return Status::NotFound(meta.name.ToString() + " has no version at or before " +
                              FormatTimestamp(*at.timestamp) + " (it was created at " +
                              FormatTimestamp(meta.created_at) + ")");
    }
    v = s->Int(0);
    s->Reset();
  }
  if (v < meta.oldest_version) {
    return Status::FailedPrecondition("version " + std::to_string(v) + " of " + meta.name.ToString() +
                                      " was vacuumed; the oldest readable version is " +
                                      std::to_string(meta.oldest_version));
  }
  return v;
}

// Visibility predicate for version v (binds nothing: v is a trusted integer).
std::string VisibleAt(int64_t v, int64_t current) {
  if (v == current) return "_removed IS NULL";
  std::string sv = std::to_string(v);
  return "_added <= " + sv + " AND (_removed IS NULL OR _removed > " + sv + ")";
}

// Compiles a filter-language predicate against the columns `defs`.
Result<filter::SqlFragment> CompilePredicate(const std::string& predicate, const std::vector<ColumnDef>& defs,
                                             const TableMeta& meta) {
  VESTA_ASSIGN_OR_RETURN(filter::Expr expr, filter::ParseFilterString(predicate));
  Schema schema = ToSchema(defs, meta);
  VESTA_ASSIGN_OR_RETURN(filter::BoundExpr bound, filter::Bind(expr, schema));
  filter::SqlContext ctx;
  ctx.column_sql = [&defs](int i) { return QuoteIdent(defs[static_cast<size_t>(i)].phys()); };
  return filter::ToSql(bound, ctx);
}

}  // namespace

// ---------------------------------------------------------------------------

struct Store::Impl {
  StoreOptions options;
  std::string path;
  std::mutex write_mu;  // guards writer and commit ordering in this process
  std::unique_ptr<Db> writer;
  std::mutex pool_mu;
  std::vector<std::unique_ptr<Db>> idle_readers;
  Timestamp last_commit_ts;

  // A reader connection returned to the pool on destruction.
  class Lease {
   public:
    Lease(Impl* impl, std::unique_ptr<Db> db) : impl_(impl), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (!db_) return;
      std::lock_guard<std::mutex> l(impl_->pool_mu);
      if (static_cast<int>(impl_->idle_readers.size()) < impl_->options.max_readers) {
        impl_->idle_readers.push_back(std::move(db_));
      }
    }
    Db& db() { return *db_; }

   private:
    Impl* impl_;
    std::unique_ptr<Db> db_;
  };

  Result<Lease> Reader() {
    {
      std::lock_guard<std::mutex> l(pool_mu);
      if (!idle_readers.empty()) {
        auto db = std::move(idle_readers.back());
        idle_readers.pop_back();
        return Lease(this, std::move(db));
      }
    }
    VESTA_ASSIGN_OR_RETURN(auto db, Db::Open(path, false, options.durability == StoreOptions::Durability::kFull,
                                             options.busy_timeout_ms, options.page_size));
    return Lease(this, std::move(db));
  }

  // A commit timestamp that never goes backwards (timestamp time travel
  // needs commit times ordered like versions).
  Timestamp CommitTimestamp(Db& db, int64_t table_id) {
    Timestamp now = NowTimestamp();
    auto s = db.Cached("SELECT MAX(ts_us) FROM commits WHERE table_id = ?1");
    if (s.ok()) {
      (*s)->BindInt(1, table_id);
      auto row = (*s)->Step();
      if (row.ok() && *row && !(*s)->IsNull(0)) now.micros = std::max(now.micros, (*s)->Int(0) + 1);
      (*s)->Reset();
    }
    return now;
  }
};

Status StoreOptions::Validate() const {
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0) {
    return Status::InvalidArgument("page_size must be a power of two in 512..65536, got " +
                                   std::to_string(page_size));
  }
  if (busy_timeout_ms < 0) return Status::InvalidArgument("busy_timeout_ms must be >= 0");
  if (max_readers < 1) return Status::InvalidArgument("max_readers must be >= 1");
  return Status::OK();
}

Result<TableName> TableName::Parse(std::string_view full_name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = full_name.find('.', start);
    parts.emplace_back(full_name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 3) {
    return Status::InvalidArgument("table name '" + std::string(full_name) +
                                   "' must have three parts: catalog.schema.table");
  }
  static const char* kPart[] = {"catalog", "schema", "table"};
  for (int i = 0; i < 3; ++i) {
    if (!IsValidIdentifier(parts[static_cast<size_t>(i)])) {
      return Status::InvalidArgument(std::string(kPart[i]) + " name '" + parts[static_cast<size_t>(i)] + "' in '" +
                                     std::string(full_name) +
                                     "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 128 bytes)");
    }
  }
  return TableName{parts[0], parts[1], parts[2]};
}

std::string_view ChangeTypeName(ChangeType t) {
  switch (t) {
    case ChangeType::kInsert: return "insert";
    case ChangeType::kDelete: return "delete";
    case ChangeType::kUpdatePreimage: return "update_preimage";
    case ChangeType::kUpdatePostimage: return "update_postimage";
  }
  return "unknown";
}

// --- Store: open and catalog -------------------------------------------------

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const StoreOptions& options) {
  VESTA_RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<Store> store(new Store());
  store->path_ = path;
  store->impl_ = std::make_unique<Impl>();
  Impl& impl = *store->impl_;
  impl.options = options;
  impl.path = path;
  VESTA_ASSIGN_OR_RETURN(impl.writer, Db::Open(path, options.create_if_missing,
                                               options.durability == StoreOptions::Durability::kFull,
                                               options.busy_timeout_ms, options.page_size));
  Db& db = *impl.writer;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin().WithContext("opening store '" + path + "'"));
  // An existing SQLite file that is not a Vesta store is refused rather than
  // written into.
  VESTA_ASSIGN_OR_RETURN(Stmt probe, db.Prepare("SELECT name FROM sqlite_master WHERE type = 'table'"));
  std::set<std::string> existing;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, probe.Step());
    if (!row) break;
    existing.insert(probe.Text(0));
  }
  if (!existing.empty() && !existing.count("vesta_meta")) {
    return Status::FailedPrecondition("'" + path + "' is a SQLite database but not a Vesta store");
  }
  VESTA_RETURN_IF_ERROR(db.Exec(kMetaDdl));
  VESTA_ASSIGN_OR_RETURN(Stmt fmt, db.Prepare("SELECT value FROM vesta_meta WHERE key = 'format'"));
  VESTA_ASSIGN_OR_RETURN(bool has_format, fmt.Step());
  if (has_format) {
    if (fmt.Text(0) != kFormat) {
      return Status::FailedPrecondition("store '" + path + "' has format '" + fmt.Text(0) + "', expected '" +
                                        kFormat + "'");
    }
  } else {
    VESTA_ASSIGN_OR_RETURN(Stmt ins, db.Prepare("INSERT INTO vesta_meta(key, value) VALUES('format', ?1)"));
    ins.BindText(1, kFormat);
    VESTA_RETURN_IF_ERROR(ins.Run());
  }
  fmt = Stmt();
  probe = Stmt();
  VESTA_RETURN_IF_ERROR(txn.Commit());
  return store;
}

Store::~Store() = default;

Status Store::CreateCatalog(const std::string& name, const std::string& principal, bool if_not_exists) {
  if (!IsValidIdentifier(name)) {
    return Status::InvalidArgument("catalog name '" + name + "' is not an identifier");
  }
  std::lock_guard<std::mutex> l(impl_->write_mu);
  Db& db = *impl_->writer;
  VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare(std::string("INSERT ") + (if_not_exists ? "OR IGNORE " : "") +
                                            "INTO catalogs(name, owner, created_us) VALUES(?1, ?2, ?3)"));
  s.BindText(1, name).BindText(2, principal).BindInt(3, NowTimestamp().micros);
  Status st = s.Run();
  if (st.code() == StatusCode::kAlreadyExists) return Status::AlreadyExists("catalog " + name + " already exists");
  return st;
}

Status Store::CreateSchema(const std::string& catalog, const std::string& schema, const std::string& principal,
                           bool if_not_exists) {
  if (!IsValidIdentifier(schema)) {
    return Status::InvalidArgument("schema name '" + schema + "' is not an identifier");
  }
  std::lock_guard<std::mutex> l(impl_->write_mu);
  Db& db = *impl_->writer;
  VESTA_ASSIGN_OR_RETURN(Stmt c, db.Prepare("SELECT 1 FROM catalogs WHERE name = ?1"));
  c.BindText(1, catalog);
  VESTA_ASSIGN_OR_RETURN(bool found, c.Step());
  if (!found) return Status::NotFound("catalog " + catalog + " does not exist");
  VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare(std::string("INSERT ") + (if_not_exists ? "OR IGNORE " : "") +
                                            "INTO schemas(catalog, name, owner, created_us) "
                                            "VALUES(?1, ?2, ?3, ?4)"));
  s.BindText(1, catalog).BindText(2, schema).BindText(3, principal).BindInt(4, NowTimestamp().micros);
  Status st = s.Run();
  if (st.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("schema " + catalog + "." + schema + " already exists");
  }
  return st;
}

Result<std::vector<std::string>> Store::ListCatalogs() {
  VESTA_ASSIGN_OR_RETURN(auto lease, impl_->Reader());
  VESTA_ASSIGN_OR_RETURN(Stmt s, lease.db().Prepare("SELECT name FROM catalogs ORDER BY name"));
  return FirstColumnText(s);
}

Result<std::vector<std::string>> Store::ListSchemas(const std::string& catalog) {
  VESTA_ASSIGN_OR_RETURN(auto lease, impl_->Reader());
  VESTA_ASSIGN_OR_RETURN(Stmt s, lease.db().Prepare("SELECT name FROM schemas WHERE catalog = ?1 ORDER BY name"));
  s.BindText(1, catalog);
  return FirstColumnText(s);
}

Result<TableInfo> Store::CreateTable(const TableName& name, const Schema& schema, const CreateTableOptions& options,
                                     const std::string& principal) {
  VESTA_RETURN_IF_ERROR(TableName::Parse(name.ToString()).status());
  VESTA_RETURN_IF_ERROR(schema.Validate().WithContext("table " + name.ToString()));
  {
    std::lock_guard<std::mutex> l(impl_->write_mu);
    Db& db = *impl_->writer;
    TxnScope txn(&db, true);
    VESTA_RETURN_IF_ERROR(txn.Begin());
    auto existing = LoadTable(db, name);
    if (existing.ok()) {
      if (!options.if_not_exists) return Status::AlreadyExists("table " + name.ToString() + " already exists");
      VESTA_ASSIGN_OR_RETURN(auto defs, SchemaAt(db, existing->id, existing->current_version));
      Schema current = ToSchema(defs, *existing);
      bool same = current.columns.size() == schema.columns.size() &&
                  EqualsIgnoreCase(current.primary_key, schema.primary_key);
      for (size_t i = 0; same && i < schema.columns.size(); ++i) {
        same = EqualsIgnoreCase(current.columns[i].name, schema.columns[i].name) &&
               current.columns[i].type == schema.columns[i].type;
      }
      if (!same) {
        return Status::AlreadyExists("table " + name.ToString() + " already exists with a different schema");
      }
    } else {
      if (!existing.status().IsNotFound()) return existing.status();
      VESTA_ASSIGN_OR_RETURN(Stmt sc, db.Prepare("SELECT 1 FROM schemas WHERE catalog = ?1 AND name = ?2"));
      sc.BindText(1, name.catalog).BindText(2, name.schema);
      VESTA_ASSIGN_OR_RETURN(bool found, sc.Step());
      if (!found) return Status::NotFound("schema " + name.catalog + "." + name.schema + " does not exist");
      json props = options.properties;
      const int pk = schema.primary_key_index();
      VESTA_ASSIGN_OR_RETURN(Stmt ins, db.Prepare("INSERT INTO tables(catalog, schema_name, name, "
                                                  "primary_key_column, current_version, oldest_version, comment, "
                                                  "owner, created_us, properties) "
                                                  "VALUES(?1, ?2, ?3, ?4, 0, 0, ?5, ?6, ?7, ?8)"));
      Timestamp now = NowTimestamp();
      ins.BindText(1, name.catalog).BindText(2, name.schema).BindText(3, name.table).BindInt(4, pk);
      ins.BindText(5, options.comment).BindText(6, principal).BindInt(7, now.micros).BindText(8, props.dump());
      VESTA_RETURN_IF_ERROR(ins.Run());
      const int64_t id = db.last_insert_rowid();
      std::string ddl = "CREATE TABLE " + QuoteIdent("t_" + std::to_string(id)) +
                        "(_rid INTEGER PRIMARY KEY, _added INTEGER NOT NULL, _removed INTEGER";
      json ids = json::array();
      VESTA_ASSIGN_OR_RETURN(Stmt col, db.Prepare("INSERT INTO columns(table_id, column_id, name, type, nullable, "
                                                  "comment) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
      for (size_t i = 0; i < schema.columns.size(); ++i) {
        const Column& c = schema.columns[i];
        ddl += ", c" + std::to_string(i);
        col.Reset();
        col.BindInt(1, id).BindInt(2, static_cast<int64_t>(i)).BindText(3, c.name).BindText(4, c.type.ToString());
        col.BindInt(5, c.nullable ? 1 : 0).BindText(6, c.comment);
        VESTA_RETURN_IF_ERROR(col.Run());
        ids.push_back(i);
      }
      ddl += ");";
      const std::string t = "t_" + std::to_string(id);
      const std::string pkc = "c" + std::to_string(pk);
      ddl += "CREATE UNIQUE INDEX " + QuoteIdent(t + "_live") + " ON " + QuoteIdent(t) + "(" + pkc +
             ") WHERE _removed IS NULL;";
      ddl += "CREATE INDEX " + QuoteIdent(t + "_added") + " ON " + QuoteIdent(t) + "(_added, " + pkc + ");";
      ddl += "CREATE INDEX " + QuoteIdent(t + "_removed") + " ON " + QuoteIdent(t) + "(_removed, " + pkc +
             ") WHERE _removed IS NOT NULL;";
      VESTA_RETURN_IF_ERROR(db.Exec(ddl));
      VESTA_ASSIGN_OR_RETURN(Stmt sv, db.Prepare("INSERT INTO schema_versions(table_id, version, column_ids) "
                                                 "VALUES(?1, 0, ?2)"));
      sv.BindInt(1, id).BindText(2, ids.dump());
      VESTA_RETURN_IF_ERROR(sv.Run());
      json params = {{"columns", schema.columns.size()}, {"primary_key", schema.primary_key}};
      VESTA_ASSIGN_OR_RETURN(Stmt cm, db.Prepare("INSERT INTO commits VALUES(?1, 0, ?2, ?3, 'CREATE TABLE', ?4, "
                                                 "-1, 0, 0, 0)"));
      cm.BindInt(1, id).BindInt(2, now.micros).BindText(3, principal).BindText(4, params.dump());
      VESTA_RETURN_IF_ERROR(cm.Run());
    }
    VESTA_RETURN_IF_ERROR(txn.Commit());
  }
  return DescribeTable(name);
}

Status Store::DropTable(const TableName& name) {
  std::lock_guard<std::mutex> l(impl_->write_mu);
  Db& db = *impl_->writer;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(TableMeta meta, LoadTable(db, name));
  VESTA_RETURN_IF_ERROR(db.Exec("DROP TABLE " + meta.phys()));
  VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare("DELETE FROM tables WHERE table_id = ?1"));
  s.BindInt(1, meta.id);
  VESTA_RETURN_IF_ERROR(s.Run());
  s = Stmt();
  db.ClearCache();
  return txn.Commit();
}

Result<TableInfo> Store::DescribeTable(const TableName& name, const VersionSpec& at) {
  VESTA_ASSIGN_OR_RETURN(auto lease, impl_->Reader());
  Db& db = lease.db();
  TxnScope txn(&db, false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(TableMeta meta, LoadTable(db, name));
  VESTA_ASSIGN_OR_RETURN(int64_t v, Resolve(db, meta, at));
  VESTA_ASSIGN_OR_RETURN(auto defs, SchemaAt(db, meta.id, v));
  TableInfo info;
  info.name = meta.name;
  info.table_id = meta.id;
  info.schema = ToSchema(defs, meta);
  info.version = v;
  info.current_version = meta.current_version;
  info.oldest_version = meta.oldest_version;
  info.comment = meta.comment;
  info.owner = meta.owner;
  info.created_at = meta.created_at;
  try {
    info.properties = json::parse(meta.properties_json).get<std::map<std::string, std::string>>();
  } catch (const json::exception& e) {
    return Status::Internal(std::string("corrupt table properties: ") + e.what());
  }
  VESTA_ASSIGN_OR_RETURN(Stmt cnt,
                         db.Prepare("SELECT COUNT(*) FROM " + meta.phys() + " WHERE " + VisibleAt(v, meta.current_version)));
  VESTA_ASSIGN_OR_RETURN(bool row, cnt.Step());
  if (row) info.row_count = cnt.Int(0);
  return info;
}

Result<std::vector<TableName>> Store::ListTables(const std::string& catalog, const std::string& schema) {
  VESTA_ASSIGN_OR_RETURN(auto lease, impl_->Reader());
  VESTA_ASSIGN_OR_RETURN(Stmt s, lease.db().Prepare("SELECT catalog, schema_name, name FROM tables "
                                                    "WHERE (?1 = '' OR catalog = ?1) AND (?2 = '' OR schema_name = ?2) "
                                                    "ORDER BY catalog, schema_name, name"));
  s.BindText(1, catalog).BindText(2, schema);
  std::vector<TableName> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.Text(0), s.Text(1), s.Text(2)});
  }
  return out;
}

// --- Reads -------------------------------------------------------------------

Result<int64_t> Store::ResolveVersion(const TableName& name, const VersionSpec& at) {
  VESTA_ASSIGN_OR_RETURN(auto lease, impl_->Reader());
  TxnScope txn(&lease.db(), false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(TableMeta meta, LoadTable(lease.db(), name));
  return Resolve(lease.db(), meta, at);
}

Result<ReadResult> Store::Read(const TableName& name, const ReadOptions& options) {
  VESTA_ASSIGN_OR_RETURN(auto lease, impl_->Reader());
  Db& db = lease.db();
  TxnScope txn(&db, false);  // one snapshot for catalog and rows
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(TableMeta meta, LoadTable(db, name));
  VESTA_ASSIGN_OR_RETURN(int64_t v, Resolve(db, meta, options.at));
  VESTA_ASSIGN_OR_RETURN(auto defs, SchemaAt(db, meta.id, v));

  std::vector<size_t> picked;
  if (options.columns.empty()) {
    for (size_t i = 0; i < defs.size(); ++i) picked.push_back(i);
  } else {
    for (const std::string& c : options.columns) {
      size_t i = 0;
      while (i < defs.size() && !EqualsIgnoreCase(defs[i].column.name, c)) ++i;
      if (i == defs.size()) {
        return Status::NotFound("column '" + c + "' is not in " + meta.name.ToString() + " at version " +
                                std::to_string(v) + " (columns: " + ColumnNames(defs) + ")");
      }
      picked.push_back(i);
    }
  }
  ReadResult out;
  out.table = meta.name;
  out.version = v;
  std::string sql = "SELECT ";
  for (size_t k = 0; k < picked.size(); ++k) {
    if (k) sql += ", ";
    sql += QuoteIdent(defs[picked[k]].phys());
    out.columns.push_back(defs[picked[k]].column);
  }
  sql += " FROM " + meta.phys() + " WHERE " + VisibleAt(v, meta.current_version);
  std::vector<Value> params;
  if (!options.predicate.empty()) {
    VESTA_ASSIGN_OR_RETURN(filter::SqlFragment frag, CompilePredicate(options.predicate, defs, meta));
    sql += " AND (" + frag.sql + ")";
    params = std::move(frag.params);
  }
  const int pk = PkIndex(defs, meta);
  Value after;
  if (options.after_primary_key) {
    after = *options.after_primary_key;
    const DataType& pkt = defs[static_cast<size_t>(pk)].column.type;
    if (!after.FitsType(pkt)) {
      auto coerced = ParseValue(after.ToString(), pkt);
      if (!coerced.ok()) {
        return Status::InvalidArgument("after_primary_key: expected " + pkt.ToString() + ", got " +
                                       Quoted(after));
      }
      after = *coerced;
    }
    sql += " AND " + QuoteIdent(meta.pk_phys()) + " > ?";
    params.push_back(after);
  }
  if (options.order_by_primary_key || options.after_primary_key) sql += " ORDER BY " + QuoteIdent(meta.pk_phys());
  if (options.limit >= 0) sql += " LIMIT " + std::to_string(options.limit);
  VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare(sql));
  for (size_t i = 0; i < params.size(); ++i) s.BindValue(static_cast<int>(i + 1), params[i]);
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Row r;
    r.reserve(picked.size());
    for (size_t k = 0; k < picked.size(); ++k) {
      VESTA_ASSIGN_OR_RETURN(Value val, s.GetValue(static_cast<int>(k), defs[picked[k]].column.type));
      r.push_back(std::move(val));
    }
    out.rows.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<CommitInfo>> Store::History(const TableName& name, int64_t limit) {
  VESTA_ASSIGN_OR_RETURN(auto lease, impl_->Reader());
  Db& db = lease.db();
  TxnScope txn(&db, false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(TableMeta meta, LoadTable(db, name));
  VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare("SELECT version, ts_us, principal, operation, parameters, read_version, "
                                            "rows_added, rows_removed, rows_updated FROM commits "
                                            "WHERE table_id = ?1 ORDER BY version DESC LIMIT ?2"));
  s.BindInt(1, meta.id).BindInt(2, limit);
  std::vector<CommitInfo> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    CommitInfo c;
    c.table = meta.name;
    c.version = s.Int(0);
    c.timestamp = Timestamp{s.Int(1)};
    c.principal = s.Text(2);
    c.operation = s.Text(3);
    c.parameters_json = s.Text(4);
    c.read_version = s.Int(5);
    c.rows_added = s.Int(6);
    c.rows_removed = s.Int(7);
    c.rows_updated = s.Int(8);
    out.push_back(std::move(c));
  }
  return out;
}

Result<ChangeFeed> Store::Changes(const TableName& name, int64_t start_version, int64_t end_version) {
  if (start_version < 0 || start_version > end_version) {
    return Status::InvalidArgument("change feed range must satisfy 0 <= start <= end, got " +
                                   std::to_string(start_version) + ".." + std::to_string(end_version));
  }
  VESTA_ASSIGN_OR_RETURN(auto lease, impl_->Reader());
  Db& db = lease.db();
  TxnScope txn(&db, false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(TableMeta meta, LoadTable(db, name));
  if (end_version > meta.current_version) {
    return Status::NotFound("version " + std::to_string(end_version) + " of " + meta.name.ToString() +
                            " does not exist (current version is " + std::to_string(meta.current_version) + ")");
  }
  // Vacuum purges the images removed at or before oldest_version, so the
  // changes of that version itself are gone too.
  const int64_t first_cdf = meta.oldest_version > 0 ? meta.oldest_version + 1 : 0;
  if (start_version < first_cdf) {
    return Status::FailedPrecondition("the change feed of " + meta.name.ToString() + " before version " +
                                      std::to_string(first_cdf) + " was vacuumed");
  }
  VESTA_ASSIGN_OR_RETURN(auto defs, SchemaAt(db, meta.id, end_version));
  std::map<int64_t, Timestamp> ts;
  {
    VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare("SELECT version, ts_us FROM commits WHERE table_id = ?1 AND "
                                              "version BETWEEN ?2 AND ?3"));
    s.BindInt(1, meta.id).BindInt(2, start_version).BindInt(3, end_version);
    while (true) {
      VESTA_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      ts[s.Int(0)] = Timestamp{s.Int(1)};
    }
  }
  std::string cols;
  for (const auto& d : defs) cols += ", " + QuoteIdent(d.phys());
  const std::string t = meta.phys();
  const std::string pk = QuoteIdent(meta.pk_phys());
  const int pk_pos = 4 + PkIndex(defs, meta);  // 1-based result column of the key
  std::string sql =
      "SELECT 0, _added, EXISTS(SELECT 1 FROM " + t + " o WHERE o._removed = x._added AND o." + pk + " = x." + pk +
      ")" + cols + " FROM " + t + " x WHERE _added BETWEEN ?1 AND ?2 UNION ALL SELECT 1, _removed, EXISTS(SELECT 1 FROM " +
      t + " o WHERE o._added = x._removed AND o." + pk + " = x." + pk + ")" + cols + " FROM " + t +
      " x WHERE _removed BETWEEN ?1 AND ?2 ORDER BY 2, " + std::to_string(pk_pos) + ", 1 DESC";
  VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare(sql));
  s.BindInt(1, start_version).BindInt(2, end_version);
  ChangeFeed feed;
  feed.table = meta.name;
  feed.start_version = start_version;
  feed.end_version = end_version;
  for (const auto& d : defs) feed.columns.push_back(d.column);
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ChangeRow c;
    const bool removed = s.Int(0) == 1;
    const bool update = s.Int(2) != 0;
    c.type = removed ? (update ? ChangeType::kUpdatePreimage : ChangeType::kDelete)
                     : (update ? ChangeType::kUpdatePostimage : ChangeType::kInsert);
    c.version = s.Int(1);
    c.timestamp = ts[c.version];
    for (size_t k = 0; k < defs.size(); ++k) {
      VESTA_ASSIGN_OR_RETURN(Value val, s.GetValue(static_cast<int>(3 + k), defs[k].column.type));
      c.row.push_back(std::move(val));
    }
    feed.changes.push_back(std::move(c));
  }
  return feed;
}

Result<VacuumReport> Store::Vacuum(const TableName& name, std::chrono::seconds retention, bool dry_run) {
  if (retention.count() < 0) return Status::InvalidArgument("retention must be >= 0 seconds");
  std::lock_guard<std::mutex> l(impl_->write_mu);
  Db& db = *impl_->writer;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(TableMeta meta, LoadTable(db, name));
  const int64_t cutoff = NowTimestamp().micros - retention.count() * 1000000;
  VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare("SELECT MAX(version) FROM commits WHERE table_id = ?1 AND ts_us <= ?2"));
  s.BindInt(1, meta.id).BindInt(2, cutoff);
  VESTA_ASSIGN_OR_RETURN(bool row, s.Step());
  int64_t keep = meta.oldest_version;
  if (row && !s.IsNull(0)) keep = std::max(keep, s.Int(0));
  VacuumReport rep;
  rep.table = meta.name;
  rep.dry_run = dry_run;
  rep.oldest_version_before = meta.oldest_version;
  rep.oldest_version_after = keep;
  rep.current_version = meta.current_version;
  const std::string purge = " FROM " + meta.phys() + " WHERE _removed IS NOT NULL AND _removed <= " + std::to_string(keep);
  VESTA_ASSIGN_OR_RETURN(Stmt cnt, db.Prepare("SELECT COUNT(*)" + purge));
  VESTA_ASSIGN_OR_RETURN(bool crow, cnt.Step());
  rep.rows_purged = crow ? cnt.Int(0) : 0;
  if (dry_run) return rep;
  VESTA_RETURN_IF_ERROR(db.Exec("DELETE" + purge));
  VESTA_ASSIGN_OR_RETURN(Stmt up, db.Prepare("UPDATE tables SET oldest_version = ?2 WHERE table_id = ?1"));
  up.BindInt(1, meta.id).BindInt(2, keep);
  VESTA_RETURN_IF_ERROR(up.Run());
  // Schema records no readable version needs: all but the one in force at `keep`.
  VESTA_ASSIGN_OR_RETURN(Stmt sv, db.Prepare("DELETE FROM schema_versions WHERE table_id = ?1 AND version < "
                                             "(SELECT MAX(version) FROM schema_versions WHERE table_id = ?1 AND "
                                             "version <= ?2)"));
  sv.BindInt(1, meta.id).BindInt(2, keep);
  VESTA_RETURN_IF_ERROR(sv.Run());
  VESTA_RETURN_IF_ERROR(txn.Commit());
  return rep;
}

// --- Transactions ------------------------------------------------------------

struct Transaction::Op {
  enum Kind { kAppend, kUpsert, kDeleteKeys, kDeleteWhere, kAddColumn, kRestore } kind;
  TableName table;
  std::vector<Row> rows;
  std::vector<Value> keys;
  std::string predicate;
  Column column;
  int64_t restore_version = 0;
  std::string source;
  int64_t read_version = -1;
  bool read_version_pinned = false;
};

namespace {

const char* OpName(Transaction::Op::Kind k) {
  switch (k) {
    case Transaction::Op::kAppend: return "APPEND";
    case Transaction::Op::kUpsert: return "UPSERT";
    case Transaction::Op::kDeleteKeys:
    case Transaction::Op::kDeleteWhere: return "DELETE";
    case Transaction::Op::kAddColumn: return "ADD COLUMN";
    case Transaction::Op::kRestore: return "RESTORE";
  }
  return "?";
}

// Applies one operation inside the open write transaction. Returns the
// commit's parameters; row counts are derived afterwards from the images.
class OpApplier {
 public:
  OpApplier(Db& db, const TableMeta& meta, std::vector<ColumnDef> defs, int64_t version,
            const std::function<void(int64_t, int64_t)>& progress)
      : db_(db), meta_(meta), defs_(std::move(defs)), v_(version), pk_(PkIndex(defs_, meta)), progress_(progress) {}

  Result<json> Apply(Transaction::Op& op) {
    VESTA_RETURN_IF_ERROR(CheckConflicts(op));
    switch (op.kind) {
      case Transaction::Op::kAppend: return Append(op);
      case Transaction::Op::kUpsert: return Upsert(op);
      case Transaction::Op::kDeleteKeys: return DeleteKeys(op);
      case Transaction::Op::kDeleteWhere: return DeleteWhere(op);
      case Transaction::Op::kAddColumn: return AddColumn(op);
      case Transaction::Op::kRestore: return Restore(op);
    }
    return Status::Internal("unknown operation");
  }

  bool schema_changed() const { return schema_changed_; }

 private:
  std::string Ctx() const { return meta_.name.ToString(); }

  Status Conflict(const std::string& what, int64_t read_version) const {
    return Status::Aborted("concurrent commit conflict on " + Ctx() + ": this transaction read version " +
                           std::to_string(read_version) + ", the table is now at version " +
                           std::to_string(meta_.current_version) + " and " + what +
                           "; nothing was committed, retry");
  }

  // Keys (as KeyString) touched by commits after `since`.
  Result<std::unordered_set<std::string>> TouchedKeysSince(int64_t since) {
    std::unordered_set<std::string> out;
    const std::string pk = QuoteIdent(meta_.pk_phys());
    VESTA_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("SELECT " + pk + " FROM " + meta_.phys() + " WHERE _added > ?1 UNION SELECT " +
                                               pk + " FROM " + meta_.phys() + " WHERE _removed > ?1"));
    s.BindInt(1, since);
    const DataType& t = defs_[static_cast<size_t>(pk_)].column.type;
    while (true) {
      VESTA_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      VESTA_ASSIGN_OR_RETURN(Value k, s.GetValue(0, t));
      out.insert(KeyString(k));
    }
    return out;
  }

  Status CheckConflicts(const Transaction::Op& op) {
    const int64_t rv = op.read_version;
    if (rv > meta_.current_version) {
      return Status::InvalidArgument("read version " + std::to_string(rv) + " of " + Ctx() +
                                     " is beyond its current version " + std::to_string(meta_.current_version));
    }
    if (rv == meta_.current_version) return Status::OK();
    switch (op.kind) {
      case Transaction::Op::kAppend: return Status::OK();  // checked per key on insert
      case Transaction::Op::kUpsert:
      case Transaction::Op::kDeleteKeys: {
        VESTA_ASSIGN_OR_RETURN(auto touched, TouchedKeysSince(rv));
        const auto& keys = op.kind == Transaction::Op::kDeleteKeys ? op.keys : std::vector<Value>{};
        if (op.kind == Transaction::Op::kDeleteKeys) {
          for (const Value& k : keys) {
            if (touched.count(KeyString(k))) return Conflict("changed primary key " + Quoted(k), rv);
          }
        } else {
          for (const Row& r : op.rows) {
            const Value& k = r[static_cast<size_t>(pk_)];
            if (touched.count(KeyString(k))) return Conflict("changed primary key " + Quoted(k), rv);
          }
        }
        return Status::OK();
      }
      default: return Conflict("this operation needs the table unchanged since it was read", rv);
    }
  }

  Status ValidateRows(std::vector<Row>& rows) {
    Schema schema = ToSchema(defs_, meta_);
    for (size_t i = 0; i < rows.size(); ++i) {
      Status st = schema.ValidateRow(rows[i]);
      if (!st.ok()) return st.WithContext(Ctx() + ": row " + std::to_string(i));
    }
    return Status::OK();
  }

  std::string InsertSql() const {
    std::string cols = "_added", qs = "?";
    for (const auto& d : defs_) {
      cols += ", " + QuoteIdent(d.phys());
      qs += ", ?";
    }
    return "INSERT INTO " + meta_.phys() + "(" + cols + ") VALUES(" + qs + ")";
  }

  Status InsertRow(Stmt* ins, const Row& r) {
    ins->Reset();
    ins->BindInt(1, v_);
    for (size_t j = 0; j < r.size(); ++j) ins->BindValue(static_cast<int>(j + 2), r[j]);
    VESTA_ASSIGN_OR_RETURN(bool unused, ins->Step());
    (void)unused;
    return Status::OK();
  }

  Result<json> Append(Transaction::Op& op) {
    VESTA_RETURN_IF_ERROR(ValidateRows(op.rows));
    std::unordered_map<std::string, size_t> seen;
    seen.reserve(op.rows.size());
    for (size_t i = 0; i < op.rows.size(); ++i) {
      const Value& k = op.rows[i][static_cast<size_t>(pk_)];
      auto [it, fresh] = seen.emplace(KeyString(k), i);
      if (!fresh) {
        return Status::InvalidArgument(Ctx() + ": duplicate primary key " + Quoted(k) + " in rows " +
                                       std::to_string(it->second) + " and " + std::to_string(i));
      }
    }
    VESTA_ASSIGN_OR_RETURN(Stmt * ins, db_.Cached(InsertSql()));
    for (size_t i = 0; i < op.rows.size(); ++i) {
      const Row& r = op.rows[i];
      Progress(i + 1, op.rows.size());
      Status st = InsertRow(ins, r);
      if (st.code() == StatusCode::kAlreadyExists) {  // a live row has this key
        ins->Reset();
        const Value& k = r[static_cast<size_t>(pk_)];
        VESTA_ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT _added FROM " + meta_.phys() + " WHERE " +
                                                   QuoteIdent(meta_.pk_phys()) + " = ?1 AND _removed IS NULL"));
        q.BindValue(1, k);
        VESTA_ASSIGN_OR_RETURN(bool found, q.Step());
        if (found && q.Int(0) > op.read_version) {
          return Conflict("a concurrent commit added primary key " + Quoted(k), op.read_version);
        }
        return Status::AlreadyExists(Ctx() + ": primary key " + Quoted(k) +
                                     " already exists; use upsert to replace rows");
      }
      VESTA_RETURN_IF_ERROR(st);
    }
    ins->Reset();
    json p = {{"rows", op.rows.size()}};
    if (!op.source.empty()) p["source"] = op.source;
    return p;
  }

  Result<json> Upsert(Transaction::Op& op) {
    VESTA_RETURN_IF_ERROR(ValidateRows(op.rows));
    // Duplicate keys in the batch: the last row wins.
    std::unordered_map<std::string, size_t> last;
    last.reserve(op.rows.size());
    for (size_t i = 0; i < op.rows.size(); ++i) last[KeyString(op.rows[i][static_cast<size_t>(pk_)])] = i;
    std::string cols;
    for (size_t j = 0; j < defs_.size(); ++j) cols += ", " + QuoteIdent(defs_[j].phys());
    VESTA_ASSIGN_OR_RETURN(Stmt * find, db_.Cached("SELECT _rid" + cols + " FROM " + meta_.phys() + " WHERE " +
                                                   QuoteIdent(meta_.pk_phys()) + " = ?1 AND _removed IS NULL"));
    VESTA_ASSIGN_OR_RETURN(Stmt * retire,
                           db_.Cached("UPDATE " + meta_.phys() + " SET _removed = ?1 WHERE _rid = ?2"));
    VESTA_ASSIGN_OR_RETURN(Stmt * ins, db_.Cached(InsertSql()));
    for (size_t i = 0; i < op.rows.size(); ++i) {
      const Row& r = op.rows[i];
      Progress(i + 1, op.rows.size());
      if (last[KeyString(r[static_cast<size_t>(pk_)])] != i) continue;
      find->Reset();
      find->BindValue(1, r[static_cast<size_t>(pk_)]);
      VESTA_ASSIGN_OR_RETURN(bool found, find->Step());
      if (found) {
        bool same = true;
        for (size_t j = 0; j < defs_.size() && same; ++j) {
          VESTA_ASSIGN_OR_RETURN(Value old, find->GetValue(static_cast<int>(j + 1), defs_[j].column.type));
          same = old == r[j];
        }
        const int64_t rid = find->Int(0);
        find->Reset();
        if (same) continue;
        retire->Reset();
        retire->BindInt(1, v_).BindInt(2, rid);
        VESTA_RETURN_IF_ERROR(retire->Run());
      }
      find->Reset();
      VESTA_RETURN_IF_ERROR(InsertRow(ins, r));
    }
    find->Reset();
    ins->Reset();
    json p = {{"rows", op.rows.size()}};
    if (!op.source.empty()) p["source"] = op.source;
    return p;
  }

  Result<json> DeleteKeys(Transaction::Op& op) {
    const DataType& t = defs_[static_cast<size_t>(pk_)].column.type;
    VESTA_ASSIGN_OR_RETURN(Stmt * del, db_.Cached("UPDATE " + meta_.phys() + " SET _removed = ?1 WHERE " +
                                                  QuoteIdent(meta_.pk_phys()) + " = ?2 AND _removed IS NULL"));
    for (const Value& k : op.keys) {
      del->Reset();
      del->BindInt(1, v_).BindValue(2, k);
      VESTA_RETURN_IF_ERROR(del->Run());
    }
    del->Reset();
    (void)t;
    return json{{"keys", op.keys.size()}};
  }

  Result<json> DeleteWhere(Transaction::Op& op) {
    VESTA_ASSIGN_OR_RETURN(filter::SqlFragment frag, CompilePredicate(op.predicate, defs_, meta_));
    VESTA_ASSIGN_OR_RETURN(Stmt s, db_.Prepare("UPDATE " + meta_.phys() + " SET _removed = ? WHERE _removed IS NULL AND (" +
                                               frag.sql + ")"));
    s.BindInt(1, v_);
    for (size_t i = 0; i < frag.params.size(); ++i) s.BindValue(static_cast<int>(i + 2), frag.params[i]);
    VESTA_RETURN_IF_ERROR(s.Run());
    return json{{"predicate", op.predicate}};
  }

  Result<json> AddColumn(Transaction::Op& op) {
    const Column& c = op.column;
    Schema next = ToSchema(defs_, meta_);
    next.columns.push_back(c);
    VESTA_RETURN_IF_ERROR(next.Validate().WithContext(Ctx() + ": add column"));
    if (!c.nullable) {
      return Status::InvalidArgument(Ctx() + ": added column '" + c.name +
                                     "' must be nullable (existing rows have no value for it)");
    }
    VESTA_ASSIGN_OR_RETURN(Stmt mx, db_.Prepare("SELECT MAX(column_id) + 1 FROM columns WHERE table_id = ?1"));
    mx.BindInt(1, meta_.id);
    VESTA_ASSIGN_OR_RETURN(bool row, mx.Step());
    const int64_t id = row ? mx.Int(0) : 0;
    VESTA_RETURN_IF_ERROR(db_.Exec("ALTER TABLE " + meta_.phys() + " ADD COLUMN c" + std::to_string(id)));
    VESTA_ASSIGN_OR_RETURN(Stmt ins, db_.Prepare("INSERT INTO columns(table_id, column_id, name, type, nullable, "
                                                 "comment) VALUES(?1, ?2, ?3, ?4, 1, ?5)"));
    ins.BindInt(1, meta_.id).BindInt(2, id).BindText(3, c.name).BindText(4, c.type.ToString()).BindText(5, c.comment);
    VESTA_RETURN_IF_ERROR(ins.Run());
    std::vector<int64_t> ids;
    for (const auto& d : defs_) ids.push_back(d.id);
    ids.push_back(id);
    VESTA_RETURN_IF_ERROR(WriteSchema(ids));
    db_.ClearCache();  // statements over the old column list
    return json{{"column", c.name}, {"type", c.type.ToString()}};
  }

  Status WriteSchema(const std::vector<int64_t>& ids) {
    VESTA_ASSIGN_OR_RETURN(Stmt sv, db_.Prepare("INSERT INTO schema_versions(table_id, version, column_ids) "
                                                "VALUES(?1, ?2, ?3)"));
    sv.BindInt(1, meta_.id).BindInt(2, v_).BindText(3, json(ids).dump());
    schema_changed_ = true;
    return sv.Run();
  }

  Result<json> Restore(Transaction::Op& op) {
    const int64_t r = op.restore_version;
    if (r < 0 || r > meta_.current_version) {
      return Status::NotFound("cannot restore " + Ctx() + " to version " + std::to_string(r) +
                              ": it does not exist (current version is " + std::to_string(meta_.current_version) + ")");
    }
    if (r < meta_.oldest_version) {
      return Status::FailedPrecondition("cannot restore " + Ctx() + " to version " + std::to_string(r) +
                                        ": it was vacuumed; the oldest readable version is " +
                                        std::to_string(meta_.oldest_version));
    }
    const std::string rs = std::to_string(r), vs = std::to_string(v_);
    VESTA_RETURN_IF_ERROR(
        db_.Exec("UPDATE " + meta_.phys() + " SET _removed = " + vs + " WHERE _removed IS NULL AND _added > " + rs));
    // Every physical column, so that values of columns the restored schema
    // shows again come back too.
    VESTA_ASSIGN_OR_RETURN(Stmt all, db_.Prepare("SELECT column_id FROM columns WHERE table_id = ?1"));
    all.BindInt(1, meta_.id);
    std::string cols;
    while (true) {
      VESTA_ASSIGN_OR_RETURN(bool row, all.Step());
      if (!row) break;
      cols += ", " + QuoteIdent("c" + std::to_string(all.Int(0)));
    }
    VESTA_RETURN_IF_ERROR(db_.Exec("INSERT INTO " + meta_.phys() + "(_added" + cols + ") SELECT " + vs + cols +
                                   " FROM " + meta_.phys() + " WHERE _added <= " + rs + " AND _removed > " + rs +
                                   " AND _removed < " + vs));
    VESTA_ASSIGN_OR_RETURN(auto old_defs, SchemaAt(db_, meta_.id, r));
    std::vector<int64_t> old_ids, cur_ids;
    for (const auto& d : old_defs) old_ids.push_back(d.id);
    for (const auto& d : defs_) cur_ids.push_back(d.id);
    if (old_ids != cur_ids) {
      VESTA_RETURN_IF_ERROR(WriteSchema(old_ids));
      db_.ClearCache();
    }
    return json{{"version", r}};
  }

  Db& db_;
  const TableMeta& meta_;
  std::vector<ColumnDef> defs_;
  int64_t v_;
  int pk_;
  const std::function<void(int64_t, int64_t)>& progress_;
  bool schema_changed_ = false;

  void Progress(size_t done, size_t total) const {
    if (progress_ && (done % 5000 == 0 || done == total)) {
      progress_(static_cast<int64_t>(done), static_cast<int64_t>(total));
    }
  }
};

}  // namespace

Transaction::Transaction(Store* store, std::string principal) : store_(store), principal_(std::move(principal)) {}
Transaction::~Transaction() = default;

std::unique_ptr<Transaction> Store::Begin(const std::string& principal) {
  return std::unique_ptr<Transaction>(new Transaction(this, principal));
}

Status Transaction::AddOp(const TableName& table, std::unique_ptr<Op> op) {
  if (done_) return Status::FailedPrecondition("transaction was already committed");
  for (auto& existing : ops_) {
    if (EqualsIgnoreCase(existing->table.ToString(), table.ToString())) {
      if (existing->kind == Op::kAppend && existing->rows.empty() && existing->read_version_pinned) {
        // A SetReadVersion placeholder: take its pinned version.
        op->read_version = existing->read_version;
        op->read_version_pinned = true;
        op->table = table;
        existing = std::move(op);
        return Status::OK();
      }
      return Status::FailedPrecondition("a transaction holds at most one operation per table; " +
                                        table.ToString() + " already has one");
    }
  }
  op->table = table;
  VESTA_ASSIGN_OR_RETURN(op->read_version, store_->ResolveVersion(table, {}));
  ops_.push_back(std::move(op));
  return Status::OK();
}

Status Transaction::SetReadVersion(const TableName& table, int64_t version) {
  for (auto& existing : ops_) {
    if (EqualsIgnoreCase(existing->table.ToString(), table.ToString())) {
      existing->read_version = version;
      existing->read_version_pinned = true;
      return Status::OK();
    }
  }
  VESTA_RETURN_IF_ERROR(store_->ResolveVersion(table, {.version = version}).status());
  auto op = std::make_unique<Op>();
  op->kind = Op::kAppend;  // an empty append: a placeholder that carries the pin
  op->table = table;
  op->read_version = version;
  op->read_version_pinned = true;
  ops_.push_back(std::move(op));
  return Status::OK();
}

Status Transaction::Append(const TableName& table, std::vector<Row> rows, std::string source) {
  auto op = std::make_unique<Op>();
  op->kind = Op::kAppend;
  op->rows = std::move(rows);
  op->source = std::move(source);
  return AddOp(table, std::move(op));
}

Status Transaction::Upsert(const TableName& table, std::vector<Row> rows, std::string source) {
  auto op = std::make_unique<Op>();
  op->kind = Op::kUpsert;
  op->rows = std::move(rows);
  op->source = std::move(source);
  return AddOp(table, std::move(op));
}

Status Transaction::DeleteKeys(const TableName& table, std::vector<Value> keys) {
  auto op = std::make_unique<Op>();
  op->kind = Op::kDeleteKeys;
  op->keys = std::move(keys);
  return AddOp(table, std::move(op));
}

Status Transaction::DeleteWhere(const TableName& table, std::string predicate) {
  if (predicate.empty()) return Status::InvalidArgument("delete predicate is empty (to delete every row, use 'TRUE')");
  auto op = std::make_unique<Op>();
  op->kind = Op::kDeleteWhere;
  op->predicate = std::move(predicate);
  return AddOp(table, std::move(op));
}

Status Transaction::AddColumn(const TableName& table, Column column) {
  auto op = std::make_unique<Op>();
  op->kind = Op::kAddColumn;
  op->column = std::move(column);
  return AddOp(table, std::move(op));
}

Status Transaction::Restore(const TableName& table, int64_t version) {
  auto op = std::make_unique<Op>();
  op->kind = Op::kRestore;
  op->restore_version = version;
  return AddOp(table, std::move(op));
}

Result<std::vector<CommitInfo>> Transaction::Commit() {
  if (done_) return Status::FailedPrecondition("transaction was already committed");
  done_ = true;
  Store::Impl& impl = *store_->impl_;
  std::lock_guard<std::mutex> l(impl.write_mu);
  Db& db = *impl.writer;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  std::vector<CommitInfo> commits;
  for (auto& op : ops_) {
    VESTA_ASSIGN_OR_RETURN(TableMeta meta, LoadTable(db, op->table));
    // Keys given as text for a BIGINT key (or vice versa) are coerced.
    VESTA_ASSIGN_OR_RETURN(auto defs, SchemaAt(db, meta.id, meta.current_version));
    const Column& pkc = defs[static_cast<size_t>(PkIndex(defs, meta))].column;
    for (Value& k : op->keys) {
      if (k.is_null()) return Status::InvalidArgument(meta.name.ToString() + ": primary key must not be NULL");
      if (!k.FitsType(pkc.type)) {
        auto c = ParseValue(k.ToString(), pkc.type);
        if (!c.ok() || c->is_null()) {
          return Status::InvalidArgument(meta.name.ToString() + ": primary key " + Quoted(k) + " is not a " +
                                         pkc.type.ToString() + " (column '" + pkc.name + "')");
        }
        k = *c;
      }
    }
    const int64_t v = meta.current_version + 1;
    OpApplier applier(db, meta, std::move(defs), v, progress_);
    VESTA_ASSIGN_OR_RETURN(json params, applier.Apply(*op));
    // Row counts from the images this version added and removed.
    const std::string t = meta.phys(), pk = QuoteIdent(meta.pk_phys()), vs = std::to_string(v);
    VESTA_ASSIGN_OR_RETURN(Stmt m, db.Prepare("SELECT (SELECT COUNT(*) FROM " + t + " WHERE _added = " + vs +
                                              "), (SELECT COUNT(*) FROM " + t + " WHERE _removed = " + vs +
                                              "), (SELECT COUNT(*) FROM " + t + " a WHERE a._added = " + vs +
                                              " AND EXISTS(SELECT 1 FROM " + t + " b WHERE b._removed = " + vs +
                                              " AND b." + pk + " = a." + pk + "))"));
    VESTA_ASSIGN_OR_RETURN(bool mrow, m.Step());
    (void)mrow;
    const int64_t added = m.Int(0), removed = m.Int(1), updated = m.Int(2);
    if (added == 0 && removed == 0 && !applier.schema_changed()) continue;  // nothing changed: no commit
    CommitInfo c;
    c.table = meta.name;
    c.version = v;
    c.timestamp = impl.CommitTimestamp(db, meta.id);
    c.principal = principal_;
    c.operation = OpName(op->kind);
    c.parameters_json = params.dump();
    c.read_version = op->read_version;
    c.rows_added = added - updated;
    c.rows_removed = removed - updated;
    c.rows_updated = updated;
    VESTA_ASSIGN_OR_RETURN(Stmt ins, db.Prepare("INSERT INTO commits VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
    ins.BindInt(1, meta.id).BindInt(2, v).BindInt(3, c.timestamp.micros).BindText(4, c.principal);
    ins.BindText(5, c.operation).BindText(6, c.parameters_json).BindInt(7, c.read_version);
    ins.BindInt(8, c.rows_added).BindInt(9, c.rows_removed).BindInt(10, c.rows_updated);
    VESTA_RETURN_IF_ERROR(ins.Run());
    VESTA_ASSIGN_OR_RETURN(Stmt up, db.Prepare("UPDATE tables SET current_version = ?2 WHERE table_id = ?1"));
    up.BindInt(1, meta.id).BindInt(2, v);
    VESTA_RETURN_IF_ERROR(up.Run());
    commits.push_back(std::move(c));
  }
  Status st = txn.Commit();
  if (!st.ok()) {
    db.ClearCache();
    return st;
  }
  return commits;
}

}  // namespace vesta::governance
