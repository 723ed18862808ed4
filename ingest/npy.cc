#include "ingest/npy.h"

#include <zip.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "ingest/internal/file_io.h"

namespace vesta::ingest {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr const char* kSupported = "<f4 <f8 |u1 |i1 <i2 <u2 <i4 <u4 <i8 <u8 |b1";

static_assert(std::endian::native == std::endian::little, "the NPY decoder assumes a little-endian host");

// A parser for the header's Python dict literal.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view s) : s_(s) {}

  Status Parse(std::string* descr, bool* fortran, std::vector<int64_t>* shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    SkipSpace();
    if (!Eat('{')) return Error("expected '{'");
    while (true) {
      SkipSpace();
      if (Eat('}')) break;
      std::string key;
      VESTA_RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (!Eat(':')) return Error("expected ':' after '" + key + "'");
      SkipSpace();
      if (key == "descr") {
        if (Peek() == '[') return Error("structured dtypes (a list in 'descr') are not supported");
        VESTA_RETURN_IF_ERROR(ParseString(descr));
        have_descr = true;
      } else if (key == "fortran_order") {
        if (EatWord("True")) {
          *fortran = true;
        } else if (EatWord("False")) {
          *fortran = false;
        } else {
          return Error("expected True or False for 'fortran_order'");
        }
        have_fortran = true;
      } else if (key == "shape") {
        VESTA_RETURN_IF_ERROR(ParseShape(shape));
        have_shape = true;
      } else {
        return Error("unexpected key '" + key + "'");
      }
      SkipSpace();
      if (Eat(',')) continue;
      SkipSpace();
      if (Eat('}')) break;
      return Error("expected ',' or '}'");
    }
    if (!have_descr || !have_fortran || !have_shape) {
      return Error("missing key(s):" + std::string(have_descr ? "" : " 'descr'") +
                   (have_fortran ? "" : " 'fortran_order'") + (have_shape ? "" : " 'shape'"));
    }
    return Status::OK();
  }

