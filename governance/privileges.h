// Securables, privileges, ownership, GRANT / REVOKE with inheritance, and
// effective permissions (Unity Catalog's model, privilege model 1.0).
//
//   auto privs = Privileges::Open(store->path()).value();
//   auto table = Securable::Parse(SecurableType::kTable, "main.clinical.patients").value();
//   auto main = Securable::Parse(SecurableType::kCatalog, "main").value();
//   privs->Grant(main, "researchers", {Privilege::kUseCatalog, Privilege::kUseSchema}, "admin");
//   privs->Grant(table, "alice", {Privilege::kSelect}, "admin");
//   privs->CheckRead("alice", {"researchers"}, table);   // OK
//   privs->CheckRead("bob", {}, table);   // PERMISSION_DENIED "bob lacks USE CATALOG on catalog main"
//
// Securables form a tree by name: catalog "main" > schema "main.clinical" >
// table "main.clinical.patients" and index "main.clinical.patients_index"
// (tables and indexes are siblings under their schema: a grant on a table
// does not reach an index built on it). Names compare ignoring ASCII case.
// Nothing here checks that a securable exists: inheritance is by name, so a
// grant on a schema covers tables created after it, and callers drop the
// grants of a dropped object with DropSecurable().
//
// Who holds a privilege. A user holds privilege p on securable s if
//   - the user or one of `groups` (the caller passes the transitive closure
//     of the user's groups; this class knows no group membership) has a
//     grant of p, or of ALL PRIVILEGES, on s or on any ancestor of s
//     (grants inherit downward to current and future children); ALL
//     PRIVILEGES covers every privilege except MANAGE, as in Unity Catalog;
//   - or the user or one of `groups` owns s or an ancestor of s (owners have
//     every privilege, MANAGE included, on the object and everything below);
//   - or the caller says the user is a metastore admin (`metastore_admin`:
//     the principals layer decides who is one; default false, so forgetting
//     it fails closed). A metastore admin has every privilege everywhere.
// Principal names compare exactly (case-sensitive): the principals layer is
// expected to pass canonical names.
//
// The mutators (Grant, Revoke, SetOwner, UpdatePermissions, DropSecurable)
// do not authorize their caller: the service checks CheckManage() first and
// passes the acting principal as `by` / `granted_by` for the history.
//
// Storage: tables gov_grants, gov_owners and gov_grant_history in the Store's
// SQLite file, through this object's own connection. Every change that
// alters the grants or an owner appends to gov_grant_history in the same
// SQLite transaction, so the current state is the replay of the history
// (a GRANT/REVOKE/SET OWNER that changes nothing records nothing).
//
// Thread-safety: Privileges is thread-safe (one connection behind a mutex).
// Several processes may open the same store; SQLite serialises the writes
// and every check reads the committed state.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "governance/store.h"

namespace vesta::governance {

namespace internal {
class Db;
}  // namespace internal

// --- Securables ----------------------------------------------------------------

enum class SecurableType { kCatalog, kSchema, kTable, kIndex };

// "catalog", "schema", "table", "index" (Unity Catalog's securable_type).
std::string_view SecurableTypeName(SecurableType type);
// Parses a securable type ignoring case: "catalog", "SCHEMA", "Table", "index".
// Errors: InvalidArgument naming the text and the accepted spellings.
Result<SecurableType> ParseSecurableType(std::string_view text);

struct Securable {
  SecurableType type = SecurableType::kCatalog;
  std::string full_name;  // "main", "main.clinical", "main.clinical.patients"

  // Validates `full_name` for `type`: one identifier for a catalog, two
  // (catalog.schema) for a schema, three (catalog.schema.name) for a table
  // or an index; each part [A-Za-z_][A-Za-z0-9_]*, at most 128 bytes. The
  // name keeps the caller's case.
  // Errors: InvalidArgument naming the part ("schema name 'a-b' in 'main.a-b'
  // is not an identifier ...") or the expected number of parts.
  static Result<Securable> Parse(SecurableType type, std::string_view full_name);
  // As above with the type given as text (ParseSecurableType).
  static Result<Securable> Parse(std::string_view type, std::string_view full_name);
  // The securable of a table / an index named by a (valid) TableName.
  static Securable Table(const TableName& name);
  static Securable Index(const TableName& name);

