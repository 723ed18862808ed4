// Governed administration (access/governed.h, "Governed administration"):
// principals and groups, tokens, grants and owners, row filters, column
// masks, tags and tag policies. The components below do not authorise their
// callers; each call here checks the caller's privileges first, then
// validates and applies the change, and appends exactly one audit record.
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "access/internal/governed_impl.h"

namespace vesta::access {
namespace {

using governance::AuditRecord;
using governance::EffectivePrivilege;
using governance::MaskSpec;
using governance::PermissionsChange;
using governance::PrincipalInfo;
using governance::PrincipalKind;
using governance::Principals;
using governance::Privilege;
using governance::PrivilegeAssignment;
using governance::Securable;
using governance::SecurableType;
using governance::TableName;
using governance::Tag;
using governance::TagPolicy;
using governance::TokenInfo;
using internal::AllowDone;
using internal::AuditText;
using internal::DumpJson;
using json = nlohmann::json;

constexpr size_t kMaxTokenCommentBytes = 1000;

// The parameters every record starts with.
json BaseParams(const Caller& caller) {
  json p = json::object();
  if (!caller.token_id.empty()) p["token_id"] = caller.token_id;
  return p;
}

Status RequireAdmin(const Caller& caller, const std::string& what) {
  if (caller.metastore_admin) return Status::OK();
  return Status::PermissionDenied(caller.user + " lacks metastore admin, needed to " + what);
}

// CheckManage on `s`, or metastore admin.
Status CheckManage(governance::Privileges& privileges, const Caller& caller, const Securable& s) {
  if (caller.metastore_admin) return Status::OK();
  return privileges.CheckManage(caller.user, internal::GroupSet(caller), s, caller.metastore_admin);
}

// A principal name from a request: valid (InvalidArgument naming `field`)
// and existing (NotFound naming `field`); returns it as stored.
Result<PrincipalInfo> ResolvePrincipal(Principals& principals, std::string_view field,
                                       const std::string& name) {
  VESTA_RETURN_IF_ERROR(Principals::ValidateName(field, name));
  Result<PrincipalInfo> info = principals.Get(name);
  if (info.status().code() == StatusCode::kNotFound) {
    return Status::NotFound(std::string(field) + ": principal '" + name + "' does not exist");
  }
  return info;
}

bool ContainsIgnoreCase(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& n) { return EqualsIgnoreCase(n, name); });
}

// OK if securable `s` exists; NotFound "<type> <name> does not exist".
Status CheckExists(governance::Store& store, governance::Privileges& privileges, const Securable& s) {
  const Status missing = Status::NotFound(s.ToString() + " does not exist");
  switch (s.type) {
    case SecurableType::kCatalog: {
      VESTA_ASSIGN_OR_RETURN(std::vector<std::string> catalogs, store.ListCatalogs());
      return ContainsIgnoreCase(catalogs, s.full_name) ? Status::OK() : missing;
    }
    case SecurableType::kSchema: {
      const std::string catalog = s.CatalogName();
      const std::string schema = s.full_name.substr(catalog.size() + 1);
      Result<std::vector<std::string>> schemas = store.ListSchemas(catalog);
      if (schemas.status().code() == StatusCode::kNotFound) return missing;
      VESTA_RETURN_IF_ERROR(schemas.status());
      return ContainsIgnoreCase(*schemas, schema) ? Status::OK() : missing;
    }
    case SecurableType::kTable: {
      VESTA_ASSIGN_OR_RETURN(TableName name, TableName::Parse(s.full_name));
      Result<governance::TableInfo> info = store.DescribeTable(name);
      if (info.status().code() == StatusCode::kNotFound) return missing;
      return info.status();
    }
    case SecurableType::kIndex: {
      // An index exists while it has an owner (AuthorizeCreateIndex records
      // it; AuthorizeDropIndex removes it).
      Result<std::string> owner = privileges.Owner(s);
      if (owner.status().code() == StatusCode::kNotFound) return missing;
      return owner.status();
    }
  }
  return missing;
}

