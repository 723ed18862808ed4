#include "ingest/delimited.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <string>

#include "ingest/vecs.h"
#include "test_util.h"

namespace vesta::ingest {
namespace {

using fixtures::DataPath;
using fixtures::FixtureDir;

// Reads `text` as "data.csv" (comma) with `options`.
Result<TypedTable> ReadCsvText(std::string_view text, DelimitedOptions options = {}) {
  return ParseDelimited(text, "data.csv", options);
}

void ExpectRowsValid(const TypedTable& t) {
  ASSERT_EQ(t.rows.size(), t.source_lines.size());
  ASSERT_EQ(t.source_columns.size(), t.schema.columns.size());
  for (const Row& row : t.rows) {
    Status st = t.schema.ValidateRow(row);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
}

// ---------------------------------------------------------------- tokenising

TEST(CsvTokenizer, ParsesQuotedFieldsWithDelimitersDoubledQuotesAndNewlines) {
  DelimitedOptions o;
  auto raw = ParseDelimitedRaw(
      std::vector<char>{}, "x.csv", o);  // empty input is an error; checked separately
  EXPECT_FALSE(raw.ok());
  std::string text =
      "id,note,score\n"
      "1,\"a, b\",1.5\n"
      "2,\"say \"\"hi\"\"\",2\n"
      "3,\"line1\nline2\",3\n"
      "4,plain,4\n";
  auto r = ParseDelimitedRaw(std::vector<char>(text.begin(), text.end()), "data.csv", o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->num_columns(), 3u);
  ASSERT_EQ(r->num_records(), 4u);
  EXPECT_EQ(r->cell(0, 1), "a, b");
  EXPECT_EQ(r->cell(1, 1), "say \"hi\"");
  EXPECT_EQ(r->cell(2, 1), "line1\nline2");
  EXPECT_EQ(r->cell(3, 1), "plain");
  EXPECT_EQ(r->line(0), 2);
  EXPECT_EQ(r->line(2), 4);
  EXPECT_EQ(r->line(3), 6);  // the quoted newline moved the next record down a line
  EXPECT_EQ(r->raw_record(1), "2,\"say \"\"hi\"\"\",2");
}

TEST(CsvTokenizer, HandlesBomCrlfAndMissingFinalNewline) {
  auto t = ReadCsvText("\xEF\xBB\xBFname,v\r\nalpha,1\r\n\"two\r\nlines\",2\r\nlast,3");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->schema.columns.size(), 2u);
  EXPECT_EQ(t->schema.columns[0].name, "name");  // BOM stripped
  EXPECT_EQ(t->schema.columns[1].type, DataType::Bigint());
  ASSERT_EQ(t->rows.size(), 3u);
  EXPECT_EQ(t->rows[0][0].as_string(), "alpha");
  EXPECT_EQ(t->rows[1][0].as_string(), "two\r\nlines");  // quoted CRLF is data
  EXPECT_EQ(t->rows[2][0].as_string(), "last");
  EXPECT_EQ(t->rows[2][1].as_int(), 3);
  EXPECT_EQ(t->source_lines, (std::vector<int64_t>{2, 3, 5}));
  ExpectRowsValid(*t);
}

TEST(CsvTokenizer, SkipsBlankLinesAndKeepsTrailingEmptyField) {
  auto t = ReadCsvText("a,b\n\n1,\n\r\n2,x\n\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_TRUE(t->rows[0][1].is_null());
  EXPECT_EQ(t->rows[1][1].as_string(), "x");
  EXPECT_EQ(t->source_lines, (std::vector<int64_t>{3, 5}));
}

TEST(CsvTokenizer, ChoosesDelimiterFromExtensionOrFirstLine) {
  FixtureDir dir;
  auto tsv = ReadDelimited(dir.Write("t.tsv", "a\tb\n1,5\t2\n"), {});
  ASSERT_TRUE(tsv.ok()) << tsv.status().ToString();
  ASSERT_EQ(tsv->schema.columns.size(), 2u);
  EXPECT_EQ(tsv->rows[0][0].as_string(), "1,5");
  auto csv = ReadDelimited(dir.Write("t.csv", "a\tb,c\n1,2\n"), {});
  ASSERT_TRUE(csv.ok()) << csv.status().ToString();
  EXPECT_EQ(csv->schema.columns.size(), 2u);
  auto sniffed = ReadDelimited(dir.Write("t.data", "a\tb\n1\t2\n"), {});
  ASSERT_TRUE(sniffed.ok()) << sniffed.status().ToString();
  EXPECT_EQ(sniffed->schema.columns.size(), 2u);
  DelimitedOptions semi;
  semi.delimiter = ';';
  auto given = ReadDelimited(dir.Write("t.csv2", "a;b\n1;2\n"), semi);
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->schema.columns.size(), 2u);
}

TEST(CsvTokenizer, ReadsGzipTransparentlyAndRejectsTruncatedGzip) {
  FixtureDir dir;
  std::string text = "id,v\n";
  for (int i = 0; i < 5000; ++i) text += std::to_string(i) + "," + std::to_string(i * 0.5) + "\n";
  auto t = ReadDelimited(dir.WriteGzip("big.csv.gz", text), {});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->source, "big.csv.gz");
  EXPECT_EQ(t->rows.size(), 5000u);
  EXPECT_EQ(t->schema.columns[1].type, DataType::Double());

