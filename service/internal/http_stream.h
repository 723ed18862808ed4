// Request bodies on GET (private to service/).
//
// Mosaic AI Vector Search's public Python client sends `query`, `scan` and
// `query-next-page` as GET with a JSON body. cpp-httplib 0.11 (Debian's)
// reads a body only for POST, PUT, PATCH and DELETE (detail::expect_content)
// and leaves a GET body unread in the connection, where it would be parsed
// as the next request. So the service serves each connection itself:
// BodyReadingServer / BodyReadingTlsServer replace httplib's per-connection
// loop (Server::process_and_close_socket, the documented override point
// SSLServer uses too) with the same keep-alive loop over a BufferedStream,
// a Stream over the socket (plain or TLS) that the handler can read the
// rest of the request from: ReadUnreadBody() reads the Content-Length bytes
// of a GET body while the handler runs, before the response is written, so
// the connection stays in step. Everything else (parsing, routing, limits,
// writing) is httplib's own process_request.
//
// Thread-safety: a BufferedStream belongs to the worker thread serving its
// connection; ReadUnreadBody uses that thread's current stream.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace vesta::service::internal {

// A Stream over a connected socket, or over a TLS session on it (`ssl`
// non-null), reading through its own buffer. Timeouts are per operation.
class BufferedStream : public httplib::Stream {
 public:
  BufferedStream(int sock, SSL* ssl, time_t read_timeout_sec, time_t read_timeout_usec,
                 time_t write_timeout_sec, time_t write_timeout_usec);

  bool is_readable() const override;
  bool is_writable() const override;
  // Flushes pending output first, so a client waiting on an interim
  // response (100 Continue) is never left waiting on our buffer.
  ssize_t read(char* ptr, size_t size) override;
  // Buffers up to kOutputBytes (64 KiB) and sends it on Flush() or when
  // full; larger writes go straight to the socket after a flush. Returns
  // `size`, or -1 once a send has failed (the connection is then done).
  ssize_t write(const char* ptr, size_t size) override;
  // Sends everything buffered by write(). False if a send failed or timed
  // out (write timeout per send). httplib writes a response's head and body
  // in separate calls; buffering them makes one send (one segment, one
  // wake-up of the client) per small response.
  bool Flush();
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return sock_; }

  // True if bytes are buffered or the socket becomes readable within
  // `timeout_ms` (the keep-alive wait).
  bool WaitReadable(int timeout_ms) const;
  // Set when a request's body could not be consumed (too large): the
  // connection must not serve another request.
  void Poison() { poisoned_ = true; }
  bool poisoned() const { return poisoned_; }

 private:
  ssize_t ReadSome(char* ptr, size_t size);
  ssize_t SendSome(const char* ptr, size_t size);
  bool SendAll(const char* ptr, size_t size);
  int sock_;
  SSL* ssl_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  std::vector<char> buf_;
  size_t buf_begin_ = 0;
  size_t buf_end_ = 0;
  std::string out_;  // written, not yet sent
  bool write_failed_ = false;
  bool poisoned_ = false;
};

// Serves one accepted connection with httplib's keep-alive semantics
// (keep_alive_max_count requests, keep_alive_timeout between them, stop
// when the server stops) over a BufferedStream; `ssl` as above. Closes the
// socket (and frees `ssl`) before returning.
bool ServeConnection(int sock, SSL* ssl,
                     const std::function<bool(httplib::Stream&, bool, bool&)>& process_request,
                     size_t keep_alive_max_count, time_t keep_alive_timeout_sec, time_t read_timeout_sec,
                     time_t read_timeout_usec, time_t write_timeout_sec, time_t write_timeout_usec,
                     const std::atomic<int>& server_socket);

// httplib::Server with GET bodies readable by ReadUnreadBody.
class BodyReadingServer : public httplib::Server {
 private:
  bool process_and_close_socket(int sock) override;
};

// httplib::SSLServer (TLS) with GET bodies readable by ReadUnreadBody.
class BodyReadingTlsServer : public httplib::SSLServer {
 public:
  using httplib::SSLServer::SSLServer;

 private:
  bool process_and_close_socket(int sock) override;
};

// Sends what the current thread's connection has buffered (the response
// being written); true when there is nothing to send or it was sent. The
// server calls it from httplib's logger, so the access log's duration
// includes the send. Thread-safety: the calling thread's connection only.
bool FlushResponse();

// The body of the request being served when httplib did not read it (a
// GET with Content-Length > 0): reads exactly Content-Length bytes from the
// connection. Returns "" when there is none to read (no Content-Length, 0,
// or not served by a Body* server). Errors: ResourceExhausted ("request
// body exceeds N bytes") past `max_bytes` (the connection is then closed
// after the response); InvalidArgument for a malformed Content-Length, a
// chunked GET body, or a body cut short (timeout / peer closed).
Result<std::string> ReadUnreadBody(const httplib::Request& req, size_t max_bytes);

}  // namespace vesta::service::internal