  // Checks a securable built field by field (what Parse checks).
  Status Validate() const;

  // The containing securable: table/index -> schema -> catalog; nullopt for
  // a catalog. REQUIRES: Validate() is OK.
  std::optional<Securable> Parent() const;
  // This securable followed by its ancestors: {table, schema, catalog}.
  std::vector<Securable> SelfAndAncestors() const;
  // The catalog / schema part of the name ("main", "main.clinical"); the
  // schema of a catalog is empty.
  std::string CatalogName() const;
  std::string SchemaName() const;
  // The lower-cased full name: the identity used for comparison and storage.
  std::string Key() const;
  // "table main.clinical.patients".
  std::string ToString() const;

  // Same type and same name ignoring case.
  bool operator==(const Securable& o) const;
  // By type, then by Key().
  bool operator<(const Securable& o) const;
};

// --- Privileges ----------------------------------------------------------------

enum class Privilege {
  kUseCatalog,
  kUseSchema,
  kSelect,
  kModify,
  kCreateTable,
  kCreateIndex,
  kManage,
  kAllPrivileges,
};

// Unity Catalog's SQL spelling: "USE CATALOG", "USE SCHEMA", "SELECT",
// "MODIFY", "CREATE TABLE", "CREATE INDEX", "MANAGE", "ALL PRIVILEGES".
std::string_view PrivilegeName(Privilege p);
// Unity Catalog's REST spelling (privilege_assignments): "USE_CATALOG",
// "USE_SCHEMA", "SELECT", ..., "ALL_PRIVILEGES".
std::string_view PrivilegeApiName(Privilege p);
// Parses either spelling ignoring case and runs of spaces / underscores:
// "use catalog", "USE_CATALOG", "All Privileges".
// Errors: InvalidArgument naming the text and the accepted spellings.
Result<Privilege> ParsePrivilege(std::string_view text);
// Every privilege, in enum order.
const std::vector<Privilege>& AllPrivilegeValues();

// Whether `p` may be granted on a securable of type `type`:
//   USE CATALOG                       catalog
//   USE SCHEMA                        catalog (inherited by its schemas), schema
//   CREATE TABLE, CREATE INDEX        catalog, schema (inherited downward)
//   SELECT, MODIFY                    catalog, schema (inherited), table, index
//   MANAGE, ALL PRIVILEGES            every type
bool PrivilegeAppliesTo(Privilege p, SecurableType type);
// Whether a grant of `held` gives `wanted`: the same privilege, or ALL
// PRIVILEGES for any privilege except MANAGE.
bool PrivilegeCovers(Privilege held, Privilege wanted);

// The direct grants of one principal on one securable (Unity Catalog's
// PrivilegeAssignment: {"principal": ..., "privileges": [...]}).
struct PrivilegeAssignment {
  std::string principal;
  std::vector<Privilege> privileges;  // enum order, no duplicates
};

// One entry of Unity Catalog's PATCH /permissions: privileges to add to and
// remove from one principal.
struct PermissionsChange {
  std::string principal;
  std::vector<Privilege> add;
  std::vector<Privilege> remove;
};

// Where one privilege of a user on a securable comes from.
struct EffectivePrivilege {
  Privilege privilege = Privilege::kSelect;  // never ALL PRIVILEGES: it is expanded
  std::string via_principal;  // the user, or the group holding the grant / ownership
  Securable source;           // the securable the grant or ownership is on (s or an ancestor)
  std::string kind;           // "grant", "owner" or "metastore_admin"
  bool inherited = false;     // source is an ancestor of s
  // kind "grant": the privilege named in the grant (`privilege` itself or
  // ALL PRIVILEGES); otherwise equal to `privilege`.
  Privilege granted = Privilege::kSelect;

