// The filter language's expression tree: one immutable AST for user filters
// (Mosaic's `filter_string` and `filters_json`), row filters and
// delete-by-predicate. Parsers (filter/parser.h) build it, Bind
// (filter/bind.h) checks it against a table schema, Evaluate (filter/eval.h)
// runs it on rows in memory and ToSql (filter/sql.h) compiles it to
// parameterised SQL. The grammar and semantics are in filter/README.md.
//
// Thread-safety: an Expr is an immutable, reference-counted tree; copies are
// cheap (one shared_ptr) and any number of threads may read, copy and share
// Exprs concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/types.h"

namespace vesta::filter {

// Limits on user input, enforced by both parsers (errors: InvalidArgument).
inline constexpr size_t kMaxFilterBytes = 64 * 1024;  // length of a filter_string or filters_json
inline constexpr int kMaxDepth = 64;                  // nesting of parentheses and NOT
inline constexpr size_t kMaxInListItems = 10000;      // values in one IN (...) list
// Literal values in one filter. Each becomes one SQL parameter in ToSql, and
// SQLite's default limit is 32,766 parameters per statement: this leaves the
// caller room for its own (version columns, keys) after ANDing a few filters.
inline constexpr size_t kMaxValues = 16384;
// Bytes in one LIKE pattern (SQLite refuses patterns over 50,000 bytes).
inline constexpr size_t kMaxLikePatternBytes = 10000;
// Bytes in one has_token token (its SQL GLOB pattern is up to ~40x longer).
inline constexpr size_t kMaxTokenBytes = 1000;

// SQL's three truth values. A row passes a filter only if it is kTrue.
enum class Truth : uint8_t { kFalse, kTrue, kUnknown };

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// "=", "!=", "<", "<=", ">", ">=".
std::string_view CompareOpSymbol(CompareOp op);
// The operator with its operands swapped: `5 < x` is `x > 5`.
CompareOp MirrorCompareOp(CompareOp op);

// A value-producing leaf: a column, a typed literal or current_user().
struct Operand {
  enum class Kind : uint8_t { kColumn, kLiteral, kCurrentUser };

  Kind kind = Kind::kLiteral;
  std::string column;     // kColumn: the name as written, or the schema's spelling once bound
  int column_index = -1;  // kColumn: index in the schema once bound, -1 before
  Value literal;          // kLiteral (NULL is a literal too)

  static Operand Column(std::string name) { return {Kind::kColumn, std::move(name), -1, Value()}; }
  static Operand Literal(Value v) { return {Kind::kLiteral, std::string(), -1, std::move(v)}; }
  static Operand CurrentUser() { return {Kind::kCurrentUser, std::string(), -1, Value()}; }

  bool is_column() const { return kind == Kind::kColumn; }
  bool is_literal() const { return kind == Kind::kLiteral; }
  bool is_current_user() const { return kind == Kind::kCurrentUser; }

