// Table routes: see service/internal/routes.h. Unity Catalog's REST API 2.1
// shapes where Unity Catalog has the route; Vesta's table data routes under
// /api/2.0/vesta/. Every route needs a bearer token (401 UNAUTHENTICATED
// without a valid one) and answers errors as {"error_code", "message"}
// (service/errors.h). Bodies, where a route takes one, are JSON objects sent
// as application/json (415 UNSUPPORTED_MEDIA_TYPE otherwise; 400
// INVALID_ARGUMENT for invalid JSON, including NaN / Infinity, which JSON
// cannot spell). A field given as JSON null counts as absent.
//
// Common errors, on every route below:
//   400 INVALID_ARGUMENT   a bad field or parameter; the message names it
//                          ("limit: must be in 1..10000, got 0")
//   401 UNAUTHENTICATED    missing, unknown, revoked or expired token
//   403 PERMISSION_DENIED  the caller lacks a privilege; the message names it
//                          and the securable ("bob lacks SELECT on table
//                          main.clinical.patients"). Privileges are checked
//                          before existence, so a caller without them cannot
//                          tell a missing object from a forbidden one.
//   404 NOT_FOUND          unknown catalog, schema, table, version or column
//   409 ALREADY_EXISTS / ABORTED   name taken / concurrent commit: retry
//   400 FAILED_PRECONDITION vacuumed version; a policy that fails closed
// Audit: every request is audited exactly once: by the governed call named
// below (its action), or, when the request was refused before one ran (bad
// field, invalid JSON, 401 ...), by the router as action "http.request".
//
// Names. {full_name} is a three-level name "catalog.schema.table" (each part
// [A-Za-z_][A-Za-z0-9_]*, at most 128 bytes; URL-encoded in the path); any
// other text is 400 naming "full_name". Timestamps in responses are
// "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC) except created_at (epoch ms, as Unity
// Catalog). Values in rows follow service/internal/http.h "Values": BIGINT
// integer, DOUBLE number, STRING string, BOOLEAN true/false, DATE
// "YYYY-MM-DD", TIMESTAMP "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", VECTOR(d) array
// of d finite numbers, NULL null.
//
// WriteResult (the answer of every data write):
//   {"table": "main.clinical.patients", "version": int (the version
//    committed; -1 when the write changed nothing and made no commit),
//    "read_version": int (the version it was based on), "rows_added": int,
//    "rows_updated": int, "rows_removed": int}
// After a commit (version >= 0) CONTINUOUS indexes on the table are told.
//
// TableInfo: {"name", "catalog_name", "schema_name", "full_name",
//   "table_type": "MANAGED", "columns": [{"name", "type_text" ("bigint",
//   "string", "vector(724)" ...), "type_name" (Unity Catalog's: LONG,
//   DOUBLE, STRING, BOOLEAN, DATE, TIMESTAMP, ARRAY), "nullable": bool,
//   "position": int, "comment"}], "owner", "comment", "properties": {string:
//   string}, "created_at": epoch ms, "primary_key"; Vesta's "version",
//   "current_version", "row_count" (rows visible to the caller)}.
// TableInfo-lite (listings): TableInfo without "version" and "row_count".
//
// --- Unity Catalog routes -----------------------------------------------------
//
//   POST /api/2.1/unity-catalog/catalogs
//       Body: {"name": string (required, an identifier), "comment": string
//       (optional; accepted for Unity Catalog clients but not stored: the
//       store keeps no catalog comments)}.
//       200: CatalogInfo {"name", "owner" (the caller), "full_name"}.
//       Errors: 403 (metastore admin needed), 409 ALREADY_EXISTS.
//       Audit: "catalog.create".
//   GET  /api/2.1/unity-catalog/catalogs
//       200: {"catalogs": [CatalogInfo {"name", "owner", "full_name"}]}: the
//       catalogs the caller holds USE CATALOG on (all for metastore admins),
//       by name. Audit: "catalog.list".
//   POST /api/2.1/unity-catalog/schemas
//       Body: {"name": string (required), "catalog_name": string (required),
//       "comment": string (optional, not stored)}.
//       200: SchemaInfo {"name", "catalog_name", "full_name", "owner"}.
//       Errors: 403 (USE CATALOG and MANAGE on the catalog, or metastore
//       admin), 404 catalog, 409. Audit: "schema.create".
//   GET  /api/2.1/unity-catalog/schemas?catalog_name=C
//       catalog_name: required (URL parameter or body field).
//       200: {"schemas": [SchemaInfo]}: the schemas of C the caller holds USE
//       SCHEMA on, by name. Errors: 403 (USE CATALOG on C), 404 catalog.
//       Audit: "schema.list".
//   POST /api/2.1/unity-catalog/tables
//       Body: {"name", "catalog_name", "schema_name": strings (required,
//       identifiers), "columns": [{"name": string (required), "type_text":
//       string (required: bigint, double, string, boolean, date, timestamp,
//       vector(d) with 1 <= d <= 4096; case-insensitive; aliases int, long,
//       float, text, bool), "nullable": bool (default true), "comment":
//       string}] (required, non-empty), "primary_key": string (Vesta
//       extension, required: a non-null BIGINT or STRING column), "comment":
//       string, "properties": {string: string}}.
//       200: TableInfo of version 0. Errors: 403 (USE CATALOG, USE SCHEMA,
//       CREATE TABLE on the schema), 404 catalog / schema, 409.
//       Audit: "table.create".
//   GET  /api/2.1/unity-catalog/tables?catalog_name=C&schema_name=S
//       catalog_name required, schema_name optional (all schemas of C).
//       200: {"tables": [TableInfo-lite]}: the tables the caller may read
//       (USE CATALOG + USE SCHEMA + SELECT), by name. Errors: 403 (USE
//       CATALOG on C; USE SCHEMA on C.S when S is given), 404.
//       Audit: "table.list".
//   GET  /api/2.1/unity-catalog/tables/{full_name}
//       200: TableInfo at the current version (row_count: rows the caller's
//       row filter lets them see). Errors: 403 (SELECT ...), 404.
//       Audit: "table.describe".
//   DELETE /api/2.1/unity-catalog/tables/{full_name}
//       Drops the table and its history, grants and owner. 200: {}.
//       Errors: 403 (ownership or MANAGE), 404. Audit: "table.drop".
//
// --- Vesta table data routes ----------------------------------------------------
//
//   POST /api/2.0/vesta/tables/{full_name}/rows
//       Body: {"rows": [{column: value}] (required; 0..100,000 objects keyed
//       by column name, case-insensitive; missing columns are NULL),
//       "mode": "append" (default: every primary key must be new) |
//       "upsert" (new keys inserted, existing keys' rows replaced),
//       "read_version": int >= 0 (optional; the version the write is based
//       on, default current)}.
//       200: WriteResult. Errors: 400 naming the row and column ("rows[3]:
//       unknown column 'x' ...", "rows[0].embedding: expected VECTOR(4), got
//       3 values", a NULL primary key); a bad row commits nothing. 403
//       (MODIFY; upsert over a row hidden by the caller's row filter), 404,
//       409 ALREADY_EXISTS (append of an existing key) / ABORTED.
//       Audit: "table.append" / "table.upsert".
//   POST   /api/2.0/vesta/tables/{full_name}/delete
//   DELETE /api/2.0/vesta/tables/{full_name}/rows
//       Body: exactly one of {"primary_keys": [string | integer] (1..100,000
//       keys)} or {"predicate": string (filter_string syntax, e.g. "age < 30
//       AND site = 'A'")}; plus "read_version": int >= 0 (optional).
//       Deletes only rows the caller's row filter lets them see.
//       200: WriteResult. Errors: 400 (bad key, bad predicate), 403 (MODIFY
//       and SELECT), 404. Audit: "table.delete".
//   GET  /api/2.0/vesta/tables/{full_name}/history?limit=N
//       limit: 1..10,000 (optional; default all).
//       200: {"history": [{"version": int, "timestamp": string, "principal",
//       "operation" (CREATE TABLE, APPEND, UPSERT, DELETE, ADD COLUMN,
//       RESTORE), "read_version": int, "parameters": object, "rows_added",
//       "rows_updated", "rows_removed": int}]}, newest first. Without MANAGE
//       on the table, parameters are {} and, when a row filter applies to the
//       caller, the row counts are -1 (withheld). Errors: 403 (SELECT), 404.
//       Audit: "table.history".
//   GET  /api/2.0/vesta/tables/{full_name}/read   (URL parameters)
//   POST /api/2.0/vesta/tables/{full_name}/read   (JSON body; GET with a
//                                                 JSON body is accepted too)
//       Fields: "version": int >= 0 | "timestamp": string
//       ("YYYY-MM-DD[THH:MM:SS[.ffffff]][Z]": the latest version committed at
//       or before it): time travel, mutually exclusive, default current;
//       "columns": [string] (URL: comma-separated; default all, in schema
//       order); "filter" (alias "filter_string"): string, filter_string
//       syntax, evaluated on the values the caller sees (masked); "limit":
//       int 1..10,000 (default 1,000); "page_token": string (opaque, from a
//       previous answer; send the same table, columns and filter; it pins the
//       version, so "version" may only repeat it and "timestamp" must be
//       absent). A field may be given in the URL or the body, not both.
//       Rows come in primary-key order, restricted by the caller's row filter
//       and masked by their column masks.
//       200: {"columns": [{"name", "type_text"}], "data_array": [[value, ...]]
//       (one array per row, in the order of "columns"), "version": int (the
//       version read), "row_count": int, "next_page_token": string ("" when
//       this page is the last; a full page always carries a token, so the
//       last page may be empty)}. Errors: 400 (bad field, bad filter,
//       page_token malformed or issued for another table; paging when the
//       primary key is masked by anything but a keyed hash), 403 (SELECT),
//       404 (table, version, column). Audit: "table.read".
//   GET  /api/2.0/vesta/tables/{full_name}/changes?start_version=S&end_version=E
//       start_version, end_version: ints, both required, 0 <= S <= E <=
//       current version (URL parameters or body fields).
//       200: {"start_version", "end_version", "columns": [{"name",
//       "type_text"}] (the schema at E), "changes": [{column: value, ...,
//       "_change_type": "insert" | "delete" | "update_preimage" |
//       "update_postimage", "_commit_version": int, "_commit_timestamp":
//       string}]} (Delta's change data feed names), by version then primary
//       key; only rows the caller's row filter lets them see, masked.
//       Errors: 400 (S > E, vacuumed), 403 (SELECT), 404. Audit:
//       "table.changes".
//   POST /api/2.0/vesta/tables/{full_name}/restore
//       Body: {"version": int >= 0 (required)}. Makes the table's rows and
//       schema those of that version again, as a new commit.
//       200: WriteResult. Errors: 403 (MODIFY and SELECT; refused whenever a
//       row filter applies to the caller on the table, since a restore
//       rewrites rows hidden from them: Governed::RestoreTable), 404
//       (version beyond the current one), 400 FAILED_PRECONDITION (vacuumed).
//       Audit: "table.restore".
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "service/internal/routes.h"

