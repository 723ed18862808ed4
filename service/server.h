// The Vesta HTTP service (issue #5): cpp-httplib in front of the one governed
// entry point (access/governed.h). Every route but the health probes and
// /openapi.json authenticates the caller's bearer token
// (Governed::Authenticate) and calls only Governed; every error is answered
// through service/errors.h.
//
//   access::Governed& g = ...;
//   service::Server server(g, {.port = 0});
//   VESTA_RETURN_IF_ERROR(server.Start());   // serving on a background thread
//   ... server.port() ...
//   server.Stop();                           // graceful
//
// Routes (this slice):
//   GET /healthz   no auth; 200 {"status":"ok"} while the process serves.
//   GET /readyz    no auth; 200 {"status":"ready"} when the store answers a
//                  read (ListCatalogs), else 503 UNAVAILABLE with the reason.
//   GET /openapi.json
//                  no auth; 200, service/openapi.json byte for byte
//                  (service/openapi_spec.h).
//   GET /metrics   bearer token required (any valid principal: the counters
//                  name routes, not data, but a scraper is a client like any
//                  other and the listener may be exposed through a proxy, so
//                  a loopback peer is not trusted). Prometheus text format
//                  0.0.4:
//                    vesta_http_requests_total{route,method,status}    counter
//                    vesta_http_request_duration_seconds{route,status_class}
//                                                                      histogram
//                    vesta_http_requests_rejected_total{reason}        counter
//                      reason "queue_full" (overload), "deadline" (waited
//                      past request_time_limit), "headers" (431)
//                    vesta_http_queue_depth       gauge: connections waiting
//                                                 for a worker
//                    vesta_http_workers           gauge: worker_threads
//                    vesta_index_rows{index}            gauge: rows searchable
//                    vesta_index_memory_bytes{index}    gauge
//                    vesta_index_version{index}         gauge: source table
//                                                       version indexed (-1: never built)
//                    vesta_index_versions_behind{index} gauge
//                    vesta_index_ready{index}           gauge: 1 ONLINE, 0 not
//                  labelled by route *pattern* (e.g.
//                  "/api/2.1/unity-catalog/tables/{full_name}"), never the raw
//                  path; requests matching no route count as route
//                  "unmatched", requests refused before routing (overload,
//                  deadline, headers) as route "rejected". status_class is
//                  "2xx", "3xx", "4xx" or "5xx". Requests are counted just
//                  before their response is written, so a scrape made after
//                  a client saw its response always includes it. Durations
//                  run from the start of the request (for the first request
//                  of a connection: from the moment the accepted connection
//                  was queued, so queue waits show) to the response being
//                  ready to write.
//   GET /api/2.1/unity-catalog/tables/{full_name}
//                  Governed::DescribeTable for the caller; Unity-Catalog
//                  TableInfo shape (name, catalog_name, schema_name,
//                  full_name, table_type "MANAGED", columns [{name,
//                  type_text, type_name, nullable, position, comment}], owner,
//                  comment, properties, created_at (epoch ms)) plus Vesta's
//                  "version", "current_version", "row_count" (rows visible to
//                  the caller) and "primary_key".
// Auth: "Authorization: Bearer vst_..." ("bearer" case-insensitive). Missing
// or invalid: 401 UNAUTHENTICATED (and a WWW-Authenticate: Bearer header);
// a missing privilege: 403 PERMISSION_DENIED from the governed call.
// Errors: see errors.h; an unknown route is 404, a body over max_body_bytes
// 413, an exception escaping a handler a logged 500 INTERNAL ("internal
// error"; the exception's text goes to the log, not the client).
// Access log: one JSON line per request on stderr:
//   {"ts":"...Z","method":"GET","route":"/healthz","status":200,"duration_ms":0.12,"principal":""}
// plus "slow":true when the request took longer than request_time_limit, and
// one "event":"server_start" line with the effective settings at Start.
//
// Load and limits (what a client sees when the server is busy):
//   - Workers. httplib hands each accepted *connection* to a worker, which
//     serves its requests one after another (keep-alive: at most 5 requests,
//     and an idle connection holds its worker for up to keep_alive_timeout).
//   - Queue. Accepted connections wait for a worker in a queue of at most
//     max_queued_requests. When it is full, a new connection is answered on
//     a separate overload thread: every request on it gets 503 UNAVAILABLE
//     with "Retry-After: 1" and "Connection: close", without running the
//     handler, reading the body or writing an audit record (they did nothing;
//     an audit write per refused request would deepen the overload: the one
//     exception to "every request is audited once"). They count in
//     vesta_http_requests_rejected_total{reason="queue_full"} and the access
//     log. The overload thread has its own queue of
//     kMaxOverloadQueued connections; beyond that the accept loop answers the
//     503 itself, so accepting pauses meanwhile and new connections wait in
//     the kernel's listen backlog (back-pressure: clients see slow connects,
//     not errors). A slow client on the overload path holds it for at most
//     read_timeout per stalled read (httplib 0.11 has no deadline for a whole
//     request head): on a hostile network, put a proxy in front.
//   - Deadline. A request whose time limit (request_time_limit, counted from
//     when its connection was queued) passed before a worker reached it is
//     answered 503 UNAVAILABLE + Retry-After without running
//     (reason="deadline"; audited as a refused "http.request", like the 431
//     below, since a worker serves it anyway). Handlers check the deadline between phases
//     (Call::CheckDeadline); a governed call already running is not
//     interrupted, and a request that overran is logged "slow":true.
//   - Request head. The request line is at most 8192 bytes (longer: 414) and
//     each header line at most 8192 bytes (CPPHTTPLIB_HEADER_MAX_LENGTH,
//     compiled into Debian's libcpp-httplib 0.11.4: longer is 400
//     INVALID_ARGUMENT and the server goes on). httplib 0.11 does not bound
//     the number of header lines while reading; Vesta refuses a request with
//     more than kMaxHeaderCount header fields or more than kMaxHeaderBytes
//     of header names and values with 431 RESOURCE_EXHAUSTED before routing
//     (reason="headers"). A head is read in full before these checks, bounded
//     only by read_timeout per read: another reason for a proxy in front.
//   - Body: max_body_bytes (413, not buffered).
//
// TLS: with tls_cert_file and tls_key_file set, the listener speaks only
// HTTPS (httplib::SSLServer, OpenSSL); a plain-HTTP client gets its
// connection closed. Without them it speaks plain HTTP.
//
// Threads: each request runs on one worker thread; FAISS search inside it
// uses search_threads OpenMP threads (set on every worker thread, and on the
// thread calling Start) and OpenBLAS uses search_threads threads (process
// wide, set by Start). Threads created by others keep OpenMP's default (e.g.
// IndexManager's CONTINUOUS sync thread: set OMP_NUM_THREADS to bound it).
//
// Shutdown: Stop() (`vesta serve` on SIGTERM / SIGINT) stops accepting,
// lets every queued and in-flight request finish and answer, stops the index
// sync thread, then checkpoints the store's WAL into the main database file
// (governance::AuditLog::Checkpoint) so the audit records of the requests
// served are in the store file itself when the process exits.
//
// Thread-safety: thread-safe. Start and Stop may be called from any thread;
// Start at most once per Server (a stopped Server is not restarted). The
// Governed is borrowed and must outlive the Server.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "access/governed.h"
#include "common/status.h"

