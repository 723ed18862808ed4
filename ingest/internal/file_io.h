// File helpers shared by the ingest readers. Not part of the public API.
//
// Thread-safety: thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace vesta::ingest::internal {

// The file name without its directories: "/a/b/data.csv" -> "data.csv".
std::string BaseName(std::string_view path);

// `display` if not empty, else BaseName(path): the name readers put in messages.
std::string DisplayName(std::string_view path, std::string_view display);

// Reads the whole file into memory. gzip input (any extension) is inflated
// through zlib's gzread; other input is returned as is (zlib's transparent
// mode). Errors: NotFound if the file does not exist, InvalidArgument
// "<display>: corrupt or truncated gzip data: <zlib message>" or another
// I/O failure naming `display`.
Result<std::vector<char>> ReadFileMaybeGzip(const std::string& path, std::string_view display);

// `text` cut to at most `max_bytes` bytes, with "..." appended if cut.
std::string Abbreviate(std::string_view text, size_t max_bytes);

}  // namespace vesta::ingest::internal
