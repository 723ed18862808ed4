// Governance routes (service/internal/routes.h): principals and groups,
// tokens, grants and effective permissions, owners, row filters, column
// masks, tags, tag policies, the audit log and lineage. Every route needs a
// bearer token (401 UNAUTHENTICATED otherwise) and calls exactly one
// Governed call (access/governed.h), which checks the caller's privileges
// first and writes the request's one audit record; a request refused before
// that call (a missing or ill-typed field, a malformed name) is audited by
// the Router as action "http.request". Errors have the one shape
// {"error_code", "message"} (service/errors.h): 400 INVALID_ARGUMENT (the
// message names the field: "changes[0].add[1]: privilege 'SELEKT' ..."),
// 401 UNAUTHENTICATED, 403 PERMISSION_DENIED (naming what is missing: "bob
// lacks MANAGE on table main.c.t", "bob lacks metastore admin, needed to
// create user carol"), 404 NOT_FOUND (principal, securable, column, token,
// policy), 409 ALREADY_EXISTS, 415 (a body that is not application/json),
// 500 INTERNAL. JSON null counts as an absent field. Unknown body fields
// are ignored. Times are epoch milliseconds (as Unity Catalog and the
// Databricks token API) unless said otherwise.
//
// Conventions of the shapes below:
//   Principal   {name, kind: "user"|"group", created_at (ms), created_by}
//   TokenInfo   {token_id, creation_time (ms), expiry_time (ms; -1: never),
//                comment, principal, created_by, revoked (bool),
//                revoked_time (ms; -1: not revoked)}
//   Mask        {kind: "null"|"constant"|"hash"|"partial", constant (kind
//                constant: string, number, boolean or null; a DATE /
//                TIMESTAMP as a string), reveal_last (kind partial; 0..1000,
//                default 4)}. "keyed_hash" and "partial_reveal" are accepted
//                for "hash" and "partial".
//   securable_type  catalog | schema | table | index (any case); full_name
//                is its dotted name ("main", "main.clinical",
//                "main.clinical.patients"), each part an identifier.
//   privileges  Unity Catalog's REST spelling: USE_CATALOG, USE_SCHEMA,
//                SELECT, MODIFY, CREATE_TABLE, CREATE_INDEX, MANAGE,
//                ALL_PRIVILEGES (the SQL spelling "USE CATALOG" is accepted).
//
// --- Principals and groups (metastore admins only) --------------------------
// POST   /api/2.0/vesta/principals
//        body {name: string, kind: "user"|"group"} -> Principal.
//        400 name (rule), kind; 403; 409 exists. Audit "principal.create".
// GET    /api/2.0/vesta/principals[?kind=user|group]
//        -> {principals: [Principal]} sorted by name. 400 kind; 403.
//        Audit "principal.list".
// GET    /api/2.0/vesta/principals/{name}
//        -> Principal + {groups: [string] (every group containing it,
//        transitively), members: [{name, kind}] (groups: direct members)}.
//        A user may describe themselves. 400 name; 403; 404.
//        Audit "principal.describe".
// DELETE /api/2.0/vesta/principals/{name}
//        -> {}. Memberships removed, a user's tokens revoked; grants held by
//        the name are not (revoke them first). 400 name, dropping oneself or
//        the admins group; 403; 404. Audit "principal.drop".
// POST   /api/2.0/vesta/groups/{group}/members
//        body {member: string} -> {group, member}. 400 names, group is a
//        user, a cycle; 403; 404 either principal; 409 already a member.
//        Audit "group.member.add".
// DELETE /api/2.0/vesta/groups/{group}/members/{member}
//        -> {}. 400; 403; 404 either principal or not a direct member.
//        Audit "group.member.remove".
//
// --- Tokens (Databricks token API shapes) -------------------------------------
// POST   /api/2.0/token/create
//        body {comment?: string (<= 1000 bytes), lifetime_seconds?: integer
//        (1..~100 years; absent: never expires), principal?: string (Vesta
//        extension: metastore admins issue for another user)}
//        -> {token_value: "vst_...", token_info: TokenInfo}. The token value
//        is shown once; it is never logged or audited. 400 lifetime_seconds,
//        comment, principal (a group); 403 principal not the caller for a
//        non-admin; 404 principal. Audit "token.issue" (the token id, never
//        the token).
// GET    /api/2.0/token/list[?principal=NAME][&include_inactive=true]
//        -> {token_infos: [TokenInfo]} oldest first: the caller's own, or
//        (metastore admins) NAME's; only tokens neither revoked nor expired
//        unless include_inactive=true. 400; 403; 404. Audit "token.list".
// POST   /api/2.0/token/delete
//        body {token_id: string} -> {}. Revokes the token (at once). Own
//        tokens; metastore admins any. A non-admin naming a token not theirs
//        gets 403 whether or not it exists. 400 token_id; 403; 404 (admins:
//        unknown id). Audit "token.revoke".
//
// --- Grants, effective permissions, owners (Unity Catalog shapes) -------------
// GET    /api/2.1/unity-catalog/permissions/{securable_type}/{full_name}[?principal=NAME]
//        -> {privilege_assignments: [{principal, privileges: [string]}]}:
//        the direct grants on the securable, by principal. Owners, MANAGE
//        holders (on it or an ancestor, with USE CATALOG / USE SCHEMA) and
//        metastore admins see every assignment and get 404 for a securable
//        that does not exist; anyone else sees only the assignments to
//        themselves and their groups (no existence check: names cannot be
//        probed). ?principal= keeps one principal's. 400 securable_type,
//        full_name, principal; 404. Audit "grant.get".
// PATCH  /api/2.1/unity-catalog/permissions/{securable_type}/{full_name}
//        body {changes: [{principal: string, add?: [privilege],
//        remove?: [privilege]}]} (at least one change; applied atomically,
//        in order, add before remove) -> {privilege_assignments: [...]} the
//        new direct grants. Needs ownership or MANAGE (CheckManage) or
//        metastore admin. 400 changes[i].principal / .add[j] / .remove[j]
//        (unknown privilege, one that cannot apply to the type, added and
//        removed at once), securable; 403 "bob lacks MANAGE on table ...";
//        404 securable, a principal that does not exist (for changes that
//        add; a remove-only change may name a dropped principal).
//        Audit "grant.update".
// GET    /api/2.1/unity-catalog/effective-permissions/{securable_type}/{full_name}[?principal=NAME]
//        -> {privilege_assignments: [{principal, privileges: [{privilege,
//        inherited_from_type, inherited_from_name, source (Vesta: "grant",
//        "owner" or "metastore_admin"), granted (Vesta: the privilege
//        granted, e.g. ALL_PRIVILEGES)}]}]}: every privilege NAME (default:
//        the caller; a user or group) holds, grouped by the principal it
//        comes through (the user or one of its groups);
//        inherited_from_type / _name are null when the source is the
//        securable itself. Asking about oneself needs nothing; about another
//        principal CheckManage or metastore admin. 400; 403; 404 principal,
//        securable (asking about another). Audit "grant.effective".
// PUT    /api/2.0/vesta/owners/{securable_type}/{full_name}
//        body {owner: string} -> {securable_type, full_name, owner}.
//        CheckManage or metastore admin. 400; 403; 404 securable, owner.
//        Audit "owner.set".
//
// --- Row filters and column masks (CheckManage on the table, or admin) --------
// PUT    /api/2.0/vesta/tables/{full_name}/row-filter
//        body {filter: string (the filter language: SQL-like, with
//        current_user() and is_member('g'))} -> {table, filter}. Replaces
//        any filter. 400 filter (syntax, unknown column), full_name; 403;
//        404 table. Audit "policy.row_filter.set".
// DELETE /api/2.0/vesta/tables/{full_name}/row-filter
//        -> {}. 403; 404 no row filter. Audit "policy.row_filter.drop".
// GET    /api/2.0/vesta/tables/{full_name}/row-filter
//        -> {table, filter: string|null}. 403; 404 table (when it has no
//        filter and does not exist). Audit "policy.row_filter.get".
// PUT    /api/2.0/vesta/tables/{full_name}/column-masks/{column}
//        body {mask: Mask, exempt_groups?: [string]} -> {column, mask: Mask,
//        exempt_groups}. Replaces the column's mask. 400 mask.kind,
//        mask.constant (type), mask.reveal_last, exempt_groups, a hash /
//        partial mask on a non-STRING column; 403; 404 table, column (the
//        message lists the columns). Audit "policy.column_mask.set".
// DELETE /api/2.0/vesta/tables/{full_name}/column-masks/{column}
//        -> {}. 403; 404 no mask on the column. Audit "policy.column_mask.drop".
// GET    /api/2.0/vesta/tables/{full_name}/column-masks
//        -> {column_masks: [{column, mask: Mask, exempt_groups}]} by column.
//        403; 404 table. Audit "policy.column_mask.list".
//
// --- Tags (set / unset: CheckManage or admin; list: read access or MANAGE) ----
// PUT    /api/2.0/vesta/tables/{full_name}/tags
//        body {key: string (1..255 bytes), value?: string (<= 1000 bytes;
//        default ""), column?: string (absent: a table tag)} -> {key, value,
//        column: string|null}. 400 key, value; 403; 404 table, column.
//        Audit "tag.set".
// DELETE /api/2.0/vesta/tables/{full_name}/tags/{key}[?column=COLUMN]
//        -> {}. 403; 404 no such tag. Audit "tag.unset".
// GET    /api/2.0/vesta/tables/{full_name}/tags
//        -> {tags: [{key, value, column: string|null}]} table tags first,
//        then by column, then by key. 403 (needs SELECT with USE CATALOG /
//        USE SCHEMA, or MANAGE); 404 table. Audit "tag.list".
//
// --- Tag policies (ABAC; metastore admins only) -------------------------------
// POST   /api/2.0/vesta/tag-policies
//        body {name: string (an identifier), kind: "mask"|"row_filter",
//        tag_key: string, tag_value?: string (absent: any value), mask: Mask
//        and exempt_groups?: [string] (kind mask), filter: string (kind
//        row_filter)} -> TagPolicy {name, kind, tag_key, tag_value
//        (string|null), mask + exempt_groups (kind mask) | filter (kind
//        row_filter), created_by, created_at (ms)}. 400; 403; 409 exists.
//        Audit "tag_policy.create".
// GET    /api/2.0/vesta/tag-policies -> {tag_policies: [TagPolicy]} by name.
//        403. Audit "tag_policy.list".
// DELETE /api/2.0/vesta/tag-policies/{name} -> {}. 403; 404.
//        Audit "tag_policy.drop".
//
// --- Audit log (metastore admins only) ----------------------------------------
// GET    /api/2.0/vesta/audit[?principal=&action=&action_prefix=&securable=
//        &outcome=&since=&until=&from_seq=&to_seq=&limit=&order=desc|asc]
//        since / until: ISO 8601 UTC ("2026-11-21T21:06:45Z"; since
//        inclusive, until exclusive); limit 1..100000 (default 100); order
//        desc (newest first, default) or asc. Paging: desc: next to_seq =
//        the last seq returned; asc: next from_seq = last seq + 1.
//        -> {records: [{seq, time (ISO 8601), time_us, principal, action,
//        securable, parameters (object), outcome, message, row_count, keys:
//        [string], prev_hash, hash}]}. This request's own record is not in
//        its answer. 400 a parameter (named); 403. Audit "audit.query".
// POST   /api/2.0/vesta/audit/verify
//        -> {intact: bool, records_checked, first_bad_seq (-1 when intact),
//        problem ("" when intact)}. Tampering is a 200 answer with intact
//        false. 403. Audit "audit.verify".
//
// --- Lineage ------------------------------------------------------------------
// GET    /api/2.0/vesta/lineage?name=NAME[&kind=table|index|query|job]
//        [&version=N][&direction=upstream|downstream][&max_depth=N]
//        kind default table; version default -1 (every version); direction
//        default upstream; max_depth 1..100 (default 8).
//        -> {edges: [{from: {kind, name, version}, to: {kind, name, version},
//        relation, time (ms), principal, details (object), edge_id,
//        depth}]}. Metastore admins see everything; others may ask only
//        about a table or index they may read, and see only edges among
//        such nodes. 400 name, kind, version, direction, max_depth; 403.
//        Audit "lineage.query".
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "service/internal/routes.h"