Status CheckTableExists(governance::Store& store, const TableName& table) {
  Result<governance::TableInfo> info = store.DescribeTable(table);
  if (info.status().code() == StatusCode::kNotFound) {
    return Status::NotFound("table " + table.ToString() + " does not exist");
  }
  return info.status();
}

json PrivilegeNames(const std::vector<Privilege>& ps) {
  json out = json::array();
  for (Privilege p : ps) out.push_back(std::string(governance::PrivilegeApiName(p)));
  return out;
}

json MaskParams(const MaskSpec& m) {
  json j = {{"kind", std::string(governance::MaskKindName(m.kind))}, {"exempt_groups", json::array()}};
  for (const std::string& g : m.exempt_groups) j["exempt_groups"].push_back(AuditText(g));
  if (m.kind == MaskSpec::kConstant) j["constant"] = AuditText(m.constant.ToString());
  if (m.kind == MaskSpec::kPartialReveal) j["reveal_last"] = m.reveal_last;
  return j;
}

// The optional column of a tag call, for the audit.
json ColumnParam(const std::optional<std::string>& column) {
  return column ? json(AuditText(*column)) : json(nullptr);
}

}  // namespace

// --- Principals and groups -----------------------------------------------------------

Result<PrincipalInfo> Governed::CreatePrincipal(const Caller& caller, const std::string& name,
                                                PrincipalKind kind) {
  AuditRecord rec = Impl::NewRecord(caller, "principal.create", "");
  json params = BaseParams(caller);
  params["name"] = AuditText(name);
  params["kind"] = std::string(governance::PrincipalKindName(kind));
  Result<PrincipalInfo> r = [&]() -> Result<PrincipalInfo> {
    VESTA_RETURN_IF_ERROR(
        RequireAdmin(caller, "create " + std::string(governance::PrincipalKindName(kind)) + " " + name));
    VESTA_RETURN_IF_ERROR(Principals::ValidateName("name", name));
    if (kind == PrincipalKind::kUser) {
      VESTA_RETURN_IF_ERROR(impl_->principals->CreateUser(name, caller.user));
    } else {
      VESTA_RETURN_IF_ERROR(impl_->principals->CreateGroup(name, caller.user));
    }
    return impl_->principals->Get(name);
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(
      AllowDone(*impl_->audit, std::move(rec), params, 0,
                std::string(governance::PrincipalKindName(kind)) + " " + name + " was created"));
  return r;
}

Status Governed::DropPrincipal(const Caller& caller, const std::string& name) {
  AuditRecord rec = Impl::NewRecord(caller, "principal.drop", "");
  json params = BaseParams(caller);
  params["name"] = AuditText(name);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "drop principal " + name));
    VESTA_ASSIGN_OR_RETURN(PrincipalInfo info, ResolvePrincipal(*impl_->principals, "name", name));
    params["kind"] = std::string(governance::PrincipalKindName(info.kind));
    if (info.kind == PrincipalKind::kUser && EqualsIgnoreCase(info.name, caller.user)) {
      return Status::FailedPrecondition(caller.user + " cannot drop themselves");
    }
    VESTA_RETURN_IF_ERROR(impl_->principals->DropPrincipal(info.name, caller.user));
    // Its grants and ownerships go too: a principal created later under the
    // same name must inherit nothing.
    Status cleared = impl_->privileges->DropPrincipal(info.name, caller.user);
    if (!cleared.ok()) {
      return Status(cleared.code(), "principal " + info.name + " was dropped, but its grants were not removed: " +
                                        cleared.message());
    }
    return Status::OK();
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0, "principal " + name + " was dropped");
}

Result<std::vector<PrincipalInfo>> Governed::ListPrincipals(const Caller& caller,
                                                            std::optional<PrincipalKind> kind) {
  AuditRecord rec = Impl::NewRecord(caller, "principal.list", "");
  json params = BaseParams(caller);
  params["kind"] = kind ? json(std::string(governance::PrincipalKindName(*kind))) : json(nullptr);
  Result<std::vector<PrincipalInfo>> r = [&]() -> Result<std::vector<PrincipalInfo>> {
    VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "list principals"));
    return impl_->principals->List(kind);
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

