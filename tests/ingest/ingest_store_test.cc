// Ingest into versioned tables: all or nothing, quarantine, idempotent
// re-ingest, and the demo cohort load.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "ingest/demo_cohort.h"
#include "ingest/ingest.h"
#include "tests/testing/temp_dir.h"

namespace vesta::ingest {
namespace {

using governance::Store;
using governance::TableName;

class IngestStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Store::Open(dir_.File("s.vesta"), {}).value();
    ASSERT_TRUE(store_->CreateCatalog("main", "t").ok());
    ASSERT_TRUE(store_->CreateSchema("main", "clinical", "t").ok());
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string p = dir_.File(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  int64_t Version(const TableName& n) { return store_->DescribeTable(n)->current_version; }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  TableName name_ = TableName::Parse("main.clinical.patients").value();
};

TEST_F(IngestStoreTest, CsvCreatesTableAndReingestCommitsNothing) {
  std::string p = Write("p.csv", "patient_id,age,site\nTCGA-02-0001,50,02\nTCGA-06-0002,61,06\n");
  IngestOptions o;
  o.delimited.primary_key = "patient_id";
  o.delimited.type_overrides = {{"site", DataType::String()}};
  auto r = IngestFile(*store_, name_, p, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->created_table);
  ASSERT_EQ(r->commits.size(), 1u);
  EXPECT_EQ(r->commits[0].rows_added, 2);
  auto again = IngestFile(*store_, name_, p, {});  // the table's types and key are reused
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->commits.empty());
  EXPECT_EQ(Version(name_), 1);
  auto rows = store_->Read(name_, {.predicate = "site = '02'"});
  ASSERT_EQ(rows->rows.size(), 1u);
  // A changed file updates only the changed row.
  std::string p2 = Write("p2.csv", "patient_id,age,site\nTCGA-02-0001,51,02\nTCGA-06-0002,61,06\n");
  auto upd = IngestFile(*store_, name_, p2, {});
  ASSERT_TRUE(upd.ok());
  ASSERT_EQ(upd->commits.size(), 1u);
  EXPECT_EQ(upd->commits[0].rows_updated, 1);
  EXPECT_EQ(upd->commits[0].rows_added, 0);
}

TEST_F(IngestStoreTest, BadNumberFailsWholeIngestAndCommitsNothing) {
  ASSERT_TRUE(IngestFile(*store_, name_, Write("ok.csv", "patient_id,age\na,1\n"),
                         {.delimited = {.primary_key = "patient_id"}})
                  .ok());
  std::string p = Write("bad.csv", "patient_id,age\nb,2\nc,abc\nd,4\n");
  auto r = IngestFile(*store_, name_, p, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("bad.csv:3"), std::string::npos) << m;
  EXPECT_NE(m.find("'age'"), std::string::npos) << m;
  EXPECT_NE(m.find("'abc'"), std::string::npos) << m;
  EXPECT_NE(m.find("BIGINT"), std::string::npos) << m;
  EXPECT_EQ(Version(name_), 1);
  EXPECT_EQ(store_->Read(name_)->rows.size(), 1u);
}

TEST_F(IngestStoreTest, FailedIngestIntoNewTableLeavesNoTable) {
  std::string p = Write("cols.csv", "patient_id,age\nb,2\nc,3,extra\n");
  auto r = IngestFile(*store_, name_, p, {.delimited = {.primary_key = "patient_id"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cols.csv:3"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("expected 2 fields, got 3"), std::string::npos) << r.status().message();
  EXPECT_TRUE(store_->DescribeTable(name_).status().IsNotFound());
  // A duplicate key inside the file fails at commit: the created table is dropped again.
  auto dup = IngestFile(*store_, name_, Write("dup.csv", "patient_id,age\nb,2\nb,3\n"),
                        {.mode = WriteMode::kAppend, .delimited = {.primary_key = "patient_id"}});
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(store_->DescribeTable(name_).status().IsNotFound());
}

TEST_F(IngestStoreTest, WrongVectorLengthNamesLineAndColumn) {
  std::string p = Write("v.csv", "id,emb\n1,\"[1, 2, 3]\"\n2,\"[1, 2]\"\n");
  IngestOptions o;
  o.delimited.primary_key = "id";
  o.delimited.type_overrides = {{"emb", DataType::Vector(3)}};
  auto r = IngestFile(*store_, name_, p, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("v.csv:3"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("VECTOR(3)"), std::string::npos) << r.status().message();
  EXPECT_TRUE(store_->DescribeTable(name_).status().IsNotFound());
}

TEST_F(IngestStoreTest, QuarantineCommitsGoodRowsAndRecordsRejectsTogether) {
  std::string p = Write("q.csv", "patient_id,age\na,1\nb,x\nc,3\nd,4.5\n");
  IngestOptions o;
  o.quarantine = true;
  o.delimited.primary_key = "patient_id";
  o.delimited.type_overrides = {{"age", DataType::Bigint()}};
  auto r = IngestFile(*store_, name_, p, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows_read, 2);
  EXPECT_EQ(r->rows_rejected, 2);
  EXPECT_EQ(r->quarantine_table, "main.clinical.patients_quarantine");
  EXPECT_EQ(r->commits.size(), 2u);  // both tables, one transaction
  auto q = store_->Read(QuarantineTableName(name_), {.order_by_primary_key = true});
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->rows.size(), 2u);
  EXPECT_EQ(q->rows[0][0].as_string(), "q.csv:3");
  EXPECT_EQ(q->rows[0][4].as_string(), "age");
  EXPECT_EQ(q->rows[0][5].as_string(), "x");
  EXPECT_NE(q->rows[0][6].as_string().find("expected BIGINT"), std::string::npos);
  // Quarantining the same file again changes nothing.
  auto again = IngestFile(*store_, name_, p, o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->commits.empty());
}

TEST_F(IngestStoreTest, SchemaMismatchWithExistingTableIsNamed) {
  ASSERT_TRUE(IngestFile(*store_, name_, Write("a.csv", "patient_id,age\na,1\n"),
                         {.delimited = {.primary_key = "patient_id"}})
                  .ok());
  auto r = IngestFile(*store_, name_, Write("b.csv", "patient_id,age,weight\nb,1,70\n"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("column 'weight' of b.csv is not in main.clinical.patients"),
            std::string::npos)
      << r.status().message();
  auto none = IngestFile(*store_, TableName::Parse("main.clinical.nope").value(), Write("c.csv", "x\n1\n"),
                         {.create_table = false});
  EXPECT_TRUE(none.status().IsNotFound());
}

TEST_F(IngestStoreTest, TruncatedFvecsAndCorruptVcfCommitNothing) {
  std::string fv;
  int32_t d = 4;
  fv.append(reinterpret_cast<const char*>(&d), 4);
  float x[4] = {1, 2, 3, 4};
  fv.append(reinterpret_cast<const char*>(x), 16);
  fv.append(reinterpret_cast<const char*>(&d), 4);
  fv.append(reinterpret_cast<const char*>(x), 6);  // truncated second record
  auto r = IngestFile(*store_, TableName::Parse("main.clinical.vecs").value(), Write("t.fvecs", fv), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("t.fvecs"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
  EXPECT_TRUE(store_->DescribeTable(TableName::Parse("main.clinical.vecs").value()).status().IsNotFound());
  std::string vcf =
      "##fileformat=VCFv4.2\n##contig=<ID=20>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
      "20\t100\t.\tA\tG\t50\tPASS\t.\n20\tnotapos\t.\tA\tG\t50\tPASS\t.\n";
  auto v = IngestFile(*store_, TableName::Parse("main.clinical.variants").value(), Write("bad.vcf", vcf), {});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("bad.vcf"), std::string::npos) << v.status().message();
  EXPECT_NE(v.status().message().find("record 2"), std::string::npos) << v.status().message();
  EXPECT_TRUE(store_->DescribeTable(TableName::Parse("main.clinical.variants").value()).status().IsNotFound());
}

TEST(StandardizeFeatures, MapsMissingAndConstantFeaturesToZero) {
  auto z = StandardizeFeatures({3.0, NAN, 5.0}, {1.0, 2.0, 5.0}, {2.0, 1.0, 0.0});
  EXPECT_EQ(z, (std::vector<float>{1.0f, 0.0f, 0.0f}));
}

// The demo cohort from the project's data/ folder (what the quickstart loads).
TEST(DemoCohort, LoadsRealCohortIdempotentlyWithTimeTravel) {
  testing::TempDir dir;
  auto store = Store::Open(dir.File("demo.vesta"), {}).value();
  DemoOptions o;
  o.data_dir = std::string(VESTA_SOURCE_DIR) + "/data";
  auto rep = LoadDemoCohort(*store, o);
  ASSERT_TRUE(rep.ok()) << rep.status().ToString();
  std::map<std::string, DemoTableLoad> by;
  for (const auto& t : rep->tables) by[t.table.ToString()] = t;
  EXPECT_EQ(by["main.imaging.radiomics"].rows, 167);  // 102 GBM + 65 LGG studies
  EXPECT_EQ(by["main.imaging.radiomics_feature_stats"].rows, 724);
  EXPECT_EQ(by["main.clinical.patients"].rows, 585 + 511);
  const TableName muts = TableName::Parse("main.genomics.somatic_mutations").value();
  EXPECT_GT(by[muts.ToString()].rows, 75000);
  EXPECT_LE(by[muts.ToString()].rows, 46413 + 29099);

  auto info = store->DescribeTable(TableName::Parse("main.imaging.radiomics").value());
  EXPECT_EQ(info->schema.columns.back().type, DataType::Vector(724));
  // Standardised features: every component has mean 0 over the cohort.
  auto rad = store->Read(TableName::Parse("main.imaging.radiomics").value());
  ASSERT_EQ(rad->rows.size(), 167u);
  std::vector<double> sum(724, 0.0);
  for (const Row& r : rad->rows)
    for (size_t j = 0; j < 724; ++j) sum[j] += r.back().as_vector()[j];
  for (size_t j = 0; j < 724; ++j) ASSERT_NEAR(sum[j] / 167.0, 0.0, 1e-4) << "feature " << j;
  // Independent check of one cell: VOLUME_ET of TCGA-02-0006 (first GBM row)
  // standardised with the stored parameters.
  auto stats = store->Read(TableName::Parse("main.imaging.radiomics_feature_stats").value(),
                           {.predicate = "feature_name = 'VOLUME_ET'"});
  ASSERT_EQ(stats->rows.size(), 1u);
  const int64_t fi = stats->rows[0][0].as_int();
  const double mean = stats->rows[0][2].as_double(), sd = stats->rows[0][3].as_double();
  auto row = store->Read(TableName::Parse("main.imaging.radiomics").value(),
                         {.predicate = "patient_id = 'TCGA-02-0006'"});
  ASSERT_EQ(row->rows.size(), 1u);
  EXPECT_EQ(row->rows[0][3].as_string(), "GBM");
  EXPECT_EQ(row->rows[0][2].ToString(), "1996-08-23");
  // The raw value from the CSV (column 3 of TCGA_GBM_radiomicFeatures.csv).
  EXPECT_NEAR(row->rows[0].back().as_vector()[static_cast<size_t>(fi)], (1662.0 - mean) / sd, 1e-4);
  // Reference computed independently with Python 3.11's statistics.mean and
  // statistics.stdev over the VOLUME_ET column of both CSVs (167 values):
  // mean 20242.02395, sd 22567.08693, z(1662) = -0.8233240.
  EXPECT_NEAR(mean, 20242.02395, 1e-4);
  EXPECT_NEAR(sd, 22567.08693, 1e-4);
  EXPECT_NEAR(row->rows[0].back().as_vector()[static_cast<size_t>(fi)], -0.8233240, 1e-5);

  // Loading again commits nothing.
  auto again = LoadDemoCohort(*store, o);
  ASSERT_TRUE(again.ok());
  for (const auto& t : again->tables) EXPECT_FALSE(t.changed) << t.table.ToString();

  // The scenario: delete rows, read them at the earlier version, see the deletes in the feed.
  const int64_t before = store->DescribeTable(muts)->current_version;
  auto tp53 = store->Read(muts, {.predicate = "hugo_symbol = 'TP53'"});
  ASSERT_GT(tp53->rows.size(), 100u);
  auto txn = store->Begin("tester");
  ASSERT_TRUE(txn->DeleteWhere(muts, "hugo_symbol = 'TP53'").ok());
  auto c = txn->Commit();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)[0].rows_removed, static_cast<int64_t>(tp53->rows.size()));
  EXPECT_TRUE(store->Read(muts, {.predicate = "hugo_symbol = 'TP53'"})->rows.empty());
  EXPECT_EQ(store->Read(muts, {.at = {.version = before}, .predicate = "hugo_symbol = 'TP53'"})->rows.size(),
            tp53->rows.size());
  auto feed = store->Changes(muts, before + 1, before + 1);
  ASSERT_EQ(feed->changes.size(), tp53->rows.size());
  for (const auto& ch : feed->changes) EXPECT_EQ(ch.type, governance::ChangeType::kDelete);
}

}  // namespace
}  // namespace vesta::ingest
