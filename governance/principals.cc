// Users, groups and bearer tokens on the store's SQLite file. Storage layout:
//
//   gov_principals(principal_id, name UNIQUE NOCASE, kind, created_us, created_by)
//       principal_id is AUTOINCREMENT, so a dropped principal's id is never
//       reused: a token or membership of a dropped "bob" can never attach to
//       a new "bob".
//   gov_memberships(group_id, member_id, added_us, added_by)
//       direct edges; both ids reference gov_principals ON DELETE CASCADE.
//   gov_tokens(token_id, user_id, user_name, token_sha256 UNIQUE, created_us,
//              expires_us, revoked_us, revoked_by, comment, issued_by)
//       token_sha256 is the lowercase hex SHA-256 of the whole plaintext
//       ("vst_..."); rows outlive their user (revoked) for audit.
//   gov_principal_settings(key, value)     metastore_admin_group
//   gov_principal_history(seq, ts_us, actor, action, principal, details)
//
// The transitive closure of a principal's groups is a recursive CTE over
// gov_memberships walking upwards (UNION, so it terminates even on a cycle a
// corrupt file might hold). Cycle prevention at AddMember walks the
// group-in-group edges downwards in memory.
#include "governance/principals.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "governance/internal/crypto.h"
#include "governance/internal/sqlite.h"

namespace vesta::governance {

using internal::Db;
using internal::Stmt;
using internal::TxnScope;
using json = nlohmann::json;

namespace {

constexpr const char* kDdl = R"sql(
CREATE TABLE IF NOT EXISTS gov_principals(
  principal_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  kind TEXT NOT NULL CHECK(kind IN ('user', 'group')),
  created_us INTEGER NOT NULL, created_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gov_memberships(
  group_id INTEGER NOT NULL REFERENCES gov_principals(principal_id) ON DELETE CASCADE,
  member_id INTEGER NOT NULL REFERENCES gov_principals(principal_id) ON DELETE CASCADE,
  added_us INTEGER NOT NULL, added_by TEXT NOT NULL,
  PRIMARY KEY(group_id, member_id));
CREATE INDEX IF NOT EXISTS gov_memberships_by_member ON gov_memberships(member_id, group_id);
CREATE TABLE IF NOT EXISTS gov_tokens(
  token_id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, user_name TEXT NOT NULL,
  token_sha256 TEXT NOT NULL UNIQUE, created_us INTEGER NOT NULL, expires_us INTEGER,
  revoked_us INTEGER, revoked_by TEXT NOT NULL DEFAULT '', comment TEXT NOT NULL,
  issued_by TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS gov_tokens_by_user ON gov_tokens(user_id);
CREATE TABLE IF NOT EXISTS gov_principal_settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gov_principal_history(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, ts_us INTEGER NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, principal TEXT NOT NULL, details TEXT NOT NULL);
)sql";

constexpr const char* kPrincipalColumns = "principal_id, name, kind, created_us, created_by";
constexpr size_t kTokenHexChars = 64;  // 32 random bytes

// Resets a cached statement when the scope ends, so it holds no read snapshot.
class ResetOnExit {
 public:
  explicit ResetOnExit(Stmt* s) : s_(s) {}
  ~ResetOnExit() { s_->Reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Stmt* s_;
};

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// ASCII case-insensitive ordering, transparent so lookups by string_view do
// not allocate.
struct CaseLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](char x, char y) { return Lower(x) < Lower(y); });
  }
};

filter::EvalContext MakeContext(const std::string& user, const std::vector<std::string>& groups) {
  filter::EvalContext ctx;
  ctx.current_user = user;
  std::shared_ptr<const std::set<std::string, CaseLess>> set =
      std::make_shared<std::set<std::string, CaseLess>>(groups.begin(), groups.end());
  ctx.is_member = [set](std::string_view group) { return set->find(group) != set->end(); };
  return ctx;
}

// A name for an error message: user text, so bounded.
std::string Shown(std::string_view name) {
  constexpr size_t kMax = 64;
  if (name.size() <= kMax) return std::string(name);
  return std::string(name.substr(0, kMax)) + "...";
}

