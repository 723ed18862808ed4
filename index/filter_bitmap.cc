#include "index/filter_bitmap.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vesta::index {

using filter::CompareOp;
using filter::Expr;
using filter::ExprKind;
using filter::Node;
using filter::Operand;
using filter::Truth;

namespace {

// A node's value over all ids [0, n): `t` where it is TRUE, `u` where it is
// UNKNOWN (disjoint from `t`), FALSE elsewhere.
struct Tri {
  Roaring t;
  Roaring u;
};

bool ReferencesColumn(const Expr& e) {
  const Node& n = e.node();
  if (n.subject.is_column()) return true;
  for (const Operand& o : n.values) {
    if (o.is_column()) return true;
  }
  for (const Expr& c : n.children) {
    if (ReferencesColumn(c)) return true;
  }
  return false;
}

// The bytes every string matching the LIKE `pattern` starts with: its
// characters up to the first unescaped '%' or '_', escapes removed. A
// literal character matches only the same bytes, so a match always has this
// prefix.
std::string LikeLiteralPrefix(std::string_view pattern) {
  std::string prefix;
  for (size_t j = 0; j < pattern.size(); ++j) {
    char c = pattern[j];
    if (c == '%' || c == '_') break;
    if (c == '\\') {
      if (++j == pattern.size()) break;
      c = pattern[j];
    }
    prefix += c;
  }
  return prefix;
}

// Checks that every column operand of `e` names the store column at its
// index, i.e. that `e` was bound against the store's schema.
Status CheckBoundTo(const Expr& e, const Schema& schema) {
  const Node& n = e.node();
  auto check = [&](const Operand& o) -> Status {
    if (!o.is_column()) return Status::OK();
    if (o.column_index < 0 || static_cast<size_t>(o.column_index) >= schema.columns.size()) {
      return Status::InvalidArgument("filter bound against a different schema: column '" + o.column +
                                     "' has index " + std::to_string(o.column_index) +
                                     " but the attribute store has " + std::to_string(schema.columns.size()) +
                                     " columns");
    }
    const std::string& name = schema.columns[static_cast<size_t>(o.column_index)].name;
    if (!EqualsIgnoreCase(name, o.column)) {
      return Status::InvalidArgument("filter bound against a different schema: column " +
                                     std::to_string(o.column_index) + " is '" + o.column +
                                     "' in the filter but '" + name + "' in the attribute store");
    }
    return Status::OK();
  };
  VESTA_RETURN_IF_ERROR(check(n.subject));
  for (const Operand& o : n.values) VESTA_RETURN_IF_ERROR(check(o));
  for (const Expr& c : n.children) VESTA_RETURN_IF_ERROR(CheckBoundTo(c, schema));
  return Status::OK();
}

// Compiles one filter tree over one store for one caller.
class Compiler {
 public:
  Compiler(const AttributeStore& store, const filter::EvalContext& ctx)
      : store_(store),
        ctx_(ctx),
        n_(store.size()),
        user_(ctx.current_user.empty() ? Value() : Value::Str(ctx.current_user)),
        null_row_(store.schema().columns.size()) {
    all_.addRange(0, n_);
  }

  Result<Tri> Compile(const Expr& e) {
    if (!ReferencesColumn(e)) {
      // Constant for this caller (TRUE/FALSE/NULL, is_member, current_user()
      // predicates, and any AND/OR/NOT of them): evaluate once.
      VESTA_ASSIGN_OR_RETURN(Truth truth, EvaluateOn(e, null_row_));
      return Constant(truth);
    }
    const Node& n = e.node();
    switch (n.kind) {
      case ExprKind::kAnd:
        return CompileAnd(n.children);
      case ExprKind::kOr:
        return CompileOr(n.children);
      case ExprKind::kNot: {
        VESTA_ASSIGN_OR_RETURN(Tri x, Compile(n.children[0]));
        return Not(std::move(x));
      }
      case ExprKind::kCompare:
        return CompileCompare(n.subject.column_index, n.op, Resolve(n.values[0]));
      case ExprKind::kBetween: {
        // x BETWEEN a AND b is x >= a AND x <= b, both three-valued. With
        // both bounds non-NULL that is one range lookup, UNKNOWN on NULL x.
        const int c = n.subject.column_index;
        if (std::optional<std::vector<Comparison>> range = RangeConditions(e)) {
          Tri r;
          VESTA_ASSIGN_OR_RETURN(r.t, store_.CompareAllIds(c, *range));
          VESTA_ASSIGN_OR_RETURN(r.u, store_.NullIds(c));
          return n.negated ? Not(std::move(r)) : std::move(r);
        }
        VESTA_ASSIGN_OR_RETURN(Tri lo, CompileCompare(c, CompareOp::kGe, Resolve(n.values[0])));
        VESTA_ASSIGN_OR_RETURN(Tri hi, CompileCompare(c, CompareOp::kLe, Resolve(n.values[1])));
        Tri both = And(std::move(lo), std::move(hi));
        return n.negated ? Not(std::move(both)) : std::move(both);
      }
      case ExprKind::kIn: {
        const int c = n.subject.column_index;
        std::vector<Value> items;
        bool null_item = false;
        for (const Operand& o : n.values) {
          Value v = Resolve(o);
          if (v.is_null()) {
            null_item = true;
          } else {
            items.push_back(std::move(v));
          }
        }
        Tri r;
        VESTA_ASSIGN_OR_RETURN(r.t, store_.EqualAnyIds(c, items));
        if (null_item) {
          r.u = all_ - r.t;  // no match and a NULL item: UNKNOWN, NULL x included
        } else {
          VESTA_ASSIGN_OR_RETURN(r.u, store_.NullIds(c));
        }
        return n.negated ? Not(std::move(r)) : std::move(r);
      }
      case ExprKind::kIsNull: {
        VESTA_ASSIGN_OR_RETURN(Roaring nulls, store_.NullIds(n.subject.column_index));
        return Tri{n.negated ? all_ - nulls : std::move(nulls), Roaring()};
      }
      case ExprKind::kIsTrue:
      case ExprKind::kIsFalse: {
        // Never UNKNOWN: NULL IS TRUE is FALSE, NULL IS NOT TRUE is TRUE.
        const Value want = Value::Bool(n.kind == ExprKind::kIsTrue);
        VESTA_ASSIGN_OR_RETURN(Roaring is, store_.CompareIds(n.subject.column_index, CompareOp::kEq, want));
        return Tri{n.negated ? all_ - is : std::move(is), Roaring()};
      }
      case ExprKind::kLike:
      case ExprKind::kHasToken:
        return CompileStringMatch(e);
      case ExprKind::kConstant:
      case ExprKind::kIsMember:
        break;  // no columns: handled above
    }
    return Status::Internal("FilterBitmap: unexpected node " + e.ToString());
  }

