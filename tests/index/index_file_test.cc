// Index files (VectorIndex::Save / Load): round trips for every kind, and
// every way a file can be wrong is reported with its reason, never served.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "index/vector_index.h"
#include "tests/index/vector_test_util.h"
#include "tests/testing/temp_dir.h"

namespace vesta::index {
namespace {

using testing::VectorFixture;

IndexSpec SpecFor(IndexKind kind, size_t d) {
  IndexSpec spec;
  spec.kind = kind;
  spec.metric = Metric::kL2;
  spec.dimension = static_cast<uint32_t>(d);
  spec.attributes = VectorFixture::AttributeSchema();
  spec.hnsw.m = 8;
  spec.hnsw.ef_construction = 40;
  spec.ivf.nlist = 16;
  spec.ivf.pq_m = 4;
  spec.ivf.pq_nbits = 4;  // PQ trains from 39 * 2^4 rows
  return spec;
}

std::vector<char> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class IndexFileTest : public ::testing::TestWithParam<IndexKind> {};

// A saved and reloaded index has the same version, rows, tombstones, delta
// and attributes, and answers every query exactly as the original.
TEST_P(IndexFileTest, RoundTripAnswersIdentically) {
  const IndexKind kind = GetParam();
  const VectorFixture f = VectorFixture::Make(2500, 8, 6, 17);
  IndexOptions options;
  options.min_delta_rows = 100000;  // keep a delta so it is persisted too
  auto index = VectorIndex::Create(SpecFor(kind, f.d), options).value();
  ASSERT_TRUE(index->Build(f.Batch(0, 2000), 4).ok());
  std::vector<Value> dels = {Value::Int(1), Value::Int(2), Value::Int(1999)};
  ASSERT_TRUE(index->Apply(f.Batch(2000, 2500), dels, 6).ok());
  testing::TempDir dir;
  const std::string path = dir.File("radiomics.vidx");
  ASSERT_TRUE(index->Save(path).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  auto loaded = VectorIndex::Load(path, SpecFor(kind, f.d), options);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  auto a = index->snapshot();
  auto b = (*loaded)->snapshot();
  if (kind != IndexKind::kFlat) {
    ASSERT_GT(a->main_size(), 0u) << "no structure to persist";
  }
  EXPECT_EQ(b->version(), 6);
  EXPECT_EQ(b->size(), a->size());
  EXPECT_EQ(b->main_size(), a->main_size());
  EXPECT_EQ(b->live_count(), a->live_count());
  EXPECT_EQ(b->deleted(), a->deleted());
  for (uint32_t id = 0; id < a->size(); id += 97) {
    EXPECT_EQ(b->key(id), a->key(id));
    EXPECT_EQ(b->attributes().GetRow(id), a->attributes().GetRow(id));
  }
  const filter::BoundExpr filt = testing::BindFilter("bucket < 600", VectorFixture::AttributeSchema());
  for (int qi = 0; qi < 10; ++qi) {
    const auto q = f.QueryNear(qi * 211, qi);
    SearchRequest req;
    req.k = 10;
    req.filter = qi % 2 ? &filt : nullptr;
    auto x = a->Search(q.data(), f.d, req);
    auto y = b->Search(q.data(), f.d, req);
    ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ(x->keys, y->keys);
    EXPECT_EQ(x->scores, y->scores);
    EXPECT_EQ(x->plan, y->plan);
  }
  // The loaded index keeps accepting changes.
  ASSERT_TRUE((*loaded)->Apply({}, {Value::Int(5)}, 7).ok());
  EXPECT_EQ((*loaded)->snapshot()->live_count(), a->live_count() - 1);
}

INSTANTIATE_TEST_SUITE_P(Kinds, IndexFileTest,
                         ::testing::Values(IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kIvfFlat, IndexKind::kIvfPq),
                         [](const auto& p) { return std::string(IndexKindName(p.param)); });

class IndexFileErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    f_ = VectorFixture::Make(800, 8, 4, 5);
    auto index = VectorIndex::Create(SpecFor(IndexKind::kHnsw, f_.d)).value();
    ASSERT_TRUE(index->Build(f_.Batch(0, 800), 3).ok());
    path_ = dir_.File("i.vidx");
    ASSERT_TRUE(index->Save(path_).ok());
    bytes_ = ReadAll(path_);
    ASSERT_GT(bytes_.size(), 800u * 8 * 4);
  }
  Status LoadStatus(const IndexSpec& spec) {
    auto r = VectorIndex::Load(path_, spec);
    return r.ok() ? Status::OK() : r.status();
  }
  Status LoadStatus() { return LoadStatus(SpecFor(IndexKind::kHnsw, f_.d)); }
  void ExpectReason(const Status& st, StatusCode code, const std::string& reason) {
    ASSERT_FALSE(st.ok()) << reason;
    EXPECT_EQ(st.code(), code) << st.message();
    EXPECT_NE(st.message().find(reason), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(path_), std::string::npos) << "the message names the file: " << st.message();
  }