namespace vesta::service::internal {
namespace {

using governance::MaskSpec;
using governance::PrincipalKind;
using governance::Securable;
using governance::TagPolicy;

constexpr int64_t kDefaultAuditLimit = 100;
constexpr int64_t kMaxLineageDepth = 100;

int64_t Millis(Timestamp t) {
  return t.micros / 1000;
}

// --- Request fields -----------------------------------------------------------------

Result<PrincipalKind> ParseKind(const std::string& text, std::string_view field) {
  if (text == "user") return PrincipalKind::kUser;
  if (text == "group") return PrincipalKind::kGroup;
  return Status::InvalidArgument(std::string(field) + ": expected \"user\" or \"group\", got \"" +
                                 text.substr(0, 40) + "\"");
}

// {securable_type}/{full_name} from the path: 400 naming the part.
Result<Securable> SecurableFromPath(const Call& call) {
  Result<governance::SecurableType> type = governance::ParseSecurableType(call.Param(1));
  if (!type.ok()) return Status::InvalidArgument("securable_type: " + type.status().message());
  Result<Securable> s = Securable::Parse(*type, call.Param(2));
  if (!s.ok()) return Status::InvalidArgument("full_name: " + s.status().message());
  return s;
}

// A list of privileges (absent: empty): 400 naming the element.
Result<std::vector<governance::Privilege>> PrivilegeList(const json& obj, const std::string& field,
                                                         const std::string& where) {
  std::vector<governance::Privilege> out;
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) {
    return Status::InvalidArgument(where + "." + field + ": expected an array of privilege names, got " +
                                   JsonDump(*it).substr(0, 60));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& e = (*it)[i];
    const std::string name = where + "." + field + "[" + std::to_string(i) + "]";
    if (!e.is_string())
      return Status::InvalidArgument(name + ": expected a privilege name, got " + JsonDump(e));
    Result<governance::Privilege> p = governance::ParsePrivilege(e.get<std::string>());
    if (!p.ok()) return Status::InvalidArgument(name + ": " + p.status().message());
    out.push_back(*p);
  }
  return out;
}

Result<std::vector<governance::PermissionsChange>> ChangesFromJson(const json& body) {
  auto it = body.find("changes");
  if (it == body.end() || it->is_null())
    return Status::InvalidArgument("changes: required (an array of changes)");
  if (!it->is_array()) {
    return Status::InvalidArgument("changes: expected an array of {principal, add, remove}, got " +
                                   JsonDump(*it).substr(0, 60));
  }
  std::vector<governance::PermissionsChange> out;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& c = (*it)[i];
    const std::string where = "changes[" + std::to_string(i) + "]";
    if (!c.is_object()) {
      return Status::InvalidArgument(where + ": expected an object {principal, add, remove}, got " +
                                     JsonDump(c).substr(0, 60));
    }
    governance::PermissionsChange change;
    Result<std::string> principal = RequiredString(c, "principal");
    if (!principal.ok()) return Status::InvalidArgument(where + "." + principal.status().message());
    change.principal = *principal;
    VESTA_ASSIGN_OR_RETURN(change.add, PrivilegeList(c, "add", where));
    VESTA_ASSIGN_OR_RETURN(change.remove, PrivilegeList(c, "remove", where));
    out.push_back(std::move(change));
  }
  return out;
}

