// Grants, owners and their history on SQLite. Storage layout (in the Store's
// database file, all names prefixed gov_):
//
//   gov_grants(securable_type, securable, name, principal, privilege,
//              granted_by, granted_us)
//       one row per direct grant; `securable` is the lower-cased full name
//       (the identity), `name` the spelling of the first grant, `privilege`
//       the REST spelling (USE_CATALOG).
//   gov_owners(securable_type, securable, name, owner, set_by, set_us)
//   gov_grant_history(seq, ts_us, actor, action, securable_type, securable,
//                     name, principal, privileges)   privileges: JSON array
//
// Authorization reads the grants and owners of a securable and of its (at
// most two) ancestors: one indexed lookup per level, evaluated in memory.
#include "governance/privileges.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "governance/internal/sqlite.h"

namespace vesta::governance {

using internal::Db;
using internal::Stmt;
using internal::TxnScope;
using json = nlohmann::json;

namespace {

constexpr const char* kDdl = R"sql(
CREATE TABLE IF NOT EXISTS gov_grants(
  securable_type TEXT NOT NULL, securable TEXT NOT NULL, name TEXT NOT NULL,
  principal TEXT NOT NULL, privilege TEXT NOT NULL,
  granted_by TEXT NOT NULL, granted_us INTEGER NOT NULL,
  PRIMARY KEY(securable_type, securable, principal, privilege)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gov_owners(
  securable_type TEXT NOT NULL, securable TEXT NOT NULL, name TEXT NOT NULL,
  owner TEXT NOT NULL, set_by TEXT NOT NULL, set_us INTEGER NOT NULL,
  PRIMARY KEY(securable_type, securable)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gov_grant_history(
  seq INTEGER PRIMARY KEY, ts_us INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  securable_type TEXT NOT NULL, securable TEXT NOT NULL, name TEXT NOT NULL,
  principal TEXT NOT NULL, privileges TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS gov_grant_history_by_securable
  ON gov_grant_history(securable_type, securable, seq);
)sql";

constexpr size_t kMaxPrincipalBytes = 256;

// Upper-cases and turns runs of spaces, tabs and underscores into one space.
std::string NormalizeWords(std::string_view s) {
  std::string out;
  bool gap = false;
  for (char c : s) {
    if (c == ' ' || c == '_' || c == '\t') {
      gap = true;
      continue;
    }
    if (gap && !out.empty()) out += ' ';
    gap = false;
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  return out;
}

std::vector<std::string> SplitDots(std::string_view s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    parts.emplace_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

int Depth(SecurableType t) {
  switch (t) {
    case SecurableType::kCatalog: return 1;
    case SecurableType::kSchema: return 2;
    case SecurableType::kTable:
    case SecurableType::kIndex: return 3;
  }
  return 0;
}

Status ValidatePrincipal(const std::string& name, std::string_view field) {
  if (name.empty()) return Status::InvalidArgument(std::string(field) + " must not be empty");
  if (name.size() > kMaxPrincipalBytes) {
    return Status::InvalidArgument(std::string(field) + " is longer than " + std::to_string(kMaxPrincipalBytes) +
                                   " bytes");
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(std::string(field) + " '" + name + "' contains a control character");
    }
  }
  return Status::OK();
}

std::string TypesWhereApplies(Privilege p) {
  std::string out;
  for (SecurableType t :
       {SecurableType::kCatalog, SecurableType::kSchema, SecurableType::kTable, SecurableType::kIndex}) {
    if (!PrivilegeAppliesTo(p, t)) continue;
    if (!out.empty()) out += ", ";
    out += SecurableTypeName(t);
  }
  return out;
}

Status ValidatePrivileges(const Securable& s, const std::vector<Privilege>& privileges, std::string_view verb) {
  for (Privilege p : privileges) {
    if (static_cast<int>(p) < 0 || static_cast<int>(p) > static_cast<int>(Privilege::kAllPrivileges)) {
      return Status::InvalidArgument("unknown privilege value " + std::to_string(static_cast<int>(p)));
    }
    if (!PrivilegeAppliesTo(p, s.type)) {
      return Status::InvalidArgument("privilege " + std::string(PrivilegeName(p)) + " cannot be " +
                                     std::string(verb) + " on " + s.ToString() + " (it applies to: " +
                                     TypesWhereApplies(p) + ")");
    }
  }
  return Status::OK();
}

std::set<Privilege> Unique(const std::vector<Privilege>& v) { return {v.begin(), v.end()}; }

// What revoking `privileges` removes: ALL PRIVILEGES also takes every
// privilege it covers.
std::set<Privilege> RevokeSet(const std::vector<Privilege>& privileges) {
  std::set<Privilege> out(privileges.begin(), privileges.end());
  if (out.count(Privilege::kAllPrivileges)) {
    for (Privilege p : AllPrivilegeValues()) {
      if (PrivilegeCovers(Privilege::kAllPrivileges, p)) out.insert(p);
    }
  }
  return out;
}

std::string PrivilegesJson(const std::vector<Privilege>& privileges) {
  json a = json::array();
  for (Privilege p : privileges) a.push_back(std::string(PrivilegeApiName(p)));
  return a.dump();
}

Result<std::vector<Privilege>> ParsePrivilegesJson(const std::string& text) {
  std::vector<Privilege> out;
  try {
    for (const auto& e : json::parse(text)) {
      auto p = ParsePrivilege(e.get<std::string>());
      if (!p.ok()) return Status::Internal("corrupt grant history: " + p.status().message());
      out.push_back(*p);
    }
  } catch (const json::exception& e) {
    return Status::Internal(std::string("corrupt grant history: ") + e.what());
  }
  return out;
}

bool IsHolder(const std::string& principal, const std::string& user, const std::set<std::string>& groups) {
  return principal == user || groups.count(principal) > 0;
}

}  // namespace

// --- Securable -------------------------------------------------------------------

std::string_view SecurableTypeName(SecurableType type) {
  switch (type) {
    case SecurableType::kCatalog: return "catalog";
    case SecurableType::kSchema: return "schema";
    case SecurableType::kTable: return "table";
    case SecurableType::kIndex: return "index";
  }
  return "unknown";
}

Result<SecurableType> ParseSecurableType(std::string_view text) {
  std::string l = AsciiLower(text);
  if (l == "catalog") return SecurableType::kCatalog;
  if (l == "schema") return SecurableType::kSchema;
  if (l == "table") return SecurableType::kTable;
  if (l == "index") return SecurableType::kIndex;
  return Status::InvalidArgument("securable type '" + std::string(text) +
                                 "' is not one of catalog, schema, table, index");
}

Result<Securable> Securable::Parse(SecurableType type, std::string_view full_name) {
  Securable s{type, std::string(full_name)};
  VESTA_RETURN_IF_ERROR(s.Validate());
  return s;
}

Result<Securable> Securable::Parse(std::string_view type, std::string_view full_name) {
  VESTA_ASSIGN_OR_RETURN(SecurableType t, ParseSecurableType(type));
  return Parse(t, full_name);
}

Securable Securable::Table(const TableName& name) { return {SecurableType::kTable, name.ToString()}; }
Securable Securable::Index(const TableName& name) { return {SecurableType::kIndex, name.ToString()}; }

Status Securable::Validate() const {
  int depth = Depth(type);
  if (depth == 0) return Status::InvalidArgument("unknown securable type " + std::to_string(static_cast<int>(type)));
  static const char* kShape[] = {"", "catalog", "catalog.schema", nullptr};
  std::vector<std::string> parts = SplitDots(full_name);
  std::string type_name(SecurableTypeName(type));
  if (static_cast<int>(parts.size()) != depth) {
    std::string shape = depth == 3 ? "catalog.schema." + type_name : kShape[depth];
    return Status::InvalidArgument(type_name + " name '" + full_name + "' must have " + std::to_string(depth) +
                                   (depth == 1 ? " part" : " parts") + ": " + shape);
  }
  for (int i = 0; i < depth; ++i) {
    const std::string& part = parts[static_cast<size_t>(i)];
    if (!IsValidIdentifier(part)) {
      std::string field = i == 0 ? "catalog" : i == 1 ? "schema" : type_name;
      return Status::InvalidArgument(field + " name '" + part + "' in '" + full_name +
                                     "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 128 bytes)");
    }
  }
  return Status::OK();
}

std::optional<Securable> Securable::Parent() const {
  switch (type) {
    case SecurableType::kCatalog: return std::nullopt;
    case SecurableType::kSchema: return Securable{SecurableType::kCatalog, CatalogName()};
    case SecurableType::kTable:
    case SecurableType::kIndex: return Securable{SecurableType::kSchema, SchemaName()};
  }
  return std::nullopt;
}

std::vector<Securable> Securable::SelfAndAncestors() const {
  std::vector<Securable> out{*this};
  while (auto p = out.back().Parent()) out.push_back(*p);
  return out;
}

std::string Securable::CatalogName() const { return full_name.substr(0, full_name.find('.')); }

std::string Securable::SchemaName() const {
  if (type == SecurableType::kCatalog) return "";
  size_t first = full_name.find('.');
  if (first == std::string::npos) return "";
  return full_name.substr(0, full_name.find('.', first + 1));
}

std::string Securable::Key() const {
  return AsciiLower(full_name);
}

std::string Securable::ToString() const { return std::string(SecurableTypeName(type)) + " " + full_name; }

bool Securable::operator==(const Securable& o) const {
  return type == o.type && EqualsIgnoreCase(full_name, o.full_name);
}

bool Securable::operator<(const Securable& o) const {
  if (type != o.type) return type < o.type;
  return Key() < o.Key();
}

// --- Privilege -------------------------------------------------------------------

std::string_view PrivilegeName(Privilege p) {
  switch (p) {
    case Privilege::kUseCatalog: return "USE CATALOG";
    case Privilege::kUseSchema: return "USE SCHEMA";
    case Privilege::kSelect: return "SELECT";
    case Privilege::kModify: return "MODIFY";
    case Privilege::kCreateTable: return "CREATE TABLE";
    case Privilege::kCreateIndex: return "CREATE INDEX";
    case Privilege::kManage: return "MANAGE";
    case Privilege::kAllPrivileges: return "ALL PRIVILEGES";
  }
  return "UNKNOWN";
}

std::string_view PrivilegeApiName(Privilege p) {
  switch (p) {
    case Privilege::kUseCatalog: return "USE_CATALOG";
    case Privilege::kUseSchema: return "USE_SCHEMA";
    case Privilege::kSelect: return "SELECT";
    case Privilege::kModify: return "MODIFY";
    case Privilege::kCreateTable: return "CREATE_TABLE";
    case Privilege::kCreateIndex: return "CREATE_INDEX";
    case Privilege::kManage: return "MANAGE";
    case Privilege::kAllPrivileges: return "ALL_PRIVILEGES";
  }
  return "UNKNOWN";
}

const std::vector<Privilege>& AllPrivilegeValues() {
  static const std::vector<Privilege> kAll = {Privilege::kUseCatalog,  Privilege::kUseSchema,
                                              Privilege::kSelect,      Privilege::kModify,
                                              Privilege::kCreateTable, Privilege::kCreateIndex,
                                              Privilege::kManage,      Privilege::kAllPrivileges};
  return kAll;
}

Result<Privilege> ParsePrivilege(std::string_view text) {
  std::string n = NormalizeWords(text);
  for (Privilege p : AllPrivilegeValues()) {
    if (n == PrivilegeName(p)) return p;
  }
  return Status::InvalidArgument("privilege '" + std::string(text) +
                                 "' is not one of USE CATALOG, USE SCHEMA, SELECT, MODIFY, CREATE TABLE, "
                                 "CREATE INDEX, MANAGE, ALL PRIVILEGES");
}

bool PrivilegeAppliesTo(Privilege p, SecurableType type) {
  const bool container = type == SecurableType::kCatalog || type == SecurableType::kSchema;
  switch (p) {
    case Privilege::kUseCatalog: return type == SecurableType::kCatalog;
    case Privilege::kUseSchema:
    case Privilege::kCreateTable:
    case Privilege::kCreateIndex: return container;
    case Privilege::kSelect:
    case Privilege::kModify:
    case Privilege::kManage:
    case Privilege::kAllPrivileges: return true;
  }
  return false;
}

bool PrivilegeCovers(Privilege held, Privilege wanted) {
  return held == wanted || (held == Privilege::kAllPrivileges && wanted != Privilege::kManage);
}

// --- Privileges: storage -----------------------------------------------------------

// The grants and owners of a securable and its ancestors, nearest first.
struct Privileges::Chain {
  struct Level {
    Securable securable;
    std::optional<std::string> owner;
    std::vector<std::pair<std::string, Privilege>> grants;  // (principal, privilege)
  };
  std::vector<Level> levels;

  // The suffix of `levels` starting at `s`, or -1 if s is not in the chain.
  int Find(const Securable& s) const {
    for (size_t i = 0; i < levels.size(); ++i) {
      if (levels[i].securable == s) return static_cast<int>(i);
    }
    return -1;
  }

  // Whether the holder has `p` on levels[from] through inheritance.
  bool Has(size_t from, const std::string& user, const std::set<std::string>& groups, bool admin,
           Privilege p) const {
    if (admin) return true;
    for (size_t j = from; j < levels.size(); ++j) {
      const Level& l = levels[j];
      if (l.owner && IsHolder(*l.owner, user, groups)) return true;
      for (const auto& [principal, held] : l.grants) {
        if (PrivilegeCovers(held, p) && IsHolder(principal, user, groups)) return true;
      }
    }
    return false;
  }
};

Result<std::unique_ptr<Privileges>> Privileges::Open(const std::string& store_path, const StoreOptions& options) {
  VESTA_RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<Privileges> p(new Privileges());
  VESTA_ASSIGN_OR_RETURN(p->db_, internal::OpenStoreConnection(store_path, kDdl, "privileges", options.busy_timeout_ms,
                                                               options.durability == StoreOptions::Durability::kFull));
  return p;
}

Privileges::~Privileges() = default;

namespace {

// A history timestamp that never goes backwards.
Result<Timestamp> HistoryTimestamp(Db& db) {
  Timestamp now = NowTimestamp();
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("SELECT ts_us FROM gov_grant_history ORDER BY seq DESC LIMIT 1"));
  VESTA_ASSIGN_OR_RETURN(bool row, s->Step());
  if (row) now.micros = std::max(now.micros, s->Int(0));
  s->Reset();
  return now;
}

Status AppendHistory(Db& db, Timestamp ts, const std::string& actor, std::string_view action,
                     SecurableType type, const std::string& key, const std::string& name,
                     const std::string& principal, const std::vector<Privilege>& privileges) {
  VESTA_ASSIGN_OR_RETURN(Stmt * s, db.Cached("INSERT INTO gov_grant_history(ts_us, actor, action, securable_type, "
                                             "securable, name, principal, privileges) "
                                             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  s->BindInt(1, ts.micros)
      .BindText(2, actor)
      .BindText(3, action)
      .BindText(4, SecurableTypeName(type))
      .BindText(5, key)
      .BindText(6, name)
      .BindText(7, principal)
      .BindText(8, PrivilegesJson(privileges));
  Status st = s->Run();
  s->Reset();
  return st;
}

// Inserts the grants not yet present; records a GRANT of those in the history.
Status AddGrants(Db& db, Timestamp ts, const Securable& s, const std::string& principal,
                 const std::set<Privilege>& privileges, const std::string& by) {
  std::vector<Privilege> added;
  for (Privilege p : privileges) {
    VESTA_ASSIGN_OR_RETURN(Stmt * ins, db.Cached("INSERT OR IGNORE INTO gov_grants(securable_type, securable, name, "
                                                 "principal, privilege, granted_by, granted_us) "
                                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    ins->BindText(1, SecurableTypeName(s.type))
        .BindText(2, s.Key())
        .BindText(3, s.full_name)
        .BindText(4, principal)
        .BindText(5, PrivilegeApiName(p))
        .BindText(6, by)
        .BindInt(7, ts.micros);
    Status st = ins->Run();
    ins->Reset();
    VESTA_RETURN_IF_ERROR(st);
    if (db.changes() > 0) added.push_back(p);
  }
  if (added.empty()) return Status::OK();
  return AppendHistory(db, ts, by, "GRANT", s.type, s.Key(), s.full_name, principal, added);
}

// Deletes the grants present; records a REVOKE of those in the history.
Status RemoveGrants(Db& db, Timestamp ts, const Securable& s, const std::string& principal,
                    const std::set<Privilege>& privileges, const std::string& by) {
  std::vector<Privilege> removed;
  for (Privilege p : privileges) {
    VESTA_ASSIGN_OR_RETURN(Stmt * del, db.Cached("DELETE FROM gov_grants WHERE securable_type = ?1 AND "
                                                 "securable = ?2 AND principal = ?3 AND privilege = ?4"));
    del->BindText(1, SecurableTypeName(s.type)).BindText(2, s.Key()).BindText(3, principal).BindText(4,
                                                                                                  PrivilegeApiName(p));
    Status st = del->Run();
    del->Reset();
    VESTA_RETURN_IF_ERROR(st);
    if (db.changes() > 0) removed.push_back(p);
  }
  if (removed.empty()) return Status::OK();
  return AppendHistory(db, ts, by, "REVOKE", s.type, s.Key(), s.full_name, principal, removed);
}

}  // namespace

Result<Privileges::Chain> Privileges::LoadChain(const Securable& s) {
  Db& db = *db_;
  Chain chain;
  for (Securable& level : s.SelfAndAncestors()) {
    Chain::Level l;
    l.securable = std::move(level);
    std::string type(SecurableTypeName(l.securable.type));
    std::string key = l.securable.Key();
    VESTA_ASSIGN_OR_RETURN(Stmt * o, db.Cached("SELECT owner FROM gov_owners WHERE securable_type = ?1 AND "
                                               "securable = ?2"));
    o->BindText(1, type).BindText(2, key);
    auto row = o->Step();
    if (!row.ok()) {
      o->Reset();
      return row.status();
    }
    if (*row) l.owner = o->Text(0);
    o->Reset();
    VESTA_ASSIGN_OR_RETURN(Stmt * g, db.Cached("SELECT principal, privilege FROM gov_grants WHERE "
                                               "securable_type = ?1 AND securable = ?2"));
    g->BindText(1, type).BindText(2, key);
    while (true) {
      auto more = g->Step();
      if (!more.ok()) {
        g->Reset();
        return more.status();
      }
      if (!*more) break;
      auto p = ParsePrivilege(g->Text(1));
      if (!p.ok()) {
        g->Reset();
        return Status::Internal("corrupt grant on " + l.securable.ToString() + ": " + p.status().message());
      }
      l.grants.emplace_back(g->Text(0), *p);
    }
    g->Reset();
    chain.levels.push_back(std::move(l));
  }
  return chain;
}

// --- Privileges: mutators ------------------------------------------------------------

Status Privileges::Grant(const Securable& s, const std::string& principal, const std::vector<Privilege>& privileges,
                         const std::string& granted_by) {
  if (privileges.empty()) return Status::InvalidArgument("the list of privileges to grant must not be empty");
  return Apply(s, {PermissionsChange{principal, privileges, {}}}, granted_by, /*indexed=*/false);
}

Status Privileges::Revoke(const Securable& s, const std::string& principal, const std::vector<Privilege>& privileges,
                          const std::string& revoked_by) {
  if (privileges.empty()) return Status::InvalidArgument("the list of privileges to revoke must not be empty");
  return Apply(s, {PermissionsChange{principal, {}, privileges}}, revoked_by, /*indexed=*/false);
}

Status Privileges::UpdatePermissions(const Securable& s, const std::vector<PermissionsChange>& changes,
                                     const std::string& by) {
  return Apply(s, changes, by, /*indexed=*/true);
}

Status Privileges::Apply(const Securable& s, const std::vector<PermissionsChange>& changes, const std::string& by,
                         bool indexed) {
  VESTA_RETURN_IF_ERROR(s.Validate());
  VESTA_RETURN_IF_ERROR(ValidatePrincipal(by, "acting principal"));
  // Everything is validated before anything is written.
  for (size_t i = 0; i < changes.size(); ++i) {
    const PermissionsChange& c = changes[i];
    Status st = ValidatePrincipal(c.principal, "principal");
    if (st.ok()) st = ValidatePrivileges(s, c.add, "granted");
    if (st.ok()) st = ValidatePrivileges(s, c.remove, "revoked");
    if (st.ok()) {
      std::set<Privilege> removed = RevokeSet(c.remove);
      for (Privilege p : c.add) {
        if (removed.count(p)) {
          st = Status::InvalidArgument("privilege " + std::string(PrivilegeName(p)) +
                                       " is both added and removed for " + c.principal);
          break;
        }
      }
    }
    if (!st.ok()) {
      return indexed ? Status::InvalidArgument("changes[" + std::to_string(i) + "]: " + st.message()) : st;
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  Db& db = *db_;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Timestamp ts, HistoryTimestamp(db));
  for (const PermissionsChange& c : changes) {
    VESTA_RETURN_IF_ERROR(AddGrants(db, ts, s, c.principal, Unique(c.add), by));
    VESTA_RETURN_IF_ERROR(RemoveGrants(db, ts, s, c.principal, RevokeSet(c.remove), by));
  }
  return txn.Commit();
}

Status Privileges::SetOwner(const Securable& s, const std::string& owner, const std::string& by) {
  VESTA_RETURN_IF_ERROR(s.Validate());
  VESTA_RETURN_IF_ERROR(ValidatePrincipal(owner, "owner"));
  VESTA_RETURN_IF_ERROR(ValidatePrincipal(by, "acting principal"));
  std::lock_guard<std::mutex> l(mu_);
  Db& db = *db_;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Timestamp ts, HistoryTimestamp(db));
  std::string type(SecurableTypeName(s.type));
  VESTA_ASSIGN_OR_RETURN(Stmt cur, db.Prepare("SELECT owner FROM gov_owners WHERE securable_type = ?1 AND "
                                              "securable = ?2"));
  cur.BindText(1, type).BindText(2, s.Key());
  VESTA_ASSIGN_OR_RETURN(bool has_owner, cur.Step());
  if (has_owner && cur.Text(0) == owner) return Status::OK();  // unchanged: nothing to record
  VESTA_ASSIGN_OR_RETURN(Stmt up, db.Prepare("INSERT INTO gov_owners(securable_type, securable, name, owner, "
                                             "set_by, set_us) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
                                             "ON CONFLICT(securable_type, securable) DO UPDATE SET "
                                             "owner = excluded.owner, set_by = excluded.set_by, "
                                             "set_us = excluded.set_us"));
  up.BindText(1, type).BindText(2, s.Key()).BindText(3, s.full_name).BindText(4, owner).BindText(5, by).BindInt(
      6, ts.micros);
  VESTA_RETURN_IF_ERROR(up.Run());
  VESTA_RETURN_IF_ERROR(AppendHistory(db, ts, by, "SET OWNER", s.type, s.Key(), s.full_name, owner, {}));
  cur = Stmt();
  up = Stmt();
  return txn.Commit();
}

Result<std::string> Privileges::Owner(const Securable& s) {
  VESTA_RETURN_IF_ERROR(s.Validate());
  std::lock_guard<std::mutex> l(mu_);
  VESTA_ASSIGN_OR_RETURN(Stmt * o, db_->Cached("SELECT owner FROM gov_owners WHERE securable_type = ?1 AND "
                                               "securable = ?2"));
  o->BindText(1, SecurableTypeName(s.type)).BindText(2, s.Key());
  auto row = o->Step();
  std::string owner = row.ok() && *row ? o->Text(0) : "";
  o->Reset();
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("no owner recorded for " + s.ToString());
  return owner;
}

Status Privileges::DropSecurable(const Securable& s, const std::string& by) {
  VESTA_RETURN_IF_ERROR(s.Validate());
  VESTA_RETURN_IF_ERROR(ValidatePrincipal(by, "acting principal"));
  const bool container = s.type == SecurableType::kCatalog || s.type == SecurableType::kSchema;
  const std::string key = s.Key();
  const std::string prefix = key + ".";
  // Rows on `s` itself, or (for a container) on anything whose name starts
  // with "<key>." (substr rather than LIKE: '_' is a LIKE wildcard).
  const std::string match =
      " WHERE (securable_type = ?1 AND securable = ?2) OR (?3 AND substr(securable, 1, ?4) = ?5)";
  auto bind = [&](Stmt& st) {
    st.BindText(1, SecurableTypeName(s.type))
        .BindText(2, key)
        .BindInt(3, container ? 1 : 0)
        .BindInt(4, static_cast<int64_t>(prefix.size()))
        .BindText(5, prefix);
  };
  std::lock_guard<std::mutex> l(mu_);
  Db& db = *db_;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Timestamp ts, HistoryTimestamp(db));

  struct Dropped {
    std::string name;
    std::vector<Privilege> privileges;
  };
  // (type, key, principal) -> what goes.
  std::map<std::tuple<std::string, std::string, std::string>, Dropped> grants;
  {
    VESTA_ASSIGN_OR_RETURN(Stmt q, db.Prepare("SELECT securable_type, securable, name, principal, privilege "
                                              "FROM gov_grants" +
                                              match));
    bind(q);
    while (true) {
      VESTA_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      auto p = ParsePrivilege(q.Text(4));
      if (!p.ok()) return Status::Internal("corrupt grant: " + p.status().message());
      Dropped& d = grants[{q.Text(0), q.Text(1), q.Text(3)}];
      if (d.name.empty()) d.name = q.Text(2);
      d.privileges.push_back(*p);
    }
  }
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> owners;  // type, key, name, owner
  {
    VESTA_ASSIGN_OR_RETURN(Stmt q, db.Prepare("SELECT securable_type, securable, name, owner FROM gov_owners" +
                                              match + " ORDER BY securable_type, securable"));
    bind(q);
    while (true) {
      VESTA_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      owners.emplace_back(q.Text(0), q.Text(1), q.Text(2), q.Text(3));
    }
  }
  for (const char* table : {"gov_grants", "gov_owners"}) {
    VESTA_ASSIGN_OR_RETURN(Stmt del, db.Prepare(std::string("DELETE FROM ") + table + match));
    bind(del);
    VESTA_RETURN_IF_ERROR(del.Run());
  }
  for (auto& [k, d] : grants) {
    const auto& [type, skey, principal] = k;
    VESTA_ASSIGN_OR_RETURN(SecurableType t, ParseSecurableType(type));
    std::sort(d.privileges.begin(), d.privileges.end());
    VESTA_RETURN_IF_ERROR(AppendHistory(db, ts, by, "DROP", t, skey, d.name, principal, d.privileges));
  }
  for (const auto& [type, skey, name, owner] : owners) {
    VESTA_ASSIGN_OR_RETURN(SecurableType t, ParseSecurableType(type));
    VESTA_RETURN_IF_ERROR(AppendHistory(db, ts, by, "DROP OWNER", t, skey, name, owner, {}));
  }
  return txn.Commit();
}

Status Privileges::DropPrincipal(const std::string& principal, const std::string& by) {
  VESTA_RETURN_IF_ERROR(ValidatePrincipal(principal, "principal"));
  VESTA_RETURN_IF_ERROR(ValidatePrincipal(by, "acting principal"));
  std::lock_guard<std::mutex> l(mu_);
  Db& db = *db_;
  TxnScope txn(&db, true);
  VESTA_RETURN_IF_ERROR(txn.Begin());
  VESTA_ASSIGN_OR_RETURN(Timestamp ts, HistoryTimestamp(db));
  // (type, key, name, principal as stored) -> privileges
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::vector<Privilege>> grants;
  {
    VESTA_ASSIGN_OR_RETURN(Stmt q, db.Prepare("SELECT securable_type, securable, name, principal, privilege FROM "
                                              "gov_grants WHERE principal = ?1 COLLATE NOCASE"));
    q.BindText(1, principal);
    while (true) {
      VESTA_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      auto p = ParsePrivilege(q.Text(4));
      if (!p.ok()) return Status::Internal("corrupt grant: " + p.status().message());
      grants[{q.Text(0), q.Text(1), q.Text(2), q.Text(3)}].push_back(*p);
    }
  }
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> owners;
  {
    VESTA_ASSIGN_OR_RETURN(Stmt q, db.Prepare("SELECT securable_type, securable, name, owner FROM gov_owners "
                                              "WHERE owner = ?1 COLLATE NOCASE"));
    q.BindText(1, principal);
    while (true) {
      VESTA_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      owners.emplace_back(q.Text(0), q.Text(1), q.Text(2), q.Text(3));
    }
  }
  for (const char* sql : {"DELETE FROM gov_grants WHERE principal = ?1 COLLATE NOCASE",
                          "DELETE FROM gov_owners WHERE owner = ?1 COLLATE NOCASE"}) {
    VESTA_ASSIGN_OR_RETURN(Stmt del, db.Prepare(sql));
    del.BindText(1, principal);
    VESTA_RETURN_IF_ERROR(del.Run());
  }
  for (auto& [k, privileges] : grants) {
    const auto& [type, skey, name, stored] = k;
    VESTA_ASSIGN_OR_RETURN(SecurableType t, ParseSecurableType(type));
    std::sort(privileges.begin(), privileges.end());
    VESTA_RETURN_IF_ERROR(AppendHistory(db, ts, by, "DROP", t, skey, name, stored, privileges));
  }
  for (const auto& [type, skey, name, owner] : owners) {
    VESTA_ASSIGN_OR_RETURN(SecurableType t, ParseSecurableType(type));
    VESTA_RETURN_IF_ERROR(AppendHistory(db, ts, by, "DROP OWNER", t, skey, name, owner, {}));
  }
  return txn.Commit();
}

// --- Privileges: reading ---------------------------------------------------------------

Result<std::vector<PrivilegeAssignment>> Privileges::ListGrants(const Securable& s) {
  VESTA_RETURN_IF_ERROR(s.Validate());
  std::lock_guard<std::mutex> l(mu_);
  VESTA_ASSIGN_OR_RETURN(Chain chain, LoadChain(s));
  std::map<std::string, std::set<Privilege>> by_principal;
  for (const auto& [principal, p] : chain.levels[0].grants) by_principal[principal].insert(p);
  std::vector<PrivilegeAssignment> out;
  for (auto& [principal, privs] : by_principal) {
    out.push_back({principal, std::vector<Privilege>(privs.begin(), privs.end())});
  }
  return out;
}

Result<std::vector<GrantHistoryEntry>> Privileges::History(const Securable& s, int64_t limit) {
  VESTA_RETURN_IF_ERROR(s.Validate());
  if (limit < -1) return Status::InvalidArgument("limit must be >= -1 (-1: all), got " + std::to_string(limit));
  std::lock_guard<std::mutex> l(mu_);
  VESTA_ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT seq, ts_us, actor, action, name, principal, privileges "
                                              "FROM gov_grant_history WHERE securable_type = ?1 AND "
                                              "securable = ?2 ORDER BY seq DESC LIMIT ?3"));
  q.BindText(1, SecurableTypeName(s.type)).BindText(2, s.Key()).BindInt(3, limit);
  std::vector<GrantHistoryEntry> out;
  while (true) {
    VESTA_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    GrantHistoryEntry e;
    e.seq = q.Int(0);
    e.time = Timestamp{q.Int(1)};
    e.actor = q.Text(2);
    e.action = q.Text(3);
    e.securable = Securable{s.type, q.Text(4)};
    e.principal = q.Text(5);
    VESTA_ASSIGN_OR_RETURN(e.privileges, ParsePrivilegesJson(q.Text(6)));
    out.push_back(std::move(e));
  }
  return out;
}

// --- Privileges: authorization ------------------------------------------------------------

bool Privileges::Has(const std::string& user, const std::set<std::string>& groups, const Securable& s, Privilege p,
                     bool metastore_admin) {
  if (!s.Validate().ok()) return false;
  if (metastore_admin) return true;
  std::lock_guard<std::mutex> l(mu_);
  auto chain = LoadChain(s);
  if (!chain.ok()) return false;
  return chain->Has(0, user, groups, false, p);
}

Status Privileges::CheckAll(const std::string& user, const std::set<std::string>& groups, bool metastore_admin,
                            const std::vector<std::pair<Securable, Privilege>>& needs) {
  for (const auto& [s, p] : needs) VESTA_RETURN_IF_ERROR(s.Validate());
  if (metastore_admin) return Status::OK();
  std::lock_guard<std::mutex> l(mu_);
  std::vector<Chain> chains;  // loaded so far; a need on an ancestor reuses a chain
  for (const auto& [s, p] : needs) {
    const Chain* chain = nullptr;
    int at = -1;
    for (const Chain& c : chains) {
      at = c.Find(s);
      if (at >= 0) {
        chain = &c;
        break;
      }
    }
    if (!chain) {
      VESTA_ASSIGN_OR_RETURN(Chain c, LoadChain(s));
      chains.push_back(std::move(c));
      chain = &chains.back();
      at = 0;
    }
    if (!chain->Has(static_cast<size_t>(at), user, groups, false, p)) {
      return Status::PermissionDenied(user + " lacks " + std::string(PrivilegeName(p)) + " on " + s.ToString());
    }
  }
  return Status::OK();
}

namespace {

Status RequireType(const Securable& s, std::string_view param, std::initializer_list<SecurableType> types) {
  for (SecurableType t : types) {
    if (s.type == t) return Status::OK();
  }
  std::string expected;
  for (SecurableType t : types) {
    if (!expected.empty()) expected += " or ";
    expected += SecurableTypeName(t);
  }
  return Status::InvalidArgument(std::string(param) + " must be a " + expected + ", got " + s.ToString());
}

// USE CATALOG on the catalog and USE SCHEMA on the schema above `s` (for a
// schema: its catalog only), then `p` on `s` itself.
std::vector<std::pair<Securable, Privilege>> UsageThen(const Securable& s, std::optional<Privilege> p) {
  std::vector<std::pair<Securable, Privilege>> needs;
  if (s.type != SecurableType::kCatalog) {
    needs.emplace_back(Securable{SecurableType::kCatalog, s.CatalogName()}, Privilege::kUseCatalog);
  }
  if (s.type == SecurableType::kTable || s.type == SecurableType::kIndex) {
    needs.emplace_back(Securable{SecurableType::kSchema, s.SchemaName()}, Privilege::kUseSchema);
  }
  if (p) needs.emplace_back(s, *p);
  return needs;
}

}  // namespace

Status Privileges::CheckRead(const std::string& user, const std::set<std::string>& groups,
                             const Securable& table_or_index, bool metastore_admin) {
  VESTA_RETURN_IF_ERROR(table_or_index.Validate());
  VESTA_RETURN_IF_ERROR(RequireType(table_or_index, "securable to read", {SecurableType::kTable, SecurableType::kIndex}));
  return CheckAll(user, groups, metastore_admin, UsageThen(table_or_index, Privilege::kSelect));
}

Status Privileges::CheckWrite(const std::string& user, const std::set<std::string>& groups,
                              const Securable& table_or_index, bool metastore_admin) {
  VESTA_RETURN_IF_ERROR(table_or_index.Validate());
  VESTA_RETURN_IF_ERROR(
      RequireType(table_or_index, "securable to write", {SecurableType::kTable, SecurableType::kIndex}));
  return CheckAll(user, groups, metastore_admin, UsageThen(table_or_index, Privilege::kModify));
}

Status Privileges::CheckCreateIndex(const std::string& user, const std::set<std::string>& groups,
                                    const Securable& table, const Securable& index_schema, bool metastore_admin) {
  VESTA_RETURN_IF_ERROR(table.Validate());
  VESTA_RETURN_IF_ERROR(index_schema.Validate());
  VESTA_RETURN_IF_ERROR(RequireType(table, "source table", {SecurableType::kTable}));
  VESTA_RETURN_IF_ERROR(RequireType(index_schema, "index schema", {SecurableType::kSchema}));
  auto needs = UsageThen(table, Privilege::kSelect);
  auto more = UsageThen(index_schema, Privilege::kUseSchema);
  more.emplace_back(index_schema, Privilege::kCreateIndex);
  for (auto& n : more) {
    // Skip what the table's checks already covered (same catalog / schema).
    bool dup = std::any_of(needs.begin(), needs.end(), [&](const auto& e) { return e == n; });
    if (!dup) needs.push_back(std::move(n));
  }
  return CheckAll(user, groups, metastore_admin, needs);
}

Status Privileges::CheckCreateTable(const std::string& user, const std::set<std::string>& groups,
                                    const Securable& schema, bool metastore_admin) {
  VESTA_RETURN_IF_ERROR(schema.Validate());
  VESTA_RETURN_IF_ERROR(RequireType(schema, "schema", {SecurableType::kSchema}));
  auto needs = UsageThen(schema, Privilege::kUseSchema);
  needs.emplace_back(schema, Privilege::kCreateTable);
  return CheckAll(user, groups, metastore_admin, needs);
}

Status Privileges::CheckManage(const std::string& user, const std::set<std::string>& groups, const Securable& s,
                               bool metastore_admin) {
  VESTA_RETURN_IF_ERROR(s.Validate());
  return CheckAll(user, groups, metastore_admin, UsageThen(s, Privilege::kManage));
}

Result<std::vector<EffectivePrivilege>> Privileges::EffectivePermissions(const std::string& user,
                                                                         const std::set<std::string>& groups,
                                                                         const Securable& s, bool metastore_admin) {
  VESTA_RETURN_IF_ERROR(s.Validate());
  Chain chain;
  {
    std::lock_guard<std::mutex> l(mu_);
    VESTA_ASSIGN_OR_RETURN(chain, LoadChain(s));
  }
  // (level, entry): level 0 is s itself.
  std::vector<std::pair<size_t, EffectivePrivilege>> found;
  for (Privilege p : AllPrivilegeValues()) {
    if (p == Privilege::kAllPrivileges || !PrivilegeAppliesTo(p, s.type)) continue;
    if (metastore_admin) found.push_back({0, {p, user, s, "metastore_admin", false, p}});
    for (size_t j = 0; j < chain.levels.size(); ++j) {
      const Chain::Level& l = chain.levels[j];
      if (l.owner && IsHolder(*l.owner, user, groups)) {
        found.push_back({j, {p, *l.owner, l.securable, "owner", j > 0, p}});
      }
      for (const auto& [principal, held] : l.grants) {
        if (PrivilegeCovers(held, p) && IsHolder(principal, user, groups)) {
          found.push_back({j, {p, principal, l.securable, "grant", j > 0, held}});
        }
      }
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second.privilege, a.first, a.second.kind, a.second.via_principal, a.second.granted) <
           std::tie(b.second.privilege, b.first, b.second.kind, b.second.via_principal, b.second.granted);
  });
  std::vector<EffectivePrivilege> out;
  out.reserve(found.size());
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

}  // namespace vesta::governance
