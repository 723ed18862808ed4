// The small set of shared value types: column types, typed values, table
// schemas and rows. Shared by filter/, governance/, index/ and ingest/.
//
// Thread-safety: all types here are plain values (thread-compatible).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace vesta {

// The column types of a Vesta table.
enum class TypeId : uint8_t {
  kBigint,     // int64
  kDouble,     // IEEE 754 binary64
  kString,     // UTF-8
  kBoolean,
  kDate,       // days since 1970-01-01 (proleptic Gregorian)
  kTimestamp,  // microseconds since 1970-01-01T00:00:00Z
  kVector,     // float32[dim], 1 <= dim <= kMaxVectorDim
};

inline constexpr int kMaxVectorDim = 4096;

struct DataType {
  TypeId id = TypeId::kString;
  int dim = 0;  // VECTOR only

  static DataType Bigint() { return {TypeId::kBigint, 0}; }
  static DataType Double() { return {TypeId::kDouble, 0}; }
  static DataType String() { return {TypeId::kString, 0}; }
  static DataType Boolean() { return {TypeId::kBoolean, 0}; }
  static DataType DateT() { return {TypeId::kDate, 0}; }
  static DataType TimestampT() { return {TypeId::kTimestamp, 0}; }
  static DataType Vector(int d) { return {TypeId::kVector, d}; }

  bool operator==(const DataType&) const = default;
  bool is_numeric() const { return id == TypeId::kBigint || id == TypeId::kDouble; }

  // "BIGINT", "DOUBLE", "STRING", "BOOLEAN", "DATE", "TIMESTAMP", "VECTOR(724)".
  std::string ToString() const;
  // Parses the spelling of ToString(), case-insensitively; also accepts the
  // aliases INT/INTEGER/LONG, FLOAT/REAL, TEXT/VARCHAR, BOOL.
  // Errors: InvalidArgument naming the text and the accepted spellings, or a
  // vector dimension outside 1..kMaxVectorDim.
  static Result<DataType> Parse(std::string_view text);
};

struct Date {
  int32_t days = 0;  // since 1970-01-01
  auto operator<=>(const Date&) const = default;
};
struct Timestamp {
  int64_t micros = 0;  // since the Unix epoch, UTC
  auto operator<=>(const Timestamp&) const = default;
};

// A typed value or NULL. Vectors hold float32 components.
class Value {
 public:
  using Storage = std::variant<std::monostate, int64_t, double, std::string, bool, Date, Timestamp,
                               std::vector<float>>;

