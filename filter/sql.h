// Compilation of a bound filter to a parameterised SQL condition for the
// SQLite table store. No user text is ever spliced into the SQL: every
// literal, current_user() and is_member() result is a `?` parameter. This
// module does not depend on SQLite; the caller prepares and binds.
//
// Thread-safety: ToSql is safe to call concurrently if the SqlContext's
// functions are.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/types.h"
#include "filter/bind.h"
#include "filter/eval.h"

namespace vesta::filter {

struct SqlContext {
  // Returns the SQL for the physical column holding schema column
  // `column_index`, already quoted (e.g. "\"c3\"" or "t.\"age\""). Required.
  std::function<std::string(int column_index)> column_sql;
  // Resolves current_user() and is_member() at compile time.
  EvalContext caller;
};

// A SQL boolean expression and its parameters, in `?` order.
struct SqlFragment {
  std::string sql;
  std::vector<Value> params;
};

// Compiles `expr` into a condition for a WHERE clause, fully parenthesised
// so it can be ANDed with other conditions. Parameters are the coerced
// literal Values; the caller binds them the way the store encodes columns:
// BIGINT as integer, DOUBLE as real, STRING as text, BOOLEAN as integer 0/1,
// DATE as integer days since the epoch, TIMESTAMP as integer microseconds,
// NULL as NULL. A STRING column must hold TEXT (compared with BINARY
// collation), and the connection must have PRAGMA case_sensitive_like=ON:
// under those conditions the condition is TRUE, FALSE or NULL exactly when
// Evaluate returns kTrue, kFalse or kUnknown for the same row.
// params.size() is at most the number of literals in the filter plus one per
// current_user()/is_member() (at most about kMaxValues for parsed input).
// REQUIRES: ctx.column_sql is set.
SqlFragment ToSql(const BoundExpr& expr, const SqlContext& ctx);

}  // namespace vesta::filter
