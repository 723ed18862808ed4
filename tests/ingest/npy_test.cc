#include "ingest/npy.h"

#include <gtest/gtest.h>
#include <zip.h>

#include <cstring>
#include <map>
#include <string>

#include "test_util.h"

namespace vesta::ingest {
namespace {

using fixtures::DataPath;
using fixtures::FixtureDir;

// An .npy image: header dict padded so the data starts at a multiple of 64.
std::string MakeNpyFromDict(std::string dict, const std::string& data, int major = 1) {
  size_t prefix = major == 1 ? 10 : 12;
  size_t total = prefix + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out = std::string("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  uint32_t len = static_cast<uint32_t>(dict.size());
  out.append(reinterpret_cast<const char*>(&len), major == 1 ? 2 : 4);
  return out + dict + data;
}

std::string MakeNpy(const std::string& descr, const std::string& shape, const std::string& data, int major = 1,
                    const std::string& fortran = "False") {
  return MakeNpyFromDict("{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }",
                         data, major);
}

template <typename T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Writes an .npz; members with `deflate` false are stored uncompressed.
std::string WriteNpz(const FixtureDir& dir, const std::string& name,
                     const std::vector<std::tuple<std::string, std::string, bool>>& members) {
  std::string path = dir.File(name);
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  EXPECT_NE(z, nullptr);
  for (const auto& [member, bytes, deflate] : members) {
    zip_source_t* s = zip_source_buffer(z, bytes.data(), bytes.size(), 0);
    zip_int64_t idx = zip_file_add(z, member.c_str(), s, ZIP_FL_OVERWRITE);
    EXPECT_GE(idx, 0);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  EXPECT_EQ(zip_close(z), 0);
  return path;
}

TEST(Npy, DecodesEverySupportedDtype) {
  const std::vector<float> expect = {1, 2, 3, 4, 5, 6};
  const std::map<std::string, std::string> cases = {
      {"<f4", Bytes(std::vector<float>{1, 2, 3, 4, 5, 6})},
      {"<f8", Bytes(std::vector<double>{1, 2, 3, 4, 5, 6})},
      {"|u1", Bytes(std::vector<uint8_t>{1, 2, 3, 4, 5, 6})},
      {"|i1", Bytes(std::vector<int8_t>{1, 2, 3, 4, 5, 6})},
      {"<i2", Bytes(std::vector<int16_t>{1, 2, 3, 4, 5, 6})},
      {"<u2", Bytes(std::vector<uint16_t>{1, 2, 3, 4, 5, 6})},
      {"<i4", Bytes(std::vector<int32_t>{1, 2, 3, 4, 5, 6})},
      {"<u4", Bytes(std::vector<uint32_t>{1, 2, 3, 4, 5, 6})},
      {"<i8", Bytes(std::vector<int64_t>{1, 2, 3, 4, 5, 6})},
      {"<u8", Bytes(std::vector<uint64_t>{1, 2, 3, 4, 5, 6})},
  };
  for (const auto& [descr, data] : cases) {
    auto a = ParseNpy(MakeNpy(descr, "(2, 3)", data), "a.npy");
    ASSERT_TRUE(a.ok()) << descr << ": " << a.status().ToString();
    EXPECT_EQ(a->descr, descr);
    EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
    auto v = NpyToFloatVectors(*a, "a.npy");
    ASSERT_TRUE(v.ok()) << descr;
    EXPECT_EQ(v->n, 2);
    EXPECT_EQ(v->dim, 3);
    EXPECT_EQ(v->data, expect) << descr;
  }
  auto b = ParseNpy(MakeNpy("|b1", "(2, 2)", std::string("\x01\x00\x00\x01", 4)), "b.npy");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(NpyToFloatVectors(*b, "b.npy")->data, (std::vector<float>{1, 0, 0, 1}));
  auto neg = ParseNpy(MakeNpy("<i2", "(1, 2)", Bytes(std::vector<int16_t>{-300, 7})), "n.npy");
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ(NpyToFloatVectors(*neg, "n.npy")->data, (std::vector<float>{-300, 7}));
}

TEST(Npy, ReadsVersion2HeadersAndFlattensTrailingDimensions) {
  std::vector<float> values(2 * 3 * 4);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i);
  FixtureDir dir;
  auto a = ReadNpy(dir.Write("v2.npy", MakeNpy("<f4", "(2, 3, 4)", Bytes(values), 2)));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->ShapeString(), "(2, 3, 4)");
  auto v = NpyToFloatVectors(*a, "v2.npy");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->dim, 12);
  EXPECT_EQ(v->row(1)[0], 12.0f);  // C order: item 1 starts at element 12
  auto one_d = ParseNpy(MakeNpy("<f4", "(3,)", Bytes(std::vector<float>{1, 2, 3})), "l.npy");
  ASSERT_TRUE(one_d.ok());
  EXPECT_EQ(one_d->ShapeString(), "(3,)");
  auto no_vectors = NpyToFloatVectors(*one_d, "l.npy");
  ASSERT_FALSE(no_vectors.ok());
  EXPECT_EQ(no_vectors.status().message(),
            "l.npy: expected an N x d1 x ... array (2 or more dimensions), got shape (3,)");
}

TEST(Npy, BadMagicIsRejected) {
  auto a = ParseNpy("PK\x03\x04 this is a zip, not an npy", "x.npy");
  ASSERT_FALSE(a.ok());
  EXPECT_TRUE(a.status().IsInvalidArgument());
  EXPECT_EQ(a.status().message(), "x.npy: not an NPY file (bad magic; expected \\x93NUMPY)");
  std::string v9 = MakeNpy("<f4", "(1, 1)", Bytes(std::vector<float>{1}));
  v9[6] = 9;
  auto b = ParseNpy(v9, "v9.npy");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "v9.npy: unsupported NPY version 9.0 (supported: 1.0, 2.0, 3.0)");
}