  bool operator==(const EffectivePrivilege&) const = default;
};

// One change to the grants or owner of a securable.
struct GrantHistoryEntry {
  int64_t seq = 0;  // increasing in commit order
  Timestamp time;
  std::string actor;   // who made the change (`by` / `granted_by`)
  // "GRANT", "REVOKE", "SET OWNER", "DROP" (DropSecurable removed the
  // principal's grants) or "DROP OWNER".
  std::string action;
  Securable securable;
  std::string principal;              // grantee, or the new / dropped owner
  std::vector<Privilege> privileges;  // those actually added / removed; empty for owners
};

class Privileges {
 public:
  // Opens the privilege tables of the store at `store_path` (created there
  // if missing) on a connection of its own; `options` gives durability and
  // the busy timeout (create_if_missing is ignored: the store must exist).
  // Errors: NotFound if there is no store at `store_path`;
  // FailedPrecondition if the file is not a Vesta store; Unavailable if locked.
  static Result<std::unique_ptr<Privileges>> Open(const std::string& store_path, const StoreOptions& options = {});
  ~Privileges();
  Privileges(const Privileges&) = delete;
  Privileges& operator=(const Privileges&) = delete;

  // --- GRANT / REVOKE / owners -------------------------------------------------
  // Grants `privileges` on `s` to `principal` (a user or a group); granting
  // a privilege already held changes nothing. All or nothing.
  // Errors: InvalidArgument for an invalid securable, an empty principal or
  // privilege list, or a privilege that cannot apply to s's type (naming
  // both: "privilege USE CATALOG cannot be granted on table main.c.t").
  Status Grant(const Securable& s, const std::string& principal, const std::vector<Privilege>& privileges,
               const std::string& granted_by);
  // Revokes direct grants of `privileges` on `s` from `principal`. Revoking
  // a privilege that is not granted is OK and changes nothing (nothing is
  // recorded in the history either). Revoking ALL PRIVILEGES removes the
  // ALL PRIVILEGES grant and every privilege it covers (all but MANAGE);
  // revoking SELECT from a principal holding ALL PRIVILEGES leaves ALL
  // PRIVILEGES (and so SELECT) in place. Grants on ancestors are untouched.
  // Errors: as for Grant.
  Status Revoke(const Securable& s, const std::string& principal, const std::vector<Privilege>& privileges,
                const std::string& revoked_by);
  // Makes `owner` (a user or a group) the owner of `s`, replacing any
  // previous owner. Errors: InvalidArgument (securable, empty owner).
  Status SetOwner(const Securable& s, const std::string& owner, const std::string& by);
  // The owner of `s` itself (not of an ancestor). Returns a status for which
  // IsNotFound() is true if no owner was set; may return another error.
  Result<std::string> Owner(const Securable& s);

  // Applies every change to `s` in one SQLite transaction, in order; within
  // a change `add` is applied before `remove` (semantics of Grant / Revoke).
  // All or nothing: an error in any change (found before anything is
  // written) leaves the grants as they were.
  // Errors: InvalidArgument naming the change ("changes[1]: ..."): empty
  // principal, a privilege that cannot apply to s's type, or a privilege
  // both added and removed in one change.
  Status UpdatePermissions(const Securable& s, const std::vector<PermissionsChange>& changes, const std::string& by);

  // Removes every grant and owner on `s` and on everything below it (a
  // dropped schema takes its tables' and indexes' grants), recording DROP /
  // DROP OWNER history rows. A table's drop does not touch its indexes:
  // drop them separately. Dropping something without grants is OK.
  Status DropSecurable(const Securable& s, const std::string& by);

  // Removes every grant to `principal` and every ownership it holds (names
  // compared ignoring ASCII case, as Principals does), recording DROP / DROP
  // OWNER history rows, so that a principal created later under the same
  // name inherits nothing. Securables left without an owner are managed by
  // MANAGE holders and metastore admins. Call it when a principal is
  // dropped (access/Governed::DropPrincipal does). OK if it holds nothing.
  Status DropPrincipal(const std::string& principal, const std::string& by);