namespace vesta::service {

// Limits that are not options (see "Load and limits" above).
inline constexpr size_t kMaxHeaderCount = 100;           // header fields per request
inline constexpr size_t kMaxHeaderBytes = 64u << 10;     // sum of header name + value sizes
inline constexpr size_t kMaxOverloadQueued = 256;        // connections waiting for the overload thread
inline constexpr int kRetryAfterSeconds = 1;             // Retry-After of a 503 from overload or deadline

struct ServerOptions {
  // Address to listen on. Default loopback only: exposing the service is a
  // deliberate choice (set tls_cert_file / tls_key_file, or put a TLS proxy
  // in front).
  std::string host = "127.0.0.1";
  // TCP port; 0 picks a free ephemeral port (Server::port() reports it).
  int port = 8080;
  // HTTP worker threads (each serves one connection at a time). 0 = hardware
  // concurrency, at least 2. Cost: one thread and its stack each; more than
  // the cores only helps while requests wait on the store.
  int worker_threads = 0;
  // Accepted connections that may wait for a worker; beyond, new connections
  // are answered 503 UNAVAILABLE (see "Load and limits"). 0 = 64 per worker
  // thread. Cost: one open socket each (no thread); a deep queue turns a
  // burst into latency, and requests that wait past request_time_limit are
  // refused anyway.
  int max_queued_requests = 0;
  // Largest request body accepted, bytes; a larger one is answered 413
  // without being buffered.
  size_t max_body_bytes = 16u << 20;
  // Socket read / write timeouts per operation (a client that stalls mid
  // request or stops reading is dropped after this long).
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  // An idle keep-alive connection is closed after this long (whole seconds,
  // rounded down, at least 1 s); also bounds how long Stop() waits for idle
  // keep-alive connections.
  std::chrono::milliseconds keep_alive_timeout{2000};
  // Per-request time limit, counted from when the request's connection was
  // queued (later requests on a keep-alive connection: from when their head
  // was read). A request still waiting for a worker when it passes is
  // answered 503 UNAVAILABLE without running; handlers check it between
  // phases (Call::CheckDeadline); one that overran is logged "slow":true.
  // 0 = no limit.
  std::chrono::milliseconds request_time_limit{30000};
  // One JSON line per request on stderr (and the server_start line).
  bool access_log = true;
  // Directory of the vector index files (service/index_manager.h); "" =
  // "<store path>.indexes".
  std::string index_dir;
  // TLS: PEM certificate chain and PEM private key (unencrypted). Both or
  // neither; when set the listener speaks HTTPS only. Start fails with
  // NotFound naming the file if it does not exist, InvalidArgument naming
  // it if it cannot be read, is not PEM, or the key does not match the
  // certificate.
  std::string tls_cert_file;
  std::string tls_key_file;
  // OpenMP and OpenBLAS threads per search (FAISS, cblas_sgemm). The service
  // parallelises across requests (worker threads), so the default is 1:
  // workers x OpenMP threads above the core count only adds contention.
  int search_threads = 1;

