// Output formatting for the vesta CLI: one text-table formatter used by every
// command, plus JSON and CSV renderings of rows of Values.
//
//   PrintTextTable(std::cout, {{"version", kRight}, {"operation"}}, {{"1", "UPSERT"}});
//   PrintGrid(std::cout, grid, OutputFormat::kJson);
//
// Widths count UTF-8 code points (a wide CJK character counts as one column,
// so such text may misalign; it is never cut inside a character).
//
// Thread-safety: functions are thread-safe (no shared state); concurrent
// writes to one stream need external synchronisation.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "common/types.h"

namespace vesta::tools {

// Cells wider than this many code points are cut and end in "…".
inline constexpr size_t kDefaultMaxCell = 40;

enum class OutputFormat { kTable, kJson, kCsv };

// The accepted spellings of OutputFormat, for --format validation and help.
inline constexpr const char* kOutputFormatNames[] = {"table", "json", "csv"};

// Parses "table", "json" or "csv" (exact, lower case).
// Errors: InvalidArgument listing the accepted names.
Result<OutputFormat> ParseOutputFormat(std::string_view name);

enum class Align { kLeft, kRight };

// One column of a text table.
struct TextColumn {
  std::string header;
  Align align = Align::kLeft;          // kRight for numbers
  size_t max_width = kDefaultMaxCell;  // in code points; >= 2
};

// Writes an aligned text table: a header row, a rule of dashes, then `rows`
// (rows[i].size() == columns.size()). Cells are cut to the column's
// max_width with a trailing "…"; newlines, tabs and other control
// characters are shown escaped ("\n") so that every row stays on one line.
// Columns are separated by two spaces; lines carry no trailing spaces.
void PrintTextTable(std::ostream& out, const std::vector<TextColumn>& columns,
                    const std::vector<std::vector<std::string>>& rows);

// Rows of typed values with their column names (rows[i].size() == columns.size()).
struct Grid {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  // Columns whose STRING values are JSON text (commit parameters): embedded
  // as JSON values in kJson output (as strings if they do not parse).
  std::vector<size_t> json_text_columns;
  // kTable: per-column cell limits in code points; a missing or 0 entry
  // means PrintGrid's max_cell.
  std::vector<size_t> max_widths;
};

// Writes `grid` to `out`:
//   kTable: PrintTextTable; a column whose non-NULL values are all BIGINT or
//           DOUBLE is right-aligned; other values print as Value::ToString
//           (NULL as NULL), except vectors: see CellText.
//   kJson:  a JSON array with one object per row, one row per line, keys in
//           column order: vectors as arrays of numbers (each float32 in its
//           shortest round-trip form), DATE and TIMESTAMP as ISO-8601
//           strings, NULL as null; invalid UTF-8 is replaced by U+FFFD.
//   kCsv:   RFC 4180: a header row, then one record per row, CRLF-free ("\n"
//           ends records); a field containing a comma, quote, CR or LF, or
//           with leading/trailing spaces, is quoted with quotes doubled.
//           NULL is an empty field and the empty string is "" (quoted), so
//           the two stay distinct. Vectors are written in full.
void PrintGrid(std::ostream& out, const Grid& grid, OutputFormat format, size_t max_cell = kDefaultMaxCell);

// --- Building blocks, exposed for tests ---------------------------------------

// Number of UTF-8 code points in `s` (each invalid byte counts as one).
size_t DisplayWidth(std::string_view s);

// `s` with control characters escaped, cut to at most `max_width` code points
// (the last being "…" when cut). REQUIRES: max_width >= 2.
std::string FitCell(std::string_view s, size_t max_width);

// The CSV form of one field (see PrintGrid kCsv).
std::string CsvField(std::string_view s);

// The table-format text of a value: Value::ToString, except that a vector
// shows as many leading components as fit `max_width` code points, each to 4
// significant digits, then its dimension: "[-0.8233, 0.4388, ... (724
// values)]"; a vector that fits whole shows whole ("[0.1, 2, 3]"). JSON and
// CSV output carry every component at full float32 precision.
std::string CellText(const Value& v, size_t max_width);

}  // namespace vesta::tools