 private:
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++i_;
    return true;
  }
  bool EatWord(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  Status Error(const std::string& what) const {
    return Status::InvalidArgument(what + " at offset " + std::to_string(i_));
  }
  Status ParseString(std::string* out) {
    char q = Peek();
    if (q != '\'' && q != '"') return Error("expected a quoted string");
    ++i_;
    size_t end = s_.find(q, i_);
    if (end == std::string_view::npos) return Error("unterminated string");
    *out = std::string(s_.substr(i_, end - i_));
    i_ = end + 1;
    return Status::OK();
  }
  Status ParseShape(std::vector<int64_t>* shape) {
    shape->clear();
    if (!Eat('(')) return Error("expected '(' for 'shape'");
    while (true) {
      SkipSpace();
      if (Eat(')')) return Status::OK();
      size_t start = i_;
      int64_t v = 0;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
        if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) return Error("shape dimension too large");
        v = v * 10 + (s_[i_] - '0');
        ++i_;
      }
      if (i_ == start) return Error("expected a non-negative integer in 'shape'");
      Eat('L');  // Python 2 long literal
      shape->push_back(v);
      SkipSpace();
      if (Eat(',')) continue;
      SkipSpace();
      if (Eat(')')) return Status::OK();
      return Error("expected ',' or ')' in 'shape'");
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

bool DtypeFromDescr(std::string_view d, NpyDtype* out) {
  if (d.size() != 3) return false;
  char order = d[0];
  std::string_view code = d.substr(1);
  bool one_byte = code[1] == '1';
  if (one_byte) {
    if (order != '<' && order != '|' && order != '=' && order != '>') return false;
  } else if (order != '<' && order != '=') {
    return false;  // big-endian multi-byte types are not supported
  }
  static const struct {
    const char* code;
    NpyDtype dtype;
  } kTable[] = {{"f4", NpyDtype::kFloat32}, {"f8", NpyDtype::kFloat64}, {"u1", NpyDtype::kUint8},
                {"i1", NpyDtype::kInt8},    {"i2", NpyDtype::kInt16},   {"u2", NpyDtype::kUint16},
                {"i4", NpyDtype::kInt32},   {"u4", NpyDtype::kUint32},  {"i8", NpyDtype::kInt64},
                {"u8", NpyDtype::kUint64},  {"b1", NpyDtype::kBool}};
  for (const auto& e : kTable) {
    if (code == e.code) {
      *out = e.dtype;
      return true;
    }
  }
  return false;
}

template <typename T>
T Load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Element i of `a` as double.
double ElementAsDouble(const NpyArray& a, int64_t i) {
  const unsigned char* p = a.data.data() + i * a.item_size();
  switch (a.dtype) {
    case NpyDtype::kFloat32: return Load<float>(p);
    case NpyDtype::kFloat64: return Load<double>(p);
    case NpyDtype::kUint8: return Load<uint8_t>(p);
    case NpyDtype::kInt8: return Load<int8_t>(p);
    case NpyDtype::kInt16: return Load<int16_t>(p);
    case NpyDtype::kUint16: return Load<uint16_t>(p);
    case NpyDtype::kInt32: return Load<int32_t>(p);
    case NpyDtype::kUint32: return Load<uint32_t>(p);
    case NpyDtype::kInt64: return static_cast<double>(Load<int64_t>(p));
    case NpyDtype::kUint64: return static_cast<double>(Load<uint64_t>(p));
    case NpyDtype::kBool: return *p != 0 ? 1.0 : 0.0;
  }
  return 0;
}

template <typename T>
void ConvertToFloat(const unsigned char* p, size_t n, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(Load<T>(p + i * sizeof(T)));
}

// N for a label-like array of shape (N) or (N, 1).
Result<int64_t> LabelCount(const NpyArray& a, std::string_view source) {
  if (a.shape.size() == 1) return a.shape[0];
  if (a.shape.size() == 2 && a.shape[1] == 1) return a.shape[0];
  return Status::InvalidArgument(std::string(source) + ": expected shape (N) or (N, 1), got " + a.ShapeString());
}

Status ZipError(std::string_view source, int code, std::string_view what) {
  zip_error_t ze;
  zip_error_init_with_code(&ze, code);
  std::string msg = zip_error_strerror(&ze);
  zip_error_fini(&ze);
  if (code == ZIP_ER_NOENT) return Status::NotFound(std::string(source) + ": cannot open: " + msg);
  return Status::InvalidArgument(std::string(source) + ": " + std::string(what) + ": " + msg);
}

}  // namespace

int64_t NpyArray::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int NpyArray::item_size() const {
  switch (dtype) {
    case NpyDtype::kFloat32: case NpyDtype::kInt32: case NpyDtype::kUint32: return 4;
    case NpyDtype::kFloat64: case NpyDtype::kInt64: case NpyDtype::kUint64: return 8;
    case NpyDtype::kInt16: case NpyDtype::kUint16: return 2;
    case NpyDtype::kUint8: case NpyDtype::kInt8: case NpyDtype::kBool: return 1;
  }
  return 1;
}

