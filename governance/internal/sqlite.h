// Thin RAII wrappers over the SQLite C API, private to governance/.
// Every SQLite error becomes a Status here; nothing above this file sees a
// sqlite3 return code.
//
// Thread-safety: a Db and its Stmts are thread-compatible: one thread at a
// time (the Store serialises access per connection).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/types.h"

namespace vesta::governance::internal {

class Stmt;

class Db {
 public:
  // Opens (creating if `create` is true) the database at `path` in WAL mode.
  // `synchronous_full`: PRAGMA synchronous=FULL (survives power loss) instead
  // of NORMAL (survives process crashes such as SIGKILL; a power loss may
  // lose the last commits but never corrupts).
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool create, bool synchronous_full,
                                          int busy_timeout_ms, int page_size);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without parameters.
  Status Exec(std::string_view sql);
  // Compiles `sql`; the Stmt borrows this Db and must not outlive it.
  Result<Stmt> Prepare(std::string_view sql);
  // A cached prepared statement for hot paths, reset and cleared before
  // return. The pointer stays owned by the Db and valid until ClearCache().
  Result<Stmt*> Cached(const std::string& sql);
  void ClearCache();

  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  sqlite3* raw() { return db_; }

  // A Status for the connection's last error: kUnavailable for BUSY/LOCKED,
  // kResourceExhausted for FULL, kInternal for CORRUPT/NOTADB, else kInternal.
  Status Error(int rc, std::string_view what) const;

 private:
  explicit Db(sqlite3* db);
  sqlite3* db_;
  struct Cache;
  std::unique_ptr<Cache> cache_;
};

// A prepared statement. Move-only. Bind indexes are 1-based, columns 0-based.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Db* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  Stmt& BindInt(int i, int64_t v);
  Stmt& BindDouble(int i, double v);
  Stmt& BindText(int i, std::string_view v);  // SQLITE_TRANSIENT copy
  Stmt& BindNull(int i);
  // Binds a Value in the store's encoding: BIGINT/BOOLEAN/DATE/TIMESTAMP as
  // integers, DOUBLE as real, STRING as text, VECTOR as a blob of
  // little-endian float32. REQUIRES: `v` outlives the next Step() (blobs and
  // text are bound without copying).
  Stmt& BindValue(int i, const Value& v);

  // Advances; returns true if a row is available, false when done.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows).
  Status Run();
  void Reset();

  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Double(int col) const { return sqlite3_column_double(s_, col); }
  std::string Text(int col) const;
  // Decodes column `col` as a value of type `t` (inverse of BindValue).
  // Errors: Internal if the stored bytes do not fit the type (a corrupt row).
  Result<Value> GetValue(int col, const DataType& t) const;

  sqlite3_stmt* raw() { return s_; }

 private:
  Db* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
};

// A transaction scope: BEGIN [IMMEDIATE] on construction, ROLLBACK on
// destruction unless Commit() succeeded.
class TxnScope {
 public:
  TxnScope(Db* db, bool immediate) : db_(db), immediate_(immediate) {}
  ~TxnScope();
  Status Begin();
  Status Commit();

 private:
  Db* db_;
  bool immediate_;
  bool open_ = false;
};

// Opens another connection to the existing Vesta store at `path` (never
// creates one) for a governance component, and in one immediate transaction
// checks that the file is a Vesta store (it has the Store's vesta_meta table)
// and runs `ddl` (the component's CREATE TABLE IF NOT EXISTS statements).
// `component` names it in errors ("the audit log"). Errors: those of
// Db::Open (NotFound for a missing file, Unavailable when locked);
// FailedPrecondition "'<path>' is not a Vesta store (create it with `vesta
// init` or Store::Open)" for another SQLite file, creating nothing in it.
Result<std::unique_ptr<Db>> OpenStoreConnection(const std::string& path, std::string_view ddl,
                                                std::string_view component, int busy_timeout_ms = 10000,
                                                bool synchronous_full = false);

// Double-quotes an identifier for SQL. REQUIRES: `id` is a Vesta-generated
// physical name (t_12, c3), never user text.
std::string QuoteIdent(std::string_view id);

}  // namespace vesta::governance::internal
