#include "filter/eval.h"

#include <cassert>
#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "filter/internal/match.h"

namespace vesta::filter {
namespace {

Truth FromBool(bool b) {
  return b ? Truth::kTrue : Truth::kFalse;
}

Truth Negate(Truth t) {
  if (t == Truth::kUnknown) return t;
  return t == Truth::kTrue ? Truth::kFalse : Truth::kTrue;
}

// Exact comparison of an integer with a double, as SQLite does it.
// CompareValues converts the integer to double, which rounds above 2^53.
int CompareIntDouble(int64_t i, double d) {
  if (d >= 9223372036854775808.0) return -1;  // 2^63: above every int64
  if (d < -9223372036854775808.0) return 1;
  double t = std::trunc(d);
  int64_t ti = static_cast<int64_t>(t);
  if (i != ti) return i < ti ? -1 : 1;
  return d > t ? -1 : (d < t ? 1 : 0);
}

std::optional<int> Compare(const Value& a, const Value& b) {
  if (a.is_int() && b.is_double() && !std::isnan(b.as_double()))
    return CompareIntDouble(a.as_int(), b.as_double());
  if (a.is_double() && b.is_int() && !std::isnan(a.as_double()))
    return -CompareIntDouble(b.as_int(), a.as_double());
  return CompareValues(a, b);
}

Truth ApplyOp(CompareOp op, std::optional<int> c) {
  if (!c) return Truth::kUnknown;
  switch (op) {
    case CompareOp::kEq:
      return FromBool(*c == 0);
    case CompareOp::kNe:
      return FromBool(*c != 0);
    case CompareOp::kLt:
      return FromBool(*c < 0);
    case CompareOp::kLe:
      return FromBool(*c <= 0);
    case CompareOp::kGt:
      return FromBool(*c > 0);
    case CompareOp::kGe:
      return FromBool(*c >= 0);
  }
  return Truth::kUnknown;
}

class Evaluator {
 public:
  Evaluator(const Row& row, const EvalContext& ctx)
      : row_(row), ctx_(ctx), user_(ctx.current_user.empty() ? Value() : Value::Str(ctx.current_user)) {}

  Truth Eval(const Node& n) const {
    switch (n.kind) {
      case ExprKind::kConstant:
        return n.constant;
      case ExprKind::kAnd: {
        Truth acc = Truth::kTrue;
        for (const Expr& c : n.children) {
          Truth t = Eval(c.node());
          if (t == Truth::kFalse) return t;
          if (t == Truth::kUnknown) acc = t;
        }
        return acc;
      }
      case ExprKind::kOr: {
        Truth acc = Truth::kFalse;
        for (const Expr& c : n.children) {
          Truth t = Eval(c.node());
          if (t == Truth::kTrue) return t;
          if (t == Truth::kUnknown) acc = t;
        }
        return acc;
      }
      case ExprKind::kNot:
        return Negate(Eval(n.children[0].node()));
      case ExprKind::kCompare:
        return ApplyOp(n.op, Compare(Get(n.subject), Get(n.values[0])));
      case ExprKind::kBetween: {
        const Value& x = Get(n.subject);
        Truth lo = ApplyOp(CompareOp::kGe, Compare(x, Get(n.values[0])));
        Truth hi = ApplyOp(CompareOp::kLe, Compare(x, Get(n.values[1])));
        Truth both = (lo == Truth::kFalse || hi == Truth::kFalse)
                         ? Truth::kFalse
                         : (lo == Truth::kUnknown || hi == Truth::kUnknown ? Truth::kUnknown : Truth::kTrue);
        return n.negated ? Negate(both) : both;
      }
      case ExprKind::kIn: {
        const Value& x = Get(n.subject);
        if (n.in_strings && x.is_string()) {  // every value a STRING literal: equal or not, never UNKNOWN
          const Truth t = n.in_strings->count(x.as_string()) ? Truth::kTrue : Truth::kFalse;
          return n.negated ? Negate(t) : t;
        }
        Truth acc = Truth::kFalse;
        for (const Operand& o : n.values) {
          Truth t = ApplyOp(CompareOp::kEq, Compare(x, Get(o)));
          if (t == Truth::kTrue) {
            acc = t;
            break;
          }
          if (t == Truth::kUnknown) acc = t;
        }
        return n.negated ? Negate(acc) : acc;
      }
      case ExprKind::kIsNull:
        return FromBool(Get(n.subject).is_null() != n.negated);
      case ExprKind::kIsTrue:
      case ExprKind::kIsFalse: {
        const Value& x = Get(n.subject);
        bool want = n.kind == ExprKind::kIsTrue;
        bool is = x.is_bool() && x.as_bool() == want;
        return FromBool(is != n.negated);
      }
      case ExprKind::kLike: {
        const Value& x = Get(n.subject);
        if (!x.is_string()) return Truth::kUnknown;
        bool m = internal::LikeMatch(x.as_string(), n.values[0].literal.as_string());
        return FromBool(m != n.negated);
      }
      case ExprKind::kHasToken: {
        const Value& x = Get(n.subject);
        if (!x.is_string()) return Truth::kUnknown;
        return FromBool(internal::HasToken(x.as_string(), n.values[0].literal.as_string()));
      }
      case ExprKind::kIsMember:
        return FromBool(ctx_.is_member && ctx_.is_member(n.group));
    }
    return Truth::kUnknown;
  }

 private:
  const Value& Get(const Operand& o) const {
    switch (o.kind) {
      case Operand::Kind::kColumn:
        assert(o.column_index >= 0 && static_cast<size_t>(o.column_index) < row_.size());
        return row_[static_cast<size_t>(o.column_index)];
      case Operand::Kind::kLiteral:
        return o.literal;
      case Operand::Kind::kCurrentUser:
        return user_;
    }
    return o.literal;
  }

  const Row& row_;
  const EvalContext& ctx_;
  const Value user_;  // current_user() as a value: NULL when there is no caller identity
};

}  // namespace

EvalContext EvalContext::ForUser(std::string user, std::initializer_list<std::string_view> groups) {
  EvalContext ctx;
  ctx.current_user = std::move(user);
  auto set = std::make_shared<std::set<std::string, std::less<>>>();
  for (std::string_view g : groups) set->emplace(g);
  ctx.is_member = [set](std::string_view g) { return set->count(g) > 0; };
  return ctx;
}

Truth Evaluate(const BoundExpr& expr, const Row& row, const EvalContext& ctx) {
  assert(row.size() == expr.column_count());
  return Evaluator(row, ctx).Eval(expr.expr().node());
}

}  // namespace vesta::filter
