#include "test_util.h"

#include <zlib.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vesta::ingest::fixtures {

std::string FixtureDir::Write(const std::string& name, std::string_view bytes) const {
  std::string p = File(name);
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + p);
  return p;
}

std::string FixtureDir::WriteGzip(const std::string& name, std::string_view bytes) const {
  std::string p = File(name);
  gzFile f = gzopen(p.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + p);
  if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return p;
}

std::string DataPath(const std::string& relative) { return std::string(VESTA_SHARED_DATA_DIR) + "/" + relative; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace vesta::ingest::fixtures
