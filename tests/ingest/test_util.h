// Fixture helpers for the ingest reader tests.
#pragma once

#include <string>
#include <string_view>

#include "tests/testing/temp_dir.h"

namespace vesta::ingest::fixtures {

// A temporary directory (tests/testing/temp_dir.h) that also writes fixture files.
class FixtureDir : public vesta::testing::TempDir {
 public:
  // Writes `bytes` to <dir>/<name> and returns the full path.
  std::string Write(const std::string& name, std::string_view bytes) const;
  // Writes `bytes` gzip-compressed to <dir>/<name> and returns the full path.
  std::string WriteGzip(const std::string& name, std::string_view bytes) const;
};

// Path of a file in the shared real data sets (VESTA_SHARED_DATA_DIR).
std::string DataPath(const std::string& relative);

// The whole file as bytes ("" if it cannot be read).
std::string ReadAll(const std::string& path);

}  // namespace vesta::ingest::fixtures