Result<Value> ConstantFromJson(const json& v, std::string_view field) {
  if (v.is_null()) return Value::Null();
  if (v.is_boolean()) return Value::Bool(v.get<bool>());
  if (v.is_number_integer()) return Value::Int(v.get<int64_t>());
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Status::InvalidArgument(std::string(field) + ": integer out of range");
    }
    return Value::Int(static_cast<int64_t>(v.get<uint64_t>()));
  }
  if (v.is_number_float()) return Value::Real(v.get<double>());
  if (v.is_string()) return Value::Str(v.get<std::string>());
  return Status::InvalidArgument(std::string(field) + ": expected a string, number, boolean or null, got " +
                                 JsonDump(v).substr(0, 60));
}

// {mask: {kind, constant, reveal_last}, exempt_groups} from `body`.
Result<MaskSpec> MaskFromBody(const json& body) {
  auto it = body.find("mask");
  if (it == body.end() || it->is_null())
    return Status::InvalidArgument("mask: required (an object {kind, ...})");
  if (!it->is_object()) {
    return Status::InvalidArgument("mask: expected an object {kind, ...}, got " +
                                   JsonDump(*it).substr(0, 60));
  }
  const json& m = *it;
  MaskSpec spec;
  Result<std::string> kind = RequiredString(m, "kind");
  if (!kind.ok()) return Status::InvalidArgument("mask." + kind.status().message());
  const std::string k = AsciiLower(*kind);
  if (k == "null") {
    spec.kind = MaskSpec::kNull;
  } else if (k == "constant") {
    spec.kind = MaskSpec::kConstant;
    if (!m.contains("constant"))
      return Status::InvalidArgument("mask.constant: required for kind \"constant\"");
    VESTA_ASSIGN_OR_RETURN(spec.constant, ConstantFromJson(m["constant"], "mask.constant"));
  } else if (k == "hash" || k == "keyed_hash") {
    spec.kind = MaskSpec::kKeyedHash;
  } else if (k == "partial" || k == "partial_reveal") {
    spec.kind = MaskSpec::kPartialReveal;
    Result<std::optional<int64_t>> reveal = OptionalInt(m, "reveal_last");
    if (!reveal.ok()) return Status::InvalidArgument("mask." + reveal.status().message());
    if (reveal->has_value()) {
      if (**reveal < 0 || **reveal > MaskSpec::kMaxRevealLast) {
        return Status::InvalidArgument("mask.reveal_last: must be 0.." +
                                       std::to_string(MaskSpec::kMaxRevealLast) + ", got " +
                                       std::to_string(**reveal));
      }
      spec.reveal_last = static_cast<int>(**reveal);
    }
  } else {
    return Status::InvalidArgument(
        "mask.kind: expected \"null\", \"constant\", \"hash\" or \"partial\", got \"" + kind->substr(0, 40) +
        "\"");
  }
  VESTA_ASSIGN_OR_RETURN(spec.exempt_groups, StringList(body, "exempt_groups"));
  for (size_t i = 0; i < spec.exempt_groups.size(); ++i) {
    Status st = governance::Principals::ValidateName("exempt_groups[" + std::to_string(i) + "]",
                                                     spec.exempt_groups[i]);
    if (!st.ok()) return st;
  }
  return spec;
}

