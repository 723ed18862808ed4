// The index file: VectorIndex::Save and VectorIndex::Load
// (index/vector_index.h).
//
// Layout (little-endian, as the machine writes it; files are not portable
// across endianness):
//   "VESTAIDX"            8 bytes magic
//   u32 format version    kFormatVersion
//   u64 payload length    bytes that follow, up to the trailer
//   payload:
//     str  spec fingerprint (IndexSpec::Fingerprint)
//     i64  version; u32 size; u32 main_size; u32 d
//     f32  vectors[size * d]            (normalised under COSINE)
//     val  keys[size]
//     u32  attribute column count, then val attributes[size][columns]
//     blob tombstones                   (Roaring portable serialisation)
//     u8   structure: 0 none, 1 HNSW graph, 2 FAISS IVF index
//       HNSW: vec<f64> assign_probas, vec<i32> cum_nneighbor_per_level,
//             vec<i32> levels, vec<u64> offsets, vec<i32> neighbors,
//             i32 entry_point, i32 max_level, i32 efConstruction, i32 efSearch
//       IVF:  blob faiss::write_index output
//   u32 CRC-32 (zlib) of the payload
// str and blob are a u64 length and bytes; vec<T> a u64 count and items; val
// a u8 tag (0 NULL, 1 BIGINT, 2 DOUBLE, 3 STRING, 4 BOOLEAN, 5 DATE,
// 6 TIMESTAMP) and the value. Load checks the magic, version, length and CRC
// before parsing, then every count and id against the header, so a damaged
// file is reported, never served.
#include <faiss/IndexIVF.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "index/internal/snapshot_data.h"
#include "index/vector_index.h"

namespace vesta::index {
namespace {

constexpr char kMagic[8] = {'V', 'E', 'S', 'T', 'A', 'I', 'D', 'X'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderBytes = sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t);

class Writer {
 public:
  template <typename T>
  void Put(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    buf_.insert(buf_.end(), p, p + sizeof(T));
  }
  void Bytes(const void* p, size_t n) {
    const auto* c = static_cast<const char*>(p);
    buf_.insert(buf_.end(), c, c + n);
  }
  void Str(const std::string& s) {
    Put<uint64_t>(s.size());
    Bytes(s.data(), s.size());
  }
  template <typename T>
  void Vec(const std::vector<T>& v) {
    Put<uint64_t>(v.size());
    Bytes(v.data(), v.size() * sizeof(T));
  }
  void Val(const Value& v) {
    if (v.is_null()) {
      Put<uint8_t>(0);
    } else if (v.is_int()) {
      Put<uint8_t>(1);
      Put<int64_t>(v.as_int());
    } else if (v.is_double()) {
      Put<uint8_t>(2);
      Put<double>(v.as_double());
    } else if (v.is_string()) {
      Put<uint8_t>(3);
      Str(v.as_string());
    } else if (v.is_bool()) {
      Put<uint8_t>(4);
      Put<uint8_t>(v.as_bool() ? 1 : 0);
    } else if (v.is_date()) {
      Put<uint8_t>(5);
      Put<int32_t>(v.as_date().days);
    } else {
      Put<uint8_t>(6);
      Put<int64_t>(v.as_timestamp().micros);
    }
  }
  std::vector<char>& buffer() { return buf_; }