std::string NpyArray::ShapeString() const {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Result<NpyArray> ParseNpy(std::string_view bytes, std::string_view source) {
  const std::string src(source);
  if (bytes.size() < kMagicLen || bytes.substr(0, kMagicLen) != std::string_view(kMagic, kMagicLen)) {
    return Status::InvalidArgument(src + ": not an NPY file (bad magic; expected \\x93NUMPY)");
  }
  if (bytes.size() < 10) {
    return Status::InvalidArgument(src + ": truncated header: " + std::to_string(bytes.size()) + " bytes");
  }
  int major = static_cast<unsigned char>(bytes[6]);
  int minor = static_cast<unsigned char>(bytes[7]);
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) {
      return Status::InvalidArgument(src + ": truncated header: " + std::to_string(bytes.size()) + " bytes");
    }
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + i]);
    header_start = 12;
  } else {
    return Status::InvalidArgument(src + ": unsupported NPY version " + std::to_string(major) + "." +
                                   std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  }
  if (bytes.size() - header_start < header_len) {
    return Status::InvalidArgument(src + ": truncated header: declares " + std::to_string(header_len) +
                                   " bytes, " + std::to_string(bytes.size() - header_start) + " remain");
  }
  std::string_view header = bytes.substr(header_start, header_len);
  NpyArray a;
  bool fortran = false;
  Status st = HeaderParser(header).Parse(&a.descr, &fortran, &a.shape);
  if (!st.ok()) {
    return Status::InvalidArgument(src + ": cannot parse NPY header: " + st.message() + " in " +
                                   internal::Abbreviate(header, 200));
  }
  if (!DtypeFromDescr(a.descr, &a.dtype)) {
    return Status::InvalidArgument(src + ": unsupported dtype '" + a.descr + "' (supported: " + kSupported + ")");
  }
  if (fortran) {
    return Status::InvalidArgument(src + ": fortran_order arrays are not supported (save in C order, e.g. with "
                                   "np.ascontiguousarray)");
  }
  // Element count without overflow: a product past the remaining bytes is truncated data anyway.
  const size_t remain = bytes.size() - header_start - header_len;
  const size_t item = static_cast<size_t>(a.item_size());
  size_t count = 1;
  bool too_big = false;
  for (int64_t d : a.shape) {
    if (d != 0 && count > (std::numeric_limits<size_t>::max() / item) / static_cast<size_t>(d)) too_big = true;
    count *= static_cast<size_t>(d);
  }
  if (too_big || count * item > remain) {
    std::string needs = too_big ? "more than 2^64" : std::to_string(count * item);
    return Status::InvalidArgument(src + ": truncated data: shape " + a.ShapeString() + " of " + a.descr +
                                   " needs " + needs + " bytes, " + std::to_string(remain) + " remain");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data()) + header_start + header_len;
  a.data.assign(p, p + count * item);
  return a;
}

Result<NpyArray> ReadNpy(const std::string& path, std::string_view source_name) {
  std::string display = internal::DisplayName(path, source_name);
  VESTA_ASSIGN_OR_RETURN(std::vector<char> bytes, internal::ReadFileMaybeGzip(path, display));
  return ParseNpy(std::string_view(bytes.data(), bytes.size()), display);
}

void NpzReader::Closer::operator()(zip* z) const {
  if (z != nullptr) zip_discard(z);
}

NpzReader::~NpzReader() = default;

Result<NpzReader> NpzReader::Open(const std::string& path, std::string_view source_name) {
  NpzReader r;
  r.source_ = internal::DisplayName(path, source_name);
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (z == nullptr) {
    if (err == ZIP_ER_NOZIP) return ZipError(r.source_, err, "not a zip archive (npz)");
    return ZipError(r.source_, err, "cannot open npz");
  }
  r.archive_.reset(z);
  zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(z, static_cast<zip_uint64_t>(i), 0);
    r.members_.emplace_back(name ? name : "");
  }
  return r;
}

Result<NpyArray> NpzReader::Read(std::string_view name) const {
  zip_t* z = archive_.get();
  std::string member(name);
  zip_int64_t idx = zip_name_locate(z, member.c_str(), 0);
  if (idx < 0 && (member.size() < 4 || member.compare(member.size() - 4, 4, ".npy") != 0)) {
    member += ".npy";
    idx = zip_name_locate(z, member.c_str(), 0);
  }
  if (idx < 0) {
    std::string list;
    for (const std::string& m : members_) list += (list.empty() ? "" : ", ") + m;
    return Status::NotFound(source_ + ": member '" + std::string(name) + "' not found; members: " +
                            (list.empty() ? "(none)" : list));
  }
  const std::string member_source = source_ + "[" + member + "]";
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z, static_cast<zip_uint64_t>(idx), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
    return Status::InvalidArgument(member_source + ": cannot stat member: " + zip_strerror(z));
  }
  zip_file_t* f = zip_fopen_index(z, static_cast<zip_uint64_t>(idx), 0);
  if (f == nullptr) return Status::InvalidArgument(member_source + ": cannot open member: " + zip_strerror(z));
  std::vector<char> bytes(static_cast<size_t>(st.size));
  size_t got = 0;
  Status status;
  while (got < bytes.size()) {
    zip_int64_t k = zip_fread(f, bytes.data() + got, bytes.size() - got);
    if (k < 0) {
      status = Status::InvalidArgument(member_source + ": corrupt member: " + zip_file_strerror(f));
      break;
    }
    if (k == 0) break;
    got += static_cast<size_t>(k);
  }
  if (status.ok() && got < bytes.size()) {
    status = Status::InvalidArgument(member_source + ": member truncated: expected " + std::to_string(bytes.size()) +
                                     " bytes, read " + std::to_string(got));
  }
  if (status.ok()) {
    // One more read lets libzip finish the stream and check the CRC.
    char extra;
    if (zip_fread(f, &extra, 1) < 0) {
      status = Status::InvalidArgument(member_source + ": corrupt member: " + zip_file_strerror(f));
    }
  }
  zip_fclose(f);
  VESTA_RETURN_IF_ERROR(status);
  return ParseNpy(std::string_view(bytes.data(), bytes.size()), member_source);
}