  std::string gz = fixtures::ReadAll(dir.File("big.csv.gz"));
  auto cut = ReadDelimited(dir.Write("cut.csv.gz", gz.substr(0, gz.size() / 2)), {});
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("cut.csv.gz: corrupt or truncated gzip data"), std::string::npos)
      << cut.status().message();
}

TEST(CsvTokenizer, MissingFileIsNotFound) {
  auto t = ReadDelimited("/nonexistent/dir/none.csv", {});
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsNotFound());
  EXPECT_EQ(t.status().message(), "none.csv: cannot open: No such file or directory");
}

TEST(CsvErrors, WrongFieldCountStrictNamesFileLineAndCounts) {
  auto t = ReadCsvText("a,b,c,d,e\n1,2,3,4,5\n1,2,3,4,5\n1,2,3,4,5\n1,2,3,4,5\n1,2,3,4,5\n1,2,3,4\n1,2,3,4,5\n");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsInvalidArgument());
  EXPECT_EQ(t.status().message(), "data.csv:7: expected 5 fields, got 4");
}

TEST(CsvErrors, WrongFieldCountQuarantineRejectsOnlyThatRecord) {
  DelimitedOptions o;
  o.mode = ErrorMode::kQuarantine;
  auto t = ReadCsvText("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n", o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->source_lines, (std::vector<int64_t>{2, 5}));
  ASSERT_EQ(t->rejected.size(), 2u);
  EXPECT_EQ(t->rejected[0].source, "data.csv");
  EXPECT_EQ(t->rejected[0].line, 3);
  EXPECT_EQ(t->rejected[0].reason, "data.csv:3: expected 3 fields, got 2");
  EXPECT_EQ(t->rejected[0].raw_record, "4,5");
  EXPECT_EQ(t->rejected[1].reason, "data.csv:4: expected 3 fields, got 4");
  EXPECT_EQ(t->stats.records_read, 4);
  EXPECT_EQ(t->stats.rows_rejected, 2);
}

TEST(CsvErrors, UnterminatedQuoteFailsEvenInQuarantine) {
  for (ErrorMode mode : {ErrorMode::kStrict, ErrorMode::kQuarantine}) {
    DelimitedOptions o;
    o.mode = mode;
    auto t = ReadCsvText("a,b\n1,2\n3,\"open\n4,5\n", o);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().message(), "data.csv:3: field 2: unterminated quote at end of file");
  }
}

TEST(CsvErrors, TextAfterClosingQuoteIsARecordError) {
  auto strict = ReadCsvText("a,b\n1,\"x\"y\n2,3\n");
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().message(), "data.csv:2: field 2: unexpected character 'y' after closing quote");
  DelimitedOptions o;
  o.mode = ErrorMode::kQuarantine;
  auto q = ReadCsvText("a,b\n1,\"x\"y\n2,3\n", o);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->rows.size(), 1u);
  EXPECT_EQ(q->rows[0][0].as_int(), 2);
  ASSERT_EQ(q->rejected.size(), 1u);
  EXPECT_EQ(q->rejected[0].line, 2);
  EXPECT_EQ(q->rejected[0].raw_record, "1,\"x\"y");
}

TEST(CsvErrors, EmptyInputAndDuplicateHeaderAreErrors) {
  auto empty = ParseDelimited("", "empty.csv", {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "empty.csv: empty input: no header line");
  auto blank = ParseDelimited("\xEF\xBB\xBF\n\r\n", "blank.csv", {});
  ASSERT_FALSE(blank.ok());
  EXPECT_EQ(blank.status().message(), "blank.csv: empty input: no header line");
  auto dup = ReadCsvText("a,b,a\n1,2,3\n");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "data.csv:1: duplicate column name 'a' (columns 1 and 3)");
}