namespace vesta::service::internal {
namespace {

constexpr int64_t kDefaultReadLimit = 1000;
constexpr int64_t kMaxReadLimit = 10000;
constexpr int64_t kMaxHistoryLimit = 10000;
constexpr size_t kMaxWriteRows = 100000;
constexpr size_t kMaxDeleteKeys = 100000;

std::string LowerTypeText(const DataType& t) {
  std::string s = t.ToString();
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Unity Catalog's ColumnTypeName for a Vesta type.
std::string UcTypeName(const DataType& t) {
  switch (t.id) {
    case TypeId::kBigint:
      return "LONG";
    case TypeId::kDouble:
      return "DOUBLE";
    case TypeId::kString:
      return "STRING";
    case TypeId::kBoolean:
      return "BOOLEAN";
    case TypeId::kDate:
      return "DATE";
    case TypeId::kTimestamp:
      return "TIMESTAMP";
    case TypeId::kVector:
      return "ARRAY";
  }
  return "STRING";
}

json TableInfoJson(const governance::TableInfo& info, bool lite = false) {
  json columns = json::array();
  for (size_t i = 0; i < info.schema.columns.size(); ++i) {
    const Column& c = info.schema.columns[i];
    columns.push_back({{"name", c.name},
                       {"type_text", LowerTypeText(c.type)},
                       {"type_name", UcTypeName(c.type)},
                       {"nullable", c.nullable},
                       {"position", static_cast<int64_t>(i)},
                       {"comment", c.comment}});
  }
  json out = {{"name", info.name.table},
              {"catalog_name", info.name.catalog},
              {"schema_name", info.name.schema},
              {"full_name", info.name.ToString()},
              {"table_type", "MANAGED"},
              {"columns", columns},
              {"owner", info.owner},
              {"comment", info.comment},
              {"properties", info.properties},
              {"created_at", info.created_at.micros / 1000},
              // Vesta extensions.
              {"current_version", info.current_version},
              {"primary_key", info.schema.primary_key}};
  if (!lite) {
    out["version"] = info.version;
    out["row_count"] = info.row_count;
  }
  return out;
}

json ColumnsJson(const std::vector<Column>& columns) {
  json out = json::array();
  for (const Column& c : columns) out.push_back({{"name", c.name}, {"type_text", LowerTypeText(c.type)}});
  return out;
}

json WriteResultJson(const access::WriteResult& r) {
  return {{"table", r.table.ToString()}, {"version", r.version},           {"read_version", r.read_version},
          {"rows_added", r.rows_added},  {"rows_updated", r.rows_updated}, {"rows_removed", r.rows_removed}};
}

// Tells the indexes about a commit (none when the write changed nothing).
Result<json> Committed(const CommitListener& on_commit, const access::WriteResult& r) {
  if (r.version >= 0 && on_commit) on_commit(r.table, r.version);
  return WriteResultJson(r);
}

Status CheckIdentifier(const std::string& text, std::string_view field) {
  if (IsValidIdentifier(text)) return Status::OK();
  return Status::InvalidArgument(std::string(field) + ": '" + text.substr(0, 128) +
                                 "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 128 bytes)");
}

// --- Arguments from the URL or the body ------------------------------------------
// A field may come as a URL parameter or a body field, not both.

Status BothGiven(std::string_view field) {
  return Status::InvalidArgument(std::string(field) + ": given both as a URL parameter and in the body");
}

Result<std::optional<int64_t>> IntArg(const Call& call, std::string_view field) {
  VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> in_body, OptionalInt(call.body, field));
  std::optional<std::string> in_url = call.Query(std::string(field));
  if (!in_url) return in_body;
  if (in_body) return BothGiven(field);
  VESTA_ASSIGN_OR_RETURN(int64_t v, ParseIntParam(*in_url, field));
  return std::optional<int64_t>(v);
}

Result<std::optional<std::string>> StringArg(const Call& call, std::string_view field) {
  VESTA_ASSIGN_OR_RETURN(std::optional<std::string> in_body, OptionalString(call.body, field));
  std::optional<std::string> in_url = call.Query(std::string(field));
  if (!in_url) return in_body;
  if (in_body) return BothGiven(field);
  return in_url;
}

// Body: an array of strings. URL: comma-separated names.
Result<std::vector<std::string>> ListArg(const Call& call, std::string_view field) {
  VESTA_ASSIGN_OR_RETURN(std::vector<std::string> in_body, StringList(call.body, field));
  std::optional<std::string> in_url = call.Query(std::string(field));
  if (!in_url) return in_body;
  if (call.body.contains(std::string(field)) && !call.body[std::string(field)].is_null())
    return BothGiven(field);
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= in_url->size()) {
    size_t comma = in_url->find(',', at);
    if (comma == std::string::npos) comma = in_url->size();
    std::string part = in_url->substr(at, comma - at);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (part.empty()) {
      return Status::InvalidArgument(std::string(field) + ": expected comma-separated column names, got '" +
                                     in_url->substr(0, 60) + "'");
    }
    out.push_back(std::move(part));
    at = comma + 1;
  }
  return out;
}

Result<std::optional<int64_t>> VersionArg(const Call& call, std::string_view field) {
  VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> v, IntArg(call, field));
  if (v && *v < 0)
    return Status::InvalidArgument(std::string(field) + ": must be >= 0, got " + std::to_string(*v));
  return v;
}

