#include "ingest/internal/file_io.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace vesta::ingest::internal {

std::string BaseName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string DisplayName(std::string_view path, std::string_view display) {
  return display.empty() ? BaseName(path) : std::string(display);
}

std::string Abbreviate(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  return std::string(text.substr(0, max_bytes)) + "...";
}

Result<std::vector<char>> ReadFileMaybeGzip(const std::string& path, std::string_view display) {
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    std::string what = err != 0 ? std::strerror(err) : "out of memory";
    if (err == ENOENT) return Status::NotFound(std::string(display) + ": cannot open: " + what);
    return Status::InvalidArgument(std::string(display) + ": cannot open: " + what);
  }
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(f, gzclose);
  gzbuffer(f, 1 << 20);
  std::vector<char> out;
  constexpr unsigned kChunk = 1u << 20;
  while (true) {
    size_t old = out.size();
    out.resize(old + kChunk);
    int got = gzread(f, out.data() + old, kChunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      return Status::InvalidArgument(std::string(display) + ": cannot read: " + (msg ? msg : "gzread failed") +
                                     (code == Z_ERRNO ? std::string(" (") + std::strerror(errno) + ")" : ""));
    }
    out.resize(old + static_cast<size_t>(got));
    if (got == 0) break;
  }
  int code = 0;
  const char* msg = gzerror(f, &code);
  if (code != Z_OK) {
    // Z_BUF_ERROR here means the gzip stream ended early.
    return Status::InvalidArgument(std::string(display) + ": corrupt or truncated gzip data: " +
                                   (msg ? msg : "unknown zlib error"));
  }
  return out;
}

}  // namespace vesta::ingest::internal
