// The hash-chained audit log. Storage (in the store's SQLite file):
//
//   gov_audit(seq, ts_us, principal, action, securable, parameters, outcome,
//             message, row_count, keys, prev_hash, hash)
//       one row per record; seq is the rowid; parameters is canonical JSON,
//       keys a JSON array of strings
//   gov_audit_head(id = 1, seq, hash)   the last record appended
//
// Indexes on (principal, seq), (securable, seq), (action, seq) and (ts_us)
// serve the common Query filters; every other filter is a scan in seq order.
#include "governance/audit.h"

#include <mutex>
#include <nlohmann/json.hpp>
#include <variant>

#include "governance/internal/crypto.h"
#include "governance/internal/sqlite.h"

namespace vesta::governance {

using internal::Db;
using internal::Stmt;
using internal::TxnScope;
using json = nlohmann::json;

namespace {

constexpr int kBusyTimeoutMs = 10000;
constexpr int kPageSize = 16384;  // ignored for an existing store
const std::string kGenesisHash(64, '0');

constexpr const char* kAuditDdl = R"sql(
CREATE TABLE IF NOT EXISTS gov_audit(
  seq INTEGER PRIMARY KEY, ts_us INTEGER NOT NULL, principal TEXT NOT NULL, action TEXT NOT NULL,
  securable TEXT NOT NULL, parameters TEXT NOT NULL, outcome TEXT NOT NULL, message TEXT NOT NULL,
  row_count INTEGER NOT NULL, keys TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS gov_audit_principal ON gov_audit(principal, seq);
CREATE INDEX IF NOT EXISTS gov_audit_securable ON gov_audit(securable, seq);
CREATE INDEX IF NOT EXISTS gov_audit_action ON gov_audit(action, seq);
CREATE INDEX IF NOT EXISTS gov_audit_time ON gov_audit(ts_us);
CREATE TABLE IF NOT EXISTS gov_audit_head(
  id INTEGER PRIMARY KEY CHECK(id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
)sql";

constexpr const char* kColumns =
    "seq, ts_us, principal, action, securable, parameters, outcome, message, row_count, keys, "
    "prev_hash, hash";

// Opens a connection to an existing store and creates the audit tables.
Result<std::unique_ptr<Db>> OpenConnection(const std::string& path, bool create_tables) {
  if (!create_tables) {
    return Db::Open(path, /*create=*/false, /*synchronous_full=*/false, kBusyTimeoutMs, kPageSize);
  }
  return internal::OpenStoreConnection(path, kAuditDdl, "the audit log", kBusyTimeoutMs);
}

// Checks that `text` serialises as JSON (valid UTF-8), naming `field`.
Status CheckUtf8(std::string_view field, const std::string& text) {
  try {
    (void)json(text).dump();
  } catch (const json::exception&) {
    return Status::InvalidArgument("audit record field '" + std::string(field) + "' is not valid UTF-8");
  }
  return Status::OK();
}

// Parses the parameters: "" is {}; anything else must be a JSON object.
Status ParseParameters(const std::string& text, json* out) {
  if (text.empty()) {
    *out = json::object();
    return Status::OK();
  }
  try {
    *out = json::parse(text);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("parameters_json is not valid JSON: ") + e.what());
  }
  if (!out->is_object()) {
    return Status::InvalidArgument(std::string("parameters_json must be a JSON object, got ") +
                                   out->type_name());
  }
  return Status::OK();
}

bool DecodeKeys(const std::string& text, std::vector<std::string>* keys) {
  try {
    json j = json::parse(text);
    if (!j.is_array()) return false;
    keys->clear();
    keys->reserve(j.size());
    for (const auto& k : j) {
      if (!k.is_string()) return false;
      keys->push_back(k.get<std::string>());
    }
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

// SHA-256 hex of prev_hash + "\n" + canonical JSON of the record's other
// fields (the formula documented in audit.h). Errors: InvalidArgument if a
// text field is not valid UTF-8.
Result<std::string> ChainHash(const std::string& prev_hash, const AuditRecord& r, const json& parameters) {
  json c = json::object();
  c["seq"] = r.seq;
  c["time"] = r.time.micros;
  c["principal"] = r.principal;
  c["action"] = r.action;
  c["securable"] = r.securable;
  c["parameters"] = parameters;
  c["outcome"] = r.outcome;
  c["message"] = r.message;
  c["row_count"] = r.row_count;
  c["keys"] = r.keys;
  std::string canonical;
  try {
    canonical = c.dump();
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("audit record is not valid UTF-8: ") + e.what());
  }
  return internal::Sha256Hex(prev_hash + "\n" + canonical);
}

// Reads the columns of kColumns into `r` without interpreting them; keys
// and parameters are returned raw in `keys_text` (r->keys left empty).
void ReadColumns(const Stmt& s, AuditRecord* r, std::string* keys_text) {
  r->seq = s.Int(0);
  r->time = Timestamp{s.Int(1)};
  r->principal = s.Text(2);
  r->action = s.Text(3);
  r->securable = s.Text(4);
  r->parameters_json = s.Text(5);
  r->outcome = s.Text(6);
  r->message = s.Text(7);
  r->row_count = s.Int(8);
  *keys_text = s.Text(9);
  r->prev_hash = s.Text(10);
  r->hash = s.Text(11);
}

Result<AuditRecord> DecodeRow(const Stmt& s) {
  AuditRecord r;
  std::string keys_text;
  ReadColumns(s, &r, &keys_text);
  if (!DecodeKeys(keys_text, &r.keys)) {
    return Status::Internal("audit record " + std::to_string(r.seq) +
                            ": stored keys are not a JSON array of strings (run `vesta audit verify`)");
  }
  return r;
}

std::string MissingRange(int64_t first, int64_t last) {
  return first == last ? "record " + std::to_string(first) + " was deleted"
                       : "records " + std::to_string(first) + " to " + std::to_string(last) + " were deleted";
}

// A bound parameter of a query built from fixed SQL fragments.
using Param = std::variant<int64_t, std::string>;

// Builds "SELECT ... WHERE ... ORDER BY seq" for `q`; user values are only
// ever bound parameters.
std::string BuildQuery(const AuditQuery& q, bool with_limit, std::vector<Param>* params) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM gov_audit";
  std::vector<std::string> where;
  auto add = [&](const char* condition, Param p) {
    where.emplace_back(condition);
    params->push_back(std::move(p));
  };
  if (q.principal) add("principal = ?", *q.principal);
  if (q.action) add("action = ?", *q.action);
  if (q.action_prefix) {
    // substr/length count characters, so this is an exact literal prefix.
    where.emplace_back("substr(action, 1, length(?)) = ?");
    params->push_back(*q.action_prefix);
    params->push_back(*q.action_prefix);
  }
  if (q.securable) add("securable = ?", *q.securable);
  if (q.outcome) add("outcome = ?", *q.outcome);
  if (q.from_time) add("ts_us >= ?", q.from_time->micros);
  if (q.to_time) add("ts_us < ?", q.to_time->micros);
  if (q.from_seq) add("seq >= ?", *q.from_seq);
  if (q.to_seq) add("seq < ?", *q.to_seq);
  for (size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
  sql += q.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq ASC";
  if (with_limit) {
    sql += " LIMIT ?";
    params->push_back(q.limit);
  }
  return sql;
}

void BindAll(Stmt& s, const std::vector<Param>& params) {
  for (size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i) + 1;
    if (const auto* v = std::get_if<int64_t>(&params[i])) {
      s.BindInt(idx, *v);
    } else {
      s.BindText(idx, std::get<std::string>(params[i]));
    }
  }
}

// The checks of AuditQuery::Validate() other than the limit (which the
// export ignores).
Status ValidateRanges(const AuditQuery& q) {
  if (q.from_time && q.to_time && q.from_time->micros > q.to_time->micros) {
    return Status::InvalidArgument("audit query time range is empty: from " + FormatTimestamp(*q.from_time) +
                                   " is after to " + FormatTimestamp(*q.to_time));
  }
  if (q.from_seq && q.to_seq && *q.from_seq > *q.to_seq) {
    return Status::InvalidArgument("audit query seq range is empty: from " + std::to_string(*q.from_seq) +
                                   " is after to " + std::to_string(*q.to_seq));
  }
  return Status::OK();
}

}  // namespace

struct AuditLog::Impl {
  std::string path;
  std::mutex write_mu;  // serialises appends of this process
  std::unique_ptr<Db> writer;
  std::mutex read_mu;  // one reader at a time on `reader`
  std::unique_ptr<Db> reader;
};

Status AuditQuery::Validate() const {
  if (limit < 1 || limit > kMaxLimit) {
    return Status::InvalidArgument("audit query limit must be in 1.." + std::to_string(kMaxLimit) + ", got " +
                                   std::to_string(limit));
  }
  return ValidateRanges(*this);
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& store_path) {
  std::unique_ptr<AuditLog> log(new AuditLog());
  log->impl_ = std::make_unique<Impl>();
  log->impl_->path = store_path;
  VESTA_ASSIGN_OR_RETURN(log->impl_->writer, OpenConnection(store_path, /*create_tables=*/true));
  VESTA_ASSIGN_OR_RETURN(log->impl_->reader, OpenConnection(store_path, /*create_tables=*/false));
  return log;
}

AuditLog::~AuditLog() = default;

Status AuditLog::Checkpoint() {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  int log_frames = 0;
  int checkpointed = 0;
  int rc = sqlite3_wal_checkpoint_v2(impl_->writer->raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                     &checkpointed);
  if (rc != SQLITE_OK) return impl_->writer->Error(rc, "audit checkpoint (WAL TRUNCATE)");
  return Status::OK();
}

namespace {
thread_local uint64_t t_append_calls = 0;
}  // namespace

uint64_t AuditLog::AppendCallsOnThisThread() { return t_append_calls; }

Result<AuditRecord> AuditLog::Append(AuditRecord r) {
  ++t_append_calls;
  if (r.action.empty()) return Status::InvalidArgument("audit record action must not be empty");
  if (r.outcome != "allowed" && r.outcome != "denied" && r.outcome != "error") {
    return Status::InvalidArgument("audit record outcome must be allowed, denied or error, got '" +
                                   r.outcome + "'");
  }
  if (r.row_count < 0) {
    return Status::InvalidArgument("audit record row_count must be >= 0, got " + std::to_string(r.row_count));
  }
  json parameters;
  VESTA_RETURN_IF_ERROR(ParseParameters(r.parameters_json, &parameters));
  VESTA_RETURN_IF_ERROR(CheckUtf8("principal", r.principal));
  VESTA_RETURN_IF_ERROR(CheckUtf8("action", r.action));
  VESTA_RETURN_IF_ERROR(CheckUtf8("securable", r.securable));
  VESTA_RETURN_IF_ERROR(CheckUtf8("message", r.message));
  for (const auto& k : r.keys) VESTA_RETURN_IF_ERROR(CheckUtf8("keys", k));
  r.parameters_json = parameters.dump();  // parsed JSON is valid UTF-8: does not throw
  std::string keys_json = json(r.keys).dump();
  if (r.time.micros == 0) r.time = NowTimestamp();

  std::lock_guard<std::mutex> lock(impl_->write_mu);
  Db& db = *impl_->writer;
  // BEGIN IMMEDIATE takes the database write lock before the head is read,
  // so appends from other processes are serialised and the chain cannot fork.
  TxnScope txn(&db, /*immediate=*/true);
  VESTA_RETURN_IF_ERROR(txn.Begin().WithContext("audit append"));

  // The previous record is the head, unless the log holds records beyond it
  // (the head row was deleted or rolled back): then the last record. After a
  // truncated tail the head still names the deleted records, so the next
  // seq leaves a gap that Verify reports.
  int64_t prev_seq = 0;
  std::string prev_hash = kGenesisHash;
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * h, db.Cached("SELECT seq, hash FROM gov_audit_head WHERE id = 1"));
    VESTA_ASSIGN_OR_RETURN(bool has_head, h->Step());
    if (has_head) {
      prev_seq = h->Int(0);
      prev_hash = h->Text(1);
    }
    h->Reset();
    VESTA_ASSIGN_OR_RETURN(Stmt * l, db.Cached("SELECT seq, hash FROM gov_audit ORDER BY seq DESC LIMIT 1"));
    VESTA_ASSIGN_OR_RETURN(bool has_last, l->Step());
    if (has_last && l->Int(0) > prev_seq) {
      prev_seq = l->Int(0);
      prev_hash = l->Text(1);
    }
    l->Reset();
  }
  r.seq = prev_seq + 1;
  r.prev_hash = prev_hash;
  VESTA_ASSIGN_OR_RETURN(r.hash, ChainHash(r.prev_hash, r, parameters));

