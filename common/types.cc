#include "common/types.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <unordered_set>

namespace vesta {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Days from 1970-01-01 for a proleptic Gregorian date (H. Hinnant's
// days_from_civil, http://howardhinnant.github.io/date_algorithms.html).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int>(yy + (*m <= 2));
}

bool ParseFixedInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

Status TypeError(const DataType& t, std::string_view text) {
  std::string shown(text.substr(0, 64));
  if (text.size() > 64) shown += "...";
  return Status::InvalidArgument("expected " + t.ToString() + ", got '" + shown + "'");
}

Result<Date> ParseDate(std::string_view s) {
  // YYYY-MM-DD
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !ParseFixedInt(s.substr(0, 4), &y) ||
      !ParseFixedInt(s.substr(5, 2), &m) || !ParseFixedInt(s.substr(8, 2), &d)) {
    return Status::InvalidArgument("expected DATE (YYYY-MM-DD), got '" + std::string(s.substr(0, 64)) + "'");
  }
  return MakeDate(y, m, d);
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string AsciiUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool IsValidIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string DataType::ToString() const {
  switch (id) {
    case TypeId::kBigint: return "BIGINT";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kString: return "STRING";
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kDate: return "DATE";
    case TypeId::kTimestamp: return "TIMESTAMP";
    case TypeId::kVector: return "VECTOR(" + std::to_string(dim) + ")";
  }
  return "UNKNOWN";
}

Result<DataType> DataType::Parse(std::string_view text) {
  std::string u = AsciiUpper(Trim(text));
  if (u == "BIGINT" || u == "INT" || u == "INTEGER" || u == "LONG") return Bigint();
  if (u == "DOUBLE" || u == "FLOAT" || u == "REAL") return Double();
  if (u == "STRING" || u == "TEXT" || u == "VARCHAR") return String();
  if (u == "BOOLEAN" || u == "BOOL") return Boolean();
  if (u == "DATE") return DateT();
  if (u == "TIMESTAMP") return TimestampT();
  if (u.rfind("VECTOR(", 0) == 0 && u.back() == ')') {
    std::string_view digits = std::string_view(u).substr(7, u.size() - 8);
    int d = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
    if (ec != std::errc() || p != digits.data() + digits.size() || d < 1 || d > kMaxVectorDim) {
      return Status::InvalidArgument("vector dimension must be an integer in 1.." +
                                     std::to_string(kMaxVectorDim) + ", got '" + std::string(digits) +
                                     "'");
    }
    return Vector(d);
  }
  return Status::InvalidArgument("unknown type '" + std::string(text) +
                                 "': expected BIGINT, DOUBLE, STRING, BOOLEAN, DATE, TIMESTAMP or "
                                 "VECTOR(d)");
}

std::string_view Value::TypeName() const {
  if (is_int()) return "BIGINT";
  if (is_double()) return "DOUBLE";
  if (is_string()) return "STRING";
  if (is_bool()) return "BOOLEAN";
  if (is_date()) return "DATE";
  if (is_timestamp()) return "TIMESTAMP";
  if (is_vector()) return "VECTOR";
  return "NULL";
}

bool Value::FitsType(const DataType& t) const {
  switch (t.id) {
    case TypeId::kBigint: return is_null() || is_int();
    case TypeId::kDouble: return is_null() || is_double();
    case TypeId::kString: return is_null() || is_string();
    case TypeId::kBoolean: return is_null() || is_bool();
    case TypeId::kDate: return is_null() || is_date();
    case TypeId::kTimestamp: return is_null() || is_timestamp();
    case TypeId::kVector: return is_null() || (is_vector() && static_cast<int>(as_vector().size()) == t.dim);
  }
  return false;
}

std::string Value::ToString(size_t max_vector_items) const {
  if (is_null()) return "NULL";
  if (is_int()) return std::to_string(as_int());
  if (is_double()) {
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), as_double());
    return std::string(buf, p);
  }
  if (is_string()) return as_string();
  if (is_bool()) return as_bool() ? "true" : "false";
  if (is_date()) return FormatDate(as_date());
  if (is_timestamp()) return FormatTimestamp(as_timestamp());
  const auto& v = as_vector();
  std::string s = "[";
  for (size_t i = 0; i < v.size() && i < max_vector_items; ++i) {
    if (i) s += ", ";
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v[i]);
    s.append(buf, p);
  }
  if (v.size() > max_vector_items) s += ", ... (" + std::to_string(v.size()) + " values)";
  s += "]";
  return s;
}