// --- Page tokens -------------------------------------------------------------------
// base64url(JSON {"t": table (lower case), "v": version, "k": last key}).

// OpenSSL's base64 (EVP_EncodeBlock / EVP_DecodeBlock) in the URL-safe
// alphabet (RFC 4648 section 5), without padding.
std::string Base64UrlEncode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string in) {
  if (in.size() % 4 == 1 || in.find_first_of("+/=") != std::string::npos) return std::nullopt;
  for (char& c : in) c = c == '-' ? '+' : c == '_' ? '/' : c;
  const size_t pad = (4 - in.size() % 4) % 4;
  in.append(pad, '=');
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;  // a character outside the alphabet
  out.resize(static_cast<size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zero bytes
  return out;
}

std::string LowerName(const governance::TableName& t) {
  return AsciiLower(t.ToString());
}

std::string EncodePageToken(const governance::TableName& table, int64_t version, const Value& last_key) {
  return Base64UrlEncode(JsonDump({{"t", LowerName(table)}, {"v", version}, {"k", ValueToJson(last_key)}}));
}

struct PageToken {
  int64_t version = 0;
  Value after;
};

Result<PageToken> DecodePageToken(const std::string& token, const governance::TableName& table) {
  const Status bad = Status::InvalidArgument("page_token: not a token issued by this route");
  std::optional<std::string> text = Base64UrlDecode(token);
  if (!text) return bad;
  json j = json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("t") || !j["t"].is_string() || !j.contains("v") ||
      !j["v"].is_number_integer() || !j.contains("k")) {
    return bad;
  }
  if (j["t"].get<std::string>() != LowerName(table)) {
    return Status::InvalidArgument("page_token: issued for table " +
                                   j["t"].get<std::string>().substr(0, 400) + ", not " + table.ToString());
  }
  PageToken out;
  out.version = j["v"].get<int64_t>();
  if (out.version < 0) return bad;
  const json& k = j["k"];
  if (k.is_number_integer()) {
    out.after = Value::Int(k.get<int64_t>());
  } else if (k.is_string()) {
    out.after = Value::Str(k.get<std::string>());
  } else {
    return bad;
  }
  return out;
}

