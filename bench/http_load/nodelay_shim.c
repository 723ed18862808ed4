/* LD_PRELOAD shim for bench/http_load.sh --variants "... nodelay": sets
 * TCP_NODELAY on every socket the server accepts. cpp-httplib 0.11 leaves
 * Nagle's algorithm on unless Server::set_tcp_nodelay(true) is called; the
 * response is written as headers then body, so the body waits for the
 * client's delayed ACK of the headers (about 40 ms on Linux loopback). The
 * shim measures what that one-line server change gives, without it. Once
 * the server sets TCP_NODELAY itself, the shim changes nothing.
 *
 *   cc -O2 -shared -fPIC -o nodelay_shim.so nodelay_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void SetNoDelay(int fd) {
  int one = 1;
  if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int accept(int s, struct sockaddr *addr, socklen_t *len) {
  static int (*real)(int, struct sockaddr *, socklen_t *);
  if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
  int fd = real(s, addr, len);
  SetNoDelay(fd);
  return fd;
}

int accept4(int s, struct sockaddr *addr, socklen_t *len, int flags) {
  static int (*real)(int, struct sockaddr *, socklen_t *, int);
  if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
  int fd = real(s, addr, len, flags);
  SetNoDelay(fd);
  return fd;
}
