#include "tools/output.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

namespace vesta::tools {
namespace {

std::string Truncate(const std::string& s, size_t max_cell) {
  if (s.size() <= max_cell) return s;
  return s.substr(0, max_cell - 3) + "...";
}

nlohmann::json ToJson(const Value& v) {
  if (v.is_null()) return nullptr;
  if (v.is_int()) return v.as_int();
  if (v.is_double()) return v.as_double();
  if (v.is_bool()) return v.as_bool();
  if (v.is_string()) return v.as_string();
  if (v.is_vector()) return v.as_vector();
  return v.ToString();  // DATE, TIMESTAMP: ISO-8601
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

void PrintAligned(std::ostream& out, const std::vector<std::string>& columns,
                  const std::vector<std::vector<std::string>>& cells, const std::vector<bool>& right) {
  std::vector<size_t> width(columns.size());
  for (size_t j = 0; j < columns.size(); ++j) width[j] = columns[j].size();
  for (const auto& row : cells)
    for (size_t j = 0; j < row.size(); ++j) width[j] = std::max(width[j], row[j].size());
  auto line = [&](const std::vector<std::string>& row, bool header) {
    std::string s;
    for (size_t j = 0; j < row.size(); ++j) {
      const size_t pad = width[j] - row[j].size();
      if (j) s += "  ";
      if (!header && right[j]) s += std::string(pad, ' ') + row[j];
      else s += row[j] + (j + 1 < row.size() ? std::string(pad, ' ') : "");
    }
    out << s << "\n";
  };
  line(columns, true);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule, true);
  for (const auto& row : cells) line(row, false);
}

}  // namespace

bool ParseOutputFormat(const std::string& name, OutputFormat* out) {
  if (name == "table") *out = OutputFormat::kTable;
  else if (name == "json") *out = OutputFormat::kJson;
  else if (name == "csv") *out = OutputFormat::kCsv;
  else return false;
  return true;
}

void PrintGrid(std::ostream& out, const Grid& grid, OutputFormat format, size_t max_cell) {
  switch (format) {
    case OutputFormat::kJson: {
      nlohmann::json arr = nlohmann::json::array();
      for (const Row& r : grid.rows) {
        nlohmann::json o = nlohmann::json::object();
        for (size_t j = 0; j < grid.columns.size(); ++j) o[grid.columns[j]] = ToJson(r[j]);
        arr.push_back(std::move(o));
      }
      out << arr.dump(2) << "\n";
      return;
    }
    case OutputFormat::kCsv: {
      for (size_t j = 0; j < grid.columns.size(); ++j) out << (j ? "," : "") << CsvField(grid.columns[j]);
      out << "\n";
      for (const Row& r : grid.rows) {
        for (size_t j = 0; j < r.size(); ++j) {
          out << (j ? "," : "") << (r[j].is_null() ? "" : CsvField(r[j].ToString(static_cast<size_t>(-1))));
        }
        out << "\n";
      }
      return;
    }
    case OutputFormat::kTable: {
      std::vector<bool> right(grid.columns.size(), false);
      std::vector<std::vector<std::string>> cells;
      for (const Row& r : grid.rows) {
        std::vector<std::string> c;
        for (size_t j = 0; j < r.size(); ++j) {
          c.push_back(Truncate(r[j].ToString(4), max_cell));
          if (r[j].is_int() || r[j].is_double()) right[j] = true;
        }
        cells.push_back(std::move(c));
      }
      PrintAligned(out, grid.columns, cells, right);
      return;
    }
  }
}

void PrintTextTable(std::ostream& out, const std::vector<std::string>& columns,
                    const std::vector<std::vector<std::string>>& rows, size_t max_cell) {
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows) {
    std::vector<std::string> c;
    for (const auto& s : r) c.push_back(Truncate(s, max_cell));
    cells.push_back(std::move(c));
  }
  PrintAligned(out, columns, cells, std::vector<bool>(columns.size(), false));
}

}  // namespace vesta::tools
