#include "governance/internal/sqlite.h"

#include <bit>
#include <cstring>
#include <unordered_map>

namespace vesta::governance::internal {

static_assert(std::endian::native == std::endian::little, "vector blobs are stored little-endian");

struct Db::Cache {
  std::unordered_map<std::string, Stmt> stmts;
};

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, bool create, bool synchronous_full,
                                     int busy_timeout_ms, int page_size) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    if (!create && (rc == SQLITE_CANTOPEN)) {
      return Status::NotFound("no store at '" + path + "' (run `vesta init` first): " + msg);
    }
    return Status::Unavailable("cannot open store '" + path + "': " + msg);
  }
  std::unique_ptr<Db> db(new Db(raw));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  // page_size only takes effect before the first table is created.
  std::string pragmas = "PRAGMA page_size=" + std::to_string(page_size) +
                        ";"
                        "PRAGMA journal_mode=WAL;"
                        "PRAGMA foreign_keys=ON;"
                        "PRAGMA case_sensitive_like=ON;"
                        "PRAGMA temp_store=MEMORY;"
                        "PRAGMA cache_size=-65536;"  // 64 MiB page cache
                        "PRAGMA synchronous=" +
                        std::string(synchronous_full ? "FULL" : "NORMAL") + ";";
  Status st = db->Exec(pragmas);
  if (!st.ok()) return st.WithContext("opening store '" + path + "'");
  return db;
}

Db::Db(sqlite3* db) : db_(db), cache_(std::make_unique<Cache>()) {}

Db::~Db() {
  cache_.reset();  // finalize cached statements before closing
  sqlite3_close_v2(db_);
}

Status Db::Error(int rc, std::string_view what) const {
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Status::Unavailable(msg + " (the store is busy; retry)");
    case SQLITE_FULL: return Status::ResourceExhausted(msg + " (disk full)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return Status::Internal(msg + " (the store file is corrupt)");
    case SQLITE_CONSTRAINT: return Status::AlreadyExists(msg);
    case SQLITE_READONLY: return Status::FailedPrecondition(msg + " (the store is read-only)");
    default: return Status::Internal(msg);
  }
}

Status Db::Exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);  // the same text as sqlite3_errmsg(), which Error() reports
    return Error(rc, "sql");
  }
  return Status::OK();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "prepare");
  return Stmt(this, s);
}

Result<Stmt*> Db::Cached(const std::string& sql) {
  auto it = cache_->stmts.find(sql);
  if (it == cache_->stmts.end()) {
    VESTA_ASSIGN_OR_RETURN(Stmt s, Prepare(sql));
    it = cache_->stmts.emplace(sql, std::move(s)).first;
  }
  it->second.Reset();
  return &it->second;
}

void Db::ClearCache() { cache_->stmts.clear(); }

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (s_) sqlite3_finalize(s_);
    db_ = o.db_;
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() {
  if (s_) sqlite3_finalize(s_);
}

Stmt& Stmt::BindInt(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::BindDouble(int i, double v) {
  sqlite3_bind_double(s_, i, v);
  return *this;
}
Stmt& Stmt::BindText(int i, std::string_view v) {
  sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Stmt& Stmt::BindValue(int i, const Value& v) {
  if (v.is_null()) {
    sqlite3_bind_null(s_, i);
  } else if (v.is_int()) {
    sqlite3_bind_int64(s_, i, v.as_int());
  } else if (v.is_double()) {
    sqlite3_bind_double(s_, i, v.as_double());
  } else if (v.is_string()) {
    sqlite3_bind_text64(s_, i, v.as_string().data(), v.as_string().size(), SQLITE_STATIC, SQLITE_UTF8);
  } else if (v.is_bool()) {
    sqlite3_bind_int64(s_, i, v.as_bool() ? 1 : 0);
  } else if (v.is_date()) {
    sqlite3_bind_int64(s_, i, v.as_date().days);
  } else if (v.is_timestamp()) {
    sqlite3_bind_int64(s_, i, v.as_timestamp().micros);
  } else {
    const auto& vec = v.as_vector();
    sqlite3_bind_blob64(s_, i, vec.data(), vec.size() * sizeof(float), SQLITE_STATIC);
  }
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, "step");
}

Status Stmt::Run() {
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::OK();
  }
}

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(s_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col)));
}