// ?name= as an integer, or nullopt.
Result<std::optional<int64_t>> IntQuery(const Call& call, const std::string& name) {
  std::optional<std::string> v = call.Query(name);
  if (!v) return std::optional<int64_t>();
  VESTA_ASSIGN_OR_RETURN(int64_t i, ParseIntParam(*v, name));
  return std::optional<int64_t>(i);
}

Result<std::optional<Timestamp>> TimeQuery(const Call& call, const std::string& name) {
  std::optional<std::string> v = call.Query(name);
  if (!v) return std::optional<Timestamp>();
  Result<Timestamp> t = ParseTimestamp(*v);
  if (!t.ok()) return Status::InvalidArgument(name + ": " + t.status().message());
  return std::optional<Timestamp>(*t);
}

Result<bool> BoolQuery(const Call& call, const std::string& name) {
  std::optional<std::string> v = call.Query(name);
  if (!v) return false;
  const std::string l = AsciiLower(*v);
  if (l == "true" || l == "1") return true;
  if (l == "false" || l == "0") return false;
  return Status::InvalidArgument(name + ": expected true or false, got '" + v->substr(0, 40) + "'");
}

// --- Responses -------------------------------------------------------------------------

json PrincipalJson(const governance::PrincipalInfo& p) {
  return {{"name", p.name},
          {"kind", std::string(governance::PrincipalKindName(p.kind))},
          {"created_at", Millis(p.created_at)},
          {"created_by", p.created_by}};
}

