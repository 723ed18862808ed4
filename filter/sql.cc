#include "filter/sql.h"

#include <cassert>

#include "filter/internal/match.h"

namespace vesta::filter {
namespace {

std::string_view SqlOp(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return " = ";
    case CompareOp::kNe:
      return " <> ";
    case CompareOp::kLt:
      return " < ";
    case CompareOp::kLe:
      return " <= ";
    case CompareOp::kGt:
      return " > ";
    case CompareOp::kGe:
      return " >= ";
  }
  return " = ";
}

// A GLOB character class matching exactly one token separator: "[]" first
// makes ']' literal, '-' last makes '-' literal.
std::string SeparatorClass() {
  std::string cls = "[]";
  for (char c : internal::TokenSeparators()) {
    if (c != ']' && c != '-') cls += c;
  }
  return cls + "-]";
}

// The GLOB pattern for has_token: a separator, the token with each separator
// in it standing for any separator, a separator; anywhere in the padded text.
// GLOB's only special characters ('*', '?', '[') are all separators, so the
// token's other characters are literal.
std::string TokenGlob(std::string_view token) {
  static const std::string kSep = SeparatorClass();
  std::string glob = "*" + kSep;
  for (char c : token) {
    if (internal::IsTokenSeparator(static_cast<unsigned char>(c))) {
      glob += kSep;
    } else {
      glob += c;
    }
  }
  glob += kSep;
  glob += '*';
  return glob;
}

class SqlCompiler {
 public:
  explicit SqlCompiler(const SqlContext& ctx)
      : ctx_(ctx), user_(ctx.caller.current_user.empty() ? Value() : Value::Str(ctx.caller.current_user)) {}

  SqlFragment Finish(const Node& root) {
    Emit(root);
    return std::move(out_);
  }

 private:
  void Param(Value v) {
    out_.sql += '?';
    out_.params.push_back(std::move(v));
  }

  void EmitOperand(const Operand& o) {
    switch (o.kind) {
      case Operand::Kind::kColumn:
        out_.sql += ctx_.column_sql(o.column_index);
        return;
      case Operand::Kind::kLiteral:
        Param(o.literal);
        return;
      case Operand::Kind::kCurrentUser:
        Param(user_);
        return;
    }
  }

  void Emit(const Node& n) {
    std::string_view neg = n.negated ? "NOT " : "";
    switch (n.kind) {
      case ExprKind::kConstant:
        out_.sql += n.constant == Truth::kTrue ? "1" : (n.constant == Truth::kFalse ? "0" : "NULL");
        return;
      case ExprKind::kAnd:
      case ExprKind::kOr:
        out_.sql += '(';
        for (size_t i = 0; i < n.children.size(); ++i) {
          if (i > 0) out_.sql += n.kind == ExprKind::kAnd ? " AND " : " OR ";
          Emit(n.children[i].node());
        }
        out_.sql += ')';
        return;
      case ExprKind::kNot:
        out_.sql += "(NOT ";
        Emit(n.children[0].node());
        out_.sql += ')';
        return;
      case ExprKind::kCompare:
        out_.sql += '(';
        EmitOperand(n.subject);
        out_.sql += SqlOp(n.op);
        EmitOperand(n.values[0]);
        out_.sql += ')';
        return;
      case ExprKind::kBetween:
        out_.sql += '(';
        EmitOperand(n.subject);
        out_.sql += " ";
        out_.sql += neg;
        out_.sql += "BETWEEN ";
        EmitOperand(n.values[0]);
        out_.sql += " AND ";
        EmitOperand(n.values[1]);
        out_.sql += ')';
        return;
      case ExprKind::kIn:
        out_.sql += '(';
        EmitOperand(n.subject);
        out_.sql += " ";
        out_.sql += neg;
        out_.sql += "IN (";
        for (size_t i = 0; i < n.values.size(); ++i) {
          if (i > 0) out_.sql += ", ";
          EmitOperand(n.values[i]);
        }
        out_.sql += "))";
        return;
      case ExprKind::kIsNull:
      case ExprKind::kIsTrue:
      case ExprKind::kIsFalse:
        out_.sql += '(';
        EmitOperand(n.subject);
        out_.sql += " IS ";
        out_.sql += neg;
        out_.sql +=
            n.kind == ExprKind::kIsNull ? "NULL)" : (n.kind == ExprKind::kIsTrue ? "TRUE)" : "FALSE)");
        return;
      case ExprKind::kLike:
        out_.sql += '(';
        EmitOperand(n.subject);
        out_.sql += " ";
        out_.sql += neg;
        out_.sql += "LIKE ";
        Param(n.values[0].literal);
        out_.sql += " ESCAPE '\\')";
        return;
      case ExprKind::kHasToken:
        // (' ' || x || ' ') GLOB '*[seps]token[seps]*': GLOB is case-sensitive and
        // character-class aware, which LIKE is not.
        out_.sql += "((' ' || ";
        EmitOperand(n.subject);
        out_.sql += " || ' ') GLOB ";
        Param(Value::Str(TokenGlob(n.values[0].literal.as_string())));
        out_.sql += ')';
        return;
      case ExprKind::kIsMember:
        Param(Value::Bool(ctx_.caller.is_member && ctx_.caller.is_member(n.group)));
        return;
    }
  }

  const SqlContext& ctx_;
  const Value user_;
  SqlFragment out_;
};

}  // namespace

SqlFragment ToSql(const BoundExpr& expr, const SqlContext& ctx) {
  assert(ctx.column_sql);
  return SqlCompiler(ctx).Finish(expr.expr().node());
}

}  // namespace vesta::filter