Result<Value> Stmt::GetValue(int col, const DataType& t) const {
  int type = sqlite3_column_type(s_, col);
  if (type == SQLITE_NULL) return Value::Null();
  auto corrupt = [&]() {
    return Status::Internal("stored value in column " + std::to_string(col) + " does not fit " + t.ToString());
  };
  switch (t.id) {
    case TypeId::kBigint:
      if (type != SQLITE_INTEGER) return corrupt();
      return Value::Int(sqlite3_column_int64(s_, col));
    case TypeId::kDouble:
      if (type != SQLITE_FLOAT && type != SQLITE_INTEGER) return corrupt();
      return Value::Real(sqlite3_column_double(s_, col));
    case TypeId::kString: return Value::Str(Text(col));
    case TypeId::kBoolean:
      if (type != SQLITE_INTEGER) return corrupt();
      return Value::Bool(sqlite3_column_int64(s_, col) != 0);
    case TypeId::kDate:
      if (type != SQLITE_INTEGER) return corrupt();
      return Value::DateV(Date{static_cast<int32_t>(sqlite3_column_int64(s_, col))});
    case TypeId::kTimestamp:
      if (type != SQLITE_INTEGER) return corrupt();
      return Value::Ts(Timestamp{sqlite3_column_int64(s_, col)});
    case TypeId::kVector: {
      if (type != SQLITE_BLOB) return corrupt();
      const void* p = sqlite3_column_blob(s_, col);
      size_t bytes = static_cast<size_t>(sqlite3_column_bytes(s_, col));
      if (bytes != static_cast<size_t>(t.dim) * sizeof(float)) return corrupt();
      std::vector<float> v(static_cast<size_t>(t.dim));
      std::memcpy(v.data(), p, bytes);
      return Value::Vec(std::move(v));
    }
  }
  return corrupt();
}

TxnScope::~TxnScope() {
  if (open_) (void)db_->Exec("ROLLBACK");
}

Status TxnScope::Begin() {
  VESTA_RETURN_IF_ERROR(db_->Exec(immediate_ ? "BEGIN IMMEDIATE" : "BEGIN"));
  open_ = true;
  return Status::OK();
}

Status TxnScope::Commit() {
  VESTA_RETURN_IF_ERROR(db_->Exec("COMMIT"));
  open_ = false;
  return Status::OK();
}

std::string QuoteIdent(std::string_view id) {
  std::string q = "\"";
  for (char c : id) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

Result<std::unique_ptr<Db>> OpenStoreConnection(const std::string& path, std::string_view ddl,
                                                std::string_view component, int busy_timeout_ms,
                                                bool synchronous_full) {
  VESTA_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(path, /*create=*/false, synchronous_full, busy_timeout_ms,
                                                          /*page_size=*/16384));  // ignored: the store exists
  TxnScope txn(db.get(), /*immediate=*/true);
  VESTA_RETURN_IF_ERROR(txn.Begin().WithContext("opening " + std::string(component) + " of '" + path + "'"));
  {
    VESTA_ASSIGN_OR_RETURN(Stmt probe,
                           db->Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vesta_meta'"));
    VESTA_ASSIGN_OR_RETURN(bool is_store, probe.Step());
    if (!is_store) {
      return Status::FailedPrecondition("'" + path +
                                        "' is not a Vesta store (create it with `vesta init` or Store::Open)");
    }
  }
  VESTA_RETURN_IF_ERROR(db->Exec(ddl));
  VESTA_RETURN_IF_ERROR(txn.Commit());
  return db;
}

}  // namespace vesta::governance::internal