// --- Request bodies ------------------------------------------------------------------

// Unity Catalog's ColumnInfo list as a Schema.
Result<Schema> UcSchemaFromJson(const json& body) {
  Schema schema;
  VESTA_ASSIGN_OR_RETURN(schema.primary_key, RequiredString(body, "primary_key"));
  auto cols = body.find("columns");
  if (cols == body.end() || cols->is_null()) return Status::InvalidArgument("columns: required (an array)");
  if (!cols->is_array() || cols->empty()) {
    return Status::InvalidArgument(
        "columns: expected a non-empty array of {name, type_text, nullable, comment}");
  }
  for (size_t i = 0; i < cols->size(); ++i) {
    const json& c = (*cols)[i];
    const std::string where = "columns[" + std::to_string(i) + "]";
    if (!c.is_object()) {
      return Status::InvalidArgument(where + ": expected an object {name, type_text, nullable, comment}");
    }
    auto prefixed = [&](const Status& st) { return Status::InvalidArgument(where + "." + st.message()); };
    Column col;
    auto name = RequiredString(c, "name");
    if (!name.ok()) return prefixed(name.status());
    col.name = *name;
    auto type_text = RequiredString(c, "type_text");
    if (!type_text.ok()) return prefixed(type_text.status());
    auto type = DataType::Parse(*type_text);
    if (!type.ok()) return Status::InvalidArgument(where + ".type_text: " + type.status().message());
    col.type = *type;
    auto nullable = OptionalBool(c, "nullable");
    if (!nullable.ok()) return prefixed(nullable.status());
    col.nullable = nullable->value_or(true);
    auto comment = OptionalString(c, "comment");
    if (!comment.ok()) return prefixed(comment.status());
    col.comment = comment->value_or("");
    schema.columns.push_back(std::move(col));
  }
  Status st = schema.Validate();
  if (!st.ok()) return Status::InvalidArgument("columns: " + st.message());
  return schema;
}

