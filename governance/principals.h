// Identity: users, groups (which may contain users and groups, without
// cycles) and the bearer tokens users authenticate with, persisted in the
// store's SQLite file next to the catalog.
//
//   auto principals = Principals::Open(store->path()).value();
//   auto admin = principals->Bootstrap("alice").value();   // prints once: admin.token
//   principals->CreateUser("bob", "alice");
//   principals->CreateGroup("oncology_site_a", "alice");
//   principals->AddMember("oncology_site_a", "bob", "alice");
//   auto token = principals->IssueToken("bob", std::chrono::hours(24), "notebook", "alice").value();
//   auto who = principals->Authenticate(token.token);     // {bob, tok_..., [oncology_site_a]}
//   auto ctx = who->ToEvalContext();                       // for row filters: is_member('oncology_site_a')
//
// Names. Users and groups share one namespace. A name is 1..128 characters
// from letters, digits, '_', '-', '.' and '@' (so e-mail addresses work),
// starting with a letter, digit or '_'. Names compare case-insensitively
// ("Bob" and "bob" are the same principal); the spelling given at creation
// is the one returned.
//
// Tokens. A token is "vst_" followed by 64 lowercase hex characters (32
// random bytes from RAND_bytes). Only its SHA-256 is stored (a salt adds
// nothing for 256-bit random secrets); the plaintext is returned once by
// IssueToken / Bootstrap and never stored, logged or echoed in an error.
//
// History. Every change (create/drop principal, add/remove member, issue /
// revoke token, bootstrap) appends a row to gov_principal_history in the
// same SQLite transaction as the change: time, actor, action, principal and
// a JSON object of details (never a token or its hash).
//
// Storage (tables created on Open if missing):
//   gov_principals(name, kind, created_us, created_by)
//   gov_memberships(group_name, member, added_us, added_by)
//   gov_tokens(token_id, user_name, token_sha256, created_us, expires_us,
//              revoked_us, revoked_by, comment, issued_by)
//   gov_principal_settings(key, value)   metastore_admin_group
//   gov_principal_history(seq, ts_us, actor, action, principal, details)
//
// Thread-safety: Principals is thread-safe (one mutex around its SQLite
// connection). Several processes may open the same store: every call reads
// the database, nothing is cached across calls, and writes are SQLite
// transactions. AuthenticatedPrincipal and the EvalContexts returned are
// snapshots: safe to use from any thread, unaffected by later changes.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "filter/eval.h"

namespace vesta::governance {

enum class PrincipalKind { kUser, kGroup };
// "user" or "group".
std::string_view PrincipalKindName(PrincipalKind kind);

struct PrincipalInfo {
  std::string name;  // as spelled at creation
  PrincipalKind kind = PrincipalKind::kUser;
  Timestamp created_at;
  std::string created_by;
};

// What IssueToken and Bootstrap return. `token` is the only copy of the
// secret: show it to the user once and do not log it.
struct IssuedToken {
  std::string token_id;  // "tok_" + 16 hex characters; not secret
  std::string user;
  std::string token;                    // "vst_" + 64 hex characters; secret
  std::optional<Timestamp> expires_at;  // none: does not expire
};

// A token's metadata (ListTokens). Never the token or its hash.
struct TokenInfo {
  std::string token_id;
  std::string user;
  Timestamp created_at;
  std::optional<Timestamp> expires_at;
  bool revoked = false;
  std::optional<Timestamp> revoked_at;
  std::string revoked_by;  // the principal that revoked, or "drop user"
  std::string comment;
  std::string issued_by;
};

// The caller a valid token identifies, with a snapshot of its groups.
struct AuthenticatedPrincipal {
  std::string user;
  std::string token_id;
  std::vector<std::string> groups;  // transitive closure, sorted case-insensitively
  bool metastore_admin = false;     // member of the metastore admin group

  // current_user() = user; is_member(g) answered from `groups`
  // (case-insensitive), never touching the database.
  filter::EvalContext ToEvalContext() const;
};

// One row of gov_principal_history.
struct PrincipalChange {
  int64_t seq = 0;  // increasing
  Timestamp time;
  std::string actor;         // who made the change ("bootstrap" for Bootstrap)
  std::string action;        // CREATE USER, CREATE GROUP, DROP USER, DROP GROUP, ADD MEMBER,
                             // REMOVE MEMBER, ISSUE TOKEN, REVOKE TOKEN, SET METASTORE ADMIN GROUP
  std::string principal;     // the principal changed (the group for membership changes,
                             // the user for token changes)
  std::string details_json;  // e.g. {"member":"bob"}, {"token_id":"tok_...","expires_at":...}
};

struct PrincipalsOptions {
  // How long a write waits for another connection's transaction before
  // Unavailable, ms.
  int busy_timeout_ms = 10000;
  // The wall clock; a seam for tests of token expiry. Unset: NowTimestamp().
  std::function<Timestamp()> clock;
};

class Principals {
 public:
  // The group Bootstrap creates and makes the metastore admin group.
  static constexpr const char* kAdminsGroup = "admins";
  // The prefix of every token's plaintext.
  static constexpr const char* kTokenPrefix = "vst_";

  // Opens the principal tables in the store at `store_path` (creating the
  // tables if missing). The store file must exist: the Store creates it.
  // Errors: NotFound if there is no file at `store_path`; FailedPrecondition
  // if the file is not a Vesta store; Unavailable if it is locked.
  static Result<std::unique_ptr<Principals>> Open(const std::string& store_path,
                                                  PrincipalsOptions options = {});
  ~Principals();
  Principals(const Principals&) = delete;
  Principals& operator=(const Principals&) = delete;

