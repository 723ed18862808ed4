#include "ingest/vecs.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>

#include "test_util.h"

namespace vesta::ingest {
namespace {

using fixtures::DataPath;
using fixtures::FixtureDir;

// Appends one fvecs/ivecs record.
template <typename T>
void AppendRecord(std::string* out, int32_t dim, const std::vector<T>& values) {
  out->append(reinterpret_cast<const char*>(&dim), 4);
  out->append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

TEST(Fvecs, ReadsTheSiftQueryFile) {
  auto q = ReadFvecs(DataPath("ann-sift5k/siftsmall_query.fvecs"));
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->n, 100);
  EXPECT_EQ(q->dim, 128);
  ASSERT_EQ(q->data.size(), 100u * 128u);
  float lo = 1e9f, hi = -1e9f;
  for (float v : q->data) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    EXPECT_EQ(v, static_cast<float>(static_cast<int>(v)));  // integer-valued
  }
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 169.0f);  // SOURCE.md: range 0..169
}

TEST(Fvecs, ReadsTheDerivedBaseAndGroundTruth) {
  auto base = ReadFvecs(DataPath("ann-sift5k/derived/sift5k_base.fvecs"));
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  EXPECT_EQ(base->n, 5000);
  EXPECT_EQ(base->dim, 128);
  auto gt = ReadIvecs(DataPath("ann-sift5k/derived/sift5k_groundtruth_siftsmallq_k100.ivecs"));
  ASSERT_TRUE(gt.ok()) << gt.status().ToString();
  EXPECT_EQ(gt->n, 100);
  EXPECT_EQ(gt->dim, 100);
  auto sq = ReadFvecs(DataPath("ann-sift5k/derived/sift5k_groundtruth_siftsmallq_k100_sqdist.fvecs"));
  ASSERT_TRUE(sq.ok());
  auto q = ReadFvecs(DataPath("ann-sift5k/siftsmall_query.fvecs"));
  ASSERT_TRUE(q.ok());
  // The first ground-truth neighbour of query 0 is at the recorded squared distance.
  const int32_t nn = gt->row(0)[0];
  ASSERT_GE(nn, 0);
  ASSERT_LT(nn, 5000);
  double d2 = 0;
  for (int j = 0; j < 128; ++j) {
    double diff = static_cast<double>(q->row(0)[j]) - base->row(nn)[j];
    d2 += diff * diff;
  }
  EXPECT_EQ(d2, static_cast<double>(sq->row(0)[0]));
}

TEST(Fvecs, MaxVectorsStopsEarly) {
  VecsOptions o;
  o.max_vectors = 7;
  auto q = ReadFvecs(DataPath("ann-sift5k/siftsmall_query.fvecs"), o);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->n, 7);
  EXPECT_EQ(q->data.size(), 7u * 128u);
}

TEST(Fvecs, TruncatedFileNamesRecordAndBytes) {
  FixtureDir dir;
  std::string all = fixtures::ReadAll(DataPath("ann-sift5k/siftsmall_query.fvecs"));
  // 11 whole records (11 * 516 bytes) and 100 bytes of the 12th.
  auto t = ReadFvecs(dir.Write("siftsmall_query.fvecs", all.substr(0, 11 * 516 + 100)));
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsInvalidArgument());
  EXPECT_EQ(t.status().message(), "siftsmall_query.fvecs: record 12 is truncated: expected 516 bytes, 100 remain");
  auto stub = ReadFvecs(dir.Write("stub.fvecs", std::string("\x02\x00", 2)));
  ASSERT_FALSE(stub.ok());
  EXPECT_EQ(stub.status().message(), "stub.fvecs: record 1 is truncated: expected at least 4 bytes, 2 remain");
  auto tail = ReadFvecs(dir.Write("tail.fvecs", all.substr(0, 516 + 3)));
  ASSERT_FALSE(tail.ok());
  EXPECT_EQ(tail.status().message(), "tail.fvecs: record 2 is truncated: expected 516 bytes, 3 remain");
}