Result<std::map<std::string, std::string>> PropertiesFromJson(const json& body) {
  std::map<std::string, std::string> out;
  auto it = body.find("properties");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_object()) return Status::InvalidArgument("properties: expected an object of strings");
  for (auto p = it->begin(); p != it->end(); ++p) {
    if (!p.value().is_string()) {
      return Status::InvalidArgument("properties." + p.key().substr(0, 128) + ": expected a string");
    }
    out[p.key()] = p.value().get<std::string>();
  }
  return out;
}

Result<access::WriteOptions> WriteOptionsFrom(const json& body) {
  access::WriteOptions o;
  VESTA_ASSIGN_OR_RETURN(o.read_version, OptionalInt(body, "read_version"));
  if (o.read_version && *o.read_version < 0) {
    return Status::InvalidArgument("read_version: must be >= 0, got " + std::to_string(*o.read_version));
  }
  return o;
}

// The "rows" array (checked before the governed call; the rows are decoded
// against the schema inside it).
Result<const json*> RowsArray(const json& body) {
  auto it = body.find("rows");
  if (it == body.end() || it->is_null())
    return Status::InvalidArgument("rows: required (an array of objects)");
  if (!it->is_array())
    return Status::InvalidArgument("rows: expected an array of objects keyed by column name");
  if (it->size() > kMaxWriteRows) {
    return Status::InvalidArgument("rows: at most " + std::to_string(kMaxWriteRows) +
                                   " rows per request, got " + std::to_string(it->size()));
  }
  return &*it;
}

Result<std::vector<Value>> KeysFromJson(const json& keys) {
  if (!keys.is_array())
    return Status::InvalidArgument("primary_keys: expected an array of strings or integers");
  if (keys.empty()) return Status::InvalidArgument("primary_keys: expected at least one key");
  if (keys.size() > kMaxDeleteKeys) {
    return Status::InvalidArgument("primary_keys: at most " + std::to_string(kMaxDeleteKeys) +
                                   " keys per request, got " + std::to_string(keys.size()));
  }
  std::vector<Value> out;
  out.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const json& k = keys[i];
    if (k.is_string()) {
      out.push_back(Value::Str(k.get<std::string>()));
    } else if (k.is_number_integer() &&
               (!k.is_number_unsigned() ||
                k.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      out.push_back(Value::Int(k.get<int64_t>()));
    } else {
      std::string shown = JsonDump(k).substr(0, 60);
      return Status::InvalidArgument("primary_keys[" + std::to_string(i) +
                                     "]: expected a string or an integer, got " + shown);
    }
  }
  return out;
}

// --- Route bodies ----------------------------------------------------------------------

Result<json> WriteRows(access::Governed& g, const CommitListener& on_commit, const Call& call) {
  VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
  VESTA_ASSIGN_OR_RETURN(const json* rows, RowsArray(call.body));
  VESTA_ASSIGN_OR_RETURN(std::optional<std::string> mode, OptionalString(call.body, "mode"));
  const std::string m = mode.value_or("append");
  if (m != "append" && m != "upsert") {
    return Status::InvalidArgument("mode: expected \"append\" or \"upsert\", got \"" + m.substr(0, 40) +
                                   "\"");
  }
  VESTA_ASSIGN_OR_RETURN(access::WriteOptions options, WriteOptionsFrom(call.body));
  auto decode = [rows](const Schema& schema) -> Result<std::vector<Row>> {
    std::vector<Row> out;
    out.reserve(rows->size());
    for (size_t i = 0; i < rows->size(); ++i) {
      VESTA_ASSIGN_OR_RETURN(Row row, RowFromJson((*rows)[i], schema, "rows[" + std::to_string(i) + "]"));
      out.push_back(std::move(row));
    }
    return out;
  };
  VESTA_ASSIGN_OR_RETURN(access::WriteResult r,
                         g.WriteDecodedRows(call.caller, name, m == "upsert", decode, options));
  return Committed(on_commit, r);
}

