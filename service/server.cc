#include "service/server.h"

#include <httplib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cmath>
#include <optional>
#include <cstdio>
#include <ctime>
#include <exception>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "service/errors.h"

namespace vesta::service {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr char kUnmatched[] = "unmatched";
constexpr char kTablesRoute[] = "/api/2.1/unity-catalog/tables/{full_name}";
// Histogram bucket upper bounds, seconds (Prometheus "le").
constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

// What the access log and the metrics need of the request being served. A
// request is served start to end (pre-routing, handler, response, logger) on
// one worker thread, so this lives in a thread_local, reset per request.
struct RequestState {
  bool started = false;
  Clock::time_point start;
  std::string route = kUnmatched;
  std::string principal;
};
thread_local RequestState t_request;

std::string JsonDump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void SetJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(JsonDump(body), "application/json");
}

void SetError(httplib::Response& res, const HttpError& e) {
  res.status = e.http_status;
  res.set_content(ErrorBody(e), "application/json");
  if (e.http_status == 401) res.set_header("WWW-Authenticate", "Bearer");
}

std::string NowUtc() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// Prometheus label value escaping (\\, \", \n).
std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// The token after "Bearer " (scheme case-insensitive), or nullopt.
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

// The method as a metrics label: the standard ones, else "OTHER" (a client
// can send any token as a method; labels must stay bounded).
std::string MethodLabel(const std::string& method) {
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (method == m) return method;
  }
  return "OTHER";
}

std::string LowerTypeText(const DataType& t) {
  std::string s = t.ToString();
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Unity Catalog's ColumnTypeName for a Vesta type.
std::string UcTypeName(const DataType& t) {
  switch (t.id) {
    case TypeId::kBigint: return "LONG";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kString: return "STRING";
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kDate: return "DATE";
    case TypeId::kTimestamp: return "TIMESTAMP";
    case TypeId::kVector: return "ARRAY";
  }
  return "STRING";
}

json TableInfoJson(const governance::TableInfo& info) {
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
  return {{"name", info.name.table},
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
          {"version", info.version},
          {"current_version", info.current_version},
          {"row_count", info.row_count},
          {"primary_key", info.schema.primary_key}};
}

}  // namespace

Status ServerOptions::Validate() const {
  if (port < 0 || port > 65535) return Status::InvalidArgument("port must be 0..65535, got " + std::to_string(port));
  if (worker_threads < 0) {
    return Status::InvalidArgument("worker_threads must be >= 0 (0 = hardware concurrency), got " +
                                   std::to_string(worker_threads));
  }
  if (max_body_bytes == 0) return Status::InvalidArgument("max_body_bytes must be > 0");
  if (read_timeout.count() <= 0 || write_timeout.count() <= 0 || keep_alive_timeout.count() <= 0) {
    return Status::InvalidArgument("read_timeout, write_timeout and keep_alive_timeout must be > 0 ms");
  }
  if (request_time_limit.count() < 0) return Status::InvalidArgument("request_time_limit must be >= 0 ms");
  return Status::OK();
}

struct Server::Impl {
  Impl(access::Governed& g, ServerOptions o) : governed(g), options(std::move(o)) {}

  access::Governed& governed;
  const ServerOptions options;
  httplib::Server http;
  std::thread thread;
  std::atomic<int> bound_port{0};
  std::atomic<bool> listen_returned{false};
  std::mutex lifecycle_mu;  // Start / Stop
  bool started = false;
  bool stopped = false;

  // Metrics, guarded by metrics_mu.
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  std::mutex metrics_mu;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests;  // route, method, status
  std::map<std::string, Histogram> durations;                              // route

  std::mutex log_mu;

  // Authenticates the request's bearer token; on failure answers 401 and
  // returns nullopt.
  std::optional<access::Caller> Authenticate(const httplib::Request& req, httplib::Response& res) {
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
    t_request.principal = caller->user;
    return std::move(caller).value();
  }