json TokenInfoJson(const governance::TokenInfo& t) {
  return {{"token_id", t.token_id},
          {"creation_time", Millis(t.created_at)},
          {"expiry_time", t.expires_at ? Millis(*t.expires_at) : int64_t{-1}},
          {"comment", t.comment},
          {"principal", t.user},
          {"created_by", t.issued_by},
          {"revoked", t.revoked},
          {"revoked_time", t.revoked_at ? Millis(*t.revoked_at) : int64_t{-1}}};
}

json AssignmentsJson(const std::vector<governance::PrivilegeAssignment>& as) {
  json out = json::array();
  for (const auto& a : as) {
    json privs = json::array();
    for (governance::Privilege p : a.privileges)
      privs.push_back(std::string(governance::PrivilegeApiName(p)));
    out.push_back({{"principal", a.principal}, {"privileges", privs}});
  }
  return {{"privilege_assignments", out}};
}

json EffectiveJson(const std::vector<governance::EffectivePrivilege>& eps) {
  // Grouped by the principal each privilege comes through, in first-seen order.
  std::vector<std::string> order;
  std::map<std::string, json> by;
  for (const auto& e : eps) {
    if (!by.count(e.via_principal)) {
      order.push_back(e.via_principal);
      by[e.via_principal] = json::array();
    }
    json p = {{"privilege", std::string(governance::PrivilegeApiName(e.privilege))},
              {"inherited_from_type", nullptr},
              {"inherited_from_name", nullptr},
              {"source", e.kind},
              {"granted", std::string(governance::PrivilegeApiName(e.granted))}};
    if (e.inherited) {
      p["inherited_from_type"] = std::string(governance::SecurableTypeName(e.source.type));
      p["inherited_from_name"] = e.source.full_name;
    }
    by[e.via_principal].push_back(std::move(p));
  }
  json out = json::array();
  for (const std::string& who : order) out.push_back({{"principal", who}, {"privileges", by[who]}});
  return {{"privilege_assignments", out}};
}

std::string MaskKindApi(MaskSpec::Kind k) {
  switch (k) {
    case MaskSpec::kNull:
      return "null";
    case MaskSpec::kConstant:
      return "constant";
    case MaskSpec::kKeyedHash:
      return "hash";
    case MaskSpec::kPartialReveal:
      return "partial";
  }
  return "null";
}

json MaskJson(const MaskSpec& m) {
  json j = {{"kind", MaskKindApi(m.kind)}};
  if (m.kind == MaskSpec::kConstant) j["constant"] = ValueToJson(m.constant);
  if (m.kind == MaskSpec::kPartialReveal) j["reveal_last"] = m.reveal_last;
  return j;
}

json TagJson(const governance::Tag& t) {
  return {{"key", t.key}, {"value", t.value}, {"column", t.column ? json(*t.column) : json(nullptr)}};
}

json TagPolicyJson(const TagPolicy& p) {
  json j = {{"name", p.name},
            {"kind", p.kind == TagPolicy::Kind::kMask ? "mask" : "row_filter"},
            {"tag_key", p.tag_key},
            {"tag_value", p.tag_value ? json(*p.tag_value) : json(nullptr)},
            {"created_by", p.created_by},
            {"created_at", Millis(p.created_at)}};
  if (p.kind == TagPolicy::Kind::kMask) {
    j["mask"] = MaskJson(p.mask);
    j["exempt_groups"] = p.mask.exempt_groups;
  } else {
    j["filter"] = p.filter;
  }
  return j;
}

json AuditRecordJson(const governance::AuditRecord& r) {
  json params = r.parameters_json.empty() ? json::object() : json::parse(r.parameters_json, nullptr, false);
  if (params.is_discarded()) params = json::object();
  return {{"seq", r.seq},
          {"time", FormatTimestamp(r.time)},
          {"time_us", r.time.micros},
          {"principal", r.principal},
          {"action", r.action},
          {"securable", r.securable},
          {"parameters", params},
          {"outcome", r.outcome},
          {"message", r.message},
          {"row_count", r.row_count},
          {"keys", r.keys},
          {"prev_hash", r.prev_hash},
          {"hash", r.hash}};
}

json NodeJson(const governance::LineageNode& n) {
  return {{"kind", n.kind}, {"name", n.name}, {"version", n.version}};
}

json EdgeJson(const governance::LineageEdge& e) {
  json details = e.details_json.empty() ? json::object() : json::parse(e.details_json, nullptr, false);
  if (details.is_discarded()) details = json::object();
  return {{"from", NodeJson(e.from)}, {"to", NodeJson(e.to)},     {"relation", e.relation},
          {"time", Millis(e.time)},   {"principal", e.principal}, {"details", details},
          {"edge_id", e.edge_id},     {"depth", e.depth}};
}

