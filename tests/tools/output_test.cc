// The CLI's formatter: text tables, JSON and CSV.
#include "tools/output.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace vesta::tools {
namespace {

std::string Table(const std::vector<TextColumn>& columns, const std::vector<std::vector<std::string>>& rows) {
  std::ostringstream out;
  PrintTextTable(out, columns, rows);
  return out.str();
}

std::string GridText(const Grid& grid, OutputFormat format, size_t max_cell = kDefaultMaxCell) {
  std::ostringstream out;
  PrintGrid(out, grid, format, max_cell);
  return out.str();
}

TEST(TextTable, AlignsColumnsAndRightAlignsNumbers) {
  const std::string t = Table({{"version", Align::kRight}, {"operation"}, {"rows", Align::kRight}},
                              {{"12", "UPSERT", "3"}, {"1", "CREATE TABLE", "1000"}});
  EXPECT_EQ(t,
            "version  operation     rows\n"
            "-------  ------------  ----\n"
            "     12  UPSERT           3\n"
            "      1  CREATE TABLE  1000\n");
}

TEST(TextTable, LastLeftAlignedColumnHasNoTrailingSpaces) {
  const std::string t = Table({{"a"}, {"comment"}}, {{"x", "short"}, {"y", "a longer comment"}});
  std::istringstream lines(t);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_NE(line.back(), ' ') << "'" << line << "'";
  }
}

TEST(TextTable, CutsLongCellsWithAnEllipsisAtTheColumnLimit) {
  const std::string long_text(100, 'x');
  const std::string t = Table({{"c", Align::kLeft, 10}}, {{long_text}});
  EXPECT_EQ(t, "c\n----------\nxxxxxxxxx\u2026\n");
}

TEST(TextTable, CountsCodePointsNotBytes) {
  // "é" is two bytes; alignment and cutting work in characters.
  const std::string t = Table({{"name"}, {"n", Align::kRight}}, {{"é", "1"}, {"ab", "22"}});
  EXPECT_EQ(t,
            "name   n\n"
            "----  --\n"
            "é      1\n"
            "ab    22\n");
  EXPECT_EQ(FitCell("ééééé", 3), "éé\u2026");
  EXPECT_EQ(DisplayWidth("ééééé"), 5u);
  EXPECT_EQ(DisplayWidth("\xff\xfe"), 2u) << "invalid bytes count one each";
}

TEST(TextTable, EscapesControlCharactersToKeepOneLinePerRow) {
  EXPECT_EQ(FitCell("a\nb\tc\rd\x01", 40), "a\\nb\\tc\\rd\\x01");
  const std::string t = Table({{"c"}}, {{"two\nlines"}});
  EXPECT_EQ(t, "c\n----------\ntwo\\nlines\n");
}

TEST(Csv, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  EXPECT_EQ(CsvField(""), "\"\"");
}

Grid SampleGrid() {
  Grid g;
  g.columns = {"id", "score", "name", "day", "at", "emb", "flag"};
  g.rows.push_back({Value::Int(1), Value::Real(0.5), Value::Str("a,b"), Value::DateV({19753}),
                    Value::Ts({1706695200000000}), Value::Vec({0.1f, -2.5f, 3.0f}), Value::Bool(true)});
  g.rows.push_back({Value::Int(22), Value::Null(), Value::Str(""), Value::Null(), Value::Null(),
                    Value::Null(), Value::Null()});
  return g;
}

TEST(Grid, CsvSeparatesNullFromEmptyStringAndWritesVectorsInFull) {
  EXPECT_EQ(GridText(SampleGrid(), OutputFormat::kCsv),
            "id,score,name,day,at,emb,flag\n"
            "1,0.5,\"a,b\",2024-01-31,2024-01-31T10:00:00.000000Z,\"[0.1, -2.5, 3]\",true\n"
            "22,,\"\",,,,\n");
}