PrincipalKind KindFromText(const std::string& s) {
  return s == "group" ? PrincipalKind::kGroup : PrincipalKind::kUser;
}

// A principal row with its internal id.
struct Found {
  int64_t id = 0;
  PrincipalInfo info;
  bool is_group() const { return info.kind == PrincipalKind::kGroup; }
};

Found FoundFromRow(const Stmt& s) {
  Found f;
  f.id = s.Int(0);
  f.info.name = s.Text(1);
  f.info.kind = KindFromText(s.Text(2));
  f.info.created_at = Timestamp{s.Int(3)};
  f.info.created_by = s.Text(4);
  return f;
}

Result<std::optional<Found>> Lookup(Db& db, std::string_view name) {
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached(std::string("SELECT ") + kPrincipalColumns +
                                             " FROM gov_principals WHERE name = ?1"));
  ResetOnExit reset(s);
  s->BindText(1, name);
  VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<Found>();
  return std::optional<Found>(FoundFromRow(*s));
}

// The principal `name`, or NotFound "no user or group 'x'".
Result<Found> Require(Db& db, std::string_view name) {
  VESTA_ASSIGN_OR_RETURN(std::optional<Found> f, Lookup(db, name));
  if (!f) return Status::NotFound("no user or group '" + Shown(name) + "'");
  return *std::move(f);
}

Result<Found> RequireUser(Db& db, std::string_view name) {
  VESTA_ASSIGN_OR_RETURN(std::optional<Found> f, Lookup(db, name));
  if (!f) return Status::NotFound("no user '" + Shown(name) + "'");
  if (f->is_group()) return Status::InvalidArgument("'" + f->info.name + "' is a group, not a user");
  return *std::move(f);
}

Result<Found> RequireGroup(Db& db, std::string_view name) {
  VESTA_ASSIGN_OR_RETURN(std::optional<Found> f, Lookup(db, name));
  if (!f) return Status::NotFound("no group '" + Shown(name) + "'");
  if (!f->is_group()) return Status::InvalidArgument("'" + f->info.name + "' is a user, not a group");
  return *std::move(f);
}

// Every group containing principal `id`, directly or transitively, sorted
// case-insensitively.
Result<std::vector<std::string>> Closure(Db& db, int64_t id) {
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached(R"sql(
WITH RECURSIVE up(id) AS (
  SELECT group_id FROM gov_memberships WHERE member_id = ?1
  UNION
  SELECT m.group_id FROM gov_memberships m JOIN up ON m.member_id = up.id)
SELECT p.name FROM up JOIN gov_principals p ON p.principal_id = up.id
WHERE p.principal_id <> ?1
ORDER BY p.name COLLATE NOCASE)sql"));
  ResetOnExit reset(s);
  s->BindInt(1, id);
  std::vector<std::string> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.push_back(s->Text(0));
  }
  return out;
}

Result<std::optional<std::string>> MetastoreAdminGroup(Db& db) {
  VESTA_ASSIGN_OR_RETURN(
      Stmt * s, db.Cached("SELECT value FROM gov_principal_settings WHERE key = 'metastore_admin_group'"));
  ResetOnExit reset(s);
  VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s->Text(0));
}

// Whether principal `id` with groups `groups` is in the metastore admin group.
Result<bool> IsAdmin(Db& db, const std::vector<std::string>& groups) {
  VESTA_ASSIGN_OR_RETURN(std::optional<std::string> admins, MetastoreAdminGroup(db));
  if (!admins) return false;
  for (const std::string& g : groups) {
    if (EqualsIgnoreCase(g, *admins)) return true;
  }
  return false;
}

Status AppendHistory(Db& db, Timestamp t, const std::string& actor, std::string_view action,
                     const std::string& principal, const json& details) {
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("INSERT INTO gov_principal_history(ts_us, actor, action, "
                                             "principal, details) VALUES(?1, ?2, ?3, ?4, ?5)"));
  ResetOnExit reset(s);
  s->BindInt(1, t.micros)
      .BindText(2, actor)
      .BindText(3, action)
      .BindText(4, principal)
      .BindText(5, details.dump());
  return s->Run();
}