void RegisterPrincipalRoutes(Router& r) {
  access::Governed& g = r.governed();
  r.Post("/api/2.0/vesta/principals", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(std::string name, RequiredString(call.body, "name"));
    VESTA_ASSIGN_OR_RETURN(std::string kind_text, RequiredString(call.body, "kind"));
    VESTA_ASSIGN_OR_RETURN(PrincipalKind kind, ParseKind(kind_text, "kind"));
    VESTA_ASSIGN_OR_RETURN(governance::PrincipalInfo info, g.CreatePrincipal(call.caller, name, kind));
    return PrincipalJson(info);
  });
  r.Get("/api/2.0/vesta/principals", [&g](const Call& call) -> Result<json> {
    std::optional<PrincipalKind> kind;
    if (auto k = call.Query("kind")) {
      VESTA_ASSIGN_OR_RETURN(kind, ParseKind(*k, "kind"));
    }
    VESTA_ASSIGN_OR_RETURN(auto list, g.ListPrincipals(call.caller, kind));
    json out = json::array();
    for (const auto& p : list) out.push_back(PrincipalJson(p));
    return json{{"principals", out}};
  });
  r.Get("/api/2.0/vesta/principals/{name}", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(access::Governed::PrincipalDetails d,
                           g.DescribePrincipal(call.caller, call.Param(1)));
    json out = PrincipalJson(d.info);
    out["groups"] = d.groups;
    json members = json::array();
    for (const auto& m : d.members) {
      members.push_back({{"name", m.name}, {"kind", std::string(governance::PrincipalKindName(m.kind))}});
    }
    out["members"] = members;
    return out;
  });
  r.Delete("/api/2.0/vesta/principals/{name}", [&g](const Call& call) -> Result<json> {
    VESTA_RETURN_IF_ERROR(g.DropPrincipal(call.caller, call.Param(1)));
    return json::object();
  });
  r.Post("/api/2.0/vesta/groups/{group}/members", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(std::string member, RequiredString(call.body, "member"));
    VESTA_RETURN_IF_ERROR(g.AddMember(call.caller, call.Param(1), member));
    return json{{"group", call.Param(1)}, {"member", member}};
  });
  r.Delete("/api/2.0/vesta/groups/{group}/members/{member}", [&g](const Call& call) -> Result<json> {
    VESTA_RETURN_IF_ERROR(g.RemoveMember(call.caller, call.Param(1), call.Param(2)));
    return json::object();
  });
}

void RegisterTokenRoutes(Router& r) {
  access::Governed& g = r.governed();
  r.Post("/api/2.0/token/create", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> comment, OptionalString(call.body, "comment"));
    VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> lifetime, OptionalInt(call.body, "lifetime_seconds"));
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> principal, OptionalString(call.body, "principal"));
    VESTA_ASSIGN_OR_RETURN(access::Governed::NewToken t,
                           g.IssueToken(call.caller, principal.value_or(""), lifetime, comment.value_or("")));
    return json{{"token_value", t.token}, {"token_info", TokenInfoJson(t.info)}};
  });
  r.Get("/api/2.0/token/list", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(bool include_inactive, BoolQuery(call, "include_inactive"));
    VESTA_ASSIGN_OR_RETURN(auto tokens,
                           g.ListTokens(call.caller, call.Query("principal").value_or(""), include_inactive));
    json out = json::array();
    for (const auto& t : tokens) out.push_back(TokenInfoJson(t));
    return json{{"token_infos", out}};
  });
  r.Post("/api/2.0/token/delete", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(std::string token_id, RequiredString(call.body, "token_id"));
    VESTA_RETURN_IF_ERROR(g.RevokeToken(call.caller, token_id));
    return json::object();
  });
}

void RegisterGrantRoutes(Router& r) {
  access::Governed& g = r.governed();
  r.Get("/api/2.1/unity-catalog/permissions/{securable_type}/{full_name}",
        [&g](const Call& call) -> Result<json> {
          VESTA_ASSIGN_OR_RETURN(Securable s, SecurableFromPath(call));
          VESTA_ASSIGN_OR_RETURN(auto as, g.GetPermissions(call.caller, s, call.Query("principal")));
          return AssignmentsJson(as);
        });
  r.Patch("/api/2.1/unity-catalog/permissions/{securable_type}/{full_name}",
          [&g](const Call& call) -> Result<json> {
            VESTA_ASSIGN_OR_RETURN(Securable s, SecurableFromPath(call));
            VESTA_ASSIGN_OR_RETURN(auto changes, ChangesFromJson(call.body));
            VESTA_ASSIGN_OR_RETURN(auto as, g.UpdatePermissions(call.caller, s, std::move(changes)));
            return AssignmentsJson(as);
          });
  r.Get("/api/2.1/unity-catalog/effective-permissions/{securable_type}/{full_name}",
        [&g](const Call& call) -> Result<json> {
          VESTA_ASSIGN_OR_RETURN(Securable s, SecurableFromPath(call));
          VESTA_ASSIGN_OR_RETURN(
              auto eps, g.EffectivePermissions(call.caller, s, call.Query("principal").value_or("")));
          return EffectiveJson(eps);
        });
  r.Put("/api/2.0/vesta/owners/{securable_type}/{full_name}", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(Securable s, SecurableFromPath(call));
    VESTA_ASSIGN_OR_RETURN(std::string owner, RequiredString(call.body, "owner"));
    VESTA_RETURN_IF_ERROR(g.SetOwner(call.caller, s, owner));
    return json{{"securable_type", std::string(governance::SecurableTypeName(s.type))},
                {"full_name", s.full_name},
                {"owner", owner}};
  });
}

