#include "ingest/vcf.h"

#include <gtest/gtest.h>
#include <htslib/hts.h>
#include <htslib/vcf.h>

#include <map>
#include <set>
#include <string>

#include "test_util.h"

namespace vesta::ingest {
namespace {

using fixtures::DataPath;
using fixtures::FixtureDir;

constexpr std::string_view kHeader1 =
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=20>\n"
    "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
    "##FILTER=<ID=q10,Description=\"Quality below 10\">\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n";

// Column indices of the VCF row model.
enum Col { kKey, kChrom, kPos, kId, kRef, kAlt, kQual, kFilter, kSample, kGenotype };

// Converts a VCF to BCF with htslib (test fixture only).
std::string WriteBcf(const std::string& vcf_path, const std::string& bcf_path) {
  htsFile* in = hts_open(vcf_path.c_str(), "r");
  bcf_hdr_t* hdr = bcf_hdr_read(in);
  htsFile* out = hts_open(bcf_path.c_str(), "wb");
  EXPECT_EQ(bcf_hdr_write(out, hdr), 0);
  bcf1_t* rec = bcf_init();
  while (bcf_read(in, hdr, rec) == 0) EXPECT_EQ(bcf_write(out, hdr, rec), 0);
  bcf_destroy(rec);
  bcf_hdr_destroy(hdr);
  hts_close(out);
  hts_close(in);
  return bcf_path;
}

TEST(Vcf, SmallRealVcfGivesOneRowPerVariantAndSample) {
  auto t = ReadVcf(DataPath("vcf-glow/NA12878_21_10002403.vcf"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->schema.Validate().ok());
  EXPECT_EQ(t->schema.primary_key, "variant_key");
  ASSERT_EQ(t->rows.size(), 4u);
  const Row& r = t->rows[0];
  EXPECT_EQ(r[kKey].as_string(), "21:10002403:G:A:NA12878");
  EXPECT_EQ(r[kChrom].as_string(), "21");
  EXPECT_EQ(r[kPos].as_int(), 10002403);
  EXPECT_TRUE(r[kId].is_null());
  EXPECT_EQ(r[kRef].as_string(), "G");
  EXPECT_EQ(r[kAlt].as_string(), "A");
  EXPECT_NEAR(r[kQual].as_double(), 19.81, 1e-4);
  EXPECT_TRUE(r[kFilter].is_null());  // "."
  EXPECT_EQ(r[kSample].as_string(), "NA12878");
  EXPECT_EQ(r[kGenotype].as_string(), "0/1");
  EXPECT_EQ(t->source_lines, (std::vector<int64_t>{1, 2, 3, 4}));
  for (const Row& row : t->rows) ASSERT_TRUE(t->schema.ValidateRow(row).ok());
}

TEST(Vcf, CeuTrioSliceHas1075CallsWithTheirGenotypes) {
  auto t = ReadVcf(DataPath("vcf-glow/CEUTrio.HiSeq.WGS.b37.NA12878.20.21.vcf"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 1075u);
  std::map<std::string, int> genotypes;
  std::set<std::string> keys;
  for (const Row& r : t->rows) {
    ++genotypes[r[kGenotype].as_string()];
    keys.insert(r[kKey].as_string());
  }
  EXPECT_EQ(keys.size(), 1075u);
  EXPECT_EQ(genotypes, (std::map<std::string, int>{{"0/0", 1}, {"0/1", 881}, {"1/1", 181}, {"1/2", 12}}));
  VcfOptions o;
  o.drop_hom_ref_and_no_call = true;
  auto dropped = ReadVcf(DataPath("vcf-glow/CEUTrio.HiSeq.WGS.b37.NA12878.20.21.vcf"), o);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped->rows.size(), 1074u);
}

TEST(Vcf, ThousandGenomesRowExpandsTo2504PhasedSamples) {
  auto t = ReadVcf(DataPath("vcf-glow/1000genomes-phase3-1row.vcf"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2504u);
  EXPECT_EQ(t->rows[0][kKey].as_string(), "1:10235:T:TA:HG00096");
  EXPECT_EQ(t->rows[0][kId].as_string(), "rs540431307");
  EXPECT_EQ(t->rows[0][kFilter].as_string(), "PASS");
  EXPECT_EQ(t->rows[0][kGenotype].as_string(), "0|0");
  VcfOptions o;
  o.drop_hom_ref_and_no_call = true;
  auto carriers = ReadVcf(DataPath("vcf-glow/1000genomes-phase3-1row.vcf"), o);
  ASSERT_TRUE(carriers.ok());
  ASSERT_EQ(carriers->rows.size(), 6u);  // 2 x 0|1 and 4 x 1|0
  for (const Row& r : carriers->rows) EXPECT_NE(r[kGenotype].as_string(), "0|0");
}

TEST(Vcf, GzipCompressedVcfIsRead) {
  auto t = ReadVcf(DataPath("vcf-glow/gwas/genotypes.vcf.gz"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows.size(), 13u * 2504u);
  EXPECT_EQ(t->stats.records_read, 13);
  VcfOptions o;
  o.drop_hom_ref_and_no_call = true;
  auto carriers = ReadVcf(DataPath("vcf-glow/gwas/genotypes.vcf.gz"), o);
  ASSERT_TRUE(carriers.ok());
  EXPECT_EQ(carriers->rows.size(), 101u);  // 49 x 0|1, 51 x 1|0, 1 x 1|1
}

TEST(Vcf, GvcfReferenceBlocksKeepSymbolicAlleles) {
  auto t = ReadVcf(DataPath("vcf-glow/NA12878_21_10002403.g.vcf"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 16u);
  EXPECT_EQ(t->rows[0][kAlt].as_string(), "<NON_REF>");
  EXPECT_TRUE(t->rows[0][kQual].is_null());
}

TEST(Vcf, SitesOnlyFileGivesOneRowPerVariant) {
  FixtureDir dir;
  std::string path = dir.Write("sites.vcf",
                               "##fileformat=VCFv4.2\n##contig=<ID=20>\n"
                               "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                               "20\t100\trs1\tA\tG,T\t.\tPASS\t.\n"
                               "20\t200\t.\tC\t.\t7.5\t.\t.\n");
  auto t = ReadVcf(path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][kKey].as_string(), "20:100:A:G,T");
  EXPECT_EQ(t->rows[0][kAlt].as_string(), "G,T");
  EXPECT_TRUE(t->rows[0][kQual].is_null());
  EXPECT_TRUE(t->rows[0][kSample].is_null());
  EXPECT_TRUE(t->rows[0][kGenotype].is_null());
  EXPECT_EQ(t->rows[1][kKey].as_string(), "20:200:C:.");
  EXPECT_TRUE(t->rows[1][kAlt].is_null());
  EXPECT_EQ(t->rows[1][kQual].as_double(), 7.5);
  for (const Row& row : t->rows) ASSERT_TRUE(t->schema.ValidateRow(row).ok());
}

TEST(Vcf, GenotypeStringsCoverPhasingHaploidAndMissingCalls) {
  FixtureDir dir;
  std::string path = dir.Write("multi.vcf",
                               "##fileformat=VCFv4.2\n##contig=<ID=20>\n"
                               "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
                               "##FILTER=<ID=q10,Description=\"low\">\n##FILTER=<ID=s50,Description=\"few\">\n"
                               "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB\tC\tD\n"
                               "20\t100\t.\tA\tG\t50\tq10;s50\t.\tGT\t0/1\t1|1\t./.\t0/0\n"
                               "20\t100\t.\tA\tG\t50\tPASS\t.\tGT\t1\t.\t0|1\t0\n");
  auto t = ReadVcf(path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 8u);
  std::vector<std::string> gts;
  for (const Row& r : t->rows) gts.push_back(r[kGenotype].as_string());
  EXPECT_EQ(gts, (std::vector<std::string>{"0/1", "1|1", "./.", "0/0", "1", ".", "0|1", "0"}));
  EXPECT_EQ(t->rows[0][kFilter].as_string(), "q10;s50");
  // The repeated site gets "#2" keys.
  EXPECT_EQ(t->rows[4][kKey].as_string(), "20:100:A:G:A#2");
  EXPECT_EQ(t->stats.keys_disambiguated, 4);
  VcfOptions o;
  o.drop_hom_ref_and_no_call = true;
  auto kept = ReadVcf(path, o);
  ASSERT_TRUE(kept.ok());
  std::vector<std::string> kept_gts;
  for (const Row& r : kept->rows) kept_gts.push_back(r[kGenotype].as_string());
  EXPECT_EQ(kept_gts, (std::vector<std::string>{"0/1", "1|1", "1", "0|1"}));
}

TEST(Vcf, BcfGivesTheSameRowsAsItsVcf) {
  FixtureDir dir;
  std::string bcf = WriteBcf(DataPath("vcf-glow/NA12878_21_10002403.g.vcf"), dir.File("g.bcf"));
  auto from_bcf = ReadVcf(bcf);
  ASSERT_TRUE(from_bcf.ok()) << from_bcf.status().ToString();
  auto from_vcf = ReadVcf(DataPath("vcf-glow/NA12878_21_10002403.g.vcf"));
  ASSERT_TRUE(from_vcf.ok());
  EXPECT_EQ(from_bcf->rows, from_vcf->rows);
  // A truncated BCF (bgzf) fails with the record number instead of returning garbage.
  std::string bytes = fixtures::ReadAll(bcf);
  auto cut = ReadVcf(dir.Write("cut.bcf", bytes.substr(0, bytes.size() / 2)));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().message().rfind("cut.bcf: ", 0), 0u) << cut.status().message();
}

TEST(VcfErrors, GarbageInPosNamesTheRecord) {
  FixtureDir dir;
  std::string path = dir.Write("bad.vcf", std::string(kHeader1) +
                                              "20\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n"
                                              "20\tabc\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n");
  auto t = ReadVcf(path);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsInvalidArgument());
  EXPECT_EQ(t.status().message(), "bad.vcf: record 2: POS 'abc' is not a positive integer");
}

TEST(VcfErrors, TruncatedRecordIsReported) {
  FixtureDir dir;
  std::string full = std::string(kHeader1) + "20\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n" +
                     "20\t200\t.\tC\tT\t50\tPASS\t.\tGT\t1/1\n" + "20\t300\t.\tG\tA\t50\tPASS\t.\tGT\t0/1\n";
  std::string cut = full.substr(0, full.size() - 21);  // ends inside record 3: "20\t300\t.\tG"
  auto t = ReadVcf(dir.Write("trunc.vcf", cut));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "trunc.vcf: record 3: expected 10 tab-separated columns (8 fixed, FORMAT, 1 sample), got 4");
  auto qual = ReadVcf(dir.Write("qual.vcf", std::string(kHeader1) + "20\t100\t.\tA\tG\thigh\tPASS\t.\tGT\t0/1\n"));
  ASSERT_FALSE(qual.ok());
  EXPECT_EQ(qual.status().message(), "qual.vcf: record 1: QUAL 'high' is not a number or '.'");
}

TEST(VcfErrors, TruncatedGzipVcfFailsInsteadOfReturningAPrefix) {
  FixtureDir dir;
  std::string gz = fixtures::ReadAll(DataPath("vcf-glow/gwas/genotypes.vcf.gz"));
  ASSERT_GT(gz.size(), 10000u);
  auto t = ReadVcf(dir.Write("cut.vcf.gz", gz.substr(0, 10000)));  // inside the data records
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message().rfind("cut.vcf.gz: record ", 0), 0u) << t.status().message();
  auto h = ReadVcf(dir.Write("cuthdr.vcf.gz", gz.substr(0, 4000)));  // inside the header
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(), "cuthdr.vcf.gz: cannot parse the VCF header");
}