  // Registers a GET route: `route` is the label (the pattern as documented),
  // `regex` httplib's pattern.
  template <typename F>
  void Get(const std::string& route, const std::string& regex, F handler) {
    http.Get(regex, [route, handler](const httplib::Request& req, httplib::Response& res) {
      t_request.route = route;
      handler(req, res);
    });
  }

  void Register() {
    Get("/healthz", "/healthz", [](const httplib::Request&, httplib::Response& res) {
      SetJson(res, 200, {{"status", "ok"}});
    });
    Get("/readyz", "/readyz", [this](const httplib::Request&, httplib::Response& res) {
      auto catalogs = governed.store().ListCatalogs();
      if (!catalogs.ok()) {
        SetError(res, {503, "UNAVAILABLE", "store not ready: " + catalogs.status().ToString()});
        return;
      }
      SetJson(res, 200, {{"status", "ready"}});
    });
    Get("/metrics", "/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authenticate(req, res)) return;
      res.status = 200;
      res.set_content(RenderMetrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    Get(kTablesRoute, R"(/api/2\.1/unity-catalog/tables/([^/]+))",
        [this](const httplib::Request& req, httplib::Response& res) {
          auto caller = Authenticate(req, res);
          if (!caller) return;
          auto name = governance::TableName::Parse(req.matches[1].str());
          if (!name.ok()) return SetError(res, ErrorFromStatus(name.status()));
          auto info = governed.DescribeTable(*caller, *name);
          if (!info.ok()) return SetError(res, ErrorFromStatus(info.status()));
          SetJson(res, 200, TableInfoJson(*info));
        });

    http.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
      t_request = RequestState{};
      t_request.started = true;
      t_request.start = Clock::now();
      return httplib::Server::HandlerResponse::Unhandled;
    });
    // Called by httplib for every response with status >= 400 before it is
    // written: fills in the error shape where no handler did (unknown route,
    // body too large, malformed request).
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          SetError(res, ErrorForHttpStatus(res.status, req.method, req.path, options.max_body_bytes));
          return httplib::Server::HandlerResponse::Handled;
        }));
    http.set_exception_handler([this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      {
        std::lock_guard<std::mutex> lock(log_mu);
        std::fprintf(stderr, "%s\n",
                     JsonDump({{"ts", NowUtc()},
                               {"level", "error"},
                               {"event", "unhandled_exception"},
                               {"method", req.method},
                               {"route", t_request.route},
                               {"what", what}})
                         .c_str());
      }
      SetError(res, {500, "INTERNAL", "internal error"});
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) { Finish(req, res); });
  }

  // Records the finished request in the metrics and the access log.
  void Finish(const httplib::Request& req, const httplib::Response& res) {
    double seconds = t_request.started
                         ? std::chrono::duration<double>(Clock::now() - t_request.start).count()
                         : 0.0;
    const std::string route = t_request.route;
    const std::string principal = t_request.principal;
    t_request = RequestState{};
    {
      std::lock_guard<std::mutex> lock(metrics_mu);
      ++requests[{route, MethodLabel(req.method), res.status}];
      Histogram& h = durations[route];
      size_t b = 0;
      while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
      if (b < kBuckets.size()) ++h.buckets[b];
      ++h.count;
      h.sum += seconds;
    }
    if (!options.access_log) return;
    nlohmann::ordered_json line = {{"ts", NowUtc()},
                 {"method", req.method},
                 {"route", route},
                 {"status", res.status},
                 {"duration_ms", std::round(seconds * 1e6) / 1e3},
                 {"principal", principal}};
    if (options.request_time_limit.count() > 0 &&
        seconds * 1000.0 > static_cast<double>(options.request_time_limit.count())) {
      line["slow"] = true;
    }
    std::lock_guard<std::mutex> lock(log_mu);
    std::fprintf(stderr, "%s\n", line.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  }

  std::string RenderMetrics() {
    std::ostringstream out;
    std::lock_guard<std::mutex> lock(metrics_mu);
    out << "# HELP vesta_http_requests_total HTTP requests answered, by route pattern, method and status.\n"
        << "# TYPE vesta_http_requests_total counter\n";
    for (const auto& [key, n] : requests) {
      const auto& [route, method, status] = key;
      out << "vesta_http_requests_total{route=\"" << LabelValue(route) << "\",method=\"" << LabelValue(method)
          << "\",status=\"" << status << "\"} " << n << "\n";
    }
    out << "# HELP vesta_http_request_duration_seconds Time from routing to response written, by route pattern.\n"
        << "# TYPE vesta_http_request_duration_seconds histogram\n";
    for (const auto& [route, h] : durations) {
      const std::string r = LabelValue(route);
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.buckets[i];
        out << "vesta_http_request_duration_seconds_bucket{route=\"" << r << "\",le=\"" << kBuckets[i] << "\"} "
            << cumulative << "\n";
      }
      out << "vesta_http_request_duration_seconds_bucket{route=\"" << r << "\",le=\"+Inf\"} " << h.count << "\n"
          << "vesta_http_request_duration_seconds_sum{route=\"" << r << "\"} " << h.sum << "\n"
          << "vesta_http_request_duration_seconds_count{route=\"" << r << "\"} " << h.count << "\n";
    }
    return out.str();
  }
};

