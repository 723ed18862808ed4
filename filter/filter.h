// Vesta's filter language, one header for users of the whole module:
//   filter/ast.h     the immutable expression tree (Expr) and its factories
//   filter/parser.h  ParseFilterString, ParseFiltersJson, ParseQueryFilters
//   filter/bind.h    Bind: check against a Schema, coerce literals (BoundExpr)
//   filter/eval.h    Evaluate / Matches: three-valued evaluation on a Row
//   filter/sql.h     ToSql: parameterised SQL for the SQLite store
// Grammar, type rules and semantics: filter/README.md.
#pragma once

#include "filter/ast.h"     // IWYU pragma: export
#include "filter/bind.h"    // IWYU pragma: export
#include "filter/eval.h"    // IWYU pragma: export
#include "filter/parser.h"  // IWYU pragma: export
#include "filter/sql.h"     // IWYU pragma: export