  Value() = default;  // NULL
  static Value Null() { return Value(); }
  static Value Int(int64_t v) { return Value(Storage(v)); }
  static Value Real(double v) { return Value(Storage(v)); }
  static Value Str(std::string v) { return Value(Storage(std::move(v))); }
  static Value Bool(bool v) { return Value(Storage(v)); }
  static Value DateV(Date v) { return Value(Storage(v)); }
  static Value Ts(Timestamp v) { return Value(Storage(v)); }
  static Value Vec(std::vector<float> v) { return Value(Storage(std::move(v))); }

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_double() const { return std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_date() const { return std::holds_alternative<Date>(v_); }
  bool is_timestamp() const { return std::holds_alternative<Timestamp>(v_); }
  bool is_vector() const { return std::holds_alternative<std::vector<float>>(v_); }

  // REQUIRES: the matching is_*() is true.
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_double() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  bool as_bool() const { return std::get<bool>(v_); }
  Date as_date() const { return std::get<Date>(v_); }
  Timestamp as_timestamp() const { return std::get<Timestamp>(v_); }
  const std::vector<float>& as_vector() const { return std::get<std::vector<float>>(v_); }
  std::vector<float>& mutable_vector() { return std::get<std::vector<float>>(v_); }

  // Numeric view: BIGINT and DOUBLE as double. REQUIRES: is_int() || is_double().
  double as_number() const { return is_int() ? static_cast<double>(as_int()) : as_double(); }

  // The type name of the held value: "NULL", "BIGINT", "DOUBLE", "STRING",
  // "BOOLEAN", "DATE", "TIMESTAMP" or "VECTOR" (no dimension), for messages.
  std::string_view TypeName() const;

  // True if the value can be stored in a column of type `t` (NULL fits all).
  bool FitsType(const DataType& t) const;

  // Display form: NULL, 42, 1.5, text (unquoted), true, 2024-01-31,
  // 2024-01-31T10:00:00.000000Z, [0.1, 0.2, ...] (vectors abbreviated past
  // `max_vector_items` components).
  std::string ToString(size_t max_vector_items = 8) const;

  // Exact equality, type-sensitive (1 != 1.0), NULL == NULL; vectors
  // compare bit-for-bit. For change detection, not for SQL semantics.
  bool operator==(const Value& o) const { return v_ == o.v_; }

  const Storage& storage() const { return v_; }

 private:
  explicit Value(Storage s) : v_(std::move(s)) {}
  Storage v_;
};

// Three-way comparison for filters and sorting: numbers compare across
// BIGINT/DOUBLE; otherwise both sides must be the same kind. Returns
// nullopt when either side is NULL or the kinds are not comparable
// (SQL's UNKNOWN).
std::optional<int> CompareValues(const Value& a, const Value& b);

// Parses `text` as a value of type `t`. The empty string is NULL for every
// type but STRING (where it stays ""). Accepted forms: BIGINT decimal
// integers; DOUBLE decimal/scientific, "nan"/"inf" rejected; BOOLEAN
// true/false/1/0/yes/no (any case); DATE YYYY-MM-DD; TIMESTAMP
// "YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z]" (UTC); VECTOR "[a, b, ...]" or
// "a,b,..." with exactly t.dim finite components.
// Errors: InvalidArgument "expected <TYPE>, got '<text>'" (no field name:
// the caller adds the file, line and column).
Result<Value> ParseValue(std::string_view text, const DataType& t);

// Calendar helpers (proleptic Gregorian, UTC).
// Errors: InvalidArgument for an impossible date such as 2023-02-30.
Result<Date> MakeDate(int year, int month, int day);
std::string FormatDate(Date d);
std::string FormatTimestamp(Timestamp t);
// Parses "YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z]" or a bare date (midnight).
Result<Timestamp> ParseTimestamp(std::string_view text);
// Wall clock now, microseconds since the epoch.
Timestamp NowTimestamp();

struct Column {
  std::string name;
  DataType type;
  bool nullable = true;
  std::string comment;
};

using Row = std::vector<Value>;

// A table schema: ordered columns and the name of the primary-key column.
// The primary key is one BIGINT or STRING column, never NULL.
struct Schema {
  std::vector<Column> columns;
  std::string primary_key;

  // Index of the column named `name` (case-insensitive), or -1.
  int FindColumn(std::string_view name) const;
  // Index of the primary-key column, or -1 if it is not set or unknown.
  int primary_key_index() const { return FindColumn(primary_key); }

  // Checks names (identifiers [A-Za-z_][A-Za-z0-9_]*, at most 128 bytes,
  // unique ignoring case), that the primary key exists and is a non-null
  // BIGINT or STRING column, and vector dimensions.
  // Errors: InvalidArgument naming the offending column.
  Status Validate() const;

  // Checks that `row` has one value per column, each fitting its column's
  // type and nullability (vectors of exactly dim finite floats).
  // Errors: InvalidArgument "column 'x': expected VECTOR(724), got 512 values".
  Status ValidateRow(const Row& row) const;
};

// True if `name` is a valid identifier for a catalog, schema, table or column.
bool IsValidIdentifier(std::string_view name);

// ASCII case-insensitive equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// ASCII case mapping: A-Z <-> a-z, every other byte unchanged (no locale),
// for names and keywords, which compare ignoring ASCII case.
std::string AsciiLower(std::string_view s);
std::string AsciiUpper(std::string_view s);

}  // namespace vesta