TEST(Fvecs, InconsistentAndInvalidDimensionsAreErrors) {
  FixtureDir dir;
  std::string mixed;
  AppendRecord<float>(&mixed, 3, {1, 2, 3});
  AppendRecord<float>(&mixed, 3, {4, 5, 6});
  AppendRecord<float>(&mixed, 2, {7, 8});
  auto m = ReadFvecs(dir.Write("mixed.fvecs", mixed));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "mixed.fvecs: record 3: dimension 2 differs from the first record's 3");

  std::string neg;
  AppendRecord<float>(&neg, -5, {});
  auto n = ReadFvecs(dir.Write("neg.fvecs", neg));
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "neg.fvecs: record 1: invalid dimension -5 (must be 1..4096)");

  std::string zero;
  AppendRecord<float>(&zero, 0, {});
  EXPECT_FALSE(ReadFvecs(dir.Write("zero.fvecs", zero)).ok());

  std::string huge;
  AppendRecord<float>(&huge, 5000, std::vector<float>(5000, 1.0f));
  auto h = ReadFvecs(dir.Write("huge.fvecs", huge));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(), "huge.fvecs: record 1: invalid dimension 5000 (must be 1..4096)");

  auto e = ReadFvecs(dir.Write("empty.fvecs", ""));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "empty.fvecs: empty file: no vectors");

  auto missing = ReadFvecs(dir.File("none.fvecs"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
}

TEST(Ivecs, AndBvecsRoundTripSmallFiles) {
  FixtureDir dir;
  std::string iv;
  AppendRecord<int32_t>(&iv, 2, {7, -1});
  AppendRecord<int32_t>(&iv, 2, {42, 3});
  auto i = ReadIvecs(dir.Write("x.ivecs", iv));
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  EXPECT_EQ(i->n, 2);
  EXPECT_EQ(i->data, (std::vector<int32_t>{7, -1, 42, 3}));

  std::string bv;
  AppendRecord<uint8_t>(&bv, 3, {0, 128, 255});
  AppendRecord<uint8_t>(&bv, 3, {1, 2, 3});
  auto b = ReadBvecs(dir.WriteGzip("x.bvecs.gz", bv));  // gzip is transparent
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->data, (std::vector<uint8_t>{0, 128, 255, 1, 2, 3}));
  FloatVectors f = ToFloatVectors(*b);
  EXPECT_EQ(f.data[2], 255.0f);
  auto cut = ReadBvecs(dir.Write("cut.bvecs", bv.substr(0, bv.size() - 1)));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().message(), "cut.bvecs: record 2 is truncated: expected 7 bytes, 6 remain");
}

TEST(VectorsToTable, BuildsIdAndVectorColumns) {
  auto q = ReadFvecs(DataPath("ann-sift5k/siftsmall_query.fvecs"));
  ASSERT_TRUE(q.ok());
  VectorTableOptions o;
  o.source = "siftsmall_query.fvecs";
  auto t = VectorsToTable(*q, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->schema.Validate().ok());
  EXPECT_EQ(t->schema.primary_key, "id");
  EXPECT_EQ(t->schema.columns[1].type, DataType::Vector(128));
  ASSERT_EQ(t->rows.size(), 100u);
  EXPECT_EQ(t->rows[99][0].as_int(), 99);
  EXPECT_EQ(t->source_lines[99], 100);
  EXPECT_EQ(t->rows[5][1].as_vector(), std::vector<float>(q->row(5), q->row(5) + 128));
  for (const Row& r : t->rows) ASSERT_TRUE(t->schema.ValidateRow(r).ok());

  FloatVectors bad;
  bad.n = 2;
  bad.dim = 2;
  bad.data = {1, 2, 3, std::numeric_limits<float>::quiet_NaN()};
  auto b = VectorsToTable(bad, {"bad.fvecs", "id", "vector", 0});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "bad.fvecs: record 2: component 2 is not finite");
}

}  // namespace
}  // namespace vesta::ingest
