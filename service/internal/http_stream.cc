#include "service/internal/http_stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace vesta::service::internal {
namespace {

constexpr size_t kBufferBytes = 16 * 1024;
constexpr size_t kOutputBytes = 64 * 1024;
constexpr int kPollSliceMs = 100;  // how often a keep-alive wait checks for server stop

thread_local BufferedStream* t_stream = nullptr;

int ToMs(time_t sec, time_t usec) {
  return static_cast<int>(sec * 1000 + usec / 1000);
}

bool PollFor(int sock, short events, int timeout_ms) {
  pollfd p{sock, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, timeout_ms);
  } while (rc < 0 && errno == EINTR);
  return rc > 0 && (p.revents & (events | POLLHUP | POLLERR));
}

void IpAndPort(const sockaddr_storage& addr, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    port = ntohs(a->sin6_port);
  }
  ip = buf;
}

}  // namespace

BufferedStream::BufferedStream(int sock, SSL* ssl, time_t read_timeout_sec, time_t read_timeout_usec,
                               time_t write_timeout_sec, time_t write_timeout_usec)
    : sock_(sock),
      ssl_(ssl),
      read_timeout_ms_(ToMs(read_timeout_sec, read_timeout_usec)),
      write_timeout_ms_(ToMs(write_timeout_sec, write_timeout_usec)),
      buf_(kBufferBytes) {}

bool BufferedStream::WaitReadable(int timeout_ms) const {
  if (buf_begin_ < buf_end_) return true;
  if (ssl_ && SSL_pending(ssl_) > 0) return true;
  return PollFor(sock_, POLLIN, timeout_ms);
}

bool BufferedStream::is_readable() const {
  return WaitReadable(read_timeout_ms_);
}

bool BufferedStream::is_writable() const {
  return PollFor(sock_, POLLOUT, write_timeout_ms_);
}