Result<json> DeleteRows(access::Governed& g, const CommitListener& on_commit, const Call& call) {
  VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
  VESTA_ASSIGN_OR_RETURN(std::optional<std::string> predicate, OptionalString(call.body, "predicate"));
  const bool has_keys = call.body.contains("primary_keys") && !call.body["primary_keys"].is_null();
  if (has_keys == predicate.has_value()) {
    return Status::InvalidArgument("primary_keys, predicate: give exactly one of them");
  }
  VESTA_ASSIGN_OR_RETURN(access::WriteOptions options, WriteOptionsFrom(call.body));
  if (has_keys) {
    VESTA_ASSIGN_OR_RETURN(std::vector<Value> keys, KeysFromJson(call.body["primary_keys"]));
    VESTA_ASSIGN_OR_RETURN(access::WriteResult r, g.DeleteKeys(call.caller, name, std::move(keys), options));
    return Committed(on_commit, r);
  }
  VESTA_ASSIGN_OR_RETURN(access::WriteResult r, g.DeleteWhere(call.caller, name, *predicate, options));
  return Committed(on_commit, r);
}

Result<json> ReadRows(access::Governed& g, const Call& call) {
  VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
  VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> version, VersionArg(call, "version"));
  VESTA_ASSIGN_OR_RETURN(std::optional<std::string> timestamp, StringArg(call, "timestamp"));
  if (version && timestamp) return Status::InvalidArgument("version, timestamp: give at most one of them");
  VESTA_ASSIGN_OR_RETURN(std::vector<std::string> columns, ListArg(call, "columns"));
  VESTA_ASSIGN_OR_RETURN(std::optional<std::string> filter, StringArg(call, "filter"));
  VESTA_ASSIGN_OR_RETURN(std::optional<std::string> filter_string, StringArg(call, "filter_string"));
  if (filter && filter_string)
    return Status::InvalidArgument("filter, filter_string: give at most one of them");
  if (filter_string) filter = std::move(filter_string);
  VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> limit, IntArg(call, "limit"));
  const int64_t page = limit.value_or(kDefaultReadLimit);
  if (page < 1 || page > kMaxReadLimit) {
    return Status::InvalidArgument("limit: must be in 1.." + std::to_string(kMaxReadLimit) + ", got " +
                                   std::to_string(page));
  }
  VESTA_ASSIGN_OR_RETURN(std::optional<std::string> page_token, StringArg(call, "page_token"));

  governance::ReadOptions ro;
  ro.order_by_primary_key = true;
  ro.limit = page;
  ro.predicate = filter.value_or("");
  if (version) ro.at.version = *version;
  if (timestamp) {
    Result<Timestamp> ts = ParseTimestamp(*timestamp);
    if (!ts.ok()) {
      return Status::InvalidArgument("timestamp: expected YYYY-MM-DD[THH:MM:SS[.ffffff]][Z], got '" +
                                     timestamp->substr(0, 60) + "'");
    }
    ro.at.timestamp = *ts;
  }
  if (page_token && !page_token->empty()) {
    VESTA_ASSIGN_OR_RETURN(PageToken t, DecodePageToken(*page_token, name));
    if (timestamp)
      return Status::InvalidArgument("timestamp: not allowed with page_token (the token pins the version)");
    if (version && *version != t.version) {
      return Status::InvalidArgument("version: " + std::to_string(*version) +
                                     " differs from the page_token's " + std::to_string(t.version));
    }
    ro.at.version = t.version;
    ro.after_primary_key = std::move(t.after);
  }
  // The next page token needs the primary key of the last row. When the
  // columns asked for leave it out, it is read too and dropped from the
  // answer. Its name is catalog metadata, looked up in the store without
  // disclosing anything (no error of the lookup is answered): the governed
  // read below decides what the caller may see.
  std::string pk_name;
  if (Result<governance::TableInfo> meta = g.store().DescribeTable(name); meta.ok()) {
    pk_name = meta->schema.primary_key;
  }
  bool drop_last = false;
  if (!columns.empty()) {
    ro.columns = columns;
    if (!pk_name.empty() && std::none_of(columns.begin(), columns.end(), [&](const std::string& c) {
          return EqualsIgnoreCase(c, pk_name);
        })) {
      ro.columns.push_back(pk_name);
      drop_last = true;
    }
  }
  VESTA_RETURN_IF_ERROR(call.CheckDeadline("parsing the read request"));
  VESTA_ASSIGN_OR_RETURN(governance::ReadResult r, g.ReadTable(call.caller, name, ro));
  VESTA_RETURN_IF_ERROR(call.CheckDeadline("reading the table"));

  // Position of the primary key among the columns read.
  std::optional<size_t> pk_pos;
  for (size_t i = 0; i < r.columns.size(); ++i) {
    if (!pk_name.empty() && EqualsIgnoreCase(r.columns[i].name, pk_name)) pk_pos = i;
  }
  std::vector<Column> shown = r.columns;
  if (drop_last) shown.pop_back();
  json data = json::array();
  for (const Row& row : r.rows) {
    json values = json::array();
    for (size_t i = 0; i < shown.size() && i < row.size(); ++i) values.push_back(ValueToJson(row[i]));
    data.push_back(std::move(values));
  }
  std::string next;
  if (static_cast<int64_t>(r.rows.size()) == page && pk_pos && !r.rows.empty()) {
    next = EncodePageToken(name, r.version, r.rows.back()[*pk_pos]);
  }
  return json{{"columns", ColumnsJson(shown)},
              {"data_array", std::move(data)},
              {"version", r.version},
              {"row_count", r.rows.size()},
              {"next_page_token", next}};
}