TEST(CsvErrors, HeaderOnlyGivesEmptyTable) {
  auto t = ReadCsvText("a,b\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->rows.size(), 0u);
  EXPECT_EQ(t->schema.columns.size(), 2u);
  EXPECT_EQ(t->schema.columns[0].type, DataType::String());
}

// ---------------------------------------------------------------- inference

TEST(SchemaInference, ChoosesBigintDoubleBooleanDateTimestampOrString) {
  auto t = ReadCsvText(
      "i,d,b,dt,ts,s,none,big\n"
      "1,1.5,true,2024-01-31,2024-01-31T10:00:00Z,x,,99999999999999999999\n"
      "-2,2,FALSE,2023-12-01,2024-02-01 08:30:00.250,7,NA,1\n"
      ",1e-3,,,,,,\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const auto& c = t->schema.columns;
  EXPECT_EQ(c[0].type, DataType::Bigint());
  EXPECT_EQ(c[1].type, DataType::Double());
  EXPECT_EQ(c[2].type, DataType::Boolean());
  EXPECT_EQ(c[3].type, DataType::DateT());
  EXPECT_EQ(c[4].type, DataType::TimestampT());
  EXPECT_EQ(c[5].type, DataType::String());
  EXPECT_EQ(c[6].type, DataType::String());  // all NA
  EXPECT_EQ(c[7].type, DataType::Double());  // past int64
  EXPECT_EQ(t->rows[1][0].as_int(), -2);
  EXPECT_FALSE(t->rows[1][2].as_bool());
  EXPECT_EQ(FormatDate(t->rows[0][3].as_date()), "2024-01-31");
  EXPECT_EQ(FormatTimestamp(t->rows[1][4].as_timestamp()), "2024-02-01T08:30:00.250000Z");
  EXPECT_EQ(t->rows[1][5].as_string(), "7");
  EXPECT_TRUE(t->rows[2][0].is_null());
  ExpectRowsValid(*t);
}

TEST(SchemaInference, NaTokensAreNullInEveryColumnType) {
  auto t = ReadCsvText(
      "n,s\n"
      "1,a\n"
      "NA,N/A\n"
      "[Not Available],[Unknown]\n"
      " . ,NaN\n"
      "null,[Discrepancy]\n"
      "[Not Applicable],[Not Evaluated]\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->schema.columns[0].type, DataType::Bigint());
  for (size_t r = 1; r < t->rows.size(); ++r) {
    EXPECT_TRUE(t->rows[r][0].is_null()) << r;
    EXPECT_TRUE(t->rows[r][1].is_null()) << r;
  }
  // A custom list replaces the default one.
  DelimitedOptions o;
  o.na_tokens = {"", "-999"};
  auto custom = ReadCsvText("n,s\n1,NA\n-999,x\n", o);
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(custom->schema.columns[0].type, DataType::Bigint());
  EXPECT_TRUE(custom->rows[1][0].is_null());
  EXPECT_EQ(custom->rows[0][1].as_string(), "NA");
}

TEST(SchemaInference, LeadingZerosKeepIdentifiersAsStrings) {
  auto t = ReadCsvText("zip,x\n02139,0\n10001,0.5\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->schema.columns[0].type, DataType::String());
  EXPECT_EQ(t->rows[0][0].as_string(), "02139");
  EXPECT_EQ(t->schema.columns[1].type, DataType::Double());
}

TEST(SchemaInference, DatesWrittenWithDotsOrSlashesAreDates) {
  auto t = ReadCsvText("d\n1996.08.23\n2001/02/03\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->schema.columns[0].type, DataType::DateT());
  EXPECT_EQ(FormatDate(t->rows[0][0].as_date()), "1996-08-23");
  EXPECT_EQ(FormatDate(t->rows[1][0].as_date()), "2001-02-03");
}

// ---------------------------------------------------------------- conversion errors

TEST(TypedConversion, BadNumberStrictNamesFileLineColumnValueAndType) {
  DelimitedOptions o;
  o.type_overrides = {{"AGE", DataType::Bigint()}};
  auto t = ReadCsvText("ID,AGE\nP1,30\nP2,abc\nP3,x\n", o);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsInvalidArgument());
  EXPECT_EQ(t.status().message(), "data.csv:3: column 'AGE': expected BIGINT, got 'abc'");
}

TEST(TypedConversion, QuarantineReturnsGoodRowsAndListsBadOnes) {
  DelimitedOptions o;
  o.mode = ErrorMode::kQuarantine;
  o.type_overrides = {{"AGE", DataType::Bigint()}, {"WEIGHT", DataType::Double()}};
  auto t = ReadCsvText("ID,AGE,WEIGHT\nP1,30,70.5\nP2,abc,80\nP3,40,heavy\nP4,,\nP5,50\n", o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->source_lines, (std::vector<int64_t>{2, 5}));
  EXPECT_TRUE(t->rows[1][1].is_null());
  ASSERT_EQ(t->rejected.size(), 3u);
  const Rejected& r0 = t->rejected[0];
  EXPECT_EQ(r0.source, "data.csv");
  EXPECT_EQ(r0.line, 3);
  EXPECT_EQ(r0.column, "AGE");
  EXPECT_EQ(r0.value, "abc");
  EXPECT_EQ(r0.reason, "data.csv:3: column 'AGE': expected BIGINT, got 'abc'");
  EXPECT_EQ(r0.raw_record, "P2,abc,80");
  EXPECT_EQ(t->rejected[1].reason, "data.csv:4: column 'WEIGHT': expected DOUBLE, got 'heavy'");
  EXPECT_EQ(t->rejected[2].reason, "data.csv:6: expected 3 fields, got 2");
  EXPECT_EQ(t->stats.rows_rejected, 3);
  ExpectRowsValid(*t);
}

TEST(TypedConversion, StrictReportsTheEarliestProblemAcrossStages) {
  DelimitedOptions o;
  o.type_overrides = {{"n", DataType::Bigint()}};
  auto type_first = ReadCsvText("n,m\n1,2\nx,2\n3\n", o);
  ASSERT_FALSE(type_first.ok());
  EXPECT_EQ(type_first.status().message(), "data.csv:3: column 'n': expected BIGINT, got 'x'");
  auto count_first = ReadCsvText("n,m\n1,2\n3\nx,2\n", o);
  ASSERT_FALSE(count_first.ok());
  EXPECT_EQ(count_first.status().message(), "data.csv:3: expected 2 fields, got 1");
}

TEST(TypedConversion, VectorOverrideParsesBracketCellsAndChecksLength) {
  DelimitedOptions o;
  o.type_overrides = {{"emb", DataType::Vector(3)}};
  o.primary_key = "id";
  auto t = ReadCsvText("id,emb\n1,\"[1, 2.5, -3]\"\n2,\"[4,5,6]\"\n3,\n", o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->schema.columns[1].type, DataType::Vector(3));
  EXPECT_EQ(t->rows[0][1].as_vector(), (std::vector<float>{1.0f, 2.5f, -3.0f}));
  EXPECT_TRUE(t->rows[2][1].is_null());
  ExpectRowsValid(*t);

  auto bad = ReadCsvText("id,emb\n1,\"[1, 2, 3]\"\n2,\"[1,2]\"\n", o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "data.csv:3: column 'emb': expected VECTOR(3), got 2 values");
}

// ---------------------------------------------------------------- names, keys

TEST(ColumnNames, AreSanitisedAndMadeUniqueWithTheMappingKept) {
  auto t = ReadCsvText("CDR_OS.time,2nd,Overall Survival (Months),a.b,a_b,,AGE,age,__x\n1,2,3,4,5,6,7,8,9\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::vector<std::string> names;
  for (const Column& c : t->schema.columns) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"CDR_OS_time", "_2nd", "Overall_Survival_Months", "a_b", "a_b_2",
                                             "column_6", "AGE", "age_2", "_x"}));
  EXPECT_EQ(t->source_columns[0], "CDR_OS.time");
  EXPECT_EQ(t->source_columns[2], "Overall Survival (Months)");
  EXPECT_EQ(t->FindColumn("cdr_os_time"), 0);
  EXPECT_EQ(SanitizeIdentifier("Hugo_Symbol", 1, true), "hugo_symbol");
  EXPECT_EQ(SanitizeIdentifier("a . _b", 1), "a_b");
  EXPECT_EQ(SanitizeIdentifier("%%%", 4), "column_4");
}

TEST(ColumnNames, RenamesAndOverridesAcceptInputOrFinalNames) {
  DelimitedOptions o;
  o.renames = {{"CDR_OS.time", "os_days"}};
  o.type_overrides = {{"os_days", DataType::Double()}, {"Overall Survival", DataType::String()}};
  auto t = ReadCsvText("CDR_OS.time,Overall Survival\n10,20\n", o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->schema.columns[0].name, "os_days");
  EXPECT_EQ(t->schema.columns[0].type, DataType::Double());
  EXPECT_EQ(t->schema.columns[1].type, DataType::String());

  DelimitedOptions unknown;
  unknown.type_overrides = {{"nope", DataType::Bigint()}};
  auto u = ReadCsvText("a\n1\n", unknown);
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message(), "data.csv: type override for unknown column 'nope'");

  DelimitedOptions bad_rename;
  bad_rename.renames = {{"a", "not valid"}};
  auto b = ReadCsvText("a\n1\n", bad_rename);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "rename of 'a': 'not valid' is not an identifier");
}

