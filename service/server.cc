#include "service/server.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "service/errors.h"
#include "service/index_manager.h"
#include "service/internal/http.h"
#include "service/internal/http_stream.h"
#include "service/internal/routes.h"
#include "service/openapi_spec.h"

// OpenBLAS's thread control (cblas.h of OpenBLAS; declared here so that the
// netlib cblas.h a distribution may put first cannot hide it). OpenMP's from
// <omp.h>.
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
void omp_set_num_threads(int num_threads);
int omp_get_max_threads(void);
}

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

// "2xx" .. "5xx" (metrics label of a status).
std::string StatusClass(int status) {
  if (status < 100 || status > 599) return "other";
  return std::to_string(status / 100) + "xx";
}

// The route label of requests refused before routing (overload, deadline,
// header limits).
constexpr char kRejectedRoute[] = "rejected";

// What the worker running a connection knows about it: set by the task
// queue around each connection, read by the pre-routing handler (a
// connection is served start to end on one thread).
struct ConnectionContext {
  // Served on the overload path: every request gets 503 without running.
  bool overloaded = false;
  // When the connection was queued, until its first request has started.
  std::optional<Clock::time_point> queued_at;
};
thread_local ConnectionContext t_connection;

// httplib's TaskQueue with a bounded queue (httplib 0.11's ThreadPool
// queues without limit and its enqueue cannot refuse). Each task is one
// accepted connection (httplib's process_and_close_socket). `workers`
// threads serve the queue; when it holds `max_queued` tasks, new ones go to
// one overload thread (its own queue of at most kMaxOverloadQueued) that
// runs them with t_connection.overloaded set, so that the pre-routing
// handler answers 503; beyond that the enqueueing (accept) thread runs the
// task itself, overloaded. shutdown() lets both queues drain (every
// accepted connection is served) and joins the threads.
class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t workers, size_t max_queued, int search_threads, std::atomic<int64_t>* depth)
      : max_queued_(max_queued), search_threads_(search_threads), depth_(depth) {
    for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
    overload_thread_ = std::thread([this] { OverloadLoop(); });
  }
  ~BoundedTaskQueue() override {
    if (!joined_) shutdown();
  }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (jobs_.size() < max_queued_) {
        jobs_.push_back({std::move(fn), Clock::now()});
        depth_->store(static_cast<int64_t>(jobs_.size()));
        cv_.notify_one();
        return;
      }
      if (overload_jobs_.size() < kMaxOverloadQueued) {
        overload_jobs_.push_back(std::move(fn));
        overload_cv_.notify_one();
        return;
      }
    }
    RunOverloaded(fn);
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    cv_.notify_all();
    overload_cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    overload_thread_.join();
    joined_ = true;
  }

 private:
  struct Job {
    std::function<void()> fn;
    Clock::time_point queued_at;
  };

  void WorkerLoop() {
    // OpenMP's thread count is per thread (nthreads-var of the thread's
    // implicit task): set it on every thread that runs searches.
    omp_set_num_threads(search_threads_);
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return shutdown_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // shutting down and drained
        job = std::move(jobs_.front());
        jobs_.pop_front();
        depth_->store(static_cast<int64_t>(jobs_.size()));
      }
      t_connection = ConnectionContext{false, job.queued_at};
      internal::CurrentRequest() = internal::RequestState{};
      job.fn();
      t_connection = ConnectionContext{};
    }
  }

  void OverloadLoop() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        overload_cv_.wait(lock, [&] { return shutdown_ || !overload_jobs_.empty(); });
        if (overload_jobs_.empty()) return;
        fn = std::move(overload_jobs_.front());
        overload_jobs_.pop_front();
      }
      RunOverloaded(fn);
    }
  }

  static void RunOverloaded(const std::function<void()>& fn) {
    t_connection = ConnectionContext{true, std::nullopt};
    internal::CurrentRequest() = internal::RequestState{};
    fn();
    t_connection = ConnectionContext{};
  }

  const size_t max_queued_;
  const int search_threads_;
  std::atomic<int64_t>* depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable overload_cv_;
  std::deque<Job> jobs_;
  std::deque<std::function<void()>> overload_jobs_;
  bool shutdown_ = false;
  bool joined_ = false;
  std::vector<std::thread> threads_;
  std::thread overload_thread_;
};