TEST(Grid, JsonKeepsColumnOrderAndTypes) {
  const std::string text = GridText(SampleGrid(), OutputFormat::kJson);
  EXPECT_EQ(text,
            "[\n"
            "  "
            "{\"id\":1,\"score\":0.5,\"name\":\"a,b\",\"day\":\"2024-01-31\",\"at\":\"2024-01-31T10:00:00."
            "000000Z\","
            "\"emb\":[0.1,-2.5,3.0],\"flag\":true},\n"
            "  {\"id\":22,\"score\":null,\"name\":\"\",\"day\":null,\"at\":null,\"emb\":null,\"flag\":null}\n"
            "]\n");
  EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded());
  EXPECT_EQ(GridText(Grid{{"a"}, {}, {}}, OutputFormat::kJson), "[]\n");
}

TEST(Grid, JsonEmbedsJsonTextColumnsAndSurvivesInvalidUtf8) {
  Grid g;
  g.columns = {"parameters", "text"};
  g.json_text_columns = {0};
  g.rows.push_back({Value::Str("{\"predicate\":\"age > 1\"}"), Value::Str("bad \xff byte")});
  g.rows.push_back({Value::Str("not json"), Value::Str("ok")});
  const std::string text = GridText(g, OutputFormat::kJson);
  nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j[0]["parameters"]["predicate"], "age > 1");
  EXPECT_EQ(j[1]["parameters"], "not json");
  EXPECT_EQ(j[0]["text"], "bad \xEF\xBF\xBD byte");
}

TEST(Grid, TableRightAlignsNumericColumnsAndShowsNull) {
  const std::string t = GridText(SampleGrid(), OutputFormat::kTable);
  std::istringstream lines(t);
  std::string header, rule, r1, r2;
  std::getline(lines, header);
  std::getline(lines, rule);
  std::getline(lines, r1);
  std::getline(lines, r2);
  EXPECT_EQ(header.rfind("id  score", 0), 0u) << t;
  EXPECT_EQ(r1.rfind(" 1    0.5  a,b", 0), 0u) << t;
  EXPECT_EQ(r2.rfind("22   NULL", 0), 0u) << t;
  EXPECT_NE(r1.find("[0.1, -2.5, 3]"), std::string::npos) << t;
}

TEST(Grid, TableAbbreviatesVectorsKeepingTheDimension) {
  std::vector<float> v(724, 0.123456f);
  const std::string cell = CellText(Value::Vec(v), 40);
  EXPECT_LE(DisplayWidth(cell), 40u) << cell;
  EXPECT_NE(cell.find("(724 values)]"), std::string::npos) << cell;
  EXPECT_EQ(cell.rfind("[0.1235, 0.1235, ", 0), 0u) << "4 significant digits: " << cell;
  EXPECT_EQ(CellText(Value::Vec({1.5f, -2.25f, 3.125f}), 12), "[1.5, ... (3 values)]")
      << "at least one component";
  Grid g;
  g.columns = {"emb", "note"};
  g.max_widths = {0, 5};
  g.rows.push_back({Value::Vec(v), Value::Str("a long note")});
  const std::string t = GridText(g, OutputFormat::kTable, 30);
  EXPECT_NE(t.find("(724 values)]  a lo\u2026"), std::string::npos) << "per-column limits:\n" << t;
  EXPECT_EQ(CellText(Value::Vec({1, 2, 3}), 40), "[1, 2, 3]");
}

TEST(OutputFormatName, ParsesTheThreeFormats) {
  EXPECT_EQ(ParseOutputFormat("table").value(), OutputFormat::kTable);
  EXPECT_EQ(ParseOutputFormat("json").value(), OutputFormat::kJson);
  EXPECT_EQ(ParseOutputFormat("csv").value(), OutputFormat::kCsv);
  EXPECT_TRUE(ParseOutputFormat("xml").status().IsInvalidArgument());
}

}  // namespace
}  // namespace vesta::tools
