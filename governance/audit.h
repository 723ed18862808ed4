// The audit log: one append-only record per request, allowed or denied, in
// the store's SQLite file, each record chained to the previous one by a
// SHA-256 hash so that an edited, deleted or reordered record is detected.
//
//   auto audit = AuditLog::Open(store->path()).value();
//   AuditRecord r;
//   r.principal = "alice";
//   r.action = "index.query";
//   r.securable = "main.imaging.radiomics_idx";
//   r.parameters_json = R"({"k": 10, "filter": "cohort = 'GBM'", "index_version": 5})";
//   r.outcome = "allowed";
//   r.row_count = 10;
//   r.keys = {"TCGA-02-0001", ...};
//   auto appended = audit->Append(std::move(r));   // seq, time, prev_hash, hash filled in
//   Status st = audit->Verify();                   // OK, or the first bad record
//
// The chain. Records are numbered 1, 2, 3, ... (seq). Record n stores
// prev_hash = hash of record n - 1 (64 '0' characters for record 1) and
//
//   hash = lowercase hex SHA-256( prev_hash + "\n" + C )
//
// where C is the canonical JSON (nlohmann::json::dump(): no whitespace,
// object keys sorted bytewise, UTF-8 strings unescaped except '"', '\\' and
// control characters, integers in decimal, doubles in shortest round-trip
// form) of the object
//
//   {"action": ..., "keys": [...], "message": ..., "outcome": ...,
//    "parameters": <parameters_json parsed>, "principal": ..., "row_count": n,
//    "securable": ..., "seq": n, "time": <microseconds since the epoch>}
//
// so that anyone can recompute the chain from an export without Vesta.
// The parameters are hashed as parsed JSON, so their whitespace and key
// order do not matter; they are stored in canonical form.
//
// The head. A one-row table gov_audit_head holds the seq and hash of the
// last record appended; it is updated in the same SQLite transaction as each
// append, so deleting records at the end (truncating the tail) is detected
// too.
//
// What Verify cannot detect. The hash is not keyed: anyone who can write the
// store file can rewrite every record from the first changed one onwards,
// recompute all later hashes and update the head, and the chain verifies.
// Equally, deleting the whole log together with the head leaves an empty,
// valid log. The remedy is to anchor the head outside the store: copy the
// (seq, hash) returned by Head() or Append() to a separate write-once system
// (a WORM bucket, a transparency log, a signed daily e-mail) and check that
// the chain still contains that hash at that seq (CheckAnchor()). Verify
// also cannot tell a record that was never written (a request served while
// the audit append failed); callers must treat a failed Append as a failed
// request.
//
// Durability: appends use the store's default synchronous=NORMAL (WAL): a
// process crash (SIGKILL) never loses or tears a committed record; a power
// loss may lose the last records (detectable only against an anchor).
//
// Concurrency. Appends from several threads of one process are serialised by
// a mutex. Appends from several processes (or several AuditLog objects) are
// serialised by SQLite: each append is one BEGIN IMMEDIATE transaction (the
// database write lock) that reads the head, inserts the record and updates
// the head, so the chain never forks. Another writer holding the lock for
// longer than the busy timeout (10 s) makes Append return Unavailable.
//
// Thread-safety: AuditLog is thread-safe. Reads (Verify, Query, Export) use
// their own connection and do not block appends (WAL snapshots).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace vesta::governance {

struct AuditRecord {
  int64_t seq = 0;        // set by Append: 1, 2, 3, ...
  Timestamp time;         // set by Append when 0 (unset): now
  std::string principal;  // who made the request; "" if unauthenticated
  std::string action;     // "table.read", "index.query", "grant.update", "auth.login", ...
  std::string securable;  // full name ("main.clinical.patients") or ""
  // The request's parameters as a JSON object (filter, k, versions read...).
  // "" means {}. Returned in canonical form (see above).
  std::string parameters_json;
  std::string outcome;            // "allowed", "denied" or "error"
  std::string message;            // why denied, the error, or ""
  int64_t row_count = 0;          // rows returned
  std::vector<std::string> keys;  // primary keys returned, as text
  std::string prev_hash;          // set by Append: the previous record's hash
  std::string hash;               // set by Append
};

// Filters for Query and ExportJsonLines. Every set field must match (AND).
struct AuditQuery {
  std::optional<std::string> principal;      // exact
  std::optional<std::string> action;         // exact, e.g. "index.query"
  std::optional<std::string> action_prefix;  // e.g. "index." (a literal prefix: % and _ are not wildcards)
  std::optional<std::string> securable;      // exact
  std::optional<std::string> outcome;        // exact
  std::optional<Timestamp> from_time;        // time >= from_time
  std::optional<Timestamp> to_time;          // time < to_time
  std::optional<int64_t> from_seq;           // seq >= from_seq
  std::optional<int64_t> to_seq;             // seq < to_seq
  // Query: at most this many records, 1..100000. Paging: newest first, the
  // next page is to_seq = the last seq returned; oldest first, from_seq =
  // the last seq returned + 1. ExportJsonLines ignores the limit and writes
  // every matching record.
  int64_t limit = 1000;
  bool newest_first = true;  // order by seq descending; else ascending