// The last OpenSSL error as text ("" if none); clears the error queue.
std::string OpenSslError() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

// Opens `path` for reading; NotFound / InvalidArgument naming `option` and
// the file.
Result<FILE*> OpenTlsFile(const std::string& option, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    std::string msg = option + " '" + path + "': cannot read: " + std::strerror(err);
    if (err == ENOENT) return Status::NotFound(msg);
    return Status::InvalidArgument(msg);
  }
  return f;
}

// Checks the PEM certificate and key before httplib loads them (httplib
// reports only "invalid"): each readable, parseable, and the key matching
// the certificate. An encrypted key is refused (no passphrase prompt).
Status CheckTlsFiles(const std::string& cert_path, const std::string& key_path) {
  ERR_clear_error();
  VESTA_ASSIGN_OR_RETURN(FILE * cf, OpenTlsFile("tls_cert_file", cert_path));
  X509* cert = PEM_read_X509(cf, nullptr, nullptr, nullptr);
  std::fclose(cf);
  if (cert == nullptr) {
    return Status::InvalidArgument("tls_cert_file '" + cert_path + "' holds no PEM certificate (" +
                                   OpenSslError() + ")");
  }
  auto no_passphrase = [](char*, int, int, void*) -> int { return -1; };
  auto cf_result = OpenTlsFile("tls_key_file", key_path);
  if (!cf_result.ok()) {
    X509_free(cert);
    return cf_result.status();
  }
  FILE* kf = *cf_result;
  EVP_PKEY* key = PEM_read_PrivateKey(kf, nullptr, no_passphrase, nullptr);
  std::fclose(kf);
  if (key == nullptr) {
    X509_free(cert);
    return Status::InvalidArgument("tls_key_file '" + key_path + "' holds no unencrypted PEM private key (" +
                                   OpenSslError() + ")");
  }
  const int match = X509_check_private_key(cert, key);
  EVP_PKEY_free(key);
  X509_free(cert);
  if (match != 1) {
    return Status::InvalidArgument("tls_key_file '" + key_path +
                                   "' does not match the certificate in tls_cert_file '" + cert_path + "'");
  }
  ERR_clear_error();
  return Status::OK();
}

}  // namespace

Status ServerOptions::Validate() const {
  if (port < 0 || port > 65535)
    return Status::InvalidArgument("port must be 0..65535, got " + std::to_string(port));
  if (worker_threads < 0) {
    return Status::InvalidArgument("worker_threads must be >= 0 (0 = hardware concurrency), got " +
                                   std::to_string(worker_threads));
  }
  if (max_queued_requests < 0) {
    return Status::InvalidArgument("max_queued_requests must be >= 0 (0 = 64 per worker thread), got " +
                                   std::to_string(max_queued_requests));
  }
  if (max_body_bytes == 0) return Status::InvalidArgument("max_body_bytes must be > 0");
  if (read_timeout.count() <= 0 || write_timeout.count() <= 0 || keep_alive_timeout.count() <= 0) {
    return Status::InvalidArgument("read_timeout, write_timeout and keep_alive_timeout must be > 0 ms");
  }
  if (request_time_limit.count() < 0) return Status::InvalidArgument("request_time_limit must be >= 0 ms");
  if (search_threads < 1 || search_threads > 1024) {
    return Status::InvalidArgument("search_threads must be 1..1024, got " + std::to_string(search_threads));
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return Status::InvalidArgument(tls_cert_file.empty() ? "tls_key_file is set but tls_cert_file is not"
                                                         : "tls_cert_file is set but tls_key_file is not");
  }
  return Status::OK();
}

struct Server::Impl {
  Impl(access::Governed& g, ServerOptions o) : governed(g), options(std::move(o)) {}

