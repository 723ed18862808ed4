#include "filter/ast.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <utility>

#include "filter/internal/match.h"

namespace vesta::filter {
namespace {

std::string QuoteString(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string QuoteColumn(std::string_view name) {
  if (IsValidIdentifier(name) && !IsReservedWord(name)) return std::string(name);
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  out += '`';
  return out;
}

std::string FormatDouble(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, p);
  // Keep the literal a DOUBLE when it re-parses: "2" would come back BIGINT.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// "2024-01-31 10:00:00" with ".ffffff" only when there are microseconds.
std::string FormatTimestampLiteral(Timestamp t) {
  std::string s = FormatTimestamp(t);  // 2024-01-31T10:00:00.000000Z
  if (s.size() == 27) {
    s[10] = ' ';
    s.pop_back();
    if (s.compare(19, 7, ".000000") == 0) s.resize(19);
  }
  return s;
}

std::string FormatLiteral(const Value& v) {
  if (v.is_null()) return "NULL";
  if (v.is_int()) return std::to_string(v.as_int());
  if (v.is_double()) return FormatDouble(v.as_double());
  if (v.is_string()) return QuoteString(v.as_string());
  if (v.is_bool()) return v.as_bool() ? "TRUE" : "FALSE";
  if (v.is_date()) return "DATE '" + FormatDate(v.as_date()) + "'";
  if (v.is_timestamp()) return "TIMESTAMP '" + FormatTimestampLiteral(v.as_timestamp()) + "'";
  return v.ToString();  // a vector: not part of the language; Bind rejects it
}

bool IsJunction(const Expr& e) {
  return e.kind() == ExprKind::kAnd || e.kind() == ExprKind::kOr;
}

void AppendChild(const Expr& child, std::string* out) {
  // Appending piecewise: `"(" + std::string&&` trips GCC 12's -Wrestrict false positive (GCC bug 105329).
  if (IsJunction(child)) *out += '(';
  *out += child.ToString();
  if (IsJunction(child)) *out += ')';
}

Expr Junction(ExprKind kind, std::vector<Expr> children) {
  if (children.size() == 1) return std::move(children[0]);
  if (children.empty()) return Expr::Constant(kind == ExprKind::kAnd ? Truth::kTrue : Truth::kFalse);
  Node n;
  n.kind = kind;
  for (Expr& c : children) {
    if (c.kind() == kind) {
      for (const Expr& g : c.node().children) n.children.push_back(g);
    } else {
      n.children.push_back(std::move(c));
    }
  }
  return MakeExpr(std::move(n));
}

Expr Predicate(ExprKind kind, Operand subject, std::vector<Operand> values, bool negated) {
  Node n;
  n.kind = kind;
  n.subject = std::move(subject);
  n.values = std::move(values);
  n.negated = negated;
  return MakeExpr(std::move(n));
}

void CollectColumns(const Expr& e, std::vector<std::string>* out) {
  const Node& n = e.node();
  auto add = [out](const Operand& o) {
    if (!o.is_column()) return;
    for (const std::string& s : *out) {
      if (EqualsIgnoreCase(s, o.column)) return;
    }
    out->push_back(o.column);
  };
  add(n.subject);
  for (const Operand& o : n.values) add(o);
  for (const Expr& c : n.children) CollectColumns(c, out);
}

}  // namespace

std::string_view CompareOpSymbol(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

CompareOp MirrorCompareOp(CompareOp op) {
  switch (op) {
    case CompareOp::kLt:
      return CompareOp::kGt;
    case CompareOp::kLe:
      return CompareOp::kGe;
    case CompareOp::kGt:
      return CompareOp::kLt;
    case CompareOp::kGe:
      return CompareOp::kLe;
    default:
      return op;
  }
}

bool IsReservedWord(std::string_view name) {
  static constexpr std::string_view kWords[] = {"AND",  "OR",   "NOT",   "IN",   "IS",
                                                "NULL", "TRUE", "FALSE", "LIKE", "BETWEEN"};
  for (std::string_view w : kWords) {
    if (EqualsIgnoreCase(w, name)) return true;
  }
  return false;
}

bool Operand::operator==(const Operand& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::kColumn:
      return column_index == o.column_index && EqualsIgnoreCase(column, o.column);
    case Kind::kLiteral:
      return literal == o.literal;
    case Kind::kCurrentUser:
      return true;
  }
  return false;
}

std::string Operand::ToString() const {
  switch (kind) {
    case Kind::kColumn:
      return QuoteColumn(column);
    case Kind::kLiteral:
      return FormatLiteral(literal);
    case Kind::kCurrentUser:
      return "current_user()";
  }
  return "";
}

Expr MakeExpr(Node node) {
  node.in_strings.reset();
  if (node.kind == ExprKind::kIn && node.values.size() > kInLookupMin &&
      std::all_of(node.values.begin(), node.values.end(),
                  [](const Operand& o) { return o.is_literal() && o.literal.is_string(); })) {
    auto set = std::make_shared<std::unordered_set<std::string>>();
    set->reserve(node.values.size());
    for (const Operand& o : node.values) set->insert(o.literal.as_string());
    node.in_strings = std::move(set);
  }
  return Expr(std::make_shared<const Node>(std::move(node)));
}

ExprKind Expr::kind() const {
  return node_->kind;
}

Expr Expr::Constant(Truth value) {
  Node n;
  n.kind = ExprKind::kConstant;
  n.constant = value;
  return MakeExpr(std::move(n));
}

Expr Expr::And(std::vector<Expr> children) {
  return Junction(ExprKind::kAnd, std::move(children));
}
Expr Expr::Or(std::vector<Expr> children) {
  return Junction(ExprKind::kOr, std::move(children));
}

Expr Expr::Not(Expr child) {
  Node n;
  n.kind = ExprKind::kNot;
  n.children.push_back(std::move(child));
  return MakeExpr(std::move(n));
}

Expr Expr::Compare(Operand lhs, CompareOp op, Operand rhs) {
  auto rank = [](const Operand& o) { return o.is_column() ? 0 : (o.is_current_user() ? 1 : 2); };
  if (rank(rhs) < rank(lhs)) {
    std::swap(lhs, rhs);
    op = MirrorCompareOp(op);
  }
  Node n;
  n.kind = ExprKind::kCompare;
  n.op = op;
  n.subject = std::move(lhs);
  n.values.push_back(std::move(rhs));
  return MakeExpr(std::move(n));
}

Expr Expr::Between(Operand subject, Operand low, Operand high, bool negated) {
  std::vector<Operand> values;
  values.push_back(std::move(low));
  values.push_back(std::move(high));
  return Predicate(ExprKind::kBetween, std::move(subject), std::move(values), negated);
}

Expr Expr::In(Operand subject, std::vector<Operand> values, bool negated) {
  assert(!values.empty());
  return Predicate(ExprKind::kIn, std::move(subject), std::move(values), negated);
}

Expr Expr::IsNull(Operand subject, bool negated) {
  return Predicate(ExprKind::kIsNull, std::move(subject), {}, negated);
}
Expr Expr::IsTrue(Operand subject, bool negated) {
  return Predicate(ExprKind::kIsTrue, std::move(subject), {}, negated);
}
Expr Expr::IsFalse(Operand subject, bool negated) {
  return Predicate(ExprKind::kIsFalse, std::move(subject), {}, negated);
}

Expr Expr::Like(Operand subject, std::string pattern, bool negated) {
  std::vector<Operand> values;
  values.push_back(Operand::Literal(Value::Str(std::move(pattern))));
  return Predicate(ExprKind::kLike, std::move(subject), std::move(values), negated);
}

Expr Expr::HasToken(Operand subject, std::string token) {
  std::vector<Operand> values;
  values.push_back(Operand::Literal(Value::Str(internal::StripTokenSeparators(token))));
  return Predicate(ExprKind::kHasToken, std::move(subject), std::move(values), false);
}

Expr Expr::IsMember(std::string group) {
  Node n;
  n.kind = ExprKind::kIsMember;
  n.group = std::move(group);
  return MakeExpr(std::move(n));
}

std::string Expr::ToString() const {
  const Node& n = *node_;
  const char* neg = n.negated ? "NOT " : "";
  switch (n.kind) {
    case ExprKind::kConstant:
      return n.constant == Truth::kTrue ? "TRUE" : (n.constant == Truth::kFalse ? "FALSE" : "NULL");
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      std::string out;
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) out += n.kind == ExprKind::kAnd ? " AND " : " OR ";
        AppendChild(n.children[i], &out);
      }
      return out;
    }
    case ExprKind::kNot: {
      std::string out = "NOT ";
      AppendChild(n.children[0], &out);
      return out;
    }
    case ExprKind::kCompare:
      return n.subject.ToString() + " " + std::string(CompareOpSymbol(n.op)) + " " + n.values[0].ToString();
    case ExprKind::kBetween:
      return n.subject.ToString() + " " + neg + "BETWEEN " + n.values[0].ToString() + " AND " +
             n.values[1].ToString();
    case ExprKind::kIn: {
      std::string out = n.subject.ToString() + " " + neg + "IN (";
      for (size_t i = 0; i < n.values.size(); ++i) {
        if (i > 0) out += ", ";
        out += n.values[i].ToString();
      }
      return out + ")";
    }
    case ExprKind::kIsNull:
      return n.subject.ToString() + " IS " + neg + "NULL";
    case ExprKind::kIsTrue:
      return n.subject.ToString() + " IS " + neg + "TRUE";
    case ExprKind::kIsFalse:
      return n.subject.ToString() + " IS " + neg + "FALSE";
    case ExprKind::kLike:
      return n.subject.ToString() + " " + neg + "LIKE " + n.values[0].ToString();
    case ExprKind::kHasToken:
      return "has_token(" + n.subject.ToString() + ", " + n.values[0].ToString() + ")";
    case ExprKind::kIsMember:
      return "is_member(" + QuoteString(n.group) + ")";
  }
  return "";
}

bool Expr::operator==(const Expr& o) const {
  if (node_ == o.node_) return true;
  const Node& a = *node_;
  const Node& b = *o.node_;
  if (a.kind != b.kind || a.negated != b.negated || !(a.subject == b.subject) || a.values != b.values ||
      a.children.size() != b.children.size()) {
    return false;
  }
  if (a.kind == ExprKind::kConstant && a.constant != b.constant) return false;
  if (a.kind == ExprKind::kCompare && a.op != b.op) return false;
  if (a.kind == ExprKind::kIsMember && a.group != b.group) return false;
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!(a.children[i] == b.children[i])) return false;
  }
  return true;
}

std::vector<std::string> ReferencedColumns(const Expr& expr) {
  std::vector<std::string> out;
  CollectColumns(expr, &out);
  return out;
}

}  // namespace vesta::filter
