#include "filter/bind.h"

#include <algorithm>
#include <cmath>

#include "filter/internal/match.h"

namespace vesta::filter {
namespace {

constexpr size_t kMaxColumnsListed = 20;
constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;

Status BindError(const std::string& msg) {
  return Status::InvalidArgument("filter: " + msg);
}

void CollectIndices(const Expr& e, std::vector<int>* out) {
  const Node& n = e.node();
  if (n.subject.is_column()) out->push_back(n.subject.column_index);
  for (const Operand& o : n.values) {
    if (o.is_column()) out->push_back(o.column_index);
  }
  for (const Expr& c : n.children) CollectIndices(c, out);
}

class Binder {
 public:
  explicit Binder(const Schema& schema) : schema_(schema) {}

  Result<Expr> BindExpr(const Expr& e) {
    const Node& n = e.node();
    Node out = n;
    switch (n.kind) {
      case ExprKind::kConstant:
      case ExprKind::kIsMember:
        return e;
      case ExprKind::kAnd:
      case ExprKind::kOr:
      case ExprKind::kNot:
        if (n.children.empty() || (n.kind == ExprKind::kNot && n.children.size() != 1)) {
          return BindError("malformed " + std::string(n.kind == ExprKind::kNot ? "NOT" : "AND/OR") +
                           " with " + std::to_string(n.children.size()) + " operands");
        }
        for (size_t i = 0; i < n.children.size(); ++i) {
          VESTA_ASSIGN_OR_RETURN(out.children[i], BindExpr(n.children[i]));
        }
        return MakeExpr(std::move(out));
      case ExprKind::kCompare: {
        if (n.values.size() != 1) return BindError("malformed comparison");
        if (n.subject.is_literal()) {
          return BindError("a comparison needs a column or current_user() on one side, got " + e.ToString());
        }
        break;
      }
      case ExprKind::kBetween:
        if (n.values.size() != 2) return BindError("malformed BETWEEN");
        break;
      case ExprKind::kIn:
        if (n.values.empty()) return BindError("IN list is empty");
        if (n.values.size() > kMaxInListItems) {
          return BindError("IN list has more than " + std::to_string(kMaxInListItems) + " values");
        }
        break;
      case ExprKind::kIsNull:
      case ExprKind::kIsTrue:
      case ExprKind::kIsFalse:
        if (!n.values.empty()) return BindError("malformed IS predicate");
        break;
      case ExprKind::kLike:
      case ExprKind::kHasToken:
        if (n.values.size() != 1 || !n.values[0].is_literal() || !n.values[0].literal.is_string()) {
          return BindError(std::string(n.kind == ExprKind::kLike ? "LIKE" : "has_token") +
                           " needs a string literal pattern, got " + e.ToString());
        }
        break;
    }
    VESTA_ASSIGN_OR_RETURN(out.subject, BindSubject(n.subject, e));
    const DataType type = SubjectType(out.subject);
    switch (n.kind) {
      case ExprKind::kIsTrue:
      case ExprKind::kIsFalse:
        if (type.id != TypeId::kBoolean) {
          return BindError(std::string(n.kind == ExprKind::kIsTrue ? "IS TRUE" : "IS FALSE") +
                           " needs a BOOLEAN operand; " + Describe(out.subject) + " is " + type.ToString());
        }
        break;
      case ExprKind::kLike:
      case ExprKind::kHasToken: {
        const char* what = n.kind == ExprKind::kLike ? "LIKE" : "has_token";
        if (type.id != TypeId::kString) {
          return BindError(std::string(what) + " needs a STRING operand; " + Describe(out.subject) + " is " +
                           type.ToString());
        }
        const std::string& pattern = n.values[0].literal.as_string();
        std::string why = n.kind == ExprKind::kLike ? internal::ValidateLikePattern(pattern) : "";
        if (n.kind == ExprKind::kHasToken) {
          why = internal::StripTokenSeparators(pattern) != pattern
                    ? "token has leading or trailing separators"
                    : internal::ValidateToken(pattern);
        }
        if (!why.empty()) return BindError(why);
        break;
      }
      default:
        for (size_t i = 0; i < n.values.size(); ++i) {
          VESTA_ASSIGN_OR_RETURN(out.values[i], Coerce(n.values[i], out.subject, type));
        }
    }
    return MakeExpr(std::move(out));
  }

 private:
  static std::string Describe(const Operand& subject) {
    return subject.is_column() ? "column '" + subject.column + "'" : "current_user()";
  }

  DataType SubjectType(const Operand& bound) const {
    return bound.is_column() ? schema_.columns[static_cast<size_t>(bound.column_index)].type
                             : DataType::String();
  }