Server::Server(access::Governed& governed, ServerOptions options)
    : impl_(std::make_unique<Impl>(governed, std::move(options))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  if (impl_->started) return Status::FailedPrecondition("server already started");
  VESTA_RETURN_IF_ERROR(impl_->options.Validate());
  const ServerOptions& o = impl_->options;
  size_t workers = o.worker_threads > 0 ? static_cast<size_t>(o.worker_threads)
                                        : std::max<size_t>(2, std::thread::hardware_concurrency());
  httplib::Server& http = impl_->http;
  http.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  http.set_payload_max_length(o.max_body_bytes);
  auto secs = [](std::chrono::milliseconds ms) { return static_cast<time_t>(ms.count() / 1000); };
  auto usecs = [](std::chrono::milliseconds ms) { return static_cast<time_t>((ms.count() % 1000) * 1000); };
  http.set_read_timeout(secs(o.read_timeout), usecs(o.read_timeout));
  http.set_write_timeout(secs(o.write_timeout), usecs(o.write_timeout));
  http.set_keep_alive_timeout(std::max<time_t>(1, secs(o.keep_alive_timeout)));
  impl_->Register();

  int port = o.port;
  if (port == 0) {
    port = http.bind_to_any_port(o.host);
    if (port <= 0) return Status::Unavailable("cannot bind " + o.host + " to an ephemeral port");
  } else if (!http.bind_to_port(o.host, port)) {
    return Status::Unavailable("cannot bind " + o.host + ":" + std::to_string(port) +
                               " (address in use or not local?)");
  }
  impl_->bound_port = port;
  impl_->started = true;
  // The socket already listens: connections queue in the backlog until the
  // accept loop below runs.
  impl_->thread = std::thread([this] {
    impl_->http.listen_after_bind();
    impl_->listen_returned = true;
  });
  // httplib's stop() is a no-op until the accept loop runs (is_running()),
  // so a Stop() right after Start() would leave accept() blocked forever:
  // return only once the loop runs.
  while (!http.is_running() && !impl_->listen_returned) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!http.is_running()) {
    impl_->thread.join();
    impl_->stopped = true;
    return Status::Unavailable("the HTTP accept loop on " + o.host + ":" + std::to_string(port) + " ended at once");
  }
  return Status::OK();
}

int Server::port() const { return impl_->bound_port.load(); }

void Server::Stop() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  // stop() closes the listening socket; listen_after_bind() then shuts the
  // worker pool down, which runs every queued and in-flight connection to
  // the end of its current request before joining.
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace vesta::service