  access::Governed& governed;
  const ServerOptions options;
  std::unique_ptr<httplib::Server> http;  // an httplib::SSLServer with TLS; created by Start
  std::thread thread;
  std::atomic<int> bound_port{0};
  std::atomic<bool> listen_returned{false};
  std::mutex lifecycle_mu;  // Start / Stop
  bool started = false;
  bool stopped = false;
  size_t workers = 0;
  size_t max_queued = 0;

  // Metrics, guarded by metrics_mu (but the atomics).
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> buckets{};  // non-cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  std::mutex metrics_mu;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests;  // route, method, status
  std::map<std::pair<std::string, std::string>, Histogram> durations;      // route, status class
  std::map<std::string, uint64_t> rejected;                                // reason
  std::atomic<int64_t> queue_depth{0};

  std::mutex log_mu;

  // The vector indexes served (created in Start, before the routes).
  std::unique_ptr<IndexManager> indexes;
  std::vector<std::string> routes;  // "METHOD pattern", as registered

  void Log(const nlohmann::ordered_json& line) {
    std::lock_guard<std::mutex> lock(log_mu);
    std::fprintf(stderr, "%s\n", line.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  }

  // Answers a request refused before routing: `error`, route "rejected",
  // counted under `reason`; 503s carry Retry-After, and the connection is
  // closed after the answer.
  void Reject(httplib::Response& res, const std::string& reason, const HttpError& error) {
    internal::CurrentRequest().route = kRejectedRoute;
    SetError(res, error);
    if (error.http_status == 503) res.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
    res.set_header("Connection", "close");
    std::lock_guard<std::mutex> lock(metrics_mu);
    ++rejected[reason];
  }

  void Register() {
    httplib::Server& svr = *http;
    internal::Router router(svr, governed);
    router.RawGet("/healthz", [](const httplib::Request&, httplib::Response& res) {
      SetJson(res, 200, {{"status", "ok"}});
    });
    router.RawGet("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      auto catalogs = governed.store().ListCatalogs();
      if (!catalogs.ok()) {
        SetError(res, {503, "UNAVAILABLE", "store not ready: " + catalogs.status().ToString()});
        return;
      }
      SetJson(res, 200, {{"status", "ready"}});
    });
    router.RawGet("/openapi.json", [](const httplib::Request&, httplib::Response& res) {
      res.status = 200;
      res.set_content(std::string(OpenApiSpec()), "application/json");
    });
    router.RawGet("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      if (!internal::AuthenticateOrAnswer(governed, req, res)) return;
      res.status = 200;
      res.set_content(RenderMetrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    internal::RegisterTableRoutes(router, [this](const governance::TableName& table, int64_t version) {
      indexes->NotifyCommit(table, version);
    });
    internal::RegisterGovernanceRoutes(router);
    internal::RegisterIndexRoutes(router, *indexes);
    internal::RegisterSimilarCasesRoutes(router, *indexes);
    routes = router.routes();

    // Runs once the request head is read, before the body and routing.
    svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      internal::RequestState& r = internal::CurrentRequest();
      r = internal::RequestState{};
      r.started = true;
      const Clock::time_point now = Clock::now();
      r.start = t_connection.queued_at.value_or(now);
      t_connection.queued_at.reset();
      r.audit_calls_at_start = governance::AuditLog::AppendCallsOnThisThread();
      if (options.request_time_limit.count() > 0) r.deadline = r.start + options.request_time_limit;
      using HR = httplib::Server::HandlerResponse;
      if (t_connection.overloaded) {
        Reject(res, "queue_full",
               {503, "UNAVAILABLE",
                "server overloaded: " + std::to_string(max_queued) + " connections already wait for " +
                    std::to_string(workers) + " workers; retry later"});
        return HR::Handled;
      }
      if (now > r.deadline) {
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - r.start).count();
        Reject(res, "deadline",
               {503, "UNAVAILABLE",
                "request waited " + std::to_string(waited) +
                    " ms for a worker, over the request time limit of " +
                    std::to_string(options.request_time_limit.count()) + " ms; retry later"});
        return HR::Handled;
      }
      // httplib adds REMOTE_ADDR / REMOTE_PORT (and LOCAL_*) to the headers.
      size_t count = 0, bytes = 0;
      for (const auto& [name, value] : req.headers) {
        if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" || name == "LOCAL_PORT")
          continue;
        ++count;
        bytes += name.size() + value.size();
      }
      if (count > kMaxHeaderCount || bytes > kMaxHeaderBytes) {
        Reject(res, "headers",
               {431, "RESOURCE_EXHAUSTED",
                "request has " + std::to_string(count) + " header fields of " + std::to_string(bytes) +
                    " bytes; the limits are " + std::to_string(kMaxHeaderCount) + " fields and " +
                    std::to_string(kMaxHeaderBytes) + " bytes"});
        return HR::Handled;
      }
      if (options.on_request_start_for_test) options.on_request_start_for_test();
      return HR::Unhandled;
    });
    // Called by httplib for every response with status >= 400 before it is
    // written: fills in the error shape where no handler did (unknown route,
    // body too large, malformed request).
    svr.set_error_handler(
        httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
          auto answered = httplib::Server::HandlerResponse::Unhandled;
          // A head httplib could not parse (400 before routing; e.g. a
          // header line over 8192 bytes): ask the client to close, since
          // httplib 0.11 would read on from the middle of the bad head.
          if (!internal::CurrentRequest().started && res.status == 400) res.set_header("Connection", "close");
          if (res.body.empty()) {
            SetError(res, ErrorForHttpStatus(res.status, req.method, req.path, options.max_body_bytes));
            answered = httplib::Server::HandlerResponse::Handled;
          }
          // Health probes and requests refused on the overload path (an
          // audit write each would deepen the overload) are not audited.
          const std::string& route = internal::CurrentRequest().route;
          if (route != "/healthz" && route != "/readyz" && !t_connection.overloaded) {
            internal::AuditRefusedRequest(governed, req, res);
          }
          return answered;
        }));
    svr.set_exception_handler(
        [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown exception";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          Log({{"ts", NowUtc()},
               {"level", "error"},
               {"event", "unhandled_exception"},
               {"method", req.method},
               {"route", internal::CurrentRequest().route},
               {"what", what}});
          SetError(res, {500, "INTERNAL", "internal error"});
        });
    // Runs just before the response is written: the metrics (so a client
    // that has its answer sees it counted in the next scrape).
    svr.set_post_routing_handler(
        [this](const httplib::Request& req, httplib::Response& res) { Count(req, res); });
    // Runs after the response is written: the access log.
    svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) { Finish(req, res); });
  }

  static double SecondsSinceStart() {
    const internal::RequestState& r = internal::CurrentRequest();
    return r.started ? std::chrono::duration<double>(Clock::now() - r.start).count() : 0.0;
  }

  // Records the request in the metrics.
  void Count(const httplib::Request& req, const httplib::Response& res) {
    const double seconds = SecondsSinceStart();
    const std::string& route = internal::CurrentRequest().route;
    std::lock_guard<std::mutex> lock(metrics_mu);
    ++requests[{route, MethodLabel(req.method), res.status}];
    Histogram& h = durations[{route, StatusClass(res.status)}];
    size_t b = 0;
    while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
    if (b < kBuckets.size()) ++h.buckets[b];
    ++h.count;
    h.sum += seconds;
  }

  // Writes the access log line and resets the request state.
  void Finish(const httplib::Request& req, const httplib::Response& res) {
    // The response is buffered in the connection's stream (http_stream.h):
    // send it before the bookkeeping, and count the send in the duration.
    internal::FlushResponse();
    internal::RequestState& r = internal::CurrentRequest();
    const double seconds = SecondsSinceStart();
    const std::string route = r.route;
    const std::string principal = r.principal;
    r = internal::RequestState{};
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
    Log(line);
  }

  std::string RenderMetrics() {
    // Index gauges first, outside metrics_mu (AllStatuses takes the
    // manager's locks).
    std::vector<IndexStatus> statuses;
    if (indexes) statuses = indexes->AllStatuses();
    std::ostringstream out;
    {
      std::lock_guard<std::mutex> lock(metrics_mu);
      out << "# HELP vesta_http_requests_total HTTP requests answered, by route pattern, method and status.\n"
          << "# TYPE vesta_http_requests_total counter\n";
      for (const auto& [key, n] : requests) {
        const auto& [route, method, status] = key;
        out << "vesta_http_requests_total{route=\"" << LabelValue(route) << "\",method=\""
            << LabelValue(method) << "\",status=\"" << status << "\"} " << n << "\n";
      }
      out << "# HELP vesta_http_request_duration_seconds Time from the request's start (its connection's "
             "queueing "
             "for the first request of a connection) to its response, by route pattern and status class.\n"
          << "# TYPE vesta_http_request_duration_seconds histogram\n";
      for (const auto& [key, h] : durations) {
        const std::string labels =
            "route=\"" + LabelValue(key.first) + "\",status_class=\"" + LabelValue(key.second) + "\"";
        uint64_t cumulative = 0;
        for (size_t i = 0; i < kBuckets.size(); ++i) {
          cumulative += h.buckets[i];
          out << "vesta_http_request_duration_seconds_bucket{" << labels << ",le=\"" << kBuckets[i] << "\"} "
              << cumulative << "\n";
        }
        out << "vesta_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count << "\n"
            << "vesta_http_request_duration_seconds_sum{" << labels << "} " << h.sum << "\n"
            << "vesta_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
      }
      out << "# HELP vesta_http_requests_rejected_total Requests refused before routing: queue_full "
             "(overload), "
             "deadline (waited past the time limit), headers (too many or too large).\n"
          << "# TYPE vesta_http_requests_rejected_total counter\n";
      for (const char* reason : {"queue_full", "deadline", "headers"}) {
        auto it = rejected.find(reason);
        out << "vesta_http_requests_rejected_total{reason=\"" << reason << "\"} "
            << (it == rejected.end() ? 0 : it->second) << "\n";
      }
    }
    out << "# HELP vesta_http_queue_depth Accepted connections waiting for a worker.\n"
        << "# TYPE vesta_http_queue_depth gauge\n"
        << "vesta_http_queue_depth " << queue_depth.load() << "\n"
        << "# HELP vesta_http_queue_capacity Connections that may wait for a worker (max_queued_requests).\n"
        << "# TYPE vesta_http_queue_capacity gauge\n"
        << "vesta_http_queue_capacity " << max_queued << "\n"
        << "# HELP vesta_http_workers HTTP worker threads.\n"
        << "# TYPE vesta_http_workers gauge\n"
        << "vesta_http_workers " << workers << "\n";
    struct Gauge {
      const char* name;
      const char* help;
      std::function<double(const IndexStatus&)> value;
    };
    const Gauge gauges[] = {
        {"vesta_index_rows", "Rows searchable in the index.",
         [](const IndexStatus& s) { return static_cast<double>(s.indexed_row_count); }},
        {"vesta_index_memory_bytes", "Memory used by the index, bytes.",
         [](const IndexStatus& s) { return static_cast<double>(s.memory_bytes); }},
        {"vesta_index_version", "Source table version the index reflects (-1: never built).",
         [](const IndexStatus& s) { return static_cast<double>(s.index_version); }},
        {"vesta_index_versions_behind", "Source table commits not yet in the index.",
         [](const IndexStatus& s) { return static_cast<double>(s.versions_behind); }},
        {"vesta_index_ready", "1 if the index is built and searchable, else 0.",
         [](const IndexStatus& s) { return s.ready ? 1.0 : 0.0; }},
    };
    for (const Gauge& g : gauges) {
      out << "# HELP " << g.name << " " << g.help << "\n# TYPE " << g.name << " gauge\n";
      for (const IndexStatus& s : statuses) {
        out << g.name << "{index=\"" << LabelValue(s.definition.name.ToString()) << "\"} " << g.value(s)
            << "\n";
      }
    }
    return out.str();
  }
};

