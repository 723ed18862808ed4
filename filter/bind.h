// Binding: checks a filter against a table schema and resolves it for
// evaluation and SQL compilation. The type rules are in filter/README.md.
//
// Thread-safety: Bind is a pure function; a BoundExpr is immutable and may be
// shared and used by any number of threads.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "filter/ast.h"

namespace vesta::filter {

// An Expr that passed Bind: every column operand carries its schema index
// and the schema's spelling of its name, and every literal has been coerced
// to the type of what it is compared with (a string compared with a DATE
// column is a Date, a BIGINT literal compared with a DOUBLE column a
// double...). Only Bind makes one, so holding a BoundExpr proves the checks
// passed. Cheap to copy (shares the tree).
class BoundExpr {
 public:
  const Expr& expr() const { return expr_; }
  // Number of columns of the schema it was bound against: the row width
  // Evaluate expects.
  size_t column_count() const { return column_count_; }
  // Canonical text of the bound tree (typed literals: DATE '2020-01-01').
  std::string ToString() const { return expr_.ToString(); }
  // Indices of the columns referenced, ascending, without duplicates.
  std::vector<int> ReferencedColumns() const;

 private:
  friend Result<BoundExpr> Bind(const Expr& expr, const Schema& schema);
  BoundExpr(Expr expr, size_t column_count) : expr_(std::move(expr)), column_count_(column_count) {}

  Expr expr_;
  size_t column_count_;
};

// Checks `expr` against `schema` and returns it bound. Column names match
// ignoring case. Errors (InvalidArgument, message starting "filter: "):
//   an unknown column, listing the table's columns (at most 20), e.g.
//     "filter: unknown column 'agee' (columns: patient_id, age, sex)";
//   a VECTOR column used in a condition;
//   a literal whose type does not fit the column, e.g.
//     "filter: cannot compare column 'age' (BIGINT) with 'abc' (STRING)";
//   a string that does not parse as the DATE/TIMESTAMP it is compared with;
//   LIKE or has_token on a non-STRING, IS TRUE/FALSE on a non-BOOLEAN;
//   a malformed node built by hand (e.g. a comparison of two literals).
// `schema` is only read during the call; the result does not refer to it.
Result<BoundExpr> Bind(const Expr& expr, const Schema& schema);

}  // namespace vesta::filter