TEST(Npy, TruncatedDataAndHeaderAreRejected) {
  std::string full = MakeNpy("<f4", "(3, 4)", Bytes(std::vector<float>(12, 1.0f)));
  auto a = ParseNpy(std::string_view(full).substr(0, full.size() - 28), "t.npy");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "t.npy: truncated data: shape (3, 4) of <f4 needs 48 bytes, 20 remain");
  auto h = ParseNpy(std::string_view(full).substr(0, 40), "h.npy");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(), "h.npy: truncated header: declares 118 bytes, 30 remain");
}

TEST(Npy, UnsupportedDtypesAndFortranOrderAreRejected) {
  auto be = ParseNpy(MakeNpy(">f4", "(1, 1)", "abcd"), "be.npy");
  ASSERT_FALSE(be.ok());
  EXPECT_EQ(be.status().message(),
            "be.npy: unsupported dtype '>f4' (supported: <f4 <f8 |u1 |i1 <i2 <u2 <i4 <u4 <i8 <u8 |b1)");
  auto complex = ParseNpy(MakeNpy("<c8", "(1, 1)", "abcdefgh"), "c.npy");
  ASSERT_FALSE(complex.ok());
  EXPECT_NE(complex.status().message().find("unsupported dtype '<c8'"), std::string::npos);
  auto f = ParseNpy(MakeNpy("<f4", "(2, 2)", Bytes(std::vector<float>(4)), 1, "True"), "f.npy");
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().message(),
            "f.npy: fortran_order arrays are not supported (save in C order, e.g. with np.ascontiguousarray)");
  std::string structured =
      MakeNpyFromDict("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }", "abcd");
  auto s = ParseNpy(structured, "s.npy");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("s.npy: cannot parse NPY header: structured dtypes"), std::string::npos)
      << s.status().message();
  std::string garbled = MakeNpy("<f4", "(1,)", "abcd");
  garbled.replace(garbled.find("'shape'"), 7, "'shap?'");
  auto g = ParseNpy(garbled, "g.npy");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("g.npy: cannot parse NPY header: unexpected key 'shap?'"), std::string::npos)
      << g.status().message();
}