Result<Governed::PrincipalDetails> Governed::DescribePrincipal(const Caller& caller,
                                                               const std::string& name) {
  AuditRecord rec = Impl::NewRecord(caller, "principal.describe", "");
  json params = BaseParams(caller);
  params["name"] = AuditText(name);
  Result<PrincipalDetails> r = [&]() -> Result<PrincipalDetails> {
    if (!EqualsIgnoreCase(name, caller.user)) {
      VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "describe principal " + name));
    }
    PrincipalDetails d;
    VESTA_ASSIGN_OR_RETURN(d.info, ResolvePrincipal(*impl_->principals, "name", name));
    VESTA_ASSIGN_OR_RETURN(d.groups, impl_->principals->GroupsOf(d.info.name));
    if (d.info.kind == PrincipalKind::kGroup) {
      VESTA_ASSIGN_OR_RETURN(d.members, impl_->principals->MembersOf(d.info.name));
    }
    return d;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, 0));
  return r;
}

Status Governed::AddMember(const Caller& caller, const std::string& group, const std::string& member) {
  AuditRecord rec = Impl::NewRecord(caller, "group.member.add", "");
  json params = BaseParams(caller);
  params["group"] = AuditText(group);
  params["member"] = AuditText(member);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "add members to group " + group));
    VESTA_ASSIGN_OR_RETURN(PrincipalInfo g, ResolvePrincipal(*impl_->principals, "group", group));
    VESTA_ASSIGN_OR_RETURN(PrincipalInfo m, ResolvePrincipal(*impl_->principals, "member", member));
    if (g.kind != PrincipalKind::kGroup) {
      return Status::InvalidArgument("group: '" + g.name + "' is a user, not a group");
    }
    return impl_->principals->AddMember(g.name, m.name, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0, member + " was added to group " + group);
}

Status Governed::RemoveMember(const Caller& caller, const std::string& group, const std::string& member) {
  AuditRecord rec = Impl::NewRecord(caller, "group.member.remove", "");
  json params = BaseParams(caller);
  params["group"] = AuditText(group);
  params["member"] = AuditText(member);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "remove members from group " + group));
    VESTA_ASSIGN_OR_RETURN(PrincipalInfo g, ResolvePrincipal(*impl_->principals, "group", group));
    VESTA_ASSIGN_OR_RETURN(PrincipalInfo m, ResolvePrincipal(*impl_->principals, "member", member));
    if (g.kind != PrincipalKind::kGroup) {
      return Status::InvalidArgument("group: '" + g.name + "' is a user, not a group");
    }
    return impl_->principals->RemoveMember(g.name, m.name, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0, member + " was removed from group " + group);
}

// --- Tokens ------------------------------------------------------------------------------