void RegisterPolicyRoutes(Router& r) {
  access::Governed& g = r.governed();

  r.Put("/api/2.0/vesta/tables/{full_name}/row-filter", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_ASSIGN_OR_RETURN(std::string filter, RequiredString(call.body, "filter"));
    VESTA_RETURN_IF_ERROR(g.SetRowFilter(call.caller, name, filter));
    return json{{"table", name.ToString()}, {"filter", filter}};
  });
  r.Delete("/api/2.0/vesta/tables/{full_name}/row-filter", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_RETURN_IF_ERROR(g.DropRowFilter(call.caller, name));
    return json::object();
  });
  r.Get("/api/2.0/vesta/tables/{full_name}/row-filter", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> filter, g.GetRowFilter(call.caller, name));
    return json{{"table", name.ToString()}, {"filter", filter ? json(*filter) : json(nullptr)}};
  });

  r.Put("/api/2.0/vesta/tables/{full_name}/column-masks/{column}", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_ASSIGN_OR_RETURN(MaskSpec spec, MaskFromBody(call.body));
    const std::string column = call.Param(2);
    VESTA_RETURN_IF_ERROR(g.SetColumnMask(call.caller, name, column, spec));
    return json{{"column", column}, {"mask", MaskJson(spec)}, {"exempt_groups", spec.exempt_groups}};
  });
  r.Delete("/api/2.0/vesta/tables/{full_name}/column-masks/{column}", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_RETURN_IF_ERROR(g.DropColumnMask(call.caller, name, call.Param(2)));
    return json::object();
  });
  r.Get("/api/2.0/vesta/tables/{full_name}/column-masks", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_ASSIGN_OR_RETURN(auto masks, g.ListColumnMasks(call.caller, name));
    json out = json::array();
    for (const auto& [column, spec] : masks) {
      out.push_back({{"column", column}, {"mask", MaskJson(spec)}, {"exempt_groups", spec.exempt_groups}});
    }
    return json{{"column_masks", out}};
  });

  r.Put("/api/2.0/vesta/tables/{full_name}/tags", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_ASSIGN_OR_RETURN(std::string key, RequiredString(call.body, "key"));
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(call.body, "value"));
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> column, OptionalString(call.body, "column"));
    VESTA_RETURN_IF_ERROR(g.SetTag(call.caller, name, column, key, value.value_or("")));
    return json{
        {"key", key}, {"value", value.value_or("")}, {"column", column ? json(*column) : json(nullptr)}};
  });
  r.Delete("/api/2.0/vesta/tables/{full_name}/tags/{key}", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_RETURN_IF_ERROR(g.UnsetTag(call.caller, name, call.Query("column"), call.Param(2)));
    return json::object();
  });
  r.Get("/api/2.0/vesta/tables/{full_name}/tags", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_ASSIGN_OR_RETURN(auto tags, g.ListTags(call.caller, name));
    json out = json::array();
    for (const auto& t : tags) out.push_back(TagJson(t));
    return json{{"tags", out}};
  });

  r.Post("/api/2.0/vesta/tag-policies", [&g](const Call& call) -> Result<json> {
    TagPolicy p;
    VESTA_ASSIGN_OR_RETURN(p.name, RequiredString(call.body, "name"));
    VESTA_ASSIGN_OR_RETURN(std::string kind, RequiredString(call.body, "kind"));
    VESTA_ASSIGN_OR_RETURN(p.tag_key, RequiredString(call.body, "tag_key"));
    VESTA_ASSIGN_OR_RETURN(p.tag_value, OptionalString(call.body, "tag_value"));
    if (kind == "mask") {
      p.kind = TagPolicy::Kind::kMask;
      VESTA_ASSIGN_OR_RETURN(p.mask, MaskFromBody(call.body));
    } else if (kind == "row_filter") {
      p.kind = TagPolicy::Kind::kRowFilter;
      VESTA_ASSIGN_OR_RETURN(p.filter, RequiredString(call.body, "filter"));
    } else {
      return Status::InvalidArgument("kind: expected \"mask\" or \"row_filter\", got \"" +
                                     kind.substr(0, 40) + "\"");
    }
    VESTA_ASSIGN_OR_RETURN(TagPolicy created, g.CreateTagPolicy(call.caller, p));
    return TagPolicyJson(created);
  });
  r.Get("/api/2.0/vesta/tag-policies", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto policies, g.ListTagPolicies(call.caller));
    json out = json::array();
    for (const auto& p : policies) out.push_back(TagPolicyJson(p));
    return json{{"tag_policies", out}};
  });
  r.Delete("/api/2.0/vesta/tag-policies/{name}", [&g](const Call& call) -> Result<json> {
    VESTA_RETURN_IF_ERROR(g.DropTagPolicy(call.caller, call.Param(1)));
    return json::object();
  });
}