Result<Found> InsertPrincipal(Db& db, Timestamp now, const std::string& name, PrincipalKind kind,
                              const std::string& created_by) {
  const char* field = kind == PrincipalKind::kUser ? "user name" : "group name";
  VESTA_RETURN_IF_ERROR(Principals::ValidateName(field, name));
  VESTA_ASSIGN_OR_RETURN(std::optional<Found> existing, Lookup(db, name));
  if (existing) {
    return Status::AlreadyExists(std::string(PrincipalKindName(existing->info.kind)) + " '" +
                                 existing->info.name +
                                 "' already exists (users and groups share one namespace)");
  }
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("INSERT INTO gov_principals(name, kind, created_us, created_by) "
                                             "VALUES(?1, ?2, ?3, ?4)"));
  {
    ResetOnExit reset(s);
    s->BindText(1, name).BindText(2, PrincipalKindName(kind)).BindInt(3, now.micros).BindText(4, created_by);
    VESTA_RETURN_IF_ERROR(s->Run());
  }
  Found f;
  f.id = db.last_insert_rowid();
  f.info = PrincipalInfo{name, kind, now, created_by};
  VESTA_RETURN_IF_ERROR(AppendHistory(db, now, created_by,
                                      kind == PrincipalKind::kUser ? "CREATE USER" : "CREATE GROUP", name,
                                      json::object()));
  return f;
}

// If adding group `member` to `group` would close a cycle, the cycle as
// "group -> member -> ... -> group"; else nullopt.
Result<std::optional<std::string>> FindCycle(Db& db, const Found& group, const Found& member) {
  if (group.id == member.id) return std::optional<std::string>(group.info.name + " -> " + group.info.name);
  // Group-in-group edges, parent -> children, and the groups' names.
  std::unordered_map<int64_t, std::vector<int64_t>> children;
  std::unordered_map<int64_t, std::string> names;
  VESTA_ASSIGN_OR_RETURN(Stmt edges, db.Prepare(R"sql(
SELECT m.group_id, m.member_id, p.name FROM gov_memberships m
JOIN gov_principals p ON p.principal_id = m.member_id WHERE p.kind = 'group')sql"));
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, edges.Step());
    if (!row) break;
    children[edges.Int(0)].push_back(edges.Int(1));
    names[edges.Int(1)] = edges.Text(2);
  }
  // Breadth-first from `member` downwards: does it contain `group`?
  std::unordered_map<int64_t, int64_t> parent{{member.id, 0}};
  std::deque<int64_t> queue{member.id};
  while (!queue.empty()) {
    int64_t at = queue.front();
    queue.pop_front();
    auto it = children.find(at);
    if (it == children.end()) continue;
    for (int64_t child : it->second) {
      if (parent.count(child)) continue;
      parent[child] = at;
      if (child == group.id) {
        std::vector<std::string> path;  // group back up to member
        for (int64_t x = child; x != member.id; x = parent[x]) path.push_back(names[x]);
        path.push_back(member.info.name);
        std::string out = group.info.name;
        for (auto p = path.rbegin(); p != path.rend(); ++p) out += " -> " + *p;
        return std::optional<std::string>(out);
      }
      queue.push_back(child);
    }
  }
  return std::optional<std::string>();
}

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool WellFormedToken(std::string_view token) {
  const std::string_view prefix = Principals::kTokenPrefix;
  if (token.size() != prefix.size() + kTokenHexChars || token.substr(0, prefix.size()) != prefix)
    return false;
  return std::all_of(token.begin() + static_cast<std::ptrdiff_t>(prefix.size()), token.end(), IsLowerHex);
}

json TimeOrNull(const std::optional<Timestamp>& t) {
  return t ? json(FormatTimestamp(*t)) : json(nullptr);
}

}  // namespace

std::string_view PrincipalKindName(PrincipalKind kind) {
  return kind == PrincipalKind::kGroup ? "group" : "user";
}

