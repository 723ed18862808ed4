// The service's route framework, private to service/: how a route file
// (service/routes_*.cc) declares its routes and turns JSON into Vesta values
// and back. Every route is registered through a Router, which
//   - labels the request with the route *pattern* for metrics and the
//     access log,
//   - authenticates the bearer token (401 otherwise) and hands the handler
//     an access::Caller,
//   - checks the content type (415) and parses the body as a JSON object
//     (400 naming the byte offset otherwise; an empty body is {}),
//   - answers the handler's Result: the JSON on success (200), or the
//     Status through service/errors.h,
//   - and audits requests refused before any governed call was made
//     (malformed body, bad field, unknown route ...: action "http.request",
//     outcome "denied" for 401/403 else "error", parameters {method, route,
//     path, status, error_code, message}), so every request that reached a
//     route is in the audit log exactly once (governed calls audit
//     themselves).
//
//   void RegisterTableRoutes(Router& r) {
//     r.Get("/api/2.1/unity-catalog/tables/{full_name}",
//           [&g = r.governed()](const Call& call) -> Result<json> {
//             VESTA_ASSIGN_OR_RETURN(auto name, ParseTableName(call.Param(1), "full_name"));
//             ...
//           });
//   }
//
// Field helpers (RequiredString, OptionalInt, ...) return InvalidArgument
// naming the field and the expected type ("num_results: expected an integer,
// got \"ten\""); handlers pass them up with VESTA_ASSIGN_OR_RETURN.
//
// Thread-safety: registration happens before the server starts (not
// thread-safe); handlers run concurrently on the worker threads.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "access/governed.h"
#include "common/status.h"
#include "common/types.h"
#include "service/errors.h"

namespace vesta::service::internal {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// What the access log, the metrics and the audit of refused requests need
// of the request being served. A request is served start to end
// (pre-routing, handler, response, logger) on one worker thread, so it
// lives in a thread_local, reset per request (CurrentRequest()).
struct RequestState {
  bool started = false;
  Clock::time_point start;
  std::string route = "unmatched";  // the pattern, or "unmatched"
  std::string principal;            // "" until authenticated
  // AuditLog::AppendCallsOnThisThread() when the request started: if it is
  // unchanged when an error is answered, no governed call audited the
  // request and the Router audits it.
  uint64_t audit_calls_at_start = 0;
  bool audited_by_router = false;
  // The deadline of this request (ServerOptions::request_time_limit);
  // time_point::max() when none.
  Clock::time_point deadline = Clock::time_point::max();
};
RequestState& CurrentRequest();

// One authenticated call to a route.
struct Call {
  const httplib::Request& req;
  const access::Caller& caller;
  const json& body;  // the parsed JSON object; {} for an empty body

  // The regex capture `i` (1-based) of the route's pattern, URL-decoded by
  // httplib.
  std::string Param(int i) const { return req.matches[i].str(); }
  // A URL query parameter, or nullopt.
  std::optional<std::string> Query(const std::string& name) const;
  // OK, or ResourceExhausted ("request time limit of N ms exceeded during
  // <phase>"; errors.h answers it 503 DEADLINE_EXCEEDED by its prefix
  // kRequestTimeLimitPrefix) once the request's deadline has passed.
  // Handlers call it between expensive phases; a governed call already running is not
  // interrupted.
  Status CheckDeadline(std::string_view phase) const;
};

using Handler = std::function<Result<json>(const Call&)>;
// A route that needs no authentication (health probes); answers itself.
using RawHandler = std::function<void(const httplib::Request&, httplib::Response&)>;

class Router {
 public:
  // `max_body_bytes` bounds a GET body the Router reads itself
  // (http_stream.h); httplib bounds the others (set_payload_max_length).
  Router(httplib::Server& http, access::Governed& governed, size_t max_body_bytes = 16u << 20)
      : http_(http), governed_(governed), max_body_bytes_(max_body_bytes) {}

  access::Governed& governed() { return governed_; }

  // Registers `handler` for METHOD on `route`, the path pattern as
  // documented ("/api/2.0/vector-search/indexes/{index_name}/query"): the
  // metrics and log label, and the source of the regex httplib matches
  // (PatternRegex). GET and DELETE bodies are parsed too (Mosaic's client
  // sends GET /query and DELETE /delete-data with a JSON body).
  void Get(const std::string& route, Handler handler);
  void Post(const std::string& route, Handler handler);
  void Put(const std::string& route, Handler handler);
  void Patch(const std::string& route, Handler handler);
  void Delete(const std::string& route, Handler handler);
  // Unauthenticated GET (health, readiness, /openapi.json, /metrics which
  // authenticates itself).
  void RawGet(const std::string& route, RawHandler handler);

