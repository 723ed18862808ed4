#include "tools/output.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <ostream>
#include <system_error>

namespace vesta::tools {
namespace {

using Json = nlohmann::ordered_json;

// Byte length of the UTF-8 sequence starting at s[i]; 1 for an invalid byte.
size_t SequenceLength(std::string_view s, size_t i) {
  const auto lead = static_cast<unsigned char>(s[i]);
  size_t n = 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
  }
  if (n == 1 || i + n > s.size()) return 1;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

std::string EscapeControl(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

// A float32 as a JSON number in its shortest round-trip decimal form (0.1f
// prints as 0.1, not as the double 0.10000000149011612).
Json FloatJson(float f) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
  double d = f;
  if (ec == std::errc()) std::from_chars(buf, end, d);
  return d;
}

Json ValueJson(const Value& v) {
  if (v.is_null()) return nullptr;
  if (v.is_int()) return v.as_int();
  if (v.is_double()) return v.as_double();
  if (v.is_bool()) return v.as_bool();
  if (v.is_string()) return v.as_string();
  if (v.is_vector()) {
    Json arr = Json::array();
    for (float f : v.as_vector()) arr.push_back(FloatJson(f));
    return arr;
  }
  return v.ToString();  // DATE, TIMESTAMP: ISO-8601
}

bool IsNumericColumn(const Grid& grid, size_t j) {
  bool any = false;
  for (const Row& r : grid.rows) {
    if (r[j].is_null()) continue;
    if (!r[j].is_int() && !r[j].is_double()) return false;
    any = true;
  }
  return any;
}

void PrintJson(std::ostream& out, const Grid& grid) {
  if (grid.rows.empty()) {
    out << "[]\n";
    return;
  }
  std::vector<bool> json_text(grid.columns.size(), false);
  for (size_t j : grid.json_text_columns) {
    if (j < json_text.size()) json_text[j] = true;
  }
  out << "[\n";
  for (size_t i = 0; i < grid.rows.size(); ++i) {
    const Row& r = grid.rows[i];
    Json obj = Json::object();
    for (size_t j = 0; j < grid.columns.size(); ++j) {
      Json value = ValueJson(r[j]);
      if (json_text[j] && r[j].is_string()) {
        Json parsed = Json::parse(r[j].as_string(), nullptr, /*allow_exceptions=*/false);
        if (!parsed.is_discarded()) value = std::move(parsed);
      }
      obj[grid.columns[j]] = std::move(value);
    }
    out << "  " << obj.dump(-1, ' ', false, Json::error_handler_t::replace)
        << (i + 1 < grid.rows.size() ? ",\n" : "\n");
  }
  out << "]\n";
}

void PrintCsv(std::ostream& out, const Grid& grid) {
  for (size_t j = 0; j < grid.columns.size(); ++j) out << (j ? "," : "") << CsvField(grid.columns[j]);
  out << "\n";
  for (const Row& r : grid.rows) {
    for (size_t j = 0; j < r.size(); ++j) {
      if (j) out << ",";
      if (!r[j].is_null()) out << CsvField(r[j].ToString(static_cast<size_t>(-1)));
    }
    out << "\n";
  }
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "csv") return OutputFormat::kCsv;
  return Status::InvalidArgument("unknown output format '" + std::string(name) +
                                 "' (expected table, json or csv)");
}

size_t DisplayWidth(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += SequenceLength(s, i)) ++n;
  return n;
}

std::string FitCell(std::string_view s, size_t max_width) {
  std::string e = EscapeControl(s);
  if (DisplayWidth(e) <= max_width) return e;
  size_t i = 0;
  for (size_t n = 0; n + 1 < max_width && i < e.size(); ++n) i += SequenceLength(e, i);
  return e.substr(0, i) + "\u2026";
}

std::string CsvField(std::string_view s) {
  const bool quote = s.empty() || s.find_first_of(",\"\r\n") != std::string_view::npos || s.front() == ' ' ||
                     s.back() == ' ';
  if (!quote) return std::string(s);
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

std::string CellText(const Value& v, size_t max_width) {
  if (!v.is_vector()) return v.ToString();
  const std::vector<float>& x = v.as_vector();
  constexpr size_t kMaxItems = 64;  // more never fit a cell
  std::vector<std::string> items;
  for (size_t i = 0; i < x.size() && i < kMaxItems; ++i) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x[i], std::chars_format::general, 4);
    items.emplace_back(buf, ec == std::errc() ? end : buf);
  }
  auto render = [&](size_t k) {
    std::string s = "[";
    for (size_t i = 0; i < k; ++i) s += (i ? ", " : "") + items[i];
    if (k < x.size()) s += ", ... (" + std::to_string(x.size()) + " values)";
    return s + "]";
  };
  if (x.size() <= items.size() && render(x.size()).size() <= max_width) return render(x.size());
  size_t k = 1;
  while (k + 1 < items.size() && render(k + 1).size() <= max_width) ++k;
  return render(k);
}

void PrintTextTable(std::ostream& out, const std::vector<TextColumn>& columns,
                    const std::vector<std::vector<std::string>>& rows) {
  const size_t n = columns.size();
  std::vector<std::string> header(n);
  std::vector<size_t> width(n);
  for (size_t j = 0; j < n; ++j) {
    header[j] = FitCell(columns[j].header, std::max<size_t>(columns[j].max_width, 2));
    width[j] = DisplayWidth(header[j]);
  }
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size());
  for (const auto& row : rows) {
    std::vector<std::string> c(n);
    for (size_t j = 0; j < n && j < row.size(); ++j) {
      c[j] = FitCell(row[j], std::max<size_t>(columns[j].max_width, 2));
      width[j] = std::max(width[j], DisplayWidth(c[j]));
    }
    cells.push_back(std::move(c));
  }
  auto print_line = [&](const std::vector<std::string>& line) {
    std::string s;
    for (size_t j = 0; j < n; ++j) {
      const size_t pad = width[j] - DisplayWidth(line[j]);
      if (j) s += "  ";
      if (columns[j].align == Align::kRight) {
        s.append(pad, ' ');
        s += line[j];
      } else {
        s += line[j];
        s.append(pad, ' ');
      }
    }
    s.erase(s.find_last_not_of(' ') + 1);
    out << s << "\n";
  };
  print_line(header);
  std::vector<std::string> rule(n);
  for (size_t j = 0; j < n; ++j) rule[j] = std::string(width[j], '-');
  print_line(rule);
  for (const auto& c : cells) print_line(c);
}

void PrintGrid(std::ostream& out, const Grid& grid, OutputFormat format, size_t max_cell) {
  switch (format) {
    case OutputFormat::kJson:
      PrintJson(out, grid);
      return;
    case OutputFormat::kCsv:
      PrintCsv(out, grid);
      return;
    case OutputFormat::kTable: {
      std::vector<TextColumn> columns;
      for (size_t j = 0; j < grid.columns.size(); ++j) {
        const size_t width =
            j < grid.max_widths.size() && grid.max_widths[j] > 0 ? grid.max_widths[j] : max_cell;
        columns.push_back({grid.columns[j], IsNumericColumn(grid, j) ? Align::kRight : Align::kLeft, width});
      }
      std::vector<std::vector<std::string>> cells;
      cells.reserve(grid.rows.size());
      for (const Row& r : grid.rows) {
        std::vector<std::string> c;
        c.reserve(r.size());
        for (size_t j = 0; j < r.size(); ++j) c.push_back(CellText(r[j], columns[j].max_width));
        cells.push_back(std::move(c));
      }
      PrintTextTable(out, columns, cells);
      return;
    }
  }
}

}  // namespace vesta::tools