filter::EvalContext AuthenticatedPrincipal::ToEvalContext() const {
  return MakeContext(user, groups);
}

struct Principals::Impl {
  std::mutex mu;  // guards db
  std::unique_ptr<Db> db;
  std::function<Timestamp()> clock;

  Timestamp Now() const { return clock ? clock() : NowTimestamp(); }

  // Inserts a token row for `user` and its history; inside a write txn.
  Result<IssuedToken> Issue(const Found& user, std::optional<Timestamp> expires_at,
                            const std::string& comment, const std::string& issued_by, Timestamp now) {
    VESTA_ASSIGN_OR_RETURN(std::string secret, internal::RandomBytes(kTokenHexChars / 2));
    VESTA_ASSIGN_OR_RETURN(std::string id_bytes, internal::RandomBytes(8));
    IssuedToken out;
    out.token_id = "tok_" + internal::HexEncode(id_bytes);
    out.user = user.info.name;
    out.token = std::string(kTokenPrefix) + internal::HexEncode(secret);
    out.expires_at = expires_at;
    VESTA_ASSIGN_OR_RETURN(Stmt * s,
                           db->Cached("INSERT INTO gov_tokens(token_id, user_id, user_name, token_sha256, "
                                      "created_us, expires_us, comment, issued_by) "
                                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
    {
      ResetOnExit reset(s);
      s->BindText(1, out.token_id)
          .BindInt(2, user.id)
          .BindText(3, user.info.name)
          .BindText(4, internal::Sha256Hex(out.token))
          .BindInt(5, now.micros)
          .BindText(7, comment)
          .BindText(8, issued_by);
      if (expires_at) {
        s->BindInt(6, expires_at->micros);
      } else {
        s->BindNull(6);
      }
      VESTA_RETURN_IF_ERROR(s->Run());
    }
    VESTA_RETURN_IF_ERROR(AppendHistory(
        *db, now, issued_by, "ISSUE TOKEN", user.info.name,
        json{{"token_id", out.token_id}, {"expires_at", TimeOrNull(expires_at)}, {"comment", comment}}));
    return out;
  }
};

Status Principals::ValidateName(std::string_view field, std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '@';
  };
  auto first_ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (name.empty() || name.size() > 128 || !first_ok(name[0]) ||
      !std::all_of(name.begin(), name.end(), allowed)) {
    return Status::InvalidArgument(
        std::string(field) + " '" + Shown(name) +
        "' is invalid: a principal name is 1..128 characters from letters, digits, "
        "'_', '-', '.' and '@', starting with a letter, digit or '_'");
  }
  return Status::OK();
}

Result<std::unique_ptr<Principals>> Principals::Open(const std::string& store_path,
                                                     PrincipalsOptions options) {
  if (options.busy_timeout_ms < 0) return Status::InvalidArgument("busy_timeout_ms must be >= 0");
  std::unique_ptr<Principals> p(new Principals());
  p->impl_ = std::make_unique<Impl>();
  Impl& impl = *p->impl_;
  impl.clock = std::move(options.clock);
  VESTA_ASSIGN_OR_RETURN(impl.db,
                         internal::OpenStoreConnection(store_path, kDdl, "principals", options.busy_timeout_ms));
  return p;
}

Principals::~Principals() = default;

// --- Bootstrap ---------------------------------------------------------------

Result<IssuedToken> Principals::Bootstrap(const std::string& admin_name) {
  VESTA_RETURN_IF_ERROR(ValidateName("admin user name", admin_name));
  if (EqualsIgnoreCase(admin_name, kAdminsGroup)) {
    return Status::InvalidArgument(std::string("admin user name '") + admin_name +
                                   "' is taken by the group '" + kAdminsGroup + "' that bootstrap creates");
  }
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("SELECT COUNT(*) FROM gov_principals"));
    ResetOnExit reset(s);
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (row && s->Int(0) > 0) {
      return Status::FailedPrecondition("already bootstrapped: the store has " + std::to_string(s->Int(0)) +
                                        " principal(s); bootstrap only creates the first admin");
    }
  }
  const std::string actor = "bootstrap";
  const Timestamp now = impl_->Now();
  VESTA_ASSIGN_OR_RETURN(Found admin, InsertPrincipal(db, now, admin_name, PrincipalKind::kUser, actor));
  VESTA_ASSIGN_OR_RETURN(Found admins, InsertPrincipal(db, now, kAdminsGroup, PrincipalKind::kGroup, actor));
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s,
                           db.Cached("INSERT INTO gov_memberships(group_id, member_id, added_us, added_by) "
                                     "VALUES(?1, ?2, ?3, ?4)"));
    ResetOnExit reset(s);
    s->BindInt(1, admins.id).BindInt(2, admin.id).BindInt(3, now.micros).BindText(4, actor);
    VESTA_RETURN_IF_ERROR(s->Run());
  }
  VESTA_RETURN_IF_ERROR(
      AppendHistory(db, now, actor, "ADD MEMBER", admins.info.name, json{{"member", admin.info.name}}));
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("INSERT OR REPLACE INTO gov_principal_settings(key, value) "
                                               "VALUES('metastore_admin_group', ?1)"));
    ResetOnExit reset(s);
    s->BindText(1, admins.info.name);
    VESTA_RETURN_IF_ERROR(s->Run());
  }
  VESTA_RETURN_IF_ERROR(
      AppendHistory(db, now, actor, "SET METASTORE ADMIN GROUP", admins.info.name, json::object()));
  VESTA_ASSIGN_OR_RETURN(IssuedToken token, impl_->Issue(admin, std::nullopt, "bootstrap", actor, now));
  VESTA_RETURN_IF_ERROR(txn.Commit());
  return token;
}