TEST(Npy, LabelArraysConvertToIntegers) {
  auto u = ParseNpy(MakeNpy("|u1", "(3, 1)", std::string("\x00\x01\x01", 3)), "l.npy");
  ASSERT_TRUE(u.ok());
  auto li = NpyToInt64(*u, "l.npy");
  ASSERT_TRUE(li.ok());
  EXPECT_EQ(*li, (std::vector<int64_t>{0, 1, 1}));
  auto f = ParseNpy(MakeNpy("<f8", "(2,)", Bytes(std::vector<double>{3.0, 2.5})), "f.npy");
  ASSERT_TRUE(f.ok());
  auto fi = NpyToInt64(*f, "f.npy");
  ASSERT_FALSE(fi.ok());
  EXPECT_EQ(fi.status().message(), "f.npy: item 2: expected an integer label, got 2.500000");
  EXPECT_EQ(*NpyToDouble(*f, "f.npy"), (std::vector<double>{3.0, 2.5}));
  auto wide = ParseNpy(MakeNpy("|u1", "(2, 2)", std::string("\x00\x01\x01\x00", 4)), "w.npy");
  ASSERT_TRUE(wide.ok());
  auto wi = NpyToInt64(*wide, "w.npy");
  ASSERT_FALSE(wi.ok());
  EXPECT_EQ(wi.status().message(), "w.npy: expected shape (N) or (N, 1), got (2, 2)");
}