Result<FloatVectors> NpyToFloatVectors(const NpyArray& a, std::string_view source) {
  const std::string src(source);
  if (a.shape.size() < 2) {
    return Status::InvalidArgument(src + ": expected an N x d1 x ... array (2 or more dimensions), got shape " +
                                   a.ShapeString());
  }
  int64_t dim = 1;
  for (size_t i = 1; i < a.shape.size(); ++i) {
    dim *= a.shape[i];
    if (dim > kMaxVectorDim) break;
  }
  if (dim < 1 || dim > kMaxVectorDim) {
    return Status::InvalidArgument(src + ": shape " + a.ShapeString() + " gives vectors of " + std::to_string(dim) +
                                   " components; need 1.." + std::to_string(kMaxVectorDim));
  }
  FloatVectors out;
  out.n = a.shape[0];
  out.dim = static_cast<int>(dim);
  const size_t total = static_cast<size_t>(a.num_elements());
  out.data.resize(total);
  const unsigned char* p = a.data.data();
  float* o = out.data.data();
  switch (a.dtype) {
    case NpyDtype::kFloat32: ConvertToFloat<float>(p, total, o); break;
    case NpyDtype::kFloat64: ConvertToFloat<double>(p, total, o); break;
    case NpyDtype::kUint8: ConvertToFloat<uint8_t>(p, total, o); break;
    case NpyDtype::kInt8: ConvertToFloat<int8_t>(p, total, o); break;
    case NpyDtype::kInt16: ConvertToFloat<int16_t>(p, total, o); break;
    case NpyDtype::kUint16: ConvertToFloat<uint16_t>(p, total, o); break;
    case NpyDtype::kInt32: ConvertToFloat<int32_t>(p, total, o); break;
    case NpyDtype::kUint32: ConvertToFloat<uint32_t>(p, total, o); break;
    case NpyDtype::kInt64: ConvertToFloat<int64_t>(p, total, o); break;
    case NpyDtype::kUint64: ConvertToFloat<uint64_t>(p, total, o); break;
    case NpyDtype::kBool:
      for (size_t i = 0; i < total; ++i) o[i] = p[i] != 0 ? 1.0f : 0.0f;
      break;
  }
  if (a.dtype == NpyDtype::kFloat32 || a.dtype == NpyDtype::kFloat64) {
    for (size_t i = 0; i < total; ++i) {
      if (!std::isfinite(o[i])) {
        return Status::InvalidArgument(src + ": item " + std::to_string(i / static_cast<size_t>(dim) + 1) +
                                       ": component " + std::to_string(i % static_cast<size_t>(dim) + 1) +
                                       " is not finite");
      }
    }
  }
  return out;
}