  // --- Reading the grants ------------------------------------------------------
  // The direct grants on `s` (not inherited ones), by principal (sorted);
  // empty if none. Errors: InvalidArgument (securable).
  Result<std::vector<PrivilegeAssignment>> ListGrants(const Securable& s);
  // Changes to the grants and owner of `s` itself, newest first; limit -1
  // for all. Errors: InvalidArgument (securable, limit < -1).
  Result<std::vector<GrantHistoryEntry>> History(const Securable& s, int64_t limit = -1);

  // --- Authorization -------------------------------------------------------------
  // Whether `user` (with `groups`, the transitive closure of its groups, and
  // `metastore_admin`) holds `p` on `s` (see the header comment). `p` is not
  // required to be grantable on s's type: grants on `s` and its ancestors
  // are consulted alike. Fails closed: an invalid securable or a store error
  // gives false (the Check* calls report such errors).
  bool Has(const std::string& user, const std::set<std::string>& groups, const Securable& s, Privilege p,
           bool metastore_admin = false);

  // The composite checks. Each returns OK, or PermissionDenied naming the
  // user, the first missing privilege and the securable it is needed on
  // ("alice lacks SELECT on table main.clinical.patients"), and nothing
  // else; or InvalidArgument for a securable of the wrong type; or a store
  // error (Internal, Unavailable).
  //
  // Read a table or an index: USE CATALOG on its catalog, USE SCHEMA on its
  // schema, SELECT on it (checked in that order).
  Status CheckRead(const std::string& user, const std::set<std::string>& groups, const Securable& table_or_index,
                   bool metastore_admin = false);
  // Write a table or an index: USE CATALOG, USE SCHEMA, MODIFY on it.
  Status CheckWrite(const std::string& user, const std::set<std::string>& groups, const Securable& table_or_index,
                    bool metastore_admin = false);
  // Create an index in `index_schema` on `table`: CheckRead(table) (USE
  // CATALOG, USE SCHEMA, SELECT on the table), then USE CATALOG and USE
  // SCHEMA for `index_schema` and CREATE INDEX on it.
  Status CheckCreateIndex(const std::string& user, const std::set<std::string>& groups, const Securable& table,
                          const Securable& index_schema, bool metastore_admin = false);
  // Create a table in `schema`: USE CATALOG, USE SCHEMA, CREATE TABLE on it.
  Status CheckCreateTable(const std::string& user, const std::set<std::string>& groups, const Securable& schema,
                          bool metastore_admin = false);
  // Grant, revoke or change the owner of `s`: metastore admins; otherwise
  // ownership or MANAGE on `s` or an ancestor, together with (as in Unity
  // Catalog) USE CATALOG on s's catalog and USE SCHEMA on its schema where
  // s is below them. The message names MANAGE when that is what is missing.
  Status CheckManage(const std::string& user, const std::set<std::string>& groups, const Securable& s,
                     bool metastore_admin = false);

  // Every privilege `user` has on `s` that applies to s's type (ALL
  // PRIVILEGES expanded), one entry per source: each direct or group grant
  // on s or an ancestor, each ownership, metastore admin. Sorted by
  // privilege (enum order), then nearest source first, then kind, via
  // principal and granted privilege. Empty if the user has none.
  // Errors: InvalidArgument (securable); store errors.
  Result<std::vector<EffectivePrivilege>> EffectivePermissions(const std::string& user,
                                                               const std::set<std::string>& groups,
                                                               const Securable& s, bool metastore_admin = false);

  struct Chain;  // internal

 private:
  Privileges() = default;
  // Validates every change, then applies them in one transaction. `indexed`:
  // error messages name the change ("changes[1]: ...").
  Status Apply(const Securable& s, const std::vector<PermissionsChange>& changes, const std::string& by,
               bool indexed);
  Result<Chain> LoadChain(const Securable& s);  // REQUIRES: mu_ held
  Status CheckAll(const std::string& user, const std::set<std::string>& groups, bool metastore_admin,
                  const std::vector<std::pair<Securable, Privilege>>& needs);

  std::mutex mu_;  // guards db_
  std::unique_ptr<internal::Db> db_;
};

}  // namespace vesta::governance