  VESTA_ASSIGN_OR_RETURN(Stmt * ins,
                         db.Cached("INSERT INTO gov_audit(" + std::string(kColumns) +
                                   ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
  ins->BindInt(1, r.seq)
      .BindInt(2, r.time.micros)
      .BindText(3, r.principal)
      .BindText(4, r.action)
      .BindText(5, r.securable)
      .BindText(6, r.parameters_json)
      .BindText(7, r.outcome)
      .BindText(8, r.message)
      .BindInt(9, r.row_count)
      .BindText(10, keys_json)
      .BindText(11, r.prev_hash)
      .BindText(12, r.hash);
  Status st = ins->Run();
  ins->Reset();
  VESTA_RETURN_IF_ERROR(st.WithContext("audit append"));

  VESTA_ASSIGN_OR_RETURN(Stmt * head,
                         db.Cached("INSERT INTO gov_audit_head(id, seq, hash) VALUES(1, ?1, ?2) "
                                   "ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"));
  head->BindInt(1, r.seq).BindText(2, r.hash);
  st = head->Run();
  head->Reset();
  VESTA_RETURN_IF_ERROR(st.WithContext("audit append"));
  VESTA_RETURN_IF_ERROR(txn.Commit().WithContext("audit append"));
  return r;
}

Status AuditLog::Verify(int64_t* records_checked, int64_t* first_bad_seq) {
  int64_t checked = 0;
  int64_t bad_seq = -1;
  if (records_checked) *records_checked = 0;
  if (first_bad_seq) *first_bad_seq = -1;
  auto report = [&](Status st) {
    if (records_checked) *records_checked = checked;
    if (first_bad_seq) *first_bad_seq = bad_seq;
    return st;
  };
  auto tampered = [&](int64_t seq, std::string message) {
    bad_seq = seq;
    return report(Status::DataLoss(std::move(message)));
  };

  std::lock_guard<std::mutex> lock(impl_->read_mu);
  Db& db = *impl_->reader;
  TxnScope txn(&db, /*immediate=*/false);  // one snapshot for the records and the head
  VESTA_RETURN_IF_ERROR(report(txn.Begin().WithContext("audit verify")));
  VESTA_ASSIGN_OR_RETURN(Stmt s,
                         db.Prepare(std::string("SELECT ") + kColumns + " FROM gov_audit ORDER BY seq"));
  int64_t prev_seq = 0;
  std::string expected_prev = kGenesisHash;
  while (true) {
    auto row = s.Step();
    if (!row.ok()) return report(row.status().WithContext("audit verify"));
    if (!*row) break;
    AuditRecord r;
    std::string keys_text;
    ReadColumns(s, &r, &keys_text);
    const std::string at = "audit record " + std::to_string(r.seq);
    if (r.seq != prev_seq + 1) {
      int64_t first = prev_seq + 1, last = r.seq - 1;
      std::string which = first == last ? "audit record " + std::to_string(first) + " is missing"
                                        : "audit records " + std::to_string(first) + " to " +
                                              std::to_string(last) + " are missing";
      std::string context = prev_seq == 0 ? " (the log starts at record " + std::to_string(r.seq) + ")"
                                          : " (records " + std::to_string(prev_seq) + " and " +
                                                std::to_string(r.seq) + " are adjacent)";
      return tampered(
          first, which + context + (first == last ? ": a record was deleted" : ": records were deleted"));
    }
    if (r.prev_hash != expected_prev) {
      if (r.seq == 1) {
        return tampered(r.seq,
                        at + ": prev_hash is not the genesis value (64 zeros): records were reordered or "
                             "replaced");
      }
      return tampered(r.seq, at + ": prev_hash does not match record " + std::to_string(prev_seq) +
                                 ": records were reordered or replaced");
    }
    if (!DecodeKeys(keys_text, &r.keys)) {
      return tampered(r.seq, at + ": stored keys are not a JSON array of strings: the record was edited");
    }
    json parameters;
    if (!ParseParameters(r.parameters_json, &parameters).ok()) {
      return tampered(r.seq, at + ": stored parameters are not a JSON object: the record was edited");
    }
    auto hash = ChainHash(r.prev_hash, r, parameters);
    if (!hash.ok() || *hash != r.hash) return tampered(r.seq, at + ": hash mismatch: the record was edited");
    ++checked;
    prev_seq = r.seq;
    expected_prev = r.hash;
  }
  s = Stmt();

  VESTA_ASSIGN_OR_RETURN(Stmt h, db.Prepare("SELECT seq, hash FROM gov_audit_head WHERE id = 1"));
  auto has_head = h.Step();
  if (!has_head.ok()) return report(has_head.status().WithContext("audit verify"));
  if (!*has_head) {
    if (prev_seq == 0) return report(Status::OK());  // an empty log
    return tampered(prev_seq, "audit head is missing although the log has records up to " +
                                  std::to_string(prev_seq) + ": the head row was deleted");
  }
  int64_t head_seq = h.Int(0);
  std::string head_hash = h.Text(1);
  if (head_seq > prev_seq) {
    std::string last =
        prev_seq == 0 ? "there are no records" : "the last record is " + std::to_string(prev_seq);
    return tampered(prev_seq + 1, "audit log truncated: the head is record " + std::to_string(head_seq) +
                                      " but " + last + ": " + MissingRange(prev_seq + 1, head_seq));
  }
  if (head_seq < prev_seq) {
    return tampered(head_seq + 1,
                    "audit head is record " + std::to_string(head_seq) + " but the log has records up to " +
                        std::to_string(prev_seq) +
                        ": records were added without updating the head, or the head was rolled back");
  }
  if (head_hash != expected_prev) {
    return tampered(head_seq, "audit head hash does not match record " + std::to_string(head_seq) +
                                  ": the head or the last record was replaced");
  }
  return report(Status::OK());
}

Result<AuditLog::Head> AuditLog::GetHead() {
  std::lock_guard<std::mutex> lock(impl_->read_mu);
  Db& db = *impl_->reader;
  VESTA_ASSIGN_OR_RETURN(Stmt * h, db.Cached("SELECT seq, hash FROM gov_audit_head WHERE id = 1"));
  VESTA_ASSIGN_OR_RETURN(bool found, h->Step());
  Head head{0, kGenesisHash};
  if (found) head = {h->Int(0), h->Text(1)};
  h->Reset();
  return head;
}

Status AuditLog::CheckAnchor(const Head& anchor) {
  if (anchor.seq < 0) return Status::InvalidArgument("audit anchor seq must be >= 0");
  if (anchor.seq == 0) {
    if (anchor.hash == kGenesisHash) return Status::OK();
    return Status::InvalidArgument("audit anchor at seq 0 must have the genesis hash (64 zeros)");
  }
  std::lock_guard<std::mutex> lock(impl_->read_mu);
  Db& db = *impl_->reader;
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("SELECT hash FROM gov_audit WHERE seq = ?1"));
  s->BindInt(1, anchor.seq);
  VESTA_ASSIGN_OR_RETURN(bool found, s->Step());
  std::string hash = found ? s->Text(0) : "";
  s->Reset();
  const std::string at = "audit record " + std::to_string(anchor.seq);
  if (!found) return Status::DataLoss(at + " (anchored) is missing: the log was truncated or rewritten");
  if (hash != anchor.hash) {
    return Status::DataLoss(at + ": hash differs from the anchor: the log was rewritten since the anchor was taken");
  }
  return Status::OK();
}

Result<std::vector<AuditRecord>> AuditLog::Query(const AuditQuery& q) {
  VESTA_RETURN_IF_ERROR(q.Validate());
  std::vector<Param> params;
  std::string sql = BuildQuery(q, /*with_limit=*/true, &params);
  std::lock_guard<std::mutex> lock(impl_->read_mu);
  Db& db = *impl_->reader;
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached(sql));
  BindAll(*s, params);
  std::vector<AuditRecord> out;
  while (true) {
    auto row = s->Step();
    if (!row.ok()) {
      s->Reset();
      return row.status().WithContext("audit query");
    }
    if (!*row) break;
    auto r = DecodeRow(*s);
    if (!r.ok()) {
      s->Reset();
      return r.status();
    }
    out.push_back(std::move(r).value());
  }
  s->Reset();
  return out;
}