Result<Governed::NewToken> Governed::IssueToken(const Caller& caller, const std::string& user,
                                                std::optional<int64_t> lifetime_seconds,
                                                const std::string& comment) {
  const std::string for_user = user.empty() ? caller.user : user;
  AuditRecord rec = Impl::NewRecord(caller, "token.issue", "");
  json params = BaseParams(caller);
  params["user"] = AuditText(for_user);
  params["lifetime_seconds"] = lifetime_seconds ? json(*lifetime_seconds) : json(nullptr);
  params["comment"] = AuditText(comment.substr(0, kMaxTokenCommentBytes));
  Result<NewToken> r = [&]() -> Result<NewToken> {
    if (!EqualsIgnoreCase(for_user, caller.user)) {
      VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "issue a token for " + for_user));
    }
    VESTA_ASSIGN_OR_RETURN(PrincipalInfo info, ResolvePrincipal(*impl_->principals, "principal", for_user));
    if (info.kind != PrincipalKind::kUser) {
      return Status::InvalidArgument("principal: '" + info.name + "' is a group; tokens are issued to users");
    }
    if (lifetime_seconds && (*lifetime_seconds < 1 || *lifetime_seconds > kMaxTokenLifetimeSeconds)) {
      return Status::InvalidArgument("lifetime_seconds: must be 1.." +
                                     std::to_string(kMaxTokenLifetimeSeconds) +
                                     " (or absent: no expiry), got " + std::to_string(*lifetime_seconds));
    }
    if (comment.size() > kMaxTokenCommentBytes) {
      return Status::InvalidArgument("comment: at most " + std::to_string(kMaxTokenCommentBytes) +
                                     " bytes, got " + std::to_string(comment.size()));
    }
    Result<governance::IssuedToken> issued =
        lifetime_seconds
            ? impl_->principals->IssueToken(info.name, std::chrono::seconds(*lifetime_seconds), comment,
                                            caller.user)
            : impl_->principals->IssueToken(info.name, std::optional<Timestamp>(), comment, caller.user);
    VESTA_RETURN_IF_ERROR(issued.status());
    params["issued_token_id"] = issued->token_id;
    NewToken out;
    out.token = std::move(issued->token);
    // The metadata as stored (creation time), from the user's token list.
    VESTA_ASSIGN_OR_RETURN(std::vector<TokenInfo> tokens, impl_->principals->ListTokens(info.name));
    bool found = false;
    for (TokenInfo& t : tokens) {
      if (t.token_id == issued->token_id) {
        out.info = std::move(t);
        found = true;
      }
    }
    if (!found) {
      return Status::Internal("token " + issued->token_id + " was issued but is not among " + info.name +
                              "'s tokens");
    }
    return out;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(AllowDone(*impl_->audit, std::move(rec), params, 0,
                                  "token " + r->info.token_id + " was issued for " + r->info.user));
  return r;
}

Result<std::vector<TokenInfo>> Governed::ListTokens(const Caller& caller, const std::string& user,
                                                    bool include_inactive) {
  const std::string for_user = user.empty() ? caller.user : user;
  AuditRecord rec = Impl::NewRecord(caller, "token.list", "");
  json params = BaseParams(caller);
  params["user"] = AuditText(for_user);
  params["include_inactive"] = include_inactive;
  Result<std::vector<TokenInfo>> r = [&]() -> Result<std::vector<TokenInfo>> {
    if (!EqualsIgnoreCase(for_user, caller.user)) {
      VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "list the tokens of " + for_user));
    }
    VESTA_ASSIGN_OR_RETURN(PrincipalInfo info, ResolvePrincipal(*impl_->principals, "principal", for_user));
    if (info.kind != PrincipalKind::kUser) {
      return Status::InvalidArgument("principal: '" + info.name + "' is a group; groups have no tokens");
    }
    VESTA_ASSIGN_OR_RETURN(std::vector<TokenInfo> tokens, impl_->principals->ListTokens(info.name));
    if (include_inactive) return tokens;
    const Timestamp now = NowTimestamp();
    std::vector<TokenInfo> live;
    for (TokenInfo& t : tokens) {
      if (t.revoked || (t.expires_at && *t.expires_at <= now)) continue;
      live.push_back(std::move(t));
    }
    return live;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