TEST(Npz, ReadsStoredAndDeflatedMembers) {
  FixtureDir dir;
  std::string images = MakeNpy("|u1", "(2, 2, 2)", std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  std::string labels = MakeNpy("<i8", "(2,)", Bytes(std::vector<int64_t>{1, 0}));
  std::string path = WriteNpz(dir, "tiny.npz",
                              {{"train_images.npy", images, false}, {"train_labels.npy", labels, true}});
  auto npz = NpzReader::Open(path);
  ASSERT_TRUE(npz.ok()) << npz.status().ToString();
  EXPECT_EQ(npz->members(), (std::vector<std::string>{"train_images.npy", "train_labels.npy"}));
  auto im = npz->Read("train_images");  // ".npy" may be left out
  ASSERT_TRUE(im.ok()) << im.status().ToString();
  EXPECT_EQ(im->shape, (std::vector<int64_t>{2, 2, 2}));
  auto lb = npz->Read("train_labels.npy");
  ASSERT_TRUE(lb.ok()) << lb.status().ToString();
  EXPECT_EQ(*NpyToInt64(*lb, "l"), (std::vector<int64_t>{1, 0}));

  NpzImageTableOptions o;
  o.splits = {"train"};
  o.scale = 0.5f;
  auto t = ReadNpzImageTable(path, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[1][4].as_vector(), (std::vector<float>{2.5f, 3, 3.5f, 4}));
  EXPECT_EQ(t->rows[1][3].as_int(), 0);
}

TEST(Npz, MissingMemberListsTheMembersPresent) {
  FixtureDir dir;
  std::string a = MakeNpy("<f4", "(1, 1)", Bytes(std::vector<float>{1}));
  std::string path = WriteNpz(dir, "m.npz", {{"a.npy", a, true}, {"b.npy", a, false}});
  auto npz = NpzReader::Open(path);
  ASSERT_TRUE(npz.ok());
  auto r = npz->Read("train_images.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(), "m.npz: member 'train_images.npy' not found; members: a.npy, b.npy");
  auto t = ReadNpzImageTable(path);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "m.npz: member 'train_images.npy' not found; members: a.npy, b.npy");
}

TEST(Npz, BadMemberAndNonZipInputAreErrors) {
  FixtureDir dir;
  std::string path = WriteNpz(dir, "bad.npz", {{"x.npy", "not an npy at all", true}});
  auto npz = NpzReader::Open(path);
  ASSERT_TRUE(npz.ok());
  auto r = npz->Read("x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "bad.npz[x.npy]: not an NPY file (bad magic; expected \\x93NUMPY)");
  auto not_zip = NpzReader::Open(dir.Write("text.npz", "hello, this is text\n"));
  ASSERT_FALSE(not_zip.ok());
  EXPECT_EQ(not_zip.status().message().rfind("text.npz: not a zip archive (npz): ", 0), 0u)
      << not_zip.status().message();
  auto missing = NpzReader::Open(dir.File("none.npz"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  // A corrupted deflate stream or CRC is reported, not returned as data.
  std::string good = MakeNpy("<f4", "(64, 4)", Bytes(std::vector<float>(256, 3.0f)));
  std::string zpath = WriteNpz(dir, "crc.npz", {{"x.npy", good, false}});
  std::string bytes = fixtures::ReadAll(zpath);
  size_t data_at = bytes.find(std::string("\x00\x00\x40\x40\x00\x00\x40\x40", 8));
  ASSERT_NE(data_at, std::string::npos);
  bytes[data_at + 2] ^= 0x55;  // flip bits inside the stored member's data
  auto crc = NpzReader::Open(dir.Write("crc2.npz", bytes));
  ASSERT_TRUE(crc.ok());
  auto cr = crc->Read("x");
  ASSERT_FALSE(cr.ok());
  EXPECT_EQ(cr.status().message().rfind("crc2.npz[x.npy]: corrupt member: ", 0), 0u) << cr.status().message();
}

TEST(RealData, PneumoniaMnistArraysHaveTheDocumentedShapes) {
  auto npz = NpzReader::Open(DataPath("medmnist-pneumonia/pneumoniamnist.npz"));
  ASSERT_TRUE(npz.ok()) << npz.status().ToString();
  EXPECT_EQ(npz->members().size(), 6u);
  auto images = npz->Read("train_images.npy");
  ASSERT_TRUE(images.ok()) << images.status().ToString();
  EXPECT_EQ(images->descr, "|u1");
  EXPECT_EQ(images->shape, (std::vector<int64_t>{3882, 28, 28}));
  auto labels = npz->Read("train_labels.npy");
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->shape, (std::vector<int64_t>{3882, 1}));
  auto values = NpyToInt64(*labels, "train_labels");
  ASSERT_TRUE(values.ok());
  int64_t ones = 0;
  for (int64_t v : *values) ones += v == 1;
  EXPECT_EQ(ones, 3494);
}

TEST(RealData, PneumoniaMnistBecomesOneTableOf784dImageVectors) {
  NpzImageTableOptions o;
  o.scale = 1.0f / 255.0f;
  auto t = ReadNpzImageTable(DataPath("medmnist-pneumonia/pneumoniamnist.npz"), o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 3882u + 524u + 624u);
  EXPECT_TRUE(t->schema.Validate().ok());
  EXPECT_EQ(t->schema.columns[4].type, DataType::Vector(784));
  std::map<std::string, std::pair<int64_t, int64_t>> per_split;  // rows, label-1 rows
  float max_pixel = 0;
  for (size_t i = 0; i < t->rows.size(); ++i) {
    const Row& r = t->rows[i];
    ASSERT_EQ(r[0].as_int(), static_cast<int64_t>(i));
    auto& [n, pos] = per_split[r[1].as_string()];
    ++n;
    pos += r[3].as_int() == 1;
    for (float p : r[4].as_vector()) max_pixel = std::max(max_pixel, p);
  }
  EXPECT_EQ(per_split["train"], (std::pair<int64_t, int64_t>{3882, 3494}));
  EXPECT_EQ(per_split["val"], (std::pair<int64_t, int64_t>{524, 389}));
  EXPECT_EQ(per_split["test"], (std::pair<int64_t, int64_t>{624, 390}));
  EXPECT_LE(max_pixel, 1.0f);
  EXPECT_GT(max_pixel, 0.5f);
  EXPECT_EQ(t->rows[3882][2].as_int(), 0);  // first val image: split_index restarts
  EXPECT_EQ(t->source_lines[3882], 1);
  ASSERT_TRUE(t->schema.ValidateRow(t->rows.back()).ok());
}

}  // namespace
}  // namespace vesta::ingest
