#include "service/internal/http.h"

#include "service/internal/http_stream.h"
#include "service/internal/json_body.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "filter/parser.h"

namespace vesta::service::internal {
namespace {

thread_local RequestState t_request;

std::optional<std::string> BearerToken(const httplib::Request& req) {
  if (!req.has_header("Authorization")) return std::nullopt;
  std::string h = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (h.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) != kScheme[i]) return std::nullopt;
  }
  size_t b = h.find_first_not_of(' ', kScheme.size());
  if (b == std::string::npos) return std::nullopt;
  return h.substr(b);
}

// A short rendering of a JSON value for messages (at most ~60 bytes).
std::string Show(const json& v) {
  std::string s = JsonDump(v);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

Status Expected(std::string_view field, std::string_view what, const json& got) {
  return Status::InvalidArgument(std::string(field) + ": expected " + std::string(what) + ", got " +
                                 Show(got));
}

const json* Find(const json& body, std::string_view field) {
  if (!body.is_object()) return nullptr;
  auto it = body.find(std::string(field));
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

RequestState& CurrentRequest() {
  return t_request;
}

std::optional<std::string> Call::Query(const std::string& name) const {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

Status Call::CheckDeadline(std::string_view phase) const {
  const RequestState& r = CurrentRequest();
  if (r.deadline == Clock::time_point::max() || Clock::now() <= r.deadline) return Status::OK();
  auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(r.deadline - r.start).count();
  return Status::ResourceExhausted("request time limit of " + std::to_string(limit) + " ms exceeded during " +
                                   std::string(phase));
}

std::string JsonDump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void SetJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(JsonDump(body), "application/json");
}

void SetError(httplib::Response& res, const HttpError& e) {
  res.status = e.http_status;
  res.set_content(ErrorBody(e), "application/json");
  if (e.http_status == 401) res.set_header("WWW-Authenticate", "Bearer");
}

void AuditRefusedRequest(access::Governed& governed, const httplib::Request& req,
                         const httplib::Response& res) {
  RequestState& r = CurrentRequest();
  if (!r.started || r.audited_by_router || res.status < 400) return;
  if (governance::AuditLog::AppendCallsOnThisThread() != r.audit_calls_at_start)
    return;  // a governed call did
  r.audited_by_router = true;
  json body = json::parse(res.body, nullptr, false);
  std::string code = body.is_object() ? body.value("error_code", "") : "";
  std::string message = body.is_object() ? body.value("message", "") : "";
  governance::AuditRecord rec;
  rec.principal = r.principal;
  rec.action = "http.request";
  rec.securable = "";
  rec.parameters_json = JsonDump({{"method", req.method},
                                  {"route", r.route},
                                  {"path", req.path},
                                  {"status", res.status},
                                  {"error_code", code}});
  rec.outcome = (res.status == 401 || res.status == 403) ? "denied" : "error";
  rec.message = message;
  auto appended = governed.audit().Append(std::move(rec));
  if (!appended.ok()) {
    std::fprintf(stderr, "vesta: could not audit refused request %s %s: %s\n", req.method.c_str(),
                 req.path.c_str(), appended.status().ToString().c_str());
  }
}

std::string PatternRegex(std::string_view route) {
  std::string out;
  for (size_t i = 0; i < route.size(); ++i) {
    char c = route[i];
    if (c == '{') {
      size_t close = route.find('}', i);
      if (close != std::string_view::npos) {
        out += "([^/]+)";
        i = close;
        continue;
      }
    }
    if (std::strchr(".^$|()[]*+?{}\\", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

std::optional<access::Caller> AuthenticateOrAnswer(access::Governed& governed, const httplib::Request& req,
                                                   httplib::Response& res) {
  std::optional<std::string> token = BearerToken(req);
  if (!token) {
    SetError(res, {401, "UNAUTHENTICATED", "missing bearer token: send 'Authorization: Bearer <token>'"});
    return std::nullopt;
  }
  auto caller = governed.Authenticate(*token);
  if (!caller.ok()) {
    SetError(res, ErrorFromStatus(caller.status()));
    return std::nullopt;
  }
  CurrentRequest().principal = caller->user;
  return std::move(caller).value();
}

httplib::Server::Handler Router::Wrap(const std::string& route, Handler handler) {
  // Captures the Governed, not the Router: the Router is a registration-time
  // helper and need not outlive the server.
  return [&governed = governed_, max_body = max_body_bytes_, route, handler = std::move(handler)](
             const httplib::Request& req, httplib::Response& res) {
    RequestState& state = CurrentRequest();
    state.route = route;
    // A GET body (Mosaic's client) is read here, before anything can answer,
    // so the connection stays in step (http_stream.h).
    auto unread = ReadUnreadBody(req, max_body);
    if (!unread.ok()) {
      HttpError e = ErrorFromStatus(unread.status());
      if (unread.status().code() == StatusCode::kResourceExhausted) e.http_status = 413;
      return SetError(res, e);
    }
    const std::string& raw_body = unread->empty() ? req.body : *unread;
    std::optional<access::Caller> caller = AuthenticateOrAnswer(governed, req, res);
    if (!caller) return;
    if (auto bad_type = CheckJsonBody(req.get_header_value("Content-Type"), raw_body.size())) {
      return SetError(res, *bad_type);
    }
    json body = json::object();
    if (!raw_body.empty()) {
      auto parsed = ParseJsonBody(raw_body);
      if (!parsed.ok()) return SetError(res, {400, "INVALID_ARGUMENT", parsed.status().message()});
      body = std::move(parsed).value();
      if (!body.is_object()) {
        return SetError(res,
                        {400, "INVALID_ARGUMENT", "request body: expected a JSON object, got " + Show(body)});
      }
    }
    Call call{req, *caller, body};
    Result<json> out = handler(call);
    if (!out.ok()) return SetError(res, ErrorFromStatus(out.status()));
    SetJson(res, 200, *out);
  };
}

void Router::Get(const std::string& route, Handler handler) {
  routes_.push_back("GET " + route);
  http_.Get(PatternRegex(route), Wrap(route, std::move(handler)));
}
void Router::Post(const std::string& route, Handler handler) {
  routes_.push_back("POST " + route);
  http_.Post(PatternRegex(route), Wrap(route, std::move(handler)));
}
void Router::Put(const std::string& route, Handler handler) {
  routes_.push_back("PUT " + route);
  http_.Put(PatternRegex(route), Wrap(route, std::move(handler)));
}
void Router::Patch(const std::string& route, Handler handler) {
  routes_.push_back("PATCH " + route);
  http_.Patch(PatternRegex(route), Wrap(route, std::move(handler)));
}
void Router::Delete(const std::string& route, Handler handler) {
  routes_.push_back("DELETE " + route);
  http_.Delete(PatternRegex(route), Wrap(route, std::move(handler)));
}
void Router::RawGet(const std::string& route, RawHandler handler) {
  routes_.push_back("GET " + route);
  http_.Get(PatternRegex(route), [route, max_body = max_body_bytes_, handler = std::move(handler)](
                                     const httplib::Request& req, httplib::Response& res) {
    CurrentRequest().route = route;
    (void)ReadUnreadBody(req, max_body);  // keep the connection in step; the body is ignored
    handler(req, res);
  });
}

// --- Fields --------------------------------------------------------------------

Result<std::string> RequiredString(const json& body, std::string_view field) {
  const json* v = Find(body, field);
  if (!v) return Status::InvalidArgument(std::string(field) + ": required (a string)");
  if (!v->is_string()) return Expected(field, "a string", *v);
  return v->get<std::string>();
}

Result<std::optional<std::string>> OptionalString(const json& body, std::string_view field) {
  const json* v = Find(body, field);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return Expected(field, "a string", *v);
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::string> QueryFilter(const json& body) {
  VESTA_ASSIGN_OR_RETURN(auto filters_json, OptionalString(body, "filters_json"));
  VESTA_ASSIGN_OR_RETURN(auto filter_string, OptionalString(body, "filter_string"));
  if (!filters_json && !filter_string) return std::string();
  std::optional<std::string_view> fj, fs;
  if (filters_json) fj = *filters_json;
  if (filter_string) fs = *filter_string;
  VESTA_ASSIGN_OR_RETURN(filter::Expr expr, filter::ParseQueryFilters(fj, fs));
  const bool blank_json = !filters_json || filters_json->find_first_not_of(" \t\r\n{}") == std::string::npos;
  const bool blank_string =
      !filter_string || filter_string->find_first_not_of(" \t\r\n") == std::string::npos;
  if (blank_json && blank_string) return std::string();
  return expr.ToString();
}

Result<std::optional<int64_t>> OptionalInt(const json& body, std::string_view field) {
  const json* v = Find(body, field);
  if (!v) return std::optional<int64_t>();
  if (v->is_number_integer()) return std::optional<int64_t>(v->get<int64_t>());
  if (v->is_number_unsigned()) {
    if (v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Expected(field, "an integer", *v);
    }
    return std::optional<int64_t>(static_cast<int64_t>(v->get<uint64_t>()));
  }
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  return Expected(field, "an integer", *v);
}

Result<std::optional<double>> OptionalNumber(const json& body, std::string_view field) {
  const json* v = Find(body, field);
  if (!v) return std::optional<double>();
  if (!v->is_number()) return Expected(field, "a number", *v);
  double d = v->get<double>();
  if (!std::isfinite(d)) return Expected(field, "a finite number", *v);
  return std::optional<double>(d);
}

Result<std::optional<bool>> OptionalBool(const json& body, std::string_view field) {
  const json* v = Find(body, field);
  if (!v) return std::optional<bool>();
  if (!v->is_boolean()) return Expected(field, "true or false", *v);
  return std::optional<bool>(v->get<bool>());
}

Result<std::vector<std::string>> StringList(const json& body, std::string_view field) {
  std::vector<std::string> out;
  const json* v = Find(body, field);
  if (!v) return out;
  if (!v->is_array()) return Expected(field, "an array of strings", *v);
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (!e.is_string()) return Expected(std::string(field) + "[" + std::to_string(i) + "]", "a string", e);
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::vector<float>> FloatList(const json& v, std::string_view field) {
  if (!v.is_array()) return Expected(field, "an array of numbers", v);
  std::vector<float> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    // The element's name only on error (a 768-d vector is on the hot path).
    auto name = [&] { return std::string(field) + "[" + std::to_string(i) + "]"; };
    if (!e.is_number()) return Expected(name(), "a finite number", e);
    double d = e.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max()) {
      return Expected(name(), "a finite number within float32 range", e);
    }
    out.push_back(static_cast<float>(d));
  }
  return out;
}

Result<int64_t> ParseIntParam(std::string_view text, std::string_view field) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    return Status::InvalidArgument(std::string(field) + ": expected an integer, got '" +
                                   std::string(text.substr(0, 40)) + "'");
  }
  return v;
}

Result<governance::TableName> ParseName(std::string_view text, std::string_view field) {
  auto name = governance::TableName::Parse(text);
  if (!name.ok()) return Status::InvalidArgument(std::string(field) + ": " + name.status().message());
  return name;
}

// --- Values ----------------------------------------------------------------------

json ValueToJson(const Value& v) {
  if (v.is_null()) return nullptr;
  if (v.is_int()) return v.as_int();
  if (v.is_double()) {
    double d = v.as_double();
    if (!std::isfinite(d)) return nullptr;  // not representable in JSON
    return d;
  }
  if (v.is_string()) return v.as_string();
  if (v.is_bool()) return v.as_bool();
  if (v.is_date()) return FormatDate(v.as_date());
  if (v.is_timestamp()) return FormatTimestamp(v.as_timestamp());
  json arr = json::array();
  for (float f : v.as_vector()) arr.push_back(static_cast<double>(f));
  return arr;
}

Result<Value> ValueFromJson(const json& v, const DataType& type, std::string_view field) {
  if (v.is_null()) return Value::Null();
  const std::string expected = type.ToString();
  switch (type.id) {
    case TypeId::kBigint: {
      json holder = {{"v", v}};
      auto i = OptionalInt(holder, "v");
      if (!i.ok() || !i->has_value()) return Expected(field, expected, v);
      return Value::Int(**i);
    }
    case TypeId::kDouble: {
      if (!v.is_number()) return Expected(field, expected, v);
      double d = v.get<double>();
      if (!std::isfinite(d)) return Expected(field, "a finite DOUBLE", v);
      return Value::Real(d);
    }
    case TypeId::kString:
      if (!v.is_string()) return Expected(field, expected, v);
      return Value::Str(v.get<std::string>());
    case TypeId::kBoolean:
      if (!v.is_boolean()) return Expected(field, expected, v);
      return Value::Bool(v.get<bool>());
    case TypeId::kDate:
    case TypeId::kTimestamp: {
      if (!v.is_string()) return Expected(field, expected + " as a string", v);
      auto parsed = ParseValue(v.get<std::string>(), type);
      if (!parsed.ok()) return Expected(field, expected, v);
      return parsed;
    }
    case TypeId::kVector: {
      VESTA_ASSIGN_OR_RETURN(std::vector<float> f, FloatList(v, field));
      if (static_cast<int>(f.size()) != type.dim) {
        return Status::InvalidArgument(std::string(field) + ": expected " + expected + ", got " +
                                       std::to_string(f.size()) + " values");
      }
      return Value::Vec(std::move(f));
    }
  }
  return Expected(field, expected, v);
}

Result<Row> RowFromJson(const json& object, const Schema& schema, std::string_view where) {
  if (!object.is_object()) return Expected(where, "a JSON object keyed by column name", object);
  Row row(schema.columns.size());
  for (auto it = object.begin(); it != object.end(); ++it) {
    int c = schema.FindColumn(it.key());
    if (c < 0) {
      std::string names;
      for (const Column& col : schema.columns) names += (names.empty() ? "" : ", ") + col.name;
      return Status::InvalidArgument(std::string(where) + ": unknown column '" + it.key().substr(0, 128) +
                                     "' (columns: " + names + ")");
    }
    VESTA_ASSIGN_OR_RETURN(row[c], ValueFromJson(it.value(), schema.columns[c].type,
                                                 std::string(where) + "." + schema.columns[c].name));
  }
  Status st = schema.ValidateRow(row);
  if (!st.ok()) return Status::InvalidArgument(std::string(where) + ": " + st.message());
  return row;
}

json RowToJson(const std::vector<std::string>& columns, const Row& row) {
  json out = json::object();
  for (size_t i = 0; i < columns.size() && i < row.size(); ++i) out[columns[i]] = ValueToJson(row[i]);
  return out;
}

Result<Schema> SchemaFromJson(const json& j, std::string_view field) {
  if (!j.is_object()) return Expected(field, "an object {columns, primary_key}", j);
  Schema schema;
  VESTA_ASSIGN_OR_RETURN(schema.primary_key, RequiredString(j, "primary_key"));
  auto cols = j.find("columns");
  if (cols == j.end() || !cols->is_array() || cols->empty()) {
    return Status::InvalidArgument(std::string(field) + ".columns: expected a non-empty array of columns");
  }
  for (size_t i = 0; i < cols->size(); ++i) {
    const json& c = (*cols)[i];
    std::string where = std::string(field) + ".columns[" + std::to_string(i) + "]";
    if (!c.is_object()) return Expected(where, "an object {name, type, nullable, comment}", c);
    Column col;
    auto name = RequiredString(c, "name");
    if (!name.ok()) return Status::InvalidArgument(where + "." + name.status().message());
    col.name = *name;
    auto type_text = RequiredString(c, "type");
    if (!type_text.ok()) return Status::InvalidArgument(where + "." + type_text.status().message());
    auto type = DataType::Parse(*type_text);
    if (!type.ok()) return Status::InvalidArgument(where + ".type: " + type.status().message());
    col.type = *type;
    auto nullable = OptionalBool(c, "nullable");
    if (!nullable.ok()) return Status::InvalidArgument(where + "." + nullable.status().message());
    col.nullable = nullable->value_or(true);
    auto comment = OptionalString(c, "comment");
    if (!comment.ok()) return Status::InvalidArgument(where + "." + comment.status().message());
    col.comment = comment->value_or("");
    schema.columns.push_back(std::move(col));
  }
  Status st = schema.Validate();
  if (!st.ok()) return Status::InvalidArgument(std::string(field) + ": " + st.message());
  return schema;
}

json SchemaToJson(const Schema& schema) {
  json cols = json::array();
  for (const Column& c : schema.columns) {
    cols.push_back(
        {{"name", c.name}, {"type", c.type.ToString()}, {"nullable", c.nullable}, {"comment", c.comment}});
  }
  return {{"columns", cols}, {"primary_key", schema.primary_key}};
}

}  // namespace vesta::service::internal