// --- Principals --------------------------------------------------------------

Status Principals::CreateUser(const std::string& name, const std::string& created_by) {
  VESTA_RETURN_IF_ERROR(ValidateName("user name", name));
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_RETURN_IF_ERROR(InsertPrincipal(db, impl_->Now(), name, PrincipalKind::kUser, created_by).status());
  return txn.Commit();
}

Status Principals::CreateGroup(const std::string& name, const std::string& created_by) {
  VESTA_RETURN_IF_ERROR(ValidateName("group name", name));
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_RETURN_IF_ERROR(InsertPrincipal(db, impl_->Now(), name, PrincipalKind::kGroup, created_by).status());
  return txn.Commit();
}

Status Principals::DropPrincipal(const std::string& name, const std::string& dropped_by) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Found p, Require(db, name));
  VESTA_ASSIGN_OR_RETURN(std::optional<std::string> admins, MetastoreAdminGroup(db));
  if (p.is_group() && admins && EqualsIgnoreCase(*admins, p.info.name)) {
    return Status::FailedPrecondition("group '" + p.info.name +
                                      "' is the metastore admin group and cannot be dropped");
  }
  const Timestamp now = impl_->Now();
  json details = json::object();
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s,
                           db.Cached("SELECT (SELECT COUNT(*) FROM gov_memberships WHERE member_id = ?1), "
                                     "(SELECT COUNT(*) FROM gov_memberships WHERE group_id = ?1)"));
    ResetOnExit reset(s);
    s->BindInt(1, p.id);
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (row) {
      details["memberships_removed"] = s->Int(0);
      if (p.is_group()) details["members_removed"] = s->Int(1);
    }
  }
  if (!p.is_group()) {
    VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("UPDATE gov_tokens SET revoked_us = ?2, revoked_by = ?3 "
                                               "WHERE user_id = ?1 AND revoked_us IS NULL"));
    ResetOnExit reset(s);
    s->BindInt(1, p.id).BindInt(2, now.micros).BindText(3, "drop user");
    VESTA_RETURN_IF_ERROR(s->Run());
    details["tokens_revoked"] = db.changes();
  }
  {
    // Memberships go with it (ON DELETE CASCADE; deleted explicitly as well
    // so that a connection without foreign_keys cannot leave dangling rows).
    VESTA_ASSIGN_OR_RETURN(Stmt * s,
                           db.Cached("DELETE FROM gov_memberships WHERE group_id = ?1 OR member_id = ?1"));
    ResetOnExit reset(s);
    s->BindInt(1, p.id);
    VESTA_RETURN_IF_ERROR(s->Run());
  }
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("DELETE FROM gov_principals WHERE principal_id = ?1"));
    ResetOnExit reset(s);
    s->BindInt(1, p.id);
    VESTA_RETURN_IF_ERROR(s->Run());
  }
  VESTA_RETURN_IF_ERROR(
      AppendHistory(db, now, dropped_by, p.is_group() ? "DROP GROUP" : "DROP USER", p.info.name, details));
  return txn.Commit();
}