Status Governed::RevokeToken(const Caller& caller, const std::string& token_id) {
  AuditRecord rec = Impl::NewRecord(caller, "token.revoke", "");
  json params = BaseParams(caller);
  params["token_id"] = AuditText(token_id.substr(0, 128));
  Status st = [&]() -> Status {
    if (token_id.empty()) return Status::InvalidArgument("token_id: required (a token id, \"tok_...\")");
    if (!caller.metastore_admin) {
      // Only their own tokens; whether another id exists is not disclosed.
      VESTA_ASSIGN_OR_RETURN(std::vector<TokenInfo> own, impl_->principals->ListTokens(caller.user));
      const bool mine =
          std::any_of(own.begin(), own.end(), [&](const TokenInfo& t) { return t.token_id == token_id; });
      if (!mine) {
        return Status::PermissionDenied(caller.user + " lacks metastore admin, needed to revoke token '" +
                                        token_id.substr(0, 128) + "', which is not one of " + caller.user +
                                        "'s tokens");
      }
      params["user"] = caller.user;
    }
    return impl_->principals->RevokeToken(token_id, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0, "token " + token_id + " was revoked");
}

// --- Grants and owners ------------------------------------------------------------------

Result<std::vector<PrivilegeAssignment>> Governed::GetPermissions(
    const Caller& caller, const Securable& s, const std::optional<std::string>& principal) {
  AuditRecord rec = Impl::NewRecord(caller, "grant.get", s.full_name);
  json params = BaseParams(caller);
  params["securable_type"] = std::string(governance::SecurableTypeName(s.type));
  params["principal"] = principal ? json(AuditText(*principal)) : json(nullptr);
  Result<std::vector<PrivilegeAssignment>> r = [&]() -> Result<std::vector<PrivilegeAssignment>> {
    VESTA_RETURN_IF_ERROR(s.Validate());
    if (principal) VESTA_RETURN_IF_ERROR(Principals::ValidateName("principal", *principal));
    const Status manage = CheckManage(*impl_->privileges, caller, s);
    if (!manage.ok() && manage.code() != StatusCode::kPermissionDenied) return manage;
    const bool only_own = !manage.ok();
    params["only_own"] = only_own;
    if (!only_own) VESTA_RETURN_IF_ERROR(CheckExists(*impl_->store, *impl_->privileges, s));
    VESTA_ASSIGN_OR_RETURN(std::vector<PrivilegeAssignment> all, impl_->privileges->ListGrants(s));
    std::vector<PrivilegeAssignment> out;
    for (PrivilegeAssignment& a : all) {
      if (principal && !EqualsIgnoreCase(a.principal, *principal)) continue;
      if (only_own && a.principal != caller.user &&
          std::find(caller.groups.begin(), caller.groups.end(), a.principal) == caller.groups.end()) {
        continue;
      }
      out.push_back(std::move(a));
    }
    return out;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

Result<std::vector<PrivilegeAssignment>> Governed::UpdatePermissions(const Caller& caller, const Securable& s,
                                                                     std::vector<PermissionsChange> changes) {
  AuditRecord rec = Impl::NewRecord(caller, "grant.update", s.full_name);
  json params = BaseParams(caller);
  params["securable_type"] = std::string(governance::SecurableTypeName(s.type));
  json changes_json = json::array();
  for (const PermissionsChange& c : changes) {
    changes_json.push_back({{"principal", AuditText(c.principal)},
                            {"add", PrivilegeNames(c.add)},
                            {"remove", PrivilegeNames(c.remove)}});
  }
  params["changes"] = std::move(changes_json);
  Result<std::vector<PrivilegeAssignment>> r = [&]() -> Result<std::vector<PrivilegeAssignment>> {
    VESTA_RETURN_IF_ERROR(s.Validate());
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, s));
    VESTA_RETURN_IF_ERROR(CheckExists(*impl_->store, *impl_->privileges, s));
    if (changes.empty()) return Status::InvalidArgument("changes: at least one change is required");
    for (size_t i = 0; i < changes.size(); ++i) {
      PermissionsChange& c = changes[i];
      const std::string field = "changes[" + std::to_string(i) + "].principal";
      VESTA_RETURN_IF_ERROR(Principals::ValidateName(field, c.principal));
      Result<PrincipalInfo> info = impl_->principals->Get(c.principal);
      if (info.ok()) {
        c.principal = info->name;  // the spelling Privileges will compare
      } else if (info.status().code() != StatusCode::kNotFound) {
        return info.status();
      } else if (!c.add.empty()) {
        return Status::NotFound(field + ": principal '" + c.principal + "' does not exist");
      }
    }
    VESTA_RETURN_IF_ERROR(impl_->privileges->UpdatePermissions(s, changes, caller.user));
    Result<std::vector<PrivilegeAssignment>> now = impl_->privileges->ListGrants(s);
    if (!now.ok()) {
      return Status::Internal("the permissions on " + s.ToString() +
                              " were updated, but could not be listed: " + now.status().message());
    }
    return now;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(AllowDone(*impl_->audit, std::move(rec), params, 0,
                                  "the permissions on " + s.ToString() + " were updated"));
  return r;
}

Result<std::vector<EffectivePrivilege>> Governed::EffectivePermissions(const Caller& caller,
                                                                       const Securable& s,
                                                                       const std::string& principal) {
  const std::string who = principal.empty() ? caller.user : principal;
  AuditRecord rec = Impl::NewRecord(caller, "grant.effective", s.full_name);
  json params = BaseParams(caller);
  params["securable_type"] = std::string(governance::SecurableTypeName(s.type));
  params["principal"] = AuditText(who);
  Result<std::vector<EffectivePrivilege>> r = [&]() -> Result<std::vector<EffectivePrivilege>> {
    VESTA_RETURN_IF_ERROR(s.Validate());
    if (EqualsIgnoreCase(who, caller.user)) {
      return impl_->privileges->EffectivePermissions(caller.user, internal::GroupSet(caller), s,
                                                     caller.metastore_admin);
    }
    VESTA_RETURN_IF_ERROR(Principals::ValidateName("principal", who));
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, s));
    VESTA_RETURN_IF_ERROR(CheckExists(*impl_->store, *impl_->privileges, s));
    VESTA_ASSIGN_OR_RETURN(PrincipalInfo info, ResolvePrincipal(*impl_->principals, "principal", who));
    VESTA_ASSIGN_OR_RETURN(std::vector<std::string> groups, impl_->principals->GroupsOf(info.name));
    bool admin = false;
    if (info.kind == PrincipalKind::kUser) {
      VESTA_ASSIGN_OR_RETURN(admin, impl_->principals->IsMetastoreAdmin(info.name));
    } else {
      admin = EqualsIgnoreCase(info.name, Principals::kAdminsGroup) ||
              ContainsIgnoreCase(groups, Principals::kAdminsGroup);
    }
    return impl_->privileges->EffectivePermissions(
        info.name, std::set<std::string>(groups.begin(), groups.end()), s, admin);
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

Status Governed::SetOwner(const Caller& caller, const Securable& s, const std::string& owner) {
  AuditRecord rec = Impl::NewRecord(caller, "owner.set", s.full_name);
  json params = BaseParams(caller);
  params["securable_type"] = std::string(governance::SecurableTypeName(s.type));
  params["owner"] = AuditText(owner);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(s.Validate());
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, s));
    VESTA_RETURN_IF_ERROR(CheckExists(*impl_->store, *impl_->privileges, s));
    VESTA_ASSIGN_OR_RETURN(PrincipalInfo info, ResolvePrincipal(*impl_->principals, "owner", owner));
    Result<std::string> previous = impl_->privileges->Owner(s);
    if (previous.ok()) {
      params["previous_owner"] = *previous;
    } else if (previous.status().code() != StatusCode::kNotFound) {
      return previous.status();
    }
    return impl_->privileges->SetOwner(s, info.name, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0, "the owner of " + s.ToString() + " was changed");
}

