#include "ingest/maf.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "test_util.h"

namespace vesta::ingest {
namespace {

using fixtures::DataPath;
using fixtures::FixtureDir;

constexpr std::string_view kHeader =
    "Hugo_Symbol\tChromosome\tStart_Position\tEnd_Position\tVariant_Classification\tVariant_Type\t"
    "Reference_Allele\tTumor_Seq_Allele2\tTumor_Sample_Barcode\tt_ref_count\tt_alt_count\tHGVSp_Short\n";

std::string Record(const std::string& gene, const std::string& start, const std::string& barcode,
                   const std::string& ref_count = "10", const std::string& alt_count = "5") {
  return gene + "\t7\t" + start + "\t" + start + "\tMissense_Mutation\tSNP\tC\tT\t" + barcode + "\t" + ref_count +
         "\t" + alt_count + "\tp.X1Y\n";
}

int Col(const TypedTable& t, const char* name) {
  int c = t.FindColumn(name);
  EXPECT_GE(c, 0) << name;
  return c;
}

TEST(Maf, RealGbmMc3FileHas46413NonSilentRows) {
  auto t = ReadMaf(DataPath("gbm-tcga/tcgamutations_mc3_gbm/GBM_MC3_mutations_nonsilent.tsv"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 46413u);
  EXPECT_TRUE(t->schema.Validate().ok()) << t->schema.Validate().ToString();
  EXPECT_EQ(t->stats.duplicates_dropped, 0);
  EXPECT_EQ(t->stats.keys_disambiguated, 0);
  const Row& r = t->rows[0];
  EXPECT_EQ(r[0].as_string(), "TCGA-02-0003-01A-01D-1490-08:10:123810032:C>T");
  EXPECT_EQ(r[Col(*t, "patient_id")].as_string(), "TCGA-02-0003");
  EXPECT_EQ(r[Col(*t, "sample_barcode")].as_string(), "TCGA-02-0003-01A-01D-1490-08");
  EXPECT_EQ(r[Col(*t, "hugo_symbol")].as_string(), "TACC2");
  EXPECT_EQ(r[Col(*t, "start_position")].as_int(), 123810032);
  EXPECT_EQ(r[Col(*t, "end_position")].as_int(), 123810032);
  EXPECT_EQ(r[Col(*t, "hgvsc")].as_string(), "c.113C>T");
  EXPECT_EQ(r[Col(*t, "hgvsp_short")].as_string(), "p.T38M");
  EXPECT_EQ(r[Col(*t, "t_ref_count")].as_int(), 4);
  EXPECT_EQ(r[Col(*t, "t_alt_count")].as_int(), 38);
  EXPECT_DOUBLE_EQ(r[Col(*t, "vaf")].as_double(), 38.0 / 42.0);
  EXPECT_EQ(r[Col(*t, "impact")].as_string(), "MODERATE");
  // The other columns are kept under snake_case names with inferred types.
  EXPECT_EQ(t->schema.columns[static_cast<size_t>(Col(*t, "n_ref_count"))].type, DataType::Bigint());
  EXPECT_EQ(t->schema.columns[static_cast<size_t>(Col(*t, "exon_number"))].type, DataType::String());  // "3/23"
  EXPECT_EQ(r[Col(*t, "exac_af")].is_null(), true);                                                    // "."
  EXPECT_EQ(r[Col(*t, "tumor_sample_barcode_min")].as_string(), "TCGA-02-0003");
  EXPECT_EQ(t->schema.columns.size(), 17u + 8u);  // 22 input columns, 14 mapped to core ones
  std::map<std::string, int> classes;
  std::set<std::string> samples, patients;
  for (const Row& row : t->rows) {
    ++classes[row[Col(*t, "variant_classification")].as_string()];
    samples.insert(row[2].as_string());
    patients.insert(row[1].as_string());
  }
  EXPECT_EQ(classes["Missense_Mutation"], 40634);
  EXPECT_EQ(classes["Nonsense_Mutation"], 3260);
  EXPECT_EQ(classes["In_Frame_Ins"], 30);
  EXPECT_EQ(samples.size(), 398u);
  EXPECT_EQ(patients.size(), 388u);
  for (size_t i = 0; i < t->rows.size(); i += 997) ASSERT_TRUE(t->schema.ValidateRow(t->rows[i]).ok());
}

TEST(Maf, RealLamlGzipMafWithLowerCaseEndPosition) {
  auto t = ReadMaf(DataPath("laml-tcga-maftools/tcga_laml.maf.gz"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2207u);
  const Row& r = t->rows[0];
  EXPECT_EQ(r[0].as_string(), "TCGA-AB-2988:17:67170917:T>C");
  EXPECT_EQ(r[Col(*t, "patient_id")].as_string(), "TCGA-AB-2988");
  EXPECT_EQ(r[Col(*t, "end_position")].as_int(), 67170917);  // from "End_position"
  EXPECT_EQ(r[Col(*t, "hgvsp_short")].as_string(), "p.K960R");  // from Protein_Change
  EXPECT_TRUE(r[Col(*t, "t_alt_count")].is_null());
  EXPECT_TRUE(r[Col(*t, "vaf")].is_null());
  EXPECT_EQ(t->schema.columns[static_cast<size_t>(Col(*t, "i_tumorvaf_wu"))].type, DataType::Double());
  EXPECT_EQ(t->schema.columns[static_cast<size_t>(Col(*t, "ncbi_build"))].type, DataType::Bigint());
  EXPECT_EQ(t->source_columns[static_cast<size_t>(Col(*t, "tumor_seq_allele1"))], "Tumor_Seq_Allele1");
  std::set<std::string> samples;
  for (const Row& row : t->rows) samples.insert(row[2].as_string());
  EXPECT_EQ(samples.size(), 193u);
  EXPECT_TRUE(t->schema.Validate().ok());
}

TEST(Maf, MissingRequiredColumnsAreListed) {
  FixtureDir dir;
  std::string path = dir.Write("x.maf",
                               "Hugo_Symbol\tChromosome\tStart_Position\tEnd_Position\tVariant_Classification\t"
                               "Reference_Allele\tTumor_Seq_Allele2\n"
                               "TP53\t17\t1\t1\tMissense_Mutation\tC\tT\n");
  auto t = ReadMaf(path);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsInvalidArgument());
  EXPECT_EQ(t.status().message(), "x.maf: missing required MAF column(s): Variant_Type, Tumor_Sample_Barcode");
}

TEST(Maf, VersionLinesAreSkippedAndDuplicatesFollowTheDocumentedRule) {
  FixtureDir dir;
  std::string text = "#version 2.4\n#\n" + std::string(kHeader) + Record("TP53", "100", "S1") +
                     Record("TP53", "100", "S1") +           // exact duplicate: dropped
                     Record("TP53", "100", "S1", "11") +     // same id, other counts: "#2"
                     Record("EGFR", "200", "TCGA-06-0001-01A") + Record("TP53", "100", "S1", "12");
  auto t = ReadMaf(dir.Write("d.maf", text));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 4u);
  EXPECT_EQ(t->rows[0][0].as_string(), "S1:7:100:C>T");
  EXPECT_EQ(t->rows[1][0].as_string(), "S1:7:100:C>T#2");
  EXPECT_EQ(t->rows[3][0].as_string(), "S1:7:100:C>T#3");
  EXPECT_TRUE(t->rows[0][1].is_null());  // not a TCGA barcode: no patient id
  EXPECT_EQ(t->rows[2][1].as_string(), "TCGA-06-0001");
  EXPECT_EQ(t->source_lines, (std::vector<int64_t>{4, 6, 7, 8}));
  EXPECT_EQ(t->stats.duplicates_dropped, 1);
  EXPECT_EQ(t->stats.keys_disambiguated, 2);
  EXPECT_EQ(t->stats.records_read, 5);
}

TEST(Maf, BadStartPositionStrictAndQuarantine) {
  FixtureDir dir;
  std::string text = std::string(kHeader) + Record("TP53", "100", "S1") + Record("KRAS", "12x", "S1") +
                     Record("EGFR", "300", "") + Record("IDH1", "400", "S2", "3", "-1") + Record("NF1", "500", "S3");
  std::string path = dir.Write("m.maf", text);
  auto strict = ReadMaf(path);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().message(), "m.maf:3: column 'Start_Position': expected BIGINT, got '12x'");
  MafOptions o;
  o.mode = ErrorMode::kQuarantine;
  auto q = ReadMaf(path, o);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->rows.size(), 2u);
  ASSERT_EQ(q->rejected.size(), 3u);
  EXPECT_EQ(q->rejected[0].line, 3);
  EXPECT_EQ(q->rejected[0].column, "Start_Position");
  EXPECT_EQ(q->rejected[0].value, "12x");
  EXPECT_EQ(q->rejected[1].reason, "m.maf:4: column 'Tumor_Sample_Barcode': missing value");
  EXPECT_EQ(q->rejected[2].reason, "m.maf:5: column 't_alt_count': expected a non-negative count, got '-1'");
  EXPECT_EQ(q->rejected[2].raw_record + "\n", Record("IDH1", "400", "S2", "3", "-1"));
}

TEST(Maf, WrongFieldCountAndZeroDepth) {
  FixtureDir dir;
  std::string text = std::string(kHeader) + Record("TP53", "100", "S1", "0", "0") + "KRAS\t7\t200\n";
  auto t = ReadMaf(dir.Write("f.maf", text));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "f.maf:3: expected 12 fields, got 3");
  MafOptions o;
  o.mode = ErrorMode::kQuarantine;
  auto q = ReadMaf(dir.File("f.maf"), o);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->rows.size(), 1u);
  EXPECT_TRUE(q->rows[0][Col(*q, "vaf")].is_null());  // depth 0
  EXPECT_EQ(q->rows[0][Col(*q, "t_ref_count")].as_int(), 0);
  ASSERT_EQ(q->rejected.size(), 1u);
  EXPECT_EQ(q->rejected[0].reason, "f.maf:3: expected 12 fields, got 3");
}

}  // namespace
}  // namespace vesta::ingest