  // Test seam: when set, run on the worker thread at the start of every
  // request that will be routed (not on the overload path), before the
  // handler. Lets tests hold a worker busy. Never set in production.
  std::function<void()> on_request_start_for_test;

  // InvalidArgument for a port outside 0..65535, negative worker_threads or
  // max_queued_requests, max_body_bytes 0, a non-positive timeout, a negative
  // request_time_limit, search_threads outside 1..1024, or only one of
  // tls_cert_file / tls_key_file.
  Status Validate() const;
};

class Server {
 public:
  // `governed` is borrowed (must outlive the Server). Call Start() to serve.
  Server(access::Governed& governed, ServerOptions options);
  ~Server();  // Stop()s if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Validates the options, loads the TLS certificate if any, sets the
  // search thread counts, binds host:port and serves on a background thread;
  // returns once the socket listens (connections made after Start returns
  // are accepted). Errors: InvalidArgument (options, TLS files), NotFound (a
  // TLS file missing), Unavailable when the address cannot be bound (in
  // use, not local), FailedPrecondition if Start was already called; those
  // of IndexManager::Open.
  Status Start();

  // The bound port (the ephemeral one when options.port was 0); 0 before
  // Start.
  int port() const;

  // Graceful stop: stops accepting, lets queued and in-flight requests
  // finish and answer, joins the workers, stops the index sync thread, then
  // checkpoints the store's WAL (a failure is logged on stderr; the records
  // stay safe in the WAL). Idempotent; a no-op before Start.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::service