 private:
  Tri Constant(Truth truth) const {
    switch (truth) {
      case Truth::kTrue:
        return Tri{all_, Roaring()};
      case Truth::kUnknown:
        return Tri{Roaring(), all_};
      case Truth::kFalse:
        break;
    }
    return Tri{};
  }

  // NOT: TRUE <-> FALSE, UNKNOWN stays.
  Tri Not(Tri x) const {
    Roaring t = all_ - x.t;
    t -= x.u;
    return Tri{std::move(t), std::move(x.u)};
  }

  // AND: TRUE where both are TRUE; not FALSE where neither is FALSE.
  static Tri And(Tri a, Tri b) {
    if (a.u.isEmpty() && b.u.isEmpty()) return Tri{a.t & b.t, Roaring()};
    Roaring not_false = (a.t | a.u) & (b.t | b.u);
    Roaring t = a.t & b.t;
    not_false -= t;
    return Tri{std::move(t), std::move(not_false)};
  }

  // OR: TRUE where either is TRUE; UNKNOWN where either is UNKNOWN and none TRUE.
  static Tri Or(Tri a, Tri b) {
    Roaring t = a.t | b.t;
    Roaring u = a.u | b.u;
    u -= t;
    return Tri{std::move(t), std::move(u)};
  }

  // The comparisons `e` stands for if it is a range condition on a column:
  // `column op v` or `column BETWEEN a AND b` (not negated) with non-NULL
  // values. Such a node is TRUE on the column's CompareAllIds and UNKNOWN
  // exactly where the column is NULL.
  std::optional<std::vector<Comparison>> RangeConditions(const Expr& e) const {
    const Node& n = e.node();
    if (!n.subject.is_column()) return std::nullopt;
    std::vector<Comparison> out;
    if (n.kind == ExprKind::kCompare) {
      out.push_back({n.op, Resolve(n.values[0])});
    } else if (n.kind == ExprKind::kBetween && !n.negated) {
      out.push_back({CompareOp::kGe, Resolve(n.values[0])});
      out.push_back({CompareOp::kLe, Resolve(n.values[1])});
    } else {
      return std::nullopt;
    }
    for (const Comparison& c : out) {
      if (c.literal.is_null()) return std::nullopt;
    }
    return out;
  }

  // AND. Range conditions on the same column are folded into one range
  // lookup first (`d >= '2020-01-01' AND d < '2021-01-01'` is one slice of
  // the sorted index): for such conditions TRUE is the intersection of the
  // ranges and UNKNOWN the column's NULLs, so folding is exact.
  Result<Tri> CompileAnd(const std::vector<Expr>& children) {
    std::map<int, std::vector<Comparison>> ranges;  // column -> conditions
    std::vector<const Expr*> rest;
    for (const Expr& c : children) {
      std::optional<std::vector<Comparison>> range = RangeConditions(c);
      if (range) {
        auto& conditions = ranges[c.node().subject.column_index];
        conditions.insert(conditions.end(), range->begin(), range->end());
      } else {
        rest.push_back(&c);
      }
    }
    std::optional<Tri> acc;
    auto combine = [&acc](Tri next) { acc = acc ? And(std::move(*acc), std::move(next)) : std::move(next); };
    for (const auto& [column, conditions] : ranges) {
      Tri r;
      VESTA_ASSIGN_OR_RETURN(r.t, store_.CompareAllIds(column, conditions));
      VESTA_ASSIGN_OR_RETURN(r.u, store_.NullIds(column));
      combine(std::move(r));
    }
    for (const Expr* c : rest) {
      if (acc && acc->t.isEmpty() && acc->u.isEmpty()) break;  // FALSE everywhere: the rest cannot change it
      VESTA_ASSIGN_OR_RETURN(Tri next, Compile(*c));
      combine(std::move(next));
    }
    return std::move(*acc);  // AND has at least two children
  }

