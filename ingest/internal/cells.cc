#include "ingest/internal/cells.h"

#include <charconv>
#include <cmath>

namespace vesta::ingest::internal {
namespace {

// True for "0" followed by a digit after an optional sign: "007", "-01.5".
bool HasLeadingZero(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return s.size() >= 2 && s[0] == '0' && s[1] >= '0' && s[1] <= '9';
}

// Rewrites "YYYY.MM.DD" / "YYYY/MM/DD" to "YYYY-MM-DD" in `buf`; returns the
// text to parse (either `s` or the rewritten buffer).
std::string_view NormaliseDate(std::string_view s, char* buf) {
  if (s.size() == 10 && (s[4] == '.' || s[4] == '/') && s[7] == s[4]) {
    for (size_t i = 0; i < 10; ++i) buf[i] = s[i];
    buf[4] = buf[7] = '-';
    return std::string_view(buf, 10);
  }
  return s;
}

}  // namespace

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

NaSet::NaSet(const std::vector<std::string>& tokens) {
  for (const std::string& t : tokens) {
    std::string_view trimmed = TrimSpaces(t);
    tokens_.emplace_back(trimmed);
    if (trimmed.size() < 64) {
      length_mask_ |= uint64_t{1} << trimmed.size();
    } else {
      has_long_ = true;
    }
  }
}

bool NaSet::IsNa(std::string_view trimmed) const {
  if (trimmed.size() < 64) {
    if ((length_mask_ & (uint64_t{1} << trimmed.size())) == 0) return false;
  } else if (!has_long_) {
    return false;
  }
  for (const std::string& t : tokens_) {
    if (t == trimmed) return true;
  }
  return false;
}

const char* SkipPlusSign(const char* b, const char* e) {
  if (b != e && *b == '+') {
    ++b;
    if (b != e && (*b == '+' || *b == '-')) return nullptr;
  }
  return b;
}

bool LooksInteger(std::string_view s) {
  if (HasLeadingZero(s)) return false;
  const char* e = s.data() + s.size();
  const char* b = SkipPlusSign(s.data(), e);
  if (b == nullptr) return false;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(b, e, v);
  return ec == std::errc() && p == e;
}

bool LooksNumber(std::string_view s) {
  if (HasLeadingZero(s)) return false;
  const char* e = s.data() + s.size();
  const char* b = SkipPlusSign(s.data(), e);
  if (b == nullptr) return false;
  if (b == e) return false;
  double v = 0;
  auto [p, ec] = std::from_chars(b, e, v);
  return ec == std::errc() && p == e && std::isfinite(v);
}

bool LooksBoolean(std::string_view s) {
  return EqualsIgnoreCase(s, "true") || EqualsIgnoreCase(s, "false");
}

bool LooksDate(std::string_view s) {
  if (s.size() != 10) return false;
  char buf[10];
  return ParseValue(NormaliseDate(s, buf), DataType::DateT()).ok();
}

bool LooksTimestamp(std::string_view s) {
  if (s.size() < 19) return false;  // a bare date is a DATE, not a TIMESTAMP
  return ParseTimestamp(s).ok();
}

Result<Value> ConvertCell(std::string_view text, const DataType& type, const NaSet& na) {
  std::string_view trimmed = TrimSpaces(text);
  if (na.IsNa(trimmed)) return Value::Null();
  switch (type.id) {
    case TypeId::kString:
      return Value::Str(std::string(text));
    case TypeId::kBigint: {
      // Fast path without ParseValue's checks duplicated: from_chars, whole cell.
      const char* b = trimmed.data();
      const char* e = b + trimmed.size();
      if (b != e && *b == '+') ++b;
      int64_t v = 0;
      auto [p, ec] = std::from_chars(b, e, v);
      if (ec == std::errc() && p == e && b != e) return Value::Int(v);
      return ParseValue(trimmed, type);
    }
    case TypeId::kDouble: {
      const char* b = trimmed.data();
      const char* e = b + trimmed.size();
      if (b != e && *b == '+') ++b;
      double v = 0;
      auto [p, ec] = std::from_chars(b, e, v);
      if (ec == std::errc() && p == e && b != e && std::isfinite(v)) return Value::Real(v);
      return ParseValue(trimmed, type);
    }
    case TypeId::kDate: {
      char buf[10];
      return ParseValue(NormaliseDate(trimmed, buf), type);
    }
    default:
      return ParseValue(trimmed, type);
  }
}

std::string CellError(std::string_view source, int64_t line, std::string_view column, std::string_view message) {
  std::string out;
  out.reserve(source.size() + column.size() + message.size() + 32);
  out.append(source).append(":").append(std::to_string(line)).append(": column '");
  out.append(column).append("': ").append(message);
  return out;
}

}  // namespace vesta::ingest::internal