Result<std::vector<int64_t>> NpyToInt64(const NpyArray& a, std::string_view source) {
  VESTA_ASSIGN_OR_RETURN(int64_t n, LabelCount(a, source));
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const unsigned char* p = a.data.data() + i * a.item_size();
    if (a.dtype == NpyDtype::kInt64) {
      out[static_cast<size_t>(i)] = Load<int64_t>(p);
    } else if (a.dtype == NpyDtype::kUint64) {
      uint64_t u = Load<uint64_t>(p);
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Status::InvalidArgument(std::string(source) + ": item " + std::to_string(i + 1) + ": " +
                                       std::to_string(u) + " does not fit BIGINT");
      }
      out[static_cast<size_t>(i)] = static_cast<int64_t>(u);
    } else {
      double d = ElementAsDouble(a, i);
      if (!std::isfinite(d) || d != std::trunc(d) || std::fabs(d) > 9.0e18) {
        return Status::InvalidArgument(std::string(source) + ": item " + std::to_string(i + 1) +
                                       ": expected an integer label, got " + std::to_string(d));
      }
      out[static_cast<size_t>(i)] = static_cast<int64_t>(d);
    }
  }
  return out;
}

Result<std::vector<double>> NpyToDouble(const NpyArray& a, std::string_view source) {
  VESTA_ASSIGN_OR_RETURN(int64_t n, LabelCount(a, source));
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)] = ElementAsDouble(a, i);
  return out;
}

Result<TypedTable> ReadNpzImageTable(const std::string& path, const NpzImageTableOptions& options) {
  VESTA_ASSIGN_OR_RETURN(NpzReader npz, NpzReader::Open(path, options.source_name));
  const std::string& src = npz.source();
  if (options.splits.empty()) return Status::InvalidArgument(src + ": no splits requested");
  TypedTable t;
  t.source = src;
  int dim = 0;
  int64_t next_id = 0;
  for (const std::string& split : options.splits) {
    const std::string images_name = split + options.images_suffix + ".npy";
    const std::string labels_name = split + options.labels_suffix + ".npy";
    VESTA_ASSIGN_OR_RETURN(NpyArray images, npz.Read(images_name));
    VESTA_ASSIGN_OR_RETURN(NpyArray labels, npz.Read(labels_name));
    const std::string images_src = src + "[" + images_name + "]";
    const std::string labels_src = src + "[" + labels_name + "]";
    VESTA_ASSIGN_OR_RETURN(FloatVectors vectors, NpyToFloatVectors(images, images_src));
    VESTA_ASSIGN_OR_RETURN(std::vector<int64_t> label_values, NpyToInt64(labels, labels_src));
    if (static_cast<int64_t>(label_values.size()) != vectors.n) {
      return Status::InvalidArgument(src + ": split '" + split + "' has " + std::to_string(vectors.n) +
                                     " images but " + std::to_string(label_values.size()) + " labels");
    }
    if (dim == 0) {
      dim = vectors.dim;
    } else if (vectors.dim != dim) {
      return Status::InvalidArgument(src + ": split '" + split + "' has " + std::to_string(vectors.dim) +
                                     "-component images, earlier splits " + std::to_string(dim));
    }
    const size_t d = static_cast<size_t>(dim);
    for (int64_t i = 0; i < vectors.n; ++i) {
      std::vector<float> v(vectors.row(i), vectors.row(i) + d);
      if (options.scale != 1.0f) {
        for (float& x : v) x *= options.scale;
      }
      Row row;
      row.reserve(5);
      row.push_back(Value::Int(next_id++));
      row.push_back(Value::Str(split));
      row.push_back(Value::Int(i));
      row.push_back(Value::Int(label_values[static_cast<size_t>(i)]));
      row.push_back(Value::Vec(std::move(v)));
      t.rows.push_back(std::move(row));
      t.source_lines.push_back(i + 1);
    }
  }
  if (dim == 0) dim = 1;  // every split empty: keep the schema valid
  t.schema.columns = {Column{"id", DataType::Bigint(), false, ""}, Column{"split", DataType::String(), true, ""},
                      Column{"split_index", DataType::Bigint(), true, ""},
                      Column{"label", DataType::Bigint(), true, ""},
                      Column{"image", DataType::Vector(dim), true, ""}};
  t.schema.primary_key = "id";
  t.source_columns = {"", "", "", "*" + options.labels_suffix + ".npy", "*" + options.images_suffix + ".npy"};
  t.stats.records_read = static_cast<int64_t>(t.rows.size());
  return t;
}

}  // namespace vesta::ingest