  Result<Tri> CompileOr(const std::vector<Expr>& children) {
    VESTA_ASSIGN_OR_RETURN(Tri acc, Compile(children[0]));
    for (size_t i = 1; i < children.size(); ++i) {
      if (acc.t.cardinality() == n_) break;  // TRUE everywhere
      VESTA_ASSIGN_OR_RETURN(Tri next, Compile(children[i]));
      acc = Or(std::move(acc), std::move(next));
    }
    return acc;
  }

  // `column op v`: UNKNOWN where the column is NULL, everywhere if v is NULL.
  Result<Tri> CompileCompare(int column, CompareOp op, const Value& v) const {
    if (v.is_null()) return Tri{Roaring(), all_};
    Tri r;
    VESTA_ASSIGN_OR_RETURN(r.t, store_.CompareIds(column, op, v));
    VESTA_ASSIGN_OR_RETURN(r.u, store_.NullIds(column));
    return r;
  }

  // LIKE and has_token: filter::Evaluate decides each distinct string once
  // (so the matching rules live in one place, the filter module), and the
  // store unions the rows of the strings that pass.
  Result<Tri> CompileStringMatch(const Expr& e) {
    const int c = e.node().subject.column_index;
    VESTA_ASSIGN_OR_RETURN(filter::BoundExpr leaf, filter::Bind(e, store_.schema()));
    Row row = null_row_;
    auto pass = [&](std::string_view s) {
      row[static_cast<size_t>(c)] = Value::Str(std::string(s));
      return filter::Evaluate(leaf, row, ctx_) == Truth::kTrue;
    };
    // Rows matching `x LIKE 'abc%...'` start with "abc": only dictionary
    // values with that prefix need asking (not so for NOT LIKE).
    const std::string prefix = e.kind() == ExprKind::kLike && !e.node().negated
                                   ? LikeLiteralPrefix(e.node().values[0].literal.as_string())
                                   : std::string();
    Tri r;
    VESTA_ASSIGN_OR_RETURN(r.t, store_.StringMatchIds(c, pass, prefix));
    // Non-NULL strings are TRUE or FALSE; NULL rows get what Evaluate says of NULL.
    VESTA_ASSIGN_OR_RETURN(Roaring nulls, store_.NullIds(c));
    switch (filter::Evaluate(leaf, null_row_, ctx_)) {
      case Truth::kTrue:
        r.t |= nulls;
        break;
      case Truth::kUnknown:
        r.u = std::move(nulls);
        break;
      case Truth::kFalse:
        break;
    }
    return r;
  }

  // Evaluates a sub-expression of the bound tree on `row` (re-binding it:
  // only Bind makes a BoundExpr, and a bound tree binds to itself).
  Result<Truth> EvaluateOn(const Expr& e, const Row& row) const {
    VESTA_ASSIGN_OR_RETURN(filter::BoundExpr bound, filter::Bind(e, store_.schema()));
    return filter::Evaluate(bound, row, ctx_);
  }

  // The value of a literal or current_user() operand.
  Value Resolve(const Operand& o) const { return o.is_current_user() ? user_ : o.literal; }

  const AttributeStore& store_;
  const filter::EvalContext& ctx_;
  const uint32_t n_;
  const Value user_;  // current_user(): NULL without a caller identity, as in filter::Evaluate
  const Row null_row_;
  Roaring all_;  // [0, n)
};

}  // namespace

Result<PassingRows> FilterBitmap(const filter::BoundExpr& expr, const AttributeStore& store,
                                 const filter::EvalContext& ctx) {
  const Schema& schema = store.schema();
  if (expr.column_count() != schema.columns.size()) {
    return Status::InvalidArgument("filter bound against a different schema: it has " +
                                   std::to_string(expr.column_count()) + " columns, the attribute store " +
                                   std::to_string(schema.columns.size()));
  }
  VESTA_RETURN_IF_ERROR(CheckBoundTo(expr.expr(), schema));
  Compiler compiler(store, ctx);
  VESTA_ASSIGN_OR_RETURN(Tri result, compiler.Compile(expr.expr()));
  result.t -= store.deleted();
  return PassingRows(std::move(result.t), store.live_count());
}

Result<PassingRows> FilterBitmap(const filter::Expr& expr, const AttributeStore& store,
                                 const filter::EvalContext& ctx) {
  VESTA_ASSIGN_OR_RETURN(filter::BoundExpr bound, filter::Bind(expr, store.schema()));
  return FilterBitmap(bound, store, ctx);
}

}  // namespace vesta::index