  Status UnknownColumn(const std::string& name) const {
    std::string list;
    for (size_t i = 0; i < schema_.columns.size() && i < kMaxColumnsListed; ++i) {
      if (i > 0) list += ", ";
      list += schema_.columns[i].name;
    }
    if (schema_.columns.size() > kMaxColumnsListed) {
      list += ", ... and " + std::to_string(schema_.columns.size() - kMaxColumnsListed) + " more";
    }
    return BindError("unknown column '" + name + "' (columns: " + list + ")");
  }

  Result<Operand> BindColumn(const Operand& o) const {
    int index = schema_.FindColumn(o.column);
    if (index < 0) return UnknownColumn(o.column);
    const Column& c = schema_.columns[static_cast<size_t>(index)];
    if (c.type.id == TypeId::kVector) {
      return BindError("column '" + c.name + "' is " + c.type.ToString() +
                       "; vector columns cannot be used in filters");
    }
    return Operand{Operand::Kind::kColumn, c.name, index, Value()};
  }

  Result<Operand> BindSubject(const Operand& o, const Expr& e) const {
    if (o.is_literal()) {
      return BindError("expected a column or current_user() as the operand of " + e.ToString());
    }
    if (o.is_current_user()) return o;
    return BindColumn(o);
  }

  Result<Operand> Coerce(const Operand& value, const Operand& subject, const DataType& type) const {
    if (value.is_column()) {
      VESTA_ASSIGN_OR_RETURN(Operand c, BindColumn(value));
      return BindError("cannot compare " + Describe(subject) + " with column '" + c.column +
                       "': comparing two columns is not supported");
    }
    if (value.is_current_user()) {
      if (subject.is_current_user()) return BindError("cannot compare current_user() with itself");
      if (type.id != TypeId::kString) {
        return BindError("cannot compare " + Describe(subject) + " (" + type.ToString() +
                         ") with current_user() (STRING)");
      }
      return value;
    }
    const Value& v = value.literal;
    if (v.is_null()) return value;
    auto mismatch = [&]() {
      return BindError("cannot compare " + Describe(subject) + " (" + type.ToString() + ") with " +
                       value.ToString() + " (" + std::string(v.TypeName()) + ")");
    };
    auto parse_error = [&](const Status& st) {
      return BindError(Describe(subject) + " is " + type.ToString() + " and '" + v.as_string() +
                       "' is not a valid " + type.ToString() + ": " + st.message());
    };
    if (v.is_double() && !std::isfinite(v.as_double()))
      return BindError("literal " + v.ToString() + " is not finite");
    switch (type.id) {
      case TypeId::kBigint:
        if (v.is_int() || v.is_double()) return value;  // DOUBLE vs BIGINT: numeric comparison
        return mismatch();
      case TypeId::kDouble:
        if (v.is_double()) return value;
        if (v.is_int()) return Operand::Literal(Value::Real(static_cast<double>(v.as_int())));
        return mismatch();
      case TypeId::kString:
        if (v.is_string()) return value;
        return mismatch();
      case TypeId::kBoolean:
        if (v.is_bool()) return value;
        return mismatch();
      case TypeId::kDate: {
        if (v.is_date()) return value;
        if (!v.is_string()) return mismatch();
        if (v.as_string().empty()) return parse_error(Status::InvalidArgument("empty string"));
        Result<Value> d = ParseValue(v.as_string(), DataType::DateT());
        if (!d.ok()) return parse_error(d.status());
        return Operand::Literal(std::move(d).value());
      }
      case TypeId::kTimestamp: {
        if (v.is_timestamp()) return value;
        if (v.is_date()) return Operand::Literal(Value::Ts(Timestamp{v.as_date().days * kMicrosPerDay}));
        if (!v.is_string()) return mismatch();
        Result<Timestamp> t = ParseTimestamp(v.as_string());
        if (!t.ok()) return parse_error(t.status());
        return Operand::Literal(Value::Ts(*t));
      }
      case TypeId::kVector:
        break;  // rejected by BindColumn
    }
    return mismatch();
  }

  const Schema& schema_;
};

}  // namespace

std::vector<int> BoundExpr::ReferencedColumns() const {
  std::vector<int> out;
  CollectIndices(expr_, &out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<BoundExpr> Bind(const Expr& expr, const Schema& schema) {
  VESTA_ASSIGN_OR_RETURN(Expr bound, Binder(schema).BindExpr(expr));
  return BoundExpr(std::move(bound), schema.columns.size());
}

}  // namespace vesta::filter