// --- Row filters --------------------------------------------------------------------------

Status Governed::SetRowFilter(const Caller& caller, const TableName& table, const std::string& filter) {
  AuditRecord rec = Impl::NewRecord(caller, "policy.row_filter.set", table.ToString());
  json params = BaseParams(caller);
  params["filter"] = AuditText(filter);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, Securable::Table(table)));
    return impl_->policies->SetRowFilter(table, filter, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0,
                   "the row filter of " + table.ToString() + " was set");
}

Status Governed::DropRowFilter(const Caller& caller, const TableName& table) {
  AuditRecord rec = Impl::NewRecord(caller, "policy.row_filter.drop", table.ToString());
  json params = BaseParams(caller);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, Securable::Table(table)));
    return impl_->policies->DropRowFilter(table, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0,
                   "the row filter of " + table.ToString() + " was dropped");
}

Result<std::optional<std::string>> Governed::GetRowFilter(const Caller& caller, const TableName& table) {
  AuditRecord rec = Impl::NewRecord(caller, "policy.row_filter.get", table.ToString());
  json params = BaseParams(caller);
  Result<std::optional<std::string>> r = [&]() -> Result<std::optional<std::string>> {
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, Securable::Table(table)));
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> filter, impl_->policies->RowFilterOf(table));
    if (!filter) VESTA_RETURN_IF_ERROR(CheckTableExists(*impl_->store, table));
    return filter;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, r->has_value() ? 1 : 0));
  return r;
}

