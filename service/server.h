// The Vesta HTTP service (issue #5): cpp-httplib in front of the one governed
// entry point (access/governed.h). Every route but the health probes
// authenticates the caller's bearer token (Governed::Authenticate) and calls
// only Governed; every error is answered through service/errors.h.
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
//   GET /metrics   bearer token required (any valid principal: the counters
//                  name routes, not data, but a scraper is a client like any
//                  other and the listener may be exposed through a proxy, so
//                  a loopback peer is not trusted). Prometheus text format
//                  0.0.4:
//                    vesta_http_requests_total{route,method,status}  counter
//                    vesta_http_request_duration_seconds{route}      histogram
//                  labelled by route *pattern* (e.g.
//                  "/api/2.1/unity-catalog/tables/{full_name}"), never the raw
//                  path; requests matching no route count as route "unmatched".
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
//
// Thread-safety: thread-safe. Start and Stop may be called from any thread;
// Start at most once per Server (a stopped Server is not restarted). The
// Governed is borrowed and must outlive the Server.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "access/governed.h"
#include "common/status.h"

namespace vesta::service {

struct ServerOptions {
  // Address to listen on. Default loopback only: exposing the service is a
  // deliberate choice (put TLS in front; TLS in-process is not built yet).
  std::string host = "127.0.0.1";
  // TCP port; 0 picks a free ephemeral port (Server::port() reports it).
  int port = 8080;
  // HTTP worker threads (each serves one connection at a time; requests
  // beyond them wait in an unbounded queue). 0 = hardware concurrency, at
  // least 2. Cost: one thread and its stack each; more than the cores only
  // helps while requests wait on the store.
  int worker_threads = 0;
  // Largest request body accepted, bytes; a larger one is answered 413
  // without being buffered.
  size_t max_body_bytes = 16u << 20;
  // Socket read / write timeouts per operation (a client that stalls mid
  // request or stops reading is dropped after this long).
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  // An idle keep-alive connection is closed after this long; also bounds
  // how long Stop() waits for idle keep-alive connections.
  std::chrono::milliseconds keep_alive_timeout{2000};
  // Per-request time limit. NOT ENFORCED YET (governed calls cannot be
  // cancelled midway): a request that takes longer is logged as
  // "slow":true in the access log. 0 = no limit.
  std::chrono::milliseconds request_time_limit{30000};
  // One JSON line per request on stderr.
  bool access_log = true;
  // Directory of the vector index files (service/index_manager.h); "" =
  // "<store path>.indexes".
  std::string index_dir;

  // InvalidArgument for a port outside 0..65535, negative worker_threads,
  // max_body_bytes 0, or a non-positive timeout.
  Status Validate() const;
};

class Server {
 public:
  // `governed` is borrowed (must outlive the Server). Call Start() to serve.
  Server(access::Governed& governed, ServerOptions options);
  ~Server();  // Stop()s if running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Validates the options, binds host:port and serves on a background
  // thread; returns once the socket listens (connections made after Start
  // returns are accepted). Errors: InvalidArgument (options), Unavailable
  // when the address cannot be bound (in use, not local), FailedPrecondition
  // if Start was already called.
  Status Start();

  // The bound port (the ephemeral one when options.port was 0); 0 before
  // Start.
  int port() const;

  // Graceful stop: stops accepting, lets in-flight requests finish and
  // answer, then joins the workers. Idempotent; a no-op before Start.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::service