std::optional<int> CompareValues(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return std::nullopt;
  auto sign = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  if ((a.is_int() || a.is_double()) && (b.is_int() || b.is_double())) {
    if (a.is_int() && b.is_int()) return sign(a.as_int(), b.as_int());
    return sign(a.as_number(), b.as_number());
  }
  if (a.storage().index() != b.storage().index()) return std::nullopt;
  if (a.is_string()) {
    int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_bool()) return sign(a.as_bool(), b.as_bool());
  if (a.is_date()) return sign(a.as_date().days, b.as_date().days);
  if (a.is_timestamp()) return sign(a.as_timestamp().micros, b.as_timestamp().micros);
  return std::nullopt;  // vectors are not ordered
}

Result<Date> MakeDate(int year, int month, int day) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) {
    char buf[48];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", year, month, day);
    return Status::InvalidArgument(std::string("not a valid calendar date: ") + buf);
  }
  return Date{static_cast<int32_t>(DaysFromCivil(year, static_cast<unsigned>(month),
                                                 static_cast<unsigned>(day)))};
}

std::string FormatDate(Date d) {
  int y;
  unsigned m, dd;
  CivilFromDays(d.days, &y, &m, &dd);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", y, m, dd);
  return buf;
}

std::string FormatTimestamp(Timestamp t) {
  int64_t days = t.micros >= 0 ? t.micros / 86400000000LL : -((-t.micros + 86400000000LL - 1) / 86400000000LL);
  int64_t rem = t.micros - days * 86400000000LL;
  int y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  int64_t secs = rem / 1000000, micros = rem % 1000000;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", y, m, d,
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60), static_cast<int>(micros));
  return buf;
}

Result<Timestamp> ParseTimestamp(std::string_view s) {
  s = Trim(s);
  auto bad = [&]() {
    return Status::InvalidArgument(
        "expected TIMESTAMP (YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z]), got '" + std::string(s.substr(0, 64)) + "'");
  };
  if (s.size() < 10) return bad();
  auto date = ParseDate(s.substr(0, 10));
  if (!date.ok()) return bad();
  int64_t micros = static_cast<int64_t>(date->days) * 86400000000LL;
  std::string_view rest = s.substr(10);
  if (rest.empty()) return Timestamp{micros};
  if (rest[0] != 'T' && rest[0] != ' ') return bad();
  rest.remove_prefix(1);
  if (!rest.empty() && (rest.back() == 'Z' || rest.back() == 'z')) rest.remove_suffix(1);
  int hh, mm, ss;
  if (rest.size() < 8 || rest[2] != ':' || rest[5] != ':' || !ParseFixedInt(rest.substr(0, 2), &hh) ||
      !ParseFixedInt(rest.substr(3, 2), &mm) || !ParseFixedInt(rest.substr(6, 2), &ss) || hh > 23 ||
      mm > 59 || ss > 60) {
    return bad();
  }
  micros += (hh * 3600LL + mm * 60LL + ss) * 1000000LL;
  rest.remove_prefix(8);
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2 || rest.size() > 7) return bad();
    int frac = 0;
    if (!ParseFixedInt(rest.substr(1), &frac)) return bad();
    for (size_t i = rest.size() - 1; i < 6; ++i) frac *= 10;
    micros += frac;
  }
  return Timestamp{micros};
}

Timestamp NowTimestamp() {
  using namespace std::chrono;
  return Timestamp{duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()};
}

Result<Value> ParseValue(std::string_view text, const DataType& t) {
  if (t.id != TypeId::kString) {
    text = Trim(text);
    if (text.empty()) return Value::Null();
  }
  switch (t.id) {
    case TypeId::kString: return Value::Str(std::string(text));
    case TypeId::kBigint: {
      int64_t v = 0;
      const char* b = text.data();
      if (!text.empty() && text[0] == '+') ++b;
      auto [p, ec] = std::from_chars(b, text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) return TypeError(t, text);
      return Value::Int(v);
    }
    case TypeId::kDouble: {
      double v = 0;
      const char* b = text.data();
      if (!text.empty() && text[0] == '+') ++b;
      auto [p, ec] = std::from_chars(b, text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v)) return TypeError(t, text);
      return Value::Real(v);
    }
    case TypeId::kBoolean: {
      std::string u = AsciiUpper(text);
      if (u == "TRUE" || u == "1" || u == "YES" || u == "T" || u == "Y") return Value::Bool(true);
      if (u == "FALSE" || u == "0" || u == "NO" || u == "F" || u == "N") return Value::Bool(false);
      return TypeError(t, text);
    }
    case TypeId::kDate: {
      auto d = ParseDate(text);
      if (!d.ok()) return d.status();
      return Value::DateV(*d);
    }
    case TypeId::kTimestamp: {
      auto ts = ParseTimestamp(text);
      if (!ts.ok()) return ts.status();
      return Value::Ts(*ts);
    }
    case TypeId::kVector: {
      std::string_view s = text;
      if (!s.empty() && s.front() == '[') {
        if (s.back() != ']') return TypeError(t, text);
        s = s.substr(1, s.size() - 2);
      }
      std::vector<float> v;
      v.reserve(static_cast<size_t>(t.dim));
      while (true) {
        s = Trim(s);
        size_t comma = s.find(',');
        std::string_view item = Trim(s.substr(0, comma));
        float f = 0;
        const char* b = item.data();
        if (!item.empty() && item[0] == '+') ++b;
        auto [p, ec] = std::from_chars(b, item.data() + item.size(), f);
        if (item.empty() || ec != std::errc() || p != item.data() + item.size() || !std::isfinite(f)) {
          return Status::InvalidArgument("expected " + t.ToString() + ": component " +
                                         std::to_string(v.size()) + " is not a finite number: '" +
                                         std::string(item.substr(0, 32)) + "'");
        }
        v.push_back(f);
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
      }
      if (static_cast<int>(v.size()) != t.dim) {
        return Status::InvalidArgument("expected " + t.ToString() + ", got " + std::to_string(v.size()) +
                                       " values");
      }
      return Value::Vec(std::move(v));
    }
  }
  return TypeError(t, text);
}