  static constexpr int64_t kMaxLimit = 100000;
  // Errors: InvalidArgument for a limit outside 1..kMaxLimit or an empty
  // range (from > to).
  Status Validate() const;
};

class AuditLog {
 public:
  // Opens the audit log of the store at `store_path` (a file made by
  // Store::Open), creating its tables (gov_audit, gov_audit_head) if needed.
  // Errors: NotFound if there is no file; FailedPrecondition if the file is
  // not a Vesta store; Unavailable if the store is locked.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& store_path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends `r` as the next record and returns it as stored: seq, time (if
  // unset), prev_hash and hash filled in, parameters_json canonical. Any
  // seq, prev_hash or hash passed in are ignored.
  // Errors (nothing is appended): InvalidArgument if parameters_json is not
  // a JSON object, action is empty, outcome is not allowed/denied/error,
  // row_count is negative, or a text field is not valid UTF-8;
  // Unavailable if another process holds the store's write lock too long;
  // ResourceExhausted if the disk is full.
  Result<AuditRecord> Append(AuditRecord r);

  // Copies every committed page of the store's write-ahead log into the
  // main database file and truncates the log to zero bytes
  // (sqlite3_wal_checkpoint_v2, TRUNCATE), so the records appended so far
  // are in the store file itself (e.g. before a server exits or a file
  // copy is taken). Waits up to the busy timeout (10 s) for other writers
  // and for readers of older snapshots. Errors: Unavailable if they do not
  // finish in time (nothing is lost: the records stay in the WAL, which
  // SQLite replays); Internal for an I/O error.
  Status Checkpoint();

  // How many times Append has been called on the calling thread (by any
  // AuditLog, whatever the outcome). The service compares it before and
  // after serving a request to tell a request refused before any governed
  // call (which it must audit itself) from one a governed call audited.
  // Thread-safety: reads a thread_local.
  static uint64_t AppendCallsOnThisThread();

  // Recomputes the chain from the first record and checks it against the
  // head. Returns OK if intact. Otherwise a DataLoss status naming the
  // first bad record, e.g.
  //   "audit record 17: hash mismatch: the record was edited"
  //   "audit record 5 is missing (records 4 and 6 are adjacent): a record was deleted"
  //   "audit record 9: prev_hash does not match record 8: records were reordered or replaced"
  //   "audit log truncated: the head is record 40 but the last record is 37: records 38 to 40 were deleted"
  // and sets *first_bad_seq to that record's seq (for a truncated tail the
  // first deleted one), so callers can tell tampering from a failure to
  // read: it stays -1 when the log is intact and on an I/O error (which
  // returns the SQLite error's status).
  // *records_checked: the records whose hash and link were verified (all of
  // them when OK). Reads one consistent snapshot; appends may continue.
  Status Verify(int64_t* records_checked = nullptr, int64_t* first_bad_seq = nullptr);

  // The head: seq and hash of the last record appended (seq 0 and 64 zeros
  // for an empty log). Publish it externally to anchor the chain.
  struct Head {
    int64_t seq = 0;
    std::string hash;
  };
  Result<Head> GetHead();
  // Checks an externally kept anchor: OK if record anchor.seq exists with
  // hash anchor.hash (run Verify too, for the chain). Errors: DataLoss
  // naming the record if it is missing or its hash differs (the log was
  // rewritten or truncated since the anchor was taken).
  Status CheckAnchor(const Head& anchor);

  // The records matching `q`, ordered by seq (newest first by default), at
  // most q.limit. An empty vector if none match. Errors: InvalidArgument
  // from q.Validate(); Internal for a corrupt stored record.
  Result<std::vector<AuditRecord>> Query(const AuditQuery& q);

  // Writes every record matching `q` (ignoring q.limit) to `out`, one JSON
  // object per line ("\n"-terminated), in q's order, with the fields seq,
  // time (ISO 8601 UTC, "2026-11-21T21:06:45.123456Z"), time_us (the hashed
  // microseconds), principal, action, securable, parameters (a JSON object),
  // outcome, message, row_count, keys (array of strings), prev_hash, hash.
  // Streams from one snapshot (memory stays bounded; appends made during
  // the export are not included). Errors: as Query; Unavailable if `out`
  // fails (the lines written so far stay written).
  Status ExportJsonLines(const AuditQuery& q, std::ostream& out);

  struct Impl;  // internal

 private:
  AuditLog() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::governance