  // Every route registered, as "METHOD route" (for tests and the spec check).
  const std::vector<std::string>& routes() const { return routes_; }

 private:
  httplib::Server::Handler Wrap(const std::string& route, Handler handler);
  httplib::Server& http_;
  access::Governed& governed_;
  size_t max_body_bytes_;
  std::vector<std::string> routes_;
};

// Authenticates the request's bearer token for a route registered with
// RawGet (e.g. /metrics); on failure answers 401 and returns nullopt.
std::optional<access::Caller> AuthenticateOrAnswer(access::Governed& governed, const httplib::Request& req,
                                                   httplib::Response& res);

// The regex httplib matches for a route pattern: each "{name}" becomes one
// path segment "([^/]+)" (capture i is Call::Param(i)), everything else is
// literal (".", "+", ... escaped).
std::string PatternRegex(std::string_view route);

// --- Answering -------------------------------------------------------------

std::string JsonDump(const json& j);  // never throws on invalid UTF-8 (replaced)
void SetJson(httplib::Response& res, int status, const json& body);
void SetError(httplib::Response& res, const HttpError& e);  // + WWW-Authenticate on 401

// Audits a request that no governed call audited (see the header comment):
// called by the server for every error response. No-op for requests already
// audited or not yet routed to anything needing audit (health probes).
void AuditRefusedRequest(access::Governed& governed, const httplib::Request& req,
                         const httplib::Response& res);

// --- Reading request fields ------------------------------------------------
// Each returns InvalidArgument naming `field` and what was expected. A JSON
// null counts as absent (Mosaic's client sends unused fields as null).

Result<std::string> RequiredString(const json& body, std::string_view field);
Result<std::optional<std::string>> OptionalString(const json& body, std::string_view field);
Result<std::optional<int64_t>> OptionalInt(const json& body, std::string_view field);
Result<std::optional<double>> OptionalNumber(const json& body, std::string_view field);
Result<std::optional<bool>> OptionalBool(const json& body, std::string_view field);
// An array of strings (absent: empty).
Result<std::vector<std::string>> StringList(const json& body, std::string_view field);
// The filter of a query body in filter_string form: Mosaic's `filters_json`
// (a JSON string holding the filter dictionary) AND `filter_string`; "" when
// both are absent or blank. Errors: InvalidArgument naming the field (not a
// string; the parsers' messages, filter/parser.h).
Result<std::string> QueryFilter(const json& body);
// A JSON array of finite numbers as float32 (each must fit a float).
// Errors name the position: "query_vector[3]: expected a finite number, got null".
Result<std::vector<float>> FloatList(const json& v, std::string_view field);

// A URL/query parameter as an integer ("version=3"): InvalidArgument naming
// `field` for anything but a decimal integer.
Result<int64_t> ParseIntParam(std::string_view text, std::string_view field);

// A three-level name from a path or body field: InvalidArgument naming
// `field` (the parser's message says what is wrong).
Result<governance::TableName> ParseName(std::string_view text, std::string_view field);

// --- Values ------------------------------------------------------------------
// JSON <-> Value by column type:
//   BIGINT  integer (a float with no fraction is accepted; strings are not)
//   DOUBLE  number (NaN / infinity cannot be written in JSON)
//   STRING  string
//   BOOLEAN true / false
//   DATE    "YYYY-MM-DD"
//   TIMESTAMP "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"
//   VECTOR(d) array of exactly d finite numbers
//   NULL    null (where the column is nullable)

json ValueToJson(const Value& v);
// Errors: InvalidArgument "<field>: expected <TYPE>, got <json>".
Result<Value> ValueFromJson(const json& v, const DataType& type, std::string_view field);
// A row from a JSON object keyed by column name (case-insensitive). Columns
// missing from the object are NULL; a key naming no column is an error
// ("<where>: unknown column 'x' (columns: a, b)"). The row is validated
// against the schema (Schema::ValidateRow).
Result<Row> RowFromJson(const json& object, const Schema& schema, std::string_view where);
// A row as a JSON object keyed by `columns` (same length as `row`).
json RowToJson(const std::vector<std::string>& columns, const Row& row);

// Schema JSON: {"columns": [{"name", "type" ("BIGINT", "VECTOR(724)", ...),
// "nullable" (default true), "comment"}], "primary_key": "..."}. Validated.
Result<Schema> SchemaFromJson(const json& j, std::string_view field);
json SchemaToJson(const Schema& schema);

}  // namespace vesta::service::internal