ssize_t BufferedStream::ReadSome(char* ptr, size_t size) {
  if (ssl_) {
    if (SSL_pending(ssl_) <= 0 && !WaitReadable(read_timeout_ms_)) return -1;
    int n = SSL_read(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
    return n > 0 ? n : -1;
  }
  // Try first; wait only when nothing has arrived (saves a poll per read
  // of a request that is already here).
  ssize_t n;
  do {
    n = ::recv(sock_, ptr, size, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return n;
  if (!WaitReadable(read_timeout_ms_)) return -1;
  do {
    n = ::recv(sock_, ptr, size, 0);
  } while (n < 0 && errno == EINTR);
  return n;
}

ssize_t BufferedStream::read(char* ptr, size_t size) {
  if (size == 0) return 0;
  if (!out_.empty() && !Flush()) return -1;
  if (buf_begin_ == buf_end_) {
    if (size >= buf_.size()) return ReadSome(ptr, size);  // large reads bypass the buffer
    ssize_t n = ReadSome(buf_.data(), buf_.size());
    if (n <= 0) return n;
    buf_begin_ = 0;
    buf_end_ = static_cast<size_t>(n);
  }
  size_t n = std::min(size, buf_end_ - buf_begin_);
  std::memcpy(ptr, buf_.data() + buf_begin_, n);
  buf_begin_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t BufferedStream::SendSome(const char* ptr, size_t size) {
  if (ssl_) {
    if (!is_writable()) return -1;
    int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
    return n > 0 ? n : -1;
  }
  ssize_t n;
  do {
    n = ::send(sock_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return n;
  if (!is_writable()) return -1;
  do {
    n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

bool BufferedStream::SendAll(const char* ptr, size_t size) {
  while (size > 0 && !write_failed_) {
    ssize_t n = SendSome(ptr, size);
    if (n <= 0) {
      write_failed_ = true;
      break;
    }
    ptr += n;
    size -= static_cast<size_t>(n);
  }
  return !write_failed_;
}

bool BufferedStream::Flush() {
  if (out_.empty()) return !write_failed_;
  bool ok = SendAll(out_.data(), out_.size());
  out_.clear();
  return ok;
}

ssize_t BufferedStream::write(const char* ptr, size_t size) {
  if (write_failed_) return -1;
  if (out_.size() + size <= kOutputBytes) {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  if (!Flush()) return -1;
  if (size < kOutputBytes) {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  return SendAll(ptr, size) ? static_cast<ssize_t>(size) : -1;
}

void BufferedStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) IpAndPort(addr, ip, port);
}

void BufferedStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) IpAndPort(addr, ip, port);
}

bool ServeConnection(int sock, SSL* ssl,
                     const std::function<bool(httplib::Stream&, bool, bool&)>& process_request,
                     size_t keep_alive_max_count, time_t keep_alive_timeout_sec, time_t read_timeout_sec,
                     time_t read_timeout_usec, time_t write_timeout_sec, time_t write_timeout_usec,
                     const std::atomic<int>& server_socket) {
  bool ok = true;
  // httplib writes a response's head and body in separate sends: with
  // Nagle's algorithm on, the body waits for the client's delayed ACK
  // (~40 ms on Linux) on every keep-alive request (bench/results/http.md).
  int one = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  {
    BufferedStream strm(sock, ssl, read_timeout_sec, read_timeout_usec, write_timeout_sec,
                        write_timeout_usec);
    const int keep_alive_ms = static_cast<int>(keep_alive_timeout_sec * 1000);
    for (size_t count = keep_alive_max_count; count > 0; --count) {
      // Wait for the next request, checking now and then whether the server stops.
      bool readable = false;
      for (int waited = 0; waited < std::max(keep_alive_ms, 1) && server_socket != INVALID_SOCKET;
           waited += kPollSliceMs) {
        if (strm.WaitReadable(std::min(kPollSliceMs, std::max(keep_alive_ms, 1)))) {
          readable = true;
          break;
        }
      }
      if (!readable || server_socket == INVALID_SOCKET) break;
      bool connection_closed = false;
      t_stream = &strm;
      ok = process_request(strm, /*close_connection=*/count == 1 || strm.poisoned(), connection_closed);
      ok = strm.Flush() && ok;
      t_stream = nullptr;
      if (!ok || connection_closed || strm.poisoned()) break;
    }
  }
  if (ssl) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

bool BodyReadingServer::process_and_close_socket(int sock) {
  return ServeConnection(
      sock, nullptr,
      [this](httplib::Stream& strm, bool close_connection, bool& connection_closed) {
        return process_request(strm, close_connection, connection_closed, nullptr);
      },
      keep_alive_max_count_, keep_alive_timeout_sec_, read_timeout_sec_, read_timeout_usec_,
      write_timeout_sec_, write_timeout_usec_, svr_sock_);
}

bool BodyReadingTlsServer::process_and_close_socket(int sock) {
  SSL* ssl = SSL_new(ssl_context());
  if (!ssl) {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return false;
  }
  SSL_set_fd(ssl, sock);
  if (SSL_accept(ssl) != 1) {  // handshake failed (plain HTTP to a TLS port, bad client)
    SSL_free(ssl);
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return false;
  }
  return ServeConnection(
      sock, ssl,
      [this](httplib::Stream& strm, bool close_connection, bool& connection_closed) {
        return process_request(strm, close_connection, connection_closed, nullptr);
      },
      keep_alive_max_count_, keep_alive_timeout_sec_, read_timeout_sec_, read_timeout_usec_,
      write_timeout_sec_, write_timeout_usec_, svr_sock_);
}

bool FlushResponse() {
  return t_stream == nullptr || t_stream->Flush();
}

Result<std::string> ReadUnreadBody(const httplib::Request& req, size_t max_bytes) {
  if (!req.body.empty() || t_stream == nullptr) return std::string();
  if (req.has_header("Transfer-Encoding")) {
    t_stream->Poison();
    return Status::InvalidArgument(
        "a chunked request body is only accepted on POST, PUT, PATCH and DELETE; send "
        "Content-Length");
  }
  if (!req.has_header("Content-Length")) return std::string();
  std::string text = req.get_header_value("Content-Length");
  size_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size()) {
    t_stream->Poison();
    return Status::InvalidArgument("Content-Length: expected a byte count, got '" + text.substr(0, 40) + "'");
  }
  if (n == 0) return std::string();
  if (n > max_bytes) {
    t_stream->Poison();
    return Status::ResourceExhausted("request body exceeds " + std::to_string(max_bytes) + " bytes");
  }
  std::string body(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t r = t_stream->read(body.data() + got, n - got);
    if (r <= 0) {
      t_stream->Poison();
      return Status::InvalidArgument("request body cut short: " + std::to_string(got) + " of " +
                                     std::to_string(n) + " bytes arrived");
    }
    got += static_cast<size_t>(r);
  }
  return body;
}

}  // namespace vesta::service::internal