  // Columns compare by name ignoring case, and by index; literals exactly
  // (Value::operator==, so BIGINT 1 != DOUBLE 1.0).
  bool operator==(const Operand& o) const;
  // Canonical text: `age`, `\`weird name\``, 42, 1.5, 'it''s', TRUE, NULL,
  // DATE '2024-01-31', TIMESTAMP '2024-01-31 10:00:00', current_user().
  std::string ToString() const;
};

enum class ExprKind : uint8_t {
  kConstant,  // TRUE, FALSE or NULL as a condition (`constant`)
  kAnd,       // children, at least 2, none of them kAnd (flattened)
  kOr,        // children, at least 2, none of them kOr (flattened)
  kNot,       // children[0]
  kCompare,   // subject op values[0]
  kBetween,   // subject [NOT] BETWEEN values[0] AND values[1]
  kIn,        // subject [NOT] IN (values...), at least one value
  kIsNull,    // subject IS [NOT] NULL
  kIsTrue,    // subject IS [NOT] TRUE
  kIsFalse,   // subject IS [NOT] FALSE
  kLike,      // subject [NOT] LIKE values[0] (a STRING literal; '\' escapes)
  kHasToken,  // has_token(subject, values[0]): filters_json's whole-token LIKE
  kIsMember,  // is_member(group)
};

class Expr;
struct Node;

// An immutable filter expression. Build one with the factories below or a
// parser; there is no empty Expr.
class Expr {
 public:
  // TRUE, FALSE or NULL (UNKNOWN) as a condition.
  static Expr Constant(Truth value);
  static Expr True() { return Constant(Truth::kTrue); }
  // ANDs `children`, flattening nested ANDs. Returns TRUE for no children and
  // the child itself for one.
  static Expr And(std::vector<Expr> children);
  // ORs `children`, flattening nested ORs. Returns FALSE for no children and
  // the child itself for one.
  static Expr Or(std::vector<Expr> children);
  static Expr Not(Expr child);
  // `lhs op rhs`, normalised so that a column (or else current_user()) is the
  // subject on the left: `5 < age` becomes `age > 5`. Which operand kinds may
  // meet is checked by Bind, not here.
  static Expr Compare(Operand lhs, CompareOp op, Operand rhs);
  static Expr Between(Operand subject, Operand low, Operand high, bool negated = false);
  // REQUIRES: !values.empty().
  static Expr In(Operand subject, std::vector<Operand> values, bool negated = false);
  static Expr IsNull(Operand subject, bool negated = false);
  static Expr IsTrue(Operand subject, bool negated = false);
  static Expr IsFalse(Operand subject, bool negated = false);
  // `subject LIKE pattern`: '%' any sequence, '_' one character, '\' makes
  // the next character literal. Case-sensitive.
  static Expr Like(Operand subject, std::string pattern, bool negated = false);
  // True when `token` occurs in the subject as a whole word (see README).
  // Leading and trailing separator characters are stripped from `token`.
  static Expr HasToken(Operand subject, std::string token);
  static Expr IsMember(std::string group);

  const Node& node() const { return *node_; }
  ExprKind kind() const;

  // Canonical SQL-like text in filter_string syntax; ParseFilterString of it
  // returns an equal Expr (for a bound Expr: equal to the bound tree with
  // column indices reset).
  std::string ToString() const;

  // Structural equality (see Operand::operator==).
  bool operator==(const Expr& o) const;

 private:
  explicit Expr(std::shared_ptr<const Node> node) : node_(std::move(node)) {}
  friend Expr MakeExpr(Node node);

  std::shared_ptr<const Node> node_;  // never null
};

// The fields of one expression node; which are meaningful depends on kind
// (see ExprKind). Reached through Expr::node(), always const.
struct Node {
  ExprKind kind = ExprKind::kConstant;
  Truth constant = Truth::kTrue;  // kConstant
  bool negated = false;           // kBetween, kIn, kIsNull, kIsTrue, kIsFalse, kLike
  CompareOp op = CompareOp::kEq;  // kCompare
  Operand subject;                // every predicate but kConstant and kIsMember
  std::vector<Operand> values;    // kCompare 1, kBetween 2, kIn >= 1, kLike 1, kHasToken 1
  std::vector<Expr> children;     // kAnd, kOr (>= 2), kNot (1)
  std::string group;              // kIsMember
  // kIn whose values are all STRING literals, when there are more than
  // kInLookupMin of them: the same strings as a hash set, built by MakeExpr
  // (every factory and binder goes through it), so that evaluation looks a
  // value up instead of comparing it with each. Derived: not part of
  // equality or of the text.
  std::shared_ptr<const std::unordered_set<std::string>> in_strings;
};
inline constexpr size_t kInLookupMin = 8;

// Wraps a node without any normalisation (the factories above normalise).
// For binders and rewriters that copy a node and change its operands.
Expr MakeExpr(Node node);

// The distinct column names `expr` references, in order of first
// appearance, spelled as in the expression and compared ignoring case.
std::vector<std::string> ReferencedColumns(const Expr& expr);

// True if `name` is a reserved word of the filter language (AND, OR, NOT,
// IN, IS, NULL, TRUE, FALSE, LIKE, BETWEEN), ignoring case: such a column
// must be backquoted, and ToString does so. DATE, TIMESTAMP and the function
// names are keywords only where followed by a string or '(' and stay usable
// as column names.
bool IsReservedWord(std::string_view name);

}  // namespace vesta::filter