TEST(PrimaryKey, MustExistBeNonNullAndUnique) {
  DelimitedOptions o;
  o.primary_key = "nope";
  auto missing = ReadCsvText("id,v\n1,2\n", o);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "data.csv: primary key column 'nope' not found");

  o.primary_key = "id";
  auto ok = ReadCsvText("id,v\n1,2\n2,3\n", o);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->schema.primary_key, "id");
  EXPECT_FALSE(ok->schema.columns[0].nullable);
  EXPECT_TRUE(ok->schema.Validate().ok()) << ok->schema.Validate().ToString();

  auto null_key = ReadCsvText("id,v\n1,2\n,3\n", o);
  ASSERT_FALSE(null_key.ok());
  EXPECT_EQ(null_key.status().message(), "data.csv:3: column 'id': NULL primary key");

  auto dup = ReadCsvText("id,v\n1,2\n2,3\n1,4\n", o);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "data.csv:4: column 'id': duplicate primary key '1' (first at line 2)");

  o.mode = ErrorMode::kQuarantine;
  auto q = ReadCsvText("id,v\n1,2\n2,3\n1,4\n,5\n", o);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->rows.size(), 2u);
  ASSERT_EQ(q->rejected.size(), 2u);
  EXPECT_EQ(q->rejected[0].column, "id");
  EXPECT_EQ(q->rejected[0].value, "1");

  // A key that looks like a DOUBLE becomes STRING (keys are BIGINT or STRING).
  o.mode = ErrorMode::kStrict;
  auto dbl = ReadCsvText("id,v\n1.5,2\n2.5,3\n", o);
  ASSERT_TRUE(dbl.ok());
  EXPECT_EQ(dbl->schema.columns[0].type, DataType::String());
  EXPECT_TRUE(dbl->schema.Validate().ok());
}