  VectorFixture f_;
  testing::TempDir dir_;
  std::string path_;
  std::vector<char> bytes_;
};

TEST_F(IndexFileErrorTest, MissingFileIsNotFound) {
  std::filesystem::remove(path_);
  ExpectReason(LoadStatus(), StatusCode::kNotFound, "does not exist");
}

TEST_F(IndexFileErrorTest, FlippedBytesAnywhereAreCaughtByTheChecksum) {
  for (size_t at : {size_t{40}, bytes_.size() / 3, bytes_.size() / 2, bytes_.size() - 10}) {
    std::vector<char> bad = bytes_;
    bad[at] ^= 0x5a;
    WriteAll(path_, bad);
    ExpectReason(LoadStatus(), StatusCode::kFailedPrecondition, "checksum mismatch");
  }
}

TEST_F(IndexFileErrorTest, TruncatedFilesAreReported) {
  for (size_t keep : {size_t{0}, size_t{10}, bytes_.size() / 2, bytes_.size() - 1}) {
    WriteAll(path_, std::vector<char>(bytes_.begin(), bytes_.begin() + keep));
    ExpectReason(LoadStatus(), StatusCode::kFailedPrecondition, "truncated");
  }
}

TEST_F(IndexFileErrorTest, ForeignFilesAndOtherFormatVersionsAreReported) {
  std::vector<char> bad = bytes_;
  bad[0] = 'X';
  WriteAll(path_, bad);
  ExpectReason(LoadStatus(), StatusCode::kFailedPrecondition, "not a Vesta index file");
  bad = bytes_;
  bad[8] = 99;
  WriteAll(path_, bad);
  ExpectReason(LoadStatus(), StatusCode::kFailedPrecondition, "format version 99");
}

TEST_F(IndexFileErrorTest, AFileForAnotherSpecIsNotServed) {
  IndexSpec other = SpecFor(IndexKind::kHnsw, f_.d);
  other.hnsw.m = 16;
  ExpectReason(LoadStatus(other), StatusCode::kFailedPrecondition, "was built for spec");
  other = SpecFor(IndexKind::kIvfFlat, f_.d);
  ExpectReason(LoadStatus(other), StatusCode::kFailedPrecondition, "was built for spec");
  other = SpecFor(IndexKind::kHnsw, f_.d);
  other.attributes.columns.pop_back();
  ExpectReason(LoadStatus(other), StatusCode::kFailedPrecondition, "was built for spec");
  // Search defaults are not part of the structure: the file is reused.
  other = SpecFor(IndexKind::kHnsw, f_.d);
  other.search.ef_search = 300;
  EXPECT_TRUE(LoadStatus(other).ok());
}

TEST_F(IndexFileErrorTest, AFailedSaveKeepsThePreviousFile) {
  auto index = VectorIndex::Create(SpecFor(IndexKind::kHnsw, f_.d)).value();
  Status st = index->Save(dir_.File("no/such/dir/i.vidx"));
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_NE(st.message().find("no/such/dir"), std::string::npos);
  EXPECT_TRUE(LoadStatus().ok());
}

}  // namespace
}  // namespace vesta::index