void RegisterAuditAndLineageRoutes(Router& r) {
  access::Governed& g = r.governed();
  r.Get("/api/2.0/vesta/audit", [&g](const Call& call) -> Result<json> {
    governance::AuditQuery q;
    q.principal = call.Query("principal");
    q.action = call.Query("action");
    q.action_prefix = call.Query("action_prefix");
    q.securable = call.Query("securable");
    q.outcome = call.Query("outcome");
    VESTA_ASSIGN_OR_RETURN(q.from_time, TimeQuery(call, "since"));
    VESTA_ASSIGN_OR_RETURN(q.to_time, TimeQuery(call, "until"));
    VESTA_ASSIGN_OR_RETURN(q.from_seq, IntQuery(call, "from_seq"));
    VESTA_ASSIGN_OR_RETURN(q.to_seq, IntQuery(call, "to_seq"));
    VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> limit, IntQuery(call, "limit"));
    q.limit = limit.value_or(kDefaultAuditLimit);
    if (q.limit < 1 || q.limit > governance::AuditQuery::kMaxLimit) {
      return Status::InvalidArgument("limit: must be 1.." +
                                     std::to_string(governance::AuditQuery::kMaxLimit) + ", got " +
                                     std::to_string(q.limit));
    }
    const std::string order = call.Query("order").value_or("desc");
    if (order != "desc" && order != "asc") {
      return Status::InvalidArgument("order: expected \"desc\" or \"asc\", got \"" + order.substr(0, 40) +
                                     "\"");
    }
    q.newest_first = order == "desc";
    if (q.outcome && *q.outcome != "allowed" && *q.outcome != "denied" && *q.outcome != "error") {
      return Status::InvalidArgument("outcome: expected \"allowed\", \"denied\" or \"error\", got \"" +
                                     q.outcome->substr(0, 40) + "\"");
    }
    VESTA_ASSIGN_OR_RETURN(auto records, g.QueryAudit(call.caller, q));
    json out = json::array();
    for (const auto& rec : records) out.push_back(AuditRecordJson(rec));
    return json{{"records", out}};
  });
  r.Post("/api/2.0/vesta/audit/verify", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(access::AuditVerification v, g.VerifyAudit(call.caller));
    return json{{"intact", v.intact},
                {"records_checked", v.records_checked},
                {"first_bad_seq", v.first_bad_seq},
                {"problem", v.problem}};
  });
  r.Get("/api/2.0/vesta/lineage", [&g](const Call& call) -> Result<json> {
    governance::LineageNode node;
    node.kind = call.Query("kind").value_or("table");
    if (node.kind != "table" && node.kind != "index" && node.kind != "query" && node.kind != "job") {
      return Status::InvalidArgument("kind: expected table, index, query or job, got \"" +
                                     node.kind.substr(0, 40) + "\"");
    }
    std::optional<std::string> name = call.Query("name");
    if (!name || name->empty()) return Status::InvalidArgument("name: required (the node's name)");
    if (node.kind == "table" || node.kind == "index") {
      VESTA_ASSIGN_OR_RETURN(auto parsed, ParseName(*name, "name"));
      node.name = parsed.ToString();
    } else {
      if (name->size() > 256) return Status::InvalidArgument("name: at most 256 bytes");
      node.name = *name;
    }
    VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> version, IntQuery(call, "version"));
    node.version = version.value_or(-1);
    if (node.version < -1) {
      return Status::InvalidArgument("version: must be >= 0 (or -1: every version), got " +
                                     std::to_string(node.version));
    }
    const std::string direction = call.Query("direction").value_or("upstream");
    if (direction != "upstream" && direction != "downstream") {
      return Status::InvalidArgument("direction: expected upstream or downstream, got \"" +
                                     direction.substr(0, 40) + "\"");
    }
    VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> depth, IntQuery(call, "max_depth"));
    const int64_t max_depth = depth.value_or(8);
    if (max_depth < 1 || max_depth > kMaxLineageDepth) {
      return Status::InvalidArgument("max_depth: must be 1.." + std::to_string(kMaxLineageDepth) + ", got " +
                                     std::to_string(max_depth));
    }
    VESTA_ASSIGN_OR_RETURN(auto edges, direction == "upstream"
                                           ? g.Upstream(call.caller, node, static_cast<int>(max_depth))
                                           : g.Downstream(call.caller, node, static_cast<int>(max_depth)));
    json out = json::array();
    for (const auto& e : edges) out.push_back(EdgeJson(e));
    return json{{"edges", out}};
  });
}

}  // namespace

void RegisterGovernanceRoutes(Router& router) {
  RegisterPrincipalRoutes(router);
  RegisterTokenRoutes(router);
  RegisterGrantRoutes(router);
  RegisterPolicyRoutes(router);
  RegisterAuditAndLineageRoutes(router);
}

}  // namespace vesta::service::internal
