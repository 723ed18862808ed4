// TEXMEX vector files: .fvecs (float32), .ivecs (int32), .bvecs (uint8).
// Each record is a little-endian int32 dimension d followed by d values;
// every record of a file has the same d. Files may be gzip-compressed.
//
// Thread-safety: all functions are thread-safe; VectorSet is a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ingest/typed_table.h"

namespace vesta::ingest {

// n vectors of dim components, row-major: component j of vector i is
// data[i * dim + j]; data.size() == n * dim.
template <typename T>
struct VectorSet {
  int64_t n = 0;
  int dim = 0;
  std::vector<T> data;

  // Pointer to vector i (dim values). REQUIRES: 0 <= i < n.
  const T* row(int64_t i) const { return data.data() + i * dim; }
};
using FloatVectors = VectorSet<float>;
using IntVectors = VectorSet<int32_t>;
using ByteVectors = VectorSet<uint8_t>;

struct VecsOptions {
  // Read at most this many vectors (0: all). A limit ends reading early, so
  // problems after it are not seen.
  int64_t max_vectors = 0;
  // Name used in messages; default: the file's base name.
  std::string source_name;
};

// Reads a whole .fvecs / .ivecs / .bvecs file. Returns n * dim values.
// Errors (InvalidArgument unless noted), naming the file and the 1-based record:
//   NotFound "x.fvecs: cannot open: No such file or directory";
//   "x.fvecs: empty file: no vectors";
//   "x.fvecs: record 12 is truncated: expected 516 bytes, 100 remain";
//   "x.fvecs: record 3: invalid dimension -5 (must be 1..4096)";
//   "x.fvecs: record 7: dimension 64 differs from the first record's 128".
Result<FloatVectors> ReadFvecs(const std::string& path, const VecsOptions& options = {});
Result<IntVectors> ReadIvecs(const std::string& path, const VecsOptions& options = {});
Result<ByteVectors> ReadBvecs(const std::string& path, const VecsOptions& options = {});

// The same over bytes already in memory; `source` is used in messages.
Result<FloatVectors> ParseFvecs(std::string_view bytes, std::string_view source, int64_t max_vectors = 0);
Result<IntVectors> ParseIvecs(std::string_view bytes, std::string_view source, int64_t max_vectors = 0);
Result<ByteVectors> ParseBvecs(std::string_view bytes, std::string_view source, int64_t max_vectors = 0);

// Converts any vector set to float32 (exact for uint8; int32 beyond 2^24 rounds).
template <typename T>
FloatVectors ToFloatVectors(const VectorSet<T>& v) {
  FloatVectors out;
  out.n = v.n;
  out.dim = v.dim;
  out.data.assign(v.data.begin(), v.data.end());
  return out;
}

struct VectorTableOptions {
  std::string source;                   // TypedTable::source and message prefix
  std::string id_column = "id";         // BIGINT primary key
  std::string vector_column = "vector";  // VECTOR(dim)
  int64_t id_base = 0;                  // id of vector i is id_base + i (0: ids match 0-based ground truth)
};

// Builds a table with columns (id BIGINT NOT NULL primary key, vector
// VECTOR(dim)), one row per vector; source_lines are 1-based record numbers.
// Copies the data (n * dim floats into n Values).
// Errors: InvalidArgument for an empty set, a dimension outside
// 1..kMaxVectorDim, bad column names, or "<source>: record 5: component 3 is
// not finite" (records and components numbered from 1).
Result<TypedTable> VectorsToTable(const FloatVectors& vectors, const VectorTableOptions& options);

}  // namespace vesta::ingest