Status AuditLog::ExportJsonLines(const AuditQuery& q, std::ostream& out) {
  VESTA_RETURN_IF_ERROR(ValidateRanges(q));
  std::vector<Param> params;
  std::string sql = BuildQuery(q, /*with_limit=*/false, &params);
  std::lock_guard<std::mutex> lock(impl_->read_mu);
  Db& db = *impl_->reader;
  // A prepared (not cached) statement: stepping it to the end keeps one
  // read snapshot for the whole export.
  VESTA_ASSIGN_OR_RETURN(Stmt s, db.Prepare(sql));
  BindAll(s, params);
  while (true) {
    auto row = s.Step();
    if (!row.ok()) return row.status().WithContext("audit export");
    if (!*row) break;
    VESTA_ASSIGN_OR_RETURN(AuditRecord r, DecodeRow(s));
    json parameters;
    if (!ParseParameters(r.parameters_json, &parameters).ok()) {
      return Status::Internal("audit record " + std::to_string(r.seq) +
                              ": stored parameters are not a JSON object (run `vesta audit verify`)");
    }
    json line = {{"seq", r.seq},
                 {"time", FormatTimestamp(r.time)},
                 {"time_us", r.time.micros},
                 {"principal", r.principal},
                 {"action", r.action},
                 {"securable", r.securable},
                 {"parameters", std::move(parameters)},
                 {"outcome", r.outcome},
                 {"message", r.message},
                 {"row_count", r.row_count},
                 {"keys", r.keys},
                 {"prev_hash", r.prev_hash},
                 {"hash", r.hash}};
    // A stored field that is not valid UTF-8 can only come from editing the
    // file; it is replaced by U+FFFD rather than failing the export.
    out << line.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    if (!out) return Status::Unavailable("audit export: writing the output failed");
  }
  return Status::OK();
}

}  // namespace vesta::governance