int Schema::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (EqualsIgnoreCase(columns[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

Status Schema::Validate() const {
  if (columns.empty()) return Status::InvalidArgument("schema has no columns");
  if (columns.size() > 2000) return Status::InvalidArgument("schema has more than 2000 columns");
  std::unordered_set<std::string> seen;
  for (const Column& c : columns) {
    if (!IsValidIdentifier(c.name)) {
      return Status::InvalidArgument("column name '" + c.name +
                                     "' is not an identifier ([A-Za-z_][A-Za-z0-9_]*, at most 128 bytes)");
    }
    if (c.name[0] == '_' && c.name.size() > 1 && c.name[1] == '_') {
      return Status::InvalidArgument("column name '" + c.name + "': names starting with '__' are reserved");
    }
    if (!seen.insert(AsciiUpper(c.name)).second) {
      return Status::InvalidArgument("duplicate column name '" + c.name + "'");
    }
    if (c.type.id == TypeId::kVector && (c.type.dim < 1 || c.type.dim > kMaxVectorDim)) {
      return Status::InvalidArgument("column '" + c.name + "': vector dimension must be in 1.." +
                                     std::to_string(kMaxVectorDim) + ", got " + std::to_string(c.type.dim));
    }
  }
  int pk = primary_key_index();
  if (primary_key.empty()) return Status::InvalidArgument("schema has no primary key");
  if (pk < 0) return Status::InvalidArgument("primary key '" + primary_key + "' is not a column");
  const Column& pc = columns[static_cast<size_t>(pk)];
  if (pc.type.id != TypeId::kBigint && pc.type.id != TypeId::kString) {
    return Status::InvalidArgument("primary key '" + pc.name + "' must be BIGINT or STRING, got " +
                                   pc.type.ToString());
  }
  if (pc.nullable) return Status::InvalidArgument("primary key '" + pc.name + "' must be NOT NULL");
  return Status::OK();
}

Status Schema::ValidateRow(const Row& row) const {
  if (row.size() != columns.size()) {
    return Status::InvalidArgument("row has " + std::to_string(row.size()) + " values, schema has " +
                                   std::to_string(columns.size()) + " columns");
  }
  for (size_t i = 0; i < row.size(); ++i) {
    const Column& c = columns[i];
    const Value& v = row[i];
    if (v.is_null()) {
      if (!c.nullable) return Status::InvalidArgument("column '" + c.name + "': NULL in a NOT NULL column");
      continue;
    }
    if (c.type.id == TypeId::kVector && v.is_vector()) {
      const auto& vec = v.as_vector();
      if (static_cast<int>(vec.size()) != c.type.dim) {
        return Status::InvalidArgument("column '" + c.name + "': expected " + c.type.ToString() + ", got " +
                                       std::to_string(vec.size()) + " values");
      }
      for (size_t j = 0; j < vec.size(); ++j) {
        if (!std::isfinite(vec[j])) {
          return Status::InvalidArgument("column '" + c.name + "': component " + std::to_string(j) +
                                         " is not finite");
        }
      }
      continue;
    }
    if (c.type.id == TypeId::kDouble && v.is_double() && !std::isfinite(v.as_double())) {
      return Status::InvalidArgument("column '" + c.name + "': DOUBLE value is not finite");
    }
    if (!v.FitsType(c.type)) {
      return Status::InvalidArgument("column '" + c.name + "': expected " + c.type.ToString() + ", got '" +
                                     v.ToString(4) + "'");
    }
  }
  return Status::OK();
}

}  // namespace vesta
