#include "ingest/vecs.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "ingest/internal/file_io.h"

namespace vesta::ingest {
namespace {

int32_t LoadLe32(const char* p) {
  uint32_t u;
  std::memcpy(&u, p, 4);
  if constexpr (std::endian::native == std::endian::big) u = __builtin_bswap32(u);
  return static_cast<int32_t>(u);
}

template <typename T>
void CopyValues(const char* src, int dim, T* dst) {
  std::memcpy(dst, src, sizeof(T) * static_cast<size_t>(dim));
  if constexpr (std::endian::native == std::endian::big && sizeof(T) == 4) {
    for (int j = 0; j < dim; ++j) {
      uint32_t u;
      std::memcpy(&u, dst + j, 4);
      u = __builtin_bswap32(u);
      std::memcpy(dst + j, &u, 4);
    }
  }
}

template <typename T>
Result<VectorSet<T>> ParseVecs(std::string_view bytes, std::string_view source, int64_t max_vectors) {
  const std::string src(source);
  if (bytes.empty()) return Status::InvalidArgument(src + ": empty file: no vectors");
  VectorSet<T> out;
  size_t pos = 0;
  size_t record_bytes = 0;
  int64_t record = 0;
  while (pos < bytes.size() && (max_vectors <= 0 || out.n < max_vectors)) {
    ++record;
    size_t remain = bytes.size() - pos;
    if (remain < 4) {
      std::string expected = record_bytes ? std::to_string(record_bytes) : "at least 4";
      return Status::InvalidArgument(src + ": record " + std::to_string(record) + " is truncated: expected " +
                                     expected + " bytes, " + std::to_string(remain) + " remain");
    }
    int32_t d = LoadLe32(bytes.data() + pos);
    if (d <= 0 || d > kMaxVectorDim) {
      return Status::InvalidArgument(src + ": record " + std::to_string(record) + ": invalid dimension " +
                                     std::to_string(d) + " (must be 1.." + std::to_string(kMaxVectorDim) + ")");
    }
    if (out.dim == 0) {
      out.dim = d;
      record_bytes = 4 + sizeof(T) * static_cast<size_t>(d);
      size_t expect_n = bytes.size() / record_bytes;
      if (max_vectors > 0 && static_cast<size_t>(max_vectors) < expect_n) expect_n = static_cast<size_t>(max_vectors);
      out.data.reserve(expect_n * static_cast<size_t>(d));
    } else if (d != out.dim) {
      return Status::InvalidArgument(src + ": record " + std::to_string(record) + ": dimension " + std::to_string(d) +
                                     " differs from the first record's " + std::to_string(out.dim));
    }
    if (remain < record_bytes) {
      return Status::InvalidArgument(src + ": record " + std::to_string(record) + " is truncated: expected " +
                                     std::to_string(record_bytes) + " bytes, " + std::to_string(remain) +
                                     " remain");
    }
    size_t old = out.data.size();
    out.data.resize(old + static_cast<size_t>(d));
    CopyValues<T>(bytes.data() + pos + 4, d, out.data.data() + old);
    pos += record_bytes;
    ++out.n;
  }
  return out;
}

template <typename T>
Result<VectorSet<T>> ReadVecs(const std::string& path, const VecsOptions& options) {
  std::string display = internal::DisplayName(path, options.source_name);
  VESTA_ASSIGN_OR_RETURN(std::vector<char> bytes, internal::ReadFileMaybeGzip(path, display));
  return ParseVecs<T>(std::string_view(bytes.data(), bytes.size()), display, options.max_vectors);
}

}  // namespace

Result<FloatVectors> ParseFvecs(std::string_view bytes, std::string_view source, int64_t max_vectors) {
  return ParseVecs<float>(bytes, source, max_vectors);
}
Result<IntVectors> ParseIvecs(std::string_view bytes, std::string_view source, int64_t max_vectors) {
  return ParseVecs<int32_t>(bytes, source, max_vectors);
}
Result<ByteVectors> ParseBvecs(std::string_view bytes, std::string_view source, int64_t max_vectors) {
  return ParseVecs<uint8_t>(bytes, source, max_vectors);
}

Result<FloatVectors> ReadFvecs(const std::string& path, const VecsOptions& options) {
  return ReadVecs<float>(path, options);
}
Result<IntVectors> ReadIvecs(const std::string& path, const VecsOptions& options) {
  return ReadVecs<int32_t>(path, options);
}
Result<ByteVectors> ReadBvecs(const std::string& path, const VecsOptions& options) {
  return ReadVecs<uint8_t>(path, options);
}

Result<TypedTable> VectorsToTable(const FloatVectors& vectors, const VectorTableOptions& options) {
  const std::string& src = options.source;
  if (vectors.n <= 0) return Status::InvalidArgument(src + ": no vectors");
  if (vectors.dim < 1 || vectors.dim > kMaxVectorDim) {
    return Status::InvalidArgument(src + ": vector dimension " + std::to_string(vectors.dim) + " outside 1.." +
                                   std::to_string(kMaxVectorDim));
  }
  if (vectors.data.size() != static_cast<size_t>(vectors.n) * static_cast<size_t>(vectors.dim)) {
    return Status::InvalidArgument(src + ": data holds " + std::to_string(vectors.data.size()) +
                                   " values, expected n * dim = " + std::to_string(vectors.n * vectors.dim));
  }
  TypedTable t;
  t.source = src;
  t.schema.columns = {Column{options.id_column, DataType::Bigint(), false, ""},
                      Column{options.vector_column, DataType::Vector(vectors.dim), true, ""}};
  t.schema.primary_key = options.id_column;
  VESTA_RETURN_IF_ERROR(t.schema.Validate());
  t.source_columns = {"", ""};
  t.rows.reserve(static_cast<size_t>(vectors.n));
  t.source_lines.reserve(static_cast<size_t>(vectors.n));
  const size_t d = static_cast<size_t>(vectors.dim);
  for (int64_t i = 0; i < vectors.n; ++i) {
    const float* p = vectors.row(i);
    for (size_t j = 0; j < d; ++j) {
      if (!std::isfinite(p[j])) {
        return Status::InvalidArgument(src + ": record " + std::to_string(i + 1) + ": component " +
                                       std::to_string(j + 1) + " is not finite");
      }
    }
    Row row;
    row.reserve(2);
    row.push_back(Value::Int(options.id_base + i));
    row.push_back(Value::Vec(std::vector<float>(p, p + d)));
    t.rows.push_back(std::move(row));
    t.source_lines.push_back(i + 1);
  }
  t.stats.records_read = vectors.n;
  return t;
}

}  // namespace vesta::ingest