// ---------------------------------------------------------------- vector assembly

constexpr std::string_view kFeatures =
    "id,age,f_a,f_b,g_c\n"
    "P1,30,1,2,10\n"
    "P2,40,,4,20\n"
    "P3,50,3,,\n";

TEST(VectorAssembly, PrefixesWithMeanImputationReportCounts) {
  DelimitedOptions o;
  o.primary_key = "id";
  o.vectors = {VectorAssembly{"feat", {}, {"f_", "g_"}, "", MissingCellPolicy::kImputeMean, false}};
  auto t = ReadCsvText(kFeatures, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->schema.columns.size(), 3u);
  EXPECT_EQ(t->schema.columns[2].name, "feat");
  EXPECT_EQ(t->schema.columns[2].type, DataType::Vector(3));
  EXPECT_EQ(t->rows[0][2].as_vector(), (std::vector<float>{1, 2, 10}));
  EXPECT_EQ(t->rows[1][2].as_vector(), (std::vector<float>{2, 4, 20}));   // f_a: mean of 1 and 3
  EXPECT_EQ(t->rows[2][2].as_vector(), (std::vector<float>{3, 3, 15}));   // f_b: mean 3, g_c: mean 15
  ASSERT_EQ(t->vectors.size(), 1u);
  const VectorAssemblyReport& rep = t->vectors[0];
  EXPECT_EQ(rep.components, (std::vector<std::string>{"f_a", "f_b", "g_c"}));
  EXPECT_EQ(rep.imputed, (std::vector<int64_t>{1, 1, 1}));
  EXPECT_EQ(rep.imputed_total, 3);
  EXPECT_EQ(rep.fill_values, (std::vector<double>{2, 3, 15}));
  EXPECT_TRUE(t->schema.Validate().ok());
  ExpectRowsValid(*t);
}

TEST(VectorAssembly, ErrorPolicyFailsOrQuarantinesRowsWithMissingCells) {
  DelimitedOptions o;
  o.vectors = {VectorAssembly{"feat", {}, {}, "age", MissingCellPolicy::kError, false}};
  auto strict = ReadCsvText(kFeatures, o);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().message(),
            "data.csv:3: column 'f_a': missing value for VECTOR(3) column 'feat' (missing-cell policy kError)");
  o.mode = ErrorMode::kQuarantine;
  auto q = ReadCsvText(kFeatures, o);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->rows.size(), 1u);
  ASSERT_EQ(q->rejected.size(), 2u);
  EXPECT_EQ(q->rejected[1].line, 4);
  EXPECT_EQ(q->rejected[1].column, "f_b");
  EXPECT_EQ(q->rejected[1].value, "");
  EXPECT_EQ(q->vectors[0].imputed_total, 0);
}

