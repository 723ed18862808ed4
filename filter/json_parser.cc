// filters_json: Mosaic's dictionary filter form, parsed with nlohmann::json.
// nlohmann's exceptions stop here and become Status.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "filter/internal/match.h"
#include "filter/parser.h"

namespace vesta::filter {
namespace {

using Json = nlohmann::ordered_json;  // keeps the user's key order for ToString and errors

std::string_view TrimSpaces(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string KindName(const Json& v) {
  if (v.is_array()) return v.empty() ? "an empty list" : "a list";
  if (v.is_object()) return "an object";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  return "null";
}

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsIdentChar(char c) {
  return IsIdentStart(c) || (c >= '0' && c <= '9');
}

enum class KeyOp { kEq, kNot, kLt, kLe, kGt, kGe, kLike };

struct KeySpec {
  std::vector<std::string> columns;  // more than one: the position-wise OR form
  KeyOp op = KeyOp::kEq;
};

CompareOp ToCompareOp(KeyOp op) {
  switch (op) {
    case KeyOp::kLt:
      return CompareOp::kLt;
    case KeyOp::kLe:
      return CompareOp::kLe;
    case KeyOp::kGt:
      return CompareOp::kGt;
    case KeyOp::kGe:
      return CompareOp::kGe;
    case KeyOp::kNot:
      return CompareOp::kNe;
    default:
      return CompareOp::kEq;
  }
}

class JsonFilterParser {
 public:
  Result<Expr> ParseTop(const Json& j) {
    std::vector<Expr> parts;
    if (j.is_object()) {
      VESTA_ASSIGN_OR_RETURN(Expr e, ParseObject(j));
      return e;
    }
    if (!j.is_array()) {
      return Status::InvalidArgument("filters_json: expected a JSON object such as {\"col\": value}, got " +
                                     KindName(j));
    }
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_object()) {
        return Status::InvalidArgument("filters_json: element " + std::to_string(i) +
                                       " of the top-level list: expected an object, got " + KindName(j[i]));
      }
      VESTA_ASSIGN_OR_RETURN(Expr e, ParseObject(j[i]));
      parts.push_back(std::move(e));
    }
    return Expr::And(std::move(parts));
  }

 private:
  Result<Expr> ParseObject(const Json& obj) {
    std::vector<Expr> parts;
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      key_ = it.key();
      VESTA_ASSIGN_OR_RETURN(KeySpec spec, ParseKey(key_));
      VESTA_ASSIGN_OR_RETURN(Expr e, spec.columns.size() > 1
                                         ? ParseOrForm(spec, it.value())
                                         : ParseEntry(spec.columns[0], spec.op, it.value()));
      parts.push_back(std::move(e));
    }
    return Expr::And(std::move(parts));
  }

  Status KeyError(const std::string& msg) const {
    return Status::InvalidArgument("filters_json: key '" + key_ + "': " + msg);
  }

  Result<KeySpec> ParseKey(std::string_view raw) const {
    std::string_view key = TrimSpaces(raw);
    std::vector<std::string_view> words;
    for (size_t i = 0; i < key.size();) {
      while (i < key.size() && (key[i] == ' ' || key[i] == '\t')) ++i;
      size_t b = i;
      while (i < key.size() && key[i] != ' ' && key[i] != '\t') ++i;
      if (i > b) words.push_back(key.substr(b, i - b));
    }
    auto is_column = [](std::string_view w) {
      return !w.empty() && IsIdentStart(w[0]) && IsValidIdentifier(w);
    };
    KeySpec spec;
    bool has_or = false;
    for (size_t i = 1; i < words.size(); i += 2) has_or = has_or || EqualsIgnoreCase(words[i], "OR");
    if (has_or) {
      for (size_t i = 0; i < words.size(); ++i) {
        if (i % 2 == 1 && !EqualsIgnoreCase(words[i], "OR")) {
          return KeyError("expected OR between columns in 'col1 OR col2 ...', got '" + std::string(words[i]) +
                          "'");
        }
        if (i % 2 == 0 && !is_column(words[i])) {
          return KeyError("expected a column name in 'col1 OR col2 ...', got '" + std::string(words[i]) +
                          "'");
        }
        if (i % 2 == 0) spec.columns.emplace_back(words[i]);
      }
      if (words.size() % 2 == 0) return KeyError("expected a column name after the last OR");
      return spec;
    }
    size_t end = 0;
    while (end < key.size() && IsIdentChar(key[end])) ++end;
    std::string_view column = key.substr(0, end);
    if (!is_column(column)) {
      return KeyError("expected a column name at the start of the key (letters, digits and '_')");
    }
    spec.columns.emplace_back(column);
    std::string_view op_text = TrimSpaces(key.substr(end));
    std::string op = AsciiUpper(op_text);
    if (op.empty() || op == "=") {
      spec.op = KeyOp::kEq;
    } else if (op == "NOT" || op == "!=" || op == "<>") {
      spec.op = KeyOp::kNot;
    } else if (op == "<") {
      spec.op = KeyOp::kLt;
    } else if (op == "<=") {
      spec.op = KeyOp::kLe;
    } else if (op == ">") {
      spec.op = KeyOp::kGt;
    } else if (op == ">=") {
      spec.op = KeyOp::kGe;
    } else if (op == "LIKE") {
      spec.op = KeyOp::kLike;
    } else {
      return KeyError("unknown operator '" + std::string(op_text) +
                      "' (expected NOT, <, <=, >, >=, LIKE, or the form 'col1 OR col2')");
    }
    return spec;
  }