Result<PrincipalInfo> Principals::Get(const std::string& name) {
  std::lock_guard<std::mutex> l(impl_->mu);
  VESTA_ASSIGN_OR_RETURN(Found f, Require(*impl_->db, name));
  return f.info;
}

Result<std::vector<PrincipalInfo>> Principals::List(std::optional<PrincipalKind> kind) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached(std::string("SELECT ") + kPrincipalColumns +
                                             " FROM gov_principals WHERE ?1 IS NULL OR kind = ?1 "
                                             "ORDER BY name COLLATE NOCASE"));
  ResetOnExit reset(s);
  if (kind) {
    s->BindText(1, PrincipalKindName(*kind));
  } else {
    s->BindNull(1);
  }
  std::vector<PrincipalInfo> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.push_back(FoundFromRow(*s).info);
  }
  return out;
}

// --- Membership --------------------------------------------------------------

Status Principals::AddMember(const std::string& group, const std::string& member,
                             const std::string& added_by) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Found g, RequireGroup(db, group));
  VESTA_ASSIGN_OR_RETURN(Found m, Require(db, member));
  if (m.is_group()) {
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> cycle, FindCycle(db, g, m));
    if (cycle) {
      return Status::FailedPrecondition("adding group '" + m.info.name + "' to group '" + g.info.name +
                                        "' would create a cycle: " + *cycle);
    }
  }
  const Timestamp now = impl_->Now();
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s,
                           db.Cached("INSERT OR IGNORE INTO gov_memberships(group_id, member_id, added_us, "
                                     "added_by) VALUES(?1, ?2, ?3, ?4)"));
    ResetOnExit reset(s);
    s->BindInt(1, g.id).BindInt(2, m.id).BindInt(3, now.micros).BindText(4, added_by);
    VESTA_RETURN_IF_ERROR(s->Run());
    if (db.changes() == 0) {
      return Status::AlreadyExists(std::string(PrincipalKindName(m.info.kind)) + " '" + m.info.name +
                                   "' is already a member of group '" + g.info.name + "'");
    }
  }
  VESTA_RETURN_IF_ERROR(AppendHistory(
      db, now, added_by, "ADD MEMBER", g.info.name,
      json{{"member", m.info.name}, {"member_kind", std::string(PrincipalKindName(m.info.kind))}}));
  return txn.Commit();
}

Status Principals::RemoveMember(const std::string& group, const std::string& member,
                                const std::string& removed_by) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Found g, RequireGroup(db, group));
  VESTA_ASSIGN_OR_RETURN(Found m, Require(db, member));
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s,
                           db.Cached("DELETE FROM gov_memberships WHERE group_id = ?1 AND member_id = ?2"));
    ResetOnExit reset(s);
    s->BindInt(1, g.id).BindInt(2, m.id);
    VESTA_RETURN_IF_ERROR(s->Run());
    if (db.changes() == 0) {
      return Status::NotFound(std::string(PrincipalKindName(m.info.kind)) + " '" + m.info.name +
                              "' is not a direct member of group '" + g.info.name + "'");
    }
  }
  VESTA_RETURN_IF_ERROR(AppendHistory(
      db, impl_->Now(), removed_by, "REMOVE MEMBER", g.info.name,
      json{{"member", m.info.name}, {"member_kind", std::string(PrincipalKindName(m.info.kind))}}));
  return txn.Commit();
}