Result<json> Changes(access::Governed& g, const Call& call) {
  VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
  VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> start, VersionArg(call, "start_version"));
  VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> end, VersionArg(call, "end_version"));
  if (!start) return Status::InvalidArgument("start_version: required (an integer >= 0)");
  if (!end) return Status::InvalidArgument("end_version: required (an integer >= 0)");
  if (*start > *end) {
    return Status::InvalidArgument("start_version: " + std::to_string(*start) + " is after end_version " +
                                   std::to_string(*end));
  }
  VESTA_ASSIGN_OR_RETURN(governance::ChangeFeed feed, g.Changes(call.caller, name, *start, *end));
  VESTA_RETURN_IF_ERROR(call.CheckDeadline("reading the change feed"));
  std::vector<std::string> names;
  for (const Column& c : feed.columns) names.push_back(c.name);
  json changes = json::array();
  for (const governance::ChangeRow& c : feed.changes) {
    json row = RowToJson(names, c.row);
    row["_change_type"] = std::string(governance::ChangeTypeName(c.type));
    row["_commit_version"] = c.version;
    row["_commit_timestamp"] = FormatTimestamp(c.timestamp);
    changes.push_back(std::move(row));
  }
  return json{{"start_version", feed.start_version},
              {"end_version", feed.end_version},
              {"columns", ColumnsJson(feed.columns)},
              {"changes", std::move(changes)}};
}

Result<json> History(access::Governed& g, const Call& call) {
  VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
  VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> limit, IntArg(call, "limit"));
  if (limit && (*limit < 1 || *limit > kMaxHistoryLimit)) {
    return Status::InvalidArgument("limit: must be in 1.." + std::to_string(kMaxHistoryLimit) + ", got " +
                                   std::to_string(*limit));
  }
  VESTA_ASSIGN_OR_RETURN(std::vector<governance::CommitInfo> commits,
                         g.History(call.caller, name, limit.value_or(-1)));
  json history = json::array();
  for (const governance::CommitInfo& c : commits) {
    json params = json::parse(c.parameters_json, nullptr, false);
    if (!params.is_object()) params = json::object();
    history.push_back({{"version", c.version},
                       {"timestamp", FormatTimestamp(c.timestamp)},
                       {"principal", c.principal},
                       {"operation", c.operation},
                       {"read_version", c.read_version},
                       {"parameters", std::move(params)},
                       {"rows_added", c.rows_added},
                       {"rows_updated", c.rows_updated},
                       {"rows_removed", c.rows_removed}});
  }
  return json{{"history", std::move(history)}};
}

Result<json> CreateTable(access::Governed& g, const Call& call) {
  VESTA_ASSIGN_OR_RETURN(std::string table, RequiredString(call.body, "name"));
  VESTA_ASSIGN_OR_RETURN(std::string catalog, RequiredString(call.body, "catalog_name"));
  VESTA_ASSIGN_OR_RETURN(std::string schema_name, RequiredString(call.body, "schema_name"));
  VESTA_RETURN_IF_ERROR(CheckIdentifier(table, "name"));
  VESTA_RETURN_IF_ERROR(CheckIdentifier(catalog, "catalog_name"));
  VESTA_RETURN_IF_ERROR(CheckIdentifier(schema_name, "schema_name"));
  VESTA_ASSIGN_OR_RETURN(Schema schema, UcSchemaFromJson(call.body));
  governance::CreateTableOptions options;
  VESTA_ASSIGN_OR_RETURN(std::optional<std::string> comment, OptionalString(call.body, "comment"));
  options.comment = comment.value_or("");
  VESTA_ASSIGN_OR_RETURN(options.properties, PropertiesFromJson(call.body));
  governance::TableName name{catalog, schema_name, table};
  VESTA_ASSIGN_OR_RETURN(governance::TableInfo info, g.CreateTable(call.caller, name, schema, options));
  return TableInfoJson(info);
}

}  // namespace