TEST(VectorAssembly, ZeroPolicyExplicitListAndKeptSourceColumns) {
  DelimitedOptions o;
  o.vectors = {VectorAssembly{"feat", {"g_c", "f_a"}, {}, "", MissingCellPolicy::kZero, true}};
  auto t = ReadCsvText(kFeatures, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::vector<std::string> names;
  for (const Column& c : t->schema.columns) names.push_back(c.name);
  // The vector sits where its first component (in file order) was; sources kept.
  EXPECT_EQ(names, (std::vector<std::string>{"id", "age", "feat", "f_a", "f_b", "g_c"}));
  EXPECT_EQ(t->rows[1][2].as_vector(), (std::vector<float>{20, 0}));
  EXPECT_EQ(t->rows[2][2].as_vector(), (std::vector<float>{0, 3}));
  EXPECT_EQ(t->vectors[0].imputed, (std::vector<int64_t>{1, 1}));
  ExpectRowsValid(*t);
}

TEST(VectorAssembly, NonNumericComponentNamesTheComponent) {
  DelimitedOptions o;
  o.vectors = {VectorAssembly{"feat", {}, {"f_", "g_"}, "", MissingCellPolicy::kZero, false}};
  auto t = ReadCsvText("id,f_a,f_b,g_c\nP1,1,x,3\n", o);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "data.csv:2: column 'f_b': expected DOUBLE (component 2 of VECTOR(3) column 'feat'), got 'x'");
}

TEST(VectorAssembly, AllEmptyColumnHasNoMeanAndIsZeroFilledAndReported) {
  DelimitedOptions o;
  o.vectors = {VectorAssembly{"feat", {}, {"f_"}, "", MissingCellPolicy::kImputeMean, false}};
  auto t = ReadCsvText("id,f_a,f_b\nP1,1,\nP2,2,\n", o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows[1][1].as_vector(), (std::vector<float>{2, 0}));
  EXPECT_EQ(t->vectors[0].empty_components, (std::vector<std::string>{"f_b"}));
  EXPECT_EQ(t->vectors[0].imputed, (std::vector<int64_t>{0, 2}));
}

TEST(VectorAssembly, BadSpecsAreErrors) {
  DelimitedOptions two;
  two.vectors = {VectorAssembly{"feat", {"f_a"}, {"f_"}, "", MissingCellPolicy::kZero, false}};
  EXPECT_FALSE(two.Validate().ok());
  DelimitedOptions none;
  none.vectors = {VectorAssembly{"feat", {}, {"zz_"}, "", MissingCellPolicy::kZero, false}};
  auto n = ReadCsvText("id,f_a\nP1,1\n", none);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(), "data.csv: vector 'feat' selects 0 columns; need 1..4096");
}

// ---------------------------------------------------------------- cBioPortal

TEST(Cbioportal, SkipsHashLinesAndUsesTheDatatypeLine) {
  std::string text =
      "#Patient Identifier\tStage\tDiagnosis Age\tOS\n"
      "#Identifier\tStage code\tAge at diagnosis\tMonths\n"
      "#STRING\tSTRING\tNUMBER\tNUMBER\n"
      "#1\t1\t1\t1\n"
      "PATIENT_ID\tSTAGE\tAGE\tOS_MONTHS\n"
      "TCGA-02-0001\t4\t61\t16.5\n"
      "TCGA-02-0002\t\t[Not Available]\t3";  // no final newline, as cBioPortal exports
  FixtureDir dir;
  DelimitedOptions o = DelimitedOptions::CbioportalClinical();
  o.primary_key = "PATIENT_ID";
  auto raw = ReadDelimitedRaw(dir.Write("data_clinical_patient.txt", text), o);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->comment_lines().size(), 4u);
  EXPECT_EQ(raw->comment_lines()[0].substr(0, 18), "Patient Identifier");
  EXPECT_EQ(raw->cbioportal_types(), (std::vector<std::string>{"STRING", "STRING", "NUMBER", "NUMBER"}));
  EXPECT_EQ(raw->header_line(), 5);
  auto t = ConvertRawTable(*raw, o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->schema.columns[1].type, DataType::String());  // the hint beats inference ("4" stays text)
  EXPECT_EQ(t->schema.columns[2].type, DataType::Bigint());
  EXPECT_EQ(t->schema.columns[3].type, DataType::Double());
  EXPECT_EQ(t->rows[0][1].as_string(), "4");
  EXPECT_TRUE(t->rows[1][2].is_null());
  EXPECT_EQ(t->source_lines, (std::vector<int64_t>{6, 7}));
  EXPECT_TRUE(t->schema.Validate().ok());
}

// ---------------------------------------------------------------- real data