Result<std::vector<PrincipalInfo>> Principals::MembersOf(const std::string& group) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Found g, RequireGroup(db, group));
  VESTA_ASSIGN_OR_RETURN(Stmt * s,
                         db.Cached("SELECT p.principal_id, p.name, p.kind, p.created_us, p.created_by "
                                   "FROM gov_memberships m JOIN gov_principals p "
                                   "ON p.principal_id = m.member_id WHERE m.group_id = ?1 "
                                   "ORDER BY p.name COLLATE NOCASE"));
  ResetOnExit reset(s);
  s->BindInt(1, g.id);
  std::vector<PrincipalInfo> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.push_back(FoundFromRow(*s).info);
  }
  return out;
}

Result<std::vector<std::string>> Principals::GroupsOf(const std::string& principal) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Found p, Require(db, principal));
  return Closure(db, p.id);
}

Result<bool> Principals::IsMember(const std::string& principal, const std::string& group) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(std::optional<Found> p, Lookup(db, principal));
  if (!p) return false;
  VESTA_ASSIGN_OR_RETURN(std::vector<std::string> groups, Closure(db, p->id));
  return std::any_of(groups.begin(), groups.end(),
                     [&](const std::string& g) { return EqualsIgnoreCase(g, group); });
}

Result<bool> Principals::IsMetastoreAdmin(const std::string& user) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(std::optional<Found> p, Lookup(db, user));
  if (!p || p->is_group()) return false;
  VESTA_ASSIGN_OR_RETURN(std::vector<std::string> groups, Closure(db, p->id));
  return IsAdmin(db, groups);
}

Result<filter::EvalContext> Principals::ContextFor(const std::string& user) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Found u, RequireUser(db, user));
  VESTA_ASSIGN_OR_RETURN(std::vector<std::string> groups, Closure(db, u.id));
  return MakeContext(u.info.name, groups);
}

// --- Tokens ------------------------------------------------------------------

Result<IssuedToken> Principals::IssueToken(const std::string& user, std::optional<Timestamp> expires_at,
                                           const std::string& comment, const std::string& issued_by) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  const Timestamp now = impl_->Now();
  if (expires_at && *expires_at <= now) {
    return Status::InvalidArgument("token expiry " + FormatTimestamp(*expires_at) +
                                   " is not in the future (now " + FormatTimestamp(now) + ")");
  }
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Found u, RequireUser(db, user));
  VESTA_ASSIGN_OR_RETURN(IssuedToken token, impl_->Issue(u, expires_at, comment, issued_by, now));
  VESTA_RETURN_IF_ERROR(txn.Commit());
  return token;
}

Result<IssuedToken> Principals::IssueToken(const std::string& user, std::chrono::microseconds ttl,
                                           const std::string& comment, const std::string& issued_by) {
  if (ttl.count() <= 0) {
    return Status::InvalidArgument("token ttl must be positive, got " + std::to_string(ttl.count()) + " us");
  }
  return IssueToken(user, Timestamp{impl_->Now().micros + ttl.count()}, comment, issued_by);
}

Result<AuthenticatedPrincipal> Principals::Authenticate(std::string_view token) {
  if (!WellFormedToken(token)) {
    return Status::Unauthenticated(std::string("malformed bearer token: expected '") + kTokenPrefix +
                                   "' followed by 64 lowercase hex characters");
  }
  const std::string hash = internal::Sha256Hex(token);
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  std::string token_id, stored_hash;
  int64_t user_id = 0;
  std::optional<Timestamp> expires_at, revoked_at;
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s,
                           db.Cached("SELECT token_id, user_id, token_sha256, expires_us, revoked_us "
                                     "FROM gov_tokens WHERE token_sha256 = ?1"));
    ResetOnExit reset(s);
    s->BindText(1, hash);
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return Status::Unauthenticated("invalid bearer token");
    token_id = s->Text(0);
    user_id = s->Int(1);
    stored_hash = s->Text(2);
    if (!s->IsNull(3)) expires_at = Timestamp{s->Int(3)};
    if (!s->IsNull(4)) revoked_at = Timestamp{s->Int(4)};
  }
  if (!internal::ConstantTimeEquals(stored_hash, hash))
    return Status::Unauthenticated("invalid bearer token");
  if (revoked_at) {
    return Status::Unauthenticated("bearer token " + token_id + " was revoked at " +
                                   FormatTimestamp(*revoked_at));
  }
  if (expires_at && impl_->Now() >= *expires_at) {
    return Status::Unauthenticated("bearer token " + token_id + " expired at " +
                                   FormatTimestamp(*expires_at));
  }
  AuthenticatedPrincipal out;
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s,
                           db.Cached("SELECT name, kind FROM gov_principals WHERE principal_id = ?1"));
    ResetOnExit reset(s);
    s->BindInt(1, user_id);
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row || s->Text(1) != "user") {
      return Status::Unauthenticated("bearer token " + token_id + " belongs to a user that no longer exists");
    }
    out.user = s->Text(0);
  }
  out.token_id = token_id;
  VESTA_ASSIGN_OR_RETURN(out.groups, Closure(db, user_id));
  VESTA_ASSIGN_OR_RETURN(out.metastore_admin, IsAdmin(db, out.groups));
  return out;
}

