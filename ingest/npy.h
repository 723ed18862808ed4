// NumPy .npy arrays and .npz archives (a zip of .npy members, stored or
// deflated; read with libzip).
//
// NPY: magic "\x93NUMPY", version 1.0 / 2.0 / 3.0, a little-endian header
// length (uint16 for 1.0, uint32 after), then a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (3882, 28, 28), }
// and the elements. Supported dtypes: <f4 <f8 |u1 |i1 <i2 <u2 <i4 <u4 <i8
// <u8 |b1 (1-byte types with any byte-order mark), C order only.
//
// Thread-safety: the functions are thread-safe; NpyArray is a plain value;
// NpzReader is thread-compatible (one thread at a time per object).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ingest/typed_table.h"
#include "ingest/vecs.h"

struct zip;  // libzip's zip_t; libzip stays a private dependency

namespace vesta::ingest {

enum class NpyDtype { kFloat32, kFloat64, kUint8, kInt8, kInt16, kUint16, kInt32, kUint32, kInt64, kUint64, kBool };

// A decoded .npy array.
struct NpyArray {
  NpyDtype dtype = NpyDtype::kFloat32;
  std::string descr;                // as written, e.g. "<f4", "|u1"
  std::vector<int64_t> shape;       // empty for a 0-d (scalar) array
  std::vector<unsigned char> data;  // elements in C order, little-endian; num_elements() * item_size() bytes

  int64_t num_elements() const;  // product of shape (1 for a scalar)
  int item_size() const;         // bytes per element
  // "(3882, 28, 28)"
  std::string ShapeString() const;
};

// Decodes an .npy image held in memory; copies the element bytes.
// Errors (InvalidArgument, prefixed with "<source>: "):
//   "not an NPY file (bad magic; expected \x93NUMPY)"; "unsupported NPY version 4.0";
//   "truncated header: ..."; "cannot parse NPY header: ..." (quoting the header);
//   "unsupported dtype '>f4' (supported: ...)"; "fortran_order arrays are not supported ...";
//   "truncated data: shape (3, 4) of <f4 needs 48 bytes, 20 remain".
Result<NpyArray> ParseNpy(std::string_view bytes, std::string_view source);

// Reads an .npy file. Errors: as ParseNpy; NotFound if the file does not exist.
Result<NpyArray> ReadNpy(const std::string& path, std::string_view source_name = {});

// An open .npz archive. Movable, not copyable; closes the archive when destroyed.
class NpzReader {
 public:
  // Errors: NotFound "x.npz: cannot open: No such file or directory";
  // InvalidArgument "x.npz: not a zip archive (npz): ..." and other libzip errors.
  static Result<NpzReader> Open(const std::string& path, std::string_view source_name = {});

  NpzReader(NpzReader&&) noexcept = default;
  NpzReader& operator=(NpzReader&&) noexcept = default;
  ~NpzReader();

  // Member names in archive order, e.g. "train_images.npy".
  const std::vector<std::string>& members() const { return members_; }
  const std::string& source() const { return source_; }

  // Reads and decodes member `name` ("train_images.npy"; "train_images" also
  // finds it). Errors: NotFound "x.npz: member 'foo.npy' not found; members:
  // a.npy, b.npy"; InvalidArgument for a corrupt member (CRC, inflate) or
  // ParseNpy's errors with source "x.npz[member.npy]".
  Result<NpyArray> Read(std::string_view name) const;

 private:
  struct Closer {
    void operator()(zip* z) const;
  };
  NpzReader() = default;
  std::unique_ptr<zip, Closer> archive_;
  std::string source_;
  std::vector<std::string> members_;
};

// Turns an N x d1 x d2 x ... array into N vectors of prod(d) float32
// components, row-major (out.data[i * dim + j] is element j of item i in C
// order). Integer and bool elements are converted exactly where float32 can.
// Errors: InvalidArgument when the array has fewer than 2 dimensions, prod(d)
// is outside 1..kMaxVectorDim, or an element is not finite after conversion
// ("<source>: item 12: component 3 is not finite", numbered from 1).
Result<FloatVectors> NpyToFloatVectors(const NpyArray& array, std::string_view source);

// A label array of shape (N) or (N, 1) as N int64 (bool -> 0/1). Errors:
// another shape; a float that is not an integer; a uint64 above INT64_MAX.
Result<std::vector<int64_t>> NpyToInt64(const NpyArray& array, std::string_view source);

// A label or value array of shape (N) or (N, 1) as N doubles.
Result<std::vector<double>> NpyToDouble(const NpyArray& array, std::string_view source);

struct NpzImageTableOptions {
  // Splits to read, in this order; split s uses members
  // "<s><images_suffix>.npy" (N x d1 x ...) and "<s><labels_suffix>.npy" (N or N x 1).
  std::vector<std::string> splits = {"train", "val", "test"};
  std::string images_suffix = "_images";
  std::string labels_suffix = "_labels";
  float scale = 1.0f;       // each component is multiplied by this (1/255.0f maps uint8 pixels to [0, 1])
  std::string source_name;  // default: the file's base name
};

// Builds one table from image + label arrays of an .npz (e.g. MedMNIST):
// columns id BIGINT NOT NULL primary key (0.. over all splits, in split
// order), split STRING, split_index BIGINT (0-based index within the split),
// label BIGINT, image VECTOR(prod(d)). source_lines are 1-based indices
// within the split. Holds all images as float32 (N * d * 4 bytes).
// Errors: as NpzReader::Read and NpyToFloatVectors; InvalidArgument when a
// split's image and label counts differ or the image dimensions of splits differ.
Result<TypedTable> ReadNpzImageTable(const std::string& path, const NpzImageTableOptions& options = {});

}  // namespace vesta::ingest