const char* kRadiomics = "gbm-tcga/tcia_brats_tcga_radiomics/TCGA_GBM_radiomicFeatures.csv";

TEST(RealData, RadiomicsCsvHas102RowsAnd726Columns) {
  DelimitedOptions o;
  o.primary_key = "ID";
  auto t = ReadDelimited(DataPath(kRadiomics), o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows.size(), 102u);
  ASSERT_EQ(t->schema.columns.size(), 726u);
  EXPECT_EQ(t->schema.columns[1].name, "Date");
  EXPECT_EQ(t->schema.columns[1].type, DataType::DateT());  // 1996.08.23
  EXPECT_EQ(FormatDate(t->rows[0][1].as_date()), "1996-08-23");
  EXPECT_EQ(t->schema.columns[721].type, DataType::Double());
  EXPECT_EQ(t->schema.columns[725].type, DataType::String());  // TGM_T_6 is empty in every row: no type evidence
  EXPECT_EQ(t->rows[0][0].as_string(), "TCGA-02-0006");
  EXPECT_EQ(t->source_lines.back(), 103);
  for (const Column& c : t->schema.columns) EXPECT_EQ(c.name.find('\r'), std::string::npos);
  EXPECT_TRUE(t->schema.Validate().ok()) << t->schema.Validate().ToString();
  ExpectRowsValid(*t);
}

TEST(RealData, RadiomicsFeaturesAssembleInto724dVectorsWithImputedMeans) {
  DelimitedOptions o;
  o.primary_key = "ID";
  o.vectors = {VectorAssembly{"features", {}, {}, "Date", MissingCellPolicy::kImputeMean, false}};
  auto t = ReadDelimited(DataPath(kRadiomics), o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->schema.columns.size(), 3u);
  EXPECT_EQ(t->schema.columns[2].type, DataType::Vector(724));
  EXPECT_EQ(t->rows.size(), 102u);
  const VectorAssemblyReport& rep = t->vectors[0];
  EXPECT_EQ(rep.imputed_total, 1928);  // SOURCE.md: 1,928 empty cells, all in feature columns
  int columns_with_gaps = 0;
  for (int64_t n : rep.imputed) columns_with_gaps += n > 0;
  EXPECT_EQ(columns_with_gaps, 20);
  // Four features (TGM_*_6) are empty for every GBM patient: zero-filled, reported.
  EXPECT_EQ(rep.empty_components,
            (std::vector<std::string>{"TGM_Cog_X_6", "TGM_Cog_Y_6", "TGM_Cog_Z_6", "TGM_T_6"}));
  EXPECT_EQ(rep.imputed[723], 102);
  // The first row's first gap is column 707 of the file (component 705): it holds the mean.
  EXPECT_EQ(t->rows[0][2].as_vector()[704], static_cast<float>(rep.fill_values[704]));
  EXPECT_GT(rep.imputed[704], 0);
  EXPECT_TRUE(t->schema.Validate().ok());
  ExpectRowsValid(*t);

  // The same components chosen by the nine feature-family prefixes.
  DelimitedOptions p = o;
  p.vectors = {VectorAssembly{"features",
                              {},
                              {"TEXTURE_", "HISTO_", "TGM_", "INTENSITY_", "VOLUME_", "SPATIAL_", "ECCENTRICITY_",
                               "SOLIDITY_", "DIST_"},
                              "",
                              MissingCellPolicy::kImputeMean,
                              false}};
  auto by_prefix = ReadDelimited(DataPath(kRadiomics), p);
  ASSERT_TRUE(by_prefix.ok()) << by_prefix.status().ToString();
  EXPECT_EQ(by_prefix->vectors[0].components, rep.components);
  EXPECT_EQ(by_prefix->rows[57][2], t->rows[57][2]);
}

TEST(RealData, RadiomicsWithErrorPolicyRejectsTheRowsWithGaps) {
  DelimitedOptions o;
  o.primary_key = "ID";
  o.mode = ErrorMode::kQuarantine;
  o.vectors = {VectorAssembly{"features", {}, {}, "Date", MissingCellPolicy::kError, false}};
  auto t = ReadDelimited(DataPath(kRadiomics), o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows.size() + t->rejected.size(), 102u);
  ASSERT_FALSE(t->rejected.empty());
  EXPECT_EQ(t->rejected[0].line, 2);
  EXPECT_EQ(t->rejected[0].reason.rfind("TCGA_GBM_radiomicFeatures.csv:2: column '", 0), 0u)
      << t->rejected[0].reason;
}