Status Principals::RevokeToken(const std::string& token_id, const std::string& revoked_by) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  std::string user;
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s,
                           db.Cached("SELECT user_name, revoked_us FROM gov_tokens WHERE token_id = ?1"));
    ResetOnExit reset(s);
    s->BindText(1, token_id);
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return Status::NotFound("no token '" + Shown(token_id) + "'");
    if (!s->IsNull(1)) return Status::OK();  // already revoked
    user = s->Text(0);
  }
  const Timestamp now = impl_->Now();
  {
    VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("UPDATE gov_tokens SET revoked_us = ?2, revoked_by = ?3 "
                                               "WHERE token_id = ?1"));
    ResetOnExit reset(s);
    s->BindText(1, token_id).BindInt(2, now.micros).BindText(3, revoked_by);
    VESTA_RETURN_IF_ERROR(s->Run());
  }
  VESTA_RETURN_IF_ERROR(
      AppendHistory(db, now, revoked_by, "REVOKE TOKEN", user, json{{"token_id", token_id}}));
  return txn.Commit();
}

Result<std::vector<TokenInfo>> Principals::ListTokens(const std::string& user) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  TxnScope txn(&db, false);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Found u, RequireUser(db, user));
  VESTA_ASSIGN_OR_RETURN(Stmt * s,
                         db.Cached("SELECT token_id, user_name, created_us, expires_us, revoked_us, "
                                   "revoked_by, comment, issued_by FROM gov_tokens WHERE user_id = ?1 "
                                   "ORDER BY created_us, rowid"));
  ResetOnExit reset(s);
  s->BindInt(1, u.id);
  std::vector<TokenInfo> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    TokenInfo t;
    t.token_id = s->Text(0);
    t.user = s->Text(1);
    t.created_at = Timestamp{s->Int(2)};
    if (!s->IsNull(3)) t.expires_at = Timestamp{s->Int(3)};
    if (!s->IsNull(4)) t.revoked_at = Timestamp{s->Int(4)};
    t.revoked = t.revoked_at.has_value();
    t.revoked_by = s->Text(5);
    t.comment = s->Text(6);
    t.issued_by = s->Text(7);
    out.push_back(std::move(t));
  }
  return out;
}

// --- History -----------------------------------------------------------------

Result<std::vector<PrincipalChange>> Principals::History(int64_t limit) {
  std::lock_guard<std::mutex> l(impl_->mu);
  Db& db = *impl_->db;
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("SELECT seq, ts_us, actor, action, principal, details "
                                             "FROM gov_principal_history ORDER BY seq DESC LIMIT ?1"));
  ResetOnExit reset(s);
  s->BindInt(1, limit < 0 ? -1 : limit);
  std::vector<PrincipalChange> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    PrincipalChange c;
    c.seq = s->Int(0);
    c.time = Timestamp{s->Int(1)};
    c.actor = s->Text(2);
    c.action = s->Text(3);
    c.principal = s->Text(4);
    c.details_json = s->Text(5);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace vesta::governance