// --- Column masks -------------------------------------------------------------------------

Status Governed::SetColumnMask(const Caller& caller, const TableName& table, const std::string& column,
                               const MaskSpec& mask) {
  AuditRecord rec = Impl::NewRecord(caller, "policy.column_mask.set", table.ToString());
  json params = BaseParams(caller);
  params["column"] = AuditText(column);
  params["mask"] = MaskParams(mask);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, Securable::Table(table)));
    if (column.empty()) return Status::InvalidArgument("column: required (a column name)");
    MaskSpec m = mask;
    if (m.kind == MaskSpec::kConstant && !m.constant.is_null()) {
      // A constant given as text (a DATE) or as an integer (for a DOUBLE):
      // convert it to the column's type where it parses.
      VESTA_RETURN_IF_ERROR(CheckTableExists(*impl_->store, table));
      VESTA_ASSIGN_OR_RETURN(governance::TableInfo info, impl_->store->DescribeTable(table));
      const int c = info.schema.FindColumn(column);
      if (c >= 0) {
        const DataType& type = info.schema.columns[static_cast<size_t>(c)].type;
        if (!m.constant.FitsType(type) && !m.constant.is_vector()) {
          Result<Value> parsed = ParseValue(m.constant.ToString(), type);
          if (parsed.ok() && !parsed->is_null()) m.constant = std::move(parsed).value();
        }
      }
    }
    return impl_->policies->SetColumnMask(table, column, m, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0,
                   "the mask of " + table.ToString() + "." + column + " was set");
}

Status Governed::DropColumnMask(const Caller& caller, const TableName& table, const std::string& column) {
  AuditRecord rec = Impl::NewRecord(caller, "policy.column_mask.drop", table.ToString());
  json params = BaseParams(caller);
  params["column"] = AuditText(column);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, Securable::Table(table)));
    if (column.empty()) return Status::InvalidArgument("column: required (a column name)");
    return impl_->policies->DropColumnMask(table, column, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0,
                   "the mask of " + table.ToString() + "." + column + " was dropped");
}

Result<std::vector<std::pair<std::string, MaskSpec>>> Governed::ListColumnMasks(const Caller& caller,
                                                                                const TableName& table) {
  AuditRecord rec = Impl::NewRecord(caller, "policy.column_mask.list", table.ToString());
  json params = BaseParams(caller);
  using Masks = std::vector<std::pair<std::string, MaskSpec>>;
  Result<Masks> r = [&]() -> Result<Masks> {
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, Securable::Table(table)));
    VESTA_ASSIGN_OR_RETURN(Masks masks, impl_->policies->ColumnMasksOf(table));
    if (masks.empty()) VESTA_RETURN_IF_ERROR(CheckTableExists(*impl_->store, table));
    return masks;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

// --- Tags ----------------------------------------------------------------------------------

Status Governed::SetTag(const Caller& caller, const TableName& table,
                        const std::optional<std::string>& column, const std::string& key,
                        const std::string& value) {
  AuditRecord rec = Impl::NewRecord(caller, "tag.set", table.ToString());
  json params = BaseParams(caller);
  params["column"] = ColumnParam(column);
  params["key"] = AuditText(key);
  params["value"] = AuditText(value);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, Securable::Table(table)));
    return impl_->policies->SetTag(table, column, key, value, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0,
                   "tag '" + key + "' on " + table.ToString() + " was set");
}

Status Governed::UnsetTag(const Caller& caller, const TableName& table,
                          const std::optional<std::string>& column, const std::string& key) {
  AuditRecord rec = Impl::NewRecord(caller, "tag.unset", table.ToString());
  json params = BaseParams(caller);
  params["column"] = ColumnParam(column);
  params["key"] = AuditText(key);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(CheckManage(*impl_->privileges, caller, Securable::Table(table)));
    return impl_->policies->UnsetTag(table, column, key, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0,
                   "tag '" + key + "' on " + table.ToString() + " was unset");
}