 private:
  std::vector<char> buf_;
};

// Bounds-checked reading of the payload; the first failure sticks.
class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), end_(p + n) {}
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  void Fail(std::string why) {
    if (ok_) error_ = std::move(why);
    ok_ = false;
  }
  template <typename T>
  T Get(const char* what) {
    T v{};
    if (!Need(sizeof(T), what)) return v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  const char* Bytes(size_t n, const char* what) {
    if (!Need(n, what)) return nullptr;
    const char* at = p_;
    p_ += n;
    return at;
  }
  std::string Str(const char* what) {
    const uint64_t n = Get<uint64_t>(what);
    const char* at = Bytes(n, what);
    return at ? std::string(at, n) : std::string();
  }
  template <typename T>
  std::vector<T> Vec(const char* what) {
    const uint64_t n = Get<uint64_t>(what);
    if (!ok_ || n > Remaining() / sizeof(T)) {
      Fail(std::string(what) + ": length beyond the end of the file");
      return {};
    }
    std::vector<T> v(n);
    std::memcpy(v.data(), Bytes(n * sizeof(T), what), n * sizeof(T));
    return v;
  }
  Value Val(const char* what) {
    switch (Get<uint8_t>(what)) {
      case 0: return Value::Null();
      case 1: return Value::Int(Get<int64_t>(what));
      case 2: return Value::Real(Get<double>(what));
      case 3: return Value::Str(Str(what));
      case 4: return Value::Bool(Get<uint8_t>(what) != 0);
      case 5: return Value::DateV(Date{Get<int32_t>(what)});
      case 6: return Value::Ts(Timestamp{Get<int64_t>(what)});
      default: Fail(std::string(what) + ": unknown value tag"); return Value::Null();
    }
  }
  size_t Remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  bool Need(size_t n, const char* what) {
    if (!ok_) return false;
    if (Remaining() < n) {
      Fail(std::string(what) + ": truncated");
      return false;
    }
    return true;
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
  std::string error_;
};

uint32_t Crc32(const char* p, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(p), chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

Status WriteFileAtomically(const std::string& path, const std::vector<char>& bytes) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Internal("index file " + tmp + ": cannot create: " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::Internal("index file " + tmp + ": write failed: " + why);
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Status::Internal("index file " + tmp + ": fsync/close failed: " + why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Status::Internal("index file " + path + ": rename failed: " + why);
  }
  return Status::OK();
}

Status Corrupt(const std::string& path, const std::string& why) {
  return Status::FailedPrecondition("index file " + path + " is corrupt: " + why);
}

}  // namespace

Status VectorIndex::Save(const std::string& path) const {
  std::shared_ptr<const IndexSnapshot> snap = snapshot();
  const SnapshotData& s = snap->data();
  const size_t d = s.spec.dimension;
  Writer w;
  w.Str(s.spec.Fingerprint());
  w.Put<int64_t>(s.version);
  w.Put<uint32_t>(s.size);
  w.Put<uint32_t>(s.main_size);
  w.Put<uint32_t>(static_cast<uint32_t>(d));
  if (s.size > 0) w.Bytes(s.vectors(), size_t{s.size} * d * sizeof(float));
  for (uint32_t id = 0; id < s.size; ++id) w.Val(s.keys[id]);
  const uint32_t ncols = static_cast<uint32_t>(s.attributes.schema().columns.size());
  w.Put<uint32_t>(ncols);
  for (uint32_t id = 0; id < s.size; ++id) {
    for (uint32_t c = 0; c < ncols; ++c) w.Val(s.attributes.GetValue(id, static_cast<int>(c)));
  }
  const Roaring& deleted = s.attributes.deleted();
  std::string tomb(deleted.getSizeInBytes(true), '\0');
  deleted.write(tomb.data(), true);
  w.Str(tomb);
  if (s.hnsw != nullptr && s.main_size > 0) {
    w.Put<uint8_t>(1);
    const faiss::HNSW& g = *s.hnsw;
    w.Vec(g.assign_probas);
    w.Vec(g.cum_nneighbor_per_level);
    w.Vec(g.levels);
    std::vector<uint64_t> offsets(g.offsets.begin(), g.offsets.end());
    w.Vec(offsets);
    w.Vec(g.neighbors);
    w.Put<int32_t>(g.entry_point);
    w.Put<int32_t>(g.max_level);
    w.Put<int32_t>(g.efConstruction);
    w.Put<int32_t>(g.efSearch);
  } else if (s.ivf != nullptr && s.main_size > 0) {
    w.Put<uint8_t>(2);
    faiss::VectorIOWriter io;
    try {
      faiss::write_index(s.ivf.get(), &io);
    } catch (const std::exception& e) {
      return Status::Internal("index file " + path + ": serialising the IVF index failed: " + e.what());
    }
    w.Put<uint64_t>(io.data.size());
    w.Bytes(io.data.data(), io.data.size());
  } else {
    w.Put<uint8_t>(0);
  }
  std::vector<char>& payload = w.buffer();
  const uint32_t crc = Crc32(payload.data(), payload.size());

  std::vector<char> file;
  file.reserve(kHeaderBytes + payload.size() + sizeof(crc));
  file.insert(file.end(), kMagic, kMagic + sizeof(kMagic));
  const uint32_t version = kFormatVersion;
  const uint64_t length = payload.size();
  file.insert(file.end(), reinterpret_cast<const char*>(&version), reinterpret_cast<const char*>(&version) + 4);
  file.insert(file.end(), reinterpret_cast<const char*>(&length), reinterpret_cast<const char*>(&length) + 8);
  file.insert(file.end(), payload.begin(), payload.end());
  file.insert(file.end(), reinterpret_cast<const char*>(&crc), reinterpret_cast<const char*>(&crc) + 4);
  return WriteFileAtomically(path, file);
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::string& path, IndexSpec spec,
                                                       IndexOptions options) {
  VESTA_RETURN_IF_ERROR(spec.Validate());
  VESTA_RETURN_IF_ERROR(options.Validate());
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    if (::access(path.c_str(), F_OK) != 0) return Status::NotFound("index file " + path + " does not exist");
    return Status::Internal("index file " + path + ": cannot open: " + std::strerror(errno));
  }
  const std::streamsize file_size = in.tellg();
  in.seekg(0);
  std::vector<char> bytes(static_cast<size_t>(std::max<std::streamsize>(file_size, 0)));
  if (!in.read(bytes.data(), file_size)) return Status::Internal("index file " + path + ": read failed");

  if (bytes.size() < kHeaderBytes + sizeof(uint32_t)) {
    return Corrupt(path, "truncated (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) return Corrupt(path, "not a Vesta index file (magic)");
  uint32_t format = 0;
  uint64_t length = 0;
  std::memcpy(&format, bytes.data() + 8, 4);
  std::memcpy(&length, bytes.data() + 12, 8);
  if (format != kFormatVersion) {
    return Status::FailedPrecondition("index file " + path + " has format version " + std::to_string(format) +
                                      "; this build reads version " + std::to_string(kFormatVersion));
  }
  if (length != bytes.size() - kHeaderBytes - sizeof(uint32_t)) {
    return Corrupt(path, "truncated: header says " + std::to_string(length) + " payload bytes, file has " +
                             std::to_string(bytes.size() - kHeaderBytes - sizeof(uint32_t)));
  }
  const char* payload = bytes.data() + kHeaderBytes;
  uint32_t stored_crc = 0;
  std::memcpy(&stored_crc, payload + length, 4);
  if (Crc32(payload, length) != stored_crc) return Corrupt(path, "checksum mismatch");

  Reader r(payload, length);
  const std::string fingerprint = r.Str("spec");
  if (r.ok() && fingerprint != spec.Fingerprint()) {
    return Status::FailedPrecondition("index file " + path + " was built for spec '" + fingerprint + "' but '" +
                                      spec.Fingerprint() + "' is expected");
  }
  const int64_t version = r.Get<int64_t>("version");
  const uint32_t size = r.Get<uint32_t>("size");
  const uint32_t main_size = r.Get<uint32_t>("main_size");
  const uint32_t d = r.Get<uint32_t>("dimension");
  if (!r.ok()) return Corrupt(path, r.error());
  if (d != spec.dimension || main_size > size) return Corrupt(path, "inconsistent header (dimension, sizes)");
  if (uint64_t{size} * d * sizeof(float) > r.Remaining()) return Corrupt(path, "vectors: truncated");

  VESTA_ASSIGN_OR_RETURN(AttributeStore attrs, AttributeStore::Create(spec.attributes));
  auto data = std::make_shared<SnapshotData>(std::move(attrs));
  data->spec = spec;
  data->options = options;
  data->version = version;
  data->size = size;
  data->main_size = main_size;
  if (size > 0) {
    data->arena = std::make_shared<VectorArena>(d, size_t{size} + size / 4 + 1);
    std::memcpy(data->arena->mutable_row(0), r.Bytes(size_t{size} * d * sizeof(float), "vectors"),
                size_t{size} * d * sizeof(float));
  }
  data->keys.reserve(size);
  for (uint32_t id = 0; id < size && r.ok(); ++id) data->keys.push_back(r.Val("keys"));
  const uint32_t ncols = r.Get<uint32_t>("attribute columns");
  if (r.ok() && ncols != spec.attributes.columns.size()) return Corrupt(path, "attribute column count");
  for (uint32_t id = 0; id < size && r.ok(); ++id) {
    Row row;
    row.reserve(ncols);
    for (uint32_t c = 0; c < ncols; ++c) row.push_back(r.Val("attributes"));
    if (!r.ok()) break;
    Result<uint32_t> got = data->attributes.Append(row);
    if (!got.ok()) return Corrupt(path, "attributes of row " + std::to_string(id) + ": " + got.status().message());
  }
  const std::string tomb = r.Str("tombstones");
  if (!r.ok()) return Corrupt(path, r.error());
  Roaring deleted;
  try {
    deleted = Roaring::readSafe(tomb.data(), tomb.size());
  } catch (const std::exception& e) {
    return Corrupt(path, std::string("tombstones: ") + e.what());
  }
  if (!deleted.isEmpty() && deleted.maximum() >= size) return Corrupt(path, "tombstone id beyond the rows");
  for (Roaring::const_iterator it = deleted.begin(); it != deleted.end(); ++it) {
    VESTA_RETURN_IF_ERROR(data->attributes.Delete(*it));
  }
  data->key_ids.reserve(size);
  for (uint32_t id = 0; id < size; ++id) {
    if (deleted.contains(id)) continue;
    if (!data->keys[id].FitsType(spec.primary_key.type) || data->keys[id].is_null()) {
      return Corrupt(path, "key of row " + std::to_string(id) + " is not a " + spec.primary_key.type.ToString());
    }
    if (!data->key_ids.emplace(EncodeKey(data->keys[id]), id).second) {
      return Corrupt(path, "live key " + data->keys[id].ToString() + " appears twice");
    }
  }

  const uint8_t structure = r.Get<uint8_t>("structure");
  if (structure == 1) {
    if (spec.kind != IndexKind::kHnsw) return Corrupt(path, "HNSW graph in a non-HNSW index");
    auto g = std::make_shared<faiss::HNSW>();
    g->assign_probas = r.Vec<double>("hnsw.assign_probas");
    g->cum_nneighbor_per_level = r.Vec<int>("hnsw.cum_nneighbor_per_level");
    g->levels = r.Vec<int>("hnsw.levels");
    const std::vector<uint64_t> offsets = r.Vec<uint64_t>("hnsw.offsets");
    g->offsets.assign(offsets.begin(), offsets.end());
    g->neighbors = r.Vec<int32_t>("hnsw.neighbors");
    g->entry_point = r.Get<int32_t>("hnsw.entry_point");
    g->max_level = r.Get<int32_t>("hnsw.max_level");
    g->efConstruction = r.Get<int32_t>("hnsw.efConstruction");
    g->efSearch = r.Get<int32_t>("hnsw.efSearch");
    if (!r.ok()) return Corrupt(path, r.error());
    // The walk trusts the graph: check every array against the header.
    const size_t cum = g->cum_nneighbor_per_level.size();
    bool good = g->levels.size() == main_size && g->offsets.size() == size_t{main_size} + 1 && cum >= 2 &&
                g->offsets.front() == 0 && g->offsets.back() == g->neighbors.size() && g->entry_point >= 0 &&
                static_cast<uint32_t>(g->entry_point) < main_size && g->max_level >= 0 &&
                static_cast<size_t>(g->max_level) + 2 <= cum;
    for (size_t i = 0; good && i < main_size; ++i) {
      good = g->levels[i] >= 1 && static_cast<size_t>(g->levels[i]) + 1 <= cum && g->offsets[i] <= g->offsets[i + 1] &&
             g->offsets[i] + static_cast<size_t>(g->cum_nneighbor_per_level[g->levels[i]]) <= g->offsets[i + 1];
    }
    for (size_t i = 0; good && i < g->neighbors.size(); ++i) {
      good = g->neighbors[i] >= -1 && g->neighbors[i] < static_cast<int32_t>(main_size);
    }
    if (!good) return Corrupt(path, "HNSW graph does not match its rows");
    data->hnsw = std::move(g);
  } else if (structure == 2) {
    if (spec.kind != IndexKind::kIvfFlat && spec.kind != IndexKind::kIvfPq) {
      return Corrupt(path, "IVF index in a non-IVF index");
    }
    const uint64_t n = r.Get<uint64_t>("ivf");
    const char* at = r.Bytes(n, "ivf");
    if (!r.ok()) return Corrupt(path, r.error());
    faiss::VectorIOReader io;
    io.data.assign(at, at + n);
    std::unique_ptr<faiss::Index> ivf;
    try {
      ivf.reset(faiss::read_index(&io));
    } catch (const std::exception& e) {
      return Corrupt(path, std::string("IVF index: ") + e.what());
    }
    if (dynamic_cast<faiss::IndexIVF*>(ivf.get()) == nullptr || ivf->d != static_cast<int>(d) ||
        ivf->ntotal != static_cast<faiss::Index::idx_t>(main_size)) {
      return Corrupt(path, "IVF index does not match its rows");
    }
    data->ivf = std::shared_ptr<const faiss::Index>(std::move(ivf));
  } else if (structure != 0 || main_size != 0) {
    return Corrupt(path, "unknown or missing structure");
  }
  if (!r.ok()) return Corrupt(path, r.error());
  if (r.Remaining() != 0) return Corrupt(path, "trailing bytes after the structure");

  data->attributes.BuildIndexes();
  std::unique_ptr<VectorIndex> index(new VectorIndex(std::move(spec), std::move(options)));
  index->current_ = std::make_shared<const IndexSnapshot>(std::move(data));
  return index;
}

}  // namespace vesta::index