Server::Server(access::Governed& governed, ServerOptions options)
    : impl_(std::make_unique<Impl>(governed, std::move(options))) {}

Server::~Server() {
  Stop();
}

Status Server::Start() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  if (impl_->started) return Status::FailedPrecondition("server already started");
  VESTA_RETURN_IF_ERROR(impl_->options.Validate());
  const ServerOptions& o = impl_->options;
  const bool tls = !o.tls_cert_file.empty();
  if (tls) {
    VESTA_RETURN_IF_ERROR(CheckTlsFiles(o.tls_cert_file, o.tls_key_file));
    auto ssl =
        std::make_unique<internal::BodyReadingTlsServer>(o.tls_cert_file.c_str(), o.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return Status::InvalidArgument("cannot set up TLS with tls_cert_file '" + o.tls_cert_file +
                                     "' and tls_key_file '" + o.tls_key_file + "': " + OpenSslError());
    }
    impl_->http = std::move(ssl);
  } else {
    impl_->http = std::make_unique<internal::BodyReadingServer>();  // reads GET bodies (http_stream.h)
  }

  // Search threads: OpenBLAS's count is process-wide; OpenMP's is per
  // thread (set here for the calling thread and by each worker).
  openblas_set_num_threads(o.search_threads);
  omp_set_num_threads(o.search_threads);

  const size_t workers = o.worker_threads > 0 ? static_cast<size_t>(o.worker_threads)
                                              : std::max<size_t>(2, std::thread::hardware_concurrency());
  const size_t max_queued =
      o.max_queued_requests > 0 ? static_cast<size_t>(o.max_queued_requests) : 64 * workers;
  impl_->workers = workers;
  impl_->max_queued = max_queued;
  httplib::Server& http = *impl_->http;
  const int search_threads = o.search_threads;
  std::atomic<int64_t>* depth = &impl_->queue_depth;
  http.new_task_queue = [workers, max_queued, search_threads, depth] {
    return new BoundedTaskQueue(workers, max_queued, search_threads, depth);
  };
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
    impl_->http->listen_after_bind();
    impl_->listen_returned = true;
  });
  // httplib's stop() is a no-op until the accept loop runs (is_running()),
  // so a Stop() right after Start() would leave accept() blocked forever:
  // return only once the loop runs.
  while (!http.is_running() && !impl_->listen_returned)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!http.is_running()) {
    impl_->thread.join();
    impl_->stopped = true;
    return Status::Unavailable("the HTTP accept loop on " + o.host + ":" + std::to_string(port) +
                               " ended at once");
  }
  if (o.access_log) {
    impl_->Log({{"ts", NowUtc()},
                {"event", "server_start"},
                {"listen", o.host + ":" + std::to_string(port)},
                {"tls", tls},
                {"worker_threads", workers},
                {"max_queued_requests", max_queued},
                {"request_time_limit_ms", o.request_time_limit.count()},
                {"max_body_bytes", o.max_body_bytes},
                {"search_threads", o.search_threads},
                {"openmp_threads", omp_get_max_threads()},
                {"openblas_threads", openblas_get_num_threads()}});
  }
  return Status::OK();
}

int Server::port() const {
  return impl_->bound_port.load();
}

void Server::Stop() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  // stop() closes the listening socket; listen_after_bind() then shuts the
  // task queue down, which serves every queued and in-flight connection to
  // the end of its current request before joining.
  impl_->http->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->indexes.reset();  // stops the CONTINUOUS sync thread
  // Every request has answered and audited: move the WAL into the store file.
  Status st = impl_->governed.audit().Checkpoint();
  if (!st.ok()) {
    impl_->Log(
        {{"ts", NowUtc()}, {"level", "error"}, {"event", "audit_checkpoint"}, {"error", st.ToString()}});
  }
}

}  // namespace vesta::service