Result<std::vector<Tag>> Governed::ListTags(const Caller& caller, const TableName& table) {
  AuditRecord rec = Impl::NewRecord(caller, "tag.list", table.ToString());
  json params = BaseParams(caller);
  Result<std::vector<Tag>> r = [&]() -> Result<std::vector<Tag>> {
    const Securable s = Securable::Table(table);
    const Status read =
        impl_->privileges->CheckRead(caller.user, internal::GroupSet(caller), s, caller.metastore_admin);
    if (!read.ok()) {
      if (read.code() != StatusCode::kPermissionDenied) return read;
      if (!CheckManage(*impl_->privileges, caller, s).ok()) return read;
    }
    VESTA_ASSIGN_OR_RETURN(std::vector<Tag> tags, impl_->policies->TagsOf(table));
    if (tags.empty()) VESTA_RETURN_IF_ERROR(CheckTableExists(*impl_->store, table));
    return tags;
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

// --- Tag policies ---------------------------------------------------------------------------

Result<TagPolicy> Governed::CreateTagPolicy(const Caller& caller, const TagPolicy& policy) {
  AuditRecord rec = Impl::NewRecord(caller, "tag_policy.create", "");
  json params = BaseParams(caller);
  params["name"] = AuditText(policy.name);
  params["kind"] = policy.kind == TagPolicy::Kind::kMask ? "mask" : "row_filter";
  params["tag_key"] = AuditText(policy.tag_key);
  params["tag_value"] = policy.tag_value ? json(AuditText(*policy.tag_value)) : json(nullptr);
  if (policy.kind == TagPolicy::Kind::kMask) {
    params["mask"] = MaskParams(policy.mask);
  } else {
    params["filter"] = AuditText(policy.filter);
  }
  Result<TagPolicy> r = [&]() -> Result<TagPolicy> {
    VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "create tag policy " + policy.name));
    if (policy.kind == TagPolicy::Kind::kMask) {
      VESTA_RETURN_IF_ERROR(impl_->policies->AddTagMaskPolicy(policy.name, policy.tag_key, policy.tag_value,
                                                              policy.mask, caller.user));
    } else {
      VESTA_RETURN_IF_ERROR(impl_->policies->AddTagRowFilterPolicy(
          policy.name, policy.tag_key, policy.tag_value, policy.filter, caller.user));
    }
    VESTA_ASSIGN_OR_RETURN(std::vector<TagPolicy> all, impl_->policies->ListTagPolicies());
    for (TagPolicy& p : all) {
      if (EqualsIgnoreCase(p.name, policy.name)) return std::move(p);
    }
    return Status::Internal("tag policy " + policy.name + " was created but is not listed");
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(
      AllowDone(*impl_->audit, std::move(rec), params, 0, "tag policy " + policy.name + " was created"));
  return r;
}

Status Governed::DropTagPolicy(const Caller& caller, const std::string& name) {
  AuditRecord rec = Impl::NewRecord(caller, "tag_policy.drop", "");
  json params = BaseParams(caller);
  params["name"] = AuditText(name);
  Status st = [&]() -> Status {
    VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "drop tag policy " + name));
    return impl_->policies->DropTagPolicy(name, caller.user);
  }();
  if (!st.ok()) return impl_->Fail(std::move(rec), params, st);
  return AllowDone(*impl_->audit, std::move(rec), params, 0, "tag policy " + name + " was dropped");
}

Result<std::vector<TagPolicy>> Governed::ListTagPolicies(const Caller& caller) {
  AuditRecord rec = Impl::NewRecord(caller, "tag_policy.list", "");
  json params = BaseParams(caller);
  Result<std::vector<TagPolicy>> r = [&]() -> Result<std::vector<TagPolicy>> {
    VESTA_RETURN_IF_ERROR(RequireAdmin(caller, "list tag policies"));
    return impl_->policies->ListTagPolicies();
  }();
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  VESTA_RETURN_IF_ERROR(internal::AllowRead(*impl_->audit, std::move(rec), params, static_cast<int64_t>(r->size())));
  return r;
}

}  // namespace vesta::access