TEST(VcfErrors, RecordHtslibCannotParseIsReportedWithItsText) {
  FixtureDir dir;
  std::string path = dir.Write("gt.vcf", std::string(kHeader1) + "20\t100\t.\tA\tG\t50\tPASS\t.\tGT\tx/y\n");
  auto t = ReadVcf(path);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "gt.vcf: record 1: htslib could not parse the record: 20\\t100\\t.\\tA\\tG\\t50\\tPASS\\t.\\tGT\\tx/y");
}

TEST(VcfErrors, QuarantineSkipsBadRecordsAndKeepsReading) {
  FixtureDir dir;
  std::string path = dir.Write("mixed.vcf", std::string(kHeader1) +
                                                "20\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n"
                                                "20\tabc\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n"
                                                "20\t300\t.\tA\tG\t50\tPASS\t.\tGT\tx/y\n"
                                                "20\t400\t.\tA\tG\t50\tq10\t.\tGT\t1/1\n");
  VcfOptions o;
  o.mode = ErrorMode::kQuarantine;
  auto t = ReadVcf(path, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[1][kPos].as_int(), 400);
  EXPECT_EQ(t->rows[1][kFilter].as_string(), "q10");
  EXPECT_EQ(t->source_lines, (std::vector<int64_t>{1, 4}));
  ASSERT_EQ(t->rejected.size(), 2u);
  EXPECT_EQ(t->rejected[0].line, 2);
  EXPECT_EQ(t->rejected[0].reason, "mixed.vcf: record 2: POS 'abc' is not a positive integer");
  EXPECT_EQ(t->rejected[0].raw_record, "20\tabc\t.\tA\tG\t50\tPASS\t.\tGT\t0/1");
  EXPECT_EQ(t->rejected[1].line, 3);
}

TEST(VcfErrors, CorruptHeaderAndUnreadableFilesAreErrors) {
  FixtureDir dir;
  auto no_chrom = ReadVcf(dir.Write("nochrom.vcf", "##fileformat=VCFv4.2\n20\t100\t.\tA\tG\t50\tPASS\t.\n"));
  ASSERT_FALSE(no_chrom.ok());
  EXPECT_EQ(no_chrom.status().message(), "nochrom.vcf: cannot parse the VCF header");
  auto short_chrom = ReadVcf(dir.Write("short.vcf", "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\n"));
  ASSERT_FALSE(short_chrom.ok());
  EXPECT_EQ(short_chrom.status().message(), "short.vcf: cannot parse the VCF header");
  auto text = ReadVcf(dir.Write("text.vcf", "this is not\na vcf file\n"));
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(), "text.vcf: not a VCF or BCF file (htslib detects: unknown text)");
  auto missing = ReadVcf(dir.File("none.vcf"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_EQ(missing.status().message(), "none.vcf: cannot open: No such file or directory");
}

}  // namespace
}  // namespace vesta::ingest