  Status CountValue() {
    if (++value_count_ > kMaxValues)
      return KeyError("filter has more than " + std::to_string(kMaxValues) + " values");
    return Status::OK();
  }

  // A JSON scalar as a typed literal. `where` prefixes errors ("" or "element 2 of the list: ").
  Result<Operand> Scalar(const Json& v, const std::string& where) {
    VESTA_RETURN_IF_ERROR(CountValue());
    switch (v.type()) {
      case Json::value_t::null:
        return Operand::Literal(Value::Null());
      case Json::value_t::boolean:
        return Operand::Literal(Value::Bool(v.get<bool>()));
      case Json::value_t::number_integer:
        return Operand::Literal(Value::Int(v.get<int64_t>()));
      case Json::value_t::number_unsigned: {
        uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return KeyError(where + "integer " + std::to_string(u) + " is out of the BIGINT range");
        }
        return Operand::Literal(Value::Int(static_cast<int64_t>(u)));
      }
      case Json::value_t::number_float:
        return Operand::Literal(Value::Real(v.get<double>()));
      case Json::value_t::string:
        return Operand::Literal(Value::Str(v.get<std::string>()));
      default:
        return KeyError(where + "expected a scalar value (string, number, boolean or null), got " +
                        KindName(v));
    }
  }

  // {"col": v} / {"col NOT": v} with v a scalar, null or a list.
  Result<Expr> EqualityEntry(const std::string& column, bool negated, const Json& v) {
    if (v.is_object()) return KeyError("expected a value or a list of values, got an object");
    if (v.is_array()) {
      if (v.empty()) return KeyError("expected a non-empty list of values, got an empty list");
      if (v.size() > kMaxInListItems) {
        return KeyError("list has " + std::to_string(v.size()) + " values; the limit is " +
                        std::to_string(kMaxInListItems));
      }
      std::vector<Operand> values;
      for (size_t i = 0; i < v.size(); ++i) {
        VESTA_ASSIGN_OR_RETURN(Operand o, Scalar(v[i], "element " + std::to_string(i) + " of the list: "));
        values.push_back(std::move(o));
      }
      return Expr::In(Operand::Column(column), std::move(values), negated);
    }
    if (v.is_null()) return Expr::IsNull(Operand::Column(column), negated);
    VESTA_ASSIGN_OR_RETURN(Operand o, Scalar(v, ""));
    return Expr::Compare(Operand::Column(column), negated ? CompareOp::kNe : CompareOp::kEq, std::move(o));
  }

  Result<Expr> ParseEntry(const std::string& column, KeyOp op, const Json& v) {
    switch (op) {
      case KeyOp::kEq:
        return EqualityEntry(column, false, v);
      case KeyOp::kNot:
        return EqualityEntry(column, true, v);
      case KeyOp::kLike: {
        if (!v.is_string()) return KeyError("expected a string, got " + KindName(v));
        VESTA_RETURN_IF_ERROR(CountValue());
        std::string text = v.get<std::string>();
        if (text.find('%') != std::string::npos) {
          std::string why = internal::ValidateLikePattern(text);
          if (!why.empty()) return KeyError(why);
          return Expr::Like(Operand::Column(column), std::move(text));
        }
        std::string why = internal::ValidateToken(internal::StripTokenSeparators(text));
        if (!why.empty())
          return KeyError(why + ", got '" + text.substr(0, 40) + (text.size() > 40 ? "...'" : "'"));
        return Expr::HasToken(Operand::Column(column), std::move(text));
      }
      default: {
        if (!v.is_number() && !v.is_string()) {
          return KeyError("expected a number or a string, got " + KindName(v));
        }
        VESTA_ASSIGN_OR_RETURN(Operand o, Scalar(v, ""));
        return Expr::Compare(Operand::Column(column), ToCompareOp(op), std::move(o));
      }
    }
  }

  Result<Expr> ParseOrForm(const KeySpec& spec, const Json& v) {
    const size_t n = spec.columns.size();
    if (!v.is_array() || v.size() != n) {
      std::string got = v.is_array() ? "a list of " + std::to_string(v.size()) + " values" : KindName(v);
      return KeyError("expected a list of " + std::to_string(n) + " values (one per column), got " + got);
    }
    std::vector<Expr> terms;
    for (size_t i = 0; i < n; ++i) {
      VESTA_ASSIGN_OR_RETURN(Expr e, EqualityEntry(spec.columns[i], false, v[i]));
      terms.push_back(std::move(e));
    }
    return Expr::Or(std::move(terms));
  }

  std::string key_;  // the key being parsed, for errors
  size_t value_count_ = 0;
};

// nlohmann's what() starts with "[json.exception.parse_error.101] ".
std::string CleanJsonMessage(std::string_view what) {
  size_t p = what.find("] ");
  if (!what.empty() && what[0] == '[' && p != std::string_view::npos) what.remove_prefix(p + 2);
  return std::string(what);
}

}  // namespace

Result<Expr> ParseFiltersJson(std::string_view json_text) {
  if (json_text.size() > kMaxFilterBytes) {
    return Status::InvalidArgument("filters_json: " + std::to_string(json_text.size()) +
                                   " bytes is over the limit of " + std::to_string(kMaxFilterBytes));
  }
  try {
    Json j = Json::parse(json_text.begin(), json_text.end());
    return JsonFilterParser().ParseTop(j);
  } catch (const Json::parse_error& e) {
    return Status::InvalidArgument("filters_json: invalid JSON: " + CleanJsonMessage(e.what()));
  } catch (const Json::exception& e) {
    return Status::InvalidArgument("filters_json: " + CleanJsonMessage(e.what()));
  }
}

}  // namespace vesta::filter
