#include "access/governed.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "access/internal/governed_impl.h"
#include "filter/parser.h"

namespace vesta::access {
namespace {

using governance::AuditRecord;
using governance::ColumnMask;
using governance::EffectivePolicy;
using governance::MaskSpec;
using governance::ReadOptions;
using governance::ReadResult;
using governance::Securable;
using governance::TableName;
using json = nlohmann::json;

}  // namespace

// Shared with the other access/*.cc files (access/internal/governed_impl.h).
namespace internal {

// `s` as valid UTF-8 for an audit record (AuditLog::Append refuses anything
// else): each byte that is not part of a well-formed sequence becomes the
// four characters "\xNN". Valid text is returned unchanged.
std::string AuditText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    }
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (ok) {
      static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMinForLength[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!ok) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

// JSON text for the audit: never throws on invalid UTF-8 in user text.
std::string DumpJson(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The user's filter text parsed, with the caller's current_user() and
// is_member() resolved, and bound against `schema`. Errors: those of the
// parser and of Bind (InvalidArgument).
Result<filter::BoundExpr> BindUserFilter(const std::string& text, const Schema& schema,
                                         const Caller& caller) {
  VESTA_ASSIGN_OR_RETURN(filter::Expr parsed, filter::ParseFilterString(text));
  return filter::Bind(governance::ResolveCallerFunctions(parsed, caller.context), schema);
}

// The AND of `parts` (bound against `schema`) as the canonical filter_string
// text Store::Read compiles to SQL; "" for no parts. Fails closed if the
// text does not parse and bind back to the very same tree: the store must
// run exactly the predicate built here. Errors: InvalidArgument if the
// combined text exceeds the filter language's limits; Internal otherwise.
Result<std::string> StorePredicate(const std::vector<filter::Expr>& parts, const Schema& schema) {
  if (parts.empty()) return std::string();
  Result<filter::BoundExpr> bound = filter::Bind(filter::Expr::And(parts), schema);
  if (!bound.ok()) return Status::Internal("governed predicate does not bind: " + bound.status().message());
  std::string text = bound->ToString();
  Result<filter::Expr> reparsed = filter::ParseFilterString(text);
  if (!reparsed.ok()) {
    return Status::InvalidArgument("predicate combined with the row filter: " + reparsed.status().message());
  }
  Result<filter::BoundExpr> rebound = filter::Bind(*reparsed, schema);
  if (!rebound.ok() || !(rebound->expr() == bound->expr())) {
    return Status::Internal("governed predicate does not survive its canonical text form");
  }
  return text;
}

}  // namespace internal

namespace {

using internal::AuditText;
using internal::BindUserFilter;
using internal::DumpJson;
using internal::StorePredicate;

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::string ColumnList(const Schema& schema) {
  std::string out;
  for (size_t i = 0; i < schema.columns.size(); ++i) {
    if (i > 0) out += ", ";
    out += schema.columns[i].name;
  }
  return out;
}

Value MaskValue(const std::optional<ColumnMask>& mask, Value v) {
  return mask ? mask->Apply(v) : v;
}

// NULLs first, then CompareValues order (masked primary keys: all STRING, or
// all NULL / one constant).
bool MaskedKeyLess(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && !b.is_null();
  std::optional<int> c = CompareValues(a, b);
  return c && *c < 0;
}

// The names of the columns of `f` whose masks a filter cannot express.
std::string MaskedEvalColumnsOf(const filter::BoundExpr& f, const EffectivePolicy& ep) {
  std::string out;
  for (int c : f.ReferencedColumns()) {
    if (!std::binary_search(ep.masked_eval_columns.begin(), ep.masked_eval_columns.end(), c)) continue;
    const auto& mask = ep.masks[static_cast<size_t>(c)];
    if (!out.empty()) out += ", ";
    out += "'" + ep.schema.columns[static_cast<size_t>(c)].name + "' (" +
           std::string(governance::MaskKindName(mask ? mask->kind() : MaskSpec::kNull)) + ")";
  }
  return out;
}

}  // namespace

// struct Governed::Impl: access/internal/governed_impl.h.

Governed::Governed() : impl_(std::make_unique<Impl>()) {}
Governed::~Governed() = default;

Result<std::unique_ptr<Governed>> Governed::Open(const std::string& store_path) {
  std::unique_ptr<Governed> g(new Governed());
  Impl& impl = *g->impl_;
  governance::StoreOptions options;
  options.create_if_missing = false;
  VESTA_ASSIGN_OR_RETURN(impl.store, governance::Store::Open(store_path, options));
  VESTA_ASSIGN_OR_RETURN(impl.principals, governance::Principals::Open(store_path));
  VESTA_ASSIGN_OR_RETURN(impl.privileges, governance::Privileges::Open(store_path));
  VESTA_ASSIGN_OR_RETURN(impl.policies, governance::Policies::Open(*impl.store));
  VESTA_ASSIGN_OR_RETURN(impl.audit, governance::AuditLog::Open(store_path));
  VESTA_ASSIGN_OR_RETURN(impl.lineage, governance::Lineage::Open(store_path));
  return g;
}

governance::Store& Governed::store() {
  return *impl_->store;
}
governance::Principals& Governed::principals() {
  return *impl_->principals;
}
governance::Privileges& Governed::privileges() {
  return *impl_->privileges;
}
governance::Policies& Governed::policies() {
  return *impl_->policies;
}
governance::AuditLog& Governed::audit() {
  return *impl_->audit;
}
governance::Lineage& Governed::lineage() {
  return *impl_->lineage;
}

// --- Identity ----------------------------------------------------------------

Result<Caller> Governed::Authenticate(std::string_view bearer_token) {
  AuditRecord rec = Impl::NewRecord(Caller{}, "auth.token", "");
  if (bearer_token.empty()) {
    return impl_->Fail(std::move(rec), json::object(), Status::Unauthenticated("no bearer token given"));
  }
  Result<governance::AuthenticatedPrincipal> who = impl_->principals->Authenticate(bearer_token);
  if (!who.ok()) return impl_->Fail(std::move(rec), json::object(), who.status());
  Caller c;
  c.user = who->user;
  c.groups = who->groups;
  c.metastore_admin = who->metastore_admin;
  c.context = who->ToEvalContext();
  c.token_id = who->token_id;
  return c;
}

Result<Caller> Governed::CallerFor(const std::string& user) {
  VESTA_ASSIGN_OR_RETURN(governance::PrincipalInfo info, impl_->principals->Get(user));
  if (info.kind != governance::PrincipalKind::kUser) {
    return Status::InvalidArgument("'" + info.name + "' is a group, not a user");
  }
  governance::AuthenticatedPrincipal who;
  who.user = info.name;
  VESTA_ASSIGN_OR_RETURN(who.groups, impl_->principals->GroupsOf(info.name));
  VESTA_ASSIGN_OR_RETURN(who.metastore_admin, impl_->principals->IsMetastoreAdmin(info.name));
  Caller c;
  c.user = who.user;
  c.groups = who.groups;
  c.metastore_admin = who.metastore_admin;
  c.context = who.ToEvalContext();  // the same snapshot as `groups`
  return c;
}

// --- Table reads -------------------------------------------------------------

Result<ReadResult> Governed::ReadTable(const Caller& caller, const TableName& table,
                                       const ReadOptions& options) {
  AuditRecord rec = Impl::NewRecord(caller, "table.read", table.ToString());
  const std::string query_id = impl_->NewQueryId();
  json params = json::object();
  params["predicate"] = options.predicate;
  params["columns"] = options.columns;
  params["limit"] = options.limit;
  params["order_by_primary_key"] = options.order_by_primary_key;
  if (options.at.version) params["version"] = *options.at.version;
  if (options.at.timestamp) params["timestamp"] = FormatTimestamp(*options.at.timestamp);
  if (options.after_primary_key) params["after_primary_key"] = options.after_primary_key->ToString();
  params["query_id"] = query_id;
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;

  std::vector<std::string> keys;
  Result<ReadResult> r = impl_->ReadTable(caller, table, options, &params, &keys);
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  const int64_t version = r->version;
  VESTA_RETURN_IF_ERROR(impl_->Allow(std::move(rec), params, static_cast<int64_t>(r->rows.size()),
                                     std::move(keys), {{"table", table.ToString(), version}}, query_id));
  r->query_id = query_id;
  return r;
}

Result<ReadResult> Governed::Impl::ReadTable(const Caller& caller, const TableName& table,
                                             const ReadOptions& options, json* params,
                                             std::vector<std::string>* keys) {
  VESTA_RETURN_IF_ERROR(
      privileges->CheckRead(caller.user, internal::GroupSet(caller), Securable::Table(table), caller.metastore_admin));

  // One version for the schema, the policies and the rows.
  VESTA_ASSIGN_OR_RETURN(const int64_t version, store->ResolveVersion(table, options.at));
  (*params)["version_read"] = version;
  VESTA_ASSIGN_OR_RETURN(governance::TableInfo info, store->DescribeTable(table, {.version = version}));
  const Schema& schema = info.schema;
  const int pk = schema.primary_key_index();
  if (pk < 0) return Status::Internal("table " + table.ToString() + " has no primary key column");

  VESTA_ASSIGN_OR_RETURN(EffectivePolicy ep, policies->Resolve(table, schema, caller.context));
  (*params)["policies"] = ep.applied;

  // The caller's predicate: as given (for evaluation on masked rows) and
  // rewritten so that it sees masked values (for SQL over raw values).
  std::optional<filter::BoundExpr> user;
  std::optional<filter::BoundExpr> user_rewritten;
  if (!IsBlank(options.predicate)) {
    VESTA_ASSIGN_OR_RETURN(user, BindUserFilter(options.predicate, schema, caller));
    VESTA_ASSIGN_OR_RETURN(user_rewritten, governance::RewriteFilterForMasks(*user, ep));
  }
  const bool masked_eval = user_rewritten && governance::NeedsMaskedRowEvaluation(*user_rewritten, ep);
  const std::optional<ColumnMask>& pk_mask = ep.masks[static_cast<size_t>(pk)];
  const bool by_pk = options.order_by_primary_key || options.after_primary_key.has_value();
  if (options.after_primary_key && pk_mask && pk_mask->kind() != MaskSpec::kKeyedHash) {
    return Status::FailedPrecondition(
        "after_primary_key: the primary key '" + schema.columns[pk].name + "' of " + table.ToString() +
        " is masked (" + std::string(governance::MaskKindName(pk_mask->kind())) + ") for " + caller.user +
        ", so its values do not identify rows; read without paging");
  }
  const bool in_memory = masked_eval || (pk_mask && by_pk);
  (*params)["evaluation"] = in_memory ? "masked_rows" : "sql";

  // The columns returned (schema indices), validated as Store::Read would.
  std::vector<int> out_cols;
  if (options.columns.empty()) {
    for (size_t i = 0; i < schema.columns.size(); ++i) out_cols.push_back(static_cast<int>(i));
  } else {
    for (const std::string& c : options.columns) {
      const int i = schema.FindColumn(c);
      if (i < 0) {
        return Status::NotFound("column '" + c + "' is not in " + table.ToString() + " at version " +
                                std::to_string(version) + " (columns: " + ColumnList(schema) + ")");
      }
      out_cols.push_back(i);
    }
  }
  // The columns read: the ones returned plus the primary key (for the
  // audit, and in memory for the ordering), and in memory the predicate's.
  std::vector<int> read_cols;
  if (in_memory) {
    std::vector<int> need = out_cols;
    need.push_back(pk);
    if (user) {
      for (int c : user->ReferencedColumns()) need.push_back(c);
    }
    std::sort(need.begin(), need.end());
    need.erase(std::unique(need.begin(), need.end()), need.end());
    read_cols = need;
  } else {
    read_cols = out_cols;
    if (std::find(read_cols.begin(), read_cols.end(), pk) == read_cols.end()) read_cols.push_back(pk);
  }
  const size_t pk_pos =
      static_cast<size_t>(std::find(read_cols.begin(), read_cols.end(), pk) - read_cols.begin());

  std::vector<filter::Expr> sql_parts;
  if (ep.row_filter) sql_parts.push_back(ep.row_filter->expr());
  if (user_rewritten && !in_memory) sql_parts.push_back(user_rewritten->expr());

  ReadOptions ro;
  ro.at.version = version;
  for (int i : read_cols) ro.columns.push_back(schema.columns[static_cast<size_t>(i)].name);
  VESTA_ASSIGN_OR_RETURN(ro.predicate, StorePredicate(sql_parts, schema));
  if (!in_memory) {
    ro.limit = options.limit;
    ro.order_by_primary_key = options.order_by_primary_key;
    ro.after_primary_key = options.after_primary_key;
  } else if (!pk_mask) {
    // The key is visible: the store may order and page by it; only the
    // limit must wait for the predicate.
    ro.order_by_primary_key = options.order_by_primary_key;
    ro.after_primary_key = options.after_primary_key;
  }
  VESTA_ASSIGN_OR_RETURN(ReadResult raw, store->Read(table, ro));
  if (raw.version != version || raw.columns.size() != read_cols.size()) {
    return Status::Internal("read of " + table.ToString() + " returned version " +
                            std::to_string(raw.version) + " with " + std::to_string(raw.columns.size()) +
                            " columns; expected version " + std::to_string(version) + " with " +
                            std::to_string(read_cols.size()));
  }

  ReadResult out;
  out.table = raw.table;
  out.version = raw.version;
  for (int i : out_cols) out.columns.push_back(schema.columns[static_cast<size_t>(i)]);

  if (!in_memory) {
    // read_cols starts with out_cols.
    out.rows.reserve(raw.rows.size());
    for (Row& row : raw.rows) {
      keys->push_back(AuditText(row[pk_pos].ToString()));
      Row r;
      r.reserve(out_cols.size());
      for (size_t j = 0; j < out_cols.size(); ++j) {
        r.push_back(MaskValue(ep.masks[static_cast<size_t>(out_cols[j])], std::move(row[j])));
      }
      out.rows.push_back(std::move(r));
    }
    return out;
  }

  // In memory: mask, then the caller's predicate on masked values, then the
  // ordering, paging and limit on masked keys.
  struct Kept {
    Row masked;
    Value raw_key;
  };
  // Masking is the cost here (an HMAC per keyed-hash cell): the
  // predicate's columns are masked first, and the columns returned (and the
  // key, which orders) only for the rows it keeps. The other columns of a
  // kept row stay raw in `masked` and are never returned.
  std::vector<int> pred_cols = user ? user->ReferencedColumns() : std::vector<int>{};
  std::vector<int> rest_cols;
  for (int c : out_cols) {
    if (std::find(pred_cols.begin(), pred_cols.end(), c) == pred_cols.end()) rest_cols.push_back(c);
  }
  if (std::find(pred_cols.begin(), pred_cols.end(), pk) == pred_cols.end() &&
      std::find(rest_cols.begin(), rest_cols.end(), pk) == rest_cols.end()) {
    rest_cols.push_back(pk);
  }
  // A keyed hash is an HMAC per cell, and a column's values repeat (one
  // patient, many mutations): each distinct value of a non-key column is
  // hashed once per read.
  std::vector<std::unordered_map<std::string, Value>> hashed(schema.columns.size());
  auto mask_cells = [&ep, &hashed, pk](Row& row, const std::vector<int>& cols) {
    for (int c : cols) {
      const auto& mask = ep.masks[static_cast<size_t>(c)];
      if (!mask) continue;
      Value& v = row[static_cast<size_t>(c)];
      if (c != pk && mask->kind() == governance::MaskSpec::kKeyedHash && v.is_string()) {
        auto [it, fresh] = hashed[static_cast<size_t>(c)].try_emplace(v.as_string());
        if (fresh) it->second = mask->Apply(v);
        v = it->second;
      } else {
        v = mask->Apply(v);
      }
    }
  };
  std::vector<Kept> kept;
  for (Row& narrow : raw.rows) {
    // Full width (the predicate is bound to schema positions); the columns
    // not read stay NULL and are neither evaluated nor returned.
    Row row(schema.columns.size());
    for (size_t j = 0; j < read_cols.size(); ++j) row[static_cast<size_t>(read_cols[j])] = std::move(narrow[j]);
    Value raw_key = row[static_cast<size_t>(pk)];
    mask_cells(row, pred_cols);
    if (user && !filter::Matches(*user, row, caller.context)) continue;
    mask_cells(row, rest_cols);
    kept.push_back({std::move(row), std::move(raw_key)});
  }
  if (pk_mask && by_pk) {
    std::stable_sort(kept.begin(), kept.end(), [pk](const Kept& a, const Kept& b) {
      return MaskedKeyLess(a.masked[static_cast<size_t>(pk)], b.masked[static_cast<size_t>(pk)]);
    });
    if (options.after_primary_key) {
      // A keyed hash (checked above): the masked keys are strings.
      const Value& given = *options.after_primary_key;
      const Value after = given.is_string() ? given : Value::Str(given.ToString());
      kept.erase(std::remove_if(
                     kept.begin(), kept.end(),
                     [&](const Kept& k) { return !MaskedKeyLess(after, k.masked[static_cast<size_t>(pk)]); }),
                 kept.end());
    }
  }
  if (options.limit >= 0 && kept.size() > static_cast<size_t>(options.limit)) {
    kept.resize(static_cast<size_t>(options.limit));
  }
  out.rows.reserve(kept.size());
  for (Kept& k : kept) {
    keys->push_back(AuditText(k.raw_key.ToString()));
    Row r;
    r.reserve(out_cols.size());
    for (int i : out_cols) r.push_back(k.masked[static_cast<size_t>(i)]);
    out.rows.push_back(std::move(r));
  }
  return out;
}

// --- Change feed -------------------------------------------------------------

Result<governance::ChangeFeed> Governed::Changes(const Caller& caller, const TableName& table,
                                                 int64_t start_version, int64_t end_version) {
  AuditRecord rec = Impl::NewRecord(caller, "table.changes", table.ToString());
  const std::string query_id = impl_->NewQueryId();
  json params = json::object();
  params["start_version"] = start_version;
  params["end_version"] = end_version;
  params["query_id"] = query_id;
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;

  std::vector<std::string> keys;
  Result<governance::ChangeFeed> r =
      impl_->Changes(caller, table, start_version, end_version, &params, &keys);
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  const int64_t version = r->end_version;
  VESTA_RETURN_IF_ERROR(impl_->Allow(std::move(rec), params, static_cast<int64_t>(r->changes.size()),
                                     std::move(keys), {{"table", table.ToString(), version}}, query_id));
  return r;
}

Result<governance::ChangeFeed> Governed::Impl::Changes(const Caller& caller, const TableName& table,
                                                       int64_t start_version, int64_t end_version,
                                                       json* params, std::vector<std::string>* keys) {
  VESTA_RETURN_IF_ERROR(
      privileges->CheckRead(caller.user, internal::GroupSet(caller), Securable::Table(table), caller.metastore_admin));
  VESTA_ASSIGN_OR_RETURN(governance::ChangeFeed feed, store->Changes(table, start_version, end_version));
  // The feed's rows have the columns of the schema at end_version; the
  // primary key never changes.
  VESTA_ASSIGN_OR_RETURN(governance::TableInfo info, store->DescribeTable(table));
  Schema schema;
  schema.columns = feed.columns;
  schema.primary_key = info.schema.primary_key;
  const int pk = schema.primary_key_index();
  if (pk < 0) {
    return Status::Internal("the change feed of " + table.ToString() + " lacks its primary key column '" +
                            schema.primary_key + "'");
  }
  VESTA_ASSIGN_OR_RETURN(EffectivePolicy ep, policies->Resolve(table, schema, caller.context));
  (*params)["policies"] = ep.applied;

  // Each image on its own: an update that leaves the caller's view keeps
  // only its preimage, one that enters it only its postimage.
  const filter::EvalContext no_context;  // the row filter is folded
  std::vector<governance::ChangeRow> visible;
  std::set<std::string> seen;
  for (governance::ChangeRow& change : feed.changes) {
    if (change.row.size() != schema.columns.size()) {
      return Status::Internal("change row of " + table.ToString() + " has " +
                              std::to_string(change.row.size()) + " values for " +
                              std::to_string(schema.columns.size()) + " columns");
    }
    if (ep.row_filter && !filter::Matches(*ep.row_filter, change.row, no_context)) continue;
    std::string key = AuditText(change.row[static_cast<size_t>(pk)].ToString());
    if (seen.insert(key).second) keys->push_back(std::move(key));
    ep.ApplyMasks(&change.row);
    visible.push_back(std::move(change));
  }
  feed.changes = std::move(visible);
  return feed;
}

// --- Index queries -----------------------------------------------------------

Result<IndexQueryResult> Governed::QueryIndex(const Caller& caller, const IndexRef& index,
                                              const IndexQuery& query) {
  AuditRecord rec = Impl::NewRecord(caller, "index.query", index.name.ToString());
  const std::string query_id = impl_->NewQueryId();
  json params = json::object();
  params["source"] = index.source.ToString();
  params["filter"] = query.filter;
  params["k"] = query.k;
  params["columns"] = query.columns;
  if (query.ef_search) params["ef_search"] = *query.ef_search;
  params["query_id"] = query_id;
  if (!caller.token_id.empty()) params["token_id"] = caller.token_id;

  std::vector<std::string> keys;
  Result<IndexQueryResult> r = impl_->QueryIndex(caller, index, query, &params, &keys);
  if (!r.ok()) return impl_->Fail(std::move(rec), params, r.status());
  r->query_id = query_id;
  const int64_t version = r->index_version;
  VESTA_RETURN_IF_ERROR(impl_->Allow(std::move(rec), params, static_cast<int64_t>(r->rows.size()),
                                     std::move(keys),
                                     {{"index", index.name.ToString(), version},
                                      {"table", index.source.ToString(), version}},
                                     query_id));
  return r;
}

Result<IndexQueryResult> Governed::Impl::QueryIndex(const Caller& caller, const IndexRef& ref,
                                                    const IndexQuery& query, json* params,
                                                    std::vector<std::string>* keys) {
  // Privileges, one snapshot for the search and the attribute values
  // returned, the source table's policies resolved against the index's
  // columns, the row filter bound against its attributes (fails closed).
  VESTA_ASSIGN_OR_RETURN(internal::PinnedIndex pinned, PinIndex(caller, ref, /*with_vector=*/false, params));
  const std::shared_ptr<const index::IndexSnapshot>& snap = pinned.snap;
  const index::IndexSpec& spec = snap->spec();
  const std::string& iname = pinned.name;
  const Schema& full = pinned.columns;
  const std::vector<int>& attr_of = pinned.attr_of;
  const EffectivePolicy& ep = pinned.policy;

  std::vector<filter::Expr> parts;
  if (pinned.row_filter) parts.push_back(ep.row_filter->expr());
  if (!IsBlank(query.filter)) {
    VESTA_ASSIGN_OR_RETURN(filter::BoundExpr user, BindUserFilter(query.filter, full, caller));
    VESTA_ASSIGN_OR_RETURN(filter::BoundExpr rewritten, governance::RewriteFilterForMasks(user, ep));
    if (governance::NeedsMaskedRowEvaluation(rewritten, ep)) {
      return Status::FailedPrecondition("filter on " + MaskedEvalColumnsOf(rewritten, ep) + " of index " +
                                        iname + ": the column is masked for " + caller.user +
                                        " and a filter on its masked values is not supported inside an index "
                                        "search yet; filter with ReadTable or drop the condition");
    }
    Result<filter::BoundExpr> b = filter::Bind(rewritten.expr(), spec.attributes);
    if (!b.ok()) {
      return Status::InvalidArgument(
          "filter: column '" + spec.primary_key.name + "' is the primary key of index " + iname +
          " and not a filterable attribute (attributes: " + ColumnList(spec.attributes) + ")");
    }
    parts.push_back(rewritten.expr());
  }
  std::optional<filter::BoundExpr> search_filter;
  if (!parts.empty()) {
    Result<filter::BoundExpr> b = filter::Bind(filter::Expr::And(parts), spec.attributes);
    if (!b.ok())
      return Status::Internal("search filter of " + iname + " does not bind: " + b.status().message());
    search_filter = std::move(b).value();
  }

  VESTA_ASSIGN_OR_RETURN(const std::vector<size_t> out_cols, internal::SelectIndexColumns(pinned, query.columns));

  index::SearchRequest request;
  request.k = query.k;
  request.filter = search_filter ? &*search_filter : nullptr;  // folded: no context needed
  request.ef_search = query.ef_search;
  VESTA_ASSIGN_OR_RETURN(index::SearchResult found,
                         snap->Search(query.vector.data(), query.vector.size(), request));
  (*params)["plan"] = std::string(index::SearchPlanName(found.plan));

  IndexQueryResult out;
  out.columns.push_back(full.columns[0].name);
  for (size_t i : out_cols) out.columns.push_back(full.columns[i].name);
  out.columns.push_back("score");
  out.index_version = found.version;
  out.plan = found.plan;
  out.policies_applied = ep.applied;
  out.scores = found.scores;
  const index::AttributeStore& attrs = snap->attributes();
  out.rows.reserve(found.ids.size());
  for (size_t r = 0; r < found.ids.size(); ++r) {
    keys->push_back(AuditText(found.keys[r].ToString()));
    Row row;
    row.reserve(out_cols.size() + 2);
    row.push_back(MaskValue(ep.masks[0], found.keys[r]));
    for (size_t i : out_cols) {
      row.push_back(MaskValue(ep.masks[i], attrs.GetValue(found.ids[r], attr_of[i])));
    }
    row.push_back(Value::Real(static_cast<double>(found.scores[r])));
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace vesta::access
