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
#include "service/index_manager.h"
#include "service/internal/http.h"
#include "service/internal/routes.h"

namespace vesta::service {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
using internal::JsonDump;
using internal::SetError;
using internal::SetJson;

// Histogram bucket upper bounds, seconds (Prometheus "le").
constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

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

// The method as a metrics label: the standard ones, else "OTHER" (a client
// can send any token as a method; labels must stay bounded).
std::string MethodLabel(const std::string& method) {
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}) {
    if (method == m) return method;
  }
  return "OTHER";
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

  // The vector indexes served (created in Start, before the routes).
  std::unique_ptr<IndexManager> indexes;
  std::vector<std::string> routes;  // "METHOD pattern", as registered

  void Register() {
    internal::Router router(http, governed);
    router.RawGet("/healthz", "/healthz", [](const httplib::Request&, httplib::Response& res) {
      SetJson(res, 200, {{"status", "ok"}});
    });
    router.RawGet("/readyz", "/readyz", [this](const httplib::Request&, httplib::Response& res) {
      auto catalogs = governed.store().ListCatalogs();
      if (!catalogs.ok()) {
        SetError(res, {503, "UNAVAILABLE", "store not ready: " + catalogs.status().ToString()});
        return;
      }
      SetJson(res, 200, {{"status", "ready"}});
    });
    router.RawGet("/metrics", "/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      if (!internal::AuthenticateOrAnswer(governed, req, res)) return;
      res.status = 200;
      res.set_content(RenderMetrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    internal::RegisterTableRoutes(router, [this](const governance::TableName& table, int64_t version) {
      indexes->NotifyCommit(table, version);
    });
    internal::RegisterGovernanceRoutes(router);
    internal::RegisterIndexRoutes(router, *indexes);
    routes = router.routes();

    http.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
      internal::RequestState& r = internal::CurrentRequest();
      r = internal::RequestState{};
      r.started = true;
      r.start = Clock::now();
      r.audit_calls_at_start = governance::AuditLog::AppendCallsOnThisThread();
      if (options.request_time_limit.count() > 0) r.deadline = r.start + options.request_time_limit;
      return httplib::Server::HandlerResponse::Unhandled;
    });
    // Called by httplib for every response with status >= 400 before it is
    // written: fills in the error shape where no handler did (unknown route,
    // body too large, malformed request).
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& req, httplib::Response& res) {
          auto answered = httplib::Server::HandlerResponse::Unhandled;
          if (res.body.empty()) {
            SetError(res, ErrorForHttpStatus(res.status, req.method, req.path, options.max_body_bytes));
            answered = httplib::Server::HandlerResponse::Handled;
          }
          const std::string& route = internal::CurrentRequest().route;
          if (route != "/healthz" && route != "/readyz") internal::AuditRefusedRequest(governed, req, res);
          return answered;
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
                               {"route", internal::CurrentRequest().route},
                               {"what", what}})
                         .c_str());
      }
      SetError(res, {500, "INTERNAL", "internal error"});
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) { Finish(req, res); });
  }

  // Records the finished request in the metrics and the access log.
  void Finish(const httplib::Request& req, const httplib::Response& res) {
    internal::RequestState& r = internal::CurrentRequest();
    double seconds = r.started ? std::chrono::duration<double>(Clock::now() - r.start).count() : 0.0;
    const std::string route = r.route;
    const std::string principal = r.principal;
    r = internal::RequestState{};
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
  {
    IndexManagerOptions io;
    io.index_dir = o.index_dir.empty() ? impl_->governed.store().path() + ".indexes" : o.index_dir;
    VESTA_ASSIGN_OR_RETURN(impl_->indexes, IndexManager::Open(impl_->governed, io));
  }
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
  impl_->indexes.reset();  // stops the CONTINUOUS sync thread
}

}  // namespace vesta::service
