// Output formatting for the vesta CLI: aligned text tables, JSON and CSV.
//
// Thread-safety: functions are thread-safe (no shared state).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "common/types.h"

namespace vesta::tools {

enum class OutputFormat { kTable, kJson, kCsv };

// Parses "table", "json" or "csv". Returns false for anything else.
bool ParseOutputFormat(const std::string& name, OutputFormat* out);

// A result to print: column names and rows of Values (rows[i].size() ==
// columns.size()).
struct Grid {
  std::vector<std::string> columns;
  std::vector<Row> rows;
};

// Writes `grid` to `out`:
//   kTable: aligned columns, numbers right-aligned, cells longer than
//           `max_cell` characters truncated with "...", vectors abbreviated;
//   kJson:  one JSON array of objects (vectors as arrays, DATE/TIMESTAMP as
//           ISO-8601 strings, NULL as null);
//   kCsv:   RFC 4180 (header row; fields with a comma, quote or newline quoted).
void PrintGrid(std::ostream& out, const Grid& grid, OutputFormat format, size_t max_cell = 40);

// Text-table form of string cells (for reports that are not rows of Values).
void PrintTextTable(std::ostream& out, const std::vector<std::string>& columns,
                    const std::vector<std::vector<std::string>>& rows, size_t max_cell = 60);

}  // namespace vesta::tools
