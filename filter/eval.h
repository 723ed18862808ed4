// Evaluation of a bound filter on one row in memory: what builds the
// candidate bitmaps of filtered search, and the reference the SQL path
// (filter/sql.h) is tested against. SQL three-valued logic; see
// filter/README.md.
//
// Thread-safety: Evaluate and Matches are safe to call concurrently if the
// EvalContext's is_member function is.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "common/types.h"
#include "filter/ast.h"
#include "filter/bind.h"

namespace vesta::filter {

// Who is asking: resolves current_user() and is_member('group').
struct EvalContext {
  // The caller's principal name. Empty means no caller identity, and then
  // current_user() is NULL.
  std::string current_user;
  // Whether the caller is a member of `group` (directly or through nested
  // groups: the caller decides). Unset means a member of nothing.
  std::function<bool(std::string_view group)> is_member;

  // A context for `user` who is a member of exactly `groups`.
  static EvalContext ForUser(std::string user, std::initializer_list<std::string_view> groups = {});
};

// Evaluates `expr` on `row` with SQL's three-valued logic: comparisons and
// LIKE with a NULL operand are UNKNOWN; NOT UNKNOWN is UNKNOWN; FALSE AND x
// is FALSE, TRUE OR x is TRUE; x IN (list) is TRUE on a match, else UNKNOWN
// if x or a list item is NULL, else FALSE; IS [NOT] NULL/TRUE/FALSE are
// never UNKNOWN. Returns the truth value; a row passes only on kTrue.
// REQUIRES: row.size() == expr.column_count(), each value NULL or of its
// column's type with doubles finite (Schema::ValidateRow).
Truth Evaluate(const BoundExpr& expr, const Row& row, const EvalContext& ctx);

// Returns Evaluate(expr, row, ctx) == Truth::kTrue.
inline bool Matches(const BoundExpr& expr, const Row& row, const EvalContext& ctx) {
  return Evaluate(expr, row, ctx) == Truth::kTrue;
}

}  // namespace vesta::filter