  // --- Bootstrap -------------------------------------------------------------
  // Creates the first user `admin_name`, the group "admins" containing it,
  // makes "admins" the metastore admin group, and issues the admin a token
  // without expiry (comment "bootstrap"), all in one transaction.
  // Errors: FailedPrecondition "already bootstrapped" if any principal
  // exists; InvalidArgument for a bad name or if it is "admins".
  Result<IssuedToken> Bootstrap(const std::string& admin_name);

  // --- Principals ------------------------------------------------------------
  // Create a user / group. `created_by` is recorded (not checked: privilege
  // checks belong to the caller).
  // Errors: InvalidArgument naming the field and the rule; AlreadyExists if
  // a user or group of that name (any case) exists.
  Status CreateUser(const std::string& name, const std::string& created_by);
  Status CreateGroup(const std::string& name, const std::string& created_by);
  // Drops a user or group: removes it from every group and, for a group, its
  // own membership list; revokes every live token of a dropped user (the
  // token rows stay, revoked, for audit). A user later created with the same
  // name does not get the old tokens back.
  // Errors: NotFound; FailedPrecondition for the metastore admin group.
  Status DropPrincipal(const std::string& name, const std::string& dropped_by);

  // The principal `name`. Errors: NotFound.
  Result<PrincipalInfo> Get(const std::string& name);
  // All principals, or those of one kind, sorted by name case-insensitively.
  Result<std::vector<PrincipalInfo>> List(std::optional<PrincipalKind> kind = std::nullopt);

  // --- Membership ------------------------------------------------------------
  // Adds `member` (a user or group) to `group`.
  // Errors: NotFound naming the missing principal; InvalidArgument if
  // `group` is a user; AlreadyExists if already a direct member;
  // FailedPrecondition if `member` is a group that is `group` or contains it
  // (transitively), naming the cycle, e.g.
  //   "adding group 'a' to group 'c' would create a cycle: c -> a -> b -> c".
  Status AddMember(const std::string& group, const std::string& member, const std::string& added_by);
  // Removes a direct membership. Errors: NotFound if either principal does
  // not exist or `member` is not a direct member of `group`.
  Status RemoveMember(const std::string& group, const std::string& member, const std::string& removed_by);
  // The direct members of `group`, sorted by name case-insensitively.
  // Errors: NotFound; InvalidArgument if `group` is a user.
  Result<std::vector<PrincipalInfo>> MembersOf(const std::string& group);
  // Every group containing `principal` directly or through nested groups
  // (not `principal` itself), sorted by name case-insensitively.
  // Errors: NotFound if `principal` does not exist.
  Result<std::vector<std::string>> GroupsOf(const std::string& principal);
  // Whether `principal` is in `group` directly or transitively. A name that
  // is not an existing group has no members, and an unknown principal is a
  // member of nothing: both give false, not an error. Errors: storage only.
  Result<bool> IsMember(const std::string& principal, const std::string& group);
  // Whether `user` is a member of the metastore admin group ("admins" after
  // Bootstrap). False before Bootstrap and for unknown names. Errors:
  // storage only.
  Result<bool> IsMetastoreAdmin(const std::string& user);

  // The evaluation context for `user`'s row filters and masks:
  // current_user() = the user's name as created, is_member answered from a
  // snapshot of GroupsOf(user) taken now (case-insensitive; never touches
  // the database, so it is cheap per row and safe from any thread).
  // Errors: NotFound if there is no such user; InvalidArgument if `user` is a
  // group. (A Result rather than an empty context on error: a context that
  // silently answered "member of nothing" would let `NOT is_member('x')`
  // row filters fail open.)
  Result<filter::EvalContext> ContextFor(const std::string& user);

  // --- Tokens ----------------------------------------------------------------
  // Issues a bearer token for `user`, expiring at `expires_at` (none: never).
  // Returns the plaintext once (see IssuedToken).
  // Errors: NotFound if `user` is not a user (InvalidArgument for a group);
  // InvalidArgument if `expires_at` is not in the future; Internal if the
  // random generator fails.
  Result<IssuedToken> IssueToken(const std::string& user, std::optional<Timestamp> expires_at,
                                 const std::string& comment, const std::string& issued_by);
  // As above, expiring `ttl` from now (std::chrono::hours(24), minutes, ...).
  // Errors: InvalidArgument if ttl <= 0; else as above.
  Result<IssuedToken> IssueToken(const std::string& user, std::chrono::microseconds ttl,
                                 const std::string& comment, const std::string& issued_by);
  // Resolves a bearer token (the plaintext, without "Bearer ") to its user
  // and a snapshot of the user's groups. The token is looked up by its
  // SHA-256 and the stored hash compared in constant time.
  // Errors: Unauthenticated (StatusCode::kUnauthenticated) for a malformed,
  // unknown, revoked or expired token or a dropped user; the message never
  // contains the token. Other codes for storage failures only.
  Result<AuthenticatedPrincipal> Authenticate(std::string_view token);
  // Revokes a token; it stops authenticating at once. Revoking a revoked
  // token is OK and changes nothing. Errors: NotFound for an unknown id.
  Status RevokeToken(const std::string& token_id, const std::string& revoked_by);
  // The tokens of `user` (live, expired and revoked), oldest first.
  // Errors: NotFound if there is no such user.
  Result<std::vector<TokenInfo>> ListTokens(const std::string& user);

  // --- History ---------------------------------------------------------------
  // The change history, newest first; limit -1 for all.
  Result<std::vector<PrincipalChange>> History(int64_t limit = -1);

  // Returns OK if `name` is a valid principal name; otherwise InvalidArgument
  // "<field> '<name>' is invalid: ..." stating the rule. `field` is e.g.
  // "user name".
  static Status ValidateName(std::string_view field, std::string_view name);

  struct Impl;  // internal

 private:
  Principals() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::governance