void RegisterTableRoutes(Router& router, const CommitListener& on_commit) {
  access::Governed& g = router.governed();

  // --- Unity Catalog: catalogs and schemas ---
  router.Post("/api/2.1/unity-catalog/catalogs", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(std::string name, RequiredString(call.body, "name"));
    VESTA_RETURN_IF_ERROR(OptionalString(call.body, "comment").status());
    VESTA_RETURN_IF_ERROR(CheckIdentifier(name, "name"));
    VESTA_RETURN_IF_ERROR(g.CreateCatalog(call.caller, name));
    return json{{"name", name}, {"full_name", name}, {"owner", call.caller.user}};
  });
  router.Get("/api/2.1/unity-catalog/catalogs", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto catalogs, g.ListCatalogs(call.caller));
    json out = json::array();
    for (const auto& c : catalogs) {
      out.push_back({{"name", c.name}, {"full_name", c.name}, {"owner", c.owner}});
    }
    return json{{"catalogs", std::move(out)}};
  });
  router.Post("/api/2.1/unity-catalog/schemas", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(std::string name, RequiredString(call.body, "name"));
    VESTA_ASSIGN_OR_RETURN(std::string catalog, RequiredString(call.body, "catalog_name"));
    VESTA_RETURN_IF_ERROR(OptionalString(call.body, "comment").status());
    VESTA_RETURN_IF_ERROR(CheckIdentifier(name, "name"));
    VESTA_RETURN_IF_ERROR(CheckIdentifier(catalog, "catalog_name"));
    VESTA_RETURN_IF_ERROR(g.CreateSchema(call.caller, catalog, name));
    return json{{"name", name},
                {"catalog_name", catalog},
                {"full_name", catalog + "." + name},
                {"owner", call.caller.user}};
  });
  router.Get("/api/2.1/unity-catalog/schemas", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> catalog, StringArg(call, "catalog_name"));
    if (!catalog) return Status::InvalidArgument("catalog_name: required (a string)");
    VESTA_RETURN_IF_ERROR(CheckIdentifier(*catalog, "catalog_name"));
    VESTA_ASSIGN_OR_RETURN(auto schemas, g.ListSchemas(call.caller, *catalog));
    json out = json::array();
    for (const auto& s : schemas) {
      out.push_back({{"name", s.name},
                     {"catalog_name", s.catalog},
                     {"full_name", s.catalog + "." + s.name},
                     {"owner", s.owner}});
    }
    return json{{"schemas", std::move(out)}};
  });

  // --- Unity Catalog: tables ---
  router.Post("/api/2.1/unity-catalog/tables", [&g](const Call& call) { return CreateTable(g, call); });
  router.Get("/api/2.1/unity-catalog/tables", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> catalog, StringArg(call, "catalog_name"));
    VESTA_ASSIGN_OR_RETURN(std::optional<std::string> schema, StringArg(call, "schema_name"));
    if (!catalog) return Status::InvalidArgument("catalog_name: required (a string)");
    VESTA_RETURN_IF_ERROR(CheckIdentifier(*catalog, "catalog_name"));
    if (schema) VESTA_RETURN_IF_ERROR(CheckIdentifier(*schema, "schema_name"));
    VESTA_ASSIGN_OR_RETURN(auto tables, g.ListTables(call.caller, *catalog, schema.value_or("")));
    json out = json::array();
    for (const auto& t : tables) out.push_back(TableInfoJson(t, /*lite=*/true));
    return json{{"tables", std::move(out)}};
  });
  router.Get("/api/2.1/unity-catalog/tables/{full_name}", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_ASSIGN_OR_RETURN(auto info, g.DescribeTable(call.caller, name));
    return TableInfoJson(info);
  });
  router.Delete("/api/2.1/unity-catalog/tables/{full_name}", [&g](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_RETURN_IF_ERROR(g.DropTable(call.caller, name));
    return json::object();
  });

  // --- Vesta: table data ---
  router.Post("/api/2.0/vesta/tables/{full_name}/rows",
              [&g, on_commit](const Call& call) { return WriteRows(g, on_commit, call); });
  router.Post("/api/2.0/vesta/tables/{full_name}/delete",
              [&g, on_commit](const Call& call) { return DeleteRows(g, on_commit, call); });
  router.Delete("/api/2.0/vesta/tables/{full_name}/rows",
                [&g, on_commit](const Call& call) { return DeleteRows(g, on_commit, call); });
  router.Get("/api/2.0/vesta/tables/{full_name}/history",
             [&g](const Call& call) { return History(g, call); });
  router.Get("/api/2.0/vesta/tables/{full_name}/read", [&g](const Call& call) { return ReadRows(g, call); });
  router.Post("/api/2.0/vesta/tables/{full_name}/read", [&g](const Call& call) { return ReadRows(g, call); });
  router.Get("/api/2.0/vesta/tables/{full_name}/changes",
             [&g](const Call& call) { return Changes(g, call); });
  router.Post("/api/2.0/vesta/tables/{full_name}/restore", [&g, on_commit](const Call& call) -> Result<json> {
    VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
    VESTA_ASSIGN_OR_RETURN(std::optional<int64_t> version, OptionalInt(call.body, "version"));
    if (!version) return Status::InvalidArgument("version: required (an integer >= 0)");
    if (*version < 0) {
      return Status::InvalidArgument("version: must be >= 0, got " + std::to_string(*version));
    }
    VESTA_ASSIGN_OR_RETURN(access::WriteResult r, g.RestoreTable(call.caller, name, *version));
    return Committed(on_commit, r);
  });
}

}  // namespace vesta::service::internal