TEST(RealData, CbioportalPatientFileHas585RowsAnd38Columns) {
  DelimitedOptions o = DelimitedOptions::CbioportalClinical();
  o.primary_key = "PATIENT_ID";
  auto t = ReadDelimited(DataPath("gbm-tcga/cbioportal_gbm_tcga_pan_can_atlas_2018/data_clinical_patient.txt"), o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows.size(), 585u);
  ASSERT_EQ(t->schema.columns.size(), 38u);
  int age = t->FindColumn("AGE");
  int os = t->FindColumn("OS_MONTHS");
  int status = t->FindColumn("OS_STATUS");
  ASSERT_GE(age, 0);
  ASSERT_GE(os, 0);
  ASSERT_GE(status, 0);
  EXPECT_EQ(t->schema.columns[static_cast<size_t>(age)].type, DataType::Bigint());
  EXPECT_EQ(t->schema.columns[static_cast<size_t>(os)].type, DataType::Double());
  EXPECT_EQ(t->schema.columns[static_cast<size_t>(status)].type, DataType::String());
  EXPECT_EQ(t->rows[0][0].as_string(), "TCGA-02-2466");
  EXPECT_EQ(t->source_lines[0], 6);
  int null_ages = 0;
  for (const Row& r : t->rows) null_ages += r[static_cast<size_t>(age)].is_null();
  EXPECT_EQ(null_ages, 288);
  EXPECT_TRUE(t->schema.Validate().ok());
  ExpectRowsValid(*t);
}

TEST(RealData, MtsamplesHeaderlessQuotedRecordsKeepTheirNewlines) {
  DelimitedOptions o;
  o.has_header = false;
  o.column_names = {"row", "description", "specialty", "sample_name", "transcription", "keywords"};
  o.primary_key = "row";
  auto t = ReadDelimited(DataPath("mtsamples-subset/mtsamples.csv"), o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows.size(), 401u);
  EXPECT_EQ(t->schema.columns[0].type, DataType::Bigint());
  EXPECT_EQ(t->rows[0][0].as_int(), 0);
  EXPECT_EQ(t->rows[400][0].as_int(), 400);
  EXPECT_EQ(t->rows[0][4].as_string().rfind("SUBJECTIVE:,", 0), 0u);
  ExpectRowsValid(*t);
}

TEST(RealData, SyntheaDatesAndTimestampsAreInferred) {
  DelimitedOptions o;
  o.primary_key = "Id";
  auto patients = ReadDelimited(DataPath("synthea-59/patients.csv"), o);
  ASSERT_TRUE(patients.ok()) << patients.status().ToString();
  EXPECT_EQ(patients->rows.size(), 59u);
  EXPECT_EQ(patients->schema.columns[1].type, DataType::DateT());   // BIRTHDATE
  EXPECT_EQ(patients->schema.columns[21].type, DataType::Double());  // LAT
  auto encounters = ReadDelimited(DataPath("synthea-59/encounters.csv"), o);
  ASSERT_TRUE(encounters.ok()) << encounters.status().ToString();
  EXPECT_EQ(encounters->rows.size(), 2590u);
  EXPECT_EQ(encounters->schema.columns[1].type, DataType::TimestampT());  // START
  EXPECT_EQ(FormatTimestamp(encounters->rows[0][1].as_timestamp()), "2021-08-23T03:26:50.000000Z");
  ExpectRowsValid(*encounters);
}

TEST(RealData, SiftTsvAssemblesToTheSameVectorsAsTheDerivedFvecs) {
  DelimitedOptions o;
  o.has_header = false;
  std::vector<std::string> components;
  for (int i = 1; i <= 128; ++i) components.push_back("column_" + std::to_string(i));
  o.vectors = {VectorAssembly{"vector", components, {}, "", MissingCellPolicy::kError, false}};
  o.renames = {{"column_129", "ngt_id"}};
  o.primary_key = "ngt_id";
  auto t = ReadDelimited(DataPath("ann-sift5k/sift-dataset-5k.tsv"), o);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->rows.size(), 5000u);
  ASSERT_EQ(t->schema.columns.size(), 2u);
  EXPECT_EQ(t->schema.columns[1].name, "ngt_id");
  auto base = ReadFvecs(DataPath("ann-sift5k/derived/sift5k_base.fvecs"));
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  for (int64_t i : {int64_t{0}, int64_t{1234}, int64_t{4999}}) {
    const auto& v = t->rows[static_cast<size_t>(i)][0].as_vector();
    EXPECT_EQ(v, std::vector<float>(base->row(i), base->row(i) + 128)) << i;
    EXPECT_EQ(t->rows[static_cast<size_t>(i)][1].as_int(), 100001 + i);
  }
}

}  // namespace
}  // namespace vesta::ingest
